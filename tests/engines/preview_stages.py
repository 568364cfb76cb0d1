"""The preview engine's camera and conversion over a whole picture, a stage at a time: loops of
the very row kernels the frame compositor runs row by row. The tests hold those kernels to
OpenCV through these forms, and the compositor to them bit for bit; the engine itself draws
text-to-video frames only through the compositor."""

from __future__ import annotations

from typing import Any

import numpy as np

from kinema.engines.preview import kernels


@kernels.compiled_over_kernels
def look_at(world: Any, view: Any, zoom: float, cx: float, cy: float) -> None:
    """Fill (3, h, w) ``view`` with the (3, H, W) ``world`` seen by a camera centred on world
    point (cx, cy) at ``zoom`` view pixels per world pixel: bilinear, edges held past the world.
    ``kernels.camera_plan``, then ``kernels.camera_row`` for every row."""
    _, h, w = view.shape
    plan = kernels.camera_plan(world, h, w, zoom, cx, cy)
    cache = kernels.camera_cache(world, w)
    for r in range(h):
        kernels.camera_row(world, plan, r, cache, view[0, r], view[1, r], view[2, r])


@kernels.compiled_over_kernels
def shade_to_yuv(view: Any, vignette: Any, luma: Any, blue: Any, red: Any) -> None:
    """(3, h, w) RGB ``view`` in 0..1, darkened by ``vignette`` (squared distances across and
    down, and strength: ``kernels.vignette``), to (h, w) uint8 Y, Cb and Cr planes, rounded
    and saturated, as the encoder's I420 holds them."""
    _, h, w = view.shape
    across, down, strength = vignette
    row = np.empty(w, dtype=np.float32)
    for r in range(h):
        kernels.shade_row(view[0, r], view[1, r], view[2, r], across, down[r], strength, row,
                          blue[r], red[r])  # fmt: skip
        kernels.bytes_row(row, luma[r])


@kernels.compiled_over_kernels
def shade_to_i420_doubled(view: Any, vignette: Any, luma_pairs: Any, blue: Any, red: Any) -> None:
    """(3, h, w) RGB ``view`` in 0..1, darkened by ``vignette``, to an I420 frame twice its size: Cb
    and Cr (h, w) straight into ``blue`` and ``red``, and Y doubled (``kernels.double_luma_row``)
    into the (2h, 2w) luma plane, given as ``luma_pairs``, its (2h, w) uint16 view."""
    _, h, w = view.shape
    across, down, strength = vignette
    luma = np.empty((h, w), dtype=np.float32)
    for r in range(h):
        kernels.shade_row(view[0, r], view[1, r], view[2, r], across, down[r], strength, luma[r],
                          blue[r], red[r])  # fmt: skip
    row = np.empty(w, dtype=np.float32)
    padded = np.empty(w + 4, dtype=np.float32)
    for r in range(h):
        kernels.double_luma_row(luma, r, h, row, padded, luma_pairs[2 * r],
                                luma_pairs[2 * r + 1])  # fmt: skip
