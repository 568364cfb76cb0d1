"""The reaper: requeues tasks whose worker died, expires overdue tasks, and purges old files and
records. Every process that runs it (``kinema serve`` and each worker) may run it at once: each
step is one fenced transaction, so running it twice changes nothing twice."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from kinema.artifacts.base import ArtifactStore, task_prefixes
from kinema.config import Settings
from kinema.store.sql import SqlStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReapReport:
    requeued: int = 0
    failed: int = 0
    expired: int = 0
    files_purged: int = 0
    records_deleted: int = 0


class Reaper:
    def __init__(self, settings: Settings, store: SqlStore, artifacts: ArtifactStore) -> None:
        self.settings = settings
        self.store = store
        self.artifacts = artifacts

    def run_once(self) -> ReapReport:
        requeued, failed = self.store.requeue_lost_leases()
        expired = self.store.expire_overdue()
        purged = self.store.outputs_past(self.settings.output_ttl_seconds)
        for task_id in purged:
            for prefix in task_prefixes(task_id):
                self.artifacts.delete_prefix(prefix)
        deleted = self.store.delete_records_past(self.settings.record_ttl_seconds)
        for task_id in deleted:
            for prefix in task_prefixes(task_id):
                self.artifacts.delete_prefix(prefix)
        self.store.forget_old_rate_windows()
        report = ReapReport(requeued, failed, expired, len(purged), len(deleted))
        if report != ReapReport():
            log.info("reaper: %s", report)
        return report

    def run(self, stop: threading.Event) -> None:
        """Reap every ``reap_interval_seconds`` until ``stop`` is set; errors are logged."""
        while not stop.wait(self.settings.reap_interval_seconds):
            try:
                self.run_once()
            except Exception:
                log.exception("reaper pass failed; trying again next interval")

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(stop,), name="reaper", daemon=True)
        thread.start()
        return thread
