"""Reference images as elements of the scene: framed pictures floating in the world.

Each reference image becomes a card (the picture centre-cropped to a tame aspect ratio, with a
light border, tilted a few degrees) hung in the world at a seed-chosen spot, bobbing gently. The
cards live in world coordinates, so the camera pans and zooms over them like over everything
else. They are composited onto the output frame at full resolution (not through the engine's
low internal resolution), so the user's pictures stay sharp.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from kinema.engines.base import Frame
from kinema.media.image import cover_resize

Project = Callable[[float, float], tuple[float, float]]
"""World position (internal pixels) → output pixel."""
FloatArray = np.ndarray[Any, np.dtype[np.float32]]

_BORDER = 0.045
"""Border width as a fraction of the card's height."""
_MAX_ASPECT = 1.8


@dataclass(frozen=True)
class _Card:
    picture: FloatArray
    """(h, w, 3) float32 RGB 0..255, border included, at the largest size it is shown."""
    alpha: FloatArray
    """(h, w) coverage with feathered edges."""
    world: tuple[float, float]
    """Centre in world pixels at rest."""
    angle: float
    """Tilt in degrees."""
    bob_hz: float
    phase: float


class ReferenceCards:
    """The reference images of a request, hung in the world as floating framed pictures."""

    def __init__(
        self,
        images: tuple[Frame, ...],
        rng: np.random.Generator,
        view: tuple[int, int],
        world: tuple[int, int],
        output: tuple[int, int],
        max_zoom: float,
    ) -> None:
        self._scale = output[1] / view[1]
        """Output pixels per internal pixel."""
        self._view_height = float(view[1])
        self._cards: list[_Card] = []
        count = len(images)
        rows = 1 if count <= 4 else 2
        per_row = math.ceil(count / rows)
        height = (0.32 if count == 1 else 0.26 if count <= 4 else 0.2) * view[1]
        offset = ((world[0] - view[0]) / 2, (world[1] - view[1]) / 2)
        for index, image in enumerate(images):
            row, column = divmod(index, per_row)
            u = (column + 0.5) / per_row * 0.8 + 0.1 + rng.uniform(-0.03, 0.03)
            v = (0.42 if rows == 1 else 0.28 + 0.38 * row) + rng.uniform(-0.04, 0.04)
            shown = height * self._scale * max_zoom
            picture, alpha = _framed(image, round(shown))
            self._cards.append(
                _Card(
                    picture=picture,
                    alpha=alpha,
                    world=(offset[0] + u * view[0], offset[1] + v * view[1]),
                    angle=float(rng.uniform(-5, 5)),
                    bob_hz=float(rng.uniform(0.15, 0.3)),
                    phase=float(rng.uniform(0, 2 * math.pi)),
                )
            )
        self._height = height

    def apply(self, frame: Frame, seconds: float, project: Project, zoom: float) -> None:
        """Composite every card onto ``frame`` (output pixels) in place."""
        out_h, out_w = frame.shape[:2]
        for card in self._cards:
            bob = 0.015 * self._view_height * math.sin(2 * math.pi * card.bob_hz * seconds
                                                       + card.phase)  # fmt: skip
            x, y = project(card.world[0], card.world[1] + bob)
            scale = self._height * self._scale * zoom / card.picture.shape[0]
            matrix = cv2.getRotationMatrix2D(
                (card.picture.shape[1] / 2, card.picture.shape[0] / 2), card.angle, scale
            )
            # Where the card's corners land decides the (clipped) box touched on the frame.
            half = 0.5 * math.hypot(*card.picture.shape[:2]) * scale
            x0, x1 = max(0, int(x - half)), min(out_w, math.ceil(x + half))
            y0, y1 = max(0, int(y - half)), min(out_h, math.ceil(y + half))
            if x0 >= x1 or y0 >= y1:
                continue
            matrix[0, 2] += x - card.picture.shape[1] / 2 - x0
            matrix[1, 2] += y - card.picture.shape[0] / 2 - y0
            size = (x1 - x0, y1 - y0)
            picture = cv2.warpAffine(card.picture, matrix, size, flags=cv2.INTER_LINEAR)
            alpha = cv2.warpAffine(card.alpha, matrix, size, flags=cv2.INTER_LINEAR)[:, :, None]
            roi = frame[y0:y1, x0:x1]
            blended = roi.astype(np.float32) * (1.0 - alpha) + picture * alpha
            roi[:] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def _framed(image: Frame, height: int) -> tuple[FloatArray, FloatArray]:
    """The picture at ``height`` pixels (border included), and its feathered coverage."""
    src_h, src_w = image.shape[:2]
    aspect = min(_MAX_ASPECT, max(1 / _MAX_ASPECT, src_w / max(1, src_h)))
    height = max(8, height)
    border = max(1, round(height * _BORDER))
    inner_h = height - 2 * border
    inner_w = max(2, round(inner_h * aspect))
    inner = cover_resize(image, inner_w, inner_h)
    width = inner_w + 2 * border
    card = np.full((height, width, 3), 245.0, dtype=np.float32)
    card[border : border + inner_h, border : border + inner_w] = inner
    alpha = np.zeros((height, width), dtype=np.float32)
    alpha[1:-1, 1:-1] = 1.0  # a one-pixel clear rim feathers the edge once warped
    return card, alpha
