"""Loading a pipeline from a local weights folder, once, with the memory and speed options.

Runs in the engine child only (it imports torch and diffusers). Loading is always
``from_pretrained(folder, local_files_only=True)``: a weights folder is never completed from a
hub, and a missing or broken one fails here with one line that says what is wrong.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import diffusers
import torch

from kinema.engines.diffusers.options import DiffusersOptions, Speed
from kinema.engines.diffusers.weights import weights_problem

log = logging.getLogger(__name__)


class PipelineLoadError(Exception):
    """The weights could not be loaded; the message says why, in one line."""


@dataclass
class LoadedModel:
    """A loaded pipeline and the pipelines for the other modes, sharing its weights."""

    options: DiffusersOptions
    device: torch.device
    pipelines: dict[str, Any]
    """Mode value (``text``, ``first_frame``, ``first_last_frame``) → pipeline."""
    _offloaded: Any = field(default=None, repr=False)

    def pipeline(self, mode: str) -> Any:
        """The pipeline for ``mode``, with CPU offload hooks moved onto it when enabled."""
        pipe = self.pipelines[mode]
        offload = self.options.cpu_offload
        if offload != "none" and self.device.type != "cpu" and pipe is not self._offloaded:
            # Offload hooks belong to one pipeline object; the mode pipelines share modules,
            # so the hooks are re-registered on whichever pipeline runs next.
            if offload == "sequential":
                pipe.enable_sequential_cpu_offload(device=self.device)
            else:
                pipe.enable_model_cpu_offload(device=self.device)
            self._offloaded = pipe
        return pipe

    def reset_cache(self) -> None:
        """Forget cache-acceleration state: each run starts alike (same seed, same video)."""
        transformer = self.pipelines[next(iter(self.pipelines))].transformer
        if getattr(transformer, "is_cache_enabled", False):
            transformer._reset_stateful_cache()


def load_model(options: DiffusersOptions) -> LoadedModel:
    """Load ``options.weights`` as its family's pipeline; PipelineLoadError on any failure."""
    family = options.family
    folder = Path(options.weights)
    problem = weights_problem(folder, family)
    if problem is not None:
        raise PipelineLoadError(problem)
    device = torch.device(options.speed.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cpu" and options.speed.cpu_threads:
        # Small models on a shared CPU run far faster without OpenMP threads contending.
        torch.set_num_threads(options.speed.cpu_threads)
    dtype = getattr(torch, options.dtype)
    # Wan's VAE and CLIP image encoder lose quality in half precision: keep them in float32.
    dtypes: Any = dtype
    if family.float32_vae and dtype != torch.float32:
        dtypes = {"default": dtype, "vae": torch.float32, "image_encoder": torch.float32}
    try:
        main = getattr(diffusers, family.load_class).from_pretrained(
            str(folder), dtype=dtypes, local_files_only=True
        )
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise PipelineLoadError(f"loading {folder} failed: {first_line}") from exc
    main.set_progress_bar_config(disable=True)
    if options.shift is not None:
        main.scheduler = _shifted(main.scheduler, options.shift)
    if options.vae_tiling:
        main.vae.enable_tiling()
    apply_speed(main.transformer, options.speed)
    pipelines: dict[str, Any] = {}
    by_class: dict[str, Any] = {family.load_class: main}
    for mode, class_name in (("text", family.text_class), ("first_frame", family.first_frame_class),
                             ("first_last_frame", family.first_last_class)):  # fmt: skip
        if class_name is None:
            continue
        if class_name not in by_class:
            derived = getattr(diffusers, class_name).from_pipe(main, **_overrides(class_name, main))
            derived.set_progress_bar_config(disable=True)
            by_class[class_name] = derived
        pipelines[mode] = by_class[class_name]
    if family.name == "wan2.1-i2v":
        # An I2V checkpoint conditions on one image, an FLF2V checkpoint on exactly two.
        two_images = main.transformer.config.get("pos_embed_seq_len") is not None
        del pipelines["first_frame" if two_images else "first_last_frame"]
    if options.cpu_offload == "none" or device.type == "cpu":
        main.to(device)
    log.info("loaded %s (%s) from %s on %s", options.model, family.name, folder, device)
    return LoadedModel(options, device, pipelines)


def _overrides(class_name: str, main: Any) -> dict[str, Any]:
    """Components a derived pipeline needs changed (the rest are shared, not copied)."""
    config = main.scheduler.config
    if class_name == "LTXConditionPipeline" and config.get("use_dynamic_shifting"):
        # The condition pipeline passes its own timesteps and cannot use dynamic shifting,
        # which LTX-Video 0.9.0/0.9.1 schedulers have on.
        return {"scheduler": type(main.scheduler).from_config(config, use_dynamic_shifting=False)}
    return {}


def _shifted(scheduler: Any, shift: float) -> Any:
    """The same scheduler with another flow shift (UniPC calls it flow_shift, Euler shift)."""
    key = "flow_shift" if "flow_shift" in scheduler.config else "shift"
    return type(scheduler).from_config(scheduler.config, **{key: shift})


def apply_speed(transformer: Any, speed: Speed) -> None:
    """Apply the speed settings to a transformer (also used by ``bench/diffusers_gpu.py``)."""
    if speed.attention != "native":
        transformer.set_attention_backend(speed.attention)
    if speed.cache == "first-block":
        from diffusers import FirstBlockCacheConfig

        threshold = 0.05 if speed.cache_threshold is None else speed.cache_threshold
        transformer.enable_cache(FirstBlockCacheConfig(threshold=threshold))
    elif speed.cache == "sea":
        from diffusers import SeaCacheConfig

        threshold = 0.25 if speed.cache_threshold is None else speed.cache_threshold
        transformer.enable_cache(SeaCacheConfig(threshold=threshold))
    if speed.compile:
        # Regional compilation: the repeated blocks compile once and are reused, so start-up
        # costs seconds rather than minutes. Cache hooks wrap the blocks: no full graph then.
        transformer.compile_repeated_blocks(fullgraph=speed.cache == "off")
