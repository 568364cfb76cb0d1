"""The colour matrix of the videos Kinema writes: BT.601, 8-bit limited range.

``kinema.media.encode`` tags every stream SMPTE 170M (BT.601) limited range because that is
what OpenCV's RGB → I420 conversion makes. An engine that makes I420 frames itself (skipping
that conversion) must use the same matrix, from here, so its pictures decode to the colours
it meant.
"""

from __future__ import annotations

from typing import Any

import numpy as np

RGB_TO_YUV = np.array(
    [
        [65.481, 128.553, 24.966],
        [-37.797, -74.203, 112.0],
        [112.0, -93.786, -18.214],
    ],
    dtype=np.float32,
)
"""Y, Cb, Cr from R, G, B in 0..1 (rows), before adding :data:`YUV_OFFSET`."""
YUV_OFFSET = np.array([16.0, 128.0, 128.0], dtype=np.float32)
LUMA_RANGE = 219.0
"""Limited-range Y spans 16..235: black to white is 219 steps."""

FloatArray = np.ndarray[Any, np.dtype[np.float32]]


def rgb_to_yuv(rgb: FloatArray) -> FloatArray:
    """(..., 3) RGB in 0..255 to (..., 3) float Y, Cb, Cr in 8-bit limited range (unrounded)."""
    yuv: FloatArray = rgb.astype(np.float32) @ (RGB_TO_YUV.T / np.float32(255.0)) + YUV_OFFSET
    return yuv
