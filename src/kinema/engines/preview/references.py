"""Reference images as elements of the scene: framed pictures floating in the world.

Each reference image becomes a card (the picture centre-cropped to a tame aspect ratio, with a
light border, tilted a few degrees) hung in the world at a seed-chosen spot, bobbing gently. The
cards live in world coordinates, so the camera pans and zooms over them like over everything
else. They are composited onto the output frame at full resolution (not through the engine's
low internal resolution), so the user's pictures stay sharp: straight onto the frame's I420
planes, luma at full resolution and chroma at half.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from kinema.engines.base import Frame, I420Frame
from kinema.media.image import cover_resize
from kinema.media.yuv import rgb_to_yuv

Project = Callable[[float, float], tuple[float, float]]
"""World position (internal pixels) → output pixel."""
FloatArray = np.ndarray[Any, np.dtype[np.float32]]

_BORDER = 0.045
"""Border width as a fraction of the card's height."""
_MAX_ASPECT = 1.8


@dataclass(frozen=True)
class _Card:
    luma: FloatArray
    """(h, w) float32 limited-range Y, border included, at the largest size it is shown."""
    chroma: FloatArray
    """(h, w, 2) float32 Cb and Cr, at the same size."""
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
            yuv = rgb_to_yuv(picture)
            self._cards.append(
                _Card(
                    luma=np.ascontiguousarray(yuv[:, :, 0]),
                    chroma=np.ascontiguousarray(yuv[:, :, 1:]),
                    alpha=alpha,
                    world=(offset[0] + u * view[0], offset[1] + v * view[1]),
                    angle=float(rng.uniform(-5, 5)),
                    bob_hz=float(rng.uniform(0.15, 0.3)),
                    phase=float(rng.uniform(0, 2 * math.pi)),
                )
            )
        self._height = height

    def apply(self, frame: I420Frame, seconds: float, project: Project, zoom: float) -> None:
        """Composite every card onto ``frame`` (output pixels) in place."""
        luma, blue, red = frame.planes()
        for card in self._cards:
            bob = 0.015 * self._view_height * math.sin(2 * math.pi * card.bob_hz * seconds
                                                       + card.phase)  # fmt: skip
            x, y = project(card.world[0], card.world[1] + bob)
            card_h, card_w = card.luma.shape
            scale = self._height * self._scale * zoom / card_h
            # Card pixels to frame pixels: turned about its centre, scaled, centred on (x, y).
            matrix = np.asarray(
                cv2.getRotationMatrix2D((card_w / 2, card_h / 2), card.angle, scale),
                dtype=np.float64,
            )
            matrix[:, 2] += (x - card_w / 2, y - card_h / 2)
            half = 0.5 * math.hypot(card_h, card_w) * scale  # reach of its corners
            _lay_over([luma], card.luma, card.alpha, matrix, (x, y), half)
            # A chroma sample sits amid the 2 × 2 luma pixels it stands for: c = (l - 0.5) / 2.
            matrix /= 2
            matrix[:, 2] -= 0.25
            centre = ((x - 0.5) / 2, (y - 0.5) / 2)
            _lay_over([blue, red], card.chroma, card.alpha, matrix, centre, half / 2 + 1)


def _lay_over(
    planes: list[np.ndarray[Any, np.dtype[np.uint8]]],
    picture: FloatArray,
    alpha: FloatArray,
    matrix: np.ndarray[Any, Any],
    centre: tuple[float, float],
    half: float,
) -> None:
    """Warp ``picture`` (one channel per plane) and its ``alpha`` by ``matrix`` (picture to
    plane pixels) and lay it over ``planes``, touching only the box within ``half`` pixels of
    ``centre`` (clipped to the planes)."""
    out_h, out_w = planes[0].shape
    x0, x1 = max(0, int(centre[0] - half)), min(out_w, math.ceil(centre[0] + half))
    y0, y1 = max(0, int(centre[1] - half)), min(out_h, math.ceil(centre[1] + half))
    if x0 >= x1 or y0 >= y1:
        return
    shifted = matrix.copy()
    shifted[:, 2] -= (x0, y0)
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(picture, shifted, size, flags=cv2.INTER_LINEAR)
    cover = cv2.warpAffine(alpha, shifted, size, flags=cv2.INTER_LINEAR)
    warped = warped.reshape(y1 - y0, x1 - x0, len(planes))
    for index, plane in enumerate(planes):
        roi = plane[y0:y1, x0:x1]
        blended = roi.astype(np.float32) * (1.0 - cover) + warped[:, :, index] * cover
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
