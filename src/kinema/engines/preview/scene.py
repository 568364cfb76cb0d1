"""From a prompt to a scene: which setting, which light and weather, which colours, how the
camera moves, how it sounds.

:func:`choose_scene` reads the prompt (:mod:`~kinema.engines.preview.vocabulary`), takes the
setting's base look, then relights it for the time of day, greys or whitens it for the weather,
tints it with the colours named and the reference images' colours, and picks the camera move
(:mod:`~kinema.engines.preview.camera`). Every random choice made anywhere in the preview engine
comes from :meth:`Scene.rng`, seeded from a digest of the prompt and the seed, so identical
requests give identical videos on any machine.
"""

from __future__ import annotations

import colorsys
import hashlib
from dataclasses import dataclass, replace

import cv2
import numpy as np

from kinema.engines.base import Frame, RenderSpec
from kinema.engines.preview.camera import Camera, camera_from_prompt
from kinema.engines.preview.vocabulary import (
    RGB,
    Setting,
    Subject,
    TimeOfDay,
    Weather,
    read_prompt,
)

__all__ = ["RGB", "Camera", "Light", "Scene", "Setting", "Sound", "Subject", "TimeOfDay",
           "Weather", "choose_scene"]  # fmt: skip


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
    crackle: float = 0.0
    """Crackles per second (fire); 0 for none."""
    hum_hz: float = 0.0
    """Fundamental of a low engine-and-mains hum (city); 0 for none."""
    rain: float = 0.0
    """Level of a bright rain hiss with droplets; 0 for none."""
    chirps: float = 0.0
    """Level of night insects; 0 for none."""
    thunder: tuple[float, ...] = ()
    """Seconds at which a thunder roll starts."""


@dataclass(frozen=True)
class Light:
    """The sun or the moon: where it hangs and how it glows."""

    colour: RGB
    height: float
    """Centre as a fraction of the view from the top."""
    size: float
    """Radius of its glow in view heights."""
    strength: float
    moon: bool = False
    """Draw a disc (and stars around it) rather than a glow alone."""


@dataclass(frozen=True)
class Scene:
    """Everything the renderer and the audio synthesiser need to know about the prompt."""

    setting: Setting
    time: TimeOfDay
    """Never DEFAULT: resolved to the setting's natural time when the prompt named none."""
    weather: Weather
    subjects: tuple[Subject, ...]
    sky: tuple[RGB, RGB]
    """Top and bottom colours of the sky (or backdrop, or a room's wall)."""
    ground: tuple[RGB, RGB]
    horizon: float
    """Height of the horizon as a fraction of the frame, from the top (1 = no ground)."""
    focus: float
    """Where across the frame (0 = left edge) the main feature sits: the fire, the window."""
    accents: tuple[RGB, ...]
    """Colours of the moving elements."""
    light: Light | None
    outside: tuple[RGB, RGB]
    """The sky at this time and weather, as seen through a room's window."""
    subject_colour: RGB | None
    """The colour the prompt gives its subjects ("a red kite"), if any."""
    lightning: tuple[float, ...]
    """Seconds at which lightning flashes (storms only)."""
    camera: Camera
    sound: Sound
    key: bytes
    """Digest of (prompt, seed): the root of every random choice."""

    def rng(self, purpose: str) -> np.random.Generator:
        """A generator for one purpose; separate streams keep one change from reshuffling all."""
        digest = hashlib.blake2b(purpose.encode(), key=self.key, digest_size=16).digest()
        return np.random.default_rng(int.from_bytes(digest, "little"))


@dataclass(frozen=True)
class _Look:
    sky: tuple[RGB, RGB]
    ground: tuple[RGB, RGB]
    horizon: float
    accents: tuple[RGB, ...]
    time: TimeOfDay
    """The time of day this look was painted for."""


_LOOKS: dict[Setting, _Look] = {
    Setting.SKY: _Look(((0.22, 0.45, 0.85), (0.72, 0.84, 0.97)),
                       ((0.36, 0.56, 0.30), (0.18, 0.36, 0.16)), 0.78,
                       ((1.0, 1.0, 1.0), (0.12, 0.12, 0.16), (1.0, 0.95, 0.75)), TimeOfDay.DAY),
    Setting.SEA: _Look(((0.33, 0.58, 0.90), (0.86, 0.91, 0.96)),
                       ((0.10, 0.42, 0.62), (0.02, 0.17, 0.34)), 0.52,
                       ((0.92, 0.97, 1.0), (1.0, 0.98, 0.85), (0.95, 0.95, 0.95)), TimeOfDay.DAY),
    Setting.CITY: _Look(((0.03, 0.03, 0.12), (0.26, 0.11, 0.36)),
                        ((0.06, 0.06, 0.09), (0.02, 0.02, 0.03)), 0.82,
                        ((1.0, 0.85, 0.5), (1.0, 0.22, 0.2), (1.0, 0.2, 0.8), (0.2, 0.9, 1.0)),
                        TimeOfDay.NIGHT),
    Setting.SPACE: _Look(((0.0, 0.0, 0.03), (0.03, 0.01, 0.09)), ((0.0, 0.0, 0.0),) * 2, 1.0,
                         ((0.55, 0.2, 0.85), (0.15, 0.4, 0.95), (1.0, 1.0, 1.0), (0.85, 0.55, 0.3)),
                         TimeOfDay.NIGHT),
    Setting.FOREST: _Look(((0.45, 0.66, 0.56), (0.82, 0.89, 0.72)),
                          ((0.10, 0.26, 0.08), (0.04, 0.12, 0.04)), 0.70,
                          ((0.85, 1.0, 0.4), (0.62, 0.48, 0.12), (0.05, 0.18, 0.07)),
                          TimeOfDay.DAY),
    Setting.FIRE: _Look(((0.02, 0.0, 0.0), (0.36, 0.07, 0.0)),
                        ((0.08, 0.03, 0.02), (0.02, 0.01, 0.01)), 0.85,
                        ((1.0, 0.45, 0.05), (1.0, 0.8, 0.25), (1.0, 0.2, 0.0)), TimeOfDay.NIGHT),
    Setting.ROOM: _Look(((0.80, 0.72, 0.60), (0.68, 0.58, 0.46)),
                        ((0.46, 0.31, 0.19), (0.30, 0.19, 0.11)), 0.74,
                        ((1.0, 0.82, 0.55), (1.0, 0.95, 0.85), (0.26, 0.18, 0.12)),
                        TimeOfDay.DAY),
}  # fmt: skip
_SOUND: dict[Setting, Sound] = {
    Setting.SKY: Sound(196.0, (0, 4, 7, 14), 900.0, 0.35, 0.08),
    Setting.SEA: Sound(146.8, (0, 7, 12, 16), 1400.0, 0.6, 0.11),
    Setting.CITY: Sound(110.0, (0, 3, 7, 10), 500.0, 0.3, 0.0, hum_hz=55.0),
    Setting.SPACE: Sound(55.0, (0, 7, 12, 19), 250.0, 0.2, 0.03),
    Setting.FOREST: Sound(220.0, (0, 4, 7, 11), 2500.0, 0.3, 0.06),
    Setting.FIRE: Sound(98.0, (0, 3, 7, 12), 700.0, 0.5, 0.0, crackle=6.0),
    Setting.ROOM: Sound(174.6, (0, 4, 9, 12), 300.0, 0.12, 0.0),
    Setting.ABSTRACT: Sound(164.8, (0, 5, 7, 12), 1200.0, 0.25, 0.05),
}
_OUTDOORS = (Setting.SKY, Setting.SEA, Setting.CITY, Setting.FOREST, Setting.FIRE)
_SKIES: dict[TimeOfDay, tuple[RGB, RGB]] = {
    TimeOfDay.DAWN: ((0.38, 0.48, 0.78), (1.0, 0.74, 0.58)),
    TimeOfDay.DAY: ((0.30, 0.52, 0.88), (0.76, 0.86, 0.97)),
    TimeOfDay.SUNSET: ((0.22, 0.16, 0.42), (1.0, 0.5, 0.22)),
    TimeOfDay.NIGHT: ((0.01, 0.02, 0.07), (0.06, 0.08, 0.2)),
}
_GROUND_LIGHT: dict[TimeOfDay, float] = {
    TimeOfDay.DAWN: 0.75, TimeOfDay.DAY: 1.0, TimeOfDay.SUNSET: 0.6, TimeOfDay.NIGHT: 0.3,
}  # fmt: skip
_LIGHTS: dict[TimeOfDay, Light] = {
    TimeOfDay.DAWN: Light((1.0, 0.82, 0.6), -0.06, 0.12, 0.55),
    TimeOfDay.DAY: Light((1.0, 0.97, 0.85), 0.3, 0.1, 0.35),
    TimeOfDay.SUNSET: Light((1.0, 0.55, 0.25), -0.05, 0.14, 0.7),
    TimeOfDay.NIGHT: Light((0.9, 0.92, 1.0), 0.3, 0.035, 0.5, moon=True),
}
"""Heights above 0 are fractions of the horizon's height; 0 and below, offsets from it."""
_TINT = 0.35
"""How far colour words pull the palette towards themselves."""
_REFERENCE_TINT = 0.3


def choose_scene(spec: RenderSpec) -> Scene:
    """Pick the setting, light, weather, palette, camera move and sound for ``spec``."""
    reading = read_prompt(spec.prompt)
    key = hashlib.blake2b(f"{spec.prompt}\0{spec.seed}".encode(), digest_size=32).digest()
    setting = reading.setting
    rng = np.random.default_rng(int.from_bytes(key[:8], "little"))
    look = _abstract_look(key) if setting is Setting.ABSTRACT else _LOOKS[setting]
    time = look.time if reading.time is TimeOfDay.DEFAULT else reading.time
    horizon = look.horizon + (rng.uniform(-0.06, 0.06) if look.horizon < 1 else 0.0)
    seconds = spec.frame_count / spec.fps
    scene = Scene(
        setting=setting,
        time=time,
        weather=reading.weather,
        subjects=reading.subjects,
        sky=look.sky,
        ground=look.ground,
        # The seed moves the horizon a little, so seeds differ in composition, not just details.
        horizon=horizon,
        accents=look.accents,
        focus=float(rng.uniform(0.3, 0.7)),
        light=None,
        outside=_SKIES[time],
        subject_colour=reading.subject_colour,
        lightning=(),
        camera=camera_from_prompt(reading.words, seconds, rng, spec.camera_fixed),
        sound=_SOUND[setting],
        key=key,
    )
    scene = _relit(scene, look.time)
    scene = _weathered(scene, seconds)
    scene = _tinted(scene, list(reading.colours), _TINT)
    if spec.reference_images:
        references = [_mean_colour(image) for image in spec.reference_images]
        scene = _tinted(scene, references, _REFERENCE_TINT)
    return scene


def _relit(scene: Scene, natural: TimeOfDay) -> Scene:
    """The scene at its time of day: sky, ground, sun or moon, night insects."""
    time, setting = scene.time, scene.setting
    light = _LIGHTS[time]
    light = replace(light, height=_light_height(light.height, scene.horizon))
    if setting is Setting.ROOM:  # the light is what the window shows
        scene = replace(scene, light=light)
        if time is TimeOfDay.NIGHT:  # lit by its lamp alone
            scene = replace(scene, sky=_scaled(scene.sky, 0.45), ground=_scaled(scene.ground, 0.5))
        return scene
    if setting in (Setting.SPACE, Setting.ABSTRACT):
        if time is TimeOfDay.NIGHT and natural is not TimeOfDay.NIGHT:
            scene = replace(scene, sky=_scaled(scene.sky, 0.35), ground=_scaled(scene.ground, 0.35))
        return scene
    sound = scene.sound
    if time is TimeOfDay.NIGHT and setting in (Setting.SKY, Setting.FOREST, Setting.SEA):
        sound = replace(sound, chirps=0.5 if setting is Setting.SEA else 1.0)
    scene = replace(scene, light=None if setting is Setting.FIRE else light, sound=sound)
    if time is natural:
        return scene
    ground_light = _GROUND_LIGHT[time] / _GROUND_LIGHT[natural]
    accents = scene.accents
    if setting is Setting.SKY:  # the clouds catch the light of the hour
        cloud = {TimeOfDay.DAWN: (1.0, 0.85, 0.8), TimeOfDay.SUNSET: (1.0, 0.68, 0.52),
                 TimeOfDay.NIGHT: (0.22, 0.24, 0.32)}.get(time, (1.0, 1.0, 1.0))  # fmt: skip
        accents = (cloud, *accents[1:])
    return replace(
        scene,
        sky=_SKIES[time],
        ground=_scaled(scene.ground, min(ground_light, 3.0)),
        accents=accents,
    )


def _light_height(height: float, horizon: float) -> float:
    return horizon * height if height > 0 else horizon + height


def _weathered(scene: Scene, seconds: float) -> Scene:
    """Rain greys the sky, a storm darkens it and flashes, snow whitens the ground, fog hazes."""
    weather = scene.weather
    if weather is Weather.CLEAR or scene.setting is Setting.SPACE:
        return scene
    sound, light = scene.sound, scene.light
    brightness = _GROUND_LIGHT[scene.time]
    lightning: tuple[float, ...] = ()
    if light is not None and light.moon:
        light = None  # clouds hide the moon (and the stars)
    if weather in (Weather.RAIN, Weather.STORM):
        dark = 0.75 if weather is Weather.RAIN else 0.45
        sky = _greyed(scene.sky, 0.55 if weather is Weather.RAIN else 0.7, dark)
        ground = _scaled(scene.ground, dark)
        outside = _greyed(scene.outside, 0.6, dark)
        sound = replace(sound, rain=0.6 if weather is Weather.RAIN else 0.9)
        if weather is Weather.STORM:
            rng = scene.rng("lightning")
            count = max(1, round(seconds / 4))
            lightning = tuple(sorted(float(t) for t in rng.uniform(0.4, max(0.5, seconds - 1.2),
                                                                    count)))  # fmt: skip
            sound = replace(sound, thunder=tuple(t + float(rng.uniform(0.3, 1.0))
                                                 for t in lightning))  # fmt: skip
        light = None if light is None else replace(light, strength=light.strength * 0.3)
    elif weather is Weather.SNOW:
        sky = _mixed(scene.sky, _scaled1((0.8, 0.82, 0.87), brightness), 0.5)
        ground = _mixed(scene.ground, _scaled1((0.92, 0.94, 0.97), brightness), 0.75)
        outside = _mixed(scene.outside, (0.85, 0.87, 0.9), 0.5)
        sound = replace(sound, noise_cutoff_hz=sound.noise_cutoff_hz * 0.5, swell_hz=0.1,
                        noise_level=max(sound.noise_level, 0.35))  # fmt: skip
        light = None if light is None else replace(light, strength=light.strength * 0.5)
    else:  # fog
        haze = _scaled1((0.72, 0.74, 0.77), brightness)
        sky, ground = _mixed(scene.sky, haze, 0.45), _mixed(scene.ground, haze, 0.45)
        outside = _mixed(scene.outside, haze, 0.45)
        sound = replace(sound, noise_cutoff_hz=sound.noise_cutoff_hz * 0.6)
        light = None if light is None else replace(light, strength=light.strength * 0.5)
    if scene.setting not in _OUTDOORS:  # a room sees the weather through its window only
        sky, ground = scene.sky, scene.ground
    return replace(scene, sky=sky, ground=ground, outside=outside, sound=sound, light=light,
                   lightning=lightning)  # fmt: skip


def _abstract_look(key: bytes) -> _Look:
    """Colours for prompts with no known setting, derived from the prompt so each differs."""
    hue = key[0] / 255.0
    spread = 0.08 + key[1] / 255.0 * 0.3

    def hsv(h: float, s: float, v: float) -> RGB:
        r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
        return (r, g, b)

    sky = (hsv(hue, 0.7, 0.18), hsv(hue + spread, 0.6, 0.45))
    accents = tuple(hsv(hue + spread * k + 0.5 * (k % 2), 0.75, 0.95) for k in range(4))
    return _Look(sky=sky, ground=sky, horizon=1.0, accents=accents, time=TimeOfDay.DAY)


def _tinted(scene: Scene, tints: list[RGB], amount: float) -> Scene:
    if not tints:
        return scene
    tint = tuple(float(np.mean([t[c] for t in tints])) for c in range(3))

    def mix(colour: RGB) -> RGB:
        # Keep each colour's brightness: a red night sky stays dark, only its hue moves.
        luma = _luma(colour)
        tint_luma = max(1e-3, _luma((tint[0], tint[1], tint[2])))
        target = [min(1.0, t * luma / tint_luma) for t in tint]
        r, g, b = ((1 - amount) * colour[c] + amount * target[c] for c in range(3))
        return (r, g, b)

    return replace(
        scene,
        sky=(mix(scene.sky[0]), mix(scene.sky[1])),
        ground=(mix(scene.ground[0]), mix(scene.ground[1])),
        accents=tuple(mix(a) for a in scene.accents),
    )


def _luma(colour: RGB) -> float:
    return 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]


def _scaled1(colour: RGB, factor: float) -> RGB:
    return (colour[0] * factor, colour[1] * factor, colour[2] * factor)


def _scaled(pair: tuple[RGB, RGB], factor: float) -> tuple[RGB, RGB]:
    return (_scaled1(pair[0], factor), _scaled1(pair[1], factor))


def _mix1(colour: RGB, target: RGB, amount: float) -> RGB:
    r, g, b = (min(1.0, (1 - amount) * colour[c] + amount * target[c]) for c in range(3))
    return (r, g, b)


def _mixed(pair: tuple[RGB, RGB], target: RGB, amount: float) -> tuple[RGB, RGB]:
    return (_mix1(pair[0], target, amount), _mix1(pair[1], target, amount))


def _greyed(pair: tuple[RGB, RGB], amount: float, factor: float) -> tuple[RGB, RGB]:
    """Desaturated towards a slightly blue grey of the same brightness, then darkened."""

    def grey(colour: RGB) -> RGB:
        return _scaled1(_mix1(colour, _scaled1((0.92, 0.96, 1.05), _luma(colour)), amount), factor)

    return (grey(pair[0]), grey(pair[1]))


def _mean_colour(image: Frame) -> RGB:
    small = cv2.resize(image, (16, 16), interpolation=cv2.INTER_AREA).reshape(-1, 3)
    r, g, b = (float(v) / 255.0 for v in small.mean(axis=0))
    return (r, g, b)
