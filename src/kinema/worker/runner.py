"""The worker: claims tasks from the store, runs them in its engine child, stores the results.

A worker does database and file I/O only; rendering happens in the engine child. While a task
runs, the worker renews its lease by heartbeat; every write about the task is fenced by the
lease, so a worker that lost its lease changes nothing.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from kinema.artifacts.base import ArtifactStore, output_key
from kinema.config import Settings
from kinema.domain.catalog import Catalog
from kinema.domain.errors import OUTPUT_SENSITIVE_CODE, ModelNotFound
from kinema.domain.models_file import load_catalog
from kinema.engines.registry import engine_settings
from kinema.store.base import Claim, Task, TaskOutputs
from kinema.store.sql import SqlStore
from kinema.store.wakeup import TaskWakeup
from kinema.worker.engine_process import EngineProcess, EngineProcessDied
from kinema.worker.events import Cancel, Done, Failed, Generate, Progress
from kinema.worker.reaper import Reaper

log = logging.getLogger(__name__)

_RETRY_DELAY_SECONDS = 2.0
OUTPUT_SENSITIVE_MESSAGE = (
    "The generated video may not meet the guidelines. Please adjust the input and try again."
)
_POLL_SECONDS = 0.05


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class _Running:
    """What the worker tracks about the task in hand."""

    claim: Claim
    started: float = field(default_factory=time.monotonic)
    progress: float = 0.0
    cancel_deadline: float | None = None
    """Set once a cancel was sent to the engine: kill it if it has not stopped by then."""


def serves_preview(catalog: Catalog, models: tuple[str, ...]) -> bool:
    """Whether a worker claiming ``models`` (every model of the catalog when none are named)
    may get a task for the preview engine."""
    claimed = {catalog.canonical(name) for name in models}
    return any(model.engine == "preview" and (not models or model.id in claimed)
               for model in catalog.models)  # fmt: skip


class Worker:
    """Claims and runs tasks until ``stop`` is set."""

    def __init__(
        self,
        settings: Settings,
        store: SqlStore,
        artifacts: ArtifactStore,
        *,
        models: tuple[str, ...] = (),
        owner: str | None = None,
        parent_pid: int | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog or load_catalog(settings.models_file)
        """Where the engine configuration of each task's model comes from."""
        self.store = store
        self.artifacts = artifacts
        self.models = models
        self.owner = owner or worker_id()
        self.stop = threading.Event()
        self.ready = threading.Event()
        """Set once the engine child has started and the worker takes tasks."""
        self.engine = EngineProcess(warm_preview=serves_preview(self.catalog, models))
        self.staging = settings.data_dir / "staging"
        self.parent_pid = parent_pid

    def run(self) -> None:
        """The main loop: claim, execute, repeat; idle polling when the queue is empty."""
        self.engine.start()
        log.info("worker %s ready (engine pid %s)", self.owner, self.engine.pid)
        self.ready.set()
        Reaper(self.settings, self.store, self.artifacts).start(self.stop)
        wakeup = TaskWakeup(self.store.url, self.settings.idle_poll_seconds)
        try:
            while not self.stop.is_set():
                if self.parent_pid is not None and os.getppid() != self.parent_pid:
                    log.warning("the serving process is gone; stopping")
                    break
                if not self.run_once():
                    wakeup.wait(self.stop)
        finally:
            wakeup.close()
            self.engine.stop()

    def run_once(self) -> bool:
        """Claim and run one task; False when there was nothing to claim."""
        settings = self.settings
        claim = self.store.claim(
            self.owner, settings.lease_seconds, self.models, settings.default_max_running
        )
        if claim is None:
            return False
        log.info("claimed %s (attempt %d)", claim.task.id, claim.task.attempts)
        self._execute(_Running(claim))
        return True

    def _execute(self, running: _Running) -> None:
        task = running.claim.task
        out_dir = self.staging / f"{task.id}-{task.attempts}"
        engine_config = self._engine_config(task)
        if engine_config is None:
            reason = (f"{task.request.model} is not served by engine {task.engine} in this "
                      "worker's catalog (is its models file the API's?)")  # fmt: skip
            self.store.fail(running.claim, "InternalServiceError", reason,
                            self._elapsed_ms(running))  # fmt: skip
            return
        try:
            if not self.engine.alive():
                self.engine.start()
            self.engine.send(self._generate_event(running, out_dir, engine_config))
            self._supervise(running)
        except EngineProcessDied as exc:
            log.warning("engine process died while running %s: %s", task.id, exc)
            self.engine.kill()
            self.store.release(running.claim, retry_delay=_RETRY_DELAY_SECONDS,
                               reason=f"the engine process died: {exc}")  # fmt: skip
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)

    def _engine_config(self, task: Task) -> dict[str, object] | None:
        """The model's engine configuration plus the engine's settings; None if not served."""
        try:
            model = self.catalog.get(task.request.model)
        except ModelNotFound:
            return None
        if model.engine != task.engine:
            return None
        return {**model.engine_config, **engine_settings(task.engine, self.settings)}

    def _generate_event(
        self, running: _Running, out_dir: Path, engine_config: dict[str, object]
    ) -> Generate:
        task = running.claim.task
        inputs: dict[str, str] = {}
        for item in task.request.media:
            if item.key is None:
                continue
            path = self.artifacts.local_path(item.key)
            if path is None:
                path = out_dir / "inputs" / item.key.replace("/", "_")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(self.artifacts.get_bytes(item.key))
            inputs[item.key] = str(path)
        return Generate(
            task_id=task.id,
            attempt=task.attempts,
            engine=task.engine,
            request=task.request.to_json(),
            inputs=inputs,
            out_dir=str(out_dir),
            encoder_preset=self.settings.encoder_preset,
            encoder_crf=self.settings.encoder_crf,
            engine_config=engine_config,
            image_screen=self._output_screen(),
            screen_frames=self.settings.screen_frames,
        )

    def _output_screen(self) -> str | None:
        if self.settings.output_screening == "off":
            return None
        return self.settings.image_screen

    def _supervise(self, running: _Running) -> None:
        """Relay progress, renew the lease, pass on a cancel, and finish the task."""
        settings = self.settings
        next_beat = time.monotonic() + settings.heartbeat_seconds
        next_cancel_check = time.monotonic() + settings.cancel_poll_seconds
        while True:
            if self.engine.poll(_POLL_SECONDS):
                event = self.engine.recv()
                if isinstance(event, Progress):
                    running.progress = event.fraction
                elif isinstance(event, Done):
                    self._succeed(running, event)
                    return
                elif isinstance(event, Failed):
                    self._fail(running, event)
                    return
            if self.stop.is_set():
                self._hand_back(running)
                return
            now = time.monotonic()
            if running.cancel_deadline is not None and now > running.cancel_deadline:
                log.warning("engine ignored the cancel of %s; killing it", running.claim.task.id)
                self.engine.kill()
                self.store.cancel_running(running.claim, self._elapsed_ms(running))
                return
            if now >= next_beat:
                # The heartbeat renews the lease, publishes progress and reads the cancel flag.
                next_beat = now + settings.heartbeat_seconds
                next_cancel_check = now + settings.cancel_poll_seconds
                cancel = self.store.heartbeat(
                    running.claim, settings.lease_seconds, running.progress
                )
            elif now >= next_cancel_check and running.cancel_deadline is None:
                # Between heartbeats a cheap read, so that a cancel stops the engine promptly.
                next_cancel_check = now + settings.cancel_poll_seconds
                cancel = self.store.cancel_requested(running.claim)
            else:
                continue
            if cancel is None:
                # Lost the lease (expired, or the task was expired or requeued): stop at once.
                log.warning("lost the lease on %s; abandoning it", running.claim.task.id)
                self.engine.kill()
                return
            if cancel and running.cancel_deadline is None:
                running.cancel_deadline = now + settings.cancel_grace_seconds
                self.engine.send(Cancel(running.claim.task.id))

    def _elapsed_ms(self, running: _Running) -> int:
        return int((time.monotonic() - running.started) * 1000)

    def _succeed(self, running: _Running, done: Done) -> None:
        task = running.claim.task
        if done.video_flagged and self.settings.output_screening == "fail":
            # Nothing of a refused output is stored: the task fails and its files are dropped.
            log.info("%s output flagged by the image screen (%s); failing it",
                     task.id, done.flag_category or "no category")  # fmt: skip
            self.store.fail(running.claim, OUTPUT_SENSITIVE_CODE, OUTPUT_SENSITIVE_MESSAGE,
                            self._elapsed_ms(running))  # fmt: skip
            return
        video_key = output_key(task.id, task.attempts, "video.mp4")
        size = self.artifacts.put_file(video_key, Path(done.video_path))
        last_key = None
        if done.last_frame_path:
            last_key = output_key(task.id, task.attempts, "last_frame.png")
            self.artifacts.put_file(last_key, Path(done.last_frame_path))
        outputs = TaskOutputs(video_key=video_key, last_frame_key=last_key, video_bytes=size,
                              video_flagged=done.video_flagged,
                              last_frame_flagged=done.last_frame_flagged)  # fmt: skip
        if self.store.complete(running.claim, outputs, self._elapsed_ms(running)):
            log.info("%s succeeded in %d ms", task.id, self._elapsed_ms(running))
        else:
            # The lease was lost meanwhile: another attempt owns the task, so ours never existed.
            self.artifacts.delete_prefix(f"outputs/{task.id}/{task.attempts}/")

    def _fail(self, running: _Running, failed: Failed) -> None:
        if failed.cancelled:
            if self.stop.is_set():
                self._hand_back(running)
            else:
                self.store.cancel_running(running.claim, self._elapsed_ms(running))
                log.info("%s cancelled", running.claim.task.id)
            return
        self.store.fail(running.claim, failed.code, failed.message, self._elapsed_ms(running))
        log.info("%s failed: %s", running.claim.task.id, failed.message)

    def _hand_back(self, running: _Running) -> None:
        """On an orderly shutdown, stop the render and requeue the task at no cost to it."""
        self.engine.kill()
        self.store.release(running.claim, retry_delay=0.0, reason="worker shut down",
                           count_attempt=False)  # fmt: skip
        log.info("handed %s back to the queue", running.claim.task.id)
