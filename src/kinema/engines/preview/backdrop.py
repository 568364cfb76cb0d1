"""The still world behind the moving elements: sky, ground and the setting's landmarks.

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

from kinema.engines.preview.scene import RGB, Scene, Setting

FloatImage = np.ndarray[Any, np.dtype[np.float32]]
"""A float32 RGB image with channels in [0, 1]: (height, width, 3) while painting the
backdrop, and as (3, height, width) planes in the renderer, where every per-frame operation
then runs over contiguous memory."""

Anchor = tuple[float, float]
"""(x, y) canvas pixels of the scene's focus (fire, sun) and horizon."""

_SUPERSAMPLE = 2


def paint_backdrop(scene: Scene, world: tuple[int, int], view: tuple[int, int]) -> FloatImage:
    """Paint the scene's static world, (width, height) pixels, as (3, height, width) planes.

    The world is centred on the camera's resting view, ``view`` pixels in size; the scene's
    horizon and focus are fractions of that view, not of the (larger) world.
    """
    rng = scene.rng("backdrop")
    w, h = world[0] * _SUPERSAMPLE, world[1] * _SUPERSAMPLE
    focus = ((world[0] - view[0]) / 2 + scene.focus * view[0]) * _SUPERSAMPLE
    horizon = ((world[1] - view[1]) / 2 + scene.horizon * view[1]) * _SUPERSAMPLE
    canvas = _sky_and_ground(scene, w, h, horizon)
    _PAINTERS[scene.setting](canvas, scene, rng, (focus, horizon))
    canvas *= _texture(rng, w, h)[:, :, None]
    small = cv2.resize(canvas, world, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(np.clip(small, 0.0, 1.0).transpose(2, 0, 1), dtype=np.float32)


def _sky_and_ground(scene: Scene, w: int, h: int, horizon: float) -> FloatImage:
    y = np.arange(h, dtype=np.float32)[:, None]
    sky_t = np.clip(y / max(horizon, 1.0), 0.0, 1.0)
    ground_t = np.clip((y - horizon) / max(h - horizon, 1.0), 0.0, 1.0)
    sky = _lerp(scene.sky[0], scene.sky[1], sky_t)
    ground = _lerp(scene.ground[0], scene.ground[1], ground_t)
    # A soft, two-pixel-wide horizon rather than a hard edge.
    is_ground = np.clip(y - horizon + 0.5, 0.0, 1.0)[:, :, None]
    column = sky * (1 - is_ground) + ground * is_ground
    return np.ascontiguousarray(np.broadcast_to(column, (h, w, 3)), dtype=np.float32)


def _lerp(a: RGB, b: RGB, t: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    a_, b_ = np.array(a, dtype=np.float32), np.array(b, dtype=np.float32)
    mixed: np.ndarray[Any, Any] = a_ + (b_ - a_) * t[:, :, None]
    return mixed


def _texture(rng: np.random.Generator, w: int, h: int) -> np.ndarray[Any, Any]:
    """Multiplicative value noise around 1: broad mottling plus a finer grain."""
    total = np.ones((h, w), dtype=np.float32)
    for cells, amount in ((6, 0.035), (20, 0.015)):
        grid = rng.standard_normal((cells, max(2, cells * w // h))).astype(np.float32)
        total += amount * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    return total


def glow(
    canvas: FloatImage, x: float, y: float, rx: float, ry: float, colour: RGB, strength: float
) -> None:
    """Add a soft elliptical light (a Gaussian) centred at (x, y) pixels to ``canvas``."""
    h, w = canvas.shape[:2]
    gx = np.exp(-0.5 * ((np.arange(w, dtype=np.float32) - x) / rx) ** 2)
    gy = np.exp(-0.5 * ((np.arange(h, dtype=np.float32) - y) / ry) ** 2)
    weight = (gy[:, None] * gx[None, :] * strength)[:, :, None]
    canvas += weight * np.array(colour, dtype=np.float32)


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


def _paint_sky(canvas: FloatImage, scene: Scene, rng: np.random.Generator, anchor: Anchor) -> None:
    focus, horizon = anchor
    h, w = canvas.shape[:2]
    glow(canvas, focus, horizon * 0.5, 0.1 * h, 0.1 * h, scene.accents[2], 0.35)
    far = _mix(scene.ground[0], scene.sky[1], 0.55)
    _silhouette(canvas, _ridge(rng, w, horizon + 0.02 * h, 0.12 * h), far)
    _silhouette(canvas, _ridge(rng, w, horizon + 0.08 * h, 0.07 * h), scene.ground[0])


def _paint_sea(canvas: FloatImage, scene: Scene, rng: np.random.Generator, anchor: Anchor) -> None:
    focus, horizon = anchor
    h, w = canvas.shape[:2]
    sun_x = focus
    glow(canvas, sun_x, horizon - 0.1 * h, 0.07 * h, 0.07 * h, scene.accents[1], 0.45)
    glow(canvas, sun_x, horizon + 0.2 * h, 0.04 * h, 0.2 * h, scene.accents[1], 0.2)
    glow(canvas, w / 2, horizon, 4.0 * w, 0.015 * h, scene.sky[1], 0.35)


def _paint_city(canvas: FloatImage, scene: Scene, rng: np.random.Generator, anchor: Anchor) -> None:
    horizon = anchor[1]
    h, w = canvas.shape[:2]
    ground = int(horizon)
    glow(canvas, rng.uniform(0.1, 0.9) * w, 0.25 * h, 0.04 * h, 0.04 * h, (0.9, 0.9, 0.8), 0.6)
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
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / r**2
    inside = np.clip((1.0 - d2) * r / 2, 0.0, 1.0)  # anti-aliased disc
    light = np.clip(0.25 + 0.75 * ((xx - cx) * -0.6 + (yy - cy) * -0.5) / r, 0.05, 1.0)
    planet = np.array(scene.accents[3], dtype=np.float32) * light[:, :, None]
    canvas[:] = canvas * (1 - inside[:, :, None]) + planet * inside[:, :, None]


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
    Setting.ABSTRACT: _paint_abstract,
}
