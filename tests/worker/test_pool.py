"""``kinema serve`` supervises its workers: one killed mid-task is replaced; its task finishes."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from tests.support import kinema_keys_create, serve, wait_for

ARK = "/api/v3/contents/generations/tasks"


def processes() -> dict[int, list[bytes]]:
    """Command lines of the processes on this machine, by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
    return found


def serve_pid(data_dir: Path) -> int:
    for pid, command in processes().items():
        if b"serve" in command and str(data_dir).encode() in command:
            return pid
    raise AssertionError("kinema serve not found")


def worker_pids(parent: int) -> set[int]:
    """The ``kinema worker`` processes that ``kinema serve`` (pid ``parent``) supervises."""
    marker = str(parent).encode()
    return {
        pid for pid, command in processes().items()
        if b"worker" in command and b"--parent-pid" in command
        and command[command.index(b"--parent-pid") + 1] == marker
    }  # fmt: skip


def test_a_killed_worker_is_replaced_and_its_task_finishes(tmp_path: Path) -> None:
    key = kinema_keys_create(tmp_path)
    env = {"KINEMA_LEASE_SECONDS": "2", "KINEMA_HEARTBEAT_SECONDS": "0.5",
           "KINEMA_REAP_INTERVAL_SECONDS": "0.5"}  # fmt: skip
    with (
        serve(tmp_path, "--workers", "1", env=env) as (base, _),
        httpx.Client(base_url=base, headers={"Authorization": key}, timeout=30) as client,
    ):
        parent = serve_pid(tmp_path)
        wait_for(lambda: len(worker_pids(parent)) == 1, 30, "the worker to start")
        (first,) = worker_pids(parent)
        task_id = client.post(
            ARK,
            json={
                "model": "seedance-1-0-pro-250528",
                "resolution": "1080p",
                "duration": 12,
                "content": [{"type": "text", "text": "a train crossing a bridge"}],
            },
        ).json()["id"]

        def running() -> bool:
            task = client.get(f"{ARK}/{task_id}").json()
            return bool(task["status"] == "running" and task["progress"] > 0.05)

        wait_for(running, 60, "the task to run")
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: bool(worker_pids(parent) - {first}), 30, "a replacement worker")
        deadline = time.monotonic() + 120
        while (task := client.get(f"{ARK}/{task_id}").json())["status"] != "succeeded":
            assert task["status"] in ("running", "queued"), task
            assert time.monotonic() < deadline, task
            time.sleep(0.2)
    assert not (tmp_path / "files" / "outputs" / task_id / "1").exists()
    assert (tmp_path / "files" / "outputs" / task_id / "2" / "video.mp4").exists()
