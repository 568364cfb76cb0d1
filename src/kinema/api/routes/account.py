"""``GET /api/v3/account``: an account reads its own balance, limits and usage (Kinema extra)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from kinema.api.account_views import summary_json, usage_json
from kinema.api.deps import AccountDep, ServicesDep

router = APIRouter(tags=["account"])


@router.get("/api/v3/account")
async def my_account(account: AccountDep, services: ServicesDep) -> dict[str, Any]:
    summary = await run_in_threadpool(services.store.summary, account.id)
    rows = await run_in_threadpool(services.store.usage, account.id, None)
    assert summary is not None
    body = summary_json(summary)
    body["limits"] = {
        "rpm": account.rpm_limit or services.settings.default_rpm,
        "max_queued": account.max_queued or services.settings.max_queued_per_account,
        "max_running": account.max_running or services.settings.default_max_running,
    }
    body["usage"] = usage_json(rows)
    return body
