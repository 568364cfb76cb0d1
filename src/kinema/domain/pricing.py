"""Prices: per model and resolution, per second of video, from an operator's TOML file.

```toml
[seedance-1-0-lite-t2v-250428]
480p = 0.02        # per second of video
720p = 0.04
audio = 0.005      # optional surcharge per second when audio is generated
```

Amounts are exact decimals (TOML floats are read as ``Decimal``); ``service_tier = "flex"`` costs
half. A model with no table is free.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from kinema.domain.catalog import FPS, RESOLUTIONS, Catalog
from kinema.domain.errors import ModelNotFound
from kinema.domain.request import GenerationRequest

MONEY_PLACES = Decimal("0.000001")
FLEX_FACTOR = Decimal("0.5")


class PriceFileError(ValueError):
    """The prices file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class ModelPrice:
    per_second: dict[str, Decimal]
    """Resolution → price per second of video."""
    audio_per_second: Decimal = Decimal(0)


@dataclass(frozen=True)
class PriceList:
    models: dict[str, ModelPrice] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None, catalog: Catalog) -> PriceList:
        """Read and check a prices file; no file means everything is free."""
        if path is None:
            return cls()
        try:
            data = tomllib.loads(path.read_text(), parse_float=Decimal)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise PriceFileError(f"{path}: {exc}") from None
        models: dict[str, ModelPrice] = {}
        for name, table in data.items():
            try:
                model_id = catalog.get(name).id
            except ModelNotFound:
                raise PriceFileError(f"{path}: [{name}] is not a model in the catalog") from None
            if not isinstance(table, dict):
                raise PriceFileError(f"{path}: [{name}] must be a table of prices")
            models[model_id] = _model_price(path, name, table)
        return cls(models)

    def price(self, request: GenerationRequest) -> Decimal:
        """What ``request`` costs: seconds × (resolution price + audio surcharge), flex halved."""
        entry = self.models.get(request.model)
        if entry is None:
            return Decimal(0)
        per_second = entry.per_second.get(request.resolution, Decimal(0))
        if request.generate_audio:
            per_second += entry.audio_per_second
        amount = video_seconds(request) * per_second
        if request.service_tier == "flex":
            amount *= FLEX_FACTOR
        return amount.quantize(MONEY_PLACES)

    def to_json(self) -> dict[str, dict[str, str]]:
        return {
            model: {
                **{res: str(value) for res, value in price.per_second.items()},
                **({"audio": str(price.audio_per_second)} if price.audio_per_second else {}),
            }
            for model, price in self.models.items()
        }


def video_seconds(request: GenerationRequest) -> Decimal:
    """Seconds of video a request makes: ``duration``, or ``(frames - 1) / 24``."""
    if request.duration is not None:
        return Decimal(request.duration)
    return (Decimal(request.frame_count - 1) / FPS).quantize(MONEY_PLACES)


def _model_price(path: Path, name: str, table: dict[str, object]) -> ModelPrice:
    per_second: dict[str, Decimal] = {}
    audio = Decimal(0)
    for key, value in table.items():
        if not isinstance(value, Decimal | int) or isinstance(value, bool) or value < 0:
            raise PriceFileError(f"{path}: [{name}] {key} must be a non-negative number")
        amount = Decimal(value)
        if key == "audio":
            audio = amount
        elif key in RESOLUTIONS:
            per_second[key] = amount
        else:
            allowed = ", ".join((*RESOLUTIONS, "audio"))
            raise PriceFileError(f"{path}: [{name}] unknown key {key!r}; allowed: {allowed}")
    return ModelPrice(per_second, audio)
