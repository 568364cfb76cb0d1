"""The command line as a user runs it: ``kinema keys create`` and a real ``kinema serve``."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from kinema.media.probe import probe
from tests.support import serve

KEY_LINE = re.compile(r"^sk-[A-Za-z0-9_-]{48}$")
LITE = "seedance-1-0-lite-t2v-250428"


def kinema(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kinema", *args], capture_output=True, text=True, timeout=60
    )


def test_keys_create_prints_the_key_on_the_last_line(tmp_path: Path) -> None:
    result = kinema("keys", "create", "--data-dir", str(tmp_path), "--name", "team")
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert KEY_LINE.match(last)
    again = kinema("keys", "create", "--data-dir", str(tmp_path), "--name", "team")
    assert again.returncode == 2 and "already exists" in again.stderr


def test_keys_create_on_postgresql(pg_url: str) -> None:
    result = kinema("keys", "create", "--db", pg_url)
    assert result.returncode == 0, result.stderr
    assert KEY_LINE.match(result.stdout.strip().splitlines()[-1])


def test_models_says_what_the_preview_engine_is() -> None:
    result = kinema("models")
    assert result.returncode == 0
    assert LITE in result.stdout and "not a neural network" in result.stdout


def test_serve_end_to_end(tmp_path: Path) -> None:
    with serve(tmp_path) as (base, lines):
        pass
    keys = [line for line in lines if KEY_LINE.match(line.strip())]
    assert len(keys) == 1, lines
    key = keys[0].strip()
    headers = {"Authorization": key}
    with (
        serve(tmp_path, "--workers", "1") as (base, _),
        httpx.Client(base_url=base, headers=headers, timeout=30) as client,
    ):
        submitted = client.post(f"/api/v3/bytedance/{LITE}/text-to-video",
                                json={"prompt": "golden hour over hills", "resolution": "480p",
                                      "duration": 2})  # fmt: skip
        assert submitted.status_code == 200
        task_id = submitted.json()["data"]["id"]
        deadline = time.monotonic() + 60
        while (data := client.get(f"/api/v3/predictions/{task_id}/result").json()["data"])[
            "status"
        ] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert data["status"] == "succeeded", data
        video = tmp_path / "out.mp4"
        video.write_bytes(httpx.get(data["outputs"][0]).content)
    info = probe(video)
    assert (info.width, info.height, info.frame_count, info.fps) == (864, 480, 49, 24)
    # The key was printed on first start only.
    assert not any(KEY_LINE.match(line.strip()) for line in _)


def test_serve_with_no_workers_only_queues(tmp_path: Path) -> None:
    key = kinema("keys", "create", "--data-dir", str(tmp_path)).stdout.strip().splitlines()[-1]
    with serve(tmp_path, "--workers", "0") as (base, _):
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=headers) as client:
            task_id = client.post(f"/api/v3/bytedance/{LITE}/text-to-video",
                                  json={"prompt": "x"}).json()["data"]["id"]  # fmt: skip
            time.sleep(1.0)
            data = client.get(f"/api/v3/predictions/{task_id}/result").json()["data"]
    assert data["status"] == "queued"


def test_accounts_and_keys_commands(tmp_path: Path) -> None:
    where = ("--data-dir", str(tmp_path))
    created = kinema("accounts", "create", "team", "--balance", "12.50", *where)
    assert created.returncode == 0, created.stderr
    assert kinema("accounts", "topup", "team", "2.5", *where).returncode == 0
    assert kinema("accounts", "set", "team", "--rpm", "30", "--max-running", "2",
                  *where).returncode == 0  # fmt: skip
    key = kinema("keys", "create", "--account", "team", "--models",
                 f"doubao-{LITE}", *where)  # fmt: skip
    assert key.returncode == 0 and KEY_LINE.match(key.stdout.strip().splitlines()[-1])
    shown = kinema("accounts", "show", "team", "--json", *where)
    listing = kinema("keys", "ls", "--account", "team", *where)
    secret = key.stdout.strip().splitlines()[-1]
    prefix = secret[:10]
    assert prefix in listing.stdout and secret not in listing.stdout
    revoked = kinema("keys", "revoke", prefix, *where)
    again = kinema("keys", "revoke", prefix, *where)
    missing = kinema("accounts", "show", "nobody", *where)
    bad_amount = kinema("accounts", "topup", "team", "lots", *where)
    usage = kinema("usage", "--account", "team", "--json", *where)
    import json

    data = json.loads(shown.stdout)
    assert data["balance"] == "15.000000" and data["rpm_limit"] == 30
    assert data["max_running"] == 2 and data["max_queued"] is None
    assert [m["kind"] for m in data["recent_movements"]] == ["topup", "topup"]
    assert revoked.returncode == 0 and again.returncode == 2
    assert missing.returncode == 2 and "no account named 'nobody'" in missing.stderr
    assert bad_amount.returncode == 2 and "not an amount" in bad_amount.stderr
    assert usage.returncode == 0 and json.loads(usage.stdout) == []
