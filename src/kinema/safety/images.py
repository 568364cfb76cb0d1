"""Image screening: the pluggable screen that judges input images and sampled output frames.

**No image model ships with Kinema**, so the screen is a plug-in: the ``image_screen`` setting
names a factory as ``module:attribute`` that returns an :class:`ImageScreen`. (The one image
model found that installs from PyPI with its weights and runs offline, NudeNet's ONNX detector,
is AGPL-3.0 licensed: the operator's choice to make, not a dependency of Kinema.) Without a
screen nothing is screened, and every output's ``has_nsfw_contents`` entry is ``false``, meaning
"not flagged", not "checked".

Where it runs: input images in the API process at submit (``InputImageSensitiveContentDetected``),
outputs in the engine child on ``screen_frames`` frames sampled evenly over the video, first and
last included; the worker then fails the task with ``OutputVideoSensitiveContentDetected`` or
only flags it, per ``output_screening``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from kinema.engines.base import Frame, OutputFrame, rgb_copy


@dataclass(frozen=True)
class ScreenVerdict:
    """What a screen says about one image."""

    flagged: bool
    category: str | None = None
    score: float = 0.0


@runtime_checkable
class ImageScreen(Protocol):
    """Judges RGB images (uint8, height × width × 3). Loaded once per process and reused."""

    def screen(self, images: Sequence[Frame]) -> list[ScreenVerdict]:
        """One verdict per image, in order."""
        ...


class ImageScreenError(Exception):
    """The configured screen could not be loaded; the message says which and why."""


def load_image_screen(spec: str | None) -> ImageScreen | None:
    """The screen named by ``module:attribute`` (a factory or class called with no
    arguments), or None when ``spec`` is None."""
    if not spec:
        return None
    module_name, _, attribute = spec.partition(":")
    try:
        target: object = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ImageScreenError(f"image_screen {spec!r} could not be loaded: {exc}") from None
    if not callable(target):
        raise ImageScreenError(f"image_screen {spec!r} is not callable")
    screen = target()
    if not isinstance(screen, ImageScreen):
        raise ImageScreenError(f"image_screen {spec!r} did not return an object with screen()")
    return screen


def sample_indices(frame_count: int, samples: int) -> list[int]:
    """``samples`` frame indices spread evenly over the video, first and last included."""
    if frame_count <= 0 or samples <= 0:
        return []
    if samples == 1 or frame_count == 1:
        return [frame_count - 1]
    count = min(samples, frame_count)
    return sorted({round(i * (frame_count - 1) / (count - 1)) for i in range(count)})


class FrameSampler:
    """Passes frames through unchanged, keeping RGB copies of those at the sampled indices."""

    def __init__(self, frames: Iterator[OutputFrame], indices: Sequence[int]) -> None:
        self._frames = frames
        self._wanted = set(indices)
        self.kept: list[tuple[int, Frame]] = []

    def __iter__(self) -> Iterator[OutputFrame]:
        for index, frame in enumerate(self._frames):
            if index in self._wanted:
                self.kept.append((index, rgb_copy(frame)))
            yield frame


@dataclass(frozen=True)
class OutputVerdict:
    """The screen's answer for a finished video: any sampled frame, and the last frame."""

    video: ScreenVerdict
    last_frame: ScreenVerdict


def judge_output(
    screen: ImageScreen, sampled: Sequence[tuple[int, Frame]], last_frame: Frame
) -> OutputVerdict:
    """The video is flagged when any sampled frame is; the last frame on its own verdict."""
    frames = [frame for _index, frame in sampled]
    verdicts = screen.screen([*frames, last_frame])
    if len(verdicts) != len(frames) + 1:
        raise ImageScreenError("the image screen returned a wrong number of verdicts")
    *video_verdicts, last = verdicts
    flagged = [v for v in video_verdicts if v.flagged]
    video = max(flagged, key=lambda v: v.score) if flagged else ScreenVerdict(False)
    if last.flagged and not video.flagged:
        video = last
    return OutputVerdict(video=video, last_frame=last)
