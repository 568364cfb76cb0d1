"""Engines by name, imported only when first used (a worker never imports what it does not run).

The worker side (no torch) uses :func:`missing_extra` to refuse, at start-up, a model whose
engine's optional packages are not installed, and :func:`engine_settings` to pass the settings an
engine reads; the engine child uses :func:`load_engine`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

from kinema.config import Settings
from kinema.engines.base import Engine

ENGINE_NAMES = ("preview", "diffusers")

_EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "diffusers": ("diffusers", ("torch", "diffusers", "transformers", "accelerate", "ftfy")),
}
"""Engine → (the pip extra that installs what it needs, the modules that must be importable)."""


def missing_extra(engine: str) -> str | None:
    """One line saying what to install for ``engine``, or None when nothing is missing.

    Looks the modules up without importing them, so the worker stays free of torch.
    """
    if engine not in _EXTRAS:
        return None
    extra, modules = _EXTRAS[engine]
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return (f"the {engine} engine needs {', '.join(missing)}: "
            f"pip install 'kinema[{extra}]'")  # fmt: skip


def engine_settings(engine: str, settings: Settings) -> dict[str, Any]:
    """The settings ``engine`` reads, as a JSON-like dict for the engine child."""
    if engine != "diffusers":
        return {}
    return {
        "speed": {
            "dtype": settings.diffusers_dtype,
            "attention": settings.diffusers_attention,
            "compile": settings.diffusers_compile,
            "cache": settings.diffusers_cache,
            "cache_threshold": settings.diffusers_cache_threshold,
            "device": settings.diffusers_device,
            "cpu_threads": settings.diffusers_cpu_threads,
        }
    }


def load_engine(name: str, config: Mapping[str, Any] | None = None) -> Engine:
    """Create the engine called ``name`` for a model's ``config``; ValueError for an unknown name.

    Raises ImportError with the install line when the engine's extra is missing, and whatever
    the engine raises when its model cannot be loaded.
    """
    if name == "preview":
        from kinema.engines.preview import PreviewEngine

        return PreviewEngine()
    if name == "diffusers":
        problem = missing_extra(name)
        if problem is not None:
            raise ImportError(problem)
        from kinema.engines.diffusers.engine import DiffusersEngine

        return DiffusersEngine(config or {})
    raise ValueError(f"unknown engine {name!r}; known engines: {', '.join(ENGINE_NAMES)}")
