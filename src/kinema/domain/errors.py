"""Domain errors, raised below the API and rendered once per dialect (``kinema.api.errors``).

The tree::

    KinemaError
    ├── InvalidParameter        400  a field is missing, of the wrong type or out of range
    │   └── MissingParameter    400  a required field is absent
    ├── AuthenticationFailed    401  missing, unknown or revoked API key
    ├── AccessDenied            403  the key may not use this model
    ├── InsufficientBalance     403  the account cannot pay for the task
    ├── NotFound                404
    │   ├── TaskNotFound        404  unknown task, or another account's
    │   └── ModelNotFound       404  unknown model id
    ├── InvalidState            400  the operation does not apply to the task's status
    ├── ContentPolicyViolation  400  the prompt may not meet the content guidelines
    │   └── InputImageSensitive 400  an input image may not meet them
    ├── PayloadTooLarge         413
    ├── HeadersTooLarge         431  the request's headers are larger than the server accepts
    └── RateLimited             429  carries ``retry_after``
        └── QuotaExceeded       429  too many queued tasks
"""

from __future__ import annotations


class KinemaError(Exception):
    """Base of every error a client may see; ``status`` is the HTTP status it maps to."""

    status = 500
    ark_code = "InternalServiceError"
    gptproto_code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidParameter(KinemaError):
    """A request field is malformed, of the wrong type, or outside what the model allows."""

    status = 400
    ark_code = "InvalidParameter"
    gptproto_code = "invalid_parameter"

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


class MissingParameter(InvalidParameter):
    """A required request field is absent."""

    ark_code = "MissingParameter"
    gptproto_code = "missing_parameter"


class AuthenticationFailed(KinemaError):
    """No API key, or one that matches no account."""

    status = 401
    ark_code = "AuthenticationError"
    gptproto_code = "invalid_api_key"


class AccessDenied(KinemaError):
    """The key is known but may not do this (e.g. the model is not among its models)."""

    status = 403
    ark_code = "AccessDenied"
    gptproto_code = "access_denied"


class InsufficientBalance(KinemaError):
    """The account's balance does not cover the task's price."""

    status = 403
    ark_code = "AccountOverdueError"
    gptproto_code = "insufficient_balance"

    def __init__(self, message: str = "Insufficient balance") -> None:
        super().__init__(message)


class NotFound(KinemaError):
    """Something addressed by the request does not exist (for this account)."""

    status = 404
    ark_code = "ResourceNotFound"
    gptproto_code = "not_found"


class TaskNotFound(NotFound):
    """No such task for this account (another account's task looks exactly the same)."""

    def __init__(self, task_id: str) -> None:
        super().__init__(f"task {task_id} not found")
        self.task_id = task_id


class ModelNotFound(NotFound):
    """The model id is not in the catalog."""

    ark_code = "InvalidEndpointOrModel.NotFound"
    gptproto_code = "model_not_found"

    def __init__(self, model: str, known: list[str]) -> None:
        super().__init__(f"model {model!r} not found; available models: {', '.join(known)}")
        self.model = model


class InvalidState(KinemaError):
    """The task's status does not allow the operation (never 409: the Ark SDKs retry 409)."""

    status = 400
    ark_code = "InvalidParameter"
    gptproto_code = "invalid_state"


class PayloadTooLarge(KinemaError):
    """The request body is larger than the server accepts."""

    status = 413
    ark_code = "InvalidParameter"
    gptproto_code = "payload_too_large"


class RateLimited(KinemaError):
    """Too many requests; try again after ``retry_after`` seconds."""

    status = 429
    ark_code = "RateLimitExceeded"
    gptproto_code = "rate_limit_exceeded"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QuotaExceeded(RateLimited):
    """The account already has as many queued tasks as it may."""

    ark_code = "QuotaExceeded"
    gptproto_code = "quota_exceeded"


CONTENT_POLICY_MESSAGE = "Input may not meet the guidelines. Please adjust and try again."
"""The contract's message for a refused input (API.md §2.3), whatever the category."""

OUTPUT_SENSITIVE_CODE = "OutputVideoSensitiveContentDetected"
"""``error.code`` of a task whose output was flagged by the output screen (API.md §3)."""


class ContentPolicyViolation(KinemaError):
    """The prompt may not meet the content guidelines (the seed's "503", sent as 400).

    ``category`` and ``source`` are for the operator's logs; the client sees only the contract's
    message, so the screen's rules cannot be probed term by term.
    """

    status = 400
    ark_code = "InputTextSensitiveContentDetected"
    gptproto_code = "content_policy_violation"

    def __init__(self, category: str, source: str, param: str | None = None) -> None:
        super().__init__(CONTENT_POLICY_MESSAGE)
        self.category = category
        self.source = source
        self.param = param


class InputImageSensitive(ContentPolicyViolation):
    """An input image may not meet the content guidelines."""

    ark_code = "InputImageSensitiveContentDetected"


class HeadersTooLarge(KinemaError):
    """The request's headers (with its path and query) are larger than the server accepts."""

    status = 431
    ark_code = "InvalidParameter"
    gptproto_code = "request_header_fields_too_large"
