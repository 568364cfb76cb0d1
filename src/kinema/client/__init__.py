"""The Kinema Python client: one client for every Seedance endpoint.

```python
from kinema.client import Client

video = Client().generate("a red kite over the sea at sunset", output="kite.mp4")
print(video.path, video.task.seed)
```

``Client`` and ``AsyncClient`` speak only the public contract (GPTProto's format by default,
``format="ark"`` for the Ark one), so the same code works against Kinema, GPTProto's hosted
API or an Ark endpoint given that service's key. Kinema's extras (cancelling a running task,
progress, the model list, the account) are used where the server offers them.

This package imports only httpx: it is what a user installs to talk to a server.
"""

from kinema.client._async import AsyncClient
from kinema.client._inputs import DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL
from kinema.client._progress import DEFAULT_WAIT_TIMEOUT
from kinema.client._sync import Client
from kinema.client.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequest,
    ContentPolicyViolation,
    InsufficientBalance,
    InvalidParameter,
    KinemaError,
    NotFound,
    NotSupported,
    PermissionDenied,
    RateLimited,
    ServerError,
    TaskFailed,
    Timeout,
)
from kinema.client.types import (
    Account,
    Format,
    Generation,
    Image,
    Model,
    SubmitOptions,
    Task,
    TaskPage,
    TaskStatus,
)

__all__ = [
    "DEFAULT_IMAGE_MODEL",
    "DEFAULT_TEXT_MODEL",
    "DEFAULT_WAIT_TIMEOUT",
    "APIConnectionError",
    "APIError",
    "Account",
    "AsyncClient",
    "AuthenticationError",
    "BadRequest",
    "Client",
    "ContentPolicyViolation",
    "Format",
    "Generation",
    "Image",
    "InsufficientBalance",
    "InvalidParameter",
    "KinemaError",
    "Model",
    "NotFound",
    "NotSupported",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "SubmitOptions",
    "Task",
    "TaskFailed",
    "TaskPage",
    "TaskStatus",
    "Timeout",
]
