"""``GET /api/v3/models``: the server's model catalog (a Kinema extension, not in API.md §2 or §3).

Clients list what a server offers without knowing its models file (``kinema models --remote``).
Like every ``/api/v3`` route it needs an API key; it answers the whole catalog, in the shape of
OpenAI's and Ark's model lists (``{"object": "list", "data": [...]}``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kinema.api.deps import AccountDep, ServicesDep
from kinema.domain.catalog import Mode, ModelSpec

router = APIRouter(tags=["models"])

_MODE_ORDER = tuple(Mode)


def model_json(spec: ModelSpec) -> dict[str, Any]:
    """One catalog entry: what a client needs to choose a model and its parameters."""
    low, high = spec.durations
    return {
        "id": spec.id,
        "object": "model",
        "display_name": spec.display_name,
        "engine": spec.engine,
        "modes": [mode.value for mode in _MODE_ORDER if mode in spec.modes],
        "resolutions": list(spec.resolutions),
        "default_resolution": spec.default_resolution,
        "durations": [low, high],
        "auto_duration": spec.auto_duration,
        "audio": spec.audio,
        "aliases": list(spec.aliases),
    }


@router.get("/api/v3/models")
async def list_models(services: ServicesDep, account: AccountDep) -> dict[str, Any]:
    """Every model this server serves, in catalog order (Kinema extension)."""
    return {"object": "list", "data": [model_json(spec) for spec in services.catalog.models]}
