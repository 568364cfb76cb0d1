"""The small typed messages that cross the pipe between a worker and its engine child.

Down (worker → child): :class:`Generate`, :class:`Cancel`.
Up (child → worker): :class:`Ready`, :class:`Progress`, :class:`Done`, :class:`Failed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Generate:
    """Render one attempt of a task into ``out_dir``."""

    task_id: str
    attempt: int
    engine: str
    request: dict[str, object]
    """``GenerationRequest.to_json()``."""
    inputs: dict[str, str]
    """Input role+index (``"0-first_frame"``) → local file path of the fetched input."""
    out_dir: str
    encoder_preset: str
    encoder_crf: int
    engine_config: dict[str, object] = field(default_factory=dict)
    """The model's engine configuration (catalog) plus the engine's settings; JSON-like."""
    image_screen: str | None = None
    """``module:factory`` of the output screen (``kinema.safety.images``); None: no screening."""
    screen_frames: int = 0
    """How many frames of the output the screen judges."""


@dataclass(frozen=True)
class Cancel:
    """Stop the current render as soon as possible (checked every frame or step)."""

    task_id: str


@dataclass(frozen=True)
class Ready:
    """The child has started and can take work."""


@dataclass(frozen=True)
class Progress:
    task_id: str
    fraction: float


@dataclass(frozen=True)
class Done:
    """The render finished; files are in ``out_dir``."""

    task_id: str
    video_path: str
    last_frame_path: str | None
    frame_count: int
    video_bytes: int
    video_flagged: bool = False
    """The output screen flagged a sampled frame of the video."""
    last_frame_flagged: bool = False
    flag_category: str | None = None


@dataclass(frozen=True)
class Failed:
    """The render failed (``code`` is an Ark error code) or was cancelled."""

    task_id: str
    code: str
    message: str
    cancelled: bool = False


DownEvent = Generate | Cancel
UpEvent = Ready | Progress | Done | Failed
