"""The preview engine's per-pixel inner loops, compiled with numba.

Everything else in the engine is numpy and OpenCV, which are fast on whole images but pay
microseconds per call: stamping forty small glows, or laying two drifting sheets of snow over a
picture, costs dozens of calls a frame, and at 480p those calls, not the arithmetic, were most
of the render. Each kernel here does one such job in one pass over exactly the pixels it touches.

Kernels are compiled on first use and cached on disk beside this module (or in numba's
per-user cache when that is read-only), so a fresh process loads them in milliseconds; the
engine child warms them up before its first task. They release the GIL, so they overlap the
encoder's thread like OpenCV does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np

_Function = TypeVar("_Function", bound=Callable[..., Any])


def _compiled(function: _Function) -> _Function:
    """``function`` compiled to machine code (typed by its first call's arguments)."""
    return cast(_Function, numba.njit(cache=True, nogil=True)(function))


@_compiled
def _profile_value(offset: float, sigma: float, solid: bool, cutoff: float) -> float:
    """A soft (Gaussian) or solid (super-Gaussian) profile at ``offset`` pixels, cut to 0."""
    d = offset / sigma
    d2 = d * d
    value: float = math.exp(-0.5 * (d2 * d2 * d2 if solid else d2))
    return value if value >= cutoff else 0.0


@_compiled
def _windows(sx: Any, sy: Any, rx: Any, ry: Any, level: Any, reach: float, h: int, w: int) -> Any:
    """Each element's window on screen, (n, 4) rows r0, r1, c0, c1: the pixels within
    ``reach`` radii of its centre, clipped to the screen; empty for an element with no light."""
    windows = np.zeros((sx.shape[0], 4), dtype=np.int64)
    for i in range(sx.shape[0]):
        if level[i] > 0.0:
            windows[i, 0] = max(0, math.floor(sy[i] - reach * ry[i]))
            windows[i, 1] = min(h, math.ceil(sy[i] + reach * ry[i]) + 1)
            windows[i, 2] = max(0, math.floor(sx[i] - reach * rx[i]))
            windows[i, 3] = min(w, math.ceil(sx[i] + reach * rx[i]) + 1)
    return windows


@_compiled
def stamp(
    planes: Any,
    cover: Any,
    light: Any,
    sx: Any,
    sy: Any,
    rx: Any,
    ry: Any,
    colour: Any,
    level: Any,
    additive: bool,
    solid: bool,
    reach: float,
    cutoff: float,
) -> None:
    """Draw elliptical elements into (3, h, w) float32 ``planes``: element i centred at
    (sx[i], sy[i]) with radii (rx[i], ry[i]), colour (3,) and intensity level[i].

    Additive elements add light. Others are laid "over" what is behind, premultiplied: the
    coverage of all elements is summed first (in ``cover`` (h, w) and ``light`` (3, h, w),
    which must be all zero and are left all zero), so overlaps saturate at full cover rather
    than depending on drawing order.
    """
    _, h, w = planes.shape
    windows = _windows(sx, sy, rx, ry, level, reach, h, w)
    columns = np.empty(w, dtype=np.float32)
    for i in range(sx.shape[0]):
        r0, r1, c0, c1 = windows[i]
        for c in range(c0, c1):
            columns[c] = _profile_value(c - sx[i], rx[i], solid, cutoff)
        for r in range(r0, r1):
            row = _profile_value(r - sy[i], ry[i], solid, cutoff) * level[i]
            if row == 0.0:
                continue
            if additive:
                _add_row(planes, r, c0, c1, columns, colour[i], row)
            else:
                _add_row(light, r, c0, c1, columns, colour[i], row)
                weight = np.float32(row)
                for c in range(c0, c1):
                    cover[r, c] += weight * columns[c]
    if not additive:
        _lay_over_stamps(planes, cover, light, windows)


@_compiled
def _add_row(planes: Any, r: int, c0: int, c1: int, columns: Any, colour: Any, row: float) -> None:
    """planes[:, r, c0:c1] += colour × row × columns[c0:c1]."""
    for ch in range(3):
        weight = np.float32(colour[ch] * row)
        target = planes[ch, r]
        for c in range(c0, c1):
            target[c] += weight * columns[c]


@_compiled
def _lay_over_stamps(planes: Any, cover: Any, light: Any, windows: Any) -> None:
    """Composite the summed coverage and light over ``planes`` within the elements' windows,
    clearing the scratch as it goes (so a pixel two windows share is composited once)."""
    for i in range(windows.shape[0]):
        r0, r1, c0, c1 = windows[i]
        for r in range(r0, r1):
            for c in range(c0, c1):
                total = cover[r, c]
                if total <= 0.0:
                    continue
                keep = np.float32(1.0 - min(total, 1.0))
                norm = np.float32(max(total, 1.0))
                for ch in range(3):
                    planes[ch, r, c] = planes[ch, r, c] * keep + light[ch, r, c] / norm
                    light[ch, r, c] = 0.0
                cover[r, c] = 0.0


@_compiled
def add_sheets(planes: Any, sheets: Any, xs: Any, ys: Any, colour: Any, level: float) -> None:
    """planes += colour × level × Σ the (h, w) windows of ``sheets`` at (xs[k], ys[k]).

    Each sheet is a seamless layer tiled 2 × 2, so any whole-pixel offset within one tile is a
    plain window of it (rain: streaks move tens of pixels a frame, whole pixels are plenty).
    """
    _, h, w = planes.shape
    row = np.empty(w, dtype=np.float32)
    weights = np.empty(3, dtype=np.float32)
    for ch in range(3):
        weights[ch] = colour[ch] * level
    for r in range(h):
        row[:] = 0.0
        for k in range(sheets.shape[0]):
            source = sheets[k, ys[k] + r, xs[k] : xs[k] + w]
            for c in range(w):
                row[c] += source[c]
        for ch in range(3):
            target = planes[ch, r]
            weight = weights[ch]
            for c in range(w):
                target[c] += weight * row[c]


@_compiled
def lay_over_sheets(
    planes: Any, sheets: Any, dx: Any, dy: Any, colour: Any, level: float, limit: float
) -> None:
    """Lay seamless sheets, each slid by (dx[k], dy[k]) pixels with bilinear sub-pixel
    precision and wrapping at the edges, over the picture in ``colour``:
    planes = planes × (1 - cover) + colour × cover, cover = min(Σ sheets, limit) × level.
    """
    count, h, w = sheets.shape
    # A slide moves every pixel alike: the source rows and columns, and the bilinear weights,
    # are worked out once per sheet rather than once per pixel.
    rows = np.empty((count, 2, h), dtype=np.int64)
    columns = np.empty((count, 2, w), dtype=np.int64)
    weights = np.empty((count, 2), dtype=np.float32)
    for k in range(count):
        oy, ox = math.floor(-dy[k]), math.floor(-dx[k])
        weights[k, 0], weights[k, 1] = -dy[k] - oy, -dx[k] - ox
        for r in range(h):
            rows[k, 0, r] = (r + oy) % h
            rows[k, 1, r] = (r + oy + 1) % h
        for c in range(w):
            columns[k, 0, c] = (c + ox) % w
            columns[k, 1, c] = (c + ox + 1) % w
    cover = np.empty(w, dtype=np.float32)
    for r in range(h):
        cover[:] = 0.0
        for k in range(count):
            ty, tx = weights[k, 0], weights[k, 1]
            top, bottom = sheets[k, rows[k, 0, r]], sheets[k, rows[k, 1, r]]
            for c in range(w):
                left, right = columns[k, 0, c], columns[k, 1, c]
                cover[c] += ((top[left] * (1 - tx) + top[right] * tx) * (1 - ty)
                             + (bottom[left] * (1 - tx) + bottom[right] * tx) * ty)  # fmt: skip
        for c in range(w):
            amount = np.float32(min(cover[c], limit) * level)
            if amount <= 0.0:
                continue
            keep = np.float32(1.0) - amount
            for ch in range(3):
                planes[ch, r, c] = planes[ch, r, c] * keep + colour[ch] * amount


@_compiled
def add_outer(canvas: Any, y0: int, x0: int, rows: Any, columns: Any, colour: Any) -> None:
    """canvas[y0 + i, x0 + j, :] += rows[i] × columns[j] × colour: a separable light (a glow)
    added to an (h, w, 3) canvas in one pass, without the (h, w, 3) product numpy would make."""
    for i in range(rows.shape[0]):
        for j in range(columns.shape[0]):
            weight = rows[i] * columns[j]
            for ch in range(3):
                canvas[y0 + i, x0 + j, ch] += weight * colour[ch]
