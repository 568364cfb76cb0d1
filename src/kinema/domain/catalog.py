"""The model catalog: which models exist, what each accepts, and the contract's frame sizes.

Every Seedance id of API.md §4 is listed with its capabilities. Validation of a request against a
model (``kinema.domain.request``) reads only what is here, so an operator's own model (a later
models file) needs nothing but a new :class:`ModelSpec`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kinema.domain.errors import ModelNotFound

FPS = 24
RATIOS = ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
RESOLUTIONS = ("480p", "720p", "1080p")


class Mode(StrEnum):
    """How a task is conditioned; derived from the route (GPTProto) or the content (Ark)."""

    TEXT = "text"
    FIRST_FRAME = "first_frame"
    FIRST_LAST_FRAME = "first_last_frame"
    REFERENCE = "reference"

    @property
    def label(self) -> str:
        return _MODE_LABELS[self]


_MODE_LABELS = {
    Mode.TEXT: "text-to-video",
    Mode.FIRST_FRAME: "image-to-video (first frame)",
    Mode.FIRST_LAST_FRAME: "image-to-video (first and last frame)",
    Mode.REFERENCE: "reference-to-video",
}


class SizeFamily(StrEnum):
    """Which row of the contract's size table a model uses."""

    V1_0 = "1.0"
    V1_5 = "1.5/2.0"


# API.md §4, width × height; the seed's 1080p sizes hold for every family.
_SIZES: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("480p", SizeFamily.V1_0): {
        "16:9": (864, 480), "4:3": (736, 544), "1:1": (640, 640),
        "3:4": (544, 736), "9:16": (480, 864), "21:9": (960, 416),
    },
    ("480p", SizeFamily.V1_5): {
        "16:9": (864, 496), "4:3": (752, 560), "1:1": (640, 640),
        "3:4": (560, 752), "9:16": (496, 864), "21:9": (992, 432),
    },
    ("720p", SizeFamily.V1_0): {
        "16:9": (1248, 704), "4:3": (1120, 832), "1:1": (960, 960),
        "3:4": (832, 1120), "9:16": (704, 1248), "21:9": (1504, 640),
    },
    ("720p", SizeFamily.V1_5): {
        "16:9": (1280, 720), "4:3": (1112, 834), "1:1": (960, 960),
        "3:4": (834, 1112), "9:16": (720, 1280), "21:9": (1470, 630),
    },
}  # fmt: skip
_SIZES_1080P = {
    "16:9": (1920, 1088), "4:3": (1664, 1248), "1:1": (1440, 1440),
    "3:4": (1248, 1664), "9:16": (1088, 1920), "21:9": (2176, 928),
}  # fmt: skip


def frame_size(family: SizeFamily, resolution: str, ratio: str) -> tuple[int, int]:
    """Width and height for a concrete (not ``adaptive``) ratio, per the contract's table."""
    if resolution == "1080p":
        return _SIZES_1080P[ratio]
    return _SIZES[(resolution, family)][ratio]


def closest_ratio(width: int, height: int) -> str:
    """The contract ratio nearest to an image's shape (used for ``adaptive``)."""

    def distance(ratio: str) -> float:
        w, h = (int(part) for part in ratio.split(":"))
        return abs((w / h) - (width / height))

    return min(RATIOS, key=distance)


@dataclass(frozen=True)
class ModelSpec:
    """One catalog entry: a model id, the engine that serves it, and what it accepts."""

    id: str
    engine: str
    display_name: str
    size_family: SizeFamily
    modes: frozenset[Mode]
    resolutions: tuple[str, ...]
    default_resolution: str
    durations: tuple[int, int]
    """Inclusive range of seconds."""
    auto_duration: bool = False
    """Whether ``duration = -1`` (the model chooses) is accepted."""
    frames: bool = False
    """Whether the ``frames`` field (25 + 4n in 29..289) is accepted."""
    audio: bool = False
    camera_fixed: bool = True
    adaptive_ratio: frozenset[Mode] = field(default_factory=frozenset)
    """The modes in which ``adaptive`` is an allowed ratio."""
    draft: bool = False
    max_reference_images: int = 0
    max_reference_videos: int = 0
    max_reference_audios: int = 0
    reference_resolutions: tuple[str, ...] | None = None
    """Resolutions allowed with reference images, where narrower than ``resolutions``."""
    camera_fixed_with_references: bool = True
    aliases: tuple[str, ...] = ()
    ratios: tuple[str, ...] = RATIOS
    """The concrete ratios accepted (``adaptive`` is governed by ``adaptive_ratio``)."""
    engine_config: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """What the engine needs to serve this model (a diffusers entry's family, weights, ...);
    JSON-like, sent to the engine child with every task. Empty for the preview engine."""

    @property
    def default_duration(self) -> int:
        return 5

    def resolutions_for(self, mode: Mode) -> tuple[str, ...]:
        if mode is Mode.REFERENCE and self.reference_resolutions is not None:
            return self.reference_resolutions
        return self.resolutions

    def ratios_for(self, mode: Mode) -> tuple[str, ...]:
        return (*self.ratios, "adaptive") if mode in self.adaptive_ratio else self.ratios

    def supports_camera_fixed(self, mode: Mode) -> bool:
        if mode is Mode.REFERENCE:
            return self.camera_fixed and self.camera_fixed_with_references
        return self.camera_fixed


_ALL_RES = ("480p", "720p", "1080p")
_IMAGE_MODES = frozenset({Mode.FIRST_FRAME, Mode.FIRST_LAST_FRAME})
_T2V_I2V = frozenset({Mode.TEXT, Mode.FIRST_FRAME, Mode.FIRST_LAST_FRAME})
_EVERY_MODE = frozenset(Mode)


def _seedance(model_id: str, **kwargs: object) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        engine="preview",
        aliases=(f"doubao-{model_id}", f"dreamina-{model_id}"),
        **kwargs,  # type: ignore[arg-type]
    )


SEEDANCE_MODELS: tuple[ModelSpec, ...] = (
    _seedance(
        "seedance-1-0-lite-t2v-250428", display_name="Seedance 1.0 lite (text-to-video)",
        size_family=SizeFamily.V1_0, modes=frozenset({Mode.TEXT}), resolutions=_ALL_RES,
        default_resolution="720p", durations=(2, 12), frames=True,
    ),
    _seedance(
        "seedance-1-0-lite-i2v-250428", display_name="Seedance 1.0 lite (image-to-video)",
        size_family=SizeFamily.V1_0,
        modes=frozenset({Mode.FIRST_FRAME, Mode.FIRST_LAST_FRAME, Mode.REFERENCE}),
        resolutions=_ALL_RES, reference_resolutions=("480p", "720p"), default_resolution="720p",
        durations=(2, 12), frames=True, adaptive_ratio=_IMAGE_MODES, max_reference_images=4,
        camera_fixed_with_references=False,
    ),
    _seedance(
        "seedance-1-0-pro-250528", display_name="Seedance 1.0 pro",
        size_family=SizeFamily.V1_0, modes=_T2V_I2V, resolutions=_ALL_RES,
        default_resolution="1080p", durations=(2, 12), frames=True, adaptive_ratio=_IMAGE_MODES,
    ),
    _seedance(
        "seedance-1-0-pro-fast-251015", display_name="Seedance 1.0 pro fast",
        size_family=SizeFamily.V1_0, modes=frozenset({Mode.TEXT, Mode.FIRST_FRAME}),
        resolutions=_ALL_RES, default_resolution="1080p", durations=(2, 12), frames=True,
        adaptive_ratio=frozenset({Mode.FIRST_FRAME}),
    ),
    _seedance(
        "seedance-1-5-pro-251215", display_name="Seedance 1.5 pro",
        size_family=SizeFamily.V1_5, modes=_T2V_I2V, resolutions=_ALL_RES,
        default_resolution="720p", durations=(4, 12), auto_duration=True, audio=True,
        adaptive_ratio=_T2V_I2V, draft=True,
    ),
    _seedance(
        "seedance-2-0-260128", display_name="Seedance 2.0",
        size_family=SizeFamily.V1_5, modes=_EVERY_MODE, resolutions=_ALL_RES,
        default_resolution="720p", durations=(4, 15), auto_duration=True, audio=True,
        camera_fixed=False, adaptive_ratio=_EVERY_MODE, max_reference_images=9,
        max_reference_videos=3, max_reference_audios=3,
    ),
    _seedance(
        "seedance-2-0-fast-260128", display_name="Seedance 2.0 fast",
        size_family=SizeFamily.V1_5, modes=_EVERY_MODE, resolutions=("480p", "720p"),
        default_resolution="720p", durations=(4, 15), auto_duration=True, audio=True,
        camera_fixed=False, adaptive_ratio=_EVERY_MODE, max_reference_images=9,
        max_reference_videos=3, max_reference_audios=3,
    ),
)  # fmt: skip


class Catalog:
    """Looks models up by id or alias. Built once at start-up and shared."""

    def __init__(self, models: tuple[ModelSpec, ...] = SEEDANCE_MODELS) -> None:
        self.models = models
        self._by_name: dict[str, ModelSpec] = {}
        for model in models:
            for name in (model.id, *model.aliases):
                self._by_name[name.lower()] = model

    def get(self, name: str) -> ModelSpec:
        """The model called ``name`` (id or alias, any case); :class:`ModelNotFound` otherwise."""
        model = self._by_name.get(name.strip().lower())
        if model is None:
            raise ModelNotFound(name, [m.id for m in self.models])
        return model

    def canonical(self, name: str) -> str | None:
        """The canonical id for ``name``, or None when unknown (for list filters)."""
        model = self._by_name.get(name.strip().lower())
        return model.id if model else None
