"""The preview engine: a procedural video generator, not a neural network.

It reads the prompt with a small vocabulary (:mod:`.vocabulary`: sky, sea, city, space, forest,
fire, room or an abstract fallback; time of day; rain, snow, fog or storm; subjects such as a
kite, boats, birds or a walking figure; colour words) and camera language (:mod:`.camera`: pan,
tilt, zoom, dolly, orbit, speeds, ``[Slow pan]``), paints the scene (:mod:`.backdrop`), moves its
elements (:mod:`.particles`, :mod:`.weather`) and the reference images (:mod:`.references`)
under a virtual camera (:mod:`.render`), and synthesises an ambient sound bed (:mod:`.audio`).
Image-to-video animates the given first frame (and dissolves into the last). Output is
deterministic for a given request and renders far faster than real time on a CPU, so the whole
service, its API, queue, encoding and storage, can be run and tested end to end without a GPU
or model weights.
"""

from __future__ import annotations

from kinema.engines.preview.engine import PreviewEngine

__all__ = ["PreviewEngine"]
