"""Encoding a rendered clip into the MP4 the API promises.

Every output is H.264 (libx264) in MP4, yuv420p, moov atom first (``+faststart``), exactly the
asked size and frame count at a constant frame rate, with an AAC 48 kHz stereo track when the
engine produced audio. Frames are consumed lazily: the caller's thread pulls them from the
engine (rendering) while a second thread runs the encoder (PyAV releases the GIL), joined by a
small bounded queue, so memory stays flat however long the clip is.

The file is written under a hidden temporary name beside ``path`` and renamed into place only
once complete: a reader never sees a half-written video, and a failed render leaves nothing.
"""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.video.reformatter as avr
import cv2
import numpy as np

from kinema.engines.base import (
    AUDIO_SAMPLE_RATE,
    Audio,
    Frame,
    I420Frame,
    OutputFrame,
    rgb_copy,
)
from kinema.media.image import encode_png

X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
AUDIO_BIT_RATE = 128_000
AAC_FRAME_SAMPLES = 1024
"""Samples per AAC frame; audio is handed to the encoder in chunks of this size."""

_QUEUE_DEPTH = 4
"""Frames waiting for the encoder: enough to smooth out jitter, small enough to keep memory flat."""
_SEAM_FADE_SAMPLES = 256
"""Fade applied where audio had to be trimmed or padded, so the seam does not click."""
_SILENCE = 1e-4
"""Peak level (-80 dBFS) at or below which audio counts as silence."""
Planar = np.ndarray[Any, np.dtype[np.float32]]
"""(2, samples) float32 PCM, one row per channel: what the AAC encoder takes."""
_END = object()
"""Marks an exhausted frame iterator (a frame is never this object)."""


@dataclass(frozen=True)
class EncodeResult:
    """What :func:`encode_mp4` wrote."""

    frame_count: int
    last_frame: Frame
    """A copy of the final frame, for ``return_last_frame``."""
    bytes: int
    """Size of the finished file."""


def check_codecs() -> None:
    """Raise RuntimeError naming the encoders this PyAV build lacks (libx264 and aac are needed).

    Call it at start-up: the PyPI ``av`` wheels bundle both, but a PyAV built against a system
    FFmpeg may not, and finding out at the first task is too late.
    """
    missing = []
    for name in ("libx264", "aac"):
        try:
            av.codec.Codec(name, "w")
        except Exception:
            missing.append(name)
    if missing:
        raise RuntimeError(
            f"PyAV {av.__version__} has no {' or '.join(missing)} encoder; "
            "install the PyPI wheel (pip install 'av>=13'), which bundles both"
        )


def write_png(path: Path, frame: Frame) -> None:
    """Write ``frame`` as a PNG file (the ``return_last_frame`` image), atomically."""
    data = encode_png(frame)
    tmp = _temporary_path(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def encode_mp4(
    path: Path,
    frames: Iterable[OutputFrame],
    *,
    width: int,
    height: int,
    fps: int,
    frame_count: int,
    audio: Audio | Callable[[], Audio] | None = None,
    preset: str = "ultrafast",
    crf: int = 23,
    threads: int = 2,
) -> EncodeResult:
    """Encode exactly ``frame_count`` frames (and optional audio) into an MP4 at ``path``.

    ``frames`` must yield RGB uint8 arrays of shape (height, width, 3), or ``I420Frame``
    objects of that size, which go to the encoder as they are; the wrong count, shape or dtype
    raises ValueError (and nothing is written). ``audio`` is (samples, 2) float32 PCM at
    48 kHz; it is trimmed or zero-padded to exactly ``frame_count / fps`` seconds, since the video
    is the authority on length; silent audio is refused (ValueError), never shipped as a track.
    ``audio`` may also be a function that makes it: the encoder's audio thread calls it as it
    starts, so an engine's sound is synthesised while its first frames are being rendered.
    If ``frames`` raises (e.g. RenderCancelled), the encoder stops,
    the partial file is removed and the same exception propagates.
    """
    _check_arguments(width, height, fps, frame_count, preset, crf, threads)
    samples = round(frame_count * AUDIO_SAMPLE_RATE / fps)
    make_pcm: Callable[[], Planar] | None = None
    if callable(audio):
        source = audio
        make_pcm = lambda: _fit_audio(source(), samples)  # noqa: E731
    elif audio is not None:
        pcm = _fit_audio(audio, samples)  # bad audio fails before anything is written
        make_pcm = lambda: pcm  # noqa: E731
    tmp = _temporary_path(path)
    try:
        writer = _Mp4Writer(tmp, width, height, fps, make_pcm, samples, preset, crf, threads)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    iterator = iter(frames)
    try:
        writer.start()
        last_frame = _feed(iterator, writer, width, height, frame_count)
        writer.finish()
        os.replace(tmp, path)
    except BaseException:
        writer.abort()
        tmp.unlink(missing_ok=True)
        _close(iterator)
        raise
    return EncodeResult(frame_count=frame_count, last_frame=last_frame, bytes=path.stat().st_size)


def _check_arguments(
    width: int, height: int, fps: int, frame_count: int, preset: str, crf: int, threads: int
) -> None:
    # yuv420p halves both chroma dimensions, so x264 rejects odd sizes; say so up front.
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError(f"video size must be positive and even, got {width}x{height}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if frame_count <= 0:
        raise ValueError(f"frame_count must be positive, got {frame_count}")
    if preset not in X264_PRESETS:
        raise ValueError(f"unknown x264 preset {preset!r}; use one of {', '.join(X264_PRESETS)}")
    if not 0 <= crf <= 51:
        raise ValueError(f"crf must be in 0..51, got {crf}")
    if threads <= 0:
        raise ValueError(f"threads must be positive, got {threads}")


def _fit_audio(audio: Audio, samples: int) -> Planar:
    """Return planar (2, samples) float32 PCM, trimmed or padded to exactly ``samples``."""
    if not isinstance(audio, np.ndarray) or audio.dtype != np.float32:
        raise ValueError(f"audio must be a float32 array, got {_describe(audio)}")
    if audio.ndim != 2 or audio.shape[1] != 2:
        raise ValueError(f"audio must have shape (samples, 2), got {audio.shape}")
    if not np.isfinite(audio).all():
        raise ValueError("audio contains NaN or infinite samples")
    if not (np.abs(audio) > _SILENCE).any():
        # A track of silence would be shipped to the caller as "audio"; refuse it instead.
        raise ValueError("audio is silent; pass audio=None for a video without sound")
    planar = np.zeros((2, samples), dtype=np.float32)
    kept = min(samples, audio.shape[0])
    planar[:, :kept] = np.clip(audio[:kept].T, -1.0, 1.0)
    if audio.shape[0] != samples and kept > 0:
        fade = min(_SEAM_FADE_SAMPLES, kept)
        planar[:, kept - fade : kept] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return planar


def _feed(
    iterator: Iterator[OutputFrame], writer: _Mp4Writer, width: int, height: int, frame_count: int
) -> Frame:
    """Pull, check and convert every frame, handing I420 planes to the encoder thread."""
    last: OutputFrame | None = None
    for index in range(frame_count):
        try:
            frame = next(iterator)
        except StopIteration:
            raise ValueError(f"expected {frame_count} frames, got only {index}") from None
        writer.put(_i420(frame, index, width, height))
        last = frame
    if next(iterator, _END) is not _END:
        raise ValueError(f"expected {frame_count} frames, got more")
    assert last is not None  # frame_count >= 1 was checked
    # The RGB original where the engine made one; an I420 frame's own RGB otherwise (the
    # picture the video decodes to).
    return rgb_copy(last)


def _i420(frame: OutputFrame, index: int, width: int, height: int) -> np.ndarray[Any, Any]:
    """Frame ``index`` as the encoder's I420 planes, checked against the video's size."""
    if isinstance(frame, I420Frame):
        if (frame.width, frame.height) != (width, height):
            raise ValueError(
                f"frame {index}: expected an I420 frame of {width}x{height}, "
                f"got {frame.width}x{frame.height}"
            )
        return frame.data  # handed over by the engine: no copy
    expected = (height, width, 3)
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.shape != expected:
        raise ValueError(
            f"frame {index}: expected a uint8 array of shape {expected}, got {_describe(frame)}"
        )
    # OpenCV's I420 conversion (BT.601, limited range: the stream is tagged to match) is
    # several times faster than PyAV's RGB path, and it copies, so an engine may reuse its
    # buffer once the frame has been handed over.
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YUV_I420)


class _Stop:
    """Queue sentinel: no more frames (or audio packets)."""


class _Mp4Writer(threading.Thread):
    """The video encoder thread: owns the container from open to close.

    The sound is made and AAC-encoded by a thread of its own (:class:`_SoundEncoder`), and each
    frame is wrapped as an FFmpeg frame by the producer before it is queued: this thread only
    feeds x264 and muxes, so the encoder's own pace is not held back by work that can run beside it.

    Frames are wrapped, not copied: the I420 planes queued are the encoder's from then on (an
    engine's I420 frame is handed over; an RGB frame's are a new array from the conversion),
    and x264 copies each picture into its own buffers before ``encode`` returns.
    """

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        fps: int,
        make_pcm: Callable[[], Planar] | None,
        samples: int,
        preset: str,
        crf: int,
        threads: int,
    ) -> None:
        super().__init__(name="kinema-encode", daemon=True)
        self._time_base = Fraction(1, fps)
        self._queue: queue.Queue[Any] = queue.Queue(_QUEUE_DEPTH)
        self._aborted = threading.Event()
        self._error: BaseException | None = None
        # movie_timescale: the edit lists that trim AAC priming are written in the movie's time
        # scale; FFmpeg's default (1000) rounds the audio track's length to whole milliseconds.
        self._container: Any = av.open(
            str(path),
            "w",
            format="mp4",
            options={"movflags": "+faststart", "movie_timescale": str(AUDIO_SAMPLE_RATE)},
        )
        try:
            self._video = self._add_video(width, height, fps, preset, crf, threads)
            self._sound = None
            if make_pcm is not None:
                self._sound = _SoundEncoder(self._add_audio(), make_pcm, samples, self._aborted)
        except BaseException:
            self._container.close()
            raise

    def _add_video(
        self, width: int, height: int, fps: int, preset: str, crf: int, threads: int
    ) -> Any:
        stream = self._container.add_stream("libx264", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.time_base = self._time_base  # one tick per frame: constant rate, exact pts
        stream.options = {"preset": preset, "crf": str(crf)}
        stream.thread_type = "FRAME"
        stream.thread_count = threads
        # Tag what cv2's I420 conversion produces; untagged HD video is assumed BT.709.
        context = stream.codec_context
        context.colorspace = int(avr.Colorspace.SMPTE170M)
        context.color_primaries = int(avr.ColorPrimaries.SMPTE170M)
        context.color_trc = int(avr.ColorTrc.SMPTE170M)
        context.color_range = int(avr.ColorRange.MPEG)
        return stream

    def _add_audio(self) -> Any:
        stream = self._container.add_stream("aac", rate=AUDIO_SAMPLE_RATE)
        stream.layout = "stereo"
        stream.bit_rate = AUDIO_BIT_RATE
        # FFmpeg's default AAC search ("twoloop") cost as much CPU as rendering a 480p clip;
        # "fast" takes a third of that, and at 128 kb/s the difference is not audible.
        stream.options = {"aac_coder": "fast"}
        return stream

    # -- called from the producer's thread ------------------------------------------------

    def put(self, planes: np.ndarray[Any, Any]) -> None:
        """Queue one I420 frame, waiting while the queue is full; raise if the encoder failed."""
        frame = av.VideoFrame.from_numpy_buffer(planes, format="yuv420p")  # wrapped, not copied
        while True:
            self._raise_if_failed()
            try:
                self._queue.put(frame, timeout=0.05)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        """Flush the encoders, write the trailer and wait; raise the encoder's error if any."""
        while self.is_alive():
            with contextlib.suppress(queue.Full):
                self._queue.put(_Stop(), timeout=0.05)
                break
        self.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Stop as soon as possible, discarding queued frames; never raises."""
        self._aborted.set()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_Stop())  # wakes a thread waiting on an empty queue
        if self.is_alive():
            self.join()
        elif self.ident is None:  # never started: the container is still ours to close
            with contextlib.suppress(Exception):
                self._container.close()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error
        if not self.is_alive():
            raise RuntimeError("the encoder thread stopped unexpectedly")

    # -- the encoder thread ------------------------------------------------------------------

    def run(self) -> None:
        try:
            if self._sound is not None:
                self._sound.start()
            if self._encode_all():
                # Writes the trailer and the fast-start rewrite: a failure here (disk full)
                # must fail the encode, not leave a broken file to be renamed into place.
                self._container.close()
        except BaseException as exc:  # handed to the producer, which re-raises it
            self._error = exc
        finally:
            if self._sound is not None and self._sound.ident is not None:
                self._aborted.set()  # a no-op once the sound is done; stops it after an error
                self._sound.join()
            with contextlib.suppress(Exception):
                self._container.close()  # after an abort or error; closing twice is harmless

    def _encode_all(self) -> bool:
        """Encode queued frames until told to stop; False if aborted."""
        index = 0
        while True:
            item = self._queue.get()
            if self._aborted.is_set():
                return False
            if isinstance(item, _Stop):
                break
            item.pts = index
            item.time_base = self._time_base
            self._mux(self._video.encode(item))
            index += 1
            # Mux the sound as it comes; the muxer interleaves it with the video by time, so
            # the file plays progressively.
            if self._sound is not None:
                self._mux(self._sound.ready())
        self._mux(self._video.encode(None))
        if self._sound is not None:
            self._mux(self._sound.rest())
        return True

    def _mux(self, packets: Any) -> None:
        for packet in packets:
            self._container.mux(packet)


class _SoundEncoder(threading.Thread):
    """Makes the PCM (an engine's synthesis, when deferred) and AAC-encodes it, beside the
    video: the packets wait in a queue for the video thread, which alone touches the muxer."""

    def __init__(
        self,
        stream: Any,
        make_pcm: Callable[[], Planar],
        samples: int,
        aborted: threading.Event,
    ) -> None:
        super().__init__(name="kinema-encode-audio", daemon=True)
        self._stream = stream
        self._make_pcm = make_pcm
        self._samples = samples
        self._aborted = aborted
        self._packets: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            pcm = self._make_pcm()
            for start in range(0, self._samples, AAC_FRAME_SAMPLES):
                if self._aborted.is_set():
                    return
                chunk = pcm[:, start : start + AAC_FRAME_SAMPLES]  # only the last may be short
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(chunk), format="fltp", layout="stereo"
                )
                frame.sample_rate = AUDIO_SAMPLE_RATE
                frame.pts = start
                self._put(self._stream.encode(frame))
            self._put(self._stream.encode(None))
        except BaseException as exc:  # raised on the video thread
            self._error = exc
        finally:
            self._packets.put(_Stop())

    def _put(self, packets: Any) -> None:
        for packet in packets:
            self._packets.put(packet)

    def ready(self) -> list[Any]:
        """The packets encoded so far and not yet taken; raises the sound's error, if any."""
        packets: list[Any] = []
        while True:
            try:
                packet = self._packets.get_nowait()
            except queue.Empty:
                return packets
            if isinstance(packet, _Stop):  # the sound is done: nothing more will come
                self._raise_if_failed()
                return packets
            packets.append(packet)

    def rest(self) -> list[Any]:
        """Every remaining packet, waiting for the sound to finish."""
        self.join()
        packets = self.ready()
        self._raise_if_failed()
        return packets

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error


def _temporary_path(path: Path) -> Path:
    """A hidden sibling of ``path``: same directory, so the final rename is atomic."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")


def _close(iterator: Iterator[OutputFrame]) -> None:
    """Close a generator we stopped reading, so its own cleanup runs now."""
    close = getattr(iterator, "close", None)
    if callable(close):
        with contextlib.suppress(Exception):
            close()


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__
