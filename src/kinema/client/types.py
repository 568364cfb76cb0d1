"""What the client returns: tasks, pages of tasks, models, the account, a finished generation.

Every object keeps the server's JSON in ``raw``, so fields a server adds are never out of reach.
Fields a dialect or a server does not report are ``None`` (e.g. ``progress`` is a Kinema
extension; GPTProto results carry no ``resolution``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypedDict

Format = Literal["gptproto", "ark"]
"""The dialect a client speaks: GPTProto's routes (API.md §2) or the Ark routes (§3)."""


class TaskStatus(StrEnum):
    """A task's status, in the Seedance words (WaveSpeed's words are mapped onto these)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """Whether the task will change no more."""
        return self not in (TaskStatus.QUEUED, TaskStatus.RUNNING)


@dataclass(frozen=True)
class Task:
    """One task as the server last reported it."""

    id: str
    model: str
    status: TaskStatus
    video_url: str | None = None
    """Signed link to the MP4 once ``succeeded`` (no API key needed; it expires)."""
    last_frame_url: str | None = None
    error: str | None = None
    error_code: str | None = None
    progress: float | None = None
    """0..1 while running (Kinema); None where the server does not say."""
    queue_position: int | None = None
    """Tasks ahead of this one while queued (Kinema)."""
    seed: int | None = None
    resolution: str | None = None
    ratio: str | None = None
    duration: int | None = None
    frames: int | None = None
    generate_audio: bool | None = None
    engine: str | None = None
    usage_tokens: int | None = None
    execution_ms: int | None = None
    created_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """Whether the task has reached a final status."""
        return self.status.terminal

    @property
    def succeeded(self) -> bool:
        return self.status is TaskStatus.SUCCEEDED


@dataclass(frozen=True)
class TaskPage:
    """One page of the account's tasks, newest first; ``total`` counts every match."""

    total: int
    items: list[Task]


@dataclass(frozen=True)
class Model:
    """A catalog entry as the server lists it (``GET /api/v3/models``, a Kinema extension)."""

    id: str
    display_name: str
    engine: str
    modes: tuple[str, ...]
    """``text``, ``first_frame``, ``first_last_frame``, ``reference``."""
    resolutions: tuple[str, ...]
    default_resolution: str | None
    durations: tuple[int, int]
    """Inclusive range of seconds."""
    auto_duration: bool
    """Whether ``duration = -1`` (the model chooses) is accepted."""
    audio: bool
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Account:
    """The calling account (``GET /api/v3/account``, a Kinema extension); money is exact."""

    id: str
    name: str
    balance: Decimal
    held: Decimal
    """Money set aside for queued and running tasks."""
    queued: int
    running: int
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Generation:
    """What :meth:`Client.generate` returns: the succeeded task and where its video was saved."""

    task: Task
    path: Path


class SubmitOptions(TypedDict, total=False):
    """Optional fields of every submit; those not given are left to the server's defaults."""

    model: str
    resolution: str
    ratio: str
    """``21:9 16:9 4:3 1:1 3:4 9:16`` or ``adaptive`` where the model allows it."""
    duration: int
    seed: int
    generate_audio: bool
    camera_fixed: bool
    return_last_frame: bool
    watermark: bool
    idempotency_key: str
    """Sent as ``Idempotency-Key``; a new random one per call when not given."""
    extra: Mapping[str, Any]
    """More body fields, sent as they are (e.g. ``callback_url``, ``service_tier``)."""


Image = str | Path
"""An image: an http(s) URL, a ``data:image/...`` URI, or a local file (sent as a data URI)."""
