"""``kinema.client.AsyncClient`` against a real ``kinema serve``: the same calls, awaited."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from kinema.client import AsyncClient, InvalidParameter, NotFound, TaskFailed, TaskStatus
from tests.client.live import LITE, QUICK, SLOW, CuttingProxy, KinemaServer


def test_async_client(server: KinemaServer, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with AsyncClient(server.base_url, server.new_key(), format="ark") as client:
            video = await client.generate("a paper boat", output=tmp_path / "boat.mp4", **QUICK)
            assert video.task.succeeded and video.task.resolution == "480p"
            assert video.path.read_bytes() == httpx.get(video.task.video_url or "").content

            long = await client.submit("a long storm", model=SLOW, resolution="1080p", duration=12)
            while (await client.get(long.id)).status is TaskStatus.QUEUED:
                await asyncio.sleep(0.05)
            await client.cancel(long.id)
            with pytest.raises(TaskFailed) as failed:
                await client.wait(long.id, timeout=30)
            assert failed.value.task.status is TaskStatus.CANCELLED

            page = await client.list(status="succeeded")
            assert [task.id for task in page.items] == [video.task.id]
            assert LITE in {model.id for model in await client.models()}
            assert (await client.account()).queued == 0
            with pytest.raises(InvalidParameter):
                await client.submit("a kite", resolution="4k")
            await client.delete(video.task.id)
            with pytest.raises(NotFound):
                await client.get(video.task.id)

    asyncio.run(scenario())


def test_async_download_resumes(server: KinemaServer, tmp_path: Path) -> None:
    async def scenario() -> Path:
        async with AsyncClient(server.base_url, server.new_key()) as client:
            task = await client.wait(await client.text_to_video("tall grass", **QUICK))
            proxy = CuttingProxy(server.port, cut_after=25_000)
            try:
                return await client.download(proxy.url(task.video_url or ""), tmp_path)
            finally:
                assert proxy.cuts == 1
                proxy.close()

    path = asyncio.run(scenario())
    assert path.parent == tmp_path and path.stat().st_size > 25_000
