"""``kinema generate``: submit a task, follow it to the end, save the video, show its figures.

Ctrl-C while the task is queued or running asks on stdin whether to cancel it (Enter, ``y``, or
end of input: cancel; ``n`` or a second Ctrl-C: leave it running);
``--cancel-on-interrupt`` / ``--no-cancel-on-interrupt`` answer in advance. Either way the exit
code is 130.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, NoReturn, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from kinema.cli.common import console, err_console
from kinema.cli.remote import (
    EXIT_INTERRUPTED,
    ApiFormat,
    ApiKeyOption,
    BaseUrlOption,
    FormatOption,
    connect,
    print_fields,
    reported_errors,
)

if TYPE_CHECKING:
    from kinema.client import Client, SubmitOptions, Task

_INPUT = "Input"
_OUTPUT = "Output"
_CANCEL_WAIT_SECONDS = 20.0
"""How long to wait for a running task to stop after a cancel (the server's grace is 10 s)."""


def generate(
    prompt: Annotated[str | None, typer.Argument(
        help="What the video shows (optional with --image or --reference-image)",
        show_default=False)] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", rich_help_panel=_INPUT,
        help="Model id; kinema models --remote lists them (default: "
             "seedance-1-0-lite-t2v-250428; with images seedance-1-0-lite-i2v-250428)",
        show_default=False)] = None,
    resolution: Annotated[str | None, typer.Option("--resolution", rich_help_panel=_INPUT,
        help="480p, 720p or 1080p (default: the model's)", show_default=False)] = None,
    ratio: Annotated[str | None, typer.Option("--ratio", rich_help_panel=_INPUT,
        help="21:9, 16:9, 4:3, 1:1, 3:4, 9:16, or adaptive where the model allows it "
             "(default: 16:9; with an image, adaptive where allowed)", show_default=False)] = None,
    duration: Annotated[int | None, typer.Option("--duration", "-d", rich_help_panel=_INPUT,
        help="Seconds of video; -1 lets the model choose, where allowed (default: 5)",
        show_default=False)] = None,
    seed: Annotated[int | None, typer.Option("--seed", rich_help_panel=_INPUT,
        help="Seed, 0 to 2147483647, for the same video again (default: random)",
        show_default=False)] = None,
    audio: Annotated[bool | None, typer.Option("--audio/--no-audio", rich_help_panel=_INPUT,
        help="Generate sound (models with audio) (default: the model's)",
        show_default=False)] = None,
    camera_fixed: Annotated[bool, typer.Option("--camera-fixed", rich_help_panel=_INPUT,
        help="Keep the camera still")] = False,
    image: Annotated[str | None, typer.Option("--image", "-i", rich_help_panel=_INPUT,
        help="First frame: a local image file or an http(s) URL", show_default=False)] = None,
    last_image: Annotated[str | None, typer.Option("--last-image", rich_help_panel=_INPUT,
        help="Last frame (with --image)", show_default=False)] = None,
    reference_image: Annotated[list[str] | None, typer.Option("--reference-image",
        rich_help_panel=_INPUT, help="A reference image (repeat for several; not with --image)",
        show_default=False)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", rich_help_panel=_OUTPUT,
        help="Where to save the MP4: a file or a folder (default: ./<task id>.mp4)",
        show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", rich_help_panel=_OUTPUT,
        help="Print the task and the saved path as JSON")] = False,
    timeout: Annotated[float, typer.Option("--timeout", rich_help_panel=_OUTPUT,
        help="Stop waiting after this many seconds (the task goes on)")] = 1800.0,
    cancel_on_interrupt: Annotated[bool | None, typer.Option(
        "--cancel-on-interrupt/--no-cancel-on-interrupt", rich_help_panel=_OUTPUT,
        help="On Ctrl-C, cancel the task / leave it running, without asking (default: ask)",
        show_default=False)] = None,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
    api_format: FormatOption = ApiFormat.gptproto,
) -> None:  # fmt: skip
    """Generate a video: submit, show progress while queued and running, save the MP4.

    Exit codes: 0 saved, 1 other errors (server unreachable, timeout), 2 bad input,
    3 authentication or balance, 4 the task failed, 130 interrupted.
    """
    given = {
        "model": model,
        "resolution": resolution,
        "ratio": ratio,
        "duration": duration,
        "seed": seed,
        "generate_audio": audio,
        "camera_fixed": camera_fixed or None,
    }
    options = cast("SubmitOptions", {k: v for k, v in given.items() if v is not None})
    started = time.monotonic()
    with connect(base_url, api_key, api_format) as client, reported_errors():
        watch = Watch(err_console)
        try:
            with watch:
                task = client.submit(prompt, image=image, last_image=last_image,
                                     reference_images=reference_image, **options)  # fmt: skip
                watch.update(task)
                task = client.wait(task, timeout=timeout, max_poll_interval=1.0,
                                   on_update=watch.update)  # fmt: skip
                path = client.download(task, output, on_progress=watch.downloaded)
        except KeyboardInterrupt:
            _interrupted(client, watch.task, cancel_on_interrupt)
    if as_json:
        print(json.dumps({"path": str(path), "task": dict(task.raw)}, indent=2))
    else:
        _summary(task, path, time.monotonic() - started, options)


def _interrupted(client: Client, task: Task | None, cancel: bool | None) -> NoReturn:
    """Ctrl-C: offer to cancel the task, then exit 130."""
    from kinema.client import KinemaError

    if task is None:
        _stop("before the task was submitted (if it was, kinema tasks ls shows it)")
    if task.done:
        _stop(f"task {task.id} {task.status.value}: save its video with "
              f"kinema tasks download {task.id}")  # fmt: skip
    if cancel is None:
        cancel = _ask(f"Cancel task {task.id}? [Y/n] ")
    if not cancel:
        _stop(f"task {task.id} goes on: follow it with kinema tasks show {task.id}, "
              f"cancel it with kinema tasks cancel {task.id}")  # fmt: skip
    try:
        task = client.cancel(task.id)
        deadline = time.monotonic() + _CANCEL_WAIT_SECONDS
        while not task.done and time.monotonic() < deadline:
            time.sleep(0.25)
            task = client.get(task.id)
    except KeyboardInterrupt:
        _stop(f"task {task.id} is being cancelled")
    except KinemaError as exc:
        _stop(f"task {task.id} could not be cancelled: {exc.message}")
    _stop(f"task {task.id} {task.status.value}")


def _stop(message: str) -> NoReturn:
    """The last line of an interrupted run; exit 130."""
    err_console.print(f"[yellow]interrupted:[/yellow] {escape(message)}", highlight=False,
                      soft_wrap=True)  # fmt: skip
    raise typer.Exit(EXIT_INTERRUPTED)


def _ask(question: str) -> bool:
    """Read the answer from stdin (so scripts and tests can answer); end of input is yes."""
    err_console.print(escape(question), end="", highlight=False)
    try:
        answer = sys.stdin.readline() if sys.stdin is not None else ""
    except KeyboardInterrupt:
        answer = "n"  # a second Ctrl-C: get out, touching nothing
    if sys.stdin is None or not sys.stdin.isatty():
        # Nothing was echoed: show the answer taken, for the log.
        err_console.print(answer.strip() or "(no answer: yes)", highlight=False)
    return answer.strip().lower() in ("", "y", "yes")


def _summary(task: Task, path: Path, seconds: float, asked: SubmitOptions) -> None:
    """The saved path and the task's figures; fields a dialect does not report fall back to
    what was asked for."""
    size = path.stat().st_size
    console.print(f"Saved [bold]{escape(str(path))}[/bold] ({size / 1e6:.1f} MB)",
                  highlight=False, soft_wrap=True)  # fmt: skip
    resolution = task.resolution or asked.get("resolution")
    ratio = task.ratio or asked.get("ratio")
    duration = task.duration if task.duration is not None else asked.get("duration")
    print_fields([
        ("task", task.id),
        ("model", task.model + (f" (engine: {task.engine})" if task.engine else "")),
        ("video", " ".join(str(part) for part in (
            resolution, ratio, f"{duration} s" if duration is not None else None,
            f"{task.frames} frames" if task.frames else None) if part)),
        ("seed", task.seed),
        ("tokens", f"{task.usage_tokens:,}" if task.usage_tokens is not None else None),
        ("time", f"{seconds:.1f} s" + (f" (rendering {task.execution_ms / 1000:.1f} s)"
                                       if task.execution_ms else "")),
    ])  # fmt: skip


class Watch:
    """Shows a task on its way: a progress bar on a terminal, one line per change otherwise
    (logs, CI). Remembers the last state seen, for Ctrl-C."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.task: Task | None = None
        self._progress: Progress | None = None
        if console.is_terminal:
            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                TaskProgressColumn(), TimeElapsedColumn(), console=console, transient=True,
            )  # fmt: skip
        self._bar = TaskID(0)
        self._said = ""

    def __enter__(self) -> Watch:
        if self._progress is not None:
            self._progress.start()
            self._bar = self._progress.add_task("submitting", total=None)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, task: Task) -> None:
        """A state of the task, from each poll."""
        self.task = task
        status = task.status.value
        if task.queue_position is not None and status == "queued":
            status += f" ({task.queue_position} ahead)"
        if self._progress is None:
            if task.status.value != self._said:
                self._said = task.status.value
                self.console.print(f"{task.id} {escape(status)}", highlight=False)
            return
        running = task.status.value == "running" and task.progress is not None
        self._progress.update(
            self._bar,
            description=f"{task.id} {escape(status)}",
            total=1.0 if running else None,
            completed=task.progress or 0,
        )

    def downloaded(self, received: int, total: int | None) -> None:
        """Bytes of the video saved so far."""
        if self._progress is None:
            if self._said != "downloading":
                self._said = "downloading"
                self.console.print("downloading the video", highlight=False)
            return
        self._progress.update(self._bar, description="downloading", total=total, completed=received)
