"""Errors the Kinema client raises; every one is a :class:`KinemaError`.

The tree::

    KinemaError                     anything the client raises
    ├── APIError                    the server answered with an error status
    │   ├── BadRequest              400
    │   │   ├── InvalidParameter    400  a field is wrong; ``param`` names it
    │   │   └── ContentPolicyViolation  400  the prompt or an input image was refused
    │   ├── AuthenticationError     401  no key, or a key the server does not accept
    │   ├── PermissionDenied        403  the key may not do this (e.g. use this model)
    │   ├── InsufficientBalance     403  the account cannot pay for the task
    │   ├── NotFound                404  unknown task or model (or an expired file: 410)
    │   ├── RateLimited             429  ``retry_after`` seconds, when the server said
    │   └── ServerError             5xx
    ├── APIConnectionError          the server could not be reached, or the connection broke
    ├── NotSupported                the server lacks an optional route (a Kinema extension)
    ├── TaskFailed                  the task ended ``failed``, ``expired`` or ``cancelled``
    └── Timeout                     waiting took longer than allowed (the task goes on)

These are the client's own classes, unrelated to the server's ``kinema.domain.errors``: a
client may talk to any Seedance service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kinema.client.types import Task


class KinemaError(Exception):
    """Base of every error the Kinema client raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class APIError(KinemaError):
    """The server answered with an error; ``status``, ``code`` and the parsed ``body``."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.body: Mapping[str, Any] = body or {}


class BadRequest(APIError):
    """The server refused the request as malformed (400, 413)."""


class InvalidParameter(BadRequest):
    """A request field is missing or not allowed; ``param`` names it when known."""

    def __init__(self, message: str, *, param: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.param = param


class ContentPolicyViolation(BadRequest):
    """The prompt or an input was refused by the service's content policy."""


class AuthenticationError(APIError):
    """No API key was given, or the server does not accept it (401)."""


class PermissionDenied(APIError):
    """The key is valid but may not do this, e.g. use this model (403)."""


class InsufficientBalance(APIError):
    """The account's balance does not cover the task (403)."""


class NotFound(APIError):
    """No such task or model for this key (404), or an output file that is gone (410)."""


class RateLimited(APIError):
    """Too many requests or queued tasks (429); ``retry_after`` seconds, when the server said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """The server failed (5xx)."""


class APIConnectionError(KinemaError):
    """The server could not be reached, or the connection broke, after the allowed retries."""


class NotSupported(KinemaError):
    """The server does not offer this operation (an optional route, e.g. a Kinema extension)."""


class TaskFailed(KinemaError):
    """The task ended without a video (``failed``, ``expired`` or ``cancelled``); see ``task``."""

    def __init__(self, task: Task) -> None:
        reason = task.error or "no reason given"
        code = f" ({task.error_code})" if task.error_code else ""
        super().__init__(f"task {task.id} {task.status.value}: {reason}{code}")
        self.task = task


class Timeout(KinemaError, TimeoutError):
    """Waiting for a task took longer than allowed; ``task`` is its last state (it goes on)."""

    def __init__(self, message: str, task: Task | None = None) -> None:
        super().__init__(message)
        self.task = task
