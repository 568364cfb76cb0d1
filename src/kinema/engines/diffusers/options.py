"""The diffusers engine's configuration, as it crosses the pipe (a JSON-like dict), typed.

Model keys come from the models file entry (``kinema.domain.models_file``); the ``speed`` table
from the worker's settings (``kinema.engines.registry.engine_settings``). No torch here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kinema.engines.diffusers.families import FAMILIES, Family

CACHE_METHODS = ("off", "first-block", "sea")
"""``first-block``: diffusers' First Block Cache; ``sea``: SeaCache, a TeaCache-style cache
(accumulated relative change of a cheap indicator; Wan text-to-video only)."""


@dataclass(frozen=True)
class Speed:
    """Speed options (settings). Those that change results are off by default."""

    dtype: str | None = None
    """Overrides every entry's dtype (e.g. ``bfloat16``)."""
    attention: str = "native"
    """diffusers attention backend; ``native`` is torch's SDPA (it picks flash/efficient/cuDNN)."""
    compile: bool = False
    """``torch.compile`` the transformer's repeated blocks."""
    cache: str = "off"
    cache_threshold: float | None = None
    """None: the cache method's own default (0.05 first-block, 0.25 sea)."""
    device: str | None = None
    """None: ``cuda`` when available, else ``cpu``."""
    cpu_threads: int | None = None
    """Torch threads when running on the CPU (None: torch's default, one per core)."""


@dataclass(frozen=True)
class DiffusersOptions:
    """One model entry's engine configuration, with family defaults filled in."""

    model: str
    family: Family
    weights: str
    steps: int
    guidance: float
    shift: float | None
    negative_prompt: str
    dtype: str
    cpu_offload: str
    vae_tiling: bool
    max_area: int
    max_frames: int
    pipeline_kwargs: dict[str, Any] = field(default_factory=dict)
    speed: Speed = field(default_factory=Speed)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DiffusersOptions:
        family = FAMILIES[config["family"]]

        def pick(key: str, default: Any) -> Any:
            value = config.get(key)
            return default if value is None else value

        speed = Speed(**dict(config.get("speed") or {}))
        return cls(
            model=str(config["model"]),
            family=family,
            weights=str(config["weights"]),
            steps=int(pick("steps", family.steps)),
            guidance=float(pick("guidance", family.guidance)),
            shift=None if config.get("shift") is None else float(config["shift"]),
            negative_prompt=str(pick("negative_prompt", family.negative_prompt)),
            dtype=speed.dtype or str(pick("dtype", "float32")),
            cpu_offload=str(pick("cpu_offload", "none")),
            vae_tiling=bool(pick("vae_tiling", False)),
            max_area=int(pick("max_area", family.max_area)),
            max_frames=int(pick("max_frames", family.max_frames)),
            pipeline_kwargs=dict(pick("pipeline_kwargs", {})),
            speed=speed,
        )
