"""Nothing lost: killed workers, killed engine children and restarts still end every task once."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from kinema.domain.keys import new_api_key
from kinema.store.sql import SqlStore
from tests.support import (
    LiveService,
    kinema_keys_create,
    output_attempts,
    serve,
    spawn_worker,
    start_service,
    wait_for,
)

ARK = "/api/v3/contents/generations/tasks"
# The longest clip the 1.0 models allow at 1080p: long enough to be killed mid-render.
BIG = {"model": "seedance-1-0-pro-250528", "resolution": "1080p", "duration": 12}
FAST_RECOVERY = {"lease_seconds": 2.0, "heartbeat_seconds": 0.5, "reap_interval_seconds": 0.5}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kinema.db'}"
        return
    url: str = request.getfixturevalue("pg_url")
    store = SqlStore(url)  # brings the schema up to date
    engine = store.engine
    with engine.begin() as conn:
        # Tasks left by earlier tests would be claimed by this test's workers.
        conn.execute(sa.text("DELETE FROM outbox"))
        conn.execute(sa.text("DELETE FROM tasks"))
    store.close()
    yield url


def submit(client: httpx.Client, prompt: str = "a storm over the sea", **extra: Any) -> str:
    body = {**BIG, **extra, "content": [{"type": "text", "text": prompt}]}
    response = client.post(ARK, json=body)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["id"]
    return task_id


def running_with_progress(client: httpx.Client, task_id: str) -> bool:
    task = client.get(f"{ARK}/{task_id}").json()
    return bool(task["status"] == "running" and task["progress"] > 0.05)


def test_sigkill_worker_mid_task(db_url: str, tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(f"[{BIG['model']}]\n1080p = 0.25\n")
    with start_service(tmp_path, workers=0, db=db_url, prices_file=prices,
                       **FAST_RECOVERY) as live:  # fmt: skip
        store = live.services.store
        account = store.create_account(f"payer-{tmp_path.name}", Decimal(10))
        key = new_api_key()
        store.add_api_key(account.id, key)
        doomed = spawn_worker(live.settings, "doomed")
        rescuer = None
        try:
            with live.client(key) as client:
                task_id = submit(client)
                wait_for(lambda: running_with_progress(client, task_id), 60, "the task to run")
                doomed.send_signal(signal.SIGKILL)
                doomed.wait()
                rescuer = spawn_worker(live.settings, "rescuer")
                task = live.wait(client, task_id, timeout=120)
            record = live.services.store.get_task(task_id)
        finally:
            for process in (doomed, rescuer):
                if process is not None:
                    process.kill()
                    process.wait()
        assert task["status"] == "succeeded", task
        assert record is not None and record.attempts == 2
        # Exactly one output: the killed attempt never stored a file.
        assert output_attempts(live, task_id) == ["2"]
        assert httpx.get(task["content"]["video_url"]).status_code == 200
        # Charged once: one hold of 12 s × 0.25, captured once, despite two attempts.
        summary = store.summary(account.id)
        assert summary is not None and summary.account.balance == Decimal(7)
        assert [(m.kind, m.amount) for m in reversed(summary.recent)] == [
            ("topup", Decimal(10)), ("hold", Decimal(3)), ("capture", Decimal(3)),
        ]  # fmt: skip


def test_sigkill_engine_child_mid_task(tmp_path: Path) -> None:
    with start_service(tmp_path, workers=1, **FAST_RECOVERY) as live:
        worker = live.workers[0]
        with live.client(live.new_key()) as client:
            task_id = submit(client)
            wait_for(lambda: running_with_progress(client, task_id), 60, "the task to run")
            child = worker.engine.pid
            assert child is not None
            os.kill(child, signal.SIGKILL)
            task = live.wait(client, task_id, timeout=120)
        record = live.services.store.get_task(task_id)
        assert task["status"] == "succeeded", task
        assert record is not None and record.attempts == 2
        assert worker.engine.pid not in (None, child)
        assert output_attempts(live, task_id) == ["2"]


def test_restart_serve_with_tasks_queued_and_running(tmp_path: Path) -> None:
    env = {"KINEMA_LEASE_SECONDS": "3", "KINEMA_HEARTBEAT_SECONDS": "0.5"}
    key = kinema_keys_create(tmp_path)
    with serve(tmp_path, "--workers", "1", env=env) as (base, _lines):
        with httpx.Client(base_url=base, headers={"Authorization": key}, timeout=30) as client:
            ids = [submit(client, f"scene {index}") for index in range(3)]
            wait_for(lambda: running_with_progress(client, ids[0]), 60, "the first task to run")
    # Stopped with one task running and two queued; start again and everything finishes.
    with (
        serve(tmp_path, "--workers", "1", env=env) as (base, _),
        httpx.Client(base_url=base, headers={"Authorization": key}, timeout=30) as client,
    ):
        deadline = time.monotonic() + 180
        statuses: list[str] = []
        while time.monotonic() < deadline:
            statuses = [client.get(f"{ARK}/{task_id}").json()["status"] for task_id in ids]
            if all(status == "succeeded" for status in statuses):
                break
            assert "failed" not in statuses, statuses
            time.sleep(0.2)
        assert statuses == ["succeeded"] * 3


def test_cancel_a_running_task(tmp_path: Path) -> None:
    with start_service(tmp_path, workers=1) as live, live.client(live.new_key()) as client:
        task_id = submit(client)
        wait_for(lambda: running_with_progress(client, task_id), 60, "the task to run")
        response = client.post(f"/api/v3/predictions/{task_id}/cancel")
        assert response.status_code == 200
        assert response.json()["data"]["status"] in ("running", "cancelled")
        task = live.wait(client, task_id, timeout=30)
        again = client.post(f"/api/v3/predictions/{task_id}/cancel")
        staging = list((live.settings.data_dir / "staging").glob(f"{task_id}-*"))
        assert task["status"] == "cancelled" and "content" not in task
        assert again.status_code == 200  # cancelling a cancelled task is harmless
        assert output_attempts(live, task_id) == [] and staging == []
        # The worker carries on with the next task.
        follow = submit(client, resolution="480p", duration=2)
        assert live.wait(client, follow)["status"] == "succeeded"


def test_cancel_queued_and_finished_tasks(tmp_path: Path) -> None:
    with start_service(tmp_path, workers=0) as live, live.client(live.new_key()) as client:
        task_id = submit(client)
        response = client.post(f"/api/v3/predictions/{task_id}/cancel")
        assert response.json()["data"]["status"] == "cancelled"
        assert client.post("/api/v3/predictions/cgt-nope/cancel").status_code == 404
        store = live.services.store
        assert store.claim("w", 30) is None  # the cancelled task never runs
        done = submit(client)
        claim = store.claim("w", 30)
        assert claim is not None and claim.task.id == done
        store.fail(claim, "InternalServiceError", "x", 1)
        refused = client.post(f"/api/v3/predictions/{done}/cancel")
    assert refused.status_code == 400


def test_expired_tasks_get_a_reason(tmp_path: Path) -> None:
    with start_service(tmp_path, workers=0, reap_interval_seconds=0.2) as live:
        with live.client(live.new_key()) as client:
            task_id = submit(client, execution_expires_after=3600)
            assert client.get(f"{ARK}/{task_id}").json()["status"] == "queued"
            # Pretend the hour has passed.
            _shift(live, task_id, "expires_at", -7200)
            from kinema.worker.reaper import Reaper

            Reaper(live.settings, live.services.store, live.services.artifacts).run_once()
            task = client.get(f"{ARK}/{task_id}").json()
            gpt = client.get(f"/api/v3/predictions/{task_id}/result").json()["data"]
    assert task["status"] == "expired"
    assert "execution_expires_after" in task["error"]["message"]
    assert gpt["status"] == "expired" and "execution_expires_after" in gpt["error"]


def test_files_and_records_expire(tmp_path: Path) -> None:
    from kinema.worker.reaper import Reaper

    with start_service(tmp_path, workers=1) as live, live.client(live.new_key()) as client:
        task_id = submit(client, resolution="480p", duration=2)
        url = live.wait(client, task_id)["content"]["video_url"]
        assert httpx.get(url).status_code == 200
        reaper = Reaper(live.settings, live.services.store, live.services.artifacts)
        _shift(live, task_id, "finished_at", -live.settings.output_ttl_seconds - 10)
        reaper.run_once()
        assert httpx.get(url).status_code == 410
        assert output_attempts(live, task_id) == []
        assert client.get(f"{ARK}/{task_id}").json()["status"] == "succeeded"
        _shift(live, task_id, "created_at", -live.settings.record_ttl_seconds - 10)
        reaper.run_once()
        assert client.get(f"{ARK}/{task_id}").status_code == 404


def _shift(live: LiveService, task_id: str, column: str, seconds: float) -> None:
    from kinema.store.schema import tasks

    with live.services.store.engine.begin() as conn:
        conn.execute(
            tasks.update().where(tasks.c.id == task_id).values({column: tasks.c[column] + seconds})
        )


def test_a_task_that_keeps_failing_ends_failed_with_a_reason(tmp_path: Path) -> None:
    with start_service(tmp_path, workers=1, max_attempts=1, **FAST_RECOVERY) as live:
        worker = live.workers[0]
        with live.client(live.new_key()) as client:
            task_id = submit(client)
            wait_for(lambda: running_with_progress(client, task_id), 60, "the task to run")
            assert worker.engine.pid is not None
            os.kill(worker.engine.pid, signal.SIGKILL)
            task = live.wait(client, task_id, timeout=60)
            gpt = client.get(f"/api/v3/predictions/{task_id}/result").json()["data"]
    assert task["status"] == "failed"
    assert task["error"]["code"] == "InternalServiceError"
    assert "engine process died" in task["error"]["message"]
    assert gpt["status"] == "failed" and "engine process died" in gpt["error"]
    assert gpt["outputs"] == [] and output_attempts(live, task_id) == []
