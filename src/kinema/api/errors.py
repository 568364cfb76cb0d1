"""Domain errors rendered once, in the dialect of the route that raised them (API.md §2.3, §3).

GPTProto: ``{"error": {"message", "type": "<status>", "code"}}``.
Ark: ``{"error": {"code", "message", "param", "type"}}``.
Nothing a client sees is FastAPI's default 422 or a stack trace.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kinema.domain.errors import (
    ContentPolicyViolation,
    InvalidParameter,
    KinemaError,
    NotFound,
    RateLimited,
)

log = logging.getLogger(__name__)

ARK_PREFIX = "/api/v3/contents/generations"

_ARK_TYPES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "RequestEntityTooLarge",
    431: "RequestHeaderFieldsTooLarge",
    429: "TooManyRequests",
    500: "InternalServerError",
}


class Dialect(StrEnum):
    GPTPROTO = "gptproto"
    ARK = "ark"


def dialect_of(request: Request) -> Dialect:
    return Dialect.ARK if request.url.path.startswith(ARK_PREFIX) else Dialect.GPTPROTO


def error_body(dialect: Dialect, error: KinemaError) -> dict[str, Any]:
    if dialect is Dialect.ARK:
        body: dict[str, Any] = {
            "code": error.ark_code,
            "message": error.message,
            "type": _ARK_TYPES.get(error.status, "Error"),
        }
        if isinstance(error, InvalidParameter):
            body["param"] = error.param
        elif isinstance(error, ContentPolicyViolation) and error.param:
            body["param"] = error.param  # which input image
        return {"error": body}
    body = {"message": error.message, "type": str(error.status), "code": error.gptproto_code}
    if isinstance(error, InvalidParameter):
        body["param"] = error.param
    return {"error": body}


def error_response(request: Request, error: KinemaError) -> JSONResponse:
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    if error.status >= 500 or error.status == 429:
        # The Ark SDKs retry these; a create that failed for good must not be sent again.
        headers["x-should-retry"] = "false" if error.status >= 500 else "true"
    return JSONResponse(
        error_body(dialect_of(request), error), status_code=error.status, headers=headers
    )


class _HttpError(KinemaError):
    """A plain HTTP error from routing (unknown path, wrong method) in the dialect's shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.ark_code = {404: NotFound.ark_code, 405: "MethodNotAllowed"}.get(
            status, "InvalidParameter"
        )
        self.gptproto_code = {404: "not_found", 405: "method_not_allowed"}.get(
            status, "bad_request"
        )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KinemaError)
    async def on_kinema_error(request: Request, exc: KinemaError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Path and query parameters declared on routes; bodies are parsed by hand.
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(part) for part in first.get("loc", ()) if part not in ("query", "path", "body")]
        param = ".".join(loc) or "request"
        message = f"{param}: {first.get('msg', 'invalid value')}"
        return error_response(request, InvalidParameter(param, message))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return error_response(request, _HttpError(exc.status_code, message))

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        error = KinemaError("internal error; the problem has been logged")
        return error_response(request, error)
