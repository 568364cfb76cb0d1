"""The task lifecycle as a hypothesis state machine, run against the real store on both databases.

Hypothesis drives random sequences of every operation that changes a task (submit, claim with a
live or an already-dead lease, heartbeat, complete, fail, release, cancel in all its forms,
delete, the reaper's requeue and expiry, and writes from workers that lost their lease) while a
small model predicts each task's status, attempts, cancel flag and lease. After every step the
database itself is read and checked against the model and against the lifecycle's rules:

* a terminal status is never left (a deletable one may only disappear, through ``delete_task``);
* every status change is one ``kinema.domain.task.can_transition`` allows;
* a stale or forged claim's writes change nothing;
* a running task holds exactly the lease of its one live claim, others hold none;
* a running task never uses more than ``max_attempts`` attempts;
* the outbox holds one callback per status the task went through, in order, each with the
  status it reports (no transition skips the database).

At the end of the file, regression tests pin down races found by this machine: a cancel lost by
a requeue, a late release overwriting a newer claim, two reapers requeueing a fresh claim.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import event

from kinema.domain.catalog import Catalog
from kinema.domain.request import Submission, parse_request
from kinema.domain.task import TaskStatus, can_transition
from kinema.store.base import Claim, NewTask, TaskOutputs
from kinema.store.sql import SqlStore
from tests.store.conftest import empty_tables

CATALOG = Catalog()
LITE = "seedance-1-0-lite-t2v-250428"
HOOK = "https://example.com/hook"
LEASE = 30.0
DEAD = -1.0
"""A lease that is over as soon as it is granted: the worker holding it "died"."""

MACHINE_SETTINGS = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

S = TaskStatus
pick = st.integers(min_value=0, max_value=255)
"""An index into whichever candidates a rule chooses from (taken modulo their number)."""
TaskSpec = tuple[int, int, int, bool]
"""(account index, priority, max_attempts, has a callback_url)"""
task_specs = st.tuples(
    st.integers(0, 1), st.sampled_from([0, 0, 1, 5]), st.integers(1, 3), st.booleans()
)


def new_task(account_id: str, task_id: str, *, priority: int = 0, max_attempts: int = 2,
             callback: bool = False) -> NewTask:  # fmt: skip
    fields: dict[str, Any] = {"priority": priority}
    if callback:
        fields["callback_url"] = HOOK
    request = parse_request(CATALOG, Submission(LITE, "a cat", fields))
    return NewTask(task_id, account_id, request, "preview", max_attempts=max_attempts)


# -- the model ----------------------------------------------------------------------------------


@dataclass
class Expected:
    """What the store should hold for one task."""

    id: str
    account: str
    priority: int
    max_attempts: int
    callback: bool
    status: TaskStatus = S.QUEUED
    attempts: int = 0
    cancel_requested: bool = False
    available: bool = True
    """Past its retry backoff."""
    overdue: bool = False
    """Past ``expires_at`` (made so by the test)."""
    lease_over: bool = False
    claim: Claim | None = None
    """The one live claim, while running."""
    deleted: bool = False
    seen: list[str] = field(default_factory=lambda: [S.QUEUED.value])
    """Every status observed in the database, in order."""

    @property
    def claimable(self) -> bool:
        return self.status is S.QUEUED and self.available and not self.overdue


class TaskLifecycle(RuleBasedStateMachine):
    """Random task lifecycles against ``store``; subclasses bind the store."""

    store: ClassVar[SqlStore]

    def __init__(self) -> None:
        super().__init__()
        empty_tables(self.store)
        self.accounts = [self.store.create_account(name).id for name in ("a", "b")]
        self.tasks: dict[str, Expected] = {}
        self.stale: list[Claim] = []
        self.tokens: set[str] = set()

    # -- helpers ---------------------------------------------------------------------------------

    def _choose(self, candidates: list[Expected], index: int) -> Expected:
        return candidates[index % len(candidates)]

    def _where(self, predicate: Callable[[Expected], bool]) -> list[Expected]:
        return [t for t in self.tasks.values() if not t.deleted and predicate(t)]

    def _live(self) -> list[Expected]:
        return self._where(lambda t: t.claim is not None)

    def _move(self, task: Expected, status: TaskStatus) -> None:
        """Expect ``status`` next; a claim the task held is stale from now on."""
        task.status = status
        if task.claim is not None:
            self.stale.append(task.claim)
            task.claim = None
        task.lease_over = False

    def _other_account(self, task: Expected) -> str:
        return next(a for a in self.accounts if a != task.account)

    def _row(self, task_id: str) -> dict[str, Any] | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT * FROM tasks WHERE id = :id"), {"id": task_id})
            found = row.mappings().first()
            outbox = conn.execute(
                sa.text("SELECT count(*) FROM outbox WHERE task_id = :id"), {"id": task_id}
            ).scalar_one()
        return None if found is None else {**found, "outbox_rows": outbox}

    # -- the API's side --------------------------------------------------------------------------

    def _submit(self, spec: TaskSpec) -> None:
        account, priority, max_attempts, callback = spec
        task_id = f"t{len(self.tasks):04d}"  # ids sort in creation order, like created_at
        new = new_task(self.accounts[account], task_id, priority=priority,
                       max_attempts=max_attempts, callback=callback)  # fmt: skip
        task, created = self.store.create_task(new)
        assert created and task.status is S.QUEUED and task.attempts == 0
        self.tasks[task_id] = Expected(
            task_id, self.accounts[account], priority, max_attempts, callback
        )

    @initialize(specs=st.lists(task_specs, min_size=1, max_size=4))
    def create_some_tasks(self, specs: list[TaskSpec]) -> None:
        for spec in specs:
            self._submit(spec)

    @rule(spec=task_specs)
    def create_task(self, spec: TaskSpec) -> None:
        self._submit(spec)

    @precondition(lambda self: self.tasks)
    @rule(index=pick, wrong_account=st.booleans())
    def request_cancel(self, index: int, wrong_account: bool) -> None:
        task = self._choose(list(self.tasks.values()), index)
        account = self._other_account(task) if wrong_account else task.account
        got = self.store.request_cancel(task.id, account)
        if wrong_account or task.deleted:
            assert got is None
            return
        if task.status is S.QUEUED:
            self._move(task, S.CANCELLED)
        elif task.status is S.RUNNING:
            task.cancel_requested = True
        assert got is not None and got.status is task.status
        assert got.cancel_requested == task.cancel_requested

    @precondition(lambda self: self.tasks)
    @rule(index=pick, queued_only=st.booleans())
    def cancel_queued(self, index: int, queued_only: bool) -> None:
        queued = [t for t in self.tasks.values() if t.status is S.QUEUED and not t.deleted]
        task = self._choose(queued if queued_only and queued else list(self.tasks.values()), index)
        got = self.store.cancel_queued(task.id, task.account)
        if task.status is S.QUEUED and not task.deleted:
            self._move(task, S.CANCELLED)
            assert got is not None and got.status is S.CANCELLED
        else:
            assert got is None

    @precondition(lambda self: self.tasks)
    @rule(index=pick, wrong_account=st.booleans(), finished_only=st.booleans())
    def delete_task(self, index: int, wrong_account: bool, finished_only: bool) -> None:
        finished = [t for t in self.tasks.values() if t.status.terminal]
        task = self._choose(
            finished if finished_only and finished else list(self.tasks.values()), index
        )
        account = self._other_account(task) if wrong_account else task.account
        got = self.store.delete_task(task.id, account)
        deletable = task.status.terminal and task.status is not S.CANCELLED
        if deletable and not task.deleted and not wrong_account:
            assert got is not None and got.id == task.id and got.status is task.status
            task.deleted = True
        else:
            assert got is None

    # -- the workers' side -----------------------------------------------------------------------

    @precondition(lambda self: self._where(lambda t: t.status is S.QUEUED))
    @rule(owner=st.sampled_from(["w1", "w2"]), dead=st.booleans())
    def claim(self, owner: str, dead: bool) -> None:
        claim = self.store.claim(owner, DEAD if dead else LEASE)
        claimable = self._where(lambda t: t.claimable)
        if not claimable:
            assert claim is None
            return
        assert claim is not None, f"nothing claimed though {[t.id for t in claimable]} wait"
        task = self.tasks[claim.task.id]
        assert task in claimable
        top = max(t.priority for t in claimable)
        assert task.priority == top, "a lower priority was claimed first"
        # Accounts take turns, but within one account the oldest task goes first.
        peers = [t.id for t in claimable if t.account == task.account and t.priority == top]
        assert task.id == min(peers)
        assert claim.token not in self.tokens
        self.tokens.add(claim.token)
        task.status, task.claim, task.lease_over = S.RUNNING, claim, dead
        task.attempts += 1
        # A requeue ends a task whose cancel was requested, so no claim ever sees one.
        assert not task.cancel_requested
        assert claim.task.status is S.RUNNING and claim.task.attempts == task.attempts

    @precondition(lambda self: self._live())
    @rule(index=pick, lease=st.sampled_from([LEASE, DEAD]))
    def heartbeat(self, index: int, lease: float) -> None:
        task = self._choose(self._live(), index)
        assert task.claim is not None
        assert self.store.heartbeat(task.claim, lease, 0.5) is task.cancel_requested
        task.lease_over = lease < 0

    @precondition(lambda self: self._live())
    @rule(index=pick, outcome=st.sampled_from([S.SUCCEEDED, S.FAILED, S.CANCELLED]))
    def finish(self, index: int, outcome: TaskStatus) -> None:
        task = self._choose(self._live(), index)
        assert task.claim is not None
        if outcome is S.SUCCEEDED:
            done = self.store.complete(task.claim, TaskOutputs(f"outputs/{task.id}/v.mp4"), 5)
        elif outcome is S.FAILED:
            done = self.store.fail(task.claim, "InternalServiceError", "boom", 5)
        else:
            done = self.store.cancel_running(task.claim, 5)
        assert done
        self._move(task, outcome)

    @precondition(lambda self: self._live())
    @rule(index=pick, count_attempt=st.booleans(), delay=st.sampled_from([0.0, 60.0]))
    def release(self, index: int, count_attempt: bool, delay: float) -> None:
        task = self._choose(self._live(), index)
        assert task.claim is not None
        got = self.store.release(task.claim, retry_delay=delay, reason="r",
                                 count_attempt=count_attempt)  # fmt: skip
        if task.cancel_requested:
            self._move(task, S.CANCELLED)
        elif count_attempt and task.attempts >= task.max_attempts:
            self._move(task, S.FAILED)
        else:
            self._move(task, S.QUEUED)
            task.attempts -= 0 if count_attempt else 1
            task.available = delay == 0
        assert got is task.status

    @precondition(lambda self: self.stale or self._live())
    @rule(index=pick, forged=st.booleans(), write=st.integers(0, 5))
    def stale_write(self, index: int, forged: bool, write: int) -> None:
        """A worker that lost its lease (or never had it) writes: nothing may change."""
        if not self.stale or (forged and self._live()):
            live = self._choose(self._live(), index).claim
            assert live is not None
            claim = Claim(task=live.task, owner=live.owner, token="forged")
        else:
            claim = self.stale[index % len(self.stale)]
        before = self._row(claim.task.id)
        writes: list[Callable[[], object]] = [
            lambda: self.store.heartbeat(claim, LEASE, 0.9),
            lambda: self.store.complete(claim, TaskOutputs("late"), 1),
            lambda: self.store.fail(claim, "X", "late", 1),
            lambda: self.store.cancel_running(claim, 1),
            lambda: self.store.release(claim, retry_delay=0, reason="late"),
            lambda: self.store.release(claim, retry_delay=0, reason="late", count_attempt=False),
        ]
        assert writes[write]() in (None, False)
        assert self._row(claim.task.id) == before

    # -- the reaper ------------------------------------------------------------------------------

    @precondition(lambda self: self._where(lambda t: t.status is S.RUNNING))
    @rule()
    def requeue_lost_leases(self) -> None:
        requeued = failed = 0
        for task in self._where(lambda t: t.status is S.RUNNING and t.lease_over):
            if task.cancel_requested:
                self._move(task, S.CANCELLED)
            elif task.attempts >= task.max_attempts:
                self._move(task, S.FAILED)
                failed += 1
            else:
                self._move(task, S.QUEUED)
                task.available = False  # backoff of at least a second
                requeued += 1
        assert self.store.requeue_lost_leases() == (requeued, failed)

    @precondition(lambda self: self._where(lambda t: t.status is S.QUEUED and not t.available))
    @rule()
    def backoff_ends(self) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE tasks SET available_at = 0"))
        for task in self.tasks.values():
            task.available = True

    @precondition(lambda self: self._where(lambda t: not t.status.terminal))
    @rule(index=pick)
    def make_overdue(self, index: int) -> None:
        task = self._choose(self._where(lambda t: not t.status.terminal), index)
        with self.store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE tasks SET expires_at = 0 WHERE id = :id"), {"id": task.id})
        task.overdue = True

    @precondition(lambda self: self._where(lambda t: not t.status.terminal))
    @rule()
    def expire_overdue(self) -> None:
        due = self._where(lambda t: t.overdue and t.status in (S.QUEUED, S.RUNNING))
        for task in due:
            self._move(task, S.EXPIRED)
        assert self.store.expire_overdue() == len(due)

    # -- what must always hold -------------------------------------------------------------------

    @invariant()
    def database_matches_the_lifecycle(self) -> None:
        with self.store.engine.connect() as conn:
            now = self.store.now()
            rows = {r.id: r for r in conn.execute(sa.text("SELECT * FROM tasks")).all()}
            events = conn.execute(
                sa.text("SELECT task_id, event, payload FROM outbox ORDER BY id")
            ).all()
        for task in self.tasks.values():
            row = rows.pop(task.id, None)
            self._check_status(task, row)
            if row is not None:
                self._check_lease(task, row, now)
        assert not rows, f"rows the model does not know: {sorted(rows)}"
        self._check_outbox(events)
        for claim in self.stale:
            live = self.tasks[claim.task.id].claim
            assert live is None or live.token != claim.token

    def _check_status(self, task: Expected, row: Any) -> None:
        last = TaskStatus(task.seen[-1])
        if row is None:
            assert task.deleted, f"{task.id} vanished"
            assert last.terminal and last is not S.CANCELLED, f"{task.id} deleted while {last}"
            return
        status = TaskStatus(row.status)
        if status is not last:
            assert not last.terminal, f"{task.id} left terminal {last} for {status}"
            assert can_transition(last, status), f"{task.id}: {last} → {status}"
            task.seen.append(status.value)
        assert status is task.status, f"{task.id} is {status}, expected {task.status}"
        assert row.attempts == task.attempts
        assert bool(row.cancel_requested) == task.cancel_requested

    def _check_lease(self, task: Expected, row: Any, now: float) -> None:
        lease = (row.lease_owner, row.lease_token)
        if task.status is not S.RUNNING:
            assert lease == (None, None) and row.lease_expires_at is None
            return
        assert task.claim is not None
        assert lease == (task.claim.owner, task.claim.token), "not the live claim's lease"
        assert (row.lease_expires_at < now) == task.lease_over
        assert 1 <= row.attempts <= row.max_attempts

    def _check_outbox(self, events: Sequence[Any]) -> None:
        by_task: dict[str, list[str]] = {}
        for task_id, status, payload in events:
            body = payload if isinstance(payload, dict) else json.loads(payload)
            assert body == {"id": task_id, "status": status}
            by_task.setdefault(task_id, []).append(status)
        for task in self.tasks.values():
            expected = task.seen if task.callback else []
            assert by_task.pop(task.id, []) == expected, f"{task.id}'s callbacks"
        assert not by_task

    def teardown(self) -> None:
        # The same, through the store's own view of the outbox.
        for task in self.tasks.values():
            events = [state.event for state in self.store.callback_states(task.id)]
            assert events == (task.seen if task.callback else [])


def test_task_lifecycle(store: SqlStore) -> None:
    store.render_callback = lambda task: {"id": task.id, "status": task.status.value}
    machine = type("BoundTaskLifecycle", (TaskLifecycle,), {"store": store})
    run_state_machine_as_test(machine, settings=MACHINE_SETTINGS)  # type: ignore[no-untyped-call]


# -- races and requeues that once lost work (regression tests) ---------------------------------


def skip_backoff(store: SqlStore) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE tasks SET available_at = 0"))


@pytest.mark.parametrize("how", ["worker shut down", "worker died"])
def test_a_cancel_request_survives_a_requeue(store: SqlStore, how: str) -> None:
    empty_tables(store)
    account = store.create_account("a").id
    store.create_task(new_task(account, "t1", max_attempts=3))
    first = store.claim("w1", DEAD if how == "worker died" else LEASE)
    assert first is not None
    cancelling = store.request_cancel("t1", account)
    # The client is told the task is running and will stop (``cancel_requested`` in its view).
    assert cancelling is not None and cancelling.status is S.RUNNING
    assert cancelling.cancel_requested
    if how == "worker shut down":  # the runner's _hand_back on an orderly shutdown
        store.release(first, retry_delay=0, reason=how, count_attempt=False)
    else:
        store.requeue_lost_leases()
        skip_backoff(store)
    again = store.claim("w2", LEASE)
    # Either the requeue cancelled the task, or the next worker is told to stop at once; not
    # a fresh run to completion of a task the client cancelled.
    assert again is None or store.heartbeat(again, LEASE, 0.0) is True, "cancel forgotten"


@dataclass
class Meanwhile:
    """What another process did while the operation under test was between its read and write:
    a reaper's requeue and, once the first retry's backoff (1 s) was over, a healthy worker's
    claim."""

    requeued: tuple[int, int] | None = None
    claim: Claim | None = None
    error: BaseException | None = None

    def run(self, store: SqlStore) -> None:
        try:
            self.requeued = store.requeue_lost_leases()
            time.sleep(1.1)
            self.claim = store.claim("w2", LEASE)
        except BaseException as exc:  # re-raised in the test's thread
            self.error = exc


@contextmanager
def between_read_and_write(store: SqlStore) -> Iterator[Meanwhile]:
    """Run a :class:`Meanwhile` in another thread (other connections) just before the next
    ``UPDATE tasks`` of the operation under test: after it read the row, before it writes it.

    On PostgreSQL a plain SELECT locks nothing, so another process can do exactly this. If the
    operation holds the row lock (a fix with SELECT ... FOR UPDATE), the other thread blocks
    until it commits: after a few seconds the operation goes on, and the two happen one after
    the other, which the tests accept too.
    """
    meanwhile = Meanwhile()
    others: list[threading.Thread] = []

    def before_update(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not others and statement.lstrip().upper().startswith("UPDATE TASKS"):
            others.append(threading.Thread(target=meanwhile.run, args=(store,)))
            others[0].start()
            others[0].join(timeout=4)

    event.listen(store.engine, "before_cursor_execute", before_update)
    try:
        yield meanwhile
    finally:
        event.remove(store.engine, "before_cursor_execute", before_update)
    assert others, "the operation never updated the task"
    others[0].join(timeout=30)
    if meanwhile.error is not None:
        raise meanwhile.error


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[SqlStore]:
    store = SqlStore(pg_url)
    empty_tables(store)
    yield store
    store.close()


def test_a_late_release_cannot_take_a_newer_claim(pg_store: SqlStore) -> None:
    account = pg_store.create_account("a").id
    pg_store.create_task(new_task(account, "t1", max_attempts=3))
    stalled = pg_store.claim("w1", DEAD)  # its lease is over: it stalled, it did not die
    assert stalled is not None
    with between_read_and_write(pg_store) as meanwhile:
        handed_back = pg_store.release(stalled, retry_delay=0, reason="shutdown",
                                       count_attempt=False)  # fmt: skip
    # Any order is fine — the release first (the reaper and the claimer skip the row it holds
    # locked, or find it requeued), or the reaper and the new claim first (then the release
    # finds its lease gone) — as long as a newer claim, if there is one, still holds the task.
    if meanwhile.claim is None:
        assert handed_back is S.QUEUED and meanwhile.requeued == (0, 0)
        task = pg_store.get_task("t1")
        assert task is not None and task.status is S.QUEUED and task.attempts == 0
        return
    if handed_back is None:
        assert meanwhile.requeued == (1, 0)
    task = pg_store.get_task("t1")
    assert task is not None and task.status is S.RUNNING
    assert pg_store.heartbeat(meanwhile.claim, LEASE, 0.1) is False, "the newer claim lost it"


def test_a_second_reaper_cannot_requeue_a_fresh_claim(pg_store: SqlStore) -> None:
    account = pg_store.create_account("a").id
    pg_store.create_task(new_task(account, "t1", max_attempts=2))
    assert pg_store.claim("w1", DEAD) is not None  # the worker died: attempt 1 is lost
    with between_read_and_write(pg_store) as meanwhile:
        second_reaper = pg_store.requeue_lost_leases()
    # The lost lease is requeued once, by one reaper or the other, and the fresh claim holds.
    assert meanwhile.requeued is not None
    assert second_reaper[0] + meanwhile.requeued[0] == 1, "requeued twice"
    if meanwhile.claim is None:  # the other reaper and the claimer skipped the locked row
        task = pg_store.get_task("t1")
        assert task is not None and task.status is S.QUEUED and task.attempts == 1
        return
    assert pg_store.heartbeat(meanwhile.claim, LEASE, 0.1) is False, "the fresh claim lost it"
