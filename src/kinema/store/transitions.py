"""The one way a task's status changes: a conditional UPDATE that also writes the callback.

Every status change goes through :meth:`Transitions._transition`, so none can skip the database
and each one with a ``callback_url`` puts its callback in the outbox in the same transaction
(ARCHITECTURE.md decision 7): a change is never reported without being durable, and never
durable without being reported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from kinema.domain.task import TaskStatus
from kinema.store.base import Task
from kinema.store.ledger import move_money
from kinema.store.rows import task_from_row
from kinema.store.schema import outbox, tasks

CallbackRenderer = Callable[[Task], dict[str, Any]]
"""Turns a task into the body POSTed to its ``callback_url`` (the Ark task object)."""


class Transitions:
    """Shared state of the store's parts: the engine, the database clock, the callback renderer."""

    engine: Engine
    _now: sa.ColumnElement[float]
    render_callback: CallbackRenderer | None

    def _clock(self, conn: Connection) -> float:
        return float(conn.execute(sa.select(self._now)).scalar_one())

    def _transition(
        self,
        conn: Connection,
        where: sa.ColumnElement[bool],
        status: TaskStatus,
        now: float,
        **values: Any,
    ) -> list[Task]:
        """Move every task matching ``where`` to ``status``; returns them as they now are."""
        rows = conn.execute(
            tasks.update()
            .where(where)
            .values(status=status.value, updated_at=now, **values)
            .returning(*tasks.c)
        ).all()
        changed = [task_from_row(row) for row in rows]
        for task in changed:
            if task.status.terminal and task.price > 0:
                self._settle_money(conn, task, now)
            self._emit(conn, task, now)
        return changed

    def _settle_money(self, conn: Connection, task: Task, now: float) -> None:
        """Capture the task's hold on success, release it otherwise; one key, so only once."""
        kind = "capture" if task.status is TaskStatus.SUCCEEDED else "release"
        move_money(conn, account_id=task.account_id, kind=kind, amount=task.price,
                   key=f"{task.id}:settle", now=now, task_id=task.id,
                   note=f"task {task.status.value}")  # fmt: skip

    def _emit(self, conn: Connection, task: Task, now: float) -> None:
        """Queue the callback for ``task``'s current status, if it has a callback URL."""
        url = task.request.callback_url
        if not url or self.render_callback is None:
            return
        conn.execute(
            outbox.insert().values(
                task_id=task.id,
                account_id=task.account_id,
                url=url,
                event=task.status.value,
                payload=self.render_callback(task),
                created_at=now,
                next_attempt_at=now,
            )
        )
