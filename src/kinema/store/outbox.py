"""The callbacks outbox: deliveries leased to dispatchers, retried, and dead-lettered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from kinema.store.engine import read_transaction, write_transaction
from kinema.store.queue import Queue
from kinema.store.schema import accounts, outbox


@dataclass(frozen=True)
class Callback:
    """One pending delivery of a task's status to its ``callback_url``."""

    id: int
    task_id: str
    url: str
    event: str
    payload: dict[str, Any]
    attempts: int
    """Including this one."""
    secret: str
    """The account's webhook secret, to sign the delivery with."""


@dataclass(frozen=True)
class CallbackState:
    """What became of a delivery (for tests and operators)."""

    id: int
    task_id: str
    event: str
    attempts: int
    delivered: bool
    dead: bool
    last_error: str | None


class Outbox(Queue):
    """Deliveries: each is leased to one dispatcher at a time, like tasks to workers."""

    def claim_callbacks(self, owner: str, limit: int, lease_seconds: float) -> list[Callback]:
        """Lease up to ``limit`` due deliveries to ``owner`` (attempts + 1 each)."""
        earlier = outbox.alias("earlier")
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            rows = conn.execute(
                sa.select(outbox, accounts.c.webhook_secret)
                .join(accounts, accounts.c.id == outbox.c.account_id)
                .where(
                    outbox.c.delivered_at.is_(None),
                    outbox.c.dead_at.is_(None),
                    outbox.c.next_attempt_at <= now,
                    sa.or_(outbox.c.lease_expires_at.is_(None), outbox.c.lease_expires_at < now),
                    # One task's events go out in order: none while an older one is pending.
                    ~sa.exists().where(
                        earlier.c.task_id == outbox.c.task_id,
                        earlier.c.id < outbox.c.id,
                        earlier.c.delivered_at.is_(None),
                        earlier.c.dead_at.is_(None),
                    ),
                )
                .order_by(outbox.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=outbox)
            ).all()
            if not rows:
                return []
            conn.execute(
                outbox.update()
                .where(outbox.c.id.in_([row.id for row in rows]))
                .values(
                    lease_owner=owner,
                    lease_expires_at=now + lease_seconds,
                    attempts=outbox.c.attempts + 1,
                )
            )
        return [
            Callback(row.id, row.task_id, row.url, row.event, row.payload, row.attempts + 1,
                     row.webhook_secret)
            for row in rows
        ]  # fmt: skip

    def callback_delivered(self, callback: Callback, owner: str) -> None:
        self._settle(callback, owner, delivered_at=self._now)

    def callback_failed(self, callback: Callback, owner: str, error: str,
                        retry_in: float | None) -> None:  # fmt: skip
        """Record a failed attempt: retry after ``retry_in`` seconds, or dead-letter (None)."""
        if retry_in is None:
            self._settle(callback, owner, dead_at=self._now, last_error=error)
        else:
            self._settle(callback, owner, next_attempt_at=self._now + retry_in, last_error=error)

    def _settle(self, callback: Callback, owner: str, **values: Any) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == callback.id, outbox.c.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None, **values)
            )

    def callback_states(self, task_id: str) -> list[CallbackState]:
        with read_transaction(self.engine) as conn:
            rows = conn.execute(
                sa.select(outbox).where(outbox.c.task_id == task_id).order_by(outbox.c.id)
            ).all()
        return [
            CallbackState(row.id, row.task_id, row.event, row.attempts,
                          row.delivered_at is not None, row.dead_at is not None, row.last_error)
            for row in rows
        ]  # fmt: skip
