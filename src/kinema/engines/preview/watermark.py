"""The "Kinema preview" mark drawn in the bottom-right corner when a request asks for one."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from kinema.engines.base import Frame

TEXT = "Kinema preview"
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_OPACITY = 0.8


class Watermark:
    """A translucent label, rasterised once per size and blended into each frame's corner."""

    def __init__(self, width: int, height: int) -> None:
        scale = max(0.3, height / 1100)
        thickness = max(1, round(scale * 1.6))
        (text_w, text_h), baseline = cv2.getTextSize(TEXT, _FONT, scale, thickness)
        margin = max(2, height // 50)
        pad = thickness + 1
        patch_w, patch_h = text_w + 2 * pad, text_h + baseline + 2 * pad
        text = np.zeros((patch_h, patch_w), dtype=np.uint8)
        cv2.putText(text, TEXT, (pad, pad + text_h), _FONT, scale, 255, thickness, cv2.LINE_AA)
        # A soft dark halo keeps the white text legible on bright skies too.
        halo = cv2.GaussianBlur(cv2.dilate(text, np.ones((3, 3), np.uint8)), (0, 0), pad / 2 + 0.5)
        text_a = text.astype(np.float32) / 255 * _OPACITY
        halo_a = np.clip(halo.astype(np.float32) / 255 * 1.5, 0, 1) * 0.5
        # One "over" composite: result = roi × keep + add.
        self._keep = ((1 - halo_a) * (1 - text_a))[:, :, None]
        self._add = (text_a * 255.0)[:, :, None]
        # On frames too small for the label, it is cropped to what fits.
        self._w, self._h = min(patch_w, width), min(patch_h, height)
        self._x0 = max(0, width - margin - self._w)
        self._y0 = max(0, height - margin - self._h)

    def apply(self, frame: Frame) -> None:
        """Blend the mark into ``frame`` in place."""
        roi = frame[self._y0 : self._y0 + self._h, self._x0 : self._x0 + self._w]
        keep: np.ndarray[Any, Any] = self._keep[: self._h, : self._w]
        add: np.ndarray[Any, Any] = self._add[: self._h, : self._w]
        blended = roi.astype(np.float32) * keep + add
        roi[:] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
