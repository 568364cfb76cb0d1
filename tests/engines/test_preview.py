"""The preview engine: deterministic, prompt- and seed-sensitive, honest about its conditioning."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

from kinema.engines.base import AUDIO_SAMPLE_RATE, Clip, Engine, Frame, RenderCancelled, RenderSpec
from kinema.engines.preview import PreviewEngine
from kinema.media.encode import encode_mp4
from kinema.media.probe import probe

W, H = 160, 96
SPEC = RenderSpec(
    model="seedance-1-0-pro-250528",
    prompt="a forest at dawn",
    width=W,
    height=H,
    frame_count=24,
    fps=24,
    seed=7,
)


def start(spec: RenderSpec, **changes: Any) -> Clip:
    engine: Engine = PreviewEngine()
    return engine.render(replace(spec, **changes), lambda _: None, lambda: False)


def render(spec: RenderSpec = SPEC, **changes: Any) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """All frames of a render, stacked as (frames, height, width, 3)."""
    return np.stack(list(start(spec, **changes).frames))


def difference(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def still_fraction(frames: np.ndarray[Any, Any]) -> float:
    """Share of pixel positions whose value never changes across the clip."""
    return float((frames == frames[0]).all(axis=(0, 3)).mean())


def test_frames_have_the_promised_count_shape_and_layout() -> None:
    frames = list(start(SPEC).frames)
    assert len(frames) == SPEC.frame_count
    for frame in frames:
        assert frame.shape == (H, W, 3) and frame.dtype == np.uint8
        assert frame.flags.c_contiguous


@pytest.mark.parametrize(("width", "height"), [(496, 864), (2176, 928), (1920, 1088), (31, 17)])
def test_any_size_renders_exactly(width: int, height: int) -> None:
    frames = render(width=width, height=height, frame_count=2)
    assert frames.shape == (2, height, width, 3)


def test_same_request_gives_identical_video_and_audio() -> None:
    first, second = start(SPEC, generate_audio=True), start(SPEC, generate_audio=True)
    assert np.array_equal(np.stack(list(first.frames)), np.stack(list(second.frames)))
    assert first.audio is not None and second.audio is not None
    assert np.array_equal(first.audio, second.audio)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("waves on the ocean", "a city street at night"),
        ("a campfire burning", "stars over a planet"),
        ("white clouds in the sky", "a forest of pine trees"),
        ("melancholy", "euphoria"),  # neither names a setting: still different
    ],
)
def test_different_prompts_look_different(one: str, other: str) -> None:
    assert difference(render(prompt=one), render(prompt=other)) > 15


@pytest.mark.parametrize("prompt", ["a campfire burning", "waves on the ocean", "a forest"])
def test_different_seeds_vary_the_scene(prompt: str) -> None:
    assert difference(render(prompt=prompt, seed=1), render(prompt=prompt, seed=2)) > 5


def test_colour_words_tint_the_scene() -> None:
    plain = render(prompt="an abandoned city street")
    red = render(prompt="an abandoned red city street")
    reds = red[..., 0].astype(float).mean() - red[..., 2].astype(float).mean()
    plains = plain[..., 0].astype(float).mean() - plain[..., 2].astype(float).mean()
    assert reds > plains + 5


@pytest.mark.parametrize("prompt", ["a forest", "stars over a planet"])
def test_fixed_camera_keeps_the_background_still(prompt: str) -> None:
    moving = render(prompt=prompt)
    fixed = render(prompt=prompt, camera_fixed=True)
    assert still_fraction(fixed) > 0.8  # only the scene's elements move...
    assert difference(fixed[0], fixed[-1]) > 0.05  # ...but they do move
    assert still_fraction(moving) < 0.2  # a moving camera shifts nearly every pixel


def horizontal_shift(frames: np.ndarray[Any, Any]) -> float:
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32) for f in (frames[0], frames[-1])]
    (dx, _), _ = cv2.phaseCorrelate(grey[0], grey[1])
    return float(dx)


def test_prompted_pan_direction_is_followed() -> None:
    # Panning right moves the view right over the world: the picture slides left.
    assert horizontal_shift(render(prompt="pan right across the ocean", frame_count=48)) < -2
    assert horizontal_shift(render(prompt="pan left across the ocean", frame_count=48)) > 2


def test_reference_images_tint_the_palette() -> None:
    green = np.zeros((50, 80, 3), dtype=np.uint8)
    green[..., 1] = 255
    plain = render(prompt="melancholy")
    tinted = render(prompt="melancholy", reference_images=(green,))
    assert tinted[..., 1].mean() > plain[..., 1].mean() + 5


def image(colour: tuple[int, int, int], seed: int) -> Frame:
    """A textured still image, as an already cover-resized first or last frame."""
    noise = np.random.default_rng(seed).integers(-40, 40, (H, W, 3))
    return np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)


def test_image_to_video_starts_exactly_on_the_first_frame() -> None:
    first = image((200, 120, 60), 1)
    frames = render(first_frame=first)
    assert np.array_equal(frames[0], first)
    assert all(difference(frames[i], frames[i + 1]) > 0 for i in range(len(frames) - 1))
    assert difference(frames[-1], first) > 1  # the camera and the lights moved


def test_first_and_last_frames_are_exact_and_joined_by_a_dissolve() -> None:
    first, last = image((220, 60, 40), 1), image((40, 80, 220), 2)
    frames = render(first_frame=first, last_frame=last)
    assert np.array_equal(frames[0], first)
    assert np.array_equal(frames[-1], last)
    middle = frames[len(frames) // 2]
    assert difference(middle, first) > 20 and difference(middle, last) > 20
    # Blue rises steadily from the first image's level to the last's.
    blue = frames[..., 2].mean(axis=(1, 2))
    assert blue[0] < blue[len(blue) // 2] < blue[-1]


def test_image_to_video_with_a_fixed_camera_keeps_the_picture_still() -> None:
    first = image((120, 120, 120), 3)
    frames = render(first_frame=first, camera_fixed=True)
    assert still_fraction(frames) > 0.5  # only the floating lights move over it


def test_conditioning_image_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="first frame"):
        start(SPEC, first_frame=np.zeros((10, 10, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="last frame needs a first"):
        start(SPEC, last_frame=image((0, 0, 0), 1))


def test_audio_is_exact_in_length_audible_and_safe_in_level() -> None:
    spec = replace(SPEC, frame_count=49, generate_audio=True)
    clip = start(spec)
    assert clip.audio is not None
    assert clip.audio.shape == (spec.audio_samples, 2) == (98_000, 2)
    assert clip.audio.dtype == np.float32 and clip.audio.flags.c_contiguous
    assert np.abs(clip.audio).max() <= 0.9
    assert float(np.sqrt(np.mean(clip.audio**2))) > 0.05
    assert start(SPEC).audio is None


def test_audio_follows_the_prompt() -> None:
    sea = start(SPEC, prompt="waves on the ocean", generate_audio=True).audio
    fire = start(SPEC, prompt="a campfire burning", generate_audio=True).audio
    assert sea is not None and fire is not None
    assert float(np.abs(sea - fire).mean()) > 0.05


def test_watermark_appears_in_the_corner_only_when_asked() -> None:
    plain, marked = render(), render(watermark=True)
    changed = (plain != marked).any(axis=(0, 3))
    rows, cols = np.nonzero(changed)
    assert rows.size > 50
    assert rows.min() >= H * 0.7 and cols.min() >= W * 0.4  # the bottom-right corner
    assert not (render(watermark=False) != plain).any()


def test_progress_runs_to_completion_as_frames_are_read() -> None:
    seen: list[float] = []
    clip = PreviewEngine().render(SPEC, seen.append, lambda: False)
    assert seen == []  # nothing is rendered before the frames are read
    next(clip.frames)
    assert seen == [pytest.approx(1 / SPEC.frame_count)]
    list(clip.frames)
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_cancellation_stops_rendering_at_the_next_frame() -> None:
    produced = 0

    def cancelled() -> bool:
        return produced >= 5

    clip = PreviewEngine().render(SPEC, lambda _: None, cancelled)
    with pytest.raises(RenderCancelled):
        for _ in clip.frames:
            produced += 1
    assert produced == 5


def test_contract_size_clip_encodes_to_the_promised_file(tmp_path: Path) -> None:
    spec = replace(SPEC, width=864, height=480, frame_count=121, generate_audio=True)
    clip = start(spec)
    path = tmp_path / "video.mp4"
    result = encode_mp4(path, clip.frames, width=864, height=480, fps=24, frame_count=121,
                        audio=clip.audio)  # fmt: skip
    info = probe(path)
    assert (info.width, info.height, info.frame_count, info.fps) == (864, 480, 121, 24.0)
    assert info.moov_before_mdat and info.audio_codec == "aac"
    assert info.audio_duration_seconds == pytest.approx(121 / 24, abs=1e-6)
    assert spec.audio_samples == round(121 * AUDIO_SAMPLE_RATE / 24)
    # What a viewer sees is what the engine drew.
    with av.open(str(path)) as container:
        *_, decoded_last = (f.to_ndarray(format="rgb24") for f in container.decode(video=0))
    assert difference(decoded_last, result.last_frame) < 3
