"""Test support: a live Kinema over real HTTP (uvicorn in a thread, workers in threads), and
helpers to submit, wait and fetch."""

from __future__ import annotations

import base64
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from PIL import Image

from kinema.api.app import build_services, create_app
from kinema.api.deps import Services
from kinema.api.limits import server_limits
from kinema.config import Settings
from kinema.domain.keys import new_api_key
from kinema.worker.pool import settings_env
from kinema.worker.runner import Worker

TERMINAL = {"succeeded", "failed", "expired", "cancelled"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveService:
    """A Kinema reachable at ``base_url``; each test makes its own account with ``new_key``."""

    base_url: str
    settings: Settings
    services: Services
    workers: list[Worker] = field(default_factory=list)

    def new_key(self, name: str | None = None) -> str:
        store = self.services.store
        account = store.create_account(name or f"test-{time.monotonic_ns()}")
        key = new_api_key()
        store.add_api_key(account.id, key)
        return key

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60)

    def wait(self, client: httpx.Client, task_id: str, timeout: float = 60) -> dict[str, Any]:
        """Poll the Ark route until the task is terminal; returns the task object."""
        deadline = time.monotonic() + timeout
        while True:
            body: dict[str, Any] = client.get(
                f"/api/v3/contents/generations/tasks/{task_id}"
            ).json()
            if body.get("status") in TERMINAL or time.monotonic() > deadline:
                return body
            time.sleep(0.05)


@contextmanager
def start_service(data_dir: Path, workers: int = 1, **overrides: Any) -> Iterator[LiveService]:
    """Run the real app with uvicorn on a free port, plus ``workers`` worker threads."""
    overrides.setdefault("allow_private_urls", True)
    settings = Settings(data_dir=data_dir, workers=workers, **overrides)
    services = build_services(settings)
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, services), host="127.0.0.1", port=port, log_level="warning",
        **server_limits(settings),
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    live = LiveService(f"http://127.0.0.1:{port}", settings, services)
    threads = []
    for index in range(workers):
        worker = Worker(settings, services.store, services.artifacts, owner=f"test-{index}")
        live.workers.append(worker)
        worker_thread = threading.Thread(target=worker.run, daemon=True)
        worker_thread.start()
        threads.append(worker_thread)
    for worker in live.workers:
        # Starting an engine child imports numpy, PyAV and OpenCV: slow on a loaded machine.
        if not worker.ready.wait(120):
            raise RuntimeError("test worker did not start")
    try:
        yield live
    finally:
        for worker in live.workers:
            worker.stop.set()
        for worker_thread in threads:
            worker_thread.join(15)
        server.should_exit = True
        thread.join(15)
        services.store.close()


def png_data_uri(width: int, height: int, colour: tuple[int, int, int] | None = None,
                 seed: int = 0) -> str:  # fmt: skip
    """A PNG as a data URI: a solid colour, or a smooth random pattern."""
    if colour is not None:
        pixels = np.full((height, width, 3), colour, dtype=np.uint8)
    else:
        rng = np.random.default_rng(seed)
        small = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
        pixels = np.asarray(Image.fromarray(small).resize((width, height), Image.BICUBIC))
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def spawn_worker(settings: Settings, name: str = "test") -> subprocess.Popen[bytes]:
    """A real ``kinema worker`` process with ``settings`` (passed as KINEMA_* variables)."""
    env = {**os.environ, **settings_env(settings)}
    return subprocess.Popen(
        [sys.executable, "-m", "kinema", "worker", "--name", name],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def output_attempts(live: LiveService, task_id: str) -> list[str]:
    """The attempt folders holding output files of a task (exactly one after a success)."""
    folder = live.settings.artifacts_dir / "outputs" / task_id
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@contextmanager
def serve(
    data_dir: Path, *extra: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, list[str]]]:
    """Run ``kinema serve``; yields its base URL and, once it has stopped, its stdout lines.

    Its output goes to a file, not a pipe: an unread pipe fills up with the access log and
    would stall the server.
    """
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    lines: list[str] = []
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "kinema", "serve", "--port", str(port), "--data-dir",
             str(data_dir), *extra],
            stdout=out, stderr=subprocess.DEVNULL, text=True, env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base, process)
            yield base, lines
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            out.seek(0)
            lines.extend(out.read().splitlines())
        assert process.returncode == 0


def wait_until_healthy(base: str, process: subprocess.Popen[Any], timeout: float = 60) -> None:
    """Wait for ``GET /healthz`` to answer 200, failing if the server exits or never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, "kinema serve exited early"
        assert time.monotonic() < deadline, "kinema serve did not become ready"
        time.sleep(0.1)


def kinema_keys_create(data_dir: Path) -> str:
    """Run ``kinema keys create`` and return the key it printed on its last line."""
    result = subprocess.run(
        [sys.executable, "-m", "kinema", "keys", "create", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return result.stdout.strip().splitlines()[-1]
