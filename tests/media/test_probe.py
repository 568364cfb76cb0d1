"""probe reports what is really in a file: counted frames, real box order, audio facts."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from kinema.media.encode import encode_mp4
from kinema.media.probe import probe


def write_plain_mp4(path: Path, count: int, *, faststart: bool) -> None:
    """An MP4 written straight with PyAV: moov at the end unless faststart is asked."""
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=options) as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, 24)
        for index in range(count):
            frame = av.VideoFrame.from_ndarray(
                np.full((48, 64, 3), index * 10, dtype=np.uint8), format="rgb24"
            )
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def test_moov_position_is_read_from_the_boxes(tmp_path: Path) -> None:
    late, early = tmp_path / "late.mp4", tmp_path / "early.mp4"
    write_plain_mp4(late, 10, faststart=False)
    write_plain_mp4(early, 10, faststart=True)
    assert not probe(late).moov_before_mdat
    assert probe(early).moov_before_mdat


def test_counts_frames_and_reads_geometry(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    write_plain_mp4(path, 17, faststart=False)
    info = probe(path)
    assert (info.width, info.height, info.frame_count) == (64, 48, 17)
    assert info.fps == 24.0
    assert info.video_codec == "h264"
    assert info.duration_seconds == pytest.approx(17 / 24, abs=1e-6)
    assert not info.has_audio
    assert info.audio_codec is None
    assert info.audio_sample_rate is None
    assert info.audio_duration_seconds is None


def test_reports_audio(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    frames = (np.zeros((32, 32, 3), dtype=np.uint8) for _ in range(48))
    audio = np.full((96_000, 2), 0.1, dtype=np.float32)
    encode_mp4(path, frames, width=32, height=32, fps=24, frame_count=48, audio=audio)
    info = probe(path)
    assert info.has_audio
    assert (info.audio_codec, info.audio_sample_rate) == ("aac", 48_000)
    assert info.audio_duration_seconds == pytest.approx(2.0, abs=1e-6)


def test_not_a_video_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_bytes(b"this is not a video at all" * 10)
    with pytest.raises((av.error.FFmpegError, ValueError)):
        probe(path)
