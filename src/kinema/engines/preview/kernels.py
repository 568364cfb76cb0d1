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
    # fastmath lets LLVM reorder float arithmetic and assume finite values, which is what lets
    # it vectorise these loops; the numpy error model skips the division-by-zero checks.
    return cast(
        _Function,
        numba.njit(cache=True, nogil=True, fastmath=True, error_model="numpy")(function),
    )


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
    both worked out once. The picture is drawn a row at a time, every element that reaches the
    row in turn, so the row stays in the fastest cache however many elements overlap.
    Additive elements add light. Others are laid "over" what is behind, premultiplied: the
    row's coverage by all elements is summed first, so overlaps saturate at full cover rather
    than depending on drawing order.

    Inner loops run over slices from index 0: numba cannot tell that an index running from a
    computed start is never negative, and the wrap-around check it adds kept LLVM from
    vectorising them (5× slower).
    """
    _, h, w = planes.shape
    count = sx.shape[0]
    windows = _windows(sx, sy, rx, ry, level, reach, h, w)
    rows = np.zeros((count, h), dtype=np.float32)
    columns = np.zeros((count, w), dtype=np.float32)
    top, bottom, left, right = h, 0, w, 0  # the union of the windows
    for i in range(count):
        r0, r1, c0, c1 = windows[i]
        if r1 <= r0 or c1 <= c0:
            continue
        top, bottom, left, right = min(top, r0), max(bottom, r1), min(left, c0), max(right, c1)
        for r in range(r0, r1):
            rows[i, r] = _profile_value(r - sy[i], ry[i], solid, cutoff) * level[i]
        for c in range(c0, c1):
            columns[i, c] = _profile_value(c - sx[i], rx[i], solid, cutoff)
    if bottom <= top:
        return
    # "Over": the light and coverage summed across one row, then laid over it.
    light = np.zeros((3, w), dtype=np.float32)
    cover = np.zeros(w, dtype=np.float32)
    for r in range(top, bottom):
        for i in range(count):
            row = rows[i, r]
            if row == 0.0:  # also every row outside the element's window
                continue
            c0, c1 = windows[i, 2], windows[i, 3]
            profile = columns[i, c0:c1]
            red, green, blue = colour[i, 0] * row, colour[i, 1] * row, colour[i, 2] * row
            if additive:
                _add_light(planes[0, r, c0:c1], planes[1, r, c0:c1], planes[2, r, c0:c1],
                           profile, red, green, blue)  # fmt: skip
                continue
            _add_light(light[0, c0:c1], light[1, c0:c1], light[2, c0:c1], profile, red, green,
                       blue)  # fmt: skip
            weight, covered = np.float32(row), cover[c0:c1]
            for k in range(c1 - c0):
                covered[k] += weight * profile[k]
        if not additive:
            _lay_over_row(planes, r, light, cover, left, right)


@_compiled
def _add_light(red: Any, green: Any, blue: Any, profile: Any, r: float, g: float, b: float) -> None:
    """(red, green, blue) += (r, g, b) × profile: three rows of the same length, one pass."""
    wr, wg, wb = np.float32(r), np.float32(g), np.float32(b)
    for k in range(profile.shape[0]):
        value = profile[k]
        red[k] += wr * value
        green[k] += wg * value
        blue[k] += wb * value


@_compiled
def _lay_over_row(planes: Any, r: int, light: Any, cover: Any, left: int, right: int) -> None:
    """Composite a row's summed light (3, w) and coverage (w) over planes[:, r] in columns
    left:right, and clear them. Where nothing covers a pixel it is kept exactly (× 1 + 0), so
    the whole span goes through one branch-free, vectorised pass."""
    one = np.float32(1.0)
    total = cover[left:right]
    n = total.shape[0]
    keep = np.empty(n, dtype=np.float32)
    scale = np.empty(n, dtype=np.float32)
    for k in range(n):
        keep[k] = one - min(total[k], one)
        scale[k] = one / max(total[k], one)
        total[k] = 0.0
    for ch in range(3):
        target, source = planes[ch, r, left:right], light[ch, left:right]
        for k in range(n):
            target[k] = target[k] * keep[k] + source[k] * scale[k]
            source[k] = 0.0


@_compiled
def add_sheets(planes: Any, sheets: Any, xs: Any, ys: Any, colour: Any, level: float) -> None:
    """planes += colour × level × Σ the (h, w) windows of ``sheets`` at (xs[k], ys[k]).

    Each sheet is a seamless layer tiled 2 × 2, so any whole-pixel offset within one tile is a
    plain window of it (rain: streaks move tens of pixels a frame, whole pixels are plenty).
    """
    _, h, w = planes.shape
    count = sheets.shape[0]
    row = np.empty(w, dtype=np.float32)
    w0, w1, w2 = (np.float32(colour[0] * level), np.float32(colour[1] * level),
                  np.float32(colour[2] * level))  # fmt: skip
    for r in range(h):
        red, green, blue = planes[0, r], planes[1, r], planes[2, r]
        first = sheets[0, ys[0] + r, xs[0] : xs[0] + w]
        if count == 2:  # rain's two layers: summed and added in one pass
            second = sheets[1, ys[1] + r, xs[1] : xs[1] + w]
            for c in range(w):
                total = first[c] + second[c]
                red[c] += w0 * total
                green[c] += w1 * total
                blue[c] += w2 * total
            continue
        for c in range(w):
            row[c] = first[c]
        for k in range(1, count):
            source = sheets[k, ys[k] + r, xs[k] : xs[k] + w]
            for c in range(w):
                row[c] += source[c]
        for c in range(w):
            red[c] += w0 * row[c]
            green[c] += w1 * row[c]
            blue[c] += w2 * row[c]


@_compiled
def lay_over_sheets(planes: Any, sheets: Any, dx: Any, dy: Any, colour: Any, level: float) -> None:
    """Lay seamless sheets, each slid by (dx[k], dy[k]) pixels with bilinear sub-pixel
    precision and wrapping at the edges, over the (3, h, w) picture in ``colour``:
    planes = planes × (1 - cover) + colour × cover, cover = min(Σ sheets, 1) × level.

    Like ``add_sheets``, each sheet is given tiled 2 × 2, (2h, 2w): any slide, wrapped, is then
    a plain window of it, and a sub-pixel slide blends four neighbours with the same weights
    everywhere, so each row is one vectorised pass with no index arithmetic per pixel.
    """
    _, h, w = planes.shape
    count = sheets.shape[0]
    rows = np.empty(count, dtype=np.int64)
    columns = np.empty(count, dtype=np.int64)
    # float32 throughout: a float64 weight would turn the whole loop to float64.
    weights = np.empty((count, 4), dtype=np.float32)
    one = np.float32(1.0)
    for k in range(count):
        oy, ox = math.floor(-dy[k]), math.floor(-dx[k])
        ty, tx = np.float32(-dy[k] - oy), np.float32(-dx[k] - ox)
        rows[k], columns[k] = oy % h, ox % w
        weights[k, 0], weights[k, 1] = (one - tx) * (one - ty), tx * (one - ty)
        weights[k, 2], weights[k, 3] = (one - tx) * ty, tx * ty
    cover = np.empty(w, dtype=np.float32)
    scale = np.float32(level)
    red_ink, green_ink, blue_ink = (
        np.float32(colour[0]),
        np.float32(colour[1]),
        np.float32(colour[2]),
    )
    for r in range(h):
        cover[:] = 0.0
        for k in range(count):
            w00, w01, w10, w11 = weights[k, 0], weights[k, 1], weights[k, 2], weights[k, 3]
            x0 = columns[k]
            top = sheets[k, rows[k] + r, x0 : x0 + w + 1]
            bottom = sheets[k, rows[k] + r + 1, x0 : x0 + w + 1]
            for c in range(w):
                cover[c] += w00 * top[c] + w01 * top[c + 1] + w10 * bottom[c] + w11 * bottom[c + 1]
        red, green, blue = planes[0, r], planes[1, r], planes[2, r]
        for c in range(w):
            amount = min(cover[c], one) * scale
            keep = one - amount
            red[c] = red[c] * keep + red_ink * amount
            green[c] = green[c] * keep + green_ink * amount
            blue[c] = blue[c] * keep + blue_ink * amount


@_compiled
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


@_compiled
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


@_compiled
def look_at(world: Any, view: Any, zoom: float, cx: float, cy: float) -> None:
    """Fill (3, h, w) ``view`` with the (3, H, W) ``world`` seen by a camera centred on world
    point (cx, cy) at ``zoom`` view pixels per world pixel: bilinear, edges held past the world.

    What ``cv2.warpAffine`` does for a zoom-and-shift matrix, in one pass for all three planes
    and with exact (not 1/32-pixel) positions. A zoom and a shift move whole rows and columns
    alike, so it works in two separable passes: each world row the view needs is resampled
    across once, then each view row is blended from two of those (a pure shift, the common
    pan, needs only the one pass).
    """
    _, world_h, world_w = world.shape
    _, h, w = view.shape
    left, across = _samples_along(cx, w, zoom, world_w)
    tops, downs = _samples_along(cy, h, zoom, world_h)
    if zoom == 1.0 and left[w - 1] == left[0] + w - 1 and across[w - 1] == across[0]:
        # A pure shift inside the world: every view pixel blends its four neighbours with the
        # same weights, in one pass.
        shift, t = left[0], across[0]
        for ch in range(3):
            for r in range(h):
                down = downs[r]
                upper = world[ch, tops[r], shift : shift + w + 1]
                lower = world[ch, tops[r] + 1, shift : shift + w + 1]
                out = view[ch, r]
                # float32 weights: float64 ones would turn the whole loop to float64.
                a, b = np.float32((1 - t) * (1 - down)), np.float32(t * (1 - down))
                if down == 0.0:
                    # A level pan (the view's rows fall on world rows): two taps, not four,
                    # and the same sums, since the lower row's weights are zero.
                    for c in range(w):
                        out[c] = a * upper[c] + b * upper[c + 1]
                    continue
                c_, d = np.float32((1 - t) * down), np.float32(t * down)
                for c in range(w):
                    out[c] = a * upper[c] + b * upper[c + 1] + c_ * lower[c] + d * lower[c + 1]
        return
    # Each world row the view needs is resampled across once, into one of two slots (by its
    # parity: a view row blends world rows k and k + 1), just before the view rows that use it.
    across_rows = np.empty((2, 3, w), dtype=np.float32)
    held = np.array([-1, -1])
    for r in range(h):
        top = np.int64(tops[r])
        for k in range(top, top + 2):
            slot = k % 2
            if held[slot] != k:
                _resample_across(world, k, left, across, across_rows[slot])
                held[slot] = k
        upper, lower, down = across_rows[top % 2], across_rows[(top + 1) % 2], downs[r]
        for ch in range(3):
            out, above, below = view[ch, r], upper[ch], lower[ch]
            for c in range(w):
                out[c] = above[c] + (below[c] - above[c]) * down


@_compiled
def _resample_across(world: Any, k: int, left: Any, across: Any, out: Any) -> None:
    """World row ``k`` of the three planes, resampled at the view's columns into (3, w)
    ``out``; the planes together, so each sample's position and weight are loaded once."""
    red, green, blue = out[0], out[1], out[2]
    world_red, world_green, world_blue = world[0, k], world[1, k], world[2, k]
    for c in range(out.shape[1]):
        a, t = left[c], across[c]
        red[c] = world_red[a] + (world_red[a + 1] - world_red[a]) * t
        green[c] = world_green[a] + (world_green[a + 1] - world_green[a]) * t
        blue[c] = world_blue[a] + (world_blue[a + 1] - world_blue[a]) * t


@_compiled
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


@_compiled
def _byte(value: Any) -> Any:
    """``value`` rounded and saturated to 0..255."""
    return np.int32(min(np.float32(255.5), max(np.float32(0.0), value + np.float32(0.5))))


@_compiled
def _shade_row(view: Any, shade: Any, r: int, luma: Any, blue: Any, red: Any) -> None:
    """Row ``r`` of (3, h, w) RGB ``view`` in 0..1, times ``shade`` (h, w): its Y unrounded
    into the float row ``luma``, its Cb and Cr rounded and saturated into the uint8 rows."""
    shades, reds, greens, blues = shade[r], view[0, r], view[1, r], view[2, r]
    for c in range(reds.shape[0]):
        s = shades[c]
        luma[c], u, v = _yuv(reds[c] * s, greens[c] * s, blues[c] * s)
        blue[c], red[c] = _byte(u), _byte(v)


@_compiled
def shade_to_yuv(view: Any, shade: Any, luma: Any, blue: Any, red: Any) -> None:
    """(3, h, w) RGB ``view`` in 0..1, times ``shade`` (h, w), to (h, w) uint8 Y, Cb and Cr
    planes, rounded and saturated, as the encoder's I420 holds them."""
    _, h, w = view.shape
    row = np.empty(w, dtype=np.float32)
    for r in range(h):
        _shade_row(view, shade, r, row, blue[r], red[r])
        ys = luma[r]
        for c in range(w):
            ys[c] = _byte(row[c])


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


@_compiled
def shade_to_i420_doubled(view: Any, shade: Any, luma_pairs: Any, blue: Any, red: Any) -> None:
    """(3, h, w) RGB ``view`` in 0..1, times ``shade``, to an I420 frame twice its size: Cb
    and Cr (h, w) straight into ``blue`` and ``red``, and Y upscaled 2× (bicubic, as
    ``cv2.resize`` would) into the (2h, 2w) luma plane, given as ``luma_pairs``, its (2h, w)
    uint16 view: each store writes an even and an odd pixel at once, which keeps the
    interleaving loop vectorised.
    """
    _, h, w = view.shape
    luma = np.empty((h, w), dtype=np.float32)
    for r in range(h):
        _shade_row(view, shade, r, luma[r], blue[r], red[r])
    row = np.empty(w, dtype=np.float32)
    padded = np.empty(w + 4, dtype=np.float32)
    for r in range(h):
        above2, above, here = luma[max(r - 2, 0)], luma[max(r - 1, 0)], luma[r]
        below, below2 = luma[min(r + 1, h - 1)], luma[min(r + 2, h - 1)]
        for c in range(w):
            row[c] = (
                _EVEN[0] * above2[c]
                + _EVEN[1] * above[c]
                + _EVEN[2] * here[c]
                + _EVEN[3] * below[c]
            )
        _double_row(row, padded, luma_pairs[2 * r])
        for c in range(w):
            row[c] = (
                _ODD[0] * above[c] + _ODD[1] * here[c] + _ODD[2] * below[c] + _ODD[3] * below2[c]
            )
        _double_row(row, padded, luma_pairs[2 * r + 1])


@_compiled
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


@_compiled
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


@_compiled
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
    stamp(planes, xs, ys, rx, ry, colour, levels, additive, solid, reach, cutoff)


@_compiled
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


@_compiled
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
