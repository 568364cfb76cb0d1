"""Limits on the request itself, before any route runs: the size of its line and headers.

Bodies are limited where they are read (``kinema.api.body``: 413). Headers are limited twice:
this middleware answers 431 in the dialect's error shape past ``max_header_bytes``, and the HTTP
parser (uvicorn's h11) stops reading at twice that, answering 400 and closing the connection,
so a client cannot make the server buffer headers without end.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from kinema.api.errors import error_response
from kinema.config import Settings
from kinema.domain.errors import HeadersTooLarge

_LINE_OVERHEAD = 4
"""``: `` and CRLF around each header."""


def request_head_bytes(scope: Scope) -> int:
    """The size of the request line's target and of every header, as sent."""
    target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"])
    return target + sum(len(n) + len(v) + _LINE_OVERHEAD for n, v in scope["headers"])


class HeaderLimit:
    """431 for a request whose target plus headers exceed ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and request_head_bytes(scope) > self.max_bytes:
            error = HeadersTooLarge(
                f"request headers are larger than {self.max_bytes} bytes (with the URL)"
            )
            response = error_response(Request(scope), error)
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def server_limits(settings: Settings) -> dict[str, Any]:
    """``uvicorn.Config`` arguments: h11 stops reading a request head at twice the limit."""
    return {"h11_max_incomplete_event_size": 2 * settings.max_header_bytes}
