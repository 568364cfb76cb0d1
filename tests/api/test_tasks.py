"""Task records without a worker: queueing, listing with every filter, cancelling, idempotency."""

from __future__ import annotations

import httpx

from tests.support import LiveService

LITE = "seedance-1-0-lite-t2v-250428"
V20 = "seedance-2-0-260128"
ARK = "/api/v3/contents/generations/tasks"


def create(client: httpx.Client, model: str = LITE, **fields: object) -> str:
    body = {"model": model, "content": [{"type": "text", "text": "a cat"}], **fields}
    response = client.post(ARK, json=body)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["id"]
    return task_id


def test_queued_task_shows_queue_position(idle_service: LiveService) -> None:
    with idle_service.client(idle_service.new_key()) as client:
        task_id = create(client, priority=9)
        task = client.get(f"{ARK}/{task_id}").json()
        gpt = client.get(f"/api/v3/predictions/{task_id}/result").json()["data"]
    assert task["status"] == "queued" and gpt["status"] == "queued"
    assert task["queue_position"] == 0 and gpt["progress"] == 0
    assert task["priority"] == 9
    assert "content" not in task and task["error"] is None


def test_list_pagination_newest_first(idle_service: LiveService) -> None:
    with idle_service.client(idle_service.new_key()) as client:
        ids = [create(client) for _ in range(5)]
        page1 = client.get(ARK, params={"page_num": 1, "page_size": 2}).json()
        page3 = client.get(ARK, params={"page_num": 3, "page_size": 2}).json()
        everything = client.get(ARK).json()
    assert page1["total"] == 5 and [t["id"] for t in page1["items"]] == ids[::-1][:2]
    assert [t["id"] for t in page3["items"]] == [ids[0]]
    assert [t["id"] for t in everything["items"]] == ids[::-1]


def test_list_filters(idle_service: LiveService) -> None:
    with idle_service.client(idle_service.new_key()) as client:
        lite = create(client)
        flex = create(client, service_tier="flex")
        v20 = create(client, V20)
        cancelled = create(client)
        assert client.request("DELETE", f"{ARK}/{cancelled}", json={}).json() == {}

        def ids(**params: object) -> set[str]:
            body = client.get(ARK, params=params).json()
            assert body["total"] == len(body["items"])
            return {t["id"] for t in body["items"]}

        assert ids(**{"filter.status": "cancelled"}) == {cancelled}
        assert ids(**{"filter.status": "queued"}) == {lite, flex, v20}
        assert ids(**{"filter.model": V20}) == {v20}
        assert ids(**{"filter.model": f"doubao-{V20}"}) == {v20}
        assert ids(**{"filter.model": "unknown-model"}) == set()
        assert ids(**{"filter.service_tier": "flex"}) == {flex}
        assert ids(**{"filter.task_ids": [lite, v20]}) == {lite, v20}
        assert ids(**{"filter.task_ids": [lite], "filter.status": "queued"}) == {lite}


def test_delete_queued_cancels_and_cancelled_cannot_be_deleted(
    idle_service: LiveService,
) -> None:
    with idle_service.client(idle_service.new_key()) as client:
        task_id = create(client)
        first = client.request("DELETE", f"{ARK}/{task_id}", json={})
        assert first.status_code == 200 and first.json() == {}
        task = client.get(f"{ARK}/{task_id}").json()
        assert task["status"] == "cancelled"
        again = client.request("DELETE", f"{ARK}/{task_id}", json={})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "InvalidParameter"


def test_idempotency_key_returns_the_first_task(idle_service: LiveService) -> None:
    with idle_service.client(idle_service.new_key()) as client:
        headers = {"Idempotency-Key": "order-123"}
        body = {"model": LITE, "content": [{"type": "text", "text": "a cat"}]}
        first = client.post(ARK, json=body, headers=headers).json()["id"]
        second = client.post(ARK, json=body, headers=headers).json()["id"]
        gpt = client.post(f"/api/v3/bytedance/{LITE}/text-to-video", json={"prompt": "a cat"},
                          headers=headers).json()["data"]["id"]  # fmt: skip
        other = client.post(ARK, json=body, headers={"Idempotency-Key": "order-124"}).json()["id"]
        assert client.get(ARK).json()["total"] == 2
    assert first == second == gpt
    assert other != first


def test_queue_limit_is_429_quota_exceeded(tmp_path: object) -> None:
    from pathlib import Path

    from tests.support import start_service

    with start_service(Path(str(tmp_path)), workers=0, max_queued_per_account=3) as live:
        with live.client(live.new_key()) as client:
            for _ in range(3):
                create(client)
            refused = client.post(ARK, json={"model": LITE, "content": [
                {"type": "text", "text": "one more"}]})  # fmt: skip
            gpt = client.post(f"/api/v3/bytedance/{LITE}/text-to-video", json={"prompt": "x"})
    assert refused.status_code == 429 and gpt.status_code == 429
    assert refused.json()["error"]["code"] == "QuotaExceeded"
    assert gpt.json()["error"]["code"] == "quota_exceeded"
    assert refused.headers["Retry-After"].isdigit()


def test_a_refused_submission_leaves_no_fetched_input_behind(tmp_path: object) -> None:
    """The inputs are fetched and stored before the task row; when the row is refused (here
    the queue limit) no task will ever read them, so they are deleted."""
    from pathlib import Path

    from tests.support import png_data_uri, start_service

    body = {"image": png_data_uri(64, 64, seed=1), "resolution": "480p", "duration": 2}
    path = "/api/v3/doubao/seedance-1-0-lite-i2v-250428/image-to-video"
    with start_service(Path(str(tmp_path)), workers=0, max_queued_per_account=1) as live:
        with live.client(live.new_key()) as client:
            kept = client.post(path, json=body)
            refused = client.post(path, json=body)
        inputs = live.settings.artifacts_dir / "inputs"
        stored = sorted(p.name for p in inputs.iterdir())
    assert kept.status_code == 200 and refused.status_code == 429, refused.text
    assert stored == [kept.json()["data"]["id"]]
