"""Liveness/readiness: 200 once the app has started and its database answers."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from kinema.api.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(services: ServicesDep) -> dict[str, str]:
    await run_in_threadpool(services.store.now)
    return {"status": "ok"}
