"""``kinema.client.Client`` against a real ``kinema serve``: every method, in both formats."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from kinema.client import (
    Client,
    NotFound,
    NotSupported,
    Task,
    TaskFailed,
    TaskStatus,
    Timeout,
)
from kinema.media.probe import probe
from tests.client.live import LITE, LITE_I2V, QUICK, SLOW, KinemaServer


def png(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def wait_until_running(client: Client, task: Task, timeout: float = 30) -> Task:
    deadline = time.monotonic() + timeout
    while (task := client.get(task.id)).status is TaskStatus.QUEUED:
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.05)
    assert task.status is TaskStatus.RUNNING, task
    return task


@pytest.mark.parametrize("api_format", ["gptproto", "ark"])
def test_generate_saves_the_video(server: KinemaServer, tmp_path: Path, api_format: str) -> None:
    seen: list[TaskStatus] = []
    with Client(server.base_url, server.new_key(), format=api_format) as client:
        video = client.generate(
            "a red kite over the sea at sunset", output=tmp_path / "out" / "kite.mp4", seed=7,
            on_update=lambda task: seen.append(task.status), **QUICK,
        )  # fmt: skip
    assert video.path == tmp_path / "out" / "kite.mp4"
    assert video.task.status is TaskStatus.SUCCEEDED and video.task.seed == 7
    assert video.task.usage_tokens == 864 * 480 * 49 // 1024
    order = [TaskStatus.QUEUED, TaskStatus.RUNNING, TaskStatus.SUCCEEDED]
    assert seen[-1] is TaskStatus.SUCCEEDED and seen == sorted(seen, key=order.index)
    assert video.path.read_bytes() == httpx.get(video.task.video_url or "").content
    info = probe(video.path)
    assert (info.width, info.height, info.frame_count) == (864, 480, 49)
    if api_format == "ark":
        assert (video.task.resolution, video.task.ratio, video.task.duration) == ("480p", "16:9", 2)
    assert not list(video.path.parent.glob("*.part"))


def test_each_mode_sends_its_images(server: KinemaServer, tmp_path: Path) -> None:
    """Local files go as data URIs: ``adaptive`` takes the 9:16 of the first image sent."""
    tall = png(tmp_path / "tall.png", (288, 512), (200, 40, 40))
    wide = png(tmp_path / "wide.jpg", (512, 288), (40, 40, 200))
    with Client(server.base_url, server.new_key(), format="ark") as client:
        tasks = [
            client.image_to_video(tall, "a door opens", model=LITE_I2V, ratio="adaptive", **QUICK),
            client.first_last_frame_to_video(tall, wide, model=LITE_I2V, ratio="adaptive",
                                             **QUICK),
            client.reference_to_video([str(tall), wide], "two friends",
                                      model="seedance-2-0-260128", ratio="adaptive",
                                      resolution="480p", duration=4),
            client.text_to_video("a quiet street", model=LITE, **QUICK),
        ]  # fmt: skip
        done = [client.wait(task) for task in tasks]
    assert [task.ratio for task in done] == ["9:16", "9:16", "9:16", "16:9"]
    assert all(task.succeeded and task.video_url for task in done)


def test_get_list_and_delete(server: KinemaServer) -> None:
    with Client(server.base_url, server.new_key()) as client:
        first = client.wait(client.text_to_video("one", **QUICK))
        second = client.submit("two", **QUICK)
        assert client.get(second.id).id == second.id
        client.wait(second)
        page = client.list(status="succeeded", page_size=1)
        assert page.total == 2 and [t.id for t in page.items] == [second.id]
        assert client.list(task_ids=[first.id]).items[0].status is TaskStatus.SUCCEEDED
        assert client.list(model=LITE, status=[TaskStatus.FAILED]).total == 0
        client.delete(first.id)
        with pytest.raises(NotFound):
            client.get(first.id)
        assert client.list().total == 1


def test_cancel_a_running_task_and_wait_reports_it(server: KinemaServer) -> None:
    with Client(server.base_url, server.new_key()) as client:
        task = client.submit("a long storm", model=SLOW, resolution="1080p", duration=12)
        running = wait_until_running(client, task)
        with pytest.raises(Timeout) as timed_out:
            client.wait(running, timeout=0.3)
        assert timed_out.value.task is not None and not timed_out.value.task.done
        client.cancel(task.id)
        with pytest.raises(TaskFailed) as failed:
            client.wait(task.id, timeout=30)
    assert failed.value.task.status is TaskStatus.CANCELLED


def test_download_by_id_into_a_folder(server: KinemaServer, tmp_path: Path) -> None:
    received: list[tuple[int, int | None]] = []
    with Client(server.base_url, server.new_key()) as client:
        task = client.wait(client.submit("dunes", **QUICK))
        path = client.download(task.id, tmp_path, on_progress=lambda n, t: received.append((n, t)))
    assert path == tmp_path / f"{task.id}.mp4"
    size = path.stat().st_size
    assert received[-1] == (size, size)


class WithoutKinemaExtensions(httpx.BaseTransport):
    """The real server, minus Kinema's extra routes: what GPTProto's hosted API looks like."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/cancel") or path in ("/api/v3/models", "/api/v3/account"):
            return httpx.Response(404, json={"error": {"message": "Not Found"}})
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_without_extensions_cancel_falls_back_to_delete(server: KinemaServer) -> None:
    http = httpx.Client(transport=WithoutKinemaExtensions())
    key = server.new_key()
    with Client(server.base_url, key, http_client=http) as client:
        busy = client.submit("a long storm", model=SLOW, resolution="1080p", duration=12)
        queued = client.submit("waits its turn", **QUICK)
        running = wait_until_running(client, busy)
        assert client.get(queued.id).status is TaskStatus.QUEUED
        assert client.cancel(queued.id).status is TaskStatus.CANCELLED
        with pytest.raises(NotSupported, match="cannot cancel a running task"):
            client.cancel(running.id)
        with pytest.raises(NotSupported):
            client.models()
        with pytest.raises(NotSupported):
            client.account()
        with pytest.raises(NotFound):
            client.cancel("cgt-20260101000000-nopes")
        # Free the worker for the other tests (through the real cancel route).
        with Client(server.base_url, key) as direct:
            direct.cancel(running.id)
    http.close()


def test_models_and_account(server: KinemaServer) -> None:
    with Client(f"{server.base_url}/api/v3/", server.new_key()) as client:
        models = {model.id: model for model in client.models()}
        account = client.account()
    lite = models[LITE]
    assert (lite.engine, lite.modes, lite.durations, lite.audio) == ("preview", ("text",), (2, 12),
                                                                     False)  # fmt: skip
    assert models["seedance-2-0-260128"].auto_duration and models["seedance-2-0-260128"].audio
    assert account.name.startswith("test-") and account.balance == 0


def test_reads_the_environment(server: KinemaServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINEMA_BASE_URL", server.base_url)
    monkeypatch.setenv("KINEMA_API_KEY", server.new_key())
    with Client() as client:
        assert client.base_url == server.base_url and client.list().total == 0


def test_imports_nothing_heavy() -> None:
    code = (
        "import sys, kinema.client\n"
        "heavy = {'numpy', 'av', 'cv2', 'kinema.api', 'kinema.store', 'sqlalchemy', 'fastapi'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
