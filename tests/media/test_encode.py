"""encode_mp4 writes exactly the MP4 the API promises, or nothing at all."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

from kinema.engines.base import AUDIO_SAMPLE_RATE, Frame, I420Frame, RenderCancelled
from kinema.media.encode import check_codecs, encode_mp4, write_png
from kinema.media.image import decode_image
from kinema.media.probe import probe

W, H = 160, 96


def frames(count: int, width: int = W, height: int = H) -> Iterator[Frame]:
    """Frames a viewer can tell apart: a gradient whose brightness encodes the frame index."""
    ramp = np.linspace(0, 60, width, dtype=np.float32)[None, :, None]
    for index in range(count):
        level = 40 + (index * 150) // max(1, count - 1)
        frame = np.empty((height, width, 3), dtype=np.uint8)
        frame[:] = np.clip(level + ramp, 0, 255).astype(np.uint8)
        frame[:, :, 2] = 255 - frame[:, :, 0]
        yield frame


def tone(samples: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    t = np.arange(samples) / AUDIO_SAMPLE_RATE
    mono = 0.4 * np.sin(2 * np.pi * 440 * t)
    return np.stack([mono, mono], axis=1).astype(np.float32)


def ffprobe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-show_streams", "-show_format",
         "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    result: dict[str, Any] = json.loads(out)
    return result


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_codecs_are_available() -> None:
    check_codecs()


def test_video_with_audio_matches_the_contract(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    count = 25
    samples = round(count * AUDIO_SAMPLE_RATE / 24)
    result = encode_mp4(
        path, frames(count), width=W, height=H, fps=24, frame_count=count, audio=tone(samples)
    )

    assert result.frame_count == count
    assert result.bytes == path.stat().st_size > 0
    info = probe(path)
    assert (info.width, info.height, info.frame_count) == (W, H, count)
    assert info.fps == 24.0
    assert (info.video_codec, info.pix_fmt) == ("h264", "yuv420p")
    assert info.duration_seconds == pytest.approx(count / 24, abs=1e-6)
    assert info.moov_before_mdat
    assert info.has_audio and info.audio_codec == "aac" and info.audio_sample_rate == 48_000
    assert info.audio_duration_seconds == pytest.approx(count / 24, abs=1e-6)

    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is not installed: checked with PyAV only")
    report = ffprobe(path)
    video = next(s for s in report["streams"] if s["codec_type"] == "video")
    audio = next(s for s in report["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["pix_fmt"]) == ("h264", "yuv420p")
    assert (video["width"], video["height"]) == (W, H)
    assert video["nb_frames"] == video["nb_read_packets"] == str(count)
    assert video["r_frame_rate"] == video["avg_frame_rate"] == "24/1"
    assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == ("aac", "48000", 2)
    assert float(audio["duration"]) == pytest.approx(count / 24, abs=1e-5)
    assert float(report["format"]["duration"]) == pytest.approx(count / 24, abs=1e-5)


def test_frames_come_back_in_order_and_colour(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    originals = list(frames(12))
    encode_mp4(path, iter(originals), width=W, height=H, fps=24, frame_count=12, crf=18)

    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 12
    for original, back in zip(originals, decoded, strict=True):
        assert np.abs(original.astype(int) - back.astype(int)).mean() < 3.0


def test_result_carries_the_last_frame(tmp_path: Path) -> None:
    originals = list(frames(5))
    result = encode_mp4(
        tmp_path / "out.mp4", iter(originals), width=W, height=H, fps=24, frame_count=5
    )
    assert np.array_equal(result.last_frame, originals[-1])


def test_i420_frames_go_to_the_encoder_as_they_are(tmp_path: Path) -> None:
    """An engine may hand over I420 (the encoder's own format): same video as its RGB, and the
    last frame comes back as RGB."""
    originals = list(frames(6))
    planes = [I420Frame(cv2.cvtColor(f, cv2.COLOR_RGB2YUV_I420)) for f in originals]
    rgb_path, i420_path = tmp_path / "rgb.mp4", tmp_path / "i420.mp4"
    encode_mp4(rgb_path, iter(originals), width=W, height=H, fps=24, frame_count=6)
    mixed = [planes[0], originals[1], *planes[2:]]  # the two kinds may even be mixed
    result = encode_mp4(i420_path, iter(mixed), width=W, height=H, fps=24, frame_count=6)
    with av.open(str(rgb_path)) as a, av.open(str(i420_path)) as b:
        for x, y in zip(a.decode(video=0), b.decode(video=0), strict=True):
            assert np.array_equal(x.to_ndarray(), y.to_ndarray())
    assert result.last_frame.shape == (H, W, 3)
    assert np.abs(result.last_frame.astype(int) - originals[-1]).mean() < 2.0


def test_i420_frame_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    small = I420Frame(np.zeros((H // 2 * 3 // 2, W // 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="I420 frame of 160x96"):
        encode_mp4(tmp_path / "out.mp4", iter([small]), width=W, height=H, fps=24, frame_count=1)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "data",
    [np.zeros((10, 8), dtype=np.uint8), np.zeros((9, 7), dtype=np.uint8),
     np.zeros((9, 8), dtype=np.float32), np.zeros((9, 8, 1), dtype=np.uint8)],
)  # fmt: skip
def test_i420_frames_must_hold_whole_planes(data: np.ndarray[Any, Any]) -> None:
    with pytest.raises(ValueError, match="I420"):
        I420Frame(data)


def test_i420_planes_are_views_of_the_frame() -> None:
    rgb = next(frames(1))
    frame = I420Frame(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420))
    luma, blue, red = frame.planes()
    assert luma.shape == (H, W) and blue.shape == red.shape == (H // 2, W // 2)
    luma[:] = 16
    blue[:] = red[:] = 128
    assert (frame.to_rgb() == 0).all()  # limited-range black


def test_silent_video_has_no_audio_track(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    encode_mp4(path, frames(3), width=W, height=H, fps=24, frame_count=3)
    info = probe(path)
    assert info.frame_count == 3 and not info.has_audio and info.moov_before_mdat


def test_silent_audio_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    with pytest.raises(ValueError, match="silent"):
        encode_mp4(path, frames(12), width=W, height=H, fps=24, frame_count=12,
                   audio=np.zeros((24_000, 2), dtype=np.float32))  # fmt: skip
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("samples", [1000, 100_000])
def test_audio_is_fitted_to_the_video_length(tmp_path: Path, samples: int) -> None:
    path = tmp_path / "out.mp4"
    encode_mp4(path, frames(12), width=W, height=H, fps=24, frame_count=12, audio=tone(samples))
    assert probe(path).audio_duration_seconds == pytest.approx(0.5, abs=1e-6)


def test_audio_made_on_demand_is_made_on_the_encoders_audio_thread(tmp_path: Path) -> None:
    """An engine may hand over a function that makes its sound: the encoder calls it on its own
    thread, once, and the track is the same as if the samples had been passed."""
    made_on: list[str] = []

    def make() -> np.ndarray[Any, np.dtype[np.float32]]:
        made_on.append(threading.current_thread().name)
        return tone(12_000)

    deferred, eager = tmp_path / "deferred.mp4", tmp_path / "eager.mp4"
    encode_mp4(deferred, frames(12), width=W, height=H, fps=24, frame_count=12, audio=make)
    encode_mp4(eager, frames(12), width=W, height=H, fps=24, frame_count=12, audio=tone(12_000))
    assert made_on == ["kinema-encode-audio"]
    assert probe(deferred).audio_duration_seconds == pytest.approx(0.5, abs=1e-6)
    assert decoded_audio(deferred).tobytes() == decoded_audio(eager).tobytes()


def test_audio_made_on_demand_is_still_checked(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    with pytest.raises(ValueError, match="silent"):
        encode_mp4(path, frames(12), width=W, height=H, fps=24, frame_count=12,
                   audio=lambda: np.zeros((24_000, 2), dtype=np.float32))  # fmt: skip
    assert leftovers(tmp_path) == []


def decoded_audio(path: Path) -> np.ndarray[Any, Any]:
    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)


def test_long_clip_at_contract_size(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    count = 121
    result = encode_mp4(path, frames(count, 864, 480), width=864, height=480, fps=24,
                        frame_count=count, audio=tone(242_000))  # fmt: skip
    info = probe(path)
    assert (info.width, info.height, info.frame_count) == (864, 480, count)
    assert info.audio_duration_seconds == pytest.approx(count / 24, abs=1e-6)
    assert result.bytes == path.stat().st_size


@pytest.mark.parametrize("count", [4, 6])
def test_wrong_frame_count_raises_and_writes_nothing(tmp_path: Path, count: int) -> None:
    with pytest.raises(ValueError, match="expected 5 frames"):
        encode_mp4(tmp_path / "out.mp4", frames(count), width=W, height=H, fps=24, frame_count=5)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((H, W + 2, 3), dtype=np.uint8),
        np.zeros((H, W, 4), dtype=np.uint8),
        np.zeros((H, W, 3), dtype=np.float32),
    ],
    ids=["size", "channels", "dtype"],
)
def test_wrong_frame_raises_and_writes_nothing(tmp_path: Path, bad: Frame) -> None:
    def stream() -> Iterator[Frame]:
        yield from frames(2)
        yield bad

    with pytest.raises(ValueError, match="frame 2"):
        encode_mp4(tmp_path / "out.mp4", stream(), width=W, height=H, fps=24, frame_count=4)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("width", "height"), [(161, 96), (160, 95), (0, 96)])
def test_odd_or_empty_size_is_refused(tmp_path: Path, width: int, height: int) -> None:
    with pytest.raises(ValueError, match="even"):
        encode_mp4(tmp_path / "out.mp4", frames(1), width=width, height=height, fps=24,
                   frame_count=1)  # fmt: skip
    assert leftovers(tmp_path) == []


def test_render_failure_propagates_and_leaves_no_file(tmp_path: Path) -> None:
    cancelled = RenderCancelled("cancelled by the user")

    def stream() -> Iterator[Frame]:
        yield from frames(7)
        raise cancelled

    with pytest.raises(RenderCancelled) as caught:
        encode_mp4(tmp_path / "out.mp4", stream(), width=W, height=H, fps=24, frame_count=20,
                   audio=tone(40_000))  # fmt: skip
    assert caught.value is cancelled
    assert leftovers(tmp_path) == []


def encoder_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("kinema-encode")]


def test_a_failed_render_stops_the_sound_thread_too(tmp_path: Path) -> None:
    """The sound is made and encoded on its own thread; a render that fails while it works
    leaves no thread behind and no file."""
    started = threading.Event()

    def slow_sound() -> np.ndarray[Any, np.dtype[np.float32]]:
        started.set()
        return tone(48_000 * 4)

    def stream() -> Iterator[Frame]:
        yield from frames(3)
        assert started.wait(5)
        raise RenderCancelled("stop")

    with pytest.raises(RenderCancelled):
        encode_mp4(tmp_path / "out.mp4", stream(), width=W, height=H, fps=24, frame_count=96,
                   audio=slow_sound)  # fmt: skip
    assert encoder_threads() == []
    assert leftovers(tmp_path) == []


def test_a_failing_sound_fails_the_encode(tmp_path: Path) -> None:
    def broken() -> np.ndarray[Any, np.dtype[np.float32]]:
        raise RuntimeError("the synthesiser broke")

    with pytest.raises(RuntimeError, match="synthesiser broke"):
        encode_mp4(tmp_path / "out.mp4", frames(48), width=W, height=H, fps=24, frame_count=48,
                   audio=broken)  # fmt: skip
    assert encoder_threads() == []
    assert leftovers(tmp_path) == []


def test_a_failed_encode_keeps_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    path.write_bytes(b"previous")
    with pytest.raises(ValueError):
        encode_mp4(path, frames(2), width=W, height=H, fps=24, frame_count=3)
    assert path.read_bytes() == b"previous"
    assert leftovers(tmp_path) == ["out.mp4"]


def test_write_png_round_trips(tmp_path: Path) -> None:
    frame = next(frames(1))
    path = tmp_path / "last.png"
    write_png(path, frame)
    assert path.read_bytes().startswith(b"\x89PNG")
    assert np.array_equal(decode_image(path.read_bytes()), frame)
    assert leftovers(tmp_path) == ["last.png"]


def test_unwritable_destination_raises(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        encode_mp4(tmp_path / "missing" / "out.mp4", frames(2), width=W, height=H, fps=24,
                   frame_count=2)  # fmt: skip
    assert leftovers(tmp_path) == []
