"""The models file: an operator's own catalog entries (open-weight engines), in TOML.

```toml
[[models]]
id = "wan2.1-t2v-1.3b"
engine = "diffusers"
family = "wan2.1-t2v"
weights = "/models/Wan2.1-T2V-1.3B-Diffusers"
serves = ["seedance-1-0-lite-t2v-250428"]   # optional: Seedance ids this entry renders
steps = 30                                  # optional: the family's default otherwise
```

An entry adds a model id with its capabilities (defaults from the family) and may *serve*
Seedance ids: those keep the contract's capabilities (sizes, durations, 24 fps) and change only
their engine, less any mode or audio the entry cannot do. Every error names the file, the entry
and the key. Nothing here imports torch.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kinema.domain.catalog import RATIOS, RESOLUTIONS, SEEDANCE_MODELS, Catalog, Mode, ModelSpec
from kinema.domain.catalog import SizeFamily as _SizeFamily
from kinema.engines.diffusers.families import FAMILIES, Family

ENGINES = ("diffusers", "preview")
DTYPES = ("float32", "bfloat16", "float16")
CPU_OFFLOAD = ("none", "model", "sequential")
_COMMON_KEYS = ("id", "engine", "display_name", "aliases", "serves", "modes", "resolutions",
                "default_resolution", "ratios", "size_family", "durations", "frames", "audio",
                "camera_fixed")  # fmt: skip
_DIFFUSERS_KEYS = ("family", "weights", "steps", "guidance", "shift", "negative_prompt",
                   "dtype", "cpu_offload", "vae_tiling", "max_area", "max_frames",
                   "pipeline_kwargs")  # fmt: skip


class ModelsFileError(ValueError):
    """The models file is malformed; the message names the file, the entry and the key."""


@dataclass(frozen=True)
class ModelEntry:
    """One ``[[models]]`` entry, checked: the catalog entry it adds and what it serves."""

    spec: ModelSpec
    serves: tuple[str, ...]
    """Canonical Seedance ids this entry renders."""
    weights: Path | None
    """The local weights folder (diffusers entries), resolved against the file's folder."""


def load_catalog(path: Path | None) -> Catalog:
    """The catalog: the Seedance models, changed and extended by the models file (if any)."""
    return build_catalog(load_models_file(path) if path is not None else ())


def build_catalog(entries: tuple[ModelEntry, ...]) -> Catalog:
    served = {seedance_id: entry for entry in entries for seedance_id in entry.serves}
    models = tuple(
        _served(model, served[model.id]) if model.id in served else model
        for model in SEEDANCE_MODELS
    )
    return Catalog(models + tuple(entry.spec for entry in entries))


def load_models_file(path: Path) -> tuple[ModelEntry, ...]:
    """Read and check a models file; ModelsFileError naming the key on any mistake."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ModelsFileError(f"{path}: {exc}") from None
    unknown = sorted(set(data) - {"models"})
    if unknown:
        raise ModelsFileError(f"{path}: unknown top-level key {unknown[0]!r}; use [[models]]")
    tables = data.get("models", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ModelsFileError(f"{path}: 'models' must be an array of tables ([[models]])")
    entries: list[ModelEntry] = []
    taken = {name.lower(): model.id for model in SEEDANCE_MODELS
             for name in (model.id, *model.aliases)}  # fmt: skip
    served: dict[str, str] = {}
    for index, table in enumerate(tables, start=1):
        entry = _Entry(path, index, table).parse()
        for name in (entry.spec.id, *entry.spec.aliases):
            if name.lower() in taken:
                raise ModelsFileError(
                    f"{path}: model {index} ({entry.spec.id!r}): the name {name!r} is already "
                    f"taken by {taken[name.lower()]!r}; to render a Seedance id, list it in serves"
                )
            taken[name.lower()] = entry.spec.id
        for seedance_id in entry.serves:
            if seedance_id in served:
                raise ModelsFileError(
                    f"{path}: model {index} ({entry.spec.id!r}): {seedance_id} is already "
                    f"served by {served[seedance_id]!r}"
                )
            served[seedance_id] = entry.spec.id
        entries.append(entry)
    return tuple(entries)


def _served(seedance: ModelSpec, entry: ModelEntry) -> ModelSpec:
    """A Seedance id rendered by ``entry``: the contract's sizes and lengths, the entry's engine."""
    modes = seedance.modes & entry.spec.modes
    return replace(
        seedance,
        engine=entry.spec.engine,
        modes=modes,
        adaptive_ratio=seedance.adaptive_ratio & modes,
        # A model without audio ignores generate_audio, as the 1.0 models do.
        audio=seedance.audio and entry.spec.audio,
        # The entry's own config: a worker serving both names keeps one pipeline loaded.
        engine_config=entry.spec.engine_config,
    )


class _Entry:
    """One pass over one ``[[models]]`` table."""

    def __init__(self, path: Path, index: int, table: dict[str, Any]) -> None:
        self.path = path
        self.index = index
        self.table = table
        self.label = f"model {index}"

    def error(self, key: str, message: str) -> ModelsFileError:
        return ModelsFileError(f"{self.path}: {self.label} key {key!r}: {message}")

    def parse(self) -> ModelEntry:
        model_id = self.string("id", required=True)
        self.label = f"model {self.index} ({model_id!r})"
        engine = self.choice("engine", ENGINES, required=True)
        known = _COMMON_KEYS + (_DIFFUSERS_KEYS if engine == "diffusers" else ())
        for key in self.table:
            if key not in known:
                raise self.error(key, f"unknown key for engine {engine!r}; known: "
                                      f"{', '.join(known)}")  # fmt: skip
        family = FAMILIES[self.choice("family", tuple(FAMILIES), required=True)] if (
            engine == "diffusers") else None  # fmt: skip
        modes = self.modes(family)
        resolutions = self.strings("resolutions", RESOLUTIONS) or ("480p", "720p")
        default_resolution = self.choice("default_resolution", resolutions) or resolutions[0]
        ratios = self.strings("ratios", RATIOS) or RATIOS
        if "16:9" not in ratios:
            raise self.error("ratios", "must include 16:9 (the default for text-to-video)")
        high = family.max_seconds if family else 12
        durations = self.durations(default=(min(2, high), high))
        audio = bool(self.value("audio", bool, False))
        if audio and engine == "diffusers":
            raise self.error("audio", "no diffusers family here generates audio")
        spec = ModelSpec(
            id=model_id,
            engine=engine,
            display_name=self.string("display_name") or model_id,
            size_family=_SizeFamily(self.choice("size_family", tuple(_SizeFamily)) or "1.0"),
            modes=modes,
            resolutions=resolutions,
            default_resolution=default_resolution,
            durations=durations,
            frames=bool(self.value("frames", bool, False)),
            audio=audio,
            camera_fixed=bool(self.value("camera_fixed", bool, True)),
            adaptive_ratio=modes - {Mode.TEXT},
            aliases=self.strings("aliases") or (),
            ratios=ratios,
            engine_config=self.diffusers(model_id, family) if family else {},
        )
        serves = tuple(self.seedance_id(name) for name in self.strings("serves") or ())
        weights = Path(spec.engine_config["weights"]) if family else None
        return ModelEntry(spec=spec, serves=serves, weights=weights)

    def modes(self, family: Family | None) -> frozenset[Mode]:
        possible = family.modes if family else tuple(m.value for m in Mode if m != Mode.REFERENCE)
        given = self.strings("modes", possible)
        if given is not None and not given:
            raise self.error("modes", "must list at least one mode")
        default = (family.default_modes if family else None) or possible
        return frozenset(Mode(mode) for mode in (given or default))

    def durations(self, default: tuple[int, int]) -> tuple[int, int]:
        value = self.table.get("durations")
        if value is None:
            return default
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        ):
            raise self.error("durations", f"must be [low, high] in whole seconds, got {value!r}")
        low, high = value
        # Requests without a duration get 5 seconds, so 5 must be allowed.
        if not 1 <= low <= 5 <= high <= 15:
            raise self.error("durations", f"must satisfy 1 <= low <= 5 <= high <= 15, got {value}")
        return low, high

    def diffusers(self, model_id: str, family: Family) -> dict[str, Any]:
        weights = Path(self.string("weights", required=True)).expanduser()
        if not weights.is_absolute():
            weights = (self.path.parent / weights).resolve()
        kwargs = self.value("pipeline_kwargs", dict, {})
        return {
            "model": model_id,
            "family": family.name,
            "weights": str(weights),
            "steps": self.number("steps", int, 1, 1000),
            "guidance": self.number("guidance", float, 0.0, 50.0),
            "shift": self.number("shift", float, 0.01, 100.0),
            "negative_prompt": self.string("negative_prompt", empty_ok=True),
            "dtype": self.choice("dtype", DTYPES) or "float32",
            "cpu_offload": self.cpu_offload(),
            "vae_tiling": bool(self.value("vae_tiling", bool, False)),
            "max_area": self.number("max_area", int, 64 * 64, 4096 * 4096),
            "max_frames": self.number("max_frames", int, family.frame_step + 1, 1025),
            "pipeline_kwargs": kwargs,
        }

    def cpu_offload(self) -> str:
        value = self.table.get("cpu_offload", "none")
        if isinstance(value, bool):
            return "model" if value else "none"
        if value not in CPU_OFFLOAD:
            raise self.error("cpu_offload", f"must be true, false or one of {CPU_OFFLOAD}")
        return str(value)

    def seedance_id(self, name: str) -> str:
        for model in SEEDANCE_MODELS:
            if name.lower() in (n.lower() for n in (model.id, *model.aliases)):
                return model.id
        ids = ", ".join(m.id for m in SEEDANCE_MODELS)
        raise self.error("serves", f"{name!r} is not a Seedance model id; known: {ids}")

    # -- typed readers -----------------------------------------------------------------------

    def value(self, key: str, kind: type, default: Any) -> Any:
        value = self.table.get(key, default)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise self.error(key, f"must be a {_KIND_NAMES.get(kind, kind.__name__)}, "
                                  f"got {value!r}")  # fmt: skip
        return value

    def string(self, key: str, *, required: bool = False, empty_ok: bool = False) -> Any:
        if key not in self.table:
            if required:
                raise self.error(key, "is required")
            return None
        value = self.value(key, str, None)
        if not value and not empty_ok:
            raise self.error(key, "must not be empty")
        return value

    def choice(self, key: str, allowed: tuple[str, ...], *, required: bool = False) -> Any:
        value = self.string(key, required=required)
        if value is not None and value not in allowed:
            raise self.error(key, f"must be one of {', '.join(allowed)}; got {value!r}")
        return value

    def strings(self, key: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...] | None:
        value = self.table.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, f"must be a list of strings, got {value!r}")
        for item in value:
            if allowed is not None and item not in allowed:
                raise self.error(key, f"{item!r} is not one of {', '.join(allowed)}")
        return tuple(dict.fromkeys(value))

    def number(self, key: str, kind: type, low: float, high: float) -> Any:
        if key not in self.table:
            return None
        value = self.table[key]
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if kind is int:
            ok = ok and isinstance(value, int)
        if not ok or not low <= value <= high:
            what = "an integer" if kind is int else "a number"
            raise self.error(key, f"must be {what} from {low:g} to {high:g}, got {value!r}")
        return kind(value)


_KIND_NAMES = {bool: "boolean (true or false)", str: "string", dict: "table"}
