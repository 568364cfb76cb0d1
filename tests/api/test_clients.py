"""The real clients users already have work by changing only the base URL and key."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support import LiveService, start_service

LITE = "seedance-1-0-lite-t2v-250428"


def test_official_ark_sdk(service: LiveService) -> None:
    ark_runtime = pytest.importorskip("volcenginesdkarkruntime")
    key = service.new_key()
    client = ark_runtime.Ark(base_url=f"{service.base_url}/api/v3", api_key=key)
    tasks = client.content_generation.tasks
    created = tasks.create(
        model=f"doubao-{LITE}",
        content=[{"type": "text", "text": "a lighthouse in a storm --dur 2"}],
        resolution="480p",
        seed=123,
    )
    assert created.id.startswith("cgt-")
    with service.client(key) as http:
        task = service.wait(http, created.id)
    fetched = tasks.get(task_id=created.id)
    assert fetched.status == "succeeded" == task["status"]
    assert fetched.seed == 123 and isinstance(fetched.created_at, int)
    assert fetched.content.video_url.startswith(service.base_url)
    assert fetched.usage.completion_tokens == 864 * 480 * 49 // 1024
    assert httpx.get(fetched.content.video_url).status_code == 200
    listed = tasks.list(page_size=5, status="succeeded", task_ids=[created.id])
    assert listed.total == 1 and listed.items[0].id == created.id
    tasks.delete(task_id=created.id)
    with pytest.raises(ark_runtime._exceptions.ArkNotFoundError):
        tasks.get(task_id=created.id)


def test_official_ark_sdk_errors_are_typed(idle_service: LiveService) -> None:
    ark_runtime = pytest.importorskip("volcenginesdkarkruntime")
    client = ark_runtime.Ark(
        base_url=f"{idle_service.base_url}/api/v3", api_key=idle_service.new_key()
    )
    with pytest.raises(ark_runtime._exceptions.ArkBadRequestError) as info:
        client.content_generation.tasks.create(
            model=LITE, content=[{"type": "text", "text": "x"}], duration=99
        )
    assert info.value.code == "InvalidParameter" and info.value.param == "duration"
    queued = client.content_generation.tasks.create(
        model=LITE, content=[{"type": "text", "text": "x"}]
    )
    client.content_generation.tasks.delete(task_id=queued.id)
    assert client.content_generation.tasks.get(task_id=queued.id).status == "cancelled"
    bad = ark_runtime.Ark(base_url=f"{idle_service.base_url}/api/v3", api_key="sk-nope")
    with pytest.raises(ark_runtime._exceptions.ArkAuthenticationError):
        bad.content_generation.tasks.get(task_id=queued.id)


def test_wavespeed_sdk(tmp_path: Path) -> None:
    wavespeed = pytest.importorskip("wavespeed")
    from wavespeed.api.client import Client

    with start_service(tmp_path, workers=1, gptproto_status_words="wavespeed") as live:
        client = Client(api_key=live.new_key(), base_url=live.base_url, max_retries=0)
        result = client.run(
            f"bytedance/{LITE}/text-to-video",
            {"prompt": "a paper boat", "resolution": "480p", "duration": 2},
            timeout=60,
            poll_interval=0.1,
        )
    assert wavespeed is not None
    assert len(result["outputs"]) == 1 and result["outputs"][0].startswith(live.base_url)
