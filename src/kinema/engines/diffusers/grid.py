"""From the contract's grid to a model's native grid and back, without torch.

A diffusion model generates at its own grid: width and height multiples of the family's
``multiple`` (within its trained pixel area), ``frame_step × k + 1`` frames at its own fps. The
contract wants exactly width × height, ``frame_count`` frames, 24 fps. The mapping keeps the
picture's shape and the clip's duration: frames are centre-cropped and resized (``cover``), and
time is resampled by blending the two nearest native frames, so the first and last output
frames are exactly the model's first and last frames.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kinema.engines.base import Frame
from kinema.media.image import cover_resize


@dataclass(frozen=True)
class NativeGrid:
    """What the model is asked for."""

    width: int
    height: int
    frames: int
    fps: int


def native_size(width: int, height: int, multiple: int, max_area: int) -> tuple[int, int]:
    """The size on the model's grid, within ``max_area``, that best fits width × height.

    Candidates keep the aspect ratio as well as the grid allows; the pick weighs what the
    crop back to the contract's shape loses (twice) against pixels left unused.
    """
    aspect = width / height
    area = min(width * height, max_area)
    best: tuple[float, int, int] | None = None
    for h in range(multiple, math.isqrt(int(area / aspect)) + 2 * multiple, multiple):
        for w in {
            math.floor(h * aspect / multiple) * multiple,
            math.ceil(h * aspect / multiple) * multiple,
        }:
            if w < multiple or w * h > max_area:
                continue
            crop = 1 - min(w / h / aspect, aspect * h / w)
            score = 2 * crop + (1 - w * h / area)
            if best is None or score < best[0]:
                best = (score, w, h)
    if best is None:
        return multiple, multiple
    return best[1], best[2]


def native_frames(frame_count: int, fps: int, native_fps: int, step: int, max_frames: int) -> int:
    """Native frames covering the same time span as ``frame_count`` frames at ``fps``.

    The span is ``(frame_count - 1) / fps`` seconds (first to last frame). Clips longer than
    ``max_frames`` covers are generated at ``max_frames`` and spread over the span (slower motion).
    """
    span = (frame_count - 1) / fps
    k = max(1, round(span * native_fps / step))
    largest = max(1, (max_frames - 1) // step)
    return min(k, largest) * step + 1


def to_contract(
    video: npt.NDArray[np.uint8], width: int, height: int, frame_count: int
) -> Iterator[Frame]:
    """Yield ``frame_count`` frames of exactly width × height from native frames (n, h, w, 3)."""
    count = video.shape[0]
    for index in range(frame_count):
        position = index * (count - 1) / (frame_count - 1) if frame_count > 1 else 0.0
        low = min(int(position), count - 1)
        weight = position - low
        if weight < 1e-6 or low + 1 >= count:
            frame = video[low].copy()  # a copy: the caller may draw on it (watermark)
        else:
            mixed = video[low] * (1.0 - weight) + video[low + 1] * weight
            frame = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        if frame.shape[:2] != (height, width):
            frame = cover_resize(np.ascontiguousarray(frame), width, height)
        yield frame
