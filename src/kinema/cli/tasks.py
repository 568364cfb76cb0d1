"""``kinema tasks ls|show|cancel|rm|download``: an account's tasks on a server."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from kinema.cli.common import console, err_console
from kinema.cli.generate import Watch
from kinema.cli.remote import (
    ApiFormat,
    ApiKeyOption,
    BaseUrlOption,
    FormatOption,
    connect,
    print_fields,
    reported_errors,
)

if TYPE_CHECKING:
    from kinema.client import Task

tasks_app = typer.Typer(
    help="Your tasks on a server: list, show, cancel, delete, download their videos.",
    no_args_is_help=True,
)

TaskIdArgument = Annotated[str, typer.Argument(help="Task id (cgt-...)", show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


class Status(StrEnum):
    """Task statuses, for ``--status``."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    expired = "expired"
    cancelled = "cancelled"


_COLOURS = {"succeeded": "green", "failed": "red", "expired": "red", "running": "cyan"}


@tasks_app.command("ls")
def list_tasks(
    status: Annotated[Status | None, typer.Option("--status", help="Only tasks in this status",
                                                  show_default=False)] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only tasks of this model",
                                              show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=500,
                                       help="How many tasks, newest first")] = 20,
    page: Annotated[int, typer.Option("--page", min=1, help="Which page of --limit tasks")] = 1,
    as_json: JsonOption = False,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
    api_format: FormatOption = ApiFormat.gptproto,
) -> None:  # fmt: skip
    """List your tasks, newest first."""
    with connect(base_url, api_key, api_format) as client, reported_errors():
        found = client.list(status=status.value if status else None, model=model,
                            page=page, page_size=limit)  # fmt: skip
    if as_json:
        print(json.dumps({"total": found.total, "items": [dict(t.raw) for t in found.items]},
                         indent=2))  # fmt: skip
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("id", "model", "status", "video", "created"):
        # Narrow terminals wrap the cells rather than cut them: ids and links stay whole.
        table.add_column(column, no_wrap=column == "id", overflow="fold")
    for task in found.items:
        table.add_row(task.id, task.model, _status(task), _video(task), _when(task.created_at))
    console.print(table)
    shown = (page - 1) * limit + len(found.items)
    more = f"; next: --page {page + 1}" if shown < found.total else ""
    console.print(f"{len(found.items)} of {found.total} tasks{more}", highlight=False)


@tasks_app.command()
def show(
    task_id: TaskIdArgument,
    as_json: JsonOption = False,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
    api_format: FormatOption = ApiFormat.gptproto,
) -> None:
    """Show one task: status, progress, figures, and its video link once succeeded."""
    with connect(base_url, api_key, api_format) as client, reported_errors():
        task = client.get(task_id)
    if as_json:
        print(json.dumps(dict(task.raw), indent=2))
        return
    running = task.status.value == "running" and task.progress is not None
    print_fields([
        ("id", task.id),
        ("model", task.model),
        ("status", task.status.value + (f" {task.progress:.0%}" if running else "")),
        ("queue", f"{task.queue_position} ahead" if task.queue_position is not None else None),
        ("error", " ".join(part for part in (task.error_code, task.error) if part)),
        ("video", _video(task)),
        ("seed", task.seed),
        ("engine", task.engine),
        ("tokens", f"{task.usage_tokens:,}" if task.usage_tokens is not None else None),
        ("created", _when(task.created_at)),
        ("video url", task.video_url),
        ("last frame", task.last_frame_url),
    ])  # fmt: skip


@tasks_app.command()
def cancel(
    task_id: TaskIdArgument,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
    api_format: FormatOption = ApiFormat.gptproto,
) -> None:
    """Cancel a queued or running task (a running one stops within seconds)."""
    with connect(base_url, api_key, api_format) as client, reported_errors():
        task = client.cancel(task_id)
    if task.status.value == "running":
        console.print(f"{task.id} is stopping (cancel requested)", highlight=False)
    else:
        console.print(f"{task.id} {task.status.value}", highlight=False)


@tasks_app.command("rm")
def remove(
    task_id: TaskIdArgument,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
    api_format: FormatOption = ApiFormat.gptproto,
) -> None:
    """Delete a finished task and its files (a queued one is cancelled; cancel a running one
    first)."""
    with connect(base_url, api_key, api_format) as client, reported_errors():
        was = client.get(task_id).status.value
        client.delete(task_id)
    console.print(f"{task_id} {'cancelled' if was == 'queued' else 'deleted'}", highlight=False)


@tasks_app.command()
def download(
    task_id: TaskIdArgument,
    output: Annotated[Path | None, typer.Option("--output", "-o", show_default=False,
        help="Where to save the MP4: a file or a folder (default: ./<task id>.mp4)")] = None,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
    api_format: FormatOption = ApiFormat.gptproto,
) -> None:  # fmt: skip
    """Save a succeeded task's video (resuming if the connection drops)."""
    with connect(base_url, api_key, api_format) as client, reported_errors():
        with Watch(err_console) as watch:
            path = client.download(task_id, output, on_progress=watch.downloaded)
    console.print(f"Saved [bold]{escape(str(path))}[/bold]", highlight=False)


def _status(task: Task) -> str:
    colour = _COLOURS.get(task.status.value)
    text = task.status.value
    if task.status.value == "running" and task.progress is not None:
        text += f" {task.progress:.0%}"
    return f"[{colour}]{text}[/{colour}]" if colour else text


def _video(task: Task) -> str:
    duration = f"{task.duration} s" if task.duration is not None else None
    frames = f"{task.frames} frames" if task.frames else None
    return " ".join(p for p in (task.resolution, task.ratio, duration, frames) if p)


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""
