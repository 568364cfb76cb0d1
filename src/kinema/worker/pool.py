"""The worker pool of ``kinema serve``: N ``kinema worker`` processes, each replaced if it dies.

Workers are separate OS processes started exactly as an operator would start them on another
host, with the serve process's settings passed through the environment.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time

from kinema.config import Settings

log = logging.getLogger(__name__)

_CHECK_SECONDS = 0.5
_STOP_GRACE_SECONDS = 10.0


def settings_env(settings: Settings) -> dict[str, str]:
    """``KINEMA_*`` variables that rebuild ``settings`` in a child process."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump(mode="json", exclude_none=True).items():
        env[f"KINEMA_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


class WorkerPool:
    """Starts, watches and stops the worker processes."""

    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self.count = count
        self.processes: list[subprocess.Popen[bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="worker-pool", daemon=True)
        self.restarts = 0

    def start(self) -> None:
        self.processes = [self._spawn(index) for index in range(self.count)]
        self._thread.start()

    def _spawn(self, index: int) -> subprocess.Popen[bytes]:
        env = {**os.environ, **settings_env(self.settings)}
        command = [sys.executable, "-m", "kinema", "worker", "--name", f"serve-{index}",
                   "--parent-pid", str(os.getpid())]  # fmt: skip
        process = subprocess.Popen(command, env=env)
        log.info("started worker %d (pid %d)", index, process.pid)
        return process

    def _watch(self) -> None:
        while not self._stop.wait(_CHECK_SECONDS):
            for index, process in enumerate(self.processes):
                if process.poll() is not None and not self._stop.is_set():
                    log.warning("worker %d (pid %d) exited with %s; starting a new one",
                                index, process.pid, process.returncode)  # fmt: skip
                    self.restarts += 1
                    self.processes[index] = self._spawn(index)

    def stop(self) -> None:
        """SIGTERM every worker (each hands its task back), then SIGKILL stragglers."""
        self._stop.set()
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + _STOP_GRACE_SECONDS
        for process in self.processes:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
