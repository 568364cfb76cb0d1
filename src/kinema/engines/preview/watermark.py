"""The "Kinema preview" mark drawn in the bottom-right corner when a request asks for one."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from kinema.engines.base import I420Frame, OutputFrame
from kinema.media.yuv import LUMA_RANGE

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
        # One "over" composite of white: result = roi × keep + white × text.
        keep = (1 - halo_a) * (1 - text_a)
        # On frames too small for the label, it is cropped to what fits. The corner is on even
        # pixels and the patch even-sized (padded with "keep all"), so on an I420 frame it
        # covers whole chroma samples.
        self._w, self._h = min(patch_w, width), min(patch_h, height)
        self._x0 = max(0, width - margin - self._w) // 2 * 2
        self._y0 = max(0, height - margin - self._h) // 2 * 2
        even_h, even_w = self._h + self._h % 2, self._w + self._w % 2
        self._keep = np.ones((even_h, even_w), dtype=np.float32)
        self._keep[: self._h, : self._w] = keep[: self._h, : self._w]
        self._text = np.zeros((even_h, even_w), dtype=np.float32)
        self._text[: self._h, : self._w] = text_a[: self._h, : self._w]
        # Chroma is only scaled towards grey (white has none), by the 2 × 2 average of keep.
        self._keep_chroma = cv2.resize(self._keep, (even_w // 2, even_h // 2),
                                       interpolation=cv2.INTER_AREA)  # fmt: skip

    def apply(self, frame: OutputFrame) -> None:
        """Blend the mark into ``frame`` (RGB or I420) in place."""
        if isinstance(frame, I420Frame):
            self._apply_i420(frame)
            return
        y0, x0, h, w = self._y0, self._x0, self._h, self._w
        roi = frame[y0 : y0 + h, x0 : x0 + w]
        _blend(roi, self._keep[:h, :w, None], 0.0, 255.0 * self._text[:h, :w, None])

    def _apply_i420(self, frame: I420Frame) -> None:
        luma, blue, red = frame.planes()
        y0, x0, h, w = self._y0, self._x0, self._h, self._w
        # Limited range: black is 16, white 235; chroma's grey is 128.
        roi = luma[y0 : y0 + h, x0 : x0 + w]
        _blend(roi, self._keep[:h, :w], 16.0, LUMA_RANGE * self._text[:h, :w])
        ch, cw = (h + 1) // 2, (w + 1) // 2
        for plane in (blue, red):
            roi = plane[y0 // 2 : y0 // 2 + ch, x0 // 2 : x0 // 2 + cw]
            _blend(roi, self._keep_chroma[:ch, :cw], 128.0, 0.0)


def _blend(roi: np.ndarray[Any, Any], keep: np.ndarray[Any, Any], zero: float, add: Any) -> None:
    """The composite of white (roi × keep + white × text) on RGB (``zero`` 0), or on one
    limited-range YUV plane, whose "nothing" is ``zero`` (black's Y, grey's Cb and Cr):
    zero + (roi - zero) × keep + add."""
    blended = zero + (roi.astype(np.float32) - zero) * keep + add
    roi[:] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
