"""Image screens for the tests, loaded by ``image_screen = "tests.safety.screens:..."``.

They flag a marker no real model would look for (an image that is mostly pure magenta), so a
test controls exactly which inputs and outputs are flagged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kinema.engines.base import Frame
from kinema.safety.images import ScreenVerdict

MAGENTA = (255, 0, 255)


class MagentaScreen:
    """Flags an image when most of its pixels are close to pure magenta."""

    def screen(self, images: Sequence[Frame]) -> list[ScreenVerdict]:
        verdicts = []
        for image in images:
            near = np.abs(image.astype(np.int16) - np.array(MAGENTA, dtype=np.int16)).max(axis=2)
            share = float((near < 40).mean())
            verdicts.append(ScreenVerdict(share > 0.5, "test-magenta" if share > 0.5 else None,
                                          share))  # fmt: skip
        return verdicts


class BrokenScreen:
    """A screen that fails on every call: screening must then fail closed."""

    def screen(self, images: Sequence[Frame]) -> list[ScreenVerdict]:
        raise RuntimeError("the screen's model is unavailable")


NOT_A_SCREEN = 42
