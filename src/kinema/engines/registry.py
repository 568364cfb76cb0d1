"""Engines by name, imported only when first used (a worker never imports what it does not run)."""

from __future__ import annotations

from kinema.engines.base import Engine

ENGINE_NAMES = ("preview",)


def load_engine(name: str) -> Engine:
    """Create the engine called ``name``; ValueError for an unknown name."""
    if name == "preview":
        from kinema.engines.preview import PreviewEngine

        return PreviewEngine()
    raise ValueError(f"unknown engine {name!r}; known engines: {', '.join(ENGINE_NAMES)}")
