"""Waking idle workers: PostgreSQL LISTEN/NOTIFY, or plain polling on SQLite.

On PostgreSQL a new or requeued task sends ``NOTIFY kinema_tasks`` in its transaction; a worker
waiting here returns as soon as it is committed instead of after its polling interval. LISTEN
needs a session-mode connection (not a transaction-pooling proxy), so it gets its own.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kinema.store.engine import normalise_url
from kinema.store.records import TASKS_CHANNEL

log = logging.getLogger(__name__)

PG_FALLBACK_POLL_SECONDS = 1.0
"""Even with notifications, look now and then (a task whose backoff ended sends none)."""


class TaskWakeup:
    """``wait(stop)`` returns when a task may have become claimable, or ``stop`` is set."""

    def __init__(self, url: str, idle_poll_seconds: float) -> None:
        self.idle_poll_seconds = idle_poll_seconds
        self._conn: Any = None
        url = normalise_url(url)
        if url.startswith("postgresql"):
            import psycopg

            dsn = "postgresql://" + url.split("://", 1)[1]
            self._conn = psycopg.connect(dsn, autocommit=True)
            self._conn.execute(f"LISTEN {TASKS_CHANNEL}")

    def wait(self, stop: threading.Event) -> None:
        if self._conn is None:
            stop.wait(self.idle_poll_seconds)
            return
        try:
            for _ in self._conn.notifies(timeout=PG_FALLBACK_POLL_SECONDS, stop_after=1):
                pass
        except Exception:
            log.exception("LISTEN connection failed; falling back to polling")
            self.close()
            stop.wait(self.idle_poll_seconds)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
