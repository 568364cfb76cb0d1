"""What the commands that talk to a server share: connection options, the client, and errors
turned into one line and an exit code scripts can rely on.

Exit codes: 0 ok, 1 anything else (server unreachable, server error, timeout), 2 bad input,
3 authentication or balance, 4 the task failed, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.markup import escape

from kinema.cli.common import err_console

if TYPE_CHECKING:
    from kinema.client import Client, KinemaError

EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_AUTH = 3
EXIT_TASK_FAILED = 4
EXIT_INTERRUPTED = 130

_PANEL = "Server"


class ApiFormat(StrEnum):
    """The dialect spoken to the server (API.md §2 GPTProto, §3 Ark)."""

    gptproto = "gptproto"
    ark = "ark"


BaseUrlOption = Annotated[
    str | None,
    typer.Option("--base-url", rich_help_panel=_PANEL, show_default=False,
                 help="Server to talk to (env: KINEMA_BASE_URL; default: http://127.0.0.1:8000)"),
]  # fmt: skip
ApiKeyOption = Annotated[
    str | None,
    typer.Option("--api-key", rich_help_panel=_PANEL, show_default=False,
                 help="API key, sk-... (env: KINEMA_API_KEY)"),
]  # fmt: skip
FormatOption = Annotated[
    ApiFormat,
    typer.Option("--format", rich_help_panel=_PANEL,
                 help="API format: gptproto (GPTProto's routes) or ark (ModelArk / Ark routes)"),
]  # fmt: skip

_MODES = {"first_frame": "first", "first_last_frame": "first+last", "reference": "refs"}
"""Short names of the modes, for a table: text, first frame, first + last frame, references."""
# A parameter the server names → the flag a person typed.
_FLAGS = {
    "prompt": "PROMPT", "model": "--model", "resolution": "--resolution", "ratio": "--ratio",
    "aspect_ratio": "--ratio", "duration": "--duration", "seed": "--seed",
    "generate_audio": "--audio", "camera_fixed": "--camera-fixed", "image": "--image",
    "last_image": "--last-image", "images": "--reference-image", "base_url": "--base-url",
}  # fmt: skip


class _Run:
    """Flags of this run of the command line, set by the root callback (``kinema --debug``)."""

    debug = False


def set_debug(enabled: bool) -> None:
    _Run.debug = enabled


def debug_enabled() -> bool:
    """Whether ``kinema --debug`` was given."""
    return _Run.debug


def fail(message: str, code: int) -> NoReturn:
    """One error line on stderr, then exit with ``code``."""
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def connect(base_url: str | None, api_key: str | None, api_format: ApiFormat) -> Client:
    """A client for the server the options (or the environment) name."""
    from kinema.client import Client

    if not (api_key or os.environ.get("KINEMA_API_KEY")):
        fail("no API key: pass --api-key or set KINEMA_API_KEY", EXIT_AUTH)
    with reported_errors():
        return Client(base_url, api_key, format=api_format.value)
    raise AssertionError("unreachable")  # reported_errors exits


@contextmanager
def reported_errors() -> Iterator[None]:
    """Client errors (and files that cannot be read or written) → one line and an exit code;
    the traceback too with ``--debug``."""
    from kinema.client import KinemaError

    try:
        yield
    except KinemaError as exc:
        message, code = explain(exc)
        _report(exc, message, code)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _report(exc, f"{where}{exc.strerror or exc}", EXIT_ERROR)


def _report(exc: BaseException, message: str, code: int) -> NoReturn:
    if debug_enabled():
        traceback.print_exception(exc)
    fail(message, code)


def explain(exc: KinemaError) -> tuple[str, int]:
    """What to tell a person about an error, and the exit code."""
    from kinema.client import errors as e

    match exc:
        case e.InvalidParameter(param=param) if param:
            flag = _FLAGS.get(param.split("[")[0].split(".")[0])
            return exc.message + (f" ({flag})" if flag else ""), EXIT_BAD_INPUT
        case e.ContentPolicyViolation():
            return (f"refused by the content policy: {exc.message} "
                    "(change the prompt or the images)", EXIT_BAD_INPUT)  # fmt: skip
        case e.BadRequest() | e.NotFound():
            return exc.message, EXIT_BAD_INPUT
        case e.AuthenticationError():
            hint = "" if "no API key" in exc.message else ": check --api-key or KINEMA_API_KEY"
            return f"authentication failed: {exc.message}{hint}", EXIT_AUTH
        case e.InsufficientBalance():
            return (f"{exc.message}: the account's balance does not cover this task; "
                    "top it up, or ask for a cheaper one", EXIT_AUTH)  # fmt: skip
        case e.PermissionDenied():
            return f"not allowed: {exc.message}", EXIT_AUTH
        case e.RateLimited(retry_after=after):
            wait = f"; try again in {after:g} s" if after else "; try again later"
            return f"rate limited: {exc.message}{wait}", EXIT_ERROR
        case e.APIConnectionError():
            return (f"{exc.message} (is the server running? check --base-url or "
                    "KINEMA_BASE_URL)", EXIT_ERROR)  # fmt: skip
        case e.TaskFailed():
            return exc.message, EXIT_TASK_FAILED
        case e.Timeout(task=task) if task is not None:
            return (f"gave up waiting: task {task.id} is still {task.status.value}; it goes on "
                    f"(kinema tasks show {task.id})", EXIT_ERROR)  # fmt: skip
    return exc.message, EXIT_ERROR


def print_fields(rows: list[tuple[str, object]]) -> None:
    """``name  value`` lines on stdout, never wrapped (links stay whole; scripts can read them);
    empty values are left out."""
    from kinema.cli.common import console

    width = max(len(name) for name, _ in rows) + 2
    for name, value in rows:
        if value not in (None, ""):
            console.print(f"[dim]{name:<{width}}[/dim]{escape(str(value))}", highlight=False,
                          soft_wrap=True)  # fmt: skip


def show_server_models(base_url: str | None, api_key: str | None) -> None:
    """``kinema models --remote``: the catalog a running server offers, as a table."""
    from rich import box
    from rich.table import Table

    from kinema.cli.common import console

    with connect(base_url, api_key, ApiFormat.gptproto) as client, reported_errors():
        models = client.models()
        table = Table(title=f"Models at {client.base_url}", box=box.SIMPLE_HEAD)
        table.add_column("id", no_wrap=True)
        for column in ("engine", "modes", "resolutions", "seconds", "audio"):
            table.add_column(column, overflow="fold")
        for model in models:
            low, high = model.durations
            table.add_row(
                model.id, model.engine, " ".join(_MODES.get(m, m) for m in model.modes),
                " ".join(model.resolutions),
                f"{low}-{high}" + (" or -1" if model.auto_duration else ""),
                "yes" if model.audio else "no",
            )  # fmt: skip
        console.print(table)
