"""The preview engine: a procedural video generator, not a neural network.

It paints a scene chosen from the prompt's words (sky, sea, city, space, forest, fire, or an
abstract fallback), moves soft shapes through it under a virtual camera, and synthesises an
ambient sound bed; for image-to-video it animates the given first frame (and dissolves into the
last). Output is deterministic for a given request and renders far faster than real time on a
CPU, so the whole service, its API, queue, encoding and storage, can be run and tested end to
end without a GPU or model weights.
"""

from __future__ import annotations

from kinema.engines.preview.engine import PreviewEngine

__all__ = ["PreviewEngine"]
