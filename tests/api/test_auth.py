"""API keys over HTTP: both header forms, 401 in each dialect's shape, and account isolation."""

from __future__ import annotations

from tests.support import LiveService

T2V = "/api/v3/bytedance/seedance-1-0-lite-t2v-250428/text-to-video"
ARK = "/api/v3/contents/generations/tasks"


def test_bearer_and_bare_keys_both_work(idle_service: LiveService) -> None:
    key = idle_service.new_key()
    with idle_service.client() as client:
        for header in (f"Bearer {key}", key):
            response = client.post(T2V, json={"prompt": "hi"}, headers={"Authorization": header})
            assert response.status_code == 200, response.text


def test_missing_key_is_401_in_gptproto_shape(idle_service: LiveService) -> None:
    with idle_service.client() as client:
        response = client.post(T2V, json={"prompt": "hi"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "401"
    assert error["code"] == "invalid_api_key"
    assert "Invalid signature" in error["message"]


def test_unknown_key_is_401_in_ark_shape(idle_service: LiveService) -> None:
    with idle_service.client("sk-" + "x" * 48) as client:
        response = client.get(ARK)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "AuthenticationError"
    assert error["type"] == "Unauthorized"


def test_another_accounts_task_is_404_like_an_unknown_id(idle_service: LiveService) -> None:
    owner, other = idle_service.new_key(), idle_service.new_key()
    with idle_service.client(owner) as client:
        task_id = client.post(T2V, json={"prompt": "mine"}).json()["data"]["id"]
    with idle_service.client(other) as client:
        for path in (f"{ARK}/{task_id}", f"/api/v3/predictions/{task_id}/result"):
            theirs = client.get(path)
            unknown = client.get(path.replace(task_id, "cgt-20260101000000-zzzzz"))
            assert theirs.status_code == unknown.status_code == 404
            assert theirs.json()["error"]["code"] == unknown.json()["error"]["code"]
        assert client.delete(f"{ARK}/{task_id}").status_code == 404
        assert client.get(ARK).json()["total"] == 0


def test_keys_are_stored_hashed(idle_service: LiveService) -> None:
    key = idle_service.new_key()
    database = idle_service.settings.data_dir / "kinema.db"
    assert key.encode() not in database.read_bytes()
    wal = database.with_name("kinema.db-wal")
    if wal.exists():
        assert key.encode() not in wal.read_bytes()
