"""Reading back what a video file really contains, to verify outputs before they are served.

The frame count comes from counting the video packets in the file, not from the header's
estimate, and ``moov_before_mdat`` comes from walking the MP4's top-level boxes: those are the
two promises (exact length, progressive playback) a header can get wrong.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import av


@dataclass(frozen=True)
class ProbeInfo:
    """The facts about a video file that Kinema promises to its callers."""

    width: int
    height: int
    frame_count: int
    """Video packets actually present (one per frame for H.264)."""
    fps: float
    video_codec: str
    pix_fmt: str
    duration_seconds: float
    """Length of the video track."""
    has_audio: bool
    audio_codec: str | None
    audio_sample_rate: int | None
    audio_duration_seconds: float | None
    moov_before_mdat: bool
    """True when the index precedes the media data ("fast start"); False for non-MP4 files."""


def probe(path: Path) -> ProbeInfo:
    """Describe the video file at ``path``; raise ValueError if it has no video stream.

    Reads every packet (no decoding), so it costs a fraction of a second even for long clips.
    """
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path.name} has no video stream")
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frame_count, audio_ticks = _count_packets(container, video, audio)
        context = video.codec_context
        rate = video.average_rate or video.base_rate or video.guessed_rate
        fps = float(rate) if rate else 0.0
        duration = _seconds(video.duration, video.time_base)
        if duration is None:
            duration = frame_count / fps if fps else 0.0
        audio_duration = None
        if audio is not None:
            audio_duration = _seconds(audio.duration, audio.time_base)
            if audio_duration is None:
                audio_duration = _seconds(audio_ticks, audio.time_base)
        return ProbeInfo(
            width=context.width,
            height=context.height,
            frame_count=frame_count,
            fps=fps,
            video_codec=context.name,
            pix_fmt=context.pix_fmt or "",
            duration_seconds=duration,
            has_audio=audio is not None,
            audio_codec=None if audio is None else audio.codec_context.name,
            audio_sample_rate=None if audio is None else audio.codec_context.sample_rate,
            audio_duration_seconds=audio_duration,
            moov_before_mdat=_moov_before_mdat(path),
        )


def _count_packets(container: Any, video: Any, audio: Any) -> tuple[int, int]:
    """Count video packets and sum audio packet durations (the fallback audio length)."""
    frames = 0
    audio_ticks = 0
    streams = [video] if audio is None else [video, audio]
    for packet in container.demux(streams):
        if packet.size == 0:  # the flush packet demux yields at the end of each stream
            continue
        if packet.stream.index == video.index:
            frames += 1
        elif packet.duration:
            audio_ticks += packet.duration
    return frames, audio_ticks


def _seconds(ticks: int | None, time_base: Any) -> float | None:
    if ticks is None or time_base is None:
        return None
    return float(ticks * time_base)


def _moov_before_mdat(path: Path) -> bool:
    """Walk the top-level ISO-BMFF boxes and report whether ``moov`` comes before ``mdat``."""
    with path.open("rb") as file:
        for box in _top_level_boxes(file):
            if box == b"moov":
                return True
            if box == b"mdat":
                return False
    return False


def _top_level_boxes(file: BinaryIO) -> list[bytes]:
    names = []
    file.seek(0, 2)
    end = file.tell()
    offset = 0
    while offset + 8 <= end:
        file.seek(offset)
        size, name = struct.unpack(">I4s", file.read(8))
        if size == 1:  # a 64-bit size follows the name
            (size,) = struct.unpack(">Q", file.read(8))
        elif size == 0:  # the box runs to the end of the file
            size = end - offset
        if size < 8:
            break  # not a valid box: not an MP4, or corrupt
        names.append(name)
        offset += size
    return names
