"""Accounts, money and limits over HTTP: holds, captures, releases, 401/403/429, the admin API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from kinema.domain.keys import new_api_key
from tests.support import LiveService, start_service

LITE = "seedance-1-0-lite-t2v-250428"
V15 = "seedance-1-5-pro-251215"
ARK = "/api/v3/contents/generations/tasks"
ADMIN = "admin-secret-token"
PRICES = f"""
[{LITE}]
480p = 0.02
720p = 0.04

[doubao-{V15}]
480p = 0.10
audio = 0.05
"""


def write_prices(folder: Path) -> Path:
    path = folder / "prices.toml"
    path.write_text(PRICES)
    return path


@pytest.fixture(scope="module")
def paid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """A service with prices, an admin token and one worker."""
    folder = tmp_path_factory.mktemp("paid")
    with start_service(folder, workers=1, prices_file=write_prices(folder),
                       admin_token=ADMIN) as live:  # fmt: skip
        yield live


@pytest.fixture(scope="module")
def paid_idle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    folder = tmp_path_factory.mktemp("paid-idle")
    with start_service(folder, workers=0, prices_file=write_prices(folder),
                       admin_token=ADMIN) as live:  # fmt: skip
        yield live


def account_with(live: LiveService, balance: str, **limits: int) -> tuple[str, str]:
    """A new account with ``balance`` and a key; returns (account id, key)."""
    store = live.services.store
    account = store.create_account(f"acct-{new_api_key()[3:11]}", Decimal(balance))
    if limits:
        store.set_limits(account.id, **limits)
    key = new_api_key()
    store.add_api_key(account.id, key)
    return account.id, key


def lite(client: httpx.Client, **fields: object) -> httpx.Response:
    body = {"model": LITE, "content": [{"type": "text", "text": "a cat"}],
            "resolution": "480p", "duration": 5, **fields}  # fmt: skip
    return client.post(ARK, json=body)


def balance(live: LiveService, account_id: str) -> Decimal:
    account = live.services.store.get_account(account_id)
    assert account is not None
    return account.balance


def kinds(live: LiveService, account_id: str) -> list[str]:
    summary = live.services.store.summary(account_id)
    assert summary is not None
    return [entry.kind for entry in reversed(summary.recent)]


def test_success_holds_then_captures(paid: LiveService) -> None:
    account_id, key = account_with(paid, "1.00")
    with paid.client(key) as client:
        task_id = lite(client).json()["id"]
        assert balance(paid, account_id) == Decimal("0.90")
        assert paid.wait(client, task_id)["status"] == "succeeded"
        me = client.get("/api/v3/account").json()
    assert balance(paid, account_id) == Decimal("0.90")
    assert kinds(paid, account_id) == ["topup", "hold", "capture"]
    assert me["balance"] == "0.900000" and me["held"] == "0.000000"
    assert me["usage"][0]["tasks"] == 1 and me["usage"][0]["money"] == "0.100000"
    assert me["usage"][0]["seconds"] == "5.000000"
    assert me["usage"][0]["tokens"] == 864 * 480 * 121 // 1024


def test_cancel_releases_the_hold(paid_idle: LiveService) -> None:
    account_id, key = account_with(paid_idle, "1.00")
    with paid_idle.client(key) as client:
        task_id = lite(client, resolution="720p").json()["id"]
        held = client.get("/api/v3/account").json()
        assert client.request("DELETE", f"{ARK}/{task_id}", json={}).status_code == 200
    assert held["held"] == "0.200000" and held["balance"] == "0.800000"
    assert balance(paid_idle, account_id) == Decimal("1.00")
    assert kinds(paid_idle, account_id) == ["topup", "hold", "release"]


def test_insufficient_balance_is_403_and_charges_nothing(paid_idle: LiveService) -> None:
    account_id, key = account_with(paid_idle, "0.05")
    with paid_idle.client(key) as client:
        ark = lite(client)
        gpt = client.post(f"/api/v3/bytedance/{LITE}/text-to-video",
                          json={"prompt": "x", "resolution": "480p"})  # fmt: skip
        listed = client.get(ARK).json()
    assert ark.status_code == gpt.status_code == 403
    assert ark.json()["error"]["code"] == "AccountOverdueError"
    assert gpt.json()["error"] == {"message": "Insufficient balance", "type": "403",
                                   "code": "insufficient_balance"}  # fmt: skip
    assert listed["total"] == 0 and balance(paid_idle, account_id) == Decimal("0.05")


def test_flex_is_half_price_and_audio_costs_extra(paid_idle: LiveService) -> None:
    account_id, key = account_with(paid_idle, "10")
    with paid_idle.client(key) as client:
        lite(client, service_tier="flex")
        after_flex = balance(paid_idle, account_id)
        body = {"model": V15, "content": [{"type": "text", "text": "x"}], "resolution": "480p",
                "duration": 4}  # fmt: skip
        client.post(ARK, json=body)
        after_audio = balance(paid_idle, account_id)
        client.post(ARK, json={**body, "generate_audio": False})
        after_silent = balance(paid_idle, account_id)
        client.post(ARK, json={**body, "model": "seedance-2-0-260128"})  # no price: free
        after_free = balance(paid_idle, account_id)
    assert after_flex == Decimal("9.95")
    assert after_flex - after_audio == Decimal("0.60")  # 4 s × (0.10 + 0.05)
    assert after_audio - after_silent == Decimal("0.40")
    assert after_free == after_silent


def test_revoked_key_is_401_and_restricted_key_403(paid_idle: LiveService) -> None:
    store = paid_idle.services.store
    account_id, key = account_with(paid_idle, "1")
    limited = new_api_key()
    store.add_api_key(account_id, limited, models=[V15])
    with paid_idle.client(limited) as client:
        denied = lite(client)
        assert client.get(ARK).status_code == 200
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "AccessDenied"
    assert store.revoke_keys(key[:10])
    with paid_idle.client(key) as client:
        revoked = client.get(ARK)
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "AuthenticationError"


def test_requests_per_minute(paid_idle: LiveService) -> None:
    _, key = account_with(paid_idle, "0", rpm_limit=3)
    with paid_idle.client(key) as client:
        answers = [client.get(ARK) for _ in range(3)]
        ark = client.get(ARK)
        gpt = client.get("/api/v3/predictions/cgt-x/result")
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert ark.status_code == gpt.status_code == 429
    assert ark.json()["error"]["code"] == "RateLimitExceeded"
    assert gpt.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(ark.headers["Retry-After"]) <= 60


def test_account_queue_limit(paid_idle: LiveService) -> None:
    _, key = account_with(paid_idle, "10", max_queued=2)
    with paid_idle.client(key) as client:
        assert [lite(client).status_code for _ in range(2)] == [200, 200]
        third = lite(client)
    assert third.status_code == 429 and third.json()["error"]["code"] == "QuotaExceeded"


def test_admin_api_needs_its_token(paid_idle: LiveService, idle_service: LiveService) -> None:
    with idle_service.client(ADMIN) as client:
        assert client.get("/admin/prices").status_code == 404  # no admin token configured
    with paid_idle.client("wrong") as client:
        assert client.get("/admin/prices").status_code == 401
    _, user_key = account_with(paid_idle, "0")
    with paid_idle.client(user_key) as client:
        assert client.get("/admin/accounts").status_code == 401


def test_admin_manages_accounts_keys_and_money(paid_idle: LiveService) -> None:
    with paid_idle.client(ADMIN) as admin:
        prices = admin.get("/admin/prices").json()["prices"]
        assert prices[LITE] == {"480p": "0.02", "720p": "0.04"}
        assert prices[V15] == {"480p": "0.10", "audio": "0.05"}
        account = admin.post("/admin/accounts", json={"name": "team-a", "balance": "5"}).json()
        assert account["balance"] == "5.000000"
        assert admin.post("/admin/accounts", json={"name": "team-a"}).status_code == 400
        path = f"/admin/accounts/{account['id']}"
        for _ in range(2):  # a retried top-up counts once
            admin.post(f"{path}/topup", json={"amount": "2.5"}, headers={"Idempotency-Key": "t1"})
        limits = admin.patch(path, json={"max_running": 2, "rpm_limit": None}).json()
        created = admin.post(f"{path}/keys", json={"models": [f"doubao-{LITE}"]}).json()
        keys = admin.get(f"{path}/keys").json()["items"]
        with paid_idle.client(created["key"]) as user:
            assert lite(user).status_code == 200
        shown = admin.get(path).json()
        revoked = admin.post(f"/admin/keys/{created['prefix']}/revoke")
        usage = admin.get("/admin/usage", params={"since": "2020-01-01"}).json()
        bad = admin.post(f"{path}/topup", json={"amount": "lots"})
    assert limits["max_running"] == 2
    assert created["models"] == [LITE] and created["key"].startswith("sk-")
    assert [k["prefix"] for k in keys] == [created["prefix"]] and "key" not in keys[0]
    assert shown["balance"] == "7.400000" and shown["held"] == "0.100000"
    assert [m["kind"] for m in shown["recent_movements"]] == ["hold", "topup", "topup"]
    assert revoked.status_code == 200 and revoked.json()["revoked"][0]["revoked"] is True
    assert isinstance(usage["items"], list)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "amount"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_parallel_submits_never_overdraw(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = None if database == "sqlite" else request.getfixturevalue("pg_url")
    with start_service(tmp_path, workers=0, db=db, prices_file=write_prices(tmp_path)) as live:
        account_id, key = account_with(live, "1.00")  # covers 10 tasks at 0.10
        statuses: list[int] = []
        lock = threading.Lock()

        def submit() -> None:
            with live.client(key) as client:
                code = lite(client).status_code
            with lock:
                statuses.append(code)

        threads = [threading.Thread(target=submit) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        summary = live.services.store.summary(account_id)
    assert sorted(statuses) == [200] * 10 + [403] * 40
    assert summary is not None and summary.account.balance == Decimal(0)
    assert summary.queued == 10 and summary.held == Decimal("1.00")
    assert all(entry.balance_after >= 0 for entry in summary.recent)


def test_limits_hold_across_api_processes_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    with (
        start_service(tmp_path / "a", workers=0, db=pg_url) as first,
        start_service(tmp_path / "b", workers=0, db=pg_url) as second,
    ):
        _, key = account_with(first, "0", rpm_limit=4, max_queued=3)
        with first.client(key) as one, second.client(key) as two:
            codes = [client.get(ARK).status_code for client in (one, two, one, two)]
            limited = two.get(ARK)
        _, key = account_with(first, "0", max_queued=3)
        with first.client(key) as one, second.client(key) as two:
            queued = [lite(client).status_code for client in (one, two, one, two)]
    assert codes == [200] * 4 and limited.status_code == 429
    assert queued == [200, 200, 200, 429]


@pytest.mark.parametrize("mode", ["reject", "queue"])
def test_running_limit(mode: str, tmp_path: Path) -> None:
    with start_service(tmp_path, workers=0, running_limit=mode) as live:
        account_id, key = account_with(live, "0", max_running=1)
        store = live.services.store
        with live.client(key) as client:
            assert lite(client).status_code == 200
            running = store.claim("w", 30, max_running=None)
            assert running is not None and running.task.account_id == account_id
            second = lite(client)
            # However many wait, no more than the limit ever run at once.
            assert store.claim("w", 30) is None
    if mode == "reject":
        assert second.status_code == 429
        assert second.json()["error"]["code"] == "RateLimitExceeded"
        assert second.headers["Retry-After"].isdigit()
    else:
        assert second.status_code == 200
