"""``kinema tasks``, ``kinema models --remote`` and the help texts, against a real server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from kinema.cli import app
from kinema.client import Client, TaskFailed, TaskStatus
from tests.client.live import LITE, QUICK, SLOW, KinemaServer, cli_env


def kinema(server: KinemaServer, key: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kinema", *args],
        capture_output=True, text=True, timeout=60, env={**cli_env(server, key), "COLUMNS": "200"},
    )  # fmt: skip


def test_tasks_ls_show_download_rm(server: KinemaServer, tmp_path: Path) -> None:
    key = server.new_key()
    with Client(server.base_url, key) as client:
        done = client.wait(client.submit("lanterns", seed=5, **QUICK))
    listed = kinema(server, key, "tasks", "ls", "--status", "succeeded")
    assert listed.returncode == 0, listed.stderr
    assert done.id in listed.stdout and "1 of 1 tasks" in listed.stdout
    as_json = json.loads(kinema(server, key, "tasks", "ls", "--json", "--format", "ark").stdout)
    assert as_json["total"] == 1 and as_json["items"][0]["seed"] == 5

    shown = kinema(server, key, "tasks", "show", done.id)
    assert shown.returncode == 0 and "succeeded" in shown.stdout
    lines = shown.stdout.splitlines()
    assert f"video url   {done.video_url}" in lines  # whole, on one line, to copy
    shown_ark = kinema(server, key, "tasks", "show", done.id, "--format", "ark")
    assert "480p 16:9 2 s" in shown_ark.stdout
    assert (
        json.loads(kinema(server, key, "tasks", "show", done.id, "--json").stdout)["id"] == done.id
    )

    saved = kinema(server, key, "tasks", "download", done.id, "-o", str(tmp_path / "l.mp4"))
    assert saved.returncode == 0, saved.stderr
    assert (tmp_path / "l.mp4").read_bytes() == httpx.get(done.video_url or "").content

    removed = kinema(server, key, "tasks", "rm", done.id)
    assert removed.returncode == 0 and f"{done.id} deleted" in removed.stdout
    gone = kinema(server, key, "tasks", "show", done.id)
    assert gone.returncode == 2 and "not found" in gone.stderr
    assert kinema(server, key, "tasks", "ls", "--status", "bogus").returncode == 2


def test_tasks_cancel_and_rm_while_running(server: KinemaServer) -> None:
    key = server.new_key()
    with Client(server.base_url, key) as client:
        busy = client.submit("a long storm", model=SLOW, resolution="1080p", duration=12)
        while client.get(busy.id).status is TaskStatus.QUEUED:
            time.sleep(0.05)
        refused = kinema(server, key, "tasks", "rm", busy.id)
        assert refused.returncode == 2 and "cancel it first" in refused.stderr
        cancelled = kinema(server, key, "tasks", "cancel", busy.id)
        assert cancelled.returncode == 0, cancelled.stderr
        assert busy.id in cancelled.stdout
        with pytest.raises(TaskFailed, match="cancelled"):
            client.wait(busy.id, timeout=30)


def test_models_remote_and_local(server: KinemaServer) -> None:
    remote = kinema(server, server.new_key(), "models", "--remote")
    assert remote.returncode == 0, remote.stderr
    assert f"Models at {server.base_url}" in remote.stdout and LITE in remote.stdout
    assert "weights" not in remote.stdout  # the server's catalog, not the local table
    explicit = kinema(server, None, "models", "--base-url", server.base_url)
    assert explicit.returncode == 3 and "no API key" in explicit.stderr
    # KINEMA_BASE_URL alone does not make it remote.
    local = kinema(server, None, "models")
    assert local.returncode == 0 and "not a neural network" in local.stdout
    both = kinema(server, None, "models", "--remote", "--models", "x.toml")
    assert both.returncode == 2 and "not both" in both.stderr


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ((), ["generate", "tasks", "--debug"]),
        (("generate",), ["--image", "--last-image", "--cancel-on-interrupt", "KINEMA_API_KEY",
                         "Exit codes"]),
        (("tasks",), ["ls", "show", "cancel", "rm", "download"]),
        (("tasks", "ls"), ["--status", "--limit", "--json", "--base-url"]),
        (("tasks", "show"), ["task_id", "--json"]),
        (("tasks", "cancel"), ["task_id", "--format"]),
        (("tasks", "rm"), ["task_id", "--api-key"]),
        (("tasks", "download"), ["task_id", "--output"]),
        (("models",), ["--remote", "--models", "--base-url"]),
    ],
)  # fmt: skip
def test_help_is_complete(command: tuple[str, ...], words: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for word in words:
        assert word in result.stdout, (command, word)
