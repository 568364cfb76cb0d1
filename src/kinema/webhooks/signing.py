"""The ``X-Kinema-Signature`` header: ``t=<unix>,v1=<hex hmac-sha256(secret, "<t>." + body)>``.

The timestamp is part of what is signed, so a receiver that checks it (``verify`` does) cannot be
fed an old delivery again later. The signature covers the exact bytes sent: a receiver must
verify the raw body before parsing it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Kinema-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    return f"t={timestamp},{SCHEME}={_digest(secret, body, timestamp)}"


def verify(
    secret: str,
    body: bytes,
    header: str,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` at a time within ``tolerance_seconds``.

    Any ``v1`` entry may match (so a sender may list several while a secret is rotated); a
    malformed header is simply not valid.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                return False
            timestamp = int(value)
        elif key == SCHEME:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = _digest(secret, body, timestamp)
    # Check every candidate, without stopping early, in constant time each.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected.encode(), candidate.encode("ascii", "replace"))
    return matched


def _digest(secret: str, body: bytes, timestamp: int) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
