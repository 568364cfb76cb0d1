"""Task records: creating, reading, listing, cancelling and deleting tasks (the API's side)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kinema.domain.errors import InsufficientBalance, QuotaExceeded, RateLimited
from kinema.domain.task import TaskStatus
from kinema.store.base import NewTask, Task, TaskFilter, TaskPage
from kinema.store.engine import read_transaction, write_transaction
from kinema.store.ledger import move_money
from kinema.store.rows import task_from_row
from kinema.store.schema import accounts, tasks
from kinema.store.transitions import Transitions

IDEMPOTENCY_WINDOW_SECONDS = 86_400
TASKS_CHANNEL = "kinema_tasks"
"""The PostgreSQL NOTIFY channel that wakes idle workers when a task becomes claimable."""


class TaskRecords(Transitions):
    """The record-keeping half of the TaskStore contract."""

    def create_task(
        self,
        new: NewTask,
        max_queued: int | None = None,
        max_running: int | None = None,
        refuse_at_running_limit: bool = False,
    ) -> tuple[Task, bool]:
        """See the contract. Also, in the same transaction: refuses a task beyond the account's
        queued-task limit (``max_queued`` unless the account sets its own; 429 QuotaExceeded),
        with ``refuse_at_running_limit``, while it runs as many tasks as it may (the account's
        ``max_running``, else ``max_running``; 429 RateLimitExceeded), or beyond its balance
        (403); and holds the task's price."""
        with write_transaction(self.engine) as conn:
            # Lock the account row first (PostgreSQL) so that concurrent submits count queued
            # tasks one at a time; SQLite's BEGIN IMMEDIATE already serialises writers.
            account = conn.execute(
                sa.select(accounts.c.balance, accounts.c.max_queued, accounts.c.max_running)
                .where(accounts.c.id == new.account_id)
                .with_for_update()
            ).one()
            now = self._clock(conn)
            if new.idempotency_key is not None:
                earlier = self._idempotent_match(conn, new.account_id, new.idempotency_key, now)
                if earlier is not None:
                    return earlier, False
            limit = account.max_queued or max_queued
            if limit is not None:
                self._check_queue_quota(conn, new.account_id, limit)
            running_limit = account.max_running or max_running
            if refuse_at_running_limit and running_limit is not None:
                self._check_running(conn, new.account_id, running_limit)
            if new.price > account.balance:
                raise InsufficientBalance()
            request = new.request
            row = conn.execute(
                tasks.insert()
                .values(
                    id=new.id,
                    account_id=new.account_id,
                    model=request.model,
                    engine=new.engine,
                    status=TaskStatus.QUEUED.value,
                    request=request.to_json(),
                    service_tier=request.service_tier,
                    priority=request.priority,
                    idempotency_key=new.idempotency_key,
                    created_at=now,
                    updated_at=now,
                    expires_at=now + request.execution_expires_after,
                    available_at=now,
                    max_attempts=new.max_attempts,
                    base_url=new.base_url,
                    price=new.price,
                    video_seconds=new.video_seconds,
                    usage_tokens=request.usage_tokens,
                )
                .returning(*tasks.c)
            ).one()
            task = task_from_row(row)
            if new.price > 0:
                move_money(conn, account_id=new.account_id, kind="hold", amount=new.price,
                           key=f"{new.id}:hold", now=now, task_id=new.id)  # fmt: skip
            self._emit(conn, task, now)
            self._notify_new_task(conn)
            return task, True

    def _notify_new_task(self, conn: Connection) -> None:
        """Wake idle workers: PostgreSQL delivers the NOTIFY on commit; SQLite workers poll."""
        if self.engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"NOTIFY {TASKS_CHANNEL}")

    def _idempotent_match(
        self, conn: Connection, account_id: str, key: str, now: float
    ) -> Task | None:
        row = conn.execute(
            sa.select(tasks).where(tasks.c.account_id == account_id, tasks.c.idempotency_key == key)
        ).first()
        if row is None:
            return None
        if row.created_at > now - IDEMPOTENCY_WINDOW_SECONDS:
            return task_from_row(row)
        # The key is free again after its window: release it from the old task.
        conn.execute(tasks.update().where(tasks.c.id == row.id).values(idempotency_key=None))
        return None

    def find_by_idempotency_key(self, account_id: str, key: str) -> Task | None:
        with write_transaction(self.engine) as conn:
            return self._idempotent_match(conn, account_id, key, self._clock(conn))

    def _check_queue_quota(self, conn: Connection, account_id: str, max_queued: int) -> None:
        if self._count(conn, account_id, TaskStatus.QUEUED) >= max_queued:
            raise QuotaExceeded(
                f"too many queued tasks: this account may have at most {max_queued} queued",
                retry_after=5,
            )

    def _check_running(self, conn: Connection, account_id: str, max_running: int) -> None:
        if self._count(conn, account_id, TaskStatus.RUNNING) >= max_running:
            raise RateLimited(
                f"too many running tasks: this account may run at most {max_running} at once",
                retry_after=5,
            )

    def _count(self, conn: Connection, account_id: str, status: TaskStatus) -> int:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(tasks)
                .where(tasks.c.account_id == account_id, tasks.c.status == status.value)
            ).scalar_one()
        )

    def get_task(self, task_id: str, account_id: str | None = None) -> Task | None:
        query = sa.select(tasks).where(tasks.c.id == task_id)
        if account_id is not None:
            query = query.where(tasks.c.account_id == account_id)
        with read_transaction(self.engine) as conn:
            row = conn.execute(query).first()
        return task_from_row(row) if row else None

    def list_tasks(
        self, account_id: str, flt: TaskFilter, page_num: int, page_size: int
    ) -> TaskPage:
        where: list[sa.ColumnElement[bool]] = [tasks.c.account_id == account_id]
        if flt.statuses:
            where.append(tasks.c.status.in_([s.value for s in flt.statuses]))
        if flt.task_ids:
            where.append(tasks.c.id.in_(list(flt.task_ids)))
        if flt.model:
            where.append(tasks.c.model == flt.model)
        if flt.service_tier:
            where.append(tasks.c.service_tier == flt.service_tier)
        with read_transaction(self.engine) as conn:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(tasks).where(*where)
            ).scalar_one()
            rows = conn.execute(
                sa.select(tasks)
                .where(*where)
                .order_by(tasks.c.created_at.desc(), tasks.c.id.desc())
                .offset((page_num - 1) * page_size)
                .limit(page_size)
            ).all()
        return TaskPage(total=int(total), items=[task_from_row(row) for row in rows])

    def queue_position(self, task: Task) -> int:
        ahead = sa.or_(
            tasks.c.priority > task.request.priority,
            sa.and_(
                tasks.c.priority == task.request.priority,
                sa.or_(
                    tasks.c.created_at < task.created_at,
                    sa.and_(tasks.c.created_at == task.created_at, tasks.c.id < task.id),
                ),
            ),
        )
        with read_transaction(self.engine) as conn:
            count = conn.execute(
                sa.select(sa.func.count())
                .select_from(tasks)
                .where(tasks.c.status == TaskStatus.QUEUED.value, ahead)
            ).scalar_one()
        return int(count)

    def cancel_queued(self, task_id: str, account_id: str) -> Task | None:
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            changed = self._transition(
                conn,
                sa.and_(
                    tasks.c.id == task_id,
                    tasks.c.account_id == account_id,
                    tasks.c.status == TaskStatus.QUEUED.value,
                ),
                TaskStatus.CANCELLED,
                now,
                finished_at=now,
            )
            return changed[0] if changed else None

    def request_cancel(self, task_id: str, account_id: str) -> Task | None:
        """Cancel a queued task at once, or ask the worker running it to stop.

        Returns the task as it now is (None if unknown); a running task stays ``running`` with
        ``cancel_requested`` until its worker has stopped it.
        """
        cancelled = self.cancel_queued(task_id, account_id)
        if cancelled is not None:
            return cancelled
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                tasks.update()
                .where(
                    tasks.c.id == task_id,
                    tasks.c.account_id == account_id,
                    tasks.c.status == TaskStatus.RUNNING.value,
                )
                .values(cancel_requested=True)
                .returning(*tasks.c)
            ).first()
            if row is None:
                row = conn.execute(
                    sa.select(tasks).where(tasks.c.id == task_id, tasks.c.account_id == account_id)
                ).first()
            return task_from_row(row) if row else None

    def delete_task(self, task_id: str, account_id: str) -> Task | None:
        deletable = [s.value for s in TaskStatus if s.terminal and s is not TaskStatus.CANCELLED]
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                tasks.delete()
                .where(
                    tasks.c.id == task_id,
                    tasks.c.account_id == account_id,
                    tasks.c.status.in_(deletable),
                )
                .returning(*tasks.c)
            ).first()
            return task_from_row(row) if row else None
