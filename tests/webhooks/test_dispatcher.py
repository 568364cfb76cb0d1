"""Webhook delivery end to end: a live Kinema, a real dispatcher, and a real HTTP receiver."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from kinema.config import Settings
from kinema.store.outbox import CallbackState
from kinema.webhooks.dispatcher import (
    Dispatcher,
    UndeliverableUrl,
    check_callback_url,
    retry_in,
    retry_schedule,
)
from kinema.webhooks.signing import verify
from tests.support import LiveService, start_service

ARK = "/api/v3/contents/generations/tasks"
LITE = "seedance-1-0-lite-t2v-250428"
FAST_RETRIES: dict[str, Any] = {
    "callback_poll_seconds": 0.05,
    "callback_backoff_seconds": 0.25,
    "callback_backoff_max_seconds": 1.0,
}


# -- a webhook receiver --------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One request as the receiver saw it, and what it answered."""

    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def event(self) -> str:
        return self.headers["x-kinema-event"]

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST and answers ``respond(event, since)``:
    the status code for an ``event`` POST, the first of which came ``since`` seconds ago."""

    def __init__(self, respond: Callable[[str, float], int]) -> None:
        self.respond = respond
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        self._first: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver._record({k.lower(): v for k, v in self.headers.items()}, body)
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", receiver.url)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting (a too-slow answer is a test case)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # Join handler threads on close, so no socket outlives the test.
        self.server.daemon_threads = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _record(self, headers: dict[str, str], body: bytes) -> int:
        event = headers.get("x-kinema-event", "")
        with self._lock:
            now = time.monotonic()
            first = self._first.setdefault(event, now)
        status = self.respond(event, now - first)  # may sleep: not under the lock
        with self._lock:
            self.deliveries.append(Delivery(headers, body, status))
        return status

    def events(self, event: str | None = None) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if event is None or d.event == event]

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


# -- a live service with a dispatcher --------------------------------------------------------


@contextmanager
def dispatching(
    data_dir: Path, dispatcher_settings: dict[str, Any] | None = None, **overrides: Any
) -> Iterator[LiveService]:
    """A live Kinema with one worker, and a Dispatcher on its store (settings may differ)."""
    with start_service(data_dir, workers=1, **{**FAST_RETRIES, **overrides}) as live:
        settings = live.settings.model_copy(update=dispatcher_settings or {})
        stop = threading.Event()
        thread = Dispatcher(settings, live.services.store, owner="test-webhooks").start(stop)
        try:
            yield live
        finally:
            stop.set()
            thread.join(15)
            assert not thread.is_alive()


def submit(live: LiveService, name: str, callback_url: str) -> tuple[str, str]:
    """Submit a short task for a new account ``name``; returns the task id and its secret."""
    key = live.new_key(name)
    account = live.services.store.get_account_by_name(name)
    assert account is not None
    with live.client(key) as client:
        response = client.post(ARK, json={
            "model": LITE, "content": [{"type": "text", "text": "a lighthouse at dusk"}],
            "resolution": "480p", "duration": 2, "callback_url": callback_url,
        })  # fmt: skip
        assert response.status_code == 200, response.text
        task_id: str = response.json()["id"]
        assert live.wait(client, task_id)["status"] == "succeeded"
    return task_id, account.webhook_secret


def settled(live: LiveService, task_id: str, timeout: float = 15) -> list[CallbackState]:
    """The task's callbacks once none is pending any more (delivered or dead)."""
    deadline = time.monotonic() + timeout
    while True:
        states = live.services.store.callback_states(task_id)
        if states and all(s.delivered or s.dead for s in states):
            return states
        if time.monotonic() > deadline:
            pytest.fail(f"callbacks still pending after {timeout} s: {states}")
        time.sleep(0.05)


def by_event(states: list[CallbackState]) -> dict[str, CallbackState]:
    return {state.event: state for state in states}


# -- tests -----------------------------------------------------------------------------------


def test_each_status_change_is_posted_in_order_and_signed(tmp_path: Path) -> None:
    with Receiver(lambda event, since: 200) as hook, dispatching(tmp_path) as live:
        task_id, secret = submit(live, "hooks-ok", hook.url)
        states = settled(live, task_id)
        # The terminal event links to the video itself.
        video_url = hook.events("succeeded")[0].json()["content"]["video_url"]
        assert httpx.get(video_url).status_code == 200
    assert [(s.event, s.delivered, s.attempts) for s in states] == [
        ("queued", True, 1), ("running", True, 1), ("succeeded", True, 1),
    ]  # fmt: skip
    deliveries = hook.events()
    assert [d.event for d in deliveries] == ["queued", "running", "succeeded"]
    assert [d.headers["x-kinema-delivery"] for d in deliveries] == [str(s.id) for s in states]
    for delivery in deliveries:
        assert verify(secret, delivery.body, delivery.headers["x-kinema-signature"])
        assert not verify(secret, delivery.body + b" ", delivery.headers["x-kinema-signature"])
        assert delivery.headers["content-type"] == "application/json"
        assert delivery.headers["user-agent"] == "Kinema-Webhooks"
        body = delivery.json()
        assert (body["id"], body["status"], body["model"]) == (task_id, delivery.event, LITE)


def test_a_receiver_down_for_seconds_still_gets_the_terminal_event(tmp_path: Path) -> None:
    # Down from the start until 3 s after the terminal event first came: however long the
    # task takes, its terminal event meets the outage.
    down_for = 3.0
    with (
        Receiver(
            lambda event, since: 200 if event == "succeeded" and since >= down_for else 503
        ) as hook,
        dispatching(tmp_path) as live,
    ):
        task_id, secret = submit(live, "hooks-down", hook.url)
        states = by_event(settled(live, task_id))
    final = states["succeeded"]
    assert final.delivered and not final.dead and final.attempts > 1
    tries = hook.events("succeeded")
    assert [d.answered for d in tries] == [503] * (final.attempts - 1) + [200]
    assert len({d.headers["x-kinema-delivery"] for d in tries}) == 1
    assert all(verify(secret, d.body, d.headers["x-kinema-signature"]) for d in tries)
    # Progress events get two tries at most, and are not retried for minutes.
    for event in ("queued", "running"):
        assert states[event].dead and states[event].attempts <= 2
        assert len(hook.events(event)) == states[event].attempts


def test_a_receiver_that_never_answers_2xx_dead_letters_the_callback(tmp_path: Path) -> None:
    with (
        Receiver(lambda event, since: 500) as hook,
        dispatching(tmp_path, callback_max_attempts=4, callback_backoff_seconds=0.1) as live,
    ):
        task_id, _ = submit(live, "hooks-500", hook.url)
        states = by_event(settled(live, task_id))
    final = states["succeeded"]
    assert (final.delivered, final.dead, final.attempts) == (False, True, 4)
    assert final.last_error == "HTTP 500"
    assert len(hook.events("succeeded")) == 4
    for event in ("queued", "running"):
        error = states[event].last_error
        assert states[event].dead and states[event].attempts <= 2
        assert error is not None and error.startswith("HTTP 500")


def test_a_2xx_that_comes_too_late_is_a_failure(tmp_path: Path) -> None:
    def slow(event: str, since: float) -> int:
        time.sleep(1.0)
        return 200

    with (
        Receiver(slow) as hook,
        dispatching(
            tmp_path,
            callback_timeout_seconds=0.3,
            callback_max_attempts=4,
            callback_backoff_seconds=0.1,
        ) as live,
    ):
        task_id, _ = submit(live, "hooks-slow", hook.url)
        final = by_event(settled(live, task_id))["succeeded"]
    assert (final.delivered, final.dead, final.attempts) == (False, True, 4)
    assert final.last_error == "no answer within 0.3 s"


def test_redirects_are_not_followed(tmp_path: Path) -> None:
    with (
        Receiver(lambda event, since: 302) as hook,
        dispatching(tmp_path, callback_max_attempts=4, callback_backoff_seconds=0.1) as live,
    ):
        task_id, _ = submit(live, "hooks-302", hook.url)
        final = by_event(settled(live, task_id))["succeeded"]
    assert final.dead and final.last_error == "HTTP 302 (redirects are not followed)"
    # One request per attempt: the Location (the same URL) was never requested.
    assert len(hook.events("succeeded")) == final.attempts == 4


def test_a_private_callback_url_is_dead_lettered_without_a_request(tmp_path: Path) -> None:
    with (
        Receiver(lambda event, since: 200) as hook,
        dispatching(tmp_path, dispatcher_settings={"allow_private_urls": False}) as live,
    ):
        task_id, _ = submit(live, "hooks-private", hook.url)
        states = settled(live, task_id)
    assert [(s.event, s.dead, s.attempts) for s in states] == [
        ("queued", True, 1), ("running", True, 1), ("succeeded", True, 1),
    ]  # fmt: skip
    for state in states:
        assert state.last_error is not None and "non-public address" in state.last_error
    assert hook.events() == []


@pytest.mark.parametrize(
    "url, allow_private, refused",
    [
        ("ftp://example.com/hook", True, "http and https"),
        ("http:///no-host", True, "http and https"),
        ("http://127.0.0.1:8080/hook", False, "non-public"),
        ("http://10.1.2.3/hook", False, "non-public"),
        ("http://169.254.169.254/latest/meta-data", False, "non-public"),
        ("http://[::1]/hook", False, "non-public"),
        ("http://[::ffff:127.0.0.1]/hook", False, "non-public"),
        ("http://127.0.0.1:8080/hook", True, None),
        ("https://93.184.215.14/hook", False, None),
    ],
)
def test_callback_url_rules(url: str, allow_private: bool, refused: str | None) -> None:
    if refused is None:
        asyncio.run(check_callback_url(url, allow_private))
    else:
        with pytest.raises(UndeliverableUrl, match=refused):
            asyncio.run(check_callback_url(url, allow_private))


def test_default_retry_schedule_outlasts_a_minute_long_outage(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    schedule = retry_schedule(settings)
    assert schedule == [2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert len(schedule) + 1 == settings.callback_max_attempts
    assert sum(schedule) == 810 > 60
    # API.md: terminal pushes are retried at least 3 times.
    assert sum(1 for attempt in range(1, 20) if retry_in(settings, "failed", attempt)) >= 3
    assert retry_in(settings, "expired", settings.callback_max_attempts) is None
    assert retry_in(settings, "running", 1) == 2
    assert retry_in(settings, "running", 2) is None
