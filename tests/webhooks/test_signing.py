"""X-Kinema-Signature: the header format API.md gives, and what ``verify`` accepts."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from kinema.webhooks.signing import sign, verify

SECRET = "whsec_test-secret"
BODY = b'{"id":"cgt-1","status":"succeeded"}'
T = 1_700_000_000


def test_header_is_t_and_hex_hmac_of_t_dot_body() -> None:
    header = sign(SECRET, BODY, T)
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    # Recomputed from the wording of API.md, not from the implementation.
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_round_trip_verifies() -> None:
    assert verify(SECRET, BODY, sign(SECRET, BODY, T), now=T)
    assert verify(SECRET, b"", sign(SECRET, b"", T), now=T + 10)


@pytest.mark.parametrize(
    "secret, body",
    [
        ("whsec_other", BODY),  # another account's secret
        (SECRET, BODY.replace(b"succeeded", b"failed")),  # body changed in transit
        (SECRET, BODY + b" "),  # even one byte
    ],
)
def test_tampering_is_rejected(secret: str, body: bytes) -> None:
    assert not verify(secret, body, sign(SECRET, BODY, T), now=T)


def test_changed_timestamp_is_rejected() -> None:
    signature = sign(SECRET, BODY, T).split(",")[1]
    assert not verify(SECRET, BODY, f"t={T + 1},{signature}", now=T)


def test_stale_and_future_timestamps_are_rejected() -> None:
    header = sign(SECRET, BODY, T)
    assert verify(SECRET, BODY, header, now=T + 299)
    assert not verify(SECRET, BODY, header, now=T + 301)
    assert not verify(SECRET, BODY, header, now=T - 301)
    assert verify(SECRET, BODY, header, tolerance_seconds=3600, now=T + 3000)


def test_any_v1_entry_may_match() -> None:
    good = sign(SECRET, BODY, T).split(",")[1]
    assert verify(SECRET, BODY, f"t={T},v1={'0' * 64},{good}", now=T)


GOOD_V1 = sign(SECRET, BODY, T).split(",")[1]


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        f"t={T}",
        GOOD_V1,  # no timestamp
        f"t=abc,{GOOD_V1}",
        f"t=+{T},{GOOD_V1}",
        f"t={T},t={T + 1},{GOOD_V1}",  # which time was signed is ambiguous
        f"t={T},{GOOD_V1},junk",
        f"t={T},v1=ünïcode",
    ],
)
def test_malformed_headers_are_rejected(header: str) -> None:
    assert not verify(SECRET, BODY, header, now=T)
