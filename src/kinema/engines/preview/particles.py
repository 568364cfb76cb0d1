"""The moving elements of a scene: clouds, birds, cars, fireflies, flames, and the subjects the
prompt names (a kite, boats, fish, balloons, a walking figure), as swarms of soft shapes.

Each element is an axis-aligned Gaussian ellipse: a row profile times a column profile, stamped
by a compiled kernel into the pixels it reaches (see ``draw``). Profiles are cut to zero
beyond ~3.3 sigma, so pixels far from every element receive exactly nothing: with a fixed
camera the background there stays bit-for-bit still.

Positions are pure functions of time (no state carried between frames), so any frame can be
rendered on its own and two renders of the same request agree exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from kinema.engines.preview import kernels
from kinema.engines.preview.backdrop import FloatImage
from kinema.engines.preview.scene import RGB, Scene, Setting, Subject

Array = np.ndarray[Any, np.dtype[np.float32]]

EVERYWHERE = (-1.0, 2.0, -1.0, 2.0)
"""A region covering the whole world (regions are clamped to it)."""
_CUTOFF = 0.004
"""Profile values below this become exactly zero (about 3.3 sigma)."""
_SOFT_REACH = math.sqrt(-2.0 * math.log(_CUTOFF))
"""How many sigmas a soft (Gaussian) profile reaches before it is cut to zero."""
_SOLID_REACH = (-2.0 * math.log(_CUTOFF)) ** (1 / 6)
"""The same for a solid shape's super-Gaussian (exp(-d⁶/2))."""


@dataclass(frozen=True)
class Swarm:
    """A recipe for a set of similar moving shapes. Lengths are in view heights, times in s."""

    count: int
    colours: tuple[RGB, ...]
    size: tuple[float, float]
    """Range of the vertical radius (sigma)."""
    alpha: tuple[float, float]
    velocity: tuple[float, float]
    """Mean velocity (x right, y down), view heights per second."""
    region: tuple[float, float, float, float]
    """x0, x1, y0, y1 as fractions of the camera's resting view (0..1 spans it; the world
    reaches a little beyond, see ``EVERYWHERE``). Elements wrap around inside the region."""
    additive: bool = True
    """Lights add; solid things (clouds, birds, leaves) are painted over what is behind."""
    stretch: float = 1.0
    """Horizontal radius / vertical radius."""
    spread: float = 0.3
    """Random variation of each element's speed, as a fraction of ``velocity``."""
    wobble: float = 0.0
    """Amplitude of a slow side-to-side sway (fireflies, leaves)."""
    twinkle: float = 0.0
    """Brightness flicker frequency in Hz (0 = steady)."""
    fade: bool = False
    """Fade in and out along the travel, for things that rise and die (flames)."""
    both_ways: bool = False
    """Half the elements travel against ``velocity`` (traffic)."""
    solid: bool = False
    """A solid shape with a crisp edge (a rounded box) rather than a soft Gaussian blob."""
    start: tuple[float, float] | None = None
    """Where across the view (fractions) the elements begin, if not anywhere in ``region``:
    a lone subject starts in view, and its wide region keeps it from wrapping back in sight."""


@dataclass(frozen=True)
class Particles:
    """A spawned swarm, in world pixels."""

    x: Array
    y: Array
    vx: Array
    vy: Array
    radius: Array
    stretch: float
    alpha: Array
    colour: Array
    """(count, 3)."""
    phase: Array
    wobble: float
    wobble_hz: Array
    twinkle_hz: Array
    region: tuple[float, float, float, float]
    additive: bool
    fade: bool
    solid: bool

    @cached_property
    def kernel_arguments(self) -> tuple[Any, ...]:
        """The swarm as ``kernels.draw_swarm`` takes it, built once rather than every frame.

        Every scalar is a Python float or bool: the kernel is compiled once per combination of
        argument types, and an int where a float usually is would compile it again mid-render.
        """
        return (self.x, self.y, self.vx, self.vy, self.phase, float(self.wobble), self.wobble_hz,
                self.twinkle_hz, self.alpha, tuple(float(v) for v in self.region),
                bool(self.solid), bool(self.fade), self.radius, float(self.stretch), self.colour,
                bool(self.additive))  # fmt: skip


def swarms_for(scene: Scene) -> list[Swarm]:
    """The moving elements of the scene: its setting's, then its subjects'."""
    return _setting_swarms(scene) + [_subject_swarm(scene, s) for s in scene.subjects]


def _setting_swarms(scene: Scene) -> list[Swarm]:
    """The moving elements of the scene's setting, coloured by its palette."""
    # Settings have three or four accents; cycling them keeps every index valid.
    a = tuple(scene.accents[i % len(scene.accents)] for i in range(4))
    sky_band = (-1.0, 2.0, -0.1, scene.horizon * 0.8)
    wide = (-1.0, 2.0)
    fire = (scene.focus - 0.1, scene.focus + 0.1, scene.horizon - 0.35, scene.horizon)
    sparks = (scene.focus - 0.2, scene.focus + 0.2, 0.0, scene.horizon)
    return {
        Setting.SKY: [
            Swarm(10, (a[0],), (0.06, 0.11), (0.8, 1.0), (0.02, 0.0), sky_band,
                  additive=False, stretch=2.4),
            Swarm(5, (a[1],), (0.006, 0.01), (0.8, 1.0), (0.12, -0.01), sky_band,
                  additive=False, stretch=2.0, wobble=0.01),
        ],
        Setting.SEA: [
            Swarm(40, (a[0], a[1]), (0.004, 0.008), (0.3, 0.7), (0.015, 0.0),
                  (*wide, scene.horizon + 0.02, 1.0), stretch=5.0, twinkle=0.7),
            Swarm(1, (a[2],), (0.015, 0.02), (0.9, 1.0), (0.02, 0.0),
                  (*wide, scene.horizon - 0.02, scene.horizon + 0.01), additive=False,
                  stretch=0.7),
        ],
        Setting.CITY: [
            Swarm(14, (a[1], (1.0, 0.95, 0.85)), (0.006, 0.009), (0.6, 1.0), (0.18, 0.0),
                  (*wide, scene.horizon + 0.03, scene.horizon + 0.1), stretch=2.5,
                  both_ways=True),
            Swarm(20, (a[0], a[2], a[3]), (0.004, 0.008), (0.2, 0.6), (0.0, 0.0),
                  (*wide, scene.horizon - 0.4, scene.horizon), twinkle=0.8),
        ],
        Setting.SPACE: [
            Swarm(40, (a[2],), (0.003, 0.006), (0.4, 0.9), (0.0, 0.0), EVERYWHERE, twinkle=1.2),
            Swarm(1, (a[2], a[1]), (0.008, 0.012), (0.9, 1.0), (0.12, 0.05), EVERYWHERE,
                  stretch=3.0),
        ],
        Setting.FOREST: [
            Swarm(24, (a[0],), (0.005, 0.01), (0.4, 0.9), (0.0, -0.005),
                  (*wide, scene.horizon - 0.3, scene.horizon + 0.2), wobble=0.04, twinkle=0.9),
            Swarm(10, (a[1],), (0.005, 0.008), (0.7, 0.9), (0.02, 0.06), EVERYWHERE,
                  additive=False, stretch=1.5, wobble=0.03),
        ],
        Setting.FIRE: [
            Swarm(26, (a[0], a[1], a[2]), (0.03, 0.06), (0.35, 0.6), (0.0, -0.18),
                  fire, stretch=0.6, wobble=0.015, twinkle=3.0, fade=True),
            Swarm(18, (a[1],), (0.003, 0.005), (0.6, 1.0), (0.0, -0.12),
                  sparks, wobble=0.03, fade=True),
        ],
        Setting.ROOM: [
            Swarm(28, (a[1],), (0.003, 0.006), (0.15, 0.45), (0.006, -0.004),
                  (scene.focus - 0.3, scene.focus + 0.3, 0.05, scene.horizon + 0.1), wobble=0.02,
                  twinkle=0.6),
        ],
        Setting.ABSTRACT: [
            Swarm(8, a, (0.06, 0.12), (0.2, 0.4), (0.0, 0.0), EVERYWHERE, wobble=0.12),
            Swarm(30, a, (0.004, 0.008), (0.5, 0.9), (0.03, -0.02), EVERYWHERE, twinkle=1.5),
        ],
    }[scene.setting]  # fmt: skip


def _subject_swarm(scene: Scene, subject: Subject) -> Swarm:
    """A subject the prompt names, in its own colour if the prompt gives one."""
    c = scene.subject_colour
    way = 1.0 if scene.key[2] % 2 else -1.0  # which way subjects travel: the seed decides
    horizon = scene.horizon
    water = (-1.0, 2.0, horizon + 0.06, 0.95) if horizon < 0.9 else (-1.0, 2.0, 0.4, 0.9)
    sky = (-1.0, 2.0, 0.02, max(0.25, horizon * 0.7))
    ground = (-1.0, 2.0, horizon + 0.03, min(1.0, horizon + 0.1))
    return {
        Subject.BIRDS: Swarm(7, (c or (0.1, 0.1, 0.13),), (0.008, 0.013), (0.85, 1.0),
                             (0.1 * way, -0.01), sky, additive=False, stretch=2.2, wobble=0.015,
                             twinkle=2.5),
        Subject.FISH: Swarm(8, (c or (1.0, 0.55, 0.2), (0.95, 0.85, 0.3)), (0.012, 0.02),
                            (0.8, 1.0), (0.06 * way, 0.0), water, additive=False, stretch=2.2,
                            wobble=0.02, solid=True),
        Subject.BOAT: Swarm(2, (c or (0.16, 0.1, 0.08),), (0.016, 0.022), (0.95, 1.0),
                            (0.025 * way, 0.0), (-1.0, 2.0, horizon - 0.005, horizon + 0.005),
                            additive=False, stretch=3.4, spread=0.2, start=(0.15, 0.85),
                            solid=True),
        Subject.CARS: Swarm(12, (c or (1.0, 0.97, 0.85), (1.0, 0.2, 0.15)), (0.006, 0.009),
                            (0.7, 1.0), (0.2, 0.0), ground, stretch=2.5, both_ways=True),
        Subject.BALLOONS: Swarm(5, (c or (0.95, 0.2, 0.2), (1.0, 0.85, 0.2), (0.2, 0.5, 0.95)),
                                (0.03, 0.045), (0.9, 1.0), (0.01 * way, -0.05),
                                (-0.2, 1.2, 0.0, min(1.0, horizon + 0.1)), additive=False,
                                stretch=0.85, wobble=0.02, solid=True),
        Subject.KITE: Swarm(1, (c or (0.95, 0.15, 0.15),), (0.03, 0.034), (1.0, 1.0),
                            (0.02 * way, 0.0), (-1.0, 2.0, 0.12, 0.42), additive=False,
                            stretch=0.75, wobble=0.08, start=(0.3, 0.7), solid=True),
        Subject.BUTTERFLIES: Swarm(6, (c or (1.0, 0.75, 0.15), (0.3, 0.55, 1.0)),
                                   (0.008, 0.012), (0.8, 1.0), (0.04 * way, -0.01),
                                   (-0.2, 1.2, 0.3, min(1.0, horizon + 0.1)), additive=False,
                                   stretch=1.4, wobble=0.05, twinkle=6.0),
        Subject.LANTERNS: Swarm(10, (c or (1.0, 0.6, 0.2),), (0.012, 0.02), (0.6, 0.9),
                                (0.005 * way, -0.04), EVERYWHERE, wobble=0.02, twinkle=0.5),
        Subject.LEAVES: Swarm(14, (c or (0.85, 0.45, 0.1), (0.7, 0.25, 0.1), (0.9, 0.7, 0.2)),
                              (0.006, 0.01), (0.85, 1.0), (0.03 * way, 0.07), EVERYWHERE,
                              additive=False, stretch=1.6, wobble=0.05),
        Subject.FIGURE: Swarm(1, (c or (0.8, 0.22, 0.16),), (0.09, 0.095), (1.0, 1.0),
                              (0.03 * way, 0.0), (-1.0, 2.0, horizon - 0.09, horizon - 0.09),
                              additive=False, stretch=0.35, wobble=0.004,
                              start=(0.45 - 0.2 * way, 0.55 - 0.2 * way), solid=True),
    }[subject]  # fmt: skip


def overlay_swarms(scene: Scene) -> list[Swarm]:
    """Light-only elements to float over a user's image: the setting's lights, or dust motes."""
    # Only small lights: big glows would wash over the user's picture.
    lights = [s for s in swarms_for(scene) if s.additive and s.count > 1 and s.size[1] <= 0.02]
    if lights:
        return lights
    return [Swarm(30, scene.accents[:1] or ((1.0, 1.0, 1.0),), (0.004, 0.008), (0.3, 0.6),
                  (0.01, -0.01), EVERYWHERE, wobble=0.02, twinkle=0.5)]  # fmt: skip


def spawn(
    swarm: Swarm, rng: np.random.Generator, world: tuple[int, int], view: tuple[int, int]
) -> Particles:
    """Scatter a swarm's elements over a world of (width, height) pixels around a centred view."""
    n = swarm.count
    unit = float(view[1])  # one view height

    def to_world(fraction: float, axis: int) -> float:
        offset = (world[axis] - view[axis]) / 2
        return float(np.clip(offset + fraction * view[axis], 0, world[axis]))

    x0, x1, y0, y1 = swarm.region
    region = (to_world(x0, 0), to_world(x1, 0), to_world(y0, 1), to_world(y1, 1))
    starts = region[:2] if swarm.start is None else (to_world(swarm.start[0], 0),
                                                     to_world(swarm.start[1], 0))  # fmt: skip

    def uniform(low: float, high: float) -> Array:
        return rng.uniform(low, high, n).astype(np.float32)

    spread = 1 + swarm.spread * rng.uniform(-1, 1, n).astype(np.float32)
    if swarm.both_ways:
        spread *= np.where(rng.random(n) < 0.5, 1.0, -1.0).astype(np.float32)
    return Particles(
        x=uniform(*starts),
        y=uniform(region[2], region[3]),
        vx=swarm.velocity[0] * unit * spread,
        vy=swarm.velocity[1] * unit * spread,
        radius=uniform(*swarm.size) * unit,
        stretch=swarm.stretch,
        alpha=uniform(*swarm.alpha),
        colour=np.array(swarm.colours, dtype=np.float32)[rng.integers(0, len(swarm.colours), n)],
        phase=uniform(0, 2 * np.pi),
        wobble=swarm.wobble * unit,
        wobble_hz=uniform(0.1, 0.4),
        twinkle_hz=uniform(0.5, 1.5) * swarm.twinkle,
        region=region,
        additive=swarm.additive,
        fade=swarm.fade,
        solid=swarm.solid,
    )


def place(p: Particles, seconds: float) -> tuple[Array, Array, Array]:
    """World positions and intensities (float32) of the elements at time ``seconds``."""
    return kernels.place(
        p.x, p.y, p.vx, p.vy, p.phase, p.wobble, p.wobble_hz, p.twinkle_hz, p.alpha, p.region,
        seconds, p.solid, p.fade,
    )  # fmt: skip


def draw(
    planes: FloatImage,
    p: Particles,
    seconds: float,
    *,
    zoom: float = 1.0,
    centre: tuple[float, float] = (0.0, 0.0),
    origin: tuple[float, float] = (0.0, 0.0),
    gain: float = 1.0,
) -> None:
    """Draw the elements as they are at time ``seconds`` into (3, h, w) ``planes``: world point
    (x, y) at screen pixel ``zoom`` × ((x, y) - ``centre``) + ``origin``, sizes × ``zoom``, each
    intensity × ``gain``.

    Every element, from a one-pixel star to a cloud half the frame wide, is *stamped* by a
    compiled kernel (``kernels.stamp``) that visits only the pixels the element reaches: its
    row profile times its column profile. (Large soft shapes were once a matrix product over
    the rectangle they reach; the kernel is now faster even for clouds.) Placing, projecting
    and stamping are one compiled call (``kernels.draw_swarm``).
    """
    projection = (float(zoom), float(centre[0]), float(centre[1]), float(origin[0]),
                  float(origin[1]))  # fmt: skip
    reach = _SOLID_REACH if p.solid else _SOFT_REACH
    kernels.draw_swarm(planes, p.kernel_arguments, float(seconds), projection, float(gain), reach,
                       _CUTOFF)  # fmt: skip


@dataclass(frozen=True)
class Stamps:
    """Every element of a scene's swarms ready to stamp at one moment (``kernels.stamp_row``):
    swarm s is elements ``bounds[s]`` to ``bounds[s + 1] - 1``, in drawing order."""

    windows: np.ndarray[Any, np.dtype[np.int64]]
    """(n, 4): rows r0..r1 and columns c0..c1 (ends excluded) each element reaches."""
    rows: Array
    """(n, h): each element's row profile times its intensity, zero outside its window."""
    columns: Array
    """(n, w): its column profile, zero outside its window."""
    colour: Array
    bounds: np.ndarray[Any, np.dtype[np.int64]]
    additive: np.ndarray[Any, np.dtype[np.bool_]]


_PER_ELEMENT = ("x", "y", "vx", "vy", "phase", "wobble_hz", "twinkle_hz", "alpha", "radius")


class Swarms:
    """A scene's spawned swarms packed together, so one compiled call places, projects and
    profiles them all for a frame (``kernels.swarm_profiles``): what the frame compositor
    stamps row by row. It draws exactly what :func:`draw` draws, swarm after swarm."""

    def __init__(self, swarms: list[Particles]) -> None:
        # One row per array the kernel takes per element, each row contiguous.
        self._elements: Array = np.array(
            [np.concatenate([getattr(p, name) for p in swarms] or [np.zeros(0)])
             for name in _PER_ELEMENT], dtype=np.float32
        )  # fmt: skip
        self._colour = (np.concatenate([p.colour for p in swarms]).astype(np.float32)
                        if swarms else np.zeros((0, 3), dtype=np.float32))  # fmt: skip
        self._bounds = np.cumsum([0] + [p.x.shape[0] for p in swarms]).astype(np.int64)
        self._wobble = np.array([p.wobble for p in swarms], dtype=np.float64)
        self._region = np.array([p.region for p in swarms], dtype=np.float64).reshape(-1, 4)
        self._stretch = np.array([p.stretch for p in swarms], dtype=np.float64)
        self._solid = np.array([p.solid for p in swarms], dtype=np.bool_)
        self._fade = np.array([p.fade for p in swarms], dtype=np.bool_)
        self._additive = np.array([p.additive for p in swarms], dtype=np.bool_)
        self._reach = np.where(self._solid, _SOLID_REACH, _SOFT_REACH).astype(np.float64)

    def at(
        self,
        seconds: float,
        size: tuple[int, int],
        *,
        zoom: float,
        centre: tuple[float, float],
        origin: tuple[float, float],
    ) -> Stamps:
        """Every element at time ``seconds`` on a (width, height) screen, projected as
        :func:`draw` projects it."""
        count = self._colour.shape[0]
        windows = np.zeros((count, 4), dtype=np.int64)
        rows = np.zeros((count, size[1]), dtype=np.float32)
        columns = np.zeros((count, size[0]), dtype=np.float32)
        projection = (float(zoom), float(centre[0]), float(centre[1]), float(origin[0]),
                      float(origin[1]))  # fmt: skip
        x, y, vx, vy, phase, wobble_hz, twinkle_hz, alpha, radius = self._elements
        kernels.swarm_profiles(x, y, vx, vy, phase, wobble_hz, twinkle_hz, alpha, radius,
                               self._bounds, self._wobble, self._region,
                               self._stretch, self._solid, self._fade, self._reach,
                               float(seconds), projection, 1.0, _CUTOFF, windows, rows,
                               columns)  # fmt: skip
        return Stamps(windows, rows, columns, self._colour, self._bounds, self._additive)
