"""The frame compositor draws, a row at a time, exactly what the stages draw one after another:
the camera over the whole picture, then each swarm, then the weather, then the conversion."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from kinema.engines.base import RenderSpec
from kinema.engines.preview import kernels
from kinema.engines.preview.compositor import compose
from kinema.engines.preview.particles import Particles, Swarms, draw, spawn, swarms_for
from kinema.engines.preview.render import Vignette
from kinema.engines.preview.scene import Scene, Weather, choose_scene
from kinema.engines.preview.weather import WeatherLayers
from tests.engines.preview_stages import look_at, shade_to_i420_doubled, shade_to_yuv

Planes = np.ndarray[Any, np.dtype[Any]]
W, H = 96, 54
"""The view; the world is larger, for the camera to move over."""
WORLD = (140, 80)


def scene_for(prompt: str) -> Scene:
    return choose_scene(RenderSpec(model="m", prompt=prompt, width=2 * W, height=2 * H,
                                   frame_count=48, fps=24, seed=3))  # fmt: skip


def world_picture() -> Planes:
    """A smooth random world (3, h, w) in 0..1, so the camera's interpolation shows."""
    noise = np.random.default_rng(9).uniform(0.0, 1.0, (WORLD[1], WORLD[0], 3)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 2.0).transpose(2, 0, 1)
    return np.ascontiguousarray(np.rint(smooth * kernels.WORLD_LEVELS).astype(np.uint16))


def by_stages(
    world: Planes,
    zoom: float,
    centre: tuple[float, float],
    particles: list[Particles],
    weather: WeatherLayers,
    seconds: float,
    vignette: Vignette,
) -> tuple[Planes, Planes, Planes, Planes]:
    """The picture made a stage at a time over the whole view, converted both ways: doubled
    luma (as uint16 pairs), and luma at the render size; then Cb and Cr."""
    view = np.empty((3, H, W), dtype=np.float32)
    look_at(world, view, zoom, *centre)
    for p in particles:
        draw(view, p, seconds, zoom=zoom, centre=centre, origin=(W / 2, H / 2))
    weather.apply(view, seconds)
    pairs = np.empty((2 * H, W), dtype=np.uint16)
    blue, red = np.empty((H, W), dtype=np.uint8), np.empty((H, W), dtype=np.uint8)
    shade_to_i420_doubled(view, vignette, pairs, blue, red)
    luma = np.empty((H, W), dtype=np.uint8)
    shade_to_yuv(view, vignette, luma, np.empty_like(blue), np.empty_like(red))
    return pairs, luma, blue, red


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a paper boat on a rain-soaked street at night, neon", Weather.RAIN),  # rain added
        ("snow falling on a quiet village with birds", Weather.SNOW),  # snow laid over
        ("a foggy forest at dawn with lanterns", Weather.FOG),  # fog laid over
        ("a thunderstorm over the sea at night", Weather.STORM),  # rain and lightning
        ("golden clouds drifting over the mountains", Weather.CLEAR),  # large soft shapes
    ],
)
@pytest.mark.parametrize(
    ("zoom", "pan"), [(1.0, 0.0), (1.0, 0.37), (1.23, 0.61), (0.87, 0.2), (1.02, 0.3)]
)
def test_the_compositor_draws_exactly_what_the_stages_draw(
    prompt: str, expected: Weather, zoom: float, pan: float
) -> None:
    """Bit for bit, through a level pan (two taps), a pan between rows and columns (four), and
    zooms in and out (the two-pass resampling: gathered, and near 1 read in runs), for every
    kind of weather, with elements that add light and elements laid over the picture."""
    scene = scene_for(prompt)
    assert scene.weather is expected
    assert bool(scene.lightning) is (expected is Weather.STORM)
    world = world_picture()
    rng = np.random.default_rng(5)
    particles = [spawn(s, rng, WORLD, (W, H)) for s in swarms_for(scene)]
    swarms = Swarms(particles)
    weather = WeatherLayers(scene, W, H, draft=False)
    rng = np.random.default_rng(6)
    vignette = (
        rng.uniform(0.0, 1.0, W).astype(np.float32),
        rng.uniform(0.0, 1.0, H).astype(np.float32),
        0.22,
    )
    centre = (WORLD[0] / 2 + 9.0 * pan, WORLD[1] / 2 - 7.0 * pan)
    moments = [0.0, 1.3, *(start + 0.05 for start in scene.lightning[:1])]
    for seconds in moments:
        expected_pairs, expected_luma, expected_blue, expected_red = by_stages(
            world, zoom, centre, particles, weather, seconds, vignette
        )
        stamps = swarms.at(seconds, (W, H), zoom=zoom, centre=centre, origin=(W / 2, H / 2))
        pairs = np.empty((2 * H, W), dtype=np.uint16)
        luma = np.empty((H, W), dtype=np.uint8)
        blue, red = np.empty((H, W), dtype=np.uint8), np.empty((H, W), dtype=np.uint8)
        compose(world, zoom, *centre, stamps.windows, stamps.rows, stamps.columns, stamps.colour,
                stamps.bounds, stamps.additive, *weather.at(seconds), vignette, pairs, luma, blue,
                red)  # fmt: skip
        assert np.array_equal(pairs, expected_pairs)
        assert np.array_equal(blue, expected_blue) and np.array_equal(red, expected_red)
        # At the render size (the path for sizes that are not exactly doubled).
        compose(world, zoom, *centre, stamps.windows, stamps.rows, stamps.columns, stamps.colour,
                stamps.bounds, stamps.additive, *weather.at(seconds), vignette,
                np.zeros((0, 0), dtype=np.uint16), luma, blue, red)  # fmt: skip
        assert np.array_equal(luma, expected_luma)
        assert np.array_equal(blue, expected_blue) and np.array_equal(red, expected_red)


def test_the_compositors_cache_is_keyed_by_the_kernels_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """numba keys a cached function by its own file only: the compositor, in another file
    than the kernels it calls, must not load code compiled from their old source."""
    cache, codegen = compose._cache, compose.targetctx.codegen()  # type: ignore[attr-defined]
    before = cache._index_key((), codegen)
    monkeypatch.setattr(kernels, "_SOURCE_FINGERPRINT", "another source")
    assert cache._index_key((), codegen) != before
