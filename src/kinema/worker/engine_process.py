"""A handle on the engine child process: start, talk over the pipe, kill and replace.

Only this module (and ``child``) knows about processes and pipes.
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from kinema.worker.child import child_main
from kinema.worker.events import DownEvent, Ready, UpEvent

_START_TIMEOUT_SECONDS = 120.0
_CHILD_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1", "OPENCV_FOR_THREADS_NUM": "1"}
"""Read by the child's numpy and OpenCV when they are imported: a render runs on one thread and
leaves the other cores to the encoder. OpenBLAS's idle threads busy-wait: next to the encoder's
threads on a small machine they burnt a core and made rendering several times slower. OpenCV
splitting a frame's resize across threads doubled that resize's CPU time (at 720p, 0.4 ms of
wall time a frame became 0.8 ms of CPU), taken from the encoder. Not OMP_NUM_THREADS: torch on
a CPU takes its default thread count from it. An operator's own values win."""


class EngineProcessDied(Exception):
    """The engine child exited or its pipe broke."""


class EngineProcess:
    """One engine child, started with the ``spawn`` context (never a fork of the worker)."""

    def __init__(self, *, warm_preview: bool = True) -> None:
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._warm_preview = warm_preview
        """Passed to the child: get the preview engine ready before the first task."""

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        for name, value in _CHILD_ENVIRONMENT.items():
            os.environ.setdefault(name, value)  # a spawned child inherits the environment
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=child_main, args=(child, self._warm_preview), daemon=True,
                                  name="kinema-engine")  # fmt: skip
        process.start()
        child.close()
        self._process, self._conn = process, parent
        if not parent.poll(_START_TIMEOUT_SECONDS) or not isinstance(self.recv(), Ready):
            self.kill()
            raise EngineProcessDied("the engine process did not start")

    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def send(self, event: DownEvent) -> None:
        if self._conn is None:
            raise EngineProcessDied("the engine process is not running")
        try:
            self._conn.send(event)
        except (BrokenPipeError, OSError) as exc:
            raise EngineProcessDied(str(exc)) from exc

    def poll(self, timeout: float) -> bool:
        """Whether an event is waiting (within ``timeout``); raises if the child died."""
        if self._conn is None:
            raise EngineProcessDied("the engine process is not running")
        try:
            if self._conn.poll(timeout):
                return True
        except (EOFError, OSError) as exc:
            raise EngineProcessDied(str(exc)) from exc
        if not self.alive():
            raise EngineProcessDied(f"the engine process exited ({self.exitcode()})")
        return False

    def recv(self) -> UpEvent:
        if self._conn is None:
            raise EngineProcessDied("the engine process is not running")
        try:
            event: UpEvent = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise EngineProcessDied(f"the engine process exited ({self.exitcode()})") from exc
        return event

    def exitcode(self) -> str:
        code = self._process.exitcode if self._process else None
        return "still running" if code is None else f"exit code {code}"

    def kill(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process, self._conn = None, None

    def stop(self) -> None:
        """Close the pipe (the child exits on EOF), then make sure it is gone."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(5)
        self.kill()
