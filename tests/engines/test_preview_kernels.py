"""The preview engine's compiled kernels draw exactly what the plain numpy/OpenCV forms draw."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from kinema.engines.preview import kernels
from kinema.engines.preview.particles import (
    EVERYWHERE,
    Splatter,
    Swarm,
    _splat_product,
    place,
    spawn,
)

Planes = np.ndarray[Any, np.dtype[np.float32]]
W, H = 160, 90


def picture(seed: int = 0) -> Planes:
    return np.random.default_rng(seed).uniform(0.0, 1.0, (3, H, W)).astype(np.float32)


@pytest.mark.parametrize("additive", [True, False])
@pytest.mark.parametrize("solid", [True, False])
def test_stamped_elements_match_the_matrix_product(additive: bool, solid: bool) -> None:
    """Small elements go through the stamping kernel; the product is the reference picture.
    Elements overlap each other and the frame's edges, and some are far off screen."""
    swarm = Swarm(40, ((1.0, 0.4, 0.1), (0.2, 0.6, 1.0)), (0.01, 0.03), (0.3, 1.0), (0.1, 0.05),
                  EVERYWHERE, additive=additive, stretch=1.8, solid=solid)  # fmt: skip
    particles = spawn(swarm, np.random.default_rng(7), (2 * W, 2 * H), (W, H))
    splatter = Splatter(W, H)
    for seconds in (0.0, 0.7, 3.1):
        x, y, level = place(particles, seconds)
        sx, sy = x - W / 2, y - H / 2  # the view's origin in the middle of the world
        stamped, reference = picture(), picture()
        splatter.draw(stamped, particles, sx, sy, 1.0, level)
        ry = np.maximum(particles.radius, np.float32(0.35))
        rx = np.maximum(particles.radius * np.float32(particles.stretch), np.float32(0.35))
        _splat_product(reference, particles, sx, sy, ry, rx, level)
        assert np.abs(stamped - picture()).max() > 0.05  # something was drawn
        np.testing.assert_allclose(stamped, reference, atol=2e-5)
    # The scratch the "over" mode uses is left clean for the next swarm.
    assert not splatter._cover.any() and not splatter._light.any()


def test_sheets_laid_over_match_a_wrapped_warp() -> None:
    rng = np.random.default_rng(3)
    sheets = rng.uniform(0.0, 0.7, (2, H, W)).astype(np.float32)
    colour = np.array([0.9, 0.95, 1.0], dtype=np.float32)
    dx, dy = np.array([13.3, -201.75]), np.array([-0.4, 57.5])
    drawn = picture(1)
    kernels.lay_over_sheets(drawn, sheets, dx, dy, colour, 0.8, 1.0)
    cover = np.zeros((H, W), dtype=np.float32)
    for sheet, x, y in zip(sheets, dx, dy, strict=True):
        matrix = np.array([[1.0, 0.0, x % W], [0.0, 1.0, y % H]])
        cover += cv2.warpAffine(sheet, matrix, (W, H), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_WRAP)  # fmt: skip
    amount = np.minimum(cover, 1.0) * np.float32(0.8)
    expected = picture(1) * (1 - amount) + colour[:, None, None] * amount
    # OpenCV interpolates with 5-bit weights; the kernel exactly.
    np.testing.assert_allclose(drawn, expected, atol=0.02)
    assert np.abs(drawn - expected).mean() < 2e-3


def test_sheets_added_are_whole_pixel_windows_of_the_tiled_sheets() -> None:
    rng = np.random.default_rng(4)
    sheets = np.stack([np.tile(rng.uniform(0, 1, (H, W)).astype(np.float32), (2, 2))
                       for _ in range(2)])  # fmt: skip
    xs, ys = np.array([5, W - 1]), np.array([H - 3, 0])
    colour = np.array([0.5, 0.25, 1.0], dtype=np.float32)
    drawn = picture(2)
    kernels.add_sheets(drawn, sheets, xs, ys, colour, 0.5)
    cover = sum(s[y : y + H, x : x + W] for s, x, y in zip(sheets, xs, ys, strict=True))
    np.testing.assert_allclose(drawn, picture(2) + colour[:, None, None] * 0.5 * cover, rtol=1e-6)
