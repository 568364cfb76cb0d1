"""From a prompt to a scene: which setting, which colours, how the camera moves, how it sounds.

The choice is a small keyword table, not language understanding: "a lighthouse by the sea at
sunset" becomes the sea setting tinted orange, "zoom in" makes the camera push in. Every random
choice made anywhere in the preview engine comes from :meth:`Scene.rng`, seeded from a digest of
the prompt and the seed, so identical requests give identical videos on any machine.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from dataclasses import dataclass, replace
from enum import StrEnum

import cv2
import numpy as np

from kinema.engines.base import Frame, RenderSpec

RGB = tuple[float, float, float]
"""A colour with channels in [0, 1]."""


class Setting(StrEnum):
    """The kinds of scene the preview engine can paint."""

    SKY = "sky"
    SEA = "sea"
    CITY = "city"
    SPACE = "space"
    FOREST = "forest"
    FIRE = "fire"
    ABSTRACT = "abstract"


@dataclass(frozen=True)
class Camera:
    """A camera move over the whole clip; the identity move means a locked-off camera."""

    pan: tuple[float, float] = (0.0, 0.0)
    """Total travel (x right, y down) in view widths and heights."""
    zoom: tuple[float, float] = (1.0, 1.0)
    """Magnification at the first and last frame (1 = widest)."""

    @property
    def fixed(self) -> bool:
        return self.pan == (0.0, 0.0) and self.zoom[0] == self.zoom[1] == 1.0


@dataclass(frozen=True)
class Sound:
    """Parameters of the ambient bed synthesised for the scene."""

    root_hz: float
    chord: tuple[int, ...]
    """Semitones above the root of each pad voice."""
    noise_cutoff_hz: float
    noise_level: float
    swell_hz: float
    """Rate of slow swells in the noise (surf, gusts); 0 for a steady bed."""
    crackle: float
    """Crackles per second (fire); 0 for none."""


@dataclass(frozen=True)
class Scene:
    """Everything the renderer and the audio synthesiser need to know about the prompt."""

    setting: Setting
    sky: tuple[RGB, RGB]
    """Top and bottom colours of the sky (or backdrop)."""
    ground: tuple[RGB, RGB]
    horizon: float
    """Height of the horizon as a fraction of the frame, from the top (1 = no ground)."""
    focus: float
    """Where across the frame (0 = left edge) the main feature sits: the fire, the sun."""
    accents: tuple[RGB, ...]
    """Colours of the moving elements."""
    camera: Camera
    sound: Sound
    key: bytes
    """Digest of (prompt, seed): the root of every random choice."""

    def rng(self, purpose: str) -> np.random.Generator:
        """A generator for one purpose; separate streams keep one change from reshuffling all."""
        digest = hashlib.blake2b(purpose.encode(), key=self.key, digest_size=16).digest()
        return np.random.default_rng(int.from_bytes(digest, "little"))


_SETTING_WORDS: dict[Setting, tuple[str, ...]] = {
    Setting.SKY: (
        "sky", "cloud", "sun", "sunny", "day", "sunrise", "dawn", "bird", "fly", "flying",
        "balloon", "mountain", "hill", "field", "meadow", "desert", "valley", "wind",
    ),
    Setting.SEA: (
        "sea", "ocean", "beach", "wave", "water", "lake", "river", "boat", "ship", "shore",
        "surf", "underwater", "island", "coast", "sail", "harbor", "fish",
    ),
    Setting.CITY: (
        "city", "street", "night", "building", "skyline", "downtown", "traffic", "car", "urban",
        "rain", "cyberpunk", "town", "road", "alley", "tower",
    ),
    Setting.SPACE: (
        "space", "star", "galaxy", "planet", "moon", "nebula", "astronaut", "rocket", "cosmic",
        "universe", "orbit", "spaceship", "comet",
    ),
    Setting.FOREST: (
        "forest", "tree", "wood", "woods", "jungle", "leaf", "leaves", "garden", "firefly",
        "fireflies", "nature", "moss", "grass", "flower",
    ),
    Setting.FIRE: (
        "fire", "flame", "burning", "campfire", "lava", "volcano", "explosion", "ember", "candle",
        "torch", "smoke", "blaze",
    ),
}  # fmt: skip
_SETTING_CJK: dict[Setting, tuple[str, ...]] = {
    Setting.SKY: ("天空", "云", "鸟", "山"),
    Setting.SEA: ("海", "浪", "湖", "船", "水"),
    Setting.CITY: ("城市", "街", "夜", "楼"),
    Setting.SPACE: ("太空", "星", "宇宙", "月"),
    Setting.FOREST: ("森林", "树", "花", "草"),
    Setting.FIRE: ("火", "焰", "烛"),
}


@dataclass(frozen=True)
class _Look:
    sky: tuple[RGB, RGB]
    ground: tuple[RGB, RGB]
    horizon: float
    accents: tuple[RGB, ...]


_LOOKS: dict[Setting, _Look] = {
    Setting.SKY: _Look(
        sky=((0.22, 0.45, 0.85), (0.72, 0.84, 0.97)),
        ground=((0.36, 0.56, 0.30), (0.18, 0.36, 0.16)),
        horizon=0.78,
        accents=((1.0, 1.0, 1.0), (0.12, 0.12, 0.16), (1.0, 0.95, 0.75)),
    ),
    Setting.SEA: _Look(
        sky=((0.33, 0.58, 0.90), (0.86, 0.91, 0.96)),
        ground=((0.10, 0.42, 0.62), (0.02, 0.17, 0.34)),
        horizon=0.52,
        accents=((0.92, 0.97, 1.0), (1.0, 0.98, 0.85), (0.95, 0.95, 0.95)),
    ),
    Setting.CITY: _Look(
        sky=((0.03, 0.03, 0.12), (0.26, 0.11, 0.36)),
        ground=((0.06, 0.06, 0.09), (0.02, 0.02, 0.03)),
        horizon=0.82,
        accents=((1.0, 0.85, 0.5), (1.0, 0.22, 0.2), (1.0, 0.2, 0.8), (0.2, 0.9, 1.0)),
    ),
    Setting.SPACE: _Look(
        sky=((0.0, 0.0, 0.03), (0.03, 0.01, 0.09)),
        ground=((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
        horizon=1.0,
        accents=((0.55, 0.2, 0.85), (0.15, 0.4, 0.95), (1.0, 1.0, 1.0), (0.85, 0.55, 0.3)),
    ),
    Setting.FOREST: _Look(
        sky=((0.45, 0.66, 0.56), (0.82, 0.89, 0.72)),
        ground=((0.10, 0.26, 0.08), (0.04, 0.12, 0.04)),
        horizon=0.70,
        accents=((0.85, 1.0, 0.4), (0.62, 0.48, 0.12), (0.05, 0.18, 0.07)),
    ),
    Setting.FIRE: _Look(
        sky=((0.02, 0.0, 0.0), (0.36, 0.07, 0.0)),
        ground=((0.08, 0.03, 0.02), (0.02, 0.01, 0.01)),
        horizon=0.85,
        accents=((1.0, 0.45, 0.05), (1.0, 0.8, 0.25), (1.0, 0.2, 0.0)),
    ),
}
_SOUND: dict[Setting, Sound] = {
    Setting.SKY: Sound(196.0, (0, 4, 7, 14), 900.0, 0.35, 0.08, 0.0),
    Setting.SEA: Sound(146.8, (0, 7, 12, 16), 1400.0, 0.6, 0.11, 0.0),
    Setting.CITY: Sound(110.0, (0, 3, 7, 10), 500.0, 0.35, 0.0, 0.0),
    Setting.SPACE: Sound(55.0, (0, 7, 12, 19), 250.0, 0.2, 0.03, 0.0),
    Setting.FOREST: Sound(220.0, (0, 4, 7, 11), 2500.0, 0.3, 0.06, 0.0),
    Setting.FIRE: Sound(98.0, (0, 3, 7, 12), 700.0, 0.5, 0.0, 6.0),
    Setting.ABSTRACT: Sound(164.8, (0, 5, 7, 12), 1200.0, 0.25, 0.05, 0.0),
}

_COLOUR_WORDS: dict[str, RGB] = {
    "red": (0.9, 0.1, 0.1), "crimson": (0.75, 0.05, 0.15), "orange": (1.0, 0.5, 0.1),
    "amber": (1.0, 0.65, 0.1), "golden": (1.0, 0.78, 0.25), "gold": (1.0, 0.78, 0.25),
    "yellow": (1.0, 0.9, 0.2), "green": (0.2, 0.8, 0.3), "emerald": (0.1, 0.7, 0.45),
    "teal": (0.1, 0.6, 0.6), "cyan": (0.1, 0.85, 0.95), "blue": (0.15, 0.35, 0.95),
    "azure": (0.2, 0.55, 1.0), "purple": (0.55, 0.2, 0.8), "violet": (0.5, 0.25, 0.9),
    "magenta": (0.9, 0.15, 0.75), "pink": (1.0, 0.5, 0.7), "white": (0.95, 0.95, 0.95),
    "silver": (0.78, 0.8, 0.85), "sunset": (1.0, 0.45, 0.3), "neon": (1.0, 0.1, 0.85),
}  # fmt: skip
_TINT = 0.35
"""How far colour words pull the palette towards themselves."""
_REFERENCE_TINT = 0.3
_DARK_WORDS = ("night", "dark", "midnight", "noir", "moonlit", "evening")

_PAN_SPEED = 0.035
"""View widths per second of a camera pan, capped at _MAX_PAN over the clip."""
_MAX_PAN = 0.26
_ZOOM_SPEED = 0.03
_MAX_ZOOM = 0.15
_CAMERA_PHRASES: dict[str, tuple[float, float, float]] = {
    # phrase: (x, y, zoom) directions
    "pan left": (-1, 0, 0), "pan right": (1, 0, 0), "truck left": (-1, 0, 0),
    "truck right": (1, 0, 0), "tilt up": (0, -1, 0), "tilt down": (0, 1, 0),
    "pan up": (0, -1, 0), "pan down": (0, 1, 0), "zoom in": (0, 0, 1), "push in": (0, 0, 1),
    "dolly in": (0, 0, 1), "close up": (0, 0, 1), "zoom out": (0, 0, -1), "pull back": (0, 0, -1),
    "pull out": (0, 0, -1), "dolly out": (0, 0, -1), "orbit": (1, 0, 0), "tracking": (1, 0, 0),
}  # fmt: skip


def choose_scene(spec: RenderSpec) -> Scene:
    """Pick the setting, palette, camera move and sound for ``spec`` (deterministically)."""
    text = spec.prompt.lower()
    words = re.findall(r"[a-z]+", text)
    key = hashlib.blake2b(f"{spec.prompt}\0{spec.seed}".encode(), digest_size=32).digest()
    setting = _pick_setting(words, text)
    rng = np.random.default_rng(int.from_bytes(key[:8], "little"))
    look = _abstract_look(key) if setting is Setting.ABSTRACT else _LOOKS[setting]
    scene = Scene(
        setting=setting,
        sky=look.sky,
        ground=look.ground,
        # The seed moves the horizon a little, so seeds differ in composition, not just details.
        horizon=look.horizon + (rng.uniform(-0.06, 0.06) if look.horizon < 1 else 0.0),
        accents=look.accents,
        focus=float(rng.uniform(0.3, 0.7)),
        camera=Camera() if spec.camera_fixed else _camera(" ".join(words), spec, rng),
        sound=_SOUND[setting],
        key=key,
    )
    scene = _tinted(scene, [_COLOUR_WORDS[w] for w in words if w in _COLOUR_WORDS], _TINT)
    if any(w in _DARK_WORDS for w in words) and setting not in (Setting.CITY, Setting.SPACE):
        scene = replace(scene, sky=_scaled(scene.sky, 0.3), ground=_scaled(scene.ground, 0.4))
    if spec.reference_images:
        references = [_mean_colour(image) for image in spec.reference_images]
        scene = _tinted(scene, references, _REFERENCE_TINT)
    return scene


def _pick_setting(words: list[str], text: str) -> Setting:
    """The setting with the most keyword hits; ties go to the one mentioned first."""
    best, best_score, best_first = Setting.ABSTRACT, 0, len(words) + len(text)
    for setting, vocabulary in _SETTING_WORDS.items():
        hits = [i for i, w in enumerate(words) if w in vocabulary or w.rstrip("s") in vocabulary]
        cjk = [len(words) + text.index(c) for c in _SETTING_CJK[setting] if c in text]
        positions = hits + cjk
        score, first = len(positions), min(positions, default=best_first)
        if score > best_score or (score == best_score and score and first < best_first):
            best, best_score, best_first = setting, score, first
    return best


def _camera(phrase_text: str, spec: RenderSpec, rng: np.random.Generator) -> Camera:
    """The camera move named in the prompt, or a gentle one chosen by the seed."""
    seconds = spec.frame_count / spec.fps
    pan_amount = min(_MAX_PAN, _PAN_SPEED * seconds)
    zoom_amount = min(_MAX_ZOOM, _ZOOM_SPEED * seconds)
    named = [v for phrase, v in _CAMERA_PHRASES.items() if phrase in phrase_text]
    if named:
        x, y, z = (float(np.clip(sum(v[i] for v in named), -1, 1)) for i in range(3))
    else:
        # Unnamed: a slow sideways drift with a slight tilt and zoom, the seed picking which way.
        x, y = float(rng.choice([-1.0, 1.0])), float(rng.uniform(-0.3, 0.3))
        z = float(rng.choice([-0.5, 0.5]))
    zoom = (1.0, 1.0 + zoom_amount * z) if z >= 0 else (1.0 - zoom_amount * z, 1.0)
    return Camera(pan=(x * pan_amount, y * pan_amount * 0.5), zoom=zoom)


def _abstract_look(key: bytes) -> _Look:
    """Colours for prompts with no known setting, derived from the prompt so each differs."""
    hue = key[0] / 255.0
    spread = 0.08 + key[1] / 255.0 * 0.3

    def hsv(h: float, s: float, v: float) -> RGB:
        r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
        return (r, g, b)

    sky = (hsv(hue, 0.7, 0.18), hsv(hue + spread, 0.6, 0.45))
    accents = tuple(hsv(hue + spread * k + 0.5 * (k % 2), 0.75, 0.95) for k in range(4))
    return _Look(sky=sky, ground=sky, horizon=1.0, accents=accents)


def _tinted(scene: Scene, tints: list[RGB], amount: float) -> Scene:
    if not tints:
        return scene
    tint = tuple(float(np.mean([t[c] for t in tints])) for c in range(3))

    def mix(colour: RGB) -> RGB:
        # Keep each colour's brightness: a red night sky stays dark, only its hue moves.
        luma = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
        tint_luma = max(1e-3, 0.299 * tint[0] + 0.587 * tint[1] + 0.114 * tint[2])
        target = [min(1.0, t * luma / tint_luma) for t in tint]
        r, g, b = ((1 - amount) * colour[c] + amount * target[c] for c in range(3))
        return (r, g, b)

    return replace(
        scene,
        sky=(mix(scene.sky[0]), mix(scene.sky[1])),
        ground=(mix(scene.ground[0]), mix(scene.ground[1])),
        accents=tuple(mix(a) for a in scene.accents),
    )


def _scaled(pair: tuple[RGB, RGB], factor: float) -> tuple[RGB, RGB]:
    top, bottom = pair
    return (
        (top[0] * factor, top[1] * factor, top[2] * factor),
        (bottom[0] * factor, bottom[1] * factor, bottom[2] * factor),
    )


def _mean_colour(image: Frame) -> RGB:
    small = cv2.resize(image, (16, 16), interpolation=cv2.INTER_AREA).reshape(-1, 3)
    r, g, b = (float(v) / 255.0 for v in small.mean(axis=0))
    return (r, g, b)
