"""The still world behind the moving elements: sky, ground, sun or moon and the setting's landmarks.

Painted once per render at the internal resolution (supersampled twice for smooth edges) onto a
canvas larger than the view, so the virtual camera can pan and zoom across it. A faint
low-frequency texture covers everything: it is what makes camera motion visible (and testable)
even over an otherwise flat sky.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from kinema.engines.preview import kernels
from kinema.engines.preview.scene import RGB, Scene, Setting, TimeOfDay, Weather

FloatImage = np.ndarray[Any, np.dtype[np.float32]]
"""A float32 RGB image with channels in [0, 1]: (height, width, 3) while painting the
backdrop, and as (3, height, width) planes in the renderer, where every per-frame operation
then runs over contiguous memory."""

World = np.ndarray[Any, np.dtype[np.uint16]]
"""The painted world as the camera reads it: (3, height, width) planes, 0..1 in
``kernels.WORLD_LEVELS`` steps."""
_TO_WORLD_LEVELS = (float(kernels.WORLD_LEVELS),) * 3 + (0.0,)
"""The scale to world steps, per channel (OpenCV's scalar form)."""

Anchor = tuple[float, float]
"""(x, y) canvas pixels of the scene's focus (fire, sun) and horizon."""

_SUPERSAMPLE = 2
"""Painted at twice the world's size each way; shrinking it back is then a 2 × 2 mean."""


def paint_backdrop(scene: Scene, world: tuple[int, int], view: tuple[int, int]) -> World:
    """Paint the scene's static world, (width, height) pixels, as (3, height, width) planes.

    The world is centred on the camera's resting view, ``view`` pixels in size; the scene's
    horizon and focus are fractions of that view, not of the (larger) world.
    """
    rng = scene.rng("backdrop")
    w, h = world[0] * _SUPERSAMPLE, world[1] * _SUPERSAMPLE
    focus = ((world[0] - view[0]) / 2 + scene.focus * view[0]) * _SUPERSAMPLE
    horizon = ((world[1] - view[1]) / 2 + scene.horizon * view[1]) * _SUPERSAMPLE
    canvas = _sky_and_ground(scene, w, h, horizon)
    if scene.light is not None and scene.setting is not Setting.ROOM:
        top = (world[1] - view[1]) / 2 * _SUPERSAMPLE
        y = top + scene.light.height * view[1] * _SUPERSAMPLE
        _paint_light(canvas, scene, rng, (focus, horizon), y)
    _PAINTERS[scene.setting](canvas, scene, rng, (focus, horizon))
    # Exactly half each way, bilinear samples midway between each 2 × 2 block, i.e. its mean:
    # the same picture as INTER_AREA (to a rounding error), in a fifth of the time.
    small = cv2.resize(canvas, world, interpolation=cv2.INTER_LINEAR)
    # The texture is smooth noise: laid on after shrinking, it costs a quarter as much.
    small *= _texture(rng, world[0], world[1])[:, :, None]
    # Scaled to the world's steps in one pass: the conversion to uint16 rounds, and
    # saturates (clips to 0..1). (OpenCV's stubs do not know a scalar may be a tuple.)
    steps = cv2.multiply(small, _TO_WORLD_LEVELS, dtype=cv2.CV_16U)  # type: ignore[call-overload]
    planes: World = np.ascontiguousarray(steps.transpose(2, 0, 1))
    return planes


def _sky_and_ground(scene: Scene, w: int, h: int, horizon: float) -> FloatImage:
    y = np.arange(h, dtype=np.float32)[:, None]
    sky_t = np.clip(y / max(horizon, 1.0), 0.0, 1.0)
    ground_t = np.clip((y - horizon) / max(h - horizon, 1.0), 0.0, 1.0)
    sky = _lerp(scene.sky[0], scene.sky[1], sky_t)
    ground = _lerp(scene.ground[0], scene.ground[1], ground_t)
    # A soft, two-pixel-wide horizon rather than a hard edge.
    is_ground = np.clip(y - horizon + 0.5, 0.0, 1.0)[:, :, None]
    column = np.ascontiguousarray(sky * (1 - is_ground) + ground * is_ground, dtype=np.float32)
    # Nearest-neighbour "resizing" the one column across is a plain copy per row, and ten
    # times faster than numpy materialising the broadcast (an 8 MB canvas at 480p).
    return np.asarray(cv2.resize(column, (w, h), interpolation=cv2.INTER_NEAREST), np.float32)


def _lerp(a: RGB, b: RGB, t: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    a_, b_ = np.array(a, dtype=np.float32), np.array(b, dtype=np.float32)
    mixed: np.ndarray[Any, Any] = a_ + (b_ - a_) * t[:, :, None]
    return mixed


def _texture(rng: np.random.Generator, w: int, h: int) -> np.ndarray[Any, Any]:
    """Multiplicative value noise around 1: broad mottling plus a finer grain."""
    total = np.ones((h, w), dtype=np.float32)
    for cells, amount in ((6, 0.035), (20, 0.015)):
        grid = rng.standard_normal((cells, max(2, cells * w // h))).astype(np.float32)
        # Across, then down: the same bicubic as one 2-D resize (to a rounding error), in about
        # 60% of the time, since the first pass makes only the grid's few rows.
        across = cv2.resize(grid, (w, grid.shape[0]), interpolation=cv2.INTER_CUBIC)
        total += amount * cv2.resize(across, (w, h), interpolation=cv2.INTER_CUBIC)
    return total


def glow(
    canvas: FloatImage, x: float, y: float, rx: float, ry: float, colour: RGB, strength: float
) -> None:
    """Add a soft elliptical light (a Gaussian) centred at (x, y) pixels to ``canvas``."""
    h, w = canvas.shape[:2]
    # Only the box where the light is visible at all (beyond ~4 sigma it adds nothing).
    x0, x1 = max(0, int(x - 4 * rx)), min(w, int(x + 4 * rx) + 1)
    y0, y1 = max(0, int(y - 4 * ry)), min(h, int(y + 4 * ry) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    gx = np.exp(-0.5 * ((np.arange(x0, x1, dtype=np.float32) - x) / rx) ** 2)
    gy = np.exp(-0.5 * ((np.arange(y0, y1, dtype=np.float32) - y) / ry) ** 2) * strength
    kernels.add_outer(canvas, y0, x0, gy, gx, np.array(colour, dtype=np.float32))


def _fill(canvas: FloatImage, points: np.ndarray[Any, Any], colour: RGB) -> None:
    cv2.fillPoly(canvas, [np.round(points).astype(np.int32)], colour, lineType=cv2.LINE_8)


def _ridge(rng: np.random.Generator, w: int, base: float, amplitude: float) -> np.ndarray[Any, Any]:
    """A wavy skyline (hills, tree tops) as y values for x = 0..w-1."""
    x = np.arange(w, dtype=np.float32) / w
    y = np.full(w, base, dtype=np.float32)
    for octave in range(1, 5):
        phase, weight = rng.uniform(0, 2 * np.pi), amplitude / octave
        y -= weight * (0.5 + 0.5 * np.sin(2 * np.pi * octave * (x * 1.7) + phase))
    return y


def _silhouette(canvas: FloatImage, top: np.ndarray[Any, Any], colour: RGB) -> None:
    h, w = canvas.shape[:2]
    points = np.concatenate([np.stack([np.arange(w), top], axis=1), [[w - 1, h], [0, h]]])
    _fill(canvas, points, colour)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def _paint_light(
    canvas: FloatImage, scene: Scene, rng: np.random.Generator, anchor: Anchor, y: float
) -> None:
    """The sun (a glow; low and wide at dawn and sunset) or the moon (a disc among stars)."""
    assert scene.light is not None
    light = scene.light
    focus, horizon = anchor
    h, w = canvas.shape[:2]
    radius = light.size * h
    if light.moon:
        if scene.weather is Weather.CLEAR:
            _stars(canvas, rng, max(1.0, horizon), 0.25, (0.9, 0.92, 1.0))
        glow(canvas, focus, y, 4 * radius, 4 * radius, light.colour, 0.25 * light.strength)
        _disc(canvas, focus, y, radius, light.colour, light.strength * 1.6)
        return
    glow(canvas, focus, y, radius, radius, light.colour, light.strength)
    if y > horizon - 0.12 * h:  # low sun: the whole horizon catches its light
        glow(canvas, focus, horizon, 1.5 * w, 0.08 * h, light.colour, 0.5 * light.strength)


def _stars(
    canvas: FloatImage, rng: np.random.Generator, bottom: float, density: float, colour: RGB
) -> None:
    """Single-pixel stars (2×2 before the supersampled canvas is shrunk) above ``bottom``."""
    h, w = canvas.shape[:2]
    rows = int(min(bottom, h - 1))
    count = int(w * rows // 300 * density)
    if rows < 2 or count == 0:
        return
    ys, xs = rng.integers(0, rows - 1, count), rng.integers(0, w - 1, count)
    brightness = (rng.random(count) ** 3)[:, None] * np.array(colour, dtype=np.float32)
    for dy in (0, 1):
        for dx in (0, 1):
            canvas[ys + dy, xs + dx] += brightness


def _disc(canvas: FloatImage, cx: float, cy: float, r: float, colour: RGB, level: float) -> None:
    """An anti-aliased disc painted over ``canvas`` (only its bounding box is touched)."""
    h, w = canvas.shape[:2]
    x0, x1 = max(0, int(cx - r - 2)), min(w, int(cx + r + 3))
    y0, y1 = max(0, int(cy - r - 2)), min(h, int(cy + r + 3))
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    inside = np.clip(r - np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) + 0.5, 0.0, 1.0)[:, :, None]
    paint = np.array(colour, dtype=np.float32) * min(level, 1.0)
    target = canvas[y0:y1, x0:x1]
    target[:] = target * (1 - inside) + paint * inside


def _paint_sky(canvas: FloatImage, scene: Scene, rng: np.random.Generator, anchor: Anchor) -> None:
    horizon = anchor[1]
    h, w = canvas.shape[:2]
    far = _mix(scene.ground[0], scene.sky[1], 0.55)
    _silhouette(canvas, _ridge(rng, w, horizon + 0.02 * h, 0.12 * h), far)
    _silhouette(canvas, _ridge(rng, w, horizon + 0.08 * h, 0.07 * h), scene.ground[0])


def _paint_sea(canvas: FloatImage, scene: Scene, rng: np.random.Generator, anchor: Anchor) -> None:
    focus, horizon = anchor
    h, w = canvas.shape[:2]
    if scene.light is not None:  # its path of light on the water
        glow(canvas, focus, horizon + 0.2 * h, 0.04 * h, 0.2 * h, scene.light.colour,
             0.5 * scene.light.strength)  # fmt: skip
    glow(canvas, w / 2, horizon, 4.0 * w, 0.015 * h, scene.sky[1], 0.35)


def _paint_city(canvas: FloatImage, scene: Scene, rng: np.random.Generator, anchor: Anchor) -> None:
    horizon = anchor[1]
    h, w = canvas.shape[:2]
    ground = int(horizon)
    x = int(-rng.uniform(0, 0.05) * w)
    window = max(1, h // 90)
    while x < w:
        bw = int(rng.uniform(0.04, 0.1) * w)
        top = int(ground - rng.uniform(0.15, 0.5) * h)
        shade = _mix(scene.sky[0], (0.08, 0.08, 0.1), rng.uniform(0.3, 0.8))
        cv2.rectangle(canvas, (x, top), (x + bw, ground + 1), shade, thickness=-1)
        lit = scene.accents[0] if rng.random() < 0.7 else scene.accents[3]
        for wy in range(top + 2 * window, ground - 2 * window, 3 * window):
            for wx in range(x + window, x + bw - window, 3 * window):
                if rng.random() < 0.3:
                    cv2.rectangle(canvas, (wx, wy), (wx + window, wy + window), lit, -1)
        x += bw + int(rng.uniform(0, 0.02) * w)


def _paint_space(
    canvas: FloatImage, scene: Scene, rng: np.random.Generator, anchor: Anchor
) -> None:
    h, w = canvas.shape[:2]
    for _ in range(5):
        colour = scene.accents[int(rng.integers(0, 2))]
        rx, ry = rng.uniform(0.15, 0.4) * h, rng.uniform(0.1, 0.3) * h
        glow(canvas, rng.uniform(0, w), rng.uniform(0, h), rx, ry, colour, rng.uniform(0.1, 0.3))
    count = w * h // 300
    ys, xs = rng.integers(0, h - 1, count), rng.integers(0, w - 1, count)
    brightness = (rng.random(count) ** 3)[:, None] * np.array(scene.accents[2], dtype=np.float32)
    for dy in (0, 1):  # 2×2 supersampled dots become single pixels
        for dx in (0, 1):
            canvas[ys + dy, xs + dx] += brightness
    cx, cy, r = rng.uniform(0.2, 0.8) * w, rng.uniform(0.25, 0.75) * h, rng.uniform(0.1, 0.18) * h
    # Only the planet's bounding box is touched.
    x0, x1 = max(0, int(cx - r - 2)), min(w, int(cx + r + 3))
    y0, y1 = max(0, int(cy - r - 2)), min(h, int(cy + r + 3))
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / r**2
    inside = np.clip((1.0 - d2) * r / 2, 0.0, 1.0)[:, :, None]  # anti-aliased disc
    light = np.clip(0.25 + 0.75 * ((xx - cx) * -0.6 + (yy - cy) * -0.5) / r, 0.05, 1.0)
    planet = np.array(scene.accents[3], dtype=np.float32) * light[:, :, None]
    target = canvas[y0:y1, x0:x1]
    target[:] = target * (1 - inside) + planet * inside


def _paint_forest(
    canvas: FloatImage, scene: Scene, rng: np.random.Generator, anchor: Anchor
) -> None:
    horizon = anchor[1]
    h, w = canvas.shape[:2]
    for depth, colour in (
        (0.6, _mix(scene.accents[2], scene.sky[1], 0.6)),
        (1.0, scene.accents[2]),
    ):
        x = rng.uniform(-0.05, 0) * w
        while x < w:
            height = rng.uniform(0.2, 0.45) * h * depth
            half = height * rng.uniform(0.22, 0.32)
            base = horizon + (1 - depth) * 0.02 * h + depth * 0.04 * h
            _fill(
                canvas, np.array([[x - half, base], [x, base - height], [x + half, base]]), colour
            )
            x += half * rng.uniform(0.8, 1.6)


def _paint_fire(canvas: FloatImage, scene: Scene, rng: np.random.Generator, anchor: Anchor) -> None:
    focus, horizon = anchor
    h = canvas.shape[0]
    glow(canvas, focus, horizon, 0.35 * h, 0.3 * h, scene.accents[0], 0.8)
    glow(canvas, focus, horizon, 0.12 * h, 0.1 * h, scene.accents[1], 0.6)
    for angle in (rng.uniform(0.2, 0.35), -rng.uniform(0.2, 0.35)):
        half_len, half_thick = 0.2 * h, 0.025 * h
        c, s = np.cos(angle), np.sin(angle)
        corners = [(-half_len, -half_thick), (half_len, -half_thick),
                   (half_len, half_thick), (-half_len, half_thick)]  # fmt: skip
        points = np.array([[focus + c * px - s * py, horizon + 0.04 * h + s * px + c * py]
                           for px, py in corners])  # fmt: skip
        _fill(canvas, points, (0.05, 0.025, 0.015))


def _paint_room(canvas: FloatImage, scene: Scene, rng: np.random.Generator, anchor: Anchor) -> None:
    """A wall with a window on the world outside, a lamp on a table, a skirting board."""
    focus, horizon = anchor
    h, w = canvas.shape[:2]
    frame, lamp = scene.accents[2], scene.accents[0]
    night = scene.time is TimeOfDay.NIGHT
    # The window: the outside sky (and its sun or moon), a frame and a cross of bars.
    top, bottom = horizon * 0.16, horizon * 0.72
    half = 0.22 * h
    x0, x1 = focus - half, focus + half
    t = np.clip((np.arange(h, dtype=np.float32)[:, None] - top) / (bottom - top), 0, 1)
    pane = _lerp(scene.outside[0], scene.outside[1], t)[int(top) : int(bottom)]
    canvas[int(top) : int(bottom), int(x0) : int(x1)] = pane
    if scene.light is not None:
        light = scene.light
        high = scene.time in (TimeOfDay.DAY, TimeOfDay.NIGHT)
        y = top + (bottom - top) * (0.3 if high else 0.8)
        _disc(canvas, focus + 0.3 * half, y, 0.03 * h, light.colour, 0.8 if light.moon else 1.0)
    bar = max(2.0, 0.012 * h)
    middle = (top + bottom) / 2
    for rect in (
        (x0 - bar, top - bar, x1 + bar, top),
        (x0 - bar, bottom, x1 + bar, bottom + bar),
        (x0 - bar, top, x0, bottom),
        (x1, top, x1 + bar, bottom),
        (focus - bar / 2, top, focus + bar / 2, bottom),
        (x0, middle - bar / 2, x1, middle + bar / 2),
    ):
        _rect(canvas, rect, frame)
    if not night:  # daylight falls through the window onto the floor
        glow(canvas, focus, horizon + 0.1 * h, 0.3 * h, 0.06 * h, scene.outside[1], 0.25)
    # The lamp on a table, on the other side of the room.
    lamp_x = focus + (0.42 if focus < w / 2 else -0.42) * w * 0.6
    table_top = horizon - 0.1 * h
    _rect(canvas, (lamp_x - 0.12 * h, table_top, lamp_x + 0.12 * h, table_top + 0.015 * h), frame)
    _rect(canvas, (lamp_x - 0.1 * h, table_top, lamp_x - 0.09 * h, horizon + 0.04 * h), frame)
    _rect(canvas, (lamp_x + 0.09 * h, table_top, lamp_x + 0.1 * h, horizon + 0.04 * h), frame)
    _rect(canvas, (lamp_x - 0.004 * h, table_top - 0.12 * h, lamp_x + 0.004 * h, table_top), frame)
    glow(canvas, lamp_x, table_top - 0.1 * h, 0.22 * h, 0.16 * h, lamp, 0.6 if night else 0.3)
    shade = np.array([[lamp_x - 0.06 * h, table_top - 0.12 * h], [lamp_x - 0.035 * h,
                      table_top - 0.19 * h], [lamp_x + 0.035 * h, table_top - 0.19 * h],
                      [lamp_x + 0.06 * h, table_top - 0.12 * h]])  # fmt: skip
    _fill(canvas, shade, (0.92, 0.52, 0.22))
    _rect(canvas, (0, horizon - 0.01 * h, w, horizon + 0.004 * h), _mix(frame, scene.sky[1], 0.4))


def _rect(canvas: FloatImage, rect: tuple[float, float, float, float], colour: RGB) -> None:
    x0, y0, x1, y1 = (round(v) for v in rect)
    cv2.rectangle(canvas, (x0, y0), (x1 - 1, y1 - 1), colour, thickness=-1)


def _paint_abstract(
    canvas: FloatImage, scene: Scene, rng: np.random.Generator, anchor: Anchor
) -> None:
    h, w = canvas.shape[:2]
    for index in range(6):
        colour = scene.accents[index % len(scene.accents)]
        rx, ry = rng.uniform(0.2, 0.5) * h, rng.uniform(0.2, 0.5) * h
        glow(canvas, rng.uniform(0, w), rng.uniform(0, h), rx, ry, colour, rng.uniform(0.2, 0.45))


_PAINTERS: dict[Setting, Callable[[FloatImage, Scene, np.random.Generator, Anchor], None]] = {
    Setting.SKY: _paint_sky,
    Setting.SEA: _paint_sea,
    Setting.CITY: _paint_city,
    Setting.SPACE: _paint_space,
    Setting.FOREST: _paint_forest,
    Setting.FIRE: _paint_fire,
    Setting.ROOM: _paint_room,
    Setting.ABSTRACT: _paint_abstract,
}
