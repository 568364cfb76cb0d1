"""The preview engine: deterministic, prompt- and seed-sensitive, honest about its conditioning.

What a viewer would notice is measured on the frames themselves: colours and brightness for the
scene vocabulary, phase correlation and ECC alignment for the camera, exact equality for the
user's first and last frames, spectra for the sound.
"""

from __future__ import annotations

import tracemalloc
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

from kinema.domain.catalog import RATIOS, RESOLUTIONS, SizeFamily, frame_size
from kinema.engines.base import (
    AUDIO_SAMPLE_RATE,
    Audio,
    Clip,
    Engine,
    Frame,
    I420Frame,
    OutputFrame,
    RenderCancelled,
    RenderSpec,
    rgb_copy,
)
from kinema.engines.preview import PreviewEngine
from kinema.engines.preview.audio import (
    _NOISE_RMS,
    _fast_length,
    _inverse,
    _unit,
    _white_spectrum,
    synthesize_ambience,
)
from kinema.engines.preview.scene import Setting, Subject, TimeOfDay, Weather, choose_scene
from kinema.engines.preview.vocabulary import _position
from kinema.engines.preview.watermark import Watermark
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


def sound(clip: Clip) -> Audio:
    """A clip's audio, made now if the engine deferred it to the encoder's thread."""
    assert clip.audio is not None
    return clip.audio() if callable(clip.audio) else clip.audio


def rgb(frame: OutputFrame) -> Frame:
    """A frame as RGB, whichever form the engine handed it in."""
    return rgb_copy(frame)


def render(spec: RenderSpec = SPEC, **changes: Any) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """All frames of a render, as RGB, stacked as (frames, height, width, 3)."""
    return np.stack([rgb(frame) for frame in start(spec, **changes).frames])


def difference(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def still_fraction(frames: np.ndarray[Any, Any]) -> float:
    """Share of pixel positions whose value never changes across the clip."""
    return float((frames == frames[0]).all(axis=(0, 3)).mean())


def test_frames_have_the_promised_count_shape_and_layout() -> None:
    # Text-to-video hands the encoder I420 (no colour conversion at full size); odd sizes,
    # which I420 cannot hold, and image-to-video come as RGB.
    frames = list(start(SPEC).frames)
    assert len(frames) == SPEC.frame_count
    for frame in frames:
        assert isinstance(frame, I420Frame) and (frame.width, frame.height) == (W, H)
    odd = list(start(SPEC, width=31, height=17, frame_count=2).frames)
    first = image((200, 30, 30), 5)
    moving = list(start(SPEC, first_frame=first, frame_count=3).frames)
    for frame in (*odd, *moving):
        assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
        assert frame.flags.c_contiguous
    assert all(frame.shape == (17, 31, 3) for frame in odd)
    assert all(frame.shape == (H, W, 3) for frame in moving)


CONTRACT_SIZES = sorted(
    {frame_size(family, resolution, ratio) for family in SizeFamily for resolution in RESOLUTIONS
     for ratio in RATIOS}
)  # fmt: skip


@pytest.mark.parametrize(("width", "height"), [*CONTRACT_SIZES, (31, 17)])
def test_every_contract_size_renders_exactly(width: int, height: int) -> None:
    frames = render(width=width, height=height, frame_count=2, prompt="rain over a city, zoom in",
                    reference_images=(image((200, 30, 30), 5),))  # fmt: skip
    assert frames.shape == (2, height, width, 3)


def test_same_request_gives_identical_video_and_audio() -> None:
    first, second = start(SPEC, generate_audio=True), start(SPEC, generate_audio=True)
    assert all(np.array_equal(rgb(a), rgb(b)) for a, b in zip(first.frames, second.frames,
                                                               strict=True))  # fmt: skip
    assert np.array_equal(sound(first), sound(second))


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
    # A moving camera shifts nearly every pixel (what stays put is mostly black, staying black).
    assert still_fraction(moving) < 0.3


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
    audio = sound(start(spec))
    assert audio.shape == (spec.audio_samples, 2) == (98_000, 2)
    assert audio.dtype == np.float32 and audio.flags.c_contiguous
    assert np.abs(audio).max() <= 0.9
    assert float(np.sqrt(np.mean(audio**2))) > 0.05
    assert start(SPEC).audio is None


@pytest.mark.parametrize("samples", [1, 3, 5, 45, 50_625, 98_001])
def test_sound_of_any_length_even_odd_ones(samples: int) -> None:
    """Odd lengths (other frame rates) too: the noise's FFT length is always even, or its
    spectrum would make a sample too few (50,625 = 3⁴·5⁴ was such a length, as a thunder roll
    could be)."""
    scene = choose_scene(replace(SPEC, prompt="a thunderstorm over the sea"))
    audio = synthesize_ambience(scene, samples)
    assert audio.shape == (samples, 2) and np.isfinite(audio).all()
    for n in range(1, 2_000):
        length = _fast_length(n)
        assert length >= n and length % 2 == 0
        assert _largest_prime_factor(length) <= 5


@pytest.mark.parametrize(("low_pass_hz", "samples"), [(300.0, 240_000), (4000.0, 50_000)])
def test_noise_is_scaled_to_its_level_before_it_is_made(low_pass_hz: float, samples: int) -> None:
    """Noise levels are known from the gain alone (no pass over the samples to measure them),
    which is what lets the bed and the rain's hiss share one inverse FFT."""
    size = _fast_length(samples)
    freqs = np.fft.rfftfreq(size, 1 / AUDIO_SAMPLE_RATE)
    gain = 1 / np.sqrt(1 + (freqs / low_pass_hz) ** 4)
    noise = _inverse(_white_spectrum(np.random.default_rng(3), size) * _unit(gain), samples)
    assert noise.shape == (2, samples)
    assert float(np.sqrt(np.mean(noise**2))) == pytest.approx(_NOISE_RMS, rel=0.05)


def _largest_prime_factor(n: int) -> int:
    factor, largest = 2, 1
    while n > 1:
        while n % factor == 0:
            n, largest = n // factor, factor
        factor += 1
    return largest


def test_audio_follows_the_prompt() -> None:
    sea = sound(start(SPEC, prompt="waves on the ocean", generate_audio=True))
    fire = sound(start(SPEC, prompt="a campfire burning", generate_audio=True))
    assert sea is not None and fire is not None
    assert float(np.abs(sea - fire).mean()) > 0.05


def test_watermark_appears_in_the_corner_only_when_asked() -> None:
    plain, marked = render(), render(watermark=True)
    changed = (plain != marked).any(axis=(0, 3))
    rows, cols = np.nonzero(changed)
    assert rows.size > 50
    assert rows.min() >= H * 0.7 and cols.min() >= W * 0.4  # the bottom-right corner
    assert not (render(watermark=False) != plain).any()


@pytest.mark.parametrize(("width", "height"), [(864, 480), (160, 96), (62, 38)])
def test_watermark_on_i420_is_the_watermark_on_rgb(width: int, height: int) -> None:
    """Text-to-video marks its I420 frames directly: the same mark as on the RGB picture."""
    picture = cv2.GaussianBlur(np.random.default_rng(2).integers(0, 256, (height, width, 3))
                               .astype(np.uint8), (0, 0), 3)  # fmt: skip
    mark = Watermark(width, height)
    on_rgb, on_i420 = picture.copy(), I420Frame(cv2.cvtColor(picture, cv2.COLOR_RGB2YUV_I420))
    mark.apply(on_rgb)
    mark.apply(on_i420)
    expected = cv2.cvtColor(on_rgb, cv2.COLOR_RGB2YUV_I420)
    luma = on_i420.planes()[0].astype(int)
    assert np.abs(luma - expected.reshape(-1)[: width * height].reshape(height, width)).max() <= 1
    assert (on_i420.data != cv2.cvtColor(picture, cv2.COLOR_RGB2YUV_I420)).sum() > 50


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


# -- the prompt's vocabulary -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "setting", "time", "weather", "subjects"),
    [
        ("white clouds over the mountains", Setting.SKY, TimeOfDay.DAY, Weather.CLEAR, ()),
        ("a red kite over the sea at sunset", Setting.SEA, TimeOfDay.SUNSET, Weather.CLEAR,
         (Subject.KITE,)),
        ("neon city street", Setting.CITY, TimeOfDay.NIGHT, Weather.CLEAR, ()),
        ("a city during the day", Setting.CITY, TimeOfDay.DAY, Weather.CLEAR, ()),
        ("stars over a planet", Setting.SPACE, TimeOfDay.NIGHT, Weather.CLEAR, ()),
        ("a snowy forest at dawn", Setting.FOREST, TimeOfDay.DAWN, Weather.SNOW, ()),
        ("a campfire burning", Setting.FIRE, TimeOfDay.NIGHT, Weather.CLEAR, ()),
        ("heavy rain", Setting.SKY, TimeOfDay.DAY, Weather.RAIN, ()),
        ("a thunderstorm with rain over the hills", Setting.SKY, TimeOfDay.DAY, Weather.STORM, ()),
        ("a cosy living room at night", Setting.ROOM, TimeOfDay.NIGHT, Weather.CLEAR, ()),
        ("a girl walking her dog in a misty park", Setting.FOREST, TimeOfDay.DAY, Weather.FOG,
         (Subject.FIGURE,)),
        ("boats and birds in the harbour", Setting.SEA, TimeOfDay.DAY, Weather.CLEAR,
         (Subject.BOAT, Subject.BIRDS)),
        ("melancholy", Setting.ABSTRACT, TimeOfDay.DAY, Weather.CLEAR, ()),
        ("夜晚的城市下着雨", Setting.CITY, TimeOfDay.NIGHT, Weather.RAIN, ()),
    ],
)  # fmt: skip
def test_prompt_words_choose_the_scene(
    prompt: str, setting: Setting, time: TimeOfDay, weather: Weather, subjects: tuple[Subject, ...]
) -> None:
    scene = choose_scene(replace(SPEC, prompt=prompt))
    assert (scene.setting, scene.time, scene.weather, scene.subjects) == (
        setting, time, weather, subjects)  # fmt: skip


def test_an_entry_is_found_where_the_first_of_its_phrases_is() -> None:
    # Whole words only, the earliest wherever it is listed, a longer phrase found where a
    # shorter one that begins it is not a whole word.
    text = "a sunny daytime walk by day"
    assert _position(text, text, ("day", "daytime", "sunny"), ()) == text.index("sunny")
    assert _position(text, text, ("day", "daytime"), ()) == text.index("daytime")
    assert _position(text, text, ("days", "walks"), ()) is None
    assert _position(text, text, (), ()) is None


VOCABULARY = {
    "sky": "white clouds over the mountains",
    "sea": "waves on the ocean",
    "city": "a city street at night",
    "space": "stars over a planet",
    "forest": "a forest of pine trees",
    "fire": "a campfire burning",
    "room": "a cosy living room",
    "rain": "heavy rain",
    "snow": "snow falling",
    "abstract": "melancholy",
}


def test_every_scene_of_the_vocabulary_looks_different() -> None:
    videos = {name: render(prompt=prompt, frame_count=6) for name, prompt in VOCABULARY.items()}
    names = list(videos)
    for i, one in enumerate(names):
        for other in names[i + 1 :]:
            assert difference(videos[one], videos[other]) > 15, (one, other)


def luma(frames: np.ndarray[Any, Any]) -> float:
    return float(frames.astype(np.float32).mean())


def warmth(frames: np.ndarray[Any, Any]) -> float:
    """Red minus blue, on average: positive for warm pictures."""
    rgb = frames.astype(np.float32)
    return float((rgb[..., 0] - rgb[..., 2]).mean())


def test_time_of_day_relights_the_scene() -> None:
    noon, night = render(prompt="a meadow at noon"), render(prompt="a meadow at night")
    sunset, dawn = render(prompt="a meadow at sunset"), render(prompt="a meadow at dawn")
    assert luma(noon) > luma(night) + 60
    assert warmth(sunset) > warmth(dawn) > warmth(noon) + 20
    city_day, city_night = render(prompt="a city in the day"), render(prompt="a city at night")
    assert luma(city_day) > luma(city_night) + 40


def test_weather_falls_covers_and_flashes() -> None:
    still = {"prompt": "a meadow", "camera_fixed": True, "frame_count": 48}
    clear = render(**still)
    rain = render(**{**still, "prompt": "a meadow in the rain"})
    snow = render(**{**still, "prompt": "a meadow in the snow"})
    fog = render(**{**still, "prompt": "a misty meadow"})
    storm = render(**{**still, "prompt": "a meadow in a thunderstorm"})
    # Rain streaks fall over the whole picture, even with the camera locked off.
    assert still_fraction(rain) < 0.1 < still_fraction(clear)
    # Snow lies white on the ground; fog washes out the contrast.
    assert luma(snow[:, -H // 4 :]) > luma(clear[:, -H // 4 :]) + 30
    contrast = [float(v[-1].astype(np.float32).std()) for v in (clear, fog)]
    assert contrast[1] < contrast[0] * 0.8
    # Lightning: a few frames far brighter than the rest.
    levels = storm.astype(np.float32).mean(axis=(1, 2, 3))
    assert levels.max() > 1.4 * float(np.median(levels))


def magenta(frames: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    rgb = frames.astype(np.int16)
    return (rgb[..., 0] > 140) & (rgb[..., 2] > 140) & (rgb[..., 1] < 100)


@pytest.mark.parametrize("subject", ["kite", "balloons", "boat", "fish", "birds", "girl"])
def test_named_subjects_appear_in_their_colour_and_move(subject: str) -> None:
    frames = render(prompt=f"a meadow with a magenta {subject}", camera_fixed=True, frame_count=48,
                    width=256, height=144)  # fmt: skip
    shown = magenta(frames)
    assert shown[0].sum() > 10 and shown[-1].sum() > 10  # there, in the colour asked for
    assert (shown[0] != shown[-1]).sum() > 10  # and not where it was
    assert not magenta(render(prompt=f"a meadow with a {subject}", frame_count=2)).any()


def test_a_colour_before_a_subject_paints_the_subject_not_the_sky() -> None:
    plain = render(prompt="a kite over a meadow", frame_count=2)
    red = render(prompt="a red kite over a meadow", frame_count=2)
    tinted = render(prompt="a red meadow", frame_count=2)
    # A red scene is tinted throughout; a red kite leaves the scene's colours as they were.
    assert warmth(tinted) > warmth(plain) + 40
    assert abs(warmth(red) - warmth(plain)) < 12


# -- the camera ---------------------------------------------------------------------------------

CW, CH = 256, 144
"""Camera tests: sizes that suit the DFT (OpenCV's phase correlation is biased by half a pixel
on sizes it pads)."""


def city(prompt: str = "", **changes: Any) -> np.ndarray[Any, Any]:
    """A city at night: crisp static buildings, so camera motion is easy to measure."""
    return render(
        prompt=f"a city at night, {prompt}",
        **{"width": CW, "height": CH, "frame_count": 48, **changes},
    )


def global_motion(frames: np.ndarray[Any, Any], step: int = 4) -> np.ndarray[Any, Any]:
    """Per-frame (dx, dy) of the picture's top two thirds (buildings and sky), by phase
    correlation between frames ``step`` apart: one row per pair."""
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32)[: len(f) * 2 // 3]
            for f in frames]  # fmt: skip
    window = cv2.createHanningWindow((grey[0].shape[1], grey[0].shape[0]), cv2.CV_32F)
    shifts = [cv2.phaseCorrelate(grey[i], grey[i + step], window)[0]
              for i in range(0, len(grey) - step, step)]  # fmt: skip
    return np.array(shifts) / step


def zoom_factor(frames: np.ndarray[Any, Any]) -> float:
    """How much the last frame is magnified against the first (ECC affine alignment)."""
    first, last = (cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32)
                   for f in (frames[0], frames[-1]))  # fmt: skip
    warp = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-6)
    _, warp = cv2.findTransformECC(first, last, warp, cv2.MOTION_AFFINE, criteria, None, 5)
    return float(np.sqrt(abs(np.linalg.det(warp[:, :2].astype(np.float64)))))


@pytest.mark.parametrize("prompt", ["pan left", "zoom in", "tilt up", "orbit", ""])
def test_fixed_camera_has_no_global_motion(prompt: str) -> None:
    frames = city(prompt, camera_fixed=True)
    assert np.abs(global_motion(frames)).max() < 0.05
    assert zoom_factor(frames) == pytest.approx(1.0, abs=0.005)


@pytest.mark.parametrize("prompt", ["static shot", "fixed camera", "on a tripod"])
def test_prompt_can_lock_the_camera(prompt: str) -> None:
    assert np.abs(global_motion(city(prompt))).max() < 0.05


@pytest.mark.parametrize(("prompt", "sign"), [("pan left", 1), ("pan right", -1),
                                              ("the camera trucks left", 1),
                                              ("tracking shot moving right", -1)])  # fmt: skip
def test_pans_move_the_picture_the_right_way(prompt: str, sign: int) -> None:
    # The camera turning left brings in what is on the left: the picture slides right.
    dx, dy = global_motion(city(prompt)).mean(axis=0)
    assert dx * sign > 0.25 and abs(dy) < 0.05


@pytest.mark.parametrize(("prompt", "sign"), [("tilt up", 1), ("tilt down", -1),
                                              ("crane up", 1)])  # fmt: skip
def test_tilts_move_the_picture_the_right_way(prompt: str, sign: int) -> None:
    dx, dy = global_motion(city(prompt)).mean(axis=0)
    assert dy * sign > 0.12 and abs(dx) < 0.05


def test_speed_words_and_bracketed_directives() -> None:
    def speed(prompt: str) -> float:
        return float(abs(global_motion(city(prompt))[:, 0].mean()))

    slow, normal, fast = speed("slow pan left"), speed("pan left"), speed("fast pan left")
    assert 1.5 * slow < normal < fast / 1.5
    # "[Slow pan]" with no direction pans (the seed picks the side) at the slow speed.
    assert speed("[Slow pan]") == pytest.approx(slow, rel=0.2)
    assert speed("[Fast pan]") == pytest.approx(fast, rel=0.2)


ZOOMS = [("zoom in", True), ("dolly in", True), ("push in", True), ("zoom out", False),
         ("pull back", False), ("[Dolly out]", False)]  # fmt: skip


@pytest.mark.parametrize(("prompt", "bigger"), ZOOMS)
def test_zooms_magnify_or_widen(prompt: str, bigger: bool) -> None:
    factor = zoom_factor(city(prompt))
    assert factor > 1.03 if bigger else factor < 0.97


def test_pans_move_in_whole_render_pixels_where_the_output_doubles_the_render() -> None:
    # 480p renders at exactly half size: a pan steps by whole render pixels (two output
    # pixels), so each frame is the last one shifted, as x264's whole-pixel search predicts.
    shifts = global_motion(city("pan left", width=864, height=480, frame_count=16), step=1)
    assert (shifts[:, 0] > 1).sum() >= 4  # it moves
    assert np.abs(shifts[:, 0] - 2 * np.round(shifts[:, 0] / 2)).max() < 0.05
    assert np.abs(shifts[:, 1]).max() < 0.05
    # Elsewhere (this small size renders at full size) the pan glides by fractions of a pixel.
    glides = global_motion(city("pan left"), step=1)[:, 0]
    assert np.abs(glides - np.round(glides)).max() > 0.2


# -- images in ----------------------------------------------------------------------------------


def test_reference_images_appear_as_elements_of_the_scene() -> None:
    card = np.zeros((60, 100, 3), dtype=np.uint8)
    card[:, :50] = (255, 0, 255)  # magenta left half
    card[:, 50:] = (0, 255, 255)  # cyan right half
    frames = render(prompt="a forest", reference_images=(card,), width=256, height=144)
    assert not magenta(render(prompt="a forest", width=256, height=144)).any()
    for frame in (frames[0], frames[-1]):
        pink = np.argwhere(magenta(frame[None])[0])
        rgb = frame.astype(np.int16)
        cyan = np.argwhere((rgb[..., 0] < 80) & (rgb[..., 1] > 170) & (rgb[..., 2] > 170))
        assert len(pink) > 100 and len(cyan) > 100  # the picture, large enough to see
        assert pink[:, 1].mean() < cyan[:, 1].mean()  # and the right way round
    assert difference(frames[0], frames[-1]) > 1  # it floats; the camera moves past it


def test_weather_falls_over_an_animated_image_without_touching_its_ends() -> None:
    first, last = image((90, 100, 110), 1), image((60, 70, 90), 2)
    dry = render(first_frame=first, last_frame=last)
    wet = render(prompt="heavy rain", first_frame=first, last_frame=last)
    assert np.array_equal(wet[0], first) and np.array_equal(wet[-1], last)
    assert difference(wet[len(wet) // 2], dry[len(dry) // 2]) > 1


# -- draft, seeds -------------------------------------------------------------------------------


def detail(frames: np.ndarray[Any, Any]) -> float:
    """Mean absolute Laplacian: how much fine structure the pictures have."""
    return float(np.mean([np.abs(cv2.Laplacian(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), cv2.CV_32F))
                          .mean() for f in frames]))  # fmt: skip


def test_draft_is_the_same_scene_in_less_detail() -> None:
    size = {"prompt": "a city street at night", "width": 864, "height": 480, "frame_count": 4}
    full, draft = render(**size), render(**size, draft=True)
    assert draft.shape == full.shape
    assert detail(draft) < 0.8 * detail(full)
    assert abs(luma(draft) - luma(full)) < 10  # same palette, same composition


def test_another_seed_is_a_variation_not_another_scene() -> None:
    one, two = render(prompt="a forest", seed=1), render(prompt="a forest", seed=2)
    other = render(prompt="a campfire burning", seed=1)
    assert 3 < difference(one, two) < difference(one, other) / 2
    assert choose_scene(replace(SPEC, prompt="a forest", seed=2)).setting is Setting.FOREST


# -- sound --------------------------------------------------------------------------------------


def ambience(prompt: str, frames: int = 48) -> np.ndarray[Any, Any]:
    return sound(start(SPEC, prompt=prompt, frame_count=frames, generate_audio=True))


def spectrum_share(audio: np.ndarray[Any, Any], low: float, high: float) -> float:
    """Share of the signal's energy between ``low`` and ``high`` Hz."""
    power = np.abs(np.fft.rfft(audio.mean(axis=1))) ** 2
    freqs = np.fft.rfftfreq(audio.shape[0], 1 / AUDIO_SAMPLE_RATE)
    return float(power[(freqs >= low) & (freqs < high)].sum() / power.sum())


def test_sound_matches_the_scene() -> None:
    room, rain = ambience("a quiet room"), ambience("heavy rain")
    city, meadow = ambience("a city street"), ambience("a meadow")
    forest_day, forest_night = ambience("a forest"), ambience("a forest at night")
    assert spectrum_share(rain, 2000, 12000) > 0.3 > 0.05 > spectrum_share(room, 2000, 12000)
    assert spectrum_share(city, 40, 250) > spectrum_share(meadow, 40, 250) + 0.3  # the hum
    crickets = (spectrum_share(forest_night, 4000, 5000), spectrum_share(forest_day, 4000, 5000))
    assert crickets[0] > 3 * crickets[1]
    storm = ambience("a thunderstorm", frames=96)
    assert spectrum_share(storm, 25, 200) > spectrum_share(rain, 25, 200)  # thunder rolls


def test_the_pad_plays_the_scene_chord() -> None:
    """The strongest tones are the chord's notes (and their soft octaves), each breathing: the
    pad's partials are placed in the spectrum, so a wrong bin or scale would show here."""
    spec = replace(SPEC, prompt="a quiet room", frame_count=240, generate_audio=True)
    scene, audio = choose_scene(spec), sound(start(spec))
    power = np.abs(np.fft.rfft(audio.mean(axis=1))) ** 2
    freqs = np.fft.rfftfreq(audio.shape[0], 1 / AUDIO_SAMPLE_RATE)
    notes = [scene.sound.root_hz * 2 ** (s / 12) * h for s in scene.sound.chord for h in (1, 2)]
    audible = (freqs > 40) & (freqs < 2000)
    strongest = freqs[audible][np.argsort(power[audible])[-8:]]
    for freq in strongest:
        assert min(abs(freq / note - 1) for note in notes) < 0.01, (freq, notes)
    # Each voice is a detuned pair that breathes: energy spreads a little around each note.
    share = sum(spectrum_share(audio, 0.99 * n, 1.01 * n) for n in notes[::2])
    assert 0.2 < share < 0.95


@pytest.mark.parametrize("prompt", list(VOCABULARY.values()))
def test_every_scene_has_an_audible_bed_that_never_clips(prompt: str) -> None:
    audio = ambience(prompt)
    assert np.abs(audio).max() <= 0.81
    assert float(np.sqrt(np.mean(audio**2))) > 0.05


def test_encoded_sound_is_aac_48k_of_the_exact_length_and_audible(tmp_path: Path) -> None:
    spec = replace(SPEC, prompt="waves on the ocean", frame_count=49, generate_audio=True)
    clip = start(spec)
    path = tmp_path / "sound.mp4"
    encode_mp4(path, clip.frames, width=W, height=H, fps=24, frame_count=49, audio=clip.audio)
    info = probe(path)
    assert (info.audio_codec, info.audio_sample_rate) == ("aac", 48_000)
    assert info.audio_duration_seconds == pytest.approx(49 / 24, abs=1e-6)
    with av.open(str(path)) as container:
        decoded = np.concatenate(
            [f.to_ndarray().reshape(2, -1) for f in container.decode(audio=0)], axis=1
        )
    assert decoded.shape[1] == pytest.approx(49 / 24 * AUDIO_SAMPLE_RATE, abs=1024)
    assert float(np.sqrt(np.mean(decoded**2))) > 0.05  # not silence
    assert float(np.abs(decoded).max()) < 1.0  # not clipped


def test_memory_stays_flat_with_clip_length(tmp_path: Path) -> None:
    """Frames stream from the engine to the encoder: four times the frames, the same peak."""

    def peak(frames: int) -> int:
        spec = replace(SPEC, prompt="rain over a city", width=320, height=176, frame_count=frames)
        tracemalloc.start()
        clip = start(spec)
        encode_mp4(tmp_path / f"{frames}.mp4", clip.frames, width=320, height=176, fps=24,
                   frame_count=frames)  # fmt: skip
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    short, long = peak(24), peak(96)
    assert long < 1.2 * short  # a held clip would be 4× (96 frames are 16 MB here)
