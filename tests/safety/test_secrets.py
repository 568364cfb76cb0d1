"""Secrets stay secret: API keys, the admin token, webhook secrets and the URL signing secret
never appear in logs (a full ``kinema serve`` run, and the in-process app at DEBUG), error
bodies, task objects or callbacks; signed output URLs cannot be forged, moved or extended."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from kinema.api.app import URL_SIGNING_SECRET
from kinema.domain.keys import new_api_key
from kinema.store.sql import SqlStore
from tests.support import LiveService, free_port, kinema_keys_create, wait_until_healthy

ARK = "/api/v3/contents/generations/tasks"
LITE = "seedance-1-0-lite-t2v-250428"
ADMIN = "admin-" + "Zq8" * 12


@contextmanager
def receiver() -> Iterator[tuple[str, list[bytes]]]:
    """A callback receiver on loopback; yields its URL and the bodies it got."""
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            bodies.append(str(self.headers).encode())
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", bodies
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve_logged(data_dir: Path, log: Path) -> Iterator[str]:
    """``kinema serve`` (one worker) with every line it and its workers write going to ``log``."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "KINEMA_ADMIN_TOKEN": ADMIN,
           "KINEMA_ALLOW_PRIVATE_URLS": "1", "KINEMA_CALLBACK_POLL_SECONDS": "0.05"}  # fmt: skip
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "kinema", "serve", "--port", str(port), "--data-dir",
             str(data_dir), "--workers", "1"],
            stdout=sink, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base, process)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)


def until(client: httpx.Client, task_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task: dict[str, Any] = client.get(f"{ARK}/{task_id}").json()
        if task["status"] in ("succeeded", "failed", "expired", "cancelled"):
            return task
        time.sleep(0.1)
    raise AssertionError(f"{task_id} did not finish")


def full_flow(base: str, key: str, hook: str) -> list[str]:
    """Submit with a callback, wait, fetch the video, read the account, be refused; the
    answers."""
    answers = []
    with httpx.Client(base_url=base, headers={"Authorization": key}) as client:
        body = {"model": LITE, "content": [{"type": "text", "text": "a kite --rs 480p"}],
                "duration": 2, "callback_url": hook}  # fmt: skip
        task_id = client.post(ARK, json=body).json()["id"]
        task = until(client, task_id)
        assert task["status"] == "succeeded", task
        answers.append(json.dumps(task))
        answers.append(client.get(f"/api/v3/predictions/{task_id}/result").text)
        assert httpx.get(task["content"]["video_url"]).status_code == 200
        answers.append(client.get("/api/v3/account").text)
        refused = client.post(
            ARK, json={**body, "content": [{"type": "text", "text": "nude dancers"}]}
        )
        assert refused.status_code == 400
        answers.append(refused.text)
    return answers


def test_no_secret_in_the_logs_of_a_full_run(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first_key = kinema_keys_create(data_dir)
    log = tmp_path / "serve.log"
    wrong_key = new_api_key()
    answers: list[str] = []
    with receiver() as (hook, deliveries), serve_logged(data_dir, log) as base:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"}) as admin:
            account = admin.post("/admin/accounts", json={"name": "team", "balance": "5"}).json()
            path = f"/admin/accounts/{account['id']}/keys"
            second_key = admin.post(path, json={"name": "k"}).json()["key"]
            for key in (first_key, second_key):
                answers += full_flow(base, key, hook)
            # Keys that are wrong, near misses, malformed or revoked are not echoed either.
            admin.post(f"/admin/keys/{second_key[:10]}/revoke")
        for header in (f"Bearer {wrong_key}", wrong_key, f"Bearer {first_key}x",
                       f"Basic {first_key}", f"Bearer {second_key}"):  # fmt: skip
            answer = httpx.get(f"{base}{ARK}", headers={"Authorization": header})
            assert answer.status_code == 401
            answers.append(answer.text)
        bad_admin = httpx.get(f"{base}/admin/accounts", headers={"Authorization": ADMIN[:-1]})
        assert bad_admin.status_code == 401
        answers.append(bad_admin.text)
        deadline = time.monotonic() + 30
        while len(deliveries) < 12 and time.monotonic() < deadline:  # 3 events x 2 tasks x 2
            time.sleep(0.1)
    store = SqlStore(f"sqlite:///{(data_dir / 'kinema.db').resolve()}")
    try:
        webhook_secrets = [a.webhook_secret for a in store.list_accounts()]
        url_secret = store.get_or_create_meta(URL_SIGNING_SECRET, "unused")
    finally:
        store.close()
    logs = log.read_text()
    assert "succeeded" in logs or "claimed" in logs  # the log is the real thing
    secrets = {"first key": first_key, "second key": second_key, "wrong key": wrong_key,
               "admin token": ADMIN, "URL signing secret": url_secret,
               **{f"webhook secret {i}": s for i, s in enumerate(webhook_secrets)}}  # fmt: skip
    callbacks = b"".join(deliveries).decode()
    assert len(deliveries) >= 6, "the callbacks were not delivered"
    for name, secret in secrets.items():
        assert secret not in logs, f"the {name} appears in the log"
        assert secret not in callbacks, f"the {name} appears in a callback"
        for answer in answers:
            assert secret not in answer, f"the {name} appears in an answer: {answer[:200]}"
        # Not even a long piece of it (a truncated key in a log line is still a leak).
        assert secret[-16:] not in logs


def test_no_key_in_in_process_logs_at_debug(
    service: LiveService, caplog: pytest.LogCaptureFixture
) -> None:
    key = service.new_key()
    wrong = new_api_key()
    with caplog.at_level(logging.DEBUG):
        with service.client(key) as client:
            task_id = client.post(ARK, json={"model": LITE, "duration": 2, "content": [
                {"type": "text", "text": "a kite --rs 480p"}]}).json()["id"]  # fmt: skip
            service.wait(client, task_id)
            client.post(ARK, json={"model": LITE, "content": [{"type": "text", "text": "p0rn"}]})
            client.get(f"{ARK}/nope")
        httpx.get(f"{service.base_url}{ARK}", headers={"Authorization": f"Bearer {wrong}"})
        httpx.get(f"{service.base_url}{ARK}", headers={"Authorization": f"Bearer {key}!"})
    assert caplog.records, "nothing was logged"
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)
    assert key not in text and wrong not in text
    assert key[-16:] not in text


def test_signed_urls_cannot_be_forged_moved_or_outlived(service: LiveService) -> None:
    with service.client(service.new_key()) as client:
        task_id = client.post(ARK, json={"model": LITE, "duration": 2, "return_last_frame": True,
                                         "content": [{"type": "text", "text": "a kite"}],
                                         "resolution": "480p"}).json()["id"]  # fmt: skip
        task = service.wait(client, task_id)
    video, last = task["content"]["video_url"], task["content"]["last_frame_url"]
    assert httpx.get(video).status_code == 200
    key = video.split("/files/", 1)[1].split("?", 1)[0]
    signer = service.services.signer
    base = f"{service.base_url}/files/{key}"
    past = int(time.time()) - 10
    # A genuine signature whose time is up: gone, not forbidden.
    assert httpx.get(f"{base}?{signer.query(key, past)}").status_code == 410
    # Moving the expiry forward breaks the signature.
    expired_sig = signer.signature(key, past)
    assert httpx.get(f"{base}?expires={past + 10**6}&sig={expired_sig}").status_code == 403
    # Another file's signature does not open this one.
    last_query = last.split("?", 1)[1]
    assert httpx.get(f"{base}?{last_query}").status_code == 403
    # A signature made with any other secret is refused.
    from kinema.artifacts.signing import UrlSigner

    forged = UrlSigner("not-the-installation-secret").query(key, int(time.time()) + 3600)
    assert httpx.get(f"{base}?{forged}").status_code == 403
    assert httpx.get(base).status_code == 403
    assert httpx.get(f"{base}?expires=abc&sig=x").status_code in (400, 403)
