"""Weather over the picture: rain and snow falling, fog drifting, lightning flashing.

Rain and snow are drawn once per render onto seamless (wrapping) sheets the size of the view,
then slid down (and sideways with the wind) a little more each frame and composited in one pass
by a compiled kernel (``kernels``): a few hundred falling streaks cost the same as one. Fog is a
seamless sheet of soft noise drifting sideways. Like everything in the preview engine, each
layer's state is a pure function of time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import cv2
import numpy as np

from kinema.engines.preview import kernels
from kinema.engines.preview.backdrop import FloatImage
from kinema.engines.preview.scene import Scene, Weather

Plane = np.ndarray[Any, np.dtype[np.float32]]
Sheets = np.ndarray[Any, np.dtype[np.uint8]]
"""(k, 2h, 2w) layers of coverage in ``kernels.SHEET_LEVELS`` steps, each tiled 2 × 2."""


class WeatherFrame(NamedTuple):
    """The weather of one frame, as ``kernels.weather_row`` takes it (in this order)."""

    mode: int
    """``kernels.NO_SHEETS``, ``ADD_SHEETS`` (rain) or ``LAY_OVER_SHEETS`` (snow, fog)."""
    sheets: Sheets
    rows: np.ndarray[Any, np.dtype[np.int64]]
    """(k,): where each layer's window starts in its tiling."""
    columns: np.ndarray[Any, np.dtype[np.int64]]
    weights: Plane
    """(k, 4): sub-pixel weights of a slid layer's four neighbours (laid-over layers only)."""
    colour: Plane
    level: float
    gain: float
    """Lightning: the picture × gain + lift (1 and 0 without)."""
    lift: float


_NO_OFFSETS = np.zeros(0, dtype=np.int64)
_NO_WEIGHTS = np.zeros((0, 4), dtype=np.float32)


@dataclass(frozen=True)
class _Layer:
    """How one falling layer moves; its sheet is the same index of ``WeatherLayers._sheets``."""

    velocity: tuple[float, float]
    """Pixels per second (x right, y down)."""
    sway: float
    """Amplitude in pixels of a slow side-to-side sway (snow)."""


class WeatherLayers:
    """The falling and drifting layers of a scene's weather, in screen space."""

    def __init__(self, scene: Scene, width: int, height: int, draft: bool) -> None:
        self._size = (width, height)
        self._layers: list[_Layer] = []
        self._colour = np.zeros(3, dtype=np.float32)
        self._over = False
        """Snow and fog cover what is behind; rain adds light."""
        self._fog: Sheets | None = None
        """(1, 2h, 2w) coverage of the mist, seamless, tiled like the sheets."""
        self._sheets: Sheets = np.zeros((0, 2 * height, 2 * width), dtype=np.uint8)
        """One sheet per layer, stacked for the compositing kernels: (h, w) coverage, seamless
        in both directions, tiled 2 × 2 so that any slide is a window of it."""
        self._fog_speed = 0.0
        self._lightning = scene.lightning
        rng = scene.rng("weather")
        density = 0.5 if draft else 1.0
        weather = scene.weather
        if weather in (Weather.RAIN, Weather.STORM):
            heavy = 1.5 if weather is Weather.STORM else 1.0
            wind = float(rng.uniform(-0.25, 0.25)) * heavy
            sheets = []
            for count, length, level, speed in ((160, 0.035, 0.10, 1.1), (60, 0.08, 0.16, 1.9)):
                sheet = _streaks(rng, width, height, round(count * density * heavy),
                                 length * height, level, wind)  # fmt: skip
                sheets.append(_tiled(sheet))
                v = speed * height
                self._layers.append(_Layer((wind * v, v), 0.0))
            self._colour[:] = (0.78, 0.82, 0.9)
            self._sheets = np.stack(sheets)
        elif weather is Weather.SNOW:
            sheets = []
            for count, radius, level, speed in ((220, 0.003, 0.55, 0.05), (70, 0.006, 0.9, 0.1)):
                sheet = _flakes(rng, width, height, round(count * density), radius * height, level)
                sheets.append(_tiled(sheet))
                self._layers.append(_Layer((0.01 * height, speed * height), 0.02 * height))
            self._colour[:] = (0.96, 0.97, 1.0)
            self._over = True
            self._sheets = np.stack(sheets)
        elif weather is Weather.FOG:
            self._fog = _tiled(_fog_sheet(rng, width, height))[None]
            self._fog_speed = 0.015 * width
            self._colour[:] = scene.sky[1]

    @property
    def falls(self) -> bool:
        """Whether rain or snow falls: the additive layers that suit any picture."""
        return bool(self._layers)

    def apply(self, planes: FloatImage, seconds: float, level: float = 1.0) -> None:
        """Add the weather at time ``seconds`` to (3, h, w) planes, scaled by ``level``."""
        kernels.weather(planes, *self.at(seconds, level))

    def at(self, seconds: float, level: float = 1.0) -> WeatherFrame:
        """The weather at time ``seconds``, scaled by ``level``, as ``kernels.weather_row``
        draws it (the frame compositor, a row at a time, or :meth:`apply`)."""
        w, h = self._size
        mode, sheets = kernels.NO_SHEETS, self._sheets
        rows, columns, weights = _NO_OFFSETS, _NO_OFFSETS, _NO_WEIGHTS
        if self._layers and not self._over:
            # Rain: streaks move tens of pixels a frame, so whole-pixel steps are plenty.
            mode = kernels.ADD_SHEETS
            columns = np.array([round(-layer.velocity[0] * seconds) % w for layer in self._layers])
            rows = np.array([round(-layer.velocity[1] * seconds) % h for layer in self._layers])
        elif self._layers:
            # Snow drifts slowly: slid with sub-pixel precision, then laid over the picture.
            dx = np.array([layer.velocity[0] * seconds
                           + layer.sway * math.sin(2 * math.pi * 0.25 * seconds)
                           for layer in self._layers])  # fmt: skip
            dy = np.array([layer.velocity[1] * seconds for layer in self._layers])
            mode = kernels.LAY_OVER_SHEETS
            rows, columns, weights = kernels.slide_sheets(dx, dy, h, w)
        elif self._fog is not None:
            mode, sheets = kernels.LAY_OVER_SHEETS, self._fog
            rows, columns, weights = kernels.slide_sheets(
                np.array([self._fog_speed * seconds]), np.zeros(1), h, w
            )
        flash = self.flash(seconds) * level
        gain, lift = (1 + 0.8 * flash, 0.25 * flash) if flash > 0.003 else (1.0, 0.0)
        return WeatherFrame(mode, sheets, rows, columns, weights, self._colour, float(level),
                            float(gain), float(lift))  # fmt: skip

    def flash(self, seconds: float) -> float:
        """Brightness of lightning at ``seconds``: a sharp double flicker that dies away."""
        total = 0.0
        for start in self._lightning:
            for offset, peak in ((0.0, 1.0), (0.13, 0.7)):
                age = seconds - start - offset
                if age >= 0:
                    total += peak * math.exp(-age / 0.07)
        return min(total, 1.0)


def _tiled(sheet: Plane) -> Sheets:
    """A sheet of coverage in 0..1 in the kernels' uint8 steps, tiled 2 × 2."""
    steps = np.rint(sheet * kernels.SHEET_LEVELS).astype(np.uint8)
    tiled: Sheets = np.tile(steps, (2, 2))
    return tiled


def _streaks(
    rng: np.random.Generator, w: int, h: int, count: int, length: float, level: float, wind: float
) -> Plane:
    """Seamless sheet of thin slanted streaks (drawn again across each edge they cross)."""
    sheet = np.zeros((h, w), dtype=np.float32)
    xs, ys = rng.uniform(0, w, count), rng.uniform(0, h, count)
    lengths = length * rng.uniform(0.6, 1.2, count)
    levels = level * rng.uniform(0.5, 1.0, count)
    x1, y1 = xs + wind * lengths, ys + lengths
    for ox in (-w, 0, w):
        for oy in (-h, 0, h):
            # Each copy only where it reaches the sheet (a streak starts inside it).
            reaches = ((np.maximum(xs, x1) + ox >= -1) & (np.minimum(xs, x1) + ox <= w)
                       & (y1 + oy >= -1) & (ys + oy <= h))  # fmt: skip
            # Rounded all at once (numpy rounds halves to even, as Python's round does).
            ends = np.rint(np.stack([xs + ox, ys + oy, x1 + ox, y1 + oy], axis=1)).astype(int)
            for index in np.flatnonzero(reaches):
                start_x, start_y, end_x, end_y = ends[index].tolist()
                cv2.line(sheet, (start_x, start_y), (end_x, end_y), float(levels[index]), 1,
                         cv2.LINE_AA)  # fmt: skip
    return np.clip(sheet, 0.0, 1.0)


def _flakes(
    rng: np.random.Generator, w: int, h: int, count: int, radius: float, level: float
) -> Plane:
    """Seamless sheet of soft round flakes (drawn again across each edge they cross)."""
    # Drawn at 4× and shrunk, for flakes smaller than a pixel that still look round.
    scale = 4
    big = np.zeros((h * scale, w * scale), dtype=np.float32)
    xs, ys = rng.uniform(0, w, count), rng.uniform(0, h, count)
    radii = np.maximum(1, np.rint(radius * rng.uniform(0.6, 1.4, count) * scale)).astype(int)
    levels = level * rng.uniform(0.6, 1.0, count)
    for ox in (-w, 0, w):
        for oy in (-h, 0, h):
            cx = np.rint((xs + ox) * scale).astype(int)
            cy = np.rint((ys + oy) * scale).astype(int)
            # Each copy only where it reaches the canvas (with its antialiased fringe).
            reach = radii + 1
            reaches = ((cx + reach >= 0) & (cx - reach < w * scale)
                       & (cy + reach >= 0) & (cy - reach < h * scale))  # fmt: skip
            for index in np.flatnonzero(reaches):
                cv2.circle(big, (int(cx[index]), int(cy[index])), int(radii[index]),
                           float(levels[index]), -1, cv2.LINE_AA)  # fmt: skip
    small: Plane = np.clip(cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA), 0.0, 1.0)
    return small


def _fog_sheet(rng: np.random.Generator, w: int, h: int) -> Plane:
    """Seamless soft banks of mist, thicker towards the bottom of the view."""
    cells_y = 3
    cells_x = max(3, round(cells_y * w / h))
    grid = rng.uniform(0.0, 1.0, (cells_y, cells_x)).astype(np.float32)
    # Interpolating a tiled grid and keeping the middle tile makes the result wrap seamlessly.
    tiled = np.tile(grid, (3, 3))
    smooth = cv2.resize(tiled, (3 * w, 3 * h), interpolation=cv2.INTER_CUBIC)[h : 2 * h, w : 2 * w]
    depth = np.linspace(0.55, 1.0, h, dtype=np.float32)[:, None]
    cover: Plane = np.clip(0.18 + 0.32 * smooth, 0.0, 0.6) * depth
    return np.ascontiguousarray(cover, dtype=np.float32)
