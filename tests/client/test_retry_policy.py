"""When the client sends a request again: the decisions behind every retry (no server needed)."""

from __future__ import annotations

import httpx
import pytest

from kinema.client._http import retry_delay

MAX = 2


def answer(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


@pytest.mark.parametrize(
    ("response", "retried"),
    [
        (answer(503), True),
        (answer(502), True),
        (answer(429), True),
        (answer(500, **{"x-should-retry": "false"}), False),  # Kinema: a failed create stays failed
        (answer(409, **{"x-should-retry": "true"}), True),
        (answer(400), False),
        (answer(401), False),
        (answer(404), False),
    ],
)
def test_statuses(response: httpx.Response, retried: bool) -> None:
    assert (retry_delay(0, MAX, response=response) is not None) is retried


def test_retry_after_is_honoured_up_to_a_minute() -> None:
    assert retry_delay(0, MAX, response=answer(429, **{"retry-after": "2"})) == 2.0
    assert retry_delay(0, MAX, response=answer(429, **{"retry-after": "120"})) is None


def test_attempts_are_limited_and_back_off() -> None:
    delays = [retry_delay(attempt, 5, response=answer(503)) for attempt in range(6)]
    assert delays[-1] is None
    assert all(d is not None and 0.375 * 2**i <= d <= 0.5 * 2**i for i, d in enumerate(delays[:4]))


def test_a_request_that_may_have_arrived_is_resent_only_when_safe() -> None:
    lost = httpx.ReadError("connection reset")
    unsent = httpx.ConnectError("connection refused")
    assert retry_delay(0, MAX, error=lost, resend=True) is not None  # reads, idempotent submits
    assert retry_delay(0, MAX, error=lost, resend=False) is None  # deletes
    assert retry_delay(0, MAX, error=unsent, resend=False) is not None
