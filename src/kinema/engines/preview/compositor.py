"""A text-to-video frame in one compiled pass over its rows: camera, moving elements, weather,
shading and the conversion to the encoder's I420, each row finished before the next begins.

Done stage by stage, each stage is a pass over the whole (3, h, w) float picture: 1.2 MB at
480p's half-size render, more than a core's L2 cache on the machines this runs on, so every
pass streams it from the next cache level again (the camera writes it, the elements and the
weather read and write it, the conversion reads it). Done a row at a time, the row (5 KB)
stays in the fastest cache from the camera to the conversion, and the picture is never
stored: only the world, the weather sheets and the finished frame are touched in memory. The
stages are the row kernels of ``kernels``, which the whole-picture forms (the elements and
weather that image-to-video draws, and the stage-by-stage reference in the tests) loop over
too, so both draw exactly the same picture. On a 2-core Ice Lake server the rainy 480p bench
frame went from 555-616 µs to 480-531 (best of 25 clips, three runs each, interleaved).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kinema.engines.preview import kernels

_RING = 8
"""Luma rows kept for the doubling, which reads rows r - 2 .. r + 2 (a power of two)."""


@kernels.compiled_over_kernels
def compose(
    world: Any,
    zoom: float,
    cx: float,
    cy: float,
    windows: Any,
    rows: Any,
    columns: Any,
    colour: Any,
    bounds: Any,
    additive: Any,
    mode: int,
    sheets: Any,
    sheet_rows: Any,
    sheet_columns: Any,
    sheet_weights: Any,
    weather_colour: Any,
    weather_level: float,
    gain: float,
    lift: float,
    vignette: tuple[Any, Any, float],
    luma_pairs: Any,
    luma: Any,
    blue: Any,
    red: Any,
) -> None:
    """Render one frame into I420 planes, a row at a time.

    - The camera: the (3, H, W) float ``world`` seen centred on world point (cx, cy) at
      ``zoom`` (``kernels.camera_plan``), for an (h, w) view, the size ``vignette`` gives.
    - The moving elements, swarm by swarm in order: swarm s is elements ``bounds[s]`` to
      ``bounds[s + 1] - 1`` of ``windows``, ``rows``, ``columns`` (``kernels.swarm_profiles``)
      and ``colour``, added if ``additive[s]``, else laid over.
    - The weather: sheets by ``mode`` (``kernels.weather_row``), then a flash.
    - Shading by the ``vignette`` (``kernels.vignette``: its squared distances from the
      centre across, (w,), and down, (h,), and its strength) and conversion: Cb and Cr (h, w)
      into ``blue`` and ``red``; Y either doubled into ``luma_pairs``, the (2h, w) uint16
      view of a (2h, 2w) luma plane (``kernels.double_luma_row``), or, when ``luma_pairs`` is
      empty, as is into the (h, w) uint8 ``luma`` (to be resized by the caller).
    """
    across, down, strength = vignette
    h, w = down.shape[0], across.shape[0]
    plan = kernels.camera_plan(world, h, w, zoom, cx, cy)
    cache = kernels.camera_cache(world, w)
    r_, g_, b_ = (np.empty(w, dtype=np.float32), np.empty(w, dtype=np.float32),
                  np.empty(w, dtype=np.float32))  # fmt: skip
    work = np.zeros((6, w), dtype=np.float32)
    doubled = luma_pairs.shape[0] > 0
    ring = np.empty((_RING, w), dtype=np.float32)
    scratch = np.empty(w, dtype=np.float32)
    padded = np.empty(w + 4, dtype=np.float32)
    for r in range(h):
        kernels.camera_row(world, plan, r, cache, r_, g_, b_)
        for s in range(bounds.shape[0] - 1):
            kernels.stamp_row(r_, g_, b_, r, windows, rows, columns, colour, bounds[s],
                              bounds[s + 1], additive[s], work)  # fmt: skip
        kernels.weather_row(r_, g_, b_, r, mode, sheets, sheet_rows, sheet_columns,
                            sheet_weights, weather_colour, weather_level, gain, lift,
                            scratch)  # fmt: skip
        if not doubled:
            kernels.shade_row(r_, g_, b_, across, down[r], strength, scratch, blue[r], red[r])
            kernels.bytes_row(scratch, luma[r])
            continue
        kernels.shade_row(r_, g_, b_, across, down[r], strength, ring[r % _RING], blue[r],
                          red[r])  # fmt: skip
        if r >= 2:  # source rows up to r are in: output rows 2(r - 2) and 2(r - 2) + 1
            k = r - 2
            kernels.double_luma_row(ring, k, h, scratch, padded, luma_pairs[2 * k],
                                    luma_pairs[2 * k + 1])  # fmt: skip
    if doubled:
        for k in range(max(h - 2, 0), h):
            kernels.double_luma_row(ring, k, h, scratch, padded, luma_pairs[2 * k],
                                    luma_pairs[2 * k + 1])  # fmt: skip
