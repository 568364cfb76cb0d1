"""The preview engine: the Engine protocol over the procedural renderers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from kinema.engines.base import (
    Audio,
    CancelCheck,
    Clip,
    OutputFrame,
    ProgressCallback,
    RenderCancelled,
    RenderSpec,
)
from kinema.engines.preview.audio import synthesize_ambience
from kinema.engines.preview.render import ImageToVideo, TextToVideo
from kinema.engines.preview.scene import choose_scene
from kinema.engines.preview.watermark import Watermark


class PreviewEngine:
    """Procedural stand-in for a video model: instant, deterministic, and needs no GPU."""

    name = "preview"

    def warm_up(self) -> None:
        """Compile the engine's kernels, or load them from numba's on-disk cache: a first render
        in a fresh process would otherwise spend that time (seconds when nothing is cached)."""
        # Small clips whose scenes take every drawing path: stamped lights and shapes, rain
        # added, snow laid over; the first is draft-sized for the half-size path of 480p.
        for prompt, width, height, draft in (
            ("boats on a river in the rain at night", 528, 304, True),
            ("snow falls in a forest", 32, 18, False),
        ):
            spec = RenderSpec(model="warm-up", prompt=prompt, width=width, height=height,
                              frame_count=2, fps=24, seed=0, draft=draft)  # fmt: skip
            for _ in self.render(spec, lambda _: None, lambda: False).frames:
                pass
            synthesize_ambience(choose_scene(spec), 4_800)  # the oscillators' kernel

    def render(self, spec: RenderSpec, progress: ProgressCallback, cancelled: CancelCheck) -> Clip:
        """Start rendering ``spec``; frames are produced lazily as the clip is read.

        The same spec always yields the same frames and audio. Raises ValueError at once for a
        spec the engine cannot honour (sizes, or a conditioning image of the wrong shape).
        """
        _check(spec)
        scene = choose_scene(spec)

        def make_renderer() -> TextToVideo | ImageToVideo:
            if spec.first_frame is not None:
                return ImageToVideo(spec, scene)
            return TextToVideo(spec, scene)

        def make_audio() -> Audio:
            return synthesize_ambience(scene, spec.audio_samples)

        watermark = Watermark(spec.width, spec.height) if spec.watermark else None
        # Both are made when first asked for, not here: the encoder makes the sound on its own
        # thread while this one paints the scene (the renderer's set-up) and the first frames.
        return Clip(
            frames=_frames(make_renderer, spec.frame_count, watermark, progress, cancelled),
            audio=make_audio if spec.generate_audio else None,
        )


def _frames(
    make_renderer: Callable[[], TextToVideo | ImageToVideo],
    frame_count: int,
    watermark: Watermark | None,
    progress: ProgressCallback,
    cancelled: CancelCheck,
) -> Iterator[OutputFrame]:
    renderer = make_renderer()
    for index in range(frame_count):
        if cancelled():
            raise RenderCancelled(f"cancelled at frame {index} of {frame_count}")
        frame = renderer.frame(index)
        if watermark is not None:
            watermark.apply(frame)
        progress((index + 1) / frame_count)
        yield frame


def _check(spec: RenderSpec) -> None:
    if spec.width < 2 or spec.height < 2:
        raise ValueError(f"video size too small: {spec.width}x{spec.height}")
    if spec.frame_count < 1 or spec.fps < 1:
        raise ValueError(f"need at least one frame at a positive fps, got {spec.frame_count}")
    if spec.last_frame is not None and spec.first_frame is None:
        raise ValueError("a last frame needs a first frame")
    expected = (spec.height, spec.width, 3)
    for role, image in (("first", spec.first_frame), ("last", spec.last_frame)):
        if image is not None and (image.shape != expected or image.dtype != np.uint8):
            raise ValueError(
                f"the {role} frame must be a uint8 array of shape {expected}, "
                f"got {image.dtype} {image.shape}"
            )
    for image in spec.reference_images:
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"reference images must be uint8 RGB, got {image.dtype} {image.shape}")
