"""The engine child process: loads engines once, renders and encodes one task at a time.

It is started with the ``spawn`` context so that the worker (the supervisor) never imports an
engine's heavy libraries, and can always kill and replace the child — on cancel timeout, a crash
or a hang — without harming itself.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path

from kinema.domain.request import GenerationRequest, MediaInput
from kinema.engines.base import Engine, Frame, RenderCancelled, RenderSpec
from kinema.engines.registry import load_engine
from kinema.media.encode import encode_mp4, write_png
from kinema.media.image import cover_resize, decode_image
from kinema.safety.images import (
    FrameSampler,
    ImageScreen,
    OutputVerdict,
    judge_output,
    load_image_screen,
    sample_indices,
)
from kinema.worker.events import Cancel, Done, Failed, Generate, Progress, Ready

log = logging.getLogger(__name__)

_PROGRESS_EVERY_SECONDS = 0.2


def child_main(conn: Connection, warm_preview: bool = True) -> None:
    """Entry point of the child: answer Generate events until the pipe closes.

    ``warm_preview``: whether to get the preview engine ready before the first task, which is
    worth it only where the worker claims preview models (not on a diffusers-only GPU host).
    """
    engines = _Engines()
    screens = _Screens()
    conn.send(Ready())
    # The embedded default's engine gets ready before the first task arrives (it waits in the
    # pipe meanwhile): a task should not pay for loading its compiled kernels.
    if warm_preview:
        _warm_up(engines)
    while True:
        try:
            event = conn.recv()
        except (EOFError, OSError):
            return
        if isinstance(event, Generate):
            conn.send(_generate(event, conn, engines, screens))
        # A Cancel arriving between tasks refers to one already finished: nothing to do.


def _warm_up(engines: _Engines) -> None:
    from kinema.engines.preview import PreviewEngine  # here: the worker itself never needs it

    try:
        engine = engines.get("preview", {})
        if isinstance(engine, PreviewEngine):
            engine.warm_up()
    except Exception:  # a task will meet the problem again and fail with it
        log.warning("warming up the preview engine failed:\n%s", traceback.format_exc())


def _generate(
    event: Generate, conn: Connection, engines: _Engines, screens: _Screens
) -> Done | Failed:
    out_dir = Path(event.out_dir)
    try:
        engine = engines.get(event.engine, event.engine_config)
    except Exception as exc:
        # Missing weights or packages: the task fails saying why; the child lives on.
        log.error("loading the %s engine failed:\n%s", event.engine, traceback.format_exc())
        model = event.engine_config.get("model", event.engine)
        return Failed(event.task_id, "InternalServiceError", f"{model} could not be loaded: {exc}")
    try:
        screen = screens.get(event.image_screen)
    except Exception as exc:
        # Fail closed: an output the operator wants screened is never delivered unscreened.
        log.error("loading the image screen failed:\n%s", traceback.format_exc())
        return Failed(event.task_id, "InternalServiceError", f"the output screen failed: {exc}")
    try:
        request = GenerationRequest.from_json(event.request)
        spec = _render_spec(request, event.inputs)
        watcher = _Watcher(conn, event.task_id)
        clip = engine.render(spec, watcher.progress, watcher.cancelled)
        out_dir.mkdir(parents=True, exist_ok=True)
        video = out_dir / "video.mp4"
        samples = event.screen_frames if screen is not None else 0
        sampler = FrameSampler(clip.frames, sample_indices(spec.frame_count, samples))
        result = encode_mp4(
            video,
            iter(sampler),
            width=spec.width,
            height=spec.height,
            fps=spec.fps,
            frame_count=spec.frame_count,
            audio=clip.audio,
            preset=event.encoder_preset,
            crf=event.encoder_crf,
        )
        last_frame = None
        if request.return_last_frame:
            last_frame = out_dir / "last_frame.png"
            write_png(last_frame, result.last_frame)
        verdict = None
        if screen is not None:
            verdict = judge_output(screen, sampler.kept, result.last_frame)
        return _done(event, video, last_frame, result.frame_count, result.bytes, verdict)
    except RenderCancelled:
        return Failed(event.task_id, "Cancelled", "the task was cancelled", cancelled=True)
    except Exception as exc:
        log.error("render of %s failed:\n%s", event.task_id, traceback.format_exc())
        return Failed(event.task_id, "InternalServiceError", f"engine error: {exc}")


def _done(
    event: Generate,
    video: Path,
    last_frame: Path | None,
    frame_count: int,
    video_bytes: int,
    verdict: OutputVerdict | None,
) -> Done:
    flagged = verdict is not None and verdict.video.flagged
    return Done(
        event.task_id,
        str(video),
        str(last_frame) if last_frame else None,
        frame_count,
        video_bytes,
        video_flagged=flagged,
        last_frame_flagged=verdict is not None and verdict.last_frame.flagged,
        flag_category=verdict.video.category if verdict is not None and flagged else None,
    )


def _render_spec(request: GenerationRequest, inputs: dict[str, str]) -> RenderSpec:
    def image(item: MediaInput) -> Frame:
        assert item.key is not None
        return decode_image(Path(inputs[item.key]).read_bytes())

    first = last = None
    references: list[Frame] = []
    for item in request.media:
        if item.kind != "image":
            continue
        if item.role == "first_frame":
            first = cover_resize(image(item), request.width, request.height)
        elif item.role == "last_frame":
            last = cover_resize(image(item), request.width, request.height)
        else:
            references.append(image(item))
    return RenderSpec(
        model=request.model,
        prompt=request.prompt,
        width=request.width,
        height=request.height,
        frame_count=request.frame_count,
        fps=request.fps,
        seed=request.seed,
        camera_fixed=request.camera_fixed,
        generate_audio=request.generate_audio,
        draft=request.draft,
        watermark=request.watermark,
        first_frame=first,
        last_frame=last,
        reference_images=tuple(references),
    )


class _Engines:
    """The engines loaded in this child: one per engine name, kept across tasks and replaced
    (its ``close`` called first, to free GPU memory) when a task needs another model."""

    def __init__(self) -> None:
        self._loaded: dict[str, tuple[str, Engine]] = {}

    def get(self, name: str, config: dict[str, object]) -> Engine:
        key = json.dumps(config, sort_keys=True, default=str)
        held = self._loaded.get(name)
        if held is not None and held[0] == key:
            return held[1]
        if held is not None:
            del self._loaded[name]
            close = getattr(held[1], "close", None)
            if close is not None:
                close()
        engine = load_engine(name, config)
        self._loaded[name] = (key, engine)
        return engine


class _Screens:
    """The output screen, loaded once in this child and kept across tasks."""

    def __init__(self) -> None:
        self._loaded: dict[str, ImageScreen | None] = {}

    def get(self, spec: str | None) -> ImageScreen | None:
        if not spec:
            return None
        if spec not in self._loaded:
            self._loaded[spec] = load_image_screen(spec)
        return self._loaded[spec]


class _Watcher:
    """Progress reporting (throttled) and cancel checks over the pipe, for one task."""

    def __init__(self, conn: Connection, task_id: str) -> None:
        self.conn = conn
        self.task_id = task_id
        self._cancelled = False
        self._last_sent = 0.0

    def progress(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self._last_sent >= _PROGRESS_EVERY_SECONDS:
            self._last_sent = now
            self.conn.send(Progress(self.task_id, min(max(fraction, 0.0), 1.0)))

    def cancelled(self) -> bool:
        while not self._cancelled and self.conn.poll():
            event = self.conn.recv()
            if isinstance(event, Cancel) and event.task_id == self.task_id:
                self._cancelled = True
        return self._cancelled
