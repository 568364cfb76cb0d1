"""``kinema generate`` as a user runs it, against a real ``kinema serve``: the video, the figures,
exit codes, one-line errors, and Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from kinema.client import Client, TaskStatus
from kinema.media.probe import probe
from tests.client.live import BLOCKED_WORD, LITE_I2V, PRICED, SLOW, KinemaServer, cli_env

QUICK = ("--resolution", "480p", "--duration", "2")
LONG = ("--model", SLOW, "--resolution", "1080p", "--duration", "12")


def kinema(server: KinemaServer, key: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kinema", *args],
        capture_output=True, text=True, timeout=60, env=cli_env(server, key),
    )  # fmt: skip


def test_generate_saves_the_video_and_shows_its_figures(
    server: KinemaServer, tmp_path: Path
) -> None:
    out = tmp_path / "videos" / "kite.mp4"
    result = kinema(server, server.new_key(), "generate", "a red kite over the sea", *QUICK,
                    "--seed", "42", "-o", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"Saved {out}" in result.stdout
    assert "seed    42" in result.stdout and "480p" in result.stdout and "19,845" in result.stdout
    info = probe(out)
    assert (info.width, info.height, info.frame_count) == (864, 480, 49)
    # Not a terminal: one line per status on stderr instead of a progress bar.
    assert "queued" in result.stderr and "succeeded" in result.stderr


def test_generate_from_frames_in_the_ark_format(server: KinemaServer, tmp_path: Path) -> None:
    first, last = tmp_path / "first.png", tmp_path / "last.png"
    Image.new("RGB", (288, 512), (250, 200, 0)).save(first)
    Image.new("RGB", (288, 512), (0, 60, 250)).save(last)
    result = kinema(server, server.new_key(), "generate", "--format", "ark", "--model", LITE_I2V,
                    "--image", str(first), "--last-image", str(last), "--ratio", "adaptive",
                    *QUICK, "--camera-fixed", "--json", "-o", str(tmp_path))  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    task = shown["task"]
    assert task["status"] == "succeeded" and task["ratio"] == "9:16" and task["camera_fixed"]
    assert shown["path"] == str(tmp_path / f"{task['id']}.mp4")
    assert (probe(Path(shown["path"])).width, probe(Path(shown["path"])).height) == (480, 864)


def test_exit_codes_and_one_line_errors(server: KinemaServer, tmp_path: Path) -> None:
    key = server.new_key()
    cases = [
        (key, ["generate", "a kite", "--duration", "99"], 2, "2 to 12 for seedance-1-0-lite"),
        (key, ["generate", "a kite", "--image", str(tmp_path / "no.png")], 2, "no such file"),
        (key, ["generate", "--resolution", "480p"], 2, "prompt is required"),
        (key, ["generate", f"a {BLOCKED_WORD}", *QUICK], 2, "content policy"),
        (key, ["generate", "a kite", "--model", "nope-1"], 2, "model 'nope-1' not found"),
        (None, ["generate", "a kite"], 3, "no API key: pass --api-key or set KINEMA_API_KEY"),
        ("sk-nope", ["generate", "a kite"], 3, "check --api-key or KINEMA_API_KEY"),
        (key, ["generate", "a kite", "--model", PRICED, *QUICK], 3, "Insufficient balance"),
        (key, ["generate", "x", "--base-url", "http://127.0.0.1:1"], 1, "cannot reach"),
        (key, ["tasks", "show", "cgt-20260101000000-nopes"], 2, "not found"),
    ]
    # None of these makes a task: run them side by side.
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda case: kinema(server, case[0], *case[1]), cases))
    for (_, args, code, words), result in zip(cases, results, strict=True):
        assert result.returncode == code, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], lines
    debug = kinema(server, key, "--debug", "generate", "a kite", "--duration", "99")
    assert (
        debug.returncode == 2 and "Traceback" in debug.stderr and "InvalidParameter" in debug.stderr
    )


def test_a_failed_task_exits_4(server: KinemaServer) -> None:
    key = server.new_key()
    with _generating(server, key) as (process, task_id), Client(server.base_url, key) as client:
        _wait_running(client, task_id)
        client.cancel(task_id)  # from elsewhere: for this command, the task failed
    assert process.returncode == 4
    assert f"task {task_id} cancelled" in process.stderr_text.splitlines()[-1]


class Generating(subprocess.Popen[str]):
    stderr_text = ""


@contextmanager
def _generating(
    server: KinemaServer, key: str, *flags: str, answer: str | None = None
) -> Iterator[tuple[Generating, str]]:
    """A ``kinema generate`` of a long task; yields once it has printed its task id. On exit,
    ``answer`` goes to its stdin, and its stderr is read to the end."""
    process = Generating(
        [sys.executable, "-m", "kinema", "generate", "a long storm", *LONG, *flags],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=cli_env(server, key),
    )  # fmt: skip
    assert process.stdin is not None and process.stderr is not None
    first = process.stderr.readline()  # "<task id> queued": the command knows its task
    try:
        yield process, first.split()[0]
    finally:
        if answer is not None:
            process.stdin.write(answer)
        process.stdin.close()
        process.stderr_text = first + process.stderr.read()
        process.stderr.close()
        process.wait(timeout=60)


def _wait_running(client: Client, task_id: str) -> None:
    deadline = time.monotonic() + 30
    while client.get(task_id).status is TaskStatus.QUEUED:
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.05)


def _interrupt(server: KinemaServer, answer: str | None, *flags: str) -> tuple[str, str]:
    """Ctrl-C a ``kinema generate`` while its task runs, answering the prompt with ``answer``;
    the task's status once settled, and what the command said."""
    key = server.new_key()
    with Client(server.base_url, key) as client:
        with _generating(server, key, *flags, answer=answer) as (process, task_id):
            _wait_running(client, task_id)
            process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 30
        while not (task := client.get(task_id)).done and answer != "n\n":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        if not task.done:
            client.cancel(task.id)  # leave the worker free for the other tests
    assert process.returncode == 130, process.stderr_text
    return task.status.value, process.stderr_text


@pytest.mark.parametrize("answer", ["y\n", ""], ids=["yes", "end-of-input"])
def test_ctrl_c_asks_and_cancels(server: KinemaServer, answer: str) -> None:
    status, err = _interrupt(server, answer)
    assert status == TaskStatus.CANCELLED.value
    assert "Cancel task cgt-" in err and "cancelled" in err.splitlines()[-1]


def test_ctrl_c_answered_no_leaves_the_task_running(server: KinemaServer) -> None:
    status, err = _interrupt(server, "n\n")
    assert status == "running"
    assert "Cancel task cgt-" in err and "goes on" in err and "kinema tasks cancel cgt-" in err


def test_ctrl_c_without_asking(server: KinemaServer) -> None:
    status, err = _interrupt(server, None, "--cancel-on-interrupt")
    assert status == "cancelled" and "Cancel task" not in err
