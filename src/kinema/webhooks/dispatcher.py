"""The webhook dispatcher: leases due callbacks from the outbox, POSTs them, settles each one.

Callbacks are written to the outbox in the same transaction as the status change they report
(ARCHITECTURE.md decision 7); this module is the other half. Each delivery is a signed JSON POST
(``X-Kinema-Signature``, see ``kinema.webhooks.signing``) that succeeds on a 2xx answer within
``callback_timeout_seconds``; redirects are never followed, so a 3xx is a failure.

Retries (``retry_in``): a terminal event (succeeded, failed, expired, cancelled) is what a
receiver cannot miss, so it is retried with exponential backoff, ``callback_backoff_seconds``
doubling per failed attempt up to ``callback_backoff_max_seconds``, for
``callback_max_attempts`` attempts in all, then dead-lettered with its last error. With the
defaults (2 s, cap 300 s, 10 attempts) the waits are 2, 4, 8, 16, 32, 64, 128, 256 and 300 s:
the last attempt comes about 13.5 minutes after the first. A progress event (queued, running)
is worth little once stale, so it gets at most ``NON_TERMINAL_ATTEMPTS`` attempts, and none
more once a later event of the same task is in hand. A URL that is not http(s), or (unless
``allow_private_urls``) resolves to a non-public address, is dead-lettered at once.

Order: the events of one task are sent one after another, oldest first; different tasks'
events go out concurrently. ``X-Kinema-Delivery`` (the outbox id) is the same on every attempt
at one event, so a receiver can drop the duplicates that at-least-once delivery allows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import threading
import time

import httpx

from kinema.config import Settings
from kinema.domain.task import TERMINAL
from kinema.safety.addresses import Target, UnresolvableHost, UnsafeTarget, resolve_target
from kinema.store.outbox import Callback
from kinema.store.sql import SqlStore
from kinema.webhooks.signing import SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)

BATCH_SIZE = 16
"""Callbacks leased per pass; all of them may be in flight at once."""
NON_TERMINAL_ATTEMPTS = 2
LEASE_MARGIN_SECONDS = 30.0
MAX_ERROR_CHARS = 500
MAX_IDLE_AFTER_ERROR_SECONDS = 30.0
USER_AGENT = "Kinema-Webhooks"
TERMINAL_EVENTS = frozenset(status.value for status in TERMINAL)


class DeliveryFailed(Exception):
    """An attempt failed; the message (the outbox's ``last_error``) says why."""

    permanent = False


class UndeliverableUrl(DeliveryFailed):
    """The callback URL may never be called: it is dead-lettered without a request."""

    permanent = True


def backoff(settings: Settings, attempts: int) -> float:
    """The wait after the ``attempts``-th failed attempt: doubling from the base, capped."""
    # Cap the exponent too, so a huge attempt count cannot overflow the float.
    exponent = min(attempts - 1, 64)
    return min(
        settings.callback_backoff_seconds * 2.0**exponent, settings.callback_backoff_max_seconds
    )


def retry_in(settings: Settings, event: str, attempts: int) -> float | None:
    """Seconds until the next attempt after ``attempts`` failed ones; None: dead-letter it."""
    limit = settings.callback_max_attempts if event in TERMINAL_EVENTS else NON_TERMINAL_ATTEMPTS
    return None if attempts >= limit else backoff(settings, attempts)


def retry_schedule(settings: Settings) -> list[float]:
    """Every wait a terminal callback that keeps failing goes through, in order."""
    return [backoff(settings, attempt) for attempt in range(1, settings.callback_max_attempts)]


async def check_callback_url(url: str, allow_private: bool) -> Target:
    """Refuse (``UndeliverableUrl``) a URL that is not http(s) or reaches a non-public host, and
    pin the delivery to the address checked.

    The same rule as input fetching (``kinema.safety.addresses``): a callback must not become a
    way to make the server call into its own network.
    """
    try:
        return await resolve_target(url, allow_private)
    except UnsafeTarget as exc:
        raise UndeliverableUrl(f"callback_url refused: {exc}") from None
    except UnresolvableHost as exc:
        # Name resolution can fail for a while and then work again: retry, do not dead-letter.
        raise DeliveryFailed(str(exc)) from None


def encode_payload(payload: object) -> bytes:
    """The body bytes: serialised once, so the signature covers exactly what is sent."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class Dispatcher:
    """Delivers the outbox. Several may run at once (in one process or many): leases keep any
    one callback with one dispatcher at a time."""

    def __init__(self, settings: Settings, store: SqlStore, *, owner: str | None = None) -> None:
        self.settings = settings
        self.store = store
        self.owner = owner or _default_owner()

    @property
    def lease_seconds(self) -> float:
        """Long enough for a whole pass even if one task's events fill the batch, sent serially.

        A lease only matters when a dispatcher dies mid-pass; too short a lease would let a
        second dispatcher send the same event while the first is still waiting on it.
        """
        return self.settings.callback_timeout_seconds * BATCH_SIZE + LEASE_MARGIN_SECONDS

    def deliver_due(self) -> int:
        """Lease a batch of due callbacks, attempt each once, settle each; returns how many.

        Blocks until the batch is settled (at most about ``callback_timeout_seconds`` per event
        of the busiest task). Call it from a thread with no running event loop.
        """
        callbacks = self.store.claim_callbacks(self.owner, BATCH_SIZE, self.lease_seconds)
        if callbacks:
            asyncio.run(self._deliver_batch(callbacks))
        return len(callbacks)

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set: straight on while there is work, else every
        ``callback_poll_seconds``. Errors are logged, never raised."""
        failures = 0
        while not stop.is_set():
            try:
                attempted = self.deliver_due()
                failures = 0
            except Exception:
                # The database may be away for a while: back off rather than flood the log.
                failures += 1
                log.exception("webhook dispatcher pass failed (%d in a row)", failures)
                wait = min(
                    self.settings.callback_poll_seconds * 2.0 ** min(failures, 16),
                    MAX_IDLE_AFTER_ERROR_SECONDS,
                )
                stop.wait(wait)
                continue
            if not attempted:
                stop.wait(self.settings.callback_poll_seconds)

    def start(self, stop: threading.Event) -> threading.Thread:
        """Run in a daemon thread (it never blocks the caller); returns the thread."""
        thread = threading.Thread(target=self.run, args=(stop,), name="webhooks", daemon=True)
        thread.start()
        return thread

    # -- one pass ----------------------------------------------------------------------------

    async def _deliver_batch(self, callbacks: list[Callback]) -> None:
        by_task: dict[str, list[Callback]] = {}
        for callback in callbacks:  # claimed oldest first, so each list is in event order
            by_task.setdefault(callback.task_id, []).append(callback)
        timeout = httpx.Timeout(self.settings.callback_timeout_seconds)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            await asyncio.gather(
                *(self._deliver_in_order(client, events) for events in by_task.values())
            )

    async def _deliver_in_order(self, client: httpx.AsyncClient, events: list[Callback]) -> None:
        for index, callback in enumerate(events):
            error = await self._attempt(client, callback)
            later = events[index + 1] if index + 1 < len(events) else None
            # Settle off the event loop: a slow database write must not eat into the time
            # other deliveries in flight are given to answer.
            await asyncio.to_thread(self._settle, callback, error, later)

    async def _attempt(
        self, client: httpx.AsyncClient, callback: Callback
    ) -> DeliveryFailed | None:
        """One attempt; None on success, else why it failed."""
        limit = self.settings.callback_timeout_seconds
        try:
            await asyncio.wait_for(self._post(client, callback), timeout=limit)
        except DeliveryFailed as exc:
            return exc
        except TimeoutError:
            return DeliveryFailed(f"no answer within {limit:g} s")
        except httpx.HTTPError as exc:
            detail = str(exc)
            return DeliveryFailed(
                f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
            )
        except Exception as exc:  # a bug here must cost one attempt, not the whole pass
            log.exception("callback %d: unexpected error while delivering", callback.id)
            return DeliveryFailed(f"internal error: {type(exc).__name__}")
        return None

    async def _post(self, client: httpx.AsyncClient, callback: Callback) -> None:
        target = await check_callback_url(callback.url, self.settings.allow_private_urls)
        body = encode_payload(callback.payload)
        headers = {
            **target.headers,
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(callback.secret, body, int(time.time())),
            "X-Kinema-Event": callback.event,
            "X-Kinema-Delivery": str(callback.id),
            "User-Agent": USER_AGENT,
        }
        # Streamed and never read: only the status line matters, and a receiver's large
        # answer must not be buffered here.
        request = client.build_request(
            "POST", target.url, content=body, headers=headers, extensions=target.extensions
        )
        answer = await client.send(request, stream=True)
        status = answer.status_code
        await answer.aclose()
        if 200 <= status < 300:
            return
        if 300 <= status < 400:
            raise DeliveryFailed(f"HTTP {status} (redirects are not followed)")
        raise DeliveryFailed(f"HTTP {status}")

    def _settle(
        self, callback: Callback, error: DeliveryFailed | None, later: Callback | None
    ) -> None:
        try:
            if error is None:
                self.store.callback_delivered(callback, self.owner)
                return
            message = str(error)[:MAX_ERROR_CHARS]
            wait = (
                None
                if error.permanent
                else retry_in(self.settings, callback.event, callback.attempts)
            )
            if wait is not None and later is not None and callback.event not in TERMINAL_EVENTS:
                # Retrying would deliver this progress event after the newer one.
                wait = None
                message = f"{message}; superseded by {later.event}"[:MAX_ERROR_CHARS]
            self.store.callback_failed(callback, self.owner, message, wait)
            if wait is None:
                log.warning(
                    "callback %d (task %s, %s) dead-lettered after %d attempt(s): %s",
                    callback.id,
                    callback.task_id,
                    callback.event,
                    callback.attempts,
                    message,
                )
            else:
                log.info(
                    "callback %d (task %s, %s) attempt %d failed, retry in %g s: %s",
                    callback.id,
                    callback.task_id,
                    callback.event,
                    callback.attempts,
                    wait,
                    message,
                )
        except Exception:
            # The lease runs out and the callback comes due again: nothing is lost.
            log.exception("callback %d: could not record the outcome", callback.id)


def _default_owner() -> str:
    return f"webhooks-{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}"
