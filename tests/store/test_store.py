"""The TaskStore contract, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from kinema.domain.catalog import Catalog
from kinema.domain.errors import QuotaExceeded
from kinema.domain.request import Submission, parse_request
from kinema.domain.task import TaskStatus
from kinema.store.base import NewTask, TaskFilter, TaskOutputs
from kinema.store.sql import SqlStore

CATALOG = Catalog()
LITE = "seedance-1-0-lite-t2v-250428"


def new_task(account_id: str, task_id: str, priority: int = 0, key: str | None = None,
             model: str = LITE) -> NewTask:  # fmt: skip
    request = parse_request(CATALOG, Submission(model, "a cat", {"priority": priority}))
    return NewTask(task_id, account_id, request, "preview", max_attempts=2, idempotency_key=key)


def test_accounts_and_keys(store: SqlStore) -> None:
    account = store.create_account("team")
    with pytest.raises(ValueError, match="already exists"):
        store.create_account("team")
    record = store.add_api_key(account.id, "sk-secret-value")
    found = store.authenticate("sk-secret-value")
    assert found is not None and found[0].id == account.id and found[1].id == record.id
    assert store.authenticate("sk-other") is None
    assert record.prefix == "sk-secret-"
    assert store.count_accounts() == 1


def test_create_get_and_idempotency(store: SqlStore) -> None:
    account = store.create_account("a")
    task, created = store.create_task(new_task(account.id, "t1", key="k"))
    assert created and task.status is TaskStatus.QUEUED and task.attempts == 0
    again, created_again = store.create_task(new_task(account.id, "t2", key="k"))
    assert not created_again and again.id == "t1"
    assert store.get_task("t2") is None
    assert store.get_task("t1", account.id) == task
    assert store.get_task("t1", "acct_other") is None


def test_queue_quota(store: SqlStore) -> None:
    account = store.create_account("a")
    store.create_task(new_task(account.id, "t1"), max_queued=1)
    with pytest.raises(QuotaExceeded):
        store.create_task(new_task(account.id, "t2"), max_queued=1)


def test_claim_orders_by_priority_then_age(store: SqlStore) -> None:
    account = store.create_account("a")
    for task_id, priority in (("old", 0), ("urgent", 5), ("new", 0)):
        store.create_task(new_task(account.id, task_id, priority))
    order = []
    while (claim := store.claim("w", 30)) is not None:
        order.append(claim.task.id)
        assert claim.task.status is TaskStatus.RUNNING and claim.task.attempts == 1
    assert order == ["urgent", "old", "new"]


def test_claim_filters_by_model(store: SqlStore) -> None:
    account = store.create_account("a")
    store.create_task(new_task(account.id, "lite"))
    store.create_task(new_task(account.id, "v20", model="seedance-2-0-260128"))
    claim = store.claim("w", 30, models=("seedance-2-0-260128",))
    assert claim is not None and claim.task.id == "v20"
    assert store.claim("w", 30, models=("seedance-2-0-260128",)) is None


def test_writes_are_fenced_by_the_lease(store: SqlStore) -> None:
    account = store.create_account("a")
    store.create_task(new_task(account.id, "t1"))
    claim = store.claim("w1", 30)
    assert claim is not None
    assert store.heartbeat(claim, 30, 0.5) is False
    impostor = type(claim)(task=claim.task, owner="w1", token="wrong")
    assert store.heartbeat(impostor, 30, 0.9) is None
    assert not store.complete(impostor, TaskOutputs("x"), 1)
    assert store.get_task("t1").progress == 0.5  # type: ignore[union-attr]
    assert store.complete(claim, TaskOutputs("outputs/t1/1/video.mp4", None, 10), 1234)
    done = store.get_task("t1")
    assert done is not None and done.status is TaskStatus.SUCCEEDED
    assert done.outputs == TaskOutputs("outputs/t1/1/video.mp4", None, 10)
    assert done.execution_ms == 1234 and done.progress == 1.0
    # A finished task can never be finished again.
    assert not store.fail(claim, "X", "late", 1)
    assert store.get_task("t1").status is TaskStatus.SUCCEEDED  # type: ignore[union-attr]


def test_release_requeues_then_fails_after_max_attempts(store: SqlStore) -> None:
    account = store.create_account("a")
    store.create_task(new_task(account.id, "t1"))
    first = store.claim("w", 30)
    assert first is not None
    assert store.release(first, retry_delay=0, reason="boom") is TaskStatus.QUEUED
    second = store.claim("w", 30)
    assert second is not None and second.task.attempts == 2
    assert store.release(second, retry_delay=0, reason="boom") is TaskStatus.FAILED
    failed = store.get_task("t1")
    assert failed is not None and failed.status is TaskStatus.FAILED
    assert failed.error_message is not None and "boom" in failed.error_message
    assert store.release(second, retry_delay=0, reason="again") is None


def test_release_without_counting_gives_the_attempt_back(store: SqlStore) -> None:
    account = store.create_account("a")
    store.create_task(new_task(account.id, "t1"))
    claim = store.claim("w", 30)
    assert claim is not None
    store.release(claim, retry_delay=0, reason="shutdown", count_attempt=False)
    task = store.get_task("t1")
    assert task is not None and task.status is TaskStatus.QUEUED and task.attempts == 0


def test_backoff_delays_the_next_claim(store: SqlStore) -> None:
    account = store.create_account("a")
    store.create_task(new_task(account.id, "t1"))
    claim = store.claim("w", 30)
    assert claim is not None
    store.release(claim, retry_delay=60, reason="later")
    assert store.claim("w", 30) is None


def test_cancel_queued_and_delete_terminal(store: SqlStore) -> None:
    account = store.create_account("a")
    store.create_task(new_task(account.id, "q"))
    cancelled = store.cancel_queued("q", account.id)
    assert cancelled is not None and cancelled.status is TaskStatus.CANCELLED
    assert store.cancel_queued("q", account.id) is None
    assert store.delete_task("q", account.id) is None  # cancelled records stay
    store.create_task(new_task(account.id, "done"))
    claim = store.claim("w", 30)
    assert claim is not None
    store.fail(claim, "InternalServiceError", "x", 5)
    assert store.delete_task("done", "acct_other") is None
    assert store.delete_task("done", account.id) is not None
    assert store.get_task("done") is None


def test_list_and_queue_position(store: SqlStore) -> None:
    account = store.create_account("a")
    for index in range(4):
        store.create_task(new_task(account.id, f"t{index}", priority=1 if index == 3 else 0))
    page = store.list_tasks(account.id, TaskFilter(), 1, 2)
    assert page.total == 4 and [t.id for t in page.items] == ["t3", "t2"]
    t0, t3 = store.get_task("t0"), store.get_task("t3")
    assert t0 is not None and t3 is not None
    assert store.queue_position(t3) == 0 and store.queue_position(t0) == 1
    only = store.list_tasks(account.id, TaskFilter(task_ids=["t1"]), 1, 10)
    assert [t.id for t in only.items] == ["t1"]


def test_concurrent_claims_never_share_a_task(store: SqlStore) -> None:
    account = store.create_account("a")
    for index in range(40):
        store.create_task(new_task(account.id, f"t{index:02d}"))
    claimed: list[str] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        while (claim := store.claim(name, 30)) is not None:
            with lock:
                claimed.append(claim.task.id)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == [f"t{index:02d}" for index in range(40)]


def test_meta_value_is_created_once(store: SqlStore) -> None:
    assert store.get_or_create_meta("secret", "first") == "first"
    assert store.get_or_create_meta("secret", "second") == "first"


def test_accounts_take_turns_at_equal_priority(store: SqlStore) -> None:
    busy, quiet = store.create_account("busy"), store.create_account("quiet")
    for index in range(100):
        store.create_task(new_task(busy.id, f"busy-{index:03d}"))
    store.create_task(new_task(quiet.id, "quiet-0"))
    order = []
    for _ in range(3):
        claim = store.claim("w", 30)
        assert claim is not None
        order.append(claim.task.id)
    # The quiet account's single task does not wait behind the busy account's hundred.
    assert order == ["busy-000", "quiet-0", "busy-001"]


def test_priority_beats_turns(store: SqlStore) -> None:
    first, second = store.create_account("first"), store.create_account("second")
    store.create_task(new_task(first.id, "a-low"))
    store.create_task(new_task(second.id, "b-low"))
    store.create_task(new_task(first.id, "a-high", priority=9))
    claims = [store.claim("w", 30) for _ in range(3)]
    assert [c.task.id for c in claims if c] == ["a-high", "b-low", "a-low"]


def test_lost_leases_are_requeued_with_backoff_then_failed(store: SqlStore) -> None:
    account = store.create_account("a")
    store.create_task(new_task(account.id, "t1"))
    claim = store.claim("w", -1)  # a lease that is already over: the worker "died"
    assert claim is not None
    assert store.requeue_lost_leases() == (1, 0)
    task = store.get_task("t1")
    assert task is not None and task.status is TaskStatus.QUEUED and task.attempts == 1
    assert store.heartbeat(claim, 30, 0.5) is None  # the dead worker's lease is gone
    with store.engine.begin() as conn:  # skip the backoff
        conn.execute(sa.text("UPDATE tasks SET available_at = 0"))
    second = store.claim("w2", -1)
    assert second is not None and second.task.attempts == 2
    assert store.requeue_lost_leases() == (0, 1)
    failed = store.get_task("t1")
    assert failed is not None and failed.status is TaskStatus.FAILED
    assert failed.error_message is not None and "stopped responding" in failed.error_message


def test_expire_overdue(store: SqlStore) -> None:
    account = store.create_account("a")
    store.create_task(new_task(account.id, "t1"))
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE tasks SET expires_at = 0"))
    assert store.claim("w", 30) is None  # an overdue task is never started
    assert store.expire_overdue() == 1
    task = store.get_task("t1")
    assert task is not None and task.status is TaskStatus.EXPIRED


def test_cancel_request_on_a_running_task(store: SqlStore) -> None:
    account = store.create_account("a")
    store.create_task(new_task(account.id, "t1"))
    claim = store.claim("w", 30)
    assert claim is not None
    assert store.heartbeat(claim, 30, 0.1) is False
    assert store.cancel_requested(claim) is False
    task = store.request_cancel("t1", account.id)
    assert task is not None and task.status is TaskStatus.RUNNING and task.cancel_requested
    assert store.cancel_requested(claim) is True
    assert store.heartbeat(claim, 30, 0.2) is True
    assert store.cancel_running(claim, 10)
    done = store.get_task("t1")
    assert done is not None and done.status is TaskStatus.CANCELLED


def test_callbacks_are_written_with_each_status_change(store: SqlStore) -> None:
    store.render_callback = lambda task: {"id": task.id, "status": task.status.value}
    account = store.create_account("a")
    request = parse_request(
        CATALOG, Submission(LITE, "a cat", {"callback_url": "https://example.com/hook"})
    )
    store.create_task(NewTask("t1", account.id, request, "preview", max_attempts=1))
    store.create_task(new_task(account.id, "no-callback"))
    claim = store.claim("w", 30, models=(LITE,))
    assert claim is not None and claim.task.id == "t1"
    store.complete(claim, TaskOutputs("k"), 1)
    states = store.callback_states("t1")
    assert [s.event for s in states] == ["queued", "running", "succeeded"]
    assert store.callback_states("no-callback") == []
    # One task's events go out one at a time, in order.
    sent = []
    while due := store.claim_callbacks("dispatcher", 10, 30):
        assert len(due) == 1 and due[0].secret == account.webhook_secret
        assert store.claim_callbacks("other", 10, 30) == []  # leased, and the rest wait
        sent.append(due[0].payload["status"])
        store.callback_delivered(due[0], "dispatcher")
    assert sent == ["queued", "running", "succeeded"]
