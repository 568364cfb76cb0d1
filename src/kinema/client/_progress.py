"""The I/O-free halves of waiting and downloading, shared by the sync and async clients.

:class:`Poller` decides when to look at a task again (backing off while nothing changes) and when
to give up. :class:`Download` writes one file through as many connections as it takes: a
connection that drops is followed by a ``Range`` request for the rest, guarded by ``If-Range`` so
a file that changed meanwhile is fetched whole again rather than spliced.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import httpx

from kinema.client.errors import APIConnectionError, APIError, Timeout
from kinema.client.types import Task, TaskStatus

DownloadProgress = Callable[[int, int | None], None]
"""Called with (bytes received, total bytes or None) as a download goes."""
TaskUpdate = Callable[[Task], None]
"""Called with each state of a task seen while waiting."""

DEFAULT_WAIT_TIMEOUT = 1800.0
"""How long ``wait`` waits by default (seconds)."""
MAX_DOWNLOAD_FAILURES = 5
"""Dropped connections in a row (without a byte between them) before a download gives up."""

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class Poller:
    """When to look at a task again: soon after a change, less often while nothing changes."""

    def __init__(self, timeout: float | None, interval: float, max_interval: float) -> None:
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.first_interval = interval
        self.max_interval = max(interval, max_interval)
        self.interval = interval
        self.status: TaskStatus | None = None

    def next_delay(self, task: Task) -> float:
        """Seconds to sleep before the next look; :class:`Timeout` once the time is up."""
        if task.status is not self.status:
            self.status = task.status
            self.interval = self.first_interval
        delay = self.interval
        self.interval = min(self.interval * 1.5, self.max_interval)
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise Timeout(
                    f"task {task.id} is still {task.status.value} after {self.timeout:g} s "
                    "(it goes on: wait again, or cancel it)",
                    task,
                )
            delay = min(delay, left)
        return delay


def target_path(path: str | os.PathLike[str] | None, task_id: str | None, url: str) -> Path:
    """Where a download goes: ``path``; inside it when it is a folder; else ``<task id>.mp4``
    (or the URL's file name) in the current folder."""
    name = f"{task_id}.mp4" if task_id else (Path(urlsplit(url).path).name or "video.mp4")
    if path is None:
        return Path(name)
    target = Path(path).expanduser()
    return target / name if target.is_dir() else target


class Download:
    """One file being written to ``<target>.part`` and renamed to ``target`` once complete."""

    def __init__(self, target: Path, on_progress: DownloadProgress | None) -> None:
        self.target = target
        self.part = target.with_name(target.name + ".part")
        self.on_progress = on_progress
        self.received = 0
        self.total: int | None = None
        self.validator: str | None = None
        self.failures = 0
        self._file: IO[bytes] | None = None

    def request_headers(self) -> dict[str, str]:
        if not self.received:
            return {}
        headers = {"Range": f"bytes={self.received}-"}
        if self.validator:
            headers["If-Range"] = self.validator
        return headers

    def start(self, response: httpx.Response) -> None:
        """Take a 200 (the whole file: start over) or a 206 (the rest, from where we are)."""
        if response.status_code == 206 and self.received:
            match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", ""))
            if match is None or int(match[1]) != self.received:
                raise APIError(
                    "the server resumed the download at the wrong place "
                    f"({response.headers.get('content-range')!r}, expected byte {self.received})",
                    status=206,
                )
            self._open("ab")
            return
        if response.status_code != 200:
            raise APIError(f"unexpected HTTP {response.status_code} for a download",
                           status=response.status_code)  # fmt: skip
        self.received = 0
        length = response.headers.get("content-length")
        self.total = int(length) if length and length.isdigit() else None
        self.validator = response.headers.get("etag") or response.headers.get("last-modified")
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._open("wb")

    def _open(self, mode: str) -> None:
        self.close()
        self._file = self.part.open(mode)

    def write(self, chunk: bytes) -> None:
        assert self._file is not None
        self._file.write(chunk)
        self.received += len(chunk)
        self.failures = 0
        if self.on_progress is not None:
            self.on_progress(self.received, self.total)

    @property
    def complete(self) -> bool:
        """Whether every byte the server announced has arrived."""
        return self.total is not None and self.received >= self.total

    def ended(self, error: str | None) -> bool:
        """A response is over (``error`` says how it broke, if it did): True once the file is
        whole; else count the failure, raising when too many came in a row."""
        if self.complete or (error is None and self.total is None and self._file is not None):
            return True
        self.close()
        self.failures += 1
        if self.failures > MAX_DOWNLOAD_FAILURES:
            self.discard()
            reason = error or "the connection closed early"
            raise APIConnectionError(f"download failed after {self.failures} attempts: {reason}")
        return False

    def finish(self) -> Path:
        self.close()
        os.replace(self.part, self.target)
        return self.target

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def discard(self) -> None:
        self.close()
        self.part.unlink(missing_ok=True)
