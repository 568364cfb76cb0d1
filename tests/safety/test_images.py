"""Sampling a video's frames for the output screen, whichever form the engine hands them in."""

from __future__ import annotations

import cv2
import numpy as np

from kinema.engines.base import I420Frame, OutputFrame
from kinema.safety.images import FrameSampler, sample_indices


def test_sampled_frames_are_kept_as_rgb_copies_and_passed_on_unchanged() -> None:
    rng = np.random.default_rng(0)
    pictures = [rng.integers(0, 256, (32, 48, 3)).astype(np.uint8) for _ in range(6)]
    # Text-to-video engines hand over I420, others RGB; a sampler sees both.
    handed: list[OutputFrame] = [
        I420Frame(cv2.cvtColor(p, cv2.COLOR_RGB2YUV_I420)) if i % 2 else p
        for i, p in enumerate(pictures)
    ]
    sampler = FrameSampler(iter(handed), [1, 4])
    passed = list(sampler)
    assert all(a is b for a, b in zip(passed, handed, strict=True))
    assert [index for index, _ in sampler.kept] == [1, 4]
    odd, even = sampler.kept[0][1], sampler.kept[1][1]
    assert odd.shape == even.shape == (32, 48, 3)
    assert np.array_equal(odd, handed[1].to_rgb())  # type: ignore[union-attr]
    assert np.array_equal(even, pictures[4]) and even is not pictures[4]


def test_sample_indices_spread_over_the_clip() -> None:
    assert sample_indices(121, 0) == []
    indices = sample_indices(121, 4)
    assert len(indices) == 4 and indices == sorted(indices)
    assert indices[0] == 0 and indices[-1] == 120
