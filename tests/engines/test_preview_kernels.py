"""The preview engine's compiled kernels draw exactly what the plain numpy/OpenCV forms draw."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import cv2
import numpy as np
import pytest

from kinema.engines.preview import kernels
from kinema.engines.preview.particles import (
    _CUTOFF,
    EVERYWHERE,
    Particles,
    Swarm,
    draw,
    place,
    spawn,
)
from tests.engines.preview_stages import look_at, shade_to_i420_doubled, shade_to_yuv

Planes = np.ndarray[Any, np.dtype[np.float32]]
W, H = 160, 90


def picture(seed: int = 0) -> Planes:
    return np.random.default_rng(seed).uniform(0.0, 1.0, (3, H, W)).astype(np.float32)


def world_steps(planes: Planes) -> np.ndarray[Any, np.dtype[np.uint16]]:
    """Planes in 0..1 as the camera takes the world: uint16 steps (``kernels.WORLD_LEVELS``)."""
    return np.rint(planes * kernels.WORLD_LEVELS).astype(np.uint16)


def dense(planes: Planes, p: Particles, sx: Planes, sy: Planes, level: Planes) -> Planes:
    """The elements drawn the plain way: every element's full (h, w) picture, summed."""
    ry = np.maximum(p.radius, np.float32(0.35))
    rx = np.maximum(p.radius * np.float32(p.stretch), np.float32(0.35))

    def profile(grid: Planes, centre: Planes, sigma: Planes) -> Planes:
        d2 = ((grid[None, :] - centre[:, None]) / sigma[:, None]) ** 2
        values = np.exp(-0.5 * (d2**3 if p.solid else d2))
        return np.where(values < _CUTOFF, 0.0, values)

    # (n, h, w) coverage of each element, and the light it brings.
    cover = np.einsum("nh,nw->nhw", profile(np.arange(H), sy, ry) * level[:, None],
                      profile(np.arange(W), sx, rx))  # fmt: skip
    light = np.einsum("nhw,nc->chw", cover, p.colour)
    if p.additive:
        return (planes + light).astype(np.float32)
    total = cover.sum(axis=0)
    return (planes * (1 - np.minimum(total, 1)) + light / np.maximum(total, 1)).astype(np.float32)


@pytest.mark.parametrize("additive", [True, False])
@pytest.mark.parametrize("solid", [True, False])
@pytest.mark.parametrize("size", [(0.01, 0.03), (0.15, 0.3)])
@pytest.mark.parametrize("zoom", [1.0, 1.35])
def test_drawn_elements_match_the_plain_sum(
    additive: bool, solid: bool, size: tuple[float, float], zoom: float
) -> None:
    """Drawing a swarm (placing, projecting and stamping in one kernel) draws what summing every
    element's full picture draws, for small elements (stars, birds) and for large ones (clouds
    reaching across the frame), through a camera at rest and zoomed in. Elements overlap each
    other and the frame's edges, and some are far off screen."""
    swarm = Swarm(40, ((1.0, 0.4, 0.1), (0.2, 0.6, 1.0)), size, (0.3, 1.0), (0.1, 0.05),
                  EVERYWHERE, additive=additive, stretch=1.8, solid=solid)  # fmt: skip
    particles = spawn(swarm, np.random.default_rng(7), (2 * W, 2 * H), (W, H))
    # The reference draws at screen positions and radii worked out here, in float64.
    seen = replace(particles, radius=(particles.radius * zoom).astype(np.float32))
    centre, gain = (W + 3.5, H - 2.25), 0.8
    for seconds in (0.0, 0.7, 3.1):
        x, y, level = place(particles, seconds)
        sx = (zoom * (x - centre[0]) + W / 2).astype(np.float32)
        sy = (zoom * (y - centre[1]) + H / 2).astype(np.float32)
        drawn = picture()
        draw(drawn, particles, seconds, zoom=zoom, centre=centre, origin=(W / 2, H / 2),
             gain=gain)  # fmt: skip
        assert np.abs(drawn - picture()).max() > 0.05  # something was drawn
        expected = dense(picture(), seen, sx, sy, level * np.float32(gain))
        np.testing.assert_allclose(drawn, expected, atol=5e-5)
    # Twice in a row draws the same: no state is left behind between draws.
    again = picture()
    draw(again, particles, seconds, zoom=zoom, centre=centre, origin=(W / 2, H / 2), gain=gain)
    assert np.array_equal(again, drawn)


def test_sheets_laid_over_match_a_wrapped_warp() -> None:
    rng = np.random.default_rng(3)
    sheets = rng.integers(0, 180, (2, H, W), dtype=np.uint8)  # coverage 0..0.7 in 1/255 steps
    colour = np.array([0.9, 0.95, 1.0], dtype=np.float32)
    dx, dy = np.array([13.3, -201.75]), np.array([-0.4, 57.5])
    drawn = picture(1)
    rows, columns, weights = kernels.slide_sheets(dx, dy, H, W)
    kernels.weather(drawn, kernels.LAY_OVER_SHEETS, np.tile(sheets, (1, 2, 2)), rows, columns,
                    weights, colour, 0.8, 1.0, 0.0)  # fmt: skip
    cover = np.zeros((H, W), dtype=np.float32)
    for sheet, x, y in zip(sheets, dx, dy, strict=True):
        matrix = np.array([[1.0, 0.0, x % W], [0.0, 1.0, y % H]])
        cover += cv2.warpAffine(sheet.astype(np.float32) / 255, matrix, (W, H),
                                flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)  # fmt: skip
    amount = np.minimum(cover, 1.0) * np.float32(0.8)
    expected = picture(1) * (1 - amount) + colour[:, None, None] * amount
    # OpenCV interpolates with 5-bit weights; the kernel exactly.
    np.testing.assert_allclose(drawn, expected, atol=0.02)
    assert np.abs(drawn - expected).mean() < 2e-3


@pytest.mark.parametrize("count", [1, 2, 3])
def test_sheets_added_are_whole_pixel_windows_of_the_tiled_sheets(count: int) -> None:
    """Rain has two layers (a fused path); any other number takes the general one."""
    rng = np.random.default_rng(4)
    sheets = np.stack([np.tile(rng.integers(0, 256, (H, W), dtype=np.uint8), (2, 2))
                       for _ in range(count)])  # fmt: skip
    xs, ys = np.array([5, W - 1, 17])[:count], np.array([H - 3, 0, 40])[:count]
    colour = np.array([0.5, 0.25, 1.0], dtype=np.float32)
    drawn = picture(2)
    kernels.weather(drawn, kernels.ADD_SHEETS, sheets, ys, xs, np.zeros((0, 4), np.float32),
                    colour, 0.5, 1.0, 0.0)  # fmt: skip
    cover = sum(s[y : y + H, x : x + W] / 255 for s, x, y in zip(sheets, xs, ys, strict=True))
    np.testing.assert_allclose(drawn, picture(2) + colour[:, None, None] * 0.5 * cover, rtol=1e-6)


def test_a_flash_brightens_the_whole_picture() -> None:
    """Lightning: every pixel × gain + lift, with or without sheets."""
    drawn = picture(2)
    none = np.zeros((0, 2 * H, 2 * W), dtype=np.uint8)
    offsets, weights = np.zeros(0, dtype=np.int64), np.zeros((0, 4), np.float32)
    kernels.weather(drawn, kernels.NO_SHEETS, none, offsets, offsets, weights,
                    np.ones(3, np.float32), 1.0, 1.6, 0.2)  # fmt: skip
    np.testing.assert_allclose(drawn, picture(2) * 1.6 + 0.2, rtol=1e-6)


@pytest.mark.parametrize(
    ("zoom", "cx", "cy"),
    [
        (1.0, 81.3, 44.6),
        (1.13, 81.3, 44.6),
        (0.91, 81.3, 44.6),
        (1.0, 30.6, 44.6),
        (1.0, 81.3, 32.0),
        (1.02, 81.3, 44.6),
        (0.985, 60.2, 40.1),
    ],
)
def test_looking_at_the_world_matches_opencvs_warp(zoom: float, cx: float, cy: float) -> None:
    """The camera kernel is a zoom-and-shift warp; OpenCV's (1/32-pixel positions) agrees,
    also where the view runs past the world's edge (held there), for a level pan (view rows
    on world rows: the kernel's two-tap path), and for zooms near 1, whose rows are read in
    runs of contiguous columns rather than gathered."""
    blurred = cv2.GaussianBlur(picture(3).transpose(1, 2, 0), (0, 0), 1.5).transpose(2, 0, 1)
    world = world_steps(np.ascontiguousarray(blurred))
    view_w, view_h = 120, 64
    view = np.empty((3, view_h, view_w), dtype=np.float32)
    look_at(world, view, zoom, cx, cy)
    matrix = np.array([[zoom, 0.0, view_w / 2 - zoom * cx], [0.0, zoom, view_h / 2 - zoom * cy]])
    for plane, seen in zip(world / np.float32(kernels.WORLD_LEVELS), view, strict=True):
        expected = cv2.warpAffine(plane, matrix, (view_w, view_h), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        assert np.abs(seen - expected).max() < 2e-3


@pytest.mark.parametrize(("view_w", "view_h"), [(120, 64), (119, 63)])
def test_a_camera_at_rest_on_whole_pixels_copies_the_world_exactly(
    view_w: int, view_h: int
) -> None:
    """A locked-off camera is the world's middle through a whole-pixel crop: the kernel's
    weights are then 0 and 1, and the view is the crop bit for bit (also for odd sizes, whose
    centres fall on half pixels)."""
    world = world_steps(picture(3))
    ox, oy = 17, 9
    view = np.empty((3, view_h, view_w), dtype=np.float32)
    look_at(world, view, 1.0, ox + view_w / 2, oy + view_h / 2)
    # The world's steps times the unit: exactly what the camera makes of whole pixels.
    unit = np.float32(1 / kernels.WORLD_LEVELS)
    assert np.array_equal(view, world[:, oy : oy + view_h, ox : ox + view_w] * unit)


def test_shading_to_yuv_matches_opencvs_i420_luma() -> None:
    """The kernel's Y is OpenCV's RGB → I420 Y (BT.601 limited range) of the shaded picture."""
    view = picture(4)
    rng = np.random.default_rng(5)
    across, down = rng.uniform(0.0, 1.0, W).astype(np.float32), rng.uniform(0.0, 1.0, H)
    luma, blue, red = (np.empty((H, W), dtype=np.uint8) for _ in range(3))
    shade_to_yuv(view, (across, down.astype(np.float32), 0.3), luma, blue, red)
    distance = across[None, :] + down[:, None]
    shade = 1 - 0.3 * distance**1.5  # in float64: the kernel's float32 agrees to a rounding
    assert shade.min() < 0.3  # corners darkened a lot, for the test to see it
    rgb = np.clip(view * shade * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    i420 = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420)
    assert np.abs(luma.astype(int) - i420[:H]).max() <= 1
    # Chroma: OpenCV takes each 2 × 2 block's top-left pixel; so must the kernel's, there.
    u = i420.reshape(-1)[W * H : W * H + (W // 2) * (H // 2)].reshape(H // 2, W // 2)
    assert np.abs(blue[::2, ::2].astype(int) - u).max() <= 1


def test_doubling_matches_opencvs_bicubic_upscale() -> None:
    """The half-size path: chroma written as is, luma doubled exactly as cv2.resize would."""
    view = np.ascontiguousarray(
        cv2.GaussianBlur(picture(6).transpose(1, 2, 0), (0, 0), 0.6).transpose(2, 0, 1)
    )
    unshaded = (np.zeros(W, dtype=np.float32), np.zeros(H, dtype=np.float32), 0.0)
    luma, blue, red = (np.empty((H, W), dtype=np.uint8) for _ in range(3))
    shade_to_yuv(view, unshaded, luma, blue, red)
    doubled = np.empty((2 * H, 2 * W), dtype=np.uint8)
    blue2, red2 = np.empty_like(blue), np.empty_like(red)
    shade_to_i420_doubled(view, unshaded, doubled.view(np.uint16), blue2, red2)
    assert np.array_equal(blue2, blue) and np.array_equal(red2, red)
    expected = cv2.resize(luma, (2 * W, 2 * H), interpolation=cv2.INTER_CUBIC)
    assert np.abs(doubled.astype(int) - expected).max() <= 1


@pytest.mark.parametrize(("step", "start"), [(19_685_266, 12_345), (2**32 - 1, 2**31), (1, 0)])
def test_add_wave_reads_a_wrapping_32_bit_accumulator(step: int, start: int) -> None:
    """The wavetable oscillator against the sine of the exact phase, at any length."""
    clock = np.arange(700_000, dtype=np.uint64)
    turns = (clock * np.uint64(step) + np.uint64(start)) % np.uint64(2**32)
    exact = np.sin(turns.astype(np.float64) * (2 * np.pi / 2**32))
    sine = kernels.wavetable(np.sin)
    out = np.full(clock.size, 0.5, dtype=np.float32)
    kernels.add_wave(out, sine, step, start, 2.0, np.empty(0, dtype=np.float32))
    assert np.abs(out - (0.5 + 2.0 * exact)).max() < 2e-6  # added, scaled, interpolated
    envelope = np.linspace(0.0, 1.0, clock.size, dtype=np.float32)
    shaped = np.zeros(clock.size, dtype=np.float32)
    kernels.add_wave(shaped, sine, step, start, 1.0, envelope)
    assert np.abs(shaped - envelope * exact).max() < 2e-6


def test_a_glow_adds_the_outer_product_of_its_profiles() -> None:
    """add_outer against numpy's (h, w, 3) product, in a window touching the canvas's edge."""
    rng = np.random.default_rng(11)
    canvas = rng.uniform(0, 1, (40, 60, 3)).astype(np.float32)
    rows = rng.uniform(0, 1, 15).astype(np.float32)
    columns = rng.uniform(0, 1, 25).astype(np.float32)
    colour = np.array([1.0, 0.5, 0.25], dtype=np.float32)
    expected = canvas.copy()
    expected[25:40, 35:60] += rows[:, None, None] * columns[None, :, None] * colour
    kernels.add_outer(canvas, 25, 35, rows, columns, colour)
    np.testing.assert_allclose(canvas, expected, atol=1e-6)


def test_bursts_add_up_where_they_overlap_and_stop_at_the_end() -> None:
    """``add_bursts`` is numpy's unbuffered ``add.at`` of every burst at its start and side."""
    rng = np.random.default_rng(11)
    samples, length = 500, 40
    starts = np.array([0, 10, 30, 470, 490, 499])  # overlapping, and cut off at the end
    sides = np.array([0, 0, 0, 1, 1, 0])
    bursts = rng.standard_normal((starts.size, length)).astype(np.float32)
    out = rng.standard_normal((2, samples)).astype(np.float32)
    expected = out.copy()
    at = starts[:, None] + np.arange(length)
    inside = at < samples
    np.add.at(expected, (np.broadcast_to(sides[:, None], at.shape)[inside], at[inside]),
              bursts[inside])  # fmt: skip
    kernels.add_bursts(out, sides, starts, bursts)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
