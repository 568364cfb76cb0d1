"""What both clients share about HTTP: where to connect and with which key, when to retry,
and which error an answer means. Pure functions; the sync and async clients do the I/O.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from kinema import __version__
from kinema.client._dialects import DIALECTS, Dialect
from kinema.client.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequest,
    ContentPolicyViolation,
    InsufficientBalance,
    InvalidParameter,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
)

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
"""Where ``kinema serve`` listens by default."""
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
MAX_RETRY_WAIT = 60.0
"""A ``Retry-After`` longer than this is reported (``RateLimited``) rather than slept through."""

_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Errors raised before a request left: resending cannot duplicate anything.
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_CONTENT_POLICY = frozenset(
    {"content_policy_violation", "InputTextSensitiveContentDetected",
     "InputImageSensitiveContentDetected", "InputVideoSensitiveContentDetected",
     "InputAudioSensitiveContentDetected"}
)  # fmt: skip
_PARAMETER = frozenset({"InvalidParameter", "MissingParameter", "invalid_parameter",
                        "missing_parameter"})  # fmt: skip
_BALANCE = frozenset({"insufficient_balance", "AccountOverdueError"})


@dataclass(frozen=True)
class Config:
    """A client's settings, resolved once from its arguments and the environment."""

    base_url: str
    api_key: str
    dialect: Dialect
    max_retries: int

    def url(self, path: str) -> str:
        return self.base_url + path

    def headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers


def resolve_config(
    base_url: str | None, api_key: str | None, format: str, max_retries: int
) -> Config:
    """Arguments first, then ``KINEMA_BASE_URL`` / ``KINEMA_API_KEY``; one clear error if a key
    is missing or the base URL or format is wrong."""
    base = (base_url or os.environ.get("KINEMA_BASE_URL") or DEFAULT_BASE_URL).strip()
    key = (api_key or os.environ.get("KINEMA_API_KEY") or "").strip()
    if not key:
        raise AuthenticationError("no API key: pass api_key=... or set KINEMA_API_KEY")
    if not base.startswith(("http://", "https://")):
        raise InvalidParameter(
            f"base URL must start with http:// or https://, not {base!r}", param="base_url"
        )
    base = base.rstrip("/")
    # The official SDKs are configured with ".../api/v3"; accept that spelling too.
    base = base.removesuffix("/api/v3")
    if format not in DIALECTS:
        raise InvalidParameter(
            f"format must be one of {', '.join(DIALECTS)}, not {format!r}", param="format"
        )
    return Config(base, key, DIALECTS[format], max(0, max_retries))


def client_headers() -> dict[str, str]:
    return {"User-Agent": f"kinema-python/{__version__}"}


def backoff(attempt: int) -> float:
    """0.5, 1, 2, 4, 8 s, less up to a quarter at random so clients do not retry in step."""
    return min(8.0, 0.5 * 2.0**attempt) * (1 - 0.25 * random.random())


def retry_delay(
    attempt: int,
    max_retries: int,
    response: httpx.Response | None = None,
    error: httpx.TransportError | None = None,
    resend: bool = True,
) -> float | None:
    """Seconds to wait before trying again, or None to give up.

    ``resend`` says whether a request that may have reached the server can be sent again
    without doing anything twice (reads, and submits, which carry an idempotency key).
    """
    if attempt >= max_retries:
        return None
    if error is not None:
        return backoff(attempt) if resend or isinstance(error, _UNSENT) else None
    assert response is not None
    # Kinema (and the Ark services) say so explicitly: a 5xx create must not be sent again.
    hint = response.headers.get("x-should-retry", "").lower()
    if hint == "false" or (hint != "true" and response.status_code not in _RETRY_STATUSES):
        return None
    after = retry_after(response.headers)
    if after is not None:
        return after if after <= MAX_RETRY_WAIT else None
    return backoff(attempt)


def retry_after(headers: httpx.Headers) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), if present."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def connection_error(config: Config, error: httpx.TransportError) -> APIConnectionError:
    reason = str(error) or type(error).__name__
    return APIConnectionError(f"cannot reach {config.base_url}: {reason}")


def parse_json(response: httpx.Response) -> Mapping[str, Any]:
    """A successful answer's JSON object; GPTProto's envelope may carry an error with 200."""
    try:
        body = response.json()
    except ValueError:
        raise APIError(
            f"the server answered HTTP {response.status_code} with something other than JSON "
            f"(is {response.request.url.copy_with(path='/', query=None)} a Seedance API?)",
            status=response.status_code,
        ) from None
    if not isinstance(body, Mapping):
        raise APIError("the server answered with JSON that is not an object",
                       status=response.status_code)  # fmt: skip
    code = body.get("code")
    if isinstance(code, int) and code != 200 and body.get("data") is None and "message" in body:
        raise api_error(code, body, response.headers)
    return body


def error_for(response: httpx.Response) -> APIError:
    """The typed error an error answer means (its body must have been read)."""
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text.strip()[:300]}
    if not isinstance(body, Mapping):
        body = {}
    return api_error(response.status_code, body, response.headers)


def api_error(status: int, body: Mapping[str, Any], headers: httpx.Headers) -> APIError:
    error = body.get("error")
    fields: Mapping[str, Any] = error if isinstance(error, Mapping) else {}
    message = fields.get("message") or (error if isinstance(error, str) else None)
    message = str(message or body.get("message") or f"HTTP {status}")
    code = fields.get("code") if isinstance(fields.get("code"), str) else None
    param = fields.get("param") if isinstance(fields.get("param"), str) else None
    common: dict[str, Any] = {"status": status, "code": code, "body": body}
    if status in (400, 413, 422):
        if code in _CONTENT_POLICY:
            return ContentPolicyViolation(message, **common)
        if param is not None or code in _PARAMETER:
            return InvalidParameter(message, param=param, **common)
        return BadRequest(message, **common)
    if status == 401:
        return AuthenticationError(message, **common)
    if status == 403:
        if code in _BALANCE or "balance" in message.lower():
            return InsufficientBalance(message, **common)
        return PermissionDenied(message, **common)
    if status in (404, 410):
        return NotFound(message, **common)
    if status == 429:
        return RateLimited(message, retry_after=retry_after(headers), **common)
    if status >= 500:
        return ServerError(message, **common)
    return APIError(message, **common)
