"""The queue: claiming tasks with leases, heartbeats, and finishing them — every write fenced.

Claims are fair: the highest priority first; among equal priorities the account whose task was
claimed longest ago goes next (accounts take turns), then the oldest task of that account.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from kinema.domain.task import TaskStatus
from kinema.store.base import Claim, TaskOutputs
from kinema.store.engine import read_transaction, write_transaction
from kinema.store.records import TaskRecords
from kinema.store.schema import accounts, outbox, tasks

LEASE_CLEARED: dict[str, Any] = {"lease_owner": None, "lease_token": None, "lease_expires_at": None}


class Queue(TaskRecords):
    """The workers' half of the TaskStore contract."""

    def claim(
        self,
        owner: str,
        lease_seconds: float,
        models: Sequence[str] = (),
        max_running: int | None = None,
    ) -> Claim | None:
        """See the contract. ``max_running`` is the default cap on an account's running tasks
        (an account's own ``max_running`` wins); an account at its cap is passed over."""
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            full: set[str] = set()
            while (picked := self._next_candidate(conn, now, models, full)) is not None:
                limit = picked.max_running or max_running
                if limit is None or self._running_count(conn, picked.account_id) < limit:
                    return self._lease(conn, picked, owner, lease_seconds, now)
                full.add(picked.account_id)
            return None

    def _next_candidate(
        self, conn: Connection, now: float, models: Sequence[str], skip_accounts: set[str]
    ) -> Row[Any, Any, Any] | None:
        query = (
            sa.select(tasks.c.id, tasks.c.account_id, accounts.c.max_running)
            .join(accounts, accounts.c.id == tasks.c.account_id)
            .where(
                tasks.c.status == TaskStatus.QUEUED.value,
                tasks.c.available_at <= now,
                tasks.c.expires_at > now,
            )
            .order_by(
                tasks.c.priority.desc(),
                sa.func.coalesce(accounts.c.last_claimed_at, 0.0),
                tasks.c.created_at,
                tasks.c.id,
            )
            .limit(1)
            .with_for_update(skip_locked=True, of=tasks)
        )
        if models:
            query = query.where(tasks.c.model.in_(list(models)))
        if skip_accounts:
            query = query.where(tasks.c.account_id.not_in(list(skip_accounts)))
        return conn.execute(query).first()

    def _running_count(self, conn: Connection, account_id: str) -> int:
        # Task row first, then the account row, locked before counting: two claimers on
        # PostgreSQL cannot both take the account's last running slot.
        conn.execute(sa.select(accounts.c.id).where(accounts.c.id == account_id).with_for_update())
        return self._count(conn, account_id, TaskStatus.RUNNING)

    def _lease(
        self,
        conn: Connection,
        picked: Row[Any, Any, Any],
        owner: str,
        lease_seconds: float,
        now: float,
    ) -> Claim:
        token = secrets.token_hex(16)
        (task,) = self._transition(
            conn,
            tasks.c.id == picked.id,
            TaskStatus.RUNNING,
            now,
            lease_owner=owner,
            lease_token=token,
            lease_expires_at=now + lease_seconds,
            attempts=tasks.c.attempts + 1,
            started_at=sa.func.coalesce(tasks.c.started_at, now),
            progress=0.0,
        )
        conn.execute(
            accounts.update().where(accounts.c.id == picked.account_id).values(last_claimed_at=now)
        )
        return Claim(task=task, owner=owner, token=token)

    def _fenced(self, claim: Claim) -> sa.ColumnElement[bool]:
        return sa.and_(
            tasks.c.id == claim.task.id,
            tasks.c.status == TaskStatus.RUNNING.value,
            tasks.c.lease_owner == claim.owner,
            tasks.c.lease_token == claim.token,
        )

    def heartbeat(self, claim: Claim, lease_seconds: float, progress: float) -> bool | None:
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            row = conn.execute(
                tasks.update()
                .where(self._fenced(claim))
                .values(lease_expires_at=now + lease_seconds, progress=progress)
                .returning(tasks.c.cancel_requested)
            ).first()
            return None if row is None else bool(row.cancel_requested)

    def cancel_requested(self, claim: Claim) -> bool | None:
        """A cheap read between heartbeats: None if the lease is lost, else the cancel flag."""
        with read_transaction(self.engine) as conn:
            flag = conn.execute(
                sa.select(tasks.c.cancel_requested).where(self._fenced(claim))
            ).scalar()
        return None if flag is None else bool(flag)

    def complete(self, claim: Claim, outputs: TaskOutputs, execution_ms: int) -> bool:
        return self._finish(
            claim,
            TaskStatus.SUCCEEDED,
            outputs=outputs.to_json(),
            progress=1.0,
            execution_ms=execution_ms,
        )

    def fail(self, claim: Claim, code: str, message: str, execution_ms: int) -> bool:
        return self._finish(
            claim,
            TaskStatus.FAILED,
            error_code=code,
            error_message=message,
            execution_ms=execution_ms,
        )

    def cancel_running(self, claim: Claim, execution_ms: int) -> bool:
        """running → cancelled once the engine stopped, fenced by the lease."""
        return self._finish(claim, TaskStatus.CANCELLED, execution_ms=execution_ms)

    def _finish(self, claim: Claim, status: TaskStatus, **values: Any) -> bool:
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            changed = self._transition(
                conn, self._fenced(claim), status, now, finished_at=now, **LEASE_CLEARED, **values
            )
            return bool(changed)

    def release(
        self, claim: Claim, *, retry_delay: float, reason: str, count_attempt: bool = True
    ) -> TaskStatus | None:
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            # Lock the row while it is still ours: a reaper and a new claim cannot slip in
            # between this read and the write below (PostgreSQL; SQLite is already serial).
            row = conn.execute(
                sa.select(tasks.c.attempts, tasks.c.max_attempts, tasks.c.cancel_requested)
                .where(self._fenced(claim))
                .with_for_update()
            ).first()
            if row is None:
                return None
            return self._requeue(conn, self._fenced(claim), row, now, retry_delay,
                                 reason, count_attempt)  # fmt: skip

    def _requeue(
        self,
        conn: Connection,
        where: sa.ColumnElement[bool],
        row: Any,
        now: float,
        retry_delay: float,
        reason: str,
        count_attempt: bool,
    ) -> TaskStatus:
        """Put a running task back in the queue — or end it: cancelled if its owner asked for
        that (a requeue must not forget a cancel), failed if it used all its attempts."""
        if row.cancel_requested:
            self._transition(conn, where, TaskStatus.CANCELLED, now, finished_at=now,
                             **LEASE_CLEARED)  # fmt: skip
            return TaskStatus.CANCELLED
        if count_attempt and row.attempts >= row.max_attempts:
            self._transition(
                conn, where, TaskStatus.FAILED, now, finished_at=now, **LEASE_CLEARED,
                error_code="InternalServiceError",
                error_message=f"{reason} (gave up after {row.attempts} attempts)",
            )  # fmt: skip
            return TaskStatus.FAILED
        self._transition(
            conn, where, TaskStatus.QUEUED, now, **LEASE_CLEARED,
            available_at=now + retry_delay, progress=0.0,
            attempts=row.attempts if count_attempt else row.attempts - 1,
        )  # fmt: skip
        self._notify_new_task(conn)
        return TaskStatus.QUEUED

    def requeue_lost_leases(self, max_backoff: float = 60.0) -> tuple[int, int]:
        """Requeue running tasks whose lease expired (a worker died or hung), with backoff;
        fail those that used all their attempts, cancel those whose owner asked. Returns
        (requeued, failed). Safe with several reapers at once: each row is locked and its
        lease checked again by the write itself."""
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            lost = sa.and_(
                tasks.c.status == TaskStatus.RUNNING.value, tasks.c.lease_expires_at < now
            )
            rows = conn.execute(
                sa.select(tasks.c.id, tasks.c.attempts, tasks.c.max_attempts,
                          tasks.c.cancel_requested)
                .where(lost)
                .with_for_update(skip_locked=True)
            ).all()  # fmt: skip
            counts = {TaskStatus.QUEUED: 0, TaskStatus.FAILED: 0, TaskStatus.CANCELLED: 0}
            for row in rows:
                delay = min(2.0 ** (row.attempts - 1), max_backoff)
                outcome = self._requeue(
                    conn, sa.and_(tasks.c.id == row.id, lost), row, now, delay,
                    "the worker running the task stopped responding", count_attempt=True,
                )  # fmt: skip
                counts[outcome] += 1
            return counts[TaskStatus.QUEUED], counts[TaskStatus.FAILED]

    def expire_overdue(self) -> int:
        """queued/running → expired for tasks past ``execution_expires_after``."""
        unfinished = [TaskStatus.QUEUED.value, TaskStatus.RUNNING.value]
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            expired = self._transition(
                conn,
                sa.and_(tasks.c.status.in_(unfinished), tasks.c.expires_at <= now),
                TaskStatus.EXPIRED,
                now,
                finished_at=now,
                error_code="TaskExpired",
                error_message="the task did not finish within its execution_expires_after",
                **LEASE_CLEARED,
            )
            return len(expired)

    def outputs_past(self, lifetime_seconds: float) -> list[str]:
        """Mark the outputs of tasks finished more than ``lifetime_seconds`` ago as purged and
        return those tasks' ids (the caller deletes the files)."""
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            rows = conn.execute(
                tasks.update()
                .where(
                    tasks.c.finished_at < now - lifetime_seconds,
                    tasks.c.files_purged == sa.false(),
                )
                .values(files_purged=True)
                .returning(tasks.c.id)
            ).all()
            return [row.id for row in rows]

    def delete_records_past(self, lifetime_seconds: float) -> list[str]:
        """Delete finished task records (and callbacks) created more than ``lifetime_seconds``
        ago; returns the deleted tasks' ids."""
        terminal = [s.value for s in TaskStatus if s.terminal]
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            rows = conn.execute(
                tasks.delete()
                .where(tasks.c.status.in_(terminal), tasks.c.created_at < now - lifetime_seconds)
                .returning(tasks.c.id)
            ).all()
            # Callbacks are kept as long as records, also those of tasks deleted by their owner.
            conn.execute(outbox.delete().where(outbox.c.created_at < now - lifetime_seconds))
            return [row.id for row in rows]
