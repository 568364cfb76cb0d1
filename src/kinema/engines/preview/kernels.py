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

import hashlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numba.core.caching import FunctionCache

_Function = TypeVar("_Function", bound=Callable[..., Any])


_OPTIONS: dict[str, Any] = {"nogil": True, "fastmath": True, "error_model": "numpy"}
"""numba's options for every kernel here. fastmath lets LLVM reorder float arithmetic and
assume finite values, which is what lets it vectorise these loops; the numpy error model skips
the division-by-zero checks."""


def compiled(function: _Function) -> _Function:
    """``function`` compiled to machine code (typed by its first call's arguments)."""
    return cast(_Function, numba.njit(cache=True, **_OPTIONS)(function))


_SOURCE_FINGERPRINT = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
"""This module's source, for the cache keys of compiled functions elsewhere that call it."""


class _KernelsAwareCache(FunctionCache):
    """numba's on-disk cache, keyed also by this module's source: numba notices changes to a
    compiled function's own file only (a documented limitation), so a function in another
    module that calls these kernels would otherwise load code compiled with their old forms."""

    def _index_key(self, sig: Any, codegen: Any) -> Any:
        return (*super()._index_key(sig, codegen), _SOURCE_FINGERPRINT)  # type: ignore[no-untyped-call]


def compiled_over_kernels(function: _Function) -> _Function:
    """:func:`compiled`, for a function in another module that calls the kernels here."""
    dispatcher = numba.njit(**_OPTIONS)(function)
    # What cache=True would set, with this cache in place of numba's own.
    dispatcher._cache = _KernelsAwareCache(dispatcher.py_func)  # type: ignore[no-untyped-call]
    return cast(_Function, dispatcher)


def row_kernel(function: _Function) -> _Function:
    """:func:`compiled`, without numba's reference-counting runtime: for the kernels that work
    on one row and are called for every row (and plane) of a frame.

    Every array handed to a compiled function, and every slice made for it, is counted in and
    out (atomically) by that runtime: a few nanoseconds each, but some eighty a row, hundreds
    of rows a frame, were a fifth of a 480p frame's time in the frame compositor. Without the
    runtime such a function cannot allocate (every scratch row is handed in), and counts
    nothing. ``_nrt`` is numba's own switch for that (its option "nrt")."""
    options = {**_OPTIONS, "cache": True, "_nrt": False}  # numba's stubs omit "_nrt"
    return cast(_Function, numba.njit(**options)(function))


@row_kernel
def _profile_value(offset: float, sigma: float, solid: bool, cutoff: float) -> float:
    """A soft (Gaussian) or solid (super-Gaussian) profile at ``offset`` pixels, cut to 0."""
    d = offset / sigma
    d2 = d * d
    value: float = math.exp(-0.5 * (d2 * d2 * d2 if solid else d2))
    return value if value >= cutoff else 0.0


@compiled
def profiles(
    sx: Any,
    sy: Any,
    rx: Any,
    ry: Any,
    level: Any,
    solid: bool,
    reach: float,
    cutoff: float,
    windows: Any,
    rows: Any,
    columns: Any,
) -> None:
    """Work out what stamping elements takes, once: element i centred at (sx[i], sy[i]) with
    radii (rx[i], ry[i]) and intensity level[i], on a picture of ``rows.shape[1]`` rows and
    ``columns.shape[1]`` columns.

    Writes element i's window on screen into ``windows[i]`` (r0, r1, c0, c1: the pixels within
    ``reach`` radii of its centre, clipped to the screen, empty for an element with no light),
    and its row profile times its level, and its column profile, into the zeroed rows of
    ``rows`` and ``columns`` (profiles cut to 0 below ``cutoff``; zero outside the window).
    """
    h, w = rows.shape[1], columns.shape[1]
    for i in range(sx.shape[0]):
        if level[i] <= 0.0:
            windows[i, 0] = windows[i, 1] = windows[i, 2] = windows[i, 3] = 0
            continue
        r0 = max(0, math.floor(sy[i] - reach * ry[i]))
        r1 = min(h, math.ceil(sy[i] + reach * ry[i]) + 1)
        c0 = max(0, math.floor(sx[i] - reach * rx[i]))
        c1 = min(w, math.ceil(sx[i] + reach * rx[i]) + 1)
        windows[i, 0], windows[i, 1], windows[i, 2], windows[i, 3] = r0, r1, c0, c1
        if r1 <= r0 or c1 <= c0:
            continue
        for r in range(r0, r1):
            rows[i, r] = _profile_value(r - sy[i], ry[i], solid, cutoff) * level[i]
        for c in range(c0, c1):
            columns[i, c] = _profile_value(c - sx[i], rx[i], solid, cutoff)


@compiled
def stamp(
    planes: Any,
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

    Each element reaches only its own window, and is its row profile times its column profile,
    both worked out once (:func:`profiles`). The picture is then drawn a row at a time
    (:func:`stamp_row`), every element that reaches the row in turn, so the row stays in the
    fastest cache however many elements overlap.
    """
    _, h, w = planes.shape
    count = sx.shape[0]
    windows = np.empty((count, 4), dtype=np.int64)
    rows = np.zeros((count, h), dtype=np.float32)
    columns = np.zeros((count, w), dtype=np.float32)
    profiles(sx, sy, rx, ry, level, solid, reach, cutoff, windows, rows, columns)
    top, bottom = h, 0  # the rows any element reaches
    for i in range(count):
        if windows[i, 1] > windows[i, 0] and windows[i, 3] > windows[i, 2]:
            top, bottom = min(top, windows[i, 0]), max(bottom, windows[i, 1])
    work = np.zeros((6, w), dtype=np.float32)
    for r in range(top, bottom):
        stamp_row(planes[0, r], planes[1, r], planes[2, r], r, windows, rows, columns, colour,
                  0, count, additive, work)  # fmt: skip


@row_kernel
def stamp_row(
    red: Any,
    green: Any,
    blue: Any,
    r: int,
    windows: Any,
    rows: Any,
    columns: Any,
    colour: Any,
    first: int,
    end: int,
    additive: bool,
    work: Any,
) -> None:
    """Row ``r`` (its three planes, ``red``, ``green`` and ``blue``) of elements first..end-1
    as :func:`profiles` worked them out, colour (n, 3), all additive or all laid "over".

    Additive elements add light. Others are laid "over" what is behind, premultiplied: the
    row's light and coverage by all elements are summed first (in ``work``, (6, w) float32
    scratch whose first four rows are zero and are left so), so overlaps saturate at full cover
    rather than depending on drawing order.

    Inner loops run over slices from index 0: numba cannot tell that an index running from a
    computed start is never negative, and the wrap-around check it adds kept LLVM from
    vectorising them (5× slower).
    """
    light, cover = work[:3], work[3]
    left, right = red.shape[0], 0  # the columns the row's elements cover
    for i in range(first, end):
        row = rows[i, r]
        if row == 0.0:  # also every row outside the element's window
            continue
        c0, c1 = windows[i, 2], windows[i, 3]
        profile = columns[i, c0:c1]
        wr, wg, wb = colour[i, 0] * row, colour[i, 1] * row, colour[i, 2] * row
        if additive:
            _add_light(red[c0:c1], green[c0:c1], blue[c0:c1], profile, wr, wg, wb)
            continue
        _add_light(light[0, c0:c1], light[1, c0:c1], light[2, c0:c1], profile, wr, wg, wb)
        weight, covered = np.float32(row), cover[c0:c1]
        for k in range(c1 - c0):
            covered[k] += weight * profile[k]
        left, right = min(left, c0), max(right, c1)
    if right > left:
        _lay_over_span(red[left:right], green[left:right], blue[left:right],
                       work[:, left:right])  # fmt: skip


@row_kernel
def _add_light(red: Any, green: Any, blue: Any, profile: Any, r: float, g: float, b: float) -> None:
    """(red, green, blue) += (r, g, b) × profile: three rows of the same length, one pass."""
    wr, wg, wb = np.float32(r), np.float32(g), np.float32(b)
    for k in range(profile.shape[0]):
        value = profile[k]
        red[k] += wr * value
        green[k] += wg * value
        blue[k] += wb * value


@row_kernel
def _lay_over_span(red: Any, green: Any, blue: Any, work: Any) -> None:
    """Composite summed light (``work[:3]``, (3, n)) and coverage (``work[3]``) over a span of
    a row's three planes, and clear them (``work[4:6]`` is scratch). Where nothing covers a
    pixel it is kept exactly (× 1 + 0), so the whole span goes through one branch-free,
    vectorised pass."""
    one = np.float32(1.0)
    light, cover, keep, scale = work[:3], work[3], work[4], work[5]
    for k in range(cover.shape[0]):
        keep[k] = one - min(cover[k], one)
        scale[k] = one / max(cover[k], one)
        cover[k] = 0.0
    _over(red, light[0], keep, scale)
    _over(green, light[1], keep, scale)
    _over(blue, light[2], keep, scale)


@row_kernel
def _over(target: Any, source: Any, keep: Any, scale: Any) -> None:
    """target = target × keep + source × scale, clearing ``source``."""
    for k in range(target.shape[0]):
        target[k] = target[k] * keep[k] + source[k] * scale[k]
        source[k] = 0.0


NO_SHEETS, ADD_SHEETS, LAY_OVER_SHEETS = 0, 1, 2
"""How a frame's weather sheets meet the picture (see :func:`weather_row`): none, added
(rain), or laid over it (snow, fog)."""
SHEET_LEVELS = 255
"""Weather sheets are uint8: coverage 0..1 in 255 steps. A quarter of the bytes of float32,
which matters more than the arithmetic: beside the encoder, a frame's sheets (two views' worth
for rain) come from memory every frame, not from the caches."""
_SHEET_UNIT = np.float32(1.0 / SHEET_LEVELS)


@compiled
def weather(
    planes: Any,
    mode: int,
    sheets: Any,
    rows: Any,
    columns: Any,
    weights: Any,
    colour: Any,
    level: float,
    gain: float,
    lift: float,
) -> None:
    """A frame's weather over the whole (3, h, w) picture: :func:`weather_row` on every row."""
    _, h, w = planes.shape
    scratch = np.empty(w, dtype=np.float32)
    for r in range(h):
        weather_row(planes[0, r], planes[1, r], planes[2, r], r, mode, sheets, rows, columns,
                    weights, colour, level, gain, lift, scratch)  # fmt: skip


@row_kernel
def weather_row(
    red: Any,
    green: Any,
    blue: Any,
    r: int,
    mode: int,
    sheets: Any,
    rows: Any,
    columns: Any,
    weights: Any,
    colour: Any,
    level: float,
    gain: float,
    lift: float,
    scratch: Any,
) -> None:
    """Row ``r`` of a frame's weather: its sheets (``mode``), then a lightning flash.

    Each sheet k is a seamless (h, w) layer of coverage (uint8, in 1 / ``SHEET_LEVELS`` steps),
    tiled 2 × 2, (2h, 2w), so any slide, wrapped, is a
    plain window of it starting at row ``rows[k]`` and column ``columns[k]``. Added sheets
    (rain: streaks move tens of pixels a frame, whole pixels are plenty) add colour × level ×
    their sum. Laid-over sheets (snow, fog, drifting slowly) are slid with sub-pixel precision,
    a blend of four neighbours with ``weights[k]`` (:func:`slide_sheets`), and cover the
    picture: row = row × (1 - cover) + colour × cover, cover = min(Σ sheets, 1) × level.
    A flash then brightens the row: × ``gain`` + ``lift`` (nothing when gain is 1 and lift 0).
    ``scratch`` is a float32 row of the picture's width.
    """
    if mode == ADD_SHEETS:
        _add_sheets_row(red, green, blue, sheets, rows, columns, r, colour, level, scratch)
    elif mode == LAY_OVER_SHEETS:
        _lay_over_sheets_row(red, green, blue, sheets, rows, columns, weights, r, colour, level,
                             scratch)  # fmt: skip
    if gain != 1.0 or lift != 0.0:
        a, b = np.float32(gain), np.float32(lift)
        for c in range(red.shape[0]):
            red[c] = red[c] * a + b
            green[c] = green[c] * a + b
            blue[c] = blue[c] * a + b


@row_kernel
def _add_sheets_row(
    red: Any,
    green: Any,
    blue: Any,
    sheets: Any,
    rows: Any,
    columns: Any,
    r: int,
    colour: Any,
    level: float,
    total: Any,
) -> None:
    w = red.shape[0]
    count = sheets.shape[0]
    # The sheets' unit folded into the colour: the sums below stay in sheet steps.
    w0, w1, w2 = (np.float32(colour[0] * level) * _SHEET_UNIT,
                  np.float32(colour[1] * level) * _SHEET_UNIT,
                  np.float32(colour[2] * level) * _SHEET_UNIT)  # fmt: skip
    first = sheets[0, rows[0] + r, columns[0] : columns[0] + w]
    if count == 2:  # rain's two layers: summed and added in one pass
        second = sheets[1, rows[1] + r, columns[1] : columns[1] + w]
        for c in range(w):
            both = np.float32(first[c]) + np.float32(second[c])
            red[c] += w0 * both
            green[c] += w1 * both
            blue[c] += w2 * both
        return
    for c in range(w):
        total[c] = np.float32(first[c])
    for k in range(1, count):
        source = sheets[k, rows[k] + r, columns[k] : columns[k] + w]
        for c in range(w):
            total[c] += np.float32(source[c])
    for c in range(w):
        red[c] += w0 * total[c]
        green[c] += w1 * total[c]
        blue[c] += w2 * total[c]


@compiled
def slide_sheets(dx: Any, dy: Any, h: int, w: int) -> tuple[Any, Any, Any]:
    """Where (h, w) sheets slid by (dx[k], dy[k]) pixels, wrapping, start in their 2 × 2
    tiling (rows, columns) and the bilinear weights of their four neighbours (k, 4)."""
    count = dx.shape[0]
    rows = np.empty(count, dtype=np.int64)
    columns = np.empty(count, dtype=np.int64)
    # float32 throughout: a float64 weight would turn the compositing loop to float64.
    weights = np.empty((count, 4), dtype=np.float32)
    one = np.float32(1.0)
    for k in range(count):
        oy, ox = math.floor(-dy[k]), math.floor(-dx[k])
        ty, tx = np.float32(-dy[k] - oy), np.float32(-dx[k] - ox)
        rows[k], columns[k] = oy % h, ox % w
        weights[k, 0], weights[k, 1] = (one - tx) * (one - ty), tx * (one - ty)
        weights[k, 2], weights[k, 3] = (one - tx) * ty, tx * ty
    return rows, columns, weights


@row_kernel
def _lay_over_sheets_row(
    red: Any,
    green: Any,
    blue: Any,
    sheets: Any,
    rows: Any,
    columns: Any,
    weights: Any,
    r: int,
    colour: Any,
    level: float,
    cover: Any,
) -> None:
    w = red.shape[0]
    one = np.float32(1.0)
    scale = np.float32(level)
    red_ink, green_ink, blue_ink = (np.float32(colour[0]), np.float32(colour[1]),
                                    np.float32(colour[2]))  # fmt: skip
    cover[:] = 0.0
    for k in range(sheets.shape[0]):
        # The sheets' unit folded into the weights: cover comes out in 0..1.
        w00, w01 = weights[k, 0] * _SHEET_UNIT, weights[k, 1] * _SHEET_UNIT
        w10, w11 = weights[k, 2] * _SHEET_UNIT, weights[k, 3] * _SHEET_UNIT
        x0 = columns[k]
        top = sheets[k, rows[k] + r, x0 : x0 + w + 1]
        bottom = sheets[k, rows[k] + r + 1, x0 : x0 + w + 1]
        for c in range(w):
            upper = w00 * np.float32(top[c]) + w01 * np.float32(top[c + 1])
            lower = w10 * np.float32(bottom[c]) + w11 * np.float32(bottom[c + 1])
            cover[c] += upper + lower
    for c in range(w):
        amount = min(cover[c], one) * scale
        keep = one - amount
        red[c] = red[c] * keep + red_ink * amount
        green[c] = green[c] * keep + green_ink * amount
        blue[c] = blue[c] * keep + blue_ink * amount


@compiled
def add_outer(canvas: Any, y0: int, x0: int, rows: Any, columns: Any, colour: Any) -> None:
    """canvas[y0 + i, x0 + j, :] += rows[i] × columns[j] × colour: a separable light (a glow)
    added to an (h, w, 3) canvas in one pass, without the (h, w, 3) product numpy would make.

    The tinted column profile is laid out like a canvas row (r, g, b, r, g, b, …), so each row
    of the light is one contiguous, vectorised multiply-add."""
    n = columns.shape[0]
    tinted = np.empty(3 * n, dtype=np.float32)
    for j in range(n):
        for ch in range(3):
            tinted[3 * j + ch] = columns[j] * colour[ch]
    for i in range(rows.shape[0]):
        target = canvas[y0 + i].reshape(-1)[3 * x0 : 3 * (x0 + n)]
        weight = np.float32(rows[i])
        for k in range(3 * n):
            target[k] += weight * tinted[k]


WORLD_LEVELS = 65535
"""The painted world is uint16 planes, 0..1 in this many steps: finer than any picture the
encoder gets, and half the bytes of float32 for the camera to bring in from memory every
frame (the encoder beside the engine evicts the world from the caches between frames)."""
_WORLD_UNIT = np.float32(1.0 / WORLD_LEVELS)


@compiled
def _samples_along(centre: float, count: int, zoom: float, extent: int) -> tuple[Any, Any]:
    """Where each of ``count`` view pixels along one axis samples the world (``extent``
    pixels long): the first of its two source pixels, held inside the world, and the weight
    of the second. Unsigned, so numba knows the indices are never negative and skips the
    wrap-around check that otherwise keeps the gathers that use them from being vectorised."""
    first = np.empty(count, dtype=np.uint32)
    weight = np.empty(count, dtype=np.float32)
    for i in range(count):
        position = centre + (i - count / 2) / zoom
        start = min(max(math.floor(position), 0), extent - 2)
        first[i] = start
        weight[i] = min(max(position - start, 0.0), 1.0)
    return first, weight


@compiled
def _runs(first: Any) -> Any:
    """Where the view's columns split into runs that read consecutive source pixels: run k is
    columns ``runs[k]`` to ``runs[k + 1] - 1``, column c of it reading pixel
    first[runs[k]] + (c - runs[k]). Near a zoom of 1 a run is many columns long (a new one
    starts only where the zoom has gained or lost a whole pixel), so the resampling can read
    each run as one contiguous slice instead of gathering pixel by pixel."""
    count = first.shape[0]
    starts = np.empty(count + 1, dtype=np.int64)
    n = 0
    for c in range(count):
        if c == 0 or np.int64(first[c]) - np.int64(first[c - 1]) != 1:
            starts[n] = c
            n += 1
    starts[n] = count
    return starts[: n + 1]


@compiled
def camera_plan(
    world: Any, h: int, w: int, zoom: float, cx: float, cy: float
) -> tuple[Any, Any, Any, Any, bool, Any]:
    """Where an (h, w) view of ``world`` (uint16 planes, see ``WORLD_LEVELS``) through a
    camera centred on world point (cx, cy) at ``zoom`` samples it: for each column, the first
    of two world columns and the second's weight; the same for each row; whether the view is
    a pure shift of the world; and the runs of columns that read consecutive world pixels
    (:func:`_runs`; none for a shift).

    What ``cv2.warpAffine`` does for a zoom-and-shift matrix, with exact (not 1/32-pixel)
    positions. A zoom and a shift move whole rows and columns alike, so :func:`camera_row`
    works in two separable passes: each world row the view needs is resampled across once,
    then each view row is blended from two of those (a pure shift, the common pan, needs
    only the one pass). A camera at rest on a whole-pixel crop is such a shift, with weights
    0: it copies the world exactly (each step times the unit).
    """
    _, world_h, world_w = world.shape
    left, across = _samples_along(cx, w, zoom, world_w)
    tops, downs = _samples_along(cy, h, zoom, world_h)
    shift = zoom == 1.0 and left[w - 1] == left[0] + w - 1 and across[w - 1] == across[0]
    # A shift reads whole rows in one pass: it has no use for runs.
    runs = np.empty(0, dtype=np.int64) if shift else _runs(left)
    return left, across, tops, downs, shift, runs


@compiled
def camera_cache(world: Any, w: int) -> tuple[Any, Any, Any]:
    """:func:`camera_row`'s memory between rows of one frame, for a view ``w`` pixels wide:
    two world rows resampled across (by parity: a view row blends world rows k and k + 1),
    which row each slot holds, and room for one world row in float32."""
    _, _, world_w = world.shape
    resampled = np.empty((2, 3, w), dtype=np.float32)
    return resampled, np.array([-1, -1]), np.empty((3, world_w), dtype=np.float32)


@row_kernel
def camera_row(
    world: Any,
    plan: tuple[Any, Any, Any, Any, bool, Any],
    r: int,
    cache: tuple[Any, Any, Any],
    red: Any,
    green: Any,
    blue: Any,
) -> None:
    """View row ``r`` through the camera ``plan`` (:func:`camera_plan`), into its three planes;
    ``cache`` (:func:`camera_cache`) carries over from the frame's last row."""
    left, across, tops, downs, shift, runs = plan
    w = red.shape[0]
    if shift:
        # Inside the world: every pixel of the row blends its four neighbours with the same
        # weights, in one pass.
        start, t, down = left[0], across[0], downs[r]
        # float32 weights, with the world's unit folded in: float64 ones would turn the
        # whole loop to float64.
        a, b = (
            np.float32((1 - t) * (1 - down)) * _WORLD_UNIT,
            np.float32(t * (1 - down)) * _WORLD_UNIT,
        )
        c_, d = np.float32((1 - t) * down) * _WORLD_UNIT, np.float32(t * down) * _WORLD_UNIT
        k, end = tops[r], start + w + 1
        _shifted(world[0, k, start:end], world[0, k + 1, start:end], red, down, a, b, c_, d)
        _shifted(world[1, k, start:end], world[1, k + 1, start:end], green, down, a, b, c_, d)
        _shifted(world[2, k, start:end], world[2, k + 1, start:end], blue, down, a, b, c_, d)
        return
    across_rows, held, widened = cache
    # Long runs (a zoom near 1) are read as slices; short ones are gathered pixel by pixel
    # from the row in float32 (there is no gather of 16-bit values).
    by_runs = runs.shape[0] - 1 <= w // _SHORTEST_RUN
    top = np.int64(tops[r])
    for k in range(top, top + 2):
        slot = k % 2
        if held[slot] == k:
            continue
        if by_runs:
            _resample_runs(world, k, left, across, runs, across_rows[slot])
        else:
            _resample_gathering(world, k, left, across, widened, across_rows[slot])
        held[slot] = k
    upper, lower, down = across_rows[top % 2], across_rows[(top + 1) % 2], downs[r]
    _blend_down(upper[0], lower[0], red, down)
    _blend_down(upper[1], lower[1], green, down)
    _blend_down(upper[2], lower[2], blue, down)


@row_kernel
def _shifted(
    upper: Any, lower: Any, out: Any, down: float, a: Any, b: Any, c_: Any, d: Any
) -> None:
    """One plane's row of a pure shift: four taps, or two for a level pan (the view's rows on
    world rows: the same sums, since the lower row's weights are zero)."""
    if down == 0.0:
        for c in range(out.shape[0]):
            out[c] = a * np.float32(upper[c]) + b * np.float32(upper[c + 1])
        return
    for c in range(out.shape[0]):
        above = a * np.float32(upper[c]) + b * np.float32(upper[c + 1])
        out[c] = above + c_ * np.float32(lower[c]) + d * np.float32(lower[c + 1])


@row_kernel
def _blend_down(above: Any, below: Any, out: Any, down: float) -> None:
    for c in range(out.shape[0]):
        out[c] = above[c] + (below[c] - above[c]) * down


@row_kernel
def _resample_runs(world: Any, k: int, left: Any, across: Any, runs: Any, out: Any) -> None:
    """World row ``k`` of the three planes, resampled at the view's columns into (3, w)
    ``out``, run by run (:func:`_runs`): each a contiguous slice of the world row, which
    vectorises. Only worth it for long runs: each run's loop ends in a few scalar steps."""
    one = np.float32(1.0)
    for run in range(runs.shape[0] - 1):
        c0, c1 = runs[run], runs[run + 1]
        a, n = np.int64(left[c0]), c1 - c0
        t = across[c0:c1]
        for plane in range(3):
            source, target = world[plane, k, a : a + n + 1], out[plane, c0:c1]
            for j in range(n):
                first, second = (one - t[j]) * _WORLD_UNIT, t[j] * _WORLD_UNIT
                target[j] = first * np.float32(source[j]) + second * np.float32(source[j + 1])


_SHORTEST_RUN = 20
"""Columns a run must average for :func:`camera_row` to resample by runs rather than by
gathering: shorter, and the runs' scalar ends cost more than the gathers."""


@row_kernel
def _resample_gathering(world: Any, k: int, left: Any, across: Any, widened: Any, out: Any) -> None:
    """:func:`_resample_runs`'s result, each view column gathering its two pixels from world
    row ``k`` first widened to float32 (``widened``, (3, world width)) in the world's unit."""
    # Only the span the view reads (left is increasing), in place: the rest is never read.
    start = np.int64(left[0])
    end = np.int64(left[out.shape[1] - 1]) + 2
    for plane in range(3):
        source, row = world[plane, k, start:end], widened[plane, start:end]
        for c in range(end - start):
            row[c] = np.float32(source[c]) * _WORLD_UNIT
    red, green, blue = out[0], out[1], out[2]
    world_red, world_green, world_blue = widened[0], widened[1], widened[2]
    for c in range(out.shape[1]):
        a, t = left[c], across[c]
        red[c] = world_red[a] + (world_red[a + 1] - world_red[a]) * t
        green[c] = world_green[a] + (world_green[a + 1] - world_green[a]) * t
        blue[c] = world_blue[a] + (world_blue[a + 1] - world_blue[a]) * t


@row_kernel
def _yuv(red: Any, green: Any, blue: Any) -> tuple[Any, Any, Any]:
    """BT.601 limited-range Y, Cb, Cr (unrounded) of RGB in 0..1 (``kinema.media.yuv``'s
    matrix, written out so it compiles to plain arithmetic)."""
    y = (np.float32(16.0) + np.float32(65.481) * red + np.float32(128.553) * green
         + np.float32(24.966) * blue)  # fmt: skip
    u = (np.float32(128.0) - np.float32(37.797) * red - np.float32(74.203) * green
         + np.float32(112.0) * blue)  # fmt: skip
    v = (np.float32(128.0) + np.float32(112.0) * red - np.float32(93.786) * green
         - np.float32(18.214) * blue)  # fmt: skip
    return y, u, v


@row_kernel
def _byte(value: Any) -> Any:
    """``value`` rounded and saturated to 0..255."""
    return np.int32(min(np.float32(255.5), max(np.float32(0.0), value + np.float32(0.5))))


@row_kernel
def vignette(across: Any, down: float, strength: float) -> Any:
    """The shade of a vignette: 1 - strength × d^1.5, with d = ``across`` + ``down`` the squared
    distance from the picture's centre (each axis -1..1 from edge to edge)."""
    d = across + np.float32(down)
    return np.float32(1.0) - np.float32(strength) * d * math.sqrt(d)


@row_kernel
def shade_row(
    red: Any,
    green: Any,
    blue: Any,
    across: Any,
    down: float,
    strength: float,
    luma: Any,
    cb: Any,
    cr: Any,
) -> None:
    """A row of RGB in 0..1 (its three planes), darkened by a vignette (:func:`vignette` of
    each ``across[c]``, the row's ``down`` and ``strength``): its Y unrounded into the float row
    ``luma``, its Cb and Cr rounded and saturated into the uint8 rows.

    The vignette is worked out here, a square root a pixel, rather than read from a stored
    picture of it: that picture was another 0.4 MB a 480p frame to bring in from memory, which
    the encoder beside the engine has long evicted from the caches by the next frame."""
    for c in range(red.shape[0]):
        s = vignette(across[c], down, strength)
        luma[c], u, v = _yuv(red[c] * s, green[c] * s, blue[c] * s)
        cb[c], cr[c] = _byte(u), _byte(v)


@row_kernel
def bytes_row(values: Any, out: Any) -> None:
    """A float row rounded and saturated into a uint8 row."""
    for c in range(values.shape[0]):
        out[c] = _byte(values[c])


def _cubic_weights(t: float) -> Any:
    """The four taps of OpenCV's bicubic (a = -0.75) for a sample ``t`` past the second."""
    a = -0.75
    w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a
    w1 = ((a + 2) * t - (a + 3)) * t * t + 1
    w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1
    return np.array([w0, w1, w2, 1 - w0 - w1 - w2], dtype=np.float32)


# Doubling a picture puts output pixel 2k at source k - 0.25 and 2k + 1 at k + 0.25 (pixel
# centres): the bicubic taps of the two are fixed.
_EVEN = _cubic_weights(0.75)
"""Taps on source pixels k-2 .. k+1 for output pixel 2k."""
_ODD = _cubic_weights(0.25)
"""Taps on source pixels k-1 .. k+2 for output pixel 2k + 1."""


@row_kernel
def double_luma_row(luma: Any, r: int, h: int, row: Any, padded: Any, even: Any, odd: Any) -> None:
    """Output rows 2r and 2r + 1 of the doubled luma of an h-row picture (bicubic, as
    ``cv2.resize`` would), into ``even`` and ``odd``, the rows of the (2h, w) uint16 view of
    the (2h, 2w) luma plane: each store writes an even and an odd pixel at once, which keeps
    the interleaving loop vectorised. Source row j is ``luma[j % len(luma)]``, so ``luma`` is
    either the whole picture or a ring holding at least rows r - 2 .. r + 2. ``row`` (w) and
    ``padded`` (w + 4) are float32 scratch."""
    m, w = luma.shape[0], luma.shape[1]
    above2, above = luma[max(r - 2, 0) % m], luma[max(r - 1, 0) % m]
    here, below, below2 = luma[r % m], luma[min(r + 1, h - 1) % m], luma[min(r + 2, h - 1) % m]
    for c in range(w):
        row[c] = (
            _EVEN[0] * above2[c] + _EVEN[1] * above[c] + _EVEN[2] * here[c] + _EVEN[3] * below[c]
        )
    _double_row(row, padded, even)
    for c in range(w):
        row[c] = _ODD[0] * above[c] + _ODD[1] * here[c] + _ODD[2] * below[c] + _ODD[3] * below2[c]
    _double_row(row, padded, odd)


@row_kernel
def _double_row(source: Any, padded: Any, pairs: Any) -> None:
    """One row doubled across (bicubic, edges held), rounded, as (even, odd) uint16 pairs."""
    w = source.shape[0]
    for j in range(w):  # a loop, not a slice assignment: that compiles seconds slower
        padded[j + 2] = source[j]
    padded[0] = padded[1] = source[0]
    padded[w + 2] = padded[w + 3] = source[w - 1]
    for j in range(w):
        even = (
            _EVEN[0] * padded[j]
            + _EVEN[1] * padded[j + 1]
            + _EVEN[2] * padded[j + 2]
            + _EVEN[3] * padded[j + 3]
        )
        odd = (
            _ODD[0] * padded[j + 1]
            + _ODD[1] * padded[j + 2]
            + _ODD[2] * padded[j + 3]
            + _ODD[3] * padded[j + 4]
        )
        # Little-endian: the low byte is the even (left) pixel.
        pairs[j] = np.uint16(_byte(even)) | (np.uint16(_byte(odd)) << np.uint16(8))


@compiled
def place(
    x: Any,
    y: Any,
    vx: Any,
    vy: Any,
    phase: Any,
    wobble: float,
    wobble_hz: Any,
    twinkle_hz: Any,
    alpha: Any,
    region: tuple[float, float, float, float],
    seconds: float,
    solid: bool,
    fade: bool,
) -> tuple[Any, Any, Any]:
    """Positions and intensities of a swarm's elements at ``seconds`` (see particles.place):
    drifting, wobbling and wrapping around their region, twinkling unless solid, fading in
    and out across the region if they rise. One pass instead of a dozen small numpy calls."""
    x0, x1, y0, y1 = region
    width, height = max(x1 - x0, 1e-3), max(y1 - y0, 1e-3)
    count = x.shape[0]
    xs = np.empty(count, dtype=np.float32)
    ys = np.empty(count, dtype=np.float32)
    levels = np.empty(count, dtype=np.float32)
    for i in range(count):
        wob = wobble * math.sin(2 * math.pi * wobble_hz[i] * seconds + phase[i])
        u = x[i] + vx[i] * seconds + wob - x0
        v = y[i] + vy[i] * seconds + 0.5 * wob - y0
        px = x0 + (u - width * math.floor(u / width))
        py = y0 + (v - height * math.floor(v / height))
        level = alpha[i]
        if not solid:
            level *= 0.65 + 0.35 * math.sin(2 * math.pi * twinkle_hz[i] * seconds + phase[i])
        if fade:
            # Rising things are born at the bottom of their region and die at the top.
            level *= math.sin(math.pi * min(max((py - y0) / height, 0.0), 1.0))
        xs[i], ys[i], levels[i] = px, py, level
    return xs, ys, levels


@compiled
def draw_swarm(
    planes: Any,
    swarm: tuple[Any, ...],
    seconds: float,
    projection: tuple[float, float, float, float, float],
    gain: float,
    reach: float,
    cutoff: float,
) -> None:
    """Place a swarm's elements at ``seconds`` (:func:`place`), project them onto the screen and
    stamp them (:func:`stamp`), in one call: three per frame were a good part of a 480p frame's
    time in Python between them.

    ``swarm`` is (x, y, vx, vy, phase, wobble, wobble_hz, twinkle_hz, alpha, region, solid,
    fade, radius, stretch, colour, additive), as ``particles.Particles`` holds them;
    ``projection`` is (zoom, cx, cy, ox, oy): world point (x, y) is drawn at screen pixel
    (zoom (x - cx) + ox, zoom (y - cy) + oy), with radii × zoom; ``gain`` scales every level.
    """
    (x, y, vx, vy, phase, wobble, wobble_hz, twinkle_hz, alpha, region, solid, fade, radius,
     stretch, colour, additive) = swarm  # fmt: skip
    xs, ys, levels = place(x, y, vx, vy, phase, wobble, wobble_hz, twinkle_hz, alpha, region,
                           seconds, solid, fade)  # fmt: skip
    rx, ry = _project(xs, ys, levels, radius, stretch, projection, gain)
    stamp(planes, xs, ys, rx, ry, colour, levels, additive, solid, reach, cutoff)


@compiled
def swarm_profiles(
    x: Any,
    y: Any,
    vx: Any,
    vy: Any,
    phase: Any,
    wobble_hz: Any,
    twinkle_hz: Any,
    alpha: Any,
    radius: Any,
    bounds: Any,
    wobble: Any,
    region: Any,
    stretch: Any,
    solid: Any,
    fade: Any,
    reach: Any,
    seconds: float,
    projection: tuple[float, float, float, float, float],
    gain: float,
    cutoff: float,
    windows: Any,
    rows: Any,
    columns: Any,
) -> None:
    """:func:`draw_swarm` up to the stamping, for several swarms packed together: swarm s is
    elements ``bounds[s]`` to ``bounds[s + 1] - 1`` of the per-element arrays, with its own
    ``wobble[s]``, ``region[s]`` (4), ``stretch[s]``, ``solid[s]``, ``fade[s]`` and
    ``reach[s]``. Their windows and profiles (:func:`profiles`) go into the zeroed
    ``windows`` (n, 4), ``rows`` (n, h) and ``columns`` (n, w), for :func:`stamp_row`."""
    for s in range(bounds.shape[0] - 1):
        a, b = bounds[s], bounds[s + 1]
        box = (region[s, 0], region[s, 1], region[s, 2], region[s, 3])
        xs, ys, levels = place(x[a:b], y[a:b], vx[a:b], vy[a:b], phase[a:b], wobble[s],
                               wobble_hz[a:b], twinkle_hz[a:b], alpha[a:b], box, seconds,
                               solid[s], fade[s])  # fmt: skip
        rx, ry = _project(xs, ys, levels, radius[a:b], stretch[s], projection, gain)
        profiles(xs, ys, rx, ry, levels, solid[s], reach[s], cutoff, windows[a:b], rows[a:b],
                 columns[a:b])  # fmt: skip


@compiled
def _project(
    xs: Any,
    ys: Any,
    levels: Any,
    radius: Any,
    stretch: float,
    projection: tuple[float, float, float, float, float],
    gain: float,
) -> tuple[Any, Any]:
    """Elements placed in the world (xs, ys, levels) moved onto the screen in place (see
    :func:`draw_swarm`), and their radii there, (rx, ry)."""
    zoom, cx, cy, ox, oy = projection
    scale, across = np.float32(zoom), np.float32(zoom * stretch)
    smallest, level = np.float32(0.35), np.float32(gain)  # sub-pixel elements are kept visible
    count = xs.shape[0]
    rx = np.empty(count, dtype=np.float32)
    ry = np.empty(count, dtype=np.float32)
    for i in range(count):
        xs[i] = scale * (xs[i] - np.float32(cx)) + np.float32(ox)
        ys[i] = scale * (ys[i] - np.float32(cy)) + np.float32(oy)
        rx[i] = max(radius[i] * across, smallest)
        ry[i] = max(radius[i] * scale, smallest)
        levels[i] *= level
    return rx, ry


@compiled
def add_bursts(out: Any, sides: Any, starts: Any, bursts: Any) -> None:
    """out[sides[i], starts[i] + n] += bursts[i, n] for every burst i, each cut off at the end
    of ``out`` (2, samples); overlapping bursts add up."""
    samples = out.shape[1]
    for i in range(bursts.shape[0]):
        row, start = out[sides[i]], starts[i]
        for n in range(min(bursts.shape[1], samples - start)):
            row[start + n] += bursts[i, n]


WAVETABLE_BITS = 12
"""A wavetable holds one cycle in 2¹² steps, plus the first repeated at the end."""


def wavetable(shape: Callable[[Any], Any]) -> Any:
    """One cycle of ``shape`` (a function of the angle in radians, 2π-periodic) as a float32
    table for :func:`add_wave`."""
    steps = 1 << WAVETABLE_BITS
    angles = np.arange(steps + 1, dtype=np.float64) * (2 * math.pi / steps)
    return np.asarray(shape(angles), dtype=np.float32)


@compiled
def add_wave(out: Any, table: Any, step: int, start: int, gain: float, envelope: Any) -> None:
    """out[n] += gain × envelope[n] × the wave at the n-th phase of a 32-bit accumulator,
    (start + n × step) mod 2³², read from ``table`` (see :func:`wavetable`) with linear
    interpolation; an empty ``envelope`` is 1 throughout.

    The accumulator's top bits pick the table step and the rest interpolate: no sine is ever
    computed, and interpolating a 4,096-step cycle is exact to about 1e-6 for smooth waves.
    """
    mask = np.uint64(0xFFFFFFFF)
    shift = np.uint64(32 - WAVETABLE_BITS)
    within = np.uint64((1 << (32 - WAVETABLE_BITS)) - 1)
    scale = np.float32(1.0 / (1 << (32 - WAVETABLE_BITS)))
    first, stride = np.uint64(start), np.uint64(step)
    level = np.float32(gain)
    shaped = envelope.shape[0] > 0
    for n in range(out.shape[0]):
        # n × step < 2⁶⁴, so the product is exact before the wrap.
        turns = (np.uint64(n) * stride + first) & mask
        index = turns >> shift
        below, above = table[index], table[index + np.uint64(1)]
        value = below + (above - below) * (np.float32(turns & within) * scale)
        if shaped:
            value *= envelope[n]
        out[n] += level * value
