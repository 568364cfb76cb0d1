"""The diffusers engine: one open-weight model, loaded once, rendering contract-exact clips.

The model generates on its native grid (:mod:`grid`); the clip is mapped to the contract's
width × height, frame count and 24 fps on the way out. Seeds drive a CPU generator, so a seed
gives the same video on any device with the same settings. The denoising loop reports progress
every step and stops at the first step after a cancel.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from PIL import Image

from kinema.engines.base import (
    CancelCheck,
    Clip,
    Frame,
    ProgressCallback,
    RenderCancelled,
    RenderSpec,
)
from kinema.engines.diffusers.grid import NativeGrid, native_frames, native_size, to_contract
from kinema.engines.diffusers.loading import LoadedModel, load_model
from kinema.engines.diffusers.options import DiffusersOptions
from kinema.engines.preview.watermark import Watermark
from kinema.media.image import cover_resize

log = logging.getLogger(__name__)

_DENOISE_SHARE = 0.9
"""Share of the progress bar given to the denoising steps (the rest: text, VAE decode)."""
_CAMERA_FIXED_HINT = " Static camera, fixed shot."


class DiffusersEngine:
    """Serves one models-file entry (and any Seedance ids it serves) with its pipeline."""

    name = "diffusers"

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.options = DiffusersOptions.from_config(config)
        self.model: LoadedModel | None = load_model(self.options)

    def close(self) -> None:
        """Free the model (and the GPU memory it held) before another is loaded."""
        self.model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def native_grid(self, spec: RenderSpec) -> NativeGrid:
        """What the model generates for ``spec`` (before mapping to the contract)."""
        options, family = self.options, self.options.family
        width, height = native_size(spec.width, spec.height, family.multiple, options.max_area)
        frames = native_frames(spec.frame_count, spec.fps, family.fps, family.frame_step,
                               options.max_frames)  # fmt: skip
        return NativeGrid(width, height, frames, family.fps)

    def render(self, spec: RenderSpec, progress: ProgressCallback, cancelled: CancelCheck) -> Clip:
        """Denoise and decode now (progress per step); frames are mapped as they are read."""
        if self.model is None:
            raise RuntimeError("the engine was closed")
        mode = _mode(spec)
        if mode not in self.model.pipelines:
            can = ", ".join(m.replace("_", " ") for m in self.model.pipelines)
            raise ValueError(f"{self.options.model}'s weights cannot do {mode.replace('_', ' ')}"
                             f" (they do: {can}); fix the entry's modes")  # fmt: skip
        if cancelled():
            raise RenderCancelled("cancelled before the model started")
        grid = self.native_grid(spec)
        video = self._generate(spec, mode, grid, progress, cancelled)
        watermark = Watermark(spec.width, spec.height) if spec.watermark else None
        return Clip(frames=_frames(video, spec, watermark, progress), audio=None)

    def _generate(
        self,
        spec: RenderSpec,
        mode: str,
        grid: NativeGrid,
        progress: ProgressCallback,
        cancelled: CancelCheck,
    ) -> npt.NDArray[np.uint8]:
        assert self.model is not None
        options = self.options
        pipe = self.model.pipeline(mode)
        self.model.reset_cache()
        steps = options.steps

        def on_step_end(
            _pipe: Any, step: int, _timestep: Any, kwargs: dict[str, Any]
        ) -> dict[str, Any]:
            progress(_DENOISE_SHARE * (step + 1) / steps)
            if cancelled():
                # Raising leaves the pipeline at once: no further step and no VAE decode.
                raise RenderCancelled(f"cancelled after step {step + 1} of {steps}")
            return kwargs

        prompt = spec.prompt + (_CAMERA_FIXED_HINT if spec.camera_fixed else "")
        arguments: dict[str, Any] = {
            "prompt": prompt,
            "negative_prompt": options.negative_prompt or None,
            "width": grid.width,
            "height": grid.height,
            "num_frames": grid.frames,
            "num_inference_steps": steps,
            "guidance_scale": options.guidance,
            # A CPU generator draws the same noise on every device: a seed is a video.
            "generator": torch.Generator(device="cpu").manual_seed(spec.seed),
            "output_type": "pt",
            "max_sequence_length": options.family.max_sequence_length,
            "callback_on_step_end": on_step_end,
            **_conditioning(spec, mode, grid, options),
            **options.pipeline_kwargs,
        }
        log.info("%s: %dx%d, %d frames at %d fps, %d steps (contract %dx%d, %d frames)",
                 options.model, grid.width, grid.height, grid.frames, grid.fps, steps,
                 spec.width, spec.height, spec.frame_count)  # fmt: skip
        with torch.inference_mode():
            frames = pipe(**arguments).frames[0]  # (frames, 3, height, width) in [0, 1]
            video = (frames.permute(0, 2, 3, 1) * 255).round().clamp(0, 255).to(torch.uint8)
        return np.ascontiguousarray(video.cpu().numpy())


def _mode(spec: RenderSpec) -> str:
    if spec.reference_images:
        raise ValueError("reference images are not supported by the diffusers engine")
    if spec.first_frame is None:
        return "text"
    return "first_frame" if spec.last_frame is None else "first_last_frame"


def _conditioning(
    spec: RenderSpec, mode: str, grid: NativeGrid, options: DiffusersOptions
) -> dict[str, Any]:
    """Family-specific arguments: the frame rate (LTX) and the images, at the native size."""
    if options.family.name == "ltx-video":
        # LTX conditions on the frame rate (its timing embedding); the others have none.
        extra: dict[str, Any] = {"frame_rate": grid.fps}
    else:
        extra = {}
    if mode == "text":
        return extra
    return {**extra, **_images(spec, mode, grid, options)}


def _images(
    spec: RenderSpec, mode: str, grid: NativeGrid, options: DiffusersOptions
) -> dict[str, Any]:
    def native(frame: Frame | None) -> Image.Image:
        assert frame is not None
        return Image.fromarray(cover_resize(frame, grid.width, grid.height))

    first = native(spec.first_frame)
    if options.family.name == "ltx-video":
        if mode == "first_frame":
            return {"image": first}
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        last = native(spec.last_frame)
        return {
            "conditions": [
                LTXVideoCondition(image=first, frame_index=0),
                LTXVideoCondition(image=last, frame_index=grid.frames - 1),
            ]
        }
    if mode == "first_frame":
        return {"image": first}
    return {"image": first, "last_image": native(spec.last_frame)}


def _frames(
    video: npt.NDArray[np.uint8],
    spec: RenderSpec,
    watermark: Watermark | None,
    progress: ProgressCallback,
) -> Iterator[Frame]:
    for index, frame in enumerate(to_contract(video, spec.width, spec.height, spec.frame_count)):
        if watermark is not None:
            watermark.apply(frame)
        progress(_DENOISE_SHARE + (1 - _DENOISE_SHARE) * (index + 1) / spec.frame_count)
        yield frame
