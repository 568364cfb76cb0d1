"""The engine protocol: what every video engine (preview, diffusers, upstream) implements.

An engine turns a fully resolved :class:`RenderSpec` into a :class:`Clip`: a lazy stream of
frames (RGB, or I420 ready for the encoder) plus optional PCM audio. Engines never encode, store
files or touch the database; the engine child process (``kinema.worker.child``) feeds the frames
to ``kinema.media`` while they are rendered, so a clip is never held in memory whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]
"""One video frame: shape (height, width, 3), RGB, uint8, C-contiguous."""


@dataclass(frozen=True)
class I420Frame:
    """One video frame already in the encoder's own pixel format, so it skips the RGB → YUV
    conversion: planar YUV 4:2:0, BT.601 limited range (what ``cv2.COLOR_RGB2YUV_I420`` makes).

    ``data`` is the three planes back to back, shaped (height * 3 // 2, width) as OpenCV and
    PyAV lay them out: the Y plane (height × width), then U and V (height/2 × width/2 each).
    Handing one to the encoder hands over its buffer: an engine makes a new one per frame.
    """

    data: npt.NDArray[np.uint8]

    def __post_init__(self) -> None:
        data = self.data
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
            raise ValueError("I420 data must be a 2-D uint8 array")
        if data.shape[0] % 3 or data.shape[1] % 2 or not data.flags.c_contiguous:
            raise ValueError(
                f"I420 data must be C-contiguous with shape (height * 3 // 2, width) for an even "
                f"width and height, got {data.shape}"
            )

    @property
    def width(self) -> int:
        return int(self.data.shape[1])

    @property
    def height(self) -> int:
        return int(self.data.shape[0]) * 2 // 3

    def planes(self) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
        """Writable views of the Y, U and V planes."""
        w, h = self.width, self.height
        flat = self.data.reshape(-1)
        luma, chroma = w * h, (w // 2) * (h // 2)
        return (flat[:luma].reshape(h, w),
                flat[luma : luma + chroma].reshape(h // 2, w // 2),
                flat[luma + chroma :].reshape(h // 2, w // 2))  # fmt: skip

    def to_rgb(self) -> Frame:
        """The frame as RGB (a new array), for whatever needs pictures: a PNG, the screen."""
        return np.asarray(cv2.cvtColor(self.data, cv2.COLOR_YUV2RGB_I420), dtype=np.uint8)


OutputFrame = Frame | I420Frame
"""What an engine yields: RGB, or (cheaper to encode) I420."""


def rgb_copy(frame: OutputFrame) -> Frame:
    """A new RGB array of ``frame``, whichever form it came in: for a PNG, or the screen."""
    return frame.to_rgb() if isinstance(frame, I420Frame) else frame.copy()


Audio = npt.NDArray[np.float32]
"""PCM audio: shape (samples, 2), float32 in [-1, 1], at ``AUDIO_SAMPLE_RATE``."""

AUDIO_SAMPLE_RATE = 48_000

ProgressCallback = Callable[[float], None]
"""Called with a fraction in [0, 1] as rendering advances."""

CancelCheck = Callable[[], bool]
"""Returns True once the task has been cancelled; engines check it between frames or steps."""


class RenderCancelled(Exception):
    """Raised by an engine that noticed the cancel check and stopped early."""


@dataclass(frozen=True)
class RenderSpec:
    """Everything an engine needs, already validated and resolved against the catalog."""

    model: str
    prompt: str
    width: int
    height: int
    frame_count: int
    fps: int
    seed: int
    camera_fixed: bool = False
    generate_audio: bool = False
    draft: bool = False
    watermark: bool = False
    first_frame: Frame | None = None
    """Already centre-cropped and resized to exactly width × height."""
    last_frame: Frame | None = None
    """Already centre-cropped and resized to exactly width × height."""
    reference_images: tuple[Frame, ...] = field(default_factory=tuple)
    """Reference images at their own sizes."""

    @property
    def duration_seconds(self) -> float:
        return self.frame_count / self.fps

    @property
    def audio_samples(self) -> int:
        """The exact number of audio samples that match the video's length."""
        return round(self.frame_count * AUDIO_SAMPLE_RATE / self.fps)


@dataclass
class Clip:
    """An engine's output: frames yielded lazily, audio (if any) whole (it is small)."""

    frames: Iterator[OutputFrame]
    """Exactly ``spec.frame_count`` frames, each RGB or I420."""
    audio: Audio | Callable[[], Audio] | None = None
    """Exactly ``spec.audio_samples`` samples, or None when no audio was asked for. It may be
    a function that makes them: the encoder calls it on its own thread as it starts, so the
    sound is made while the first frames render."""


class Engine(Protocol):
    """A video engine. Instances are created once per engine child and reused across tasks."""

    name: str
    """Short engine name reported on tasks, e.g. ``"preview"``."""

    def render(self, spec: RenderSpec, progress: ProgressCallback, cancelled: CancelCheck) -> Clip:
        """Start rendering ``spec``; the returned clip's frames are produced as they are read.

        Implementations call ``progress`` as they go and raise :class:`RenderCancelled` when
        ``cancelled()`` turns true (checked at least once per frame or denoising step).
        """
        ...
