"""The operator's API under ``/admin/``: accounts, keys, money, prices and usage.

Protected by the ``admin_token`` setting (``Authorization: Bearer <token>``); without a token set,
every ``/admin/`` path answers 404, as if it did not exist.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from kinema.api.account_views import account_json, key_json, summary_json, usage_json
from kinema.api.body import json_object
from kinema.api.deps import ServicesDep, api_key_from
from kinema.domain.errors import AuthenticationFailed, InvalidParameter, NotFound
from kinema.domain.keys import new_api_key
from kinema.store.base import Account

LIMIT_FIELDS = ("rpm_limit", "max_queued", "max_running")


async def require_admin(request: Request, services: ServicesDep) -> None:
    token = services.settings.admin_token
    if not token:
        raise NotFound("Not Found")
    given = api_key_from(request) or ""
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise AuthenticationFailed("admin token required: Authorization: Bearer <admin_token>")


router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


async def _account(services: ServicesDep, account_id: str) -> Account:
    account = await run_in_threadpool(services.store.get_account, account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    return account


def parse_amount(value: Any, param: str = "amount") -> Decimal:
    """An exact decimal from a JSON number or string; floats are read by their text."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidParameter(param, f'{param} must be a decimal number, e.g. "10.50"')
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidParameter(param, f"{param} must be a decimal number, got {value!r}") from None
    if not amount.is_finite():
        raise InvalidParameter(param, f"{param} must be a finite number")
    return amount


def parse_since(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise InvalidParameter("since", "since must be a date like 2026-11-24") from None


@router.get("/prices")
async def prices(services: ServicesDep) -> dict[str, Any]:
    """The prices in force, per model: resolution → price per second, and ``audio``."""
    return {"prices": services.prices.to_json(), "flex_factor": "0.5"}


@router.get("/accounts")
async def list_accounts(services: ServicesDep) -> dict[str, Any]:
    accounts = await run_in_threadpool(services.store.list_accounts)
    return {"items": [account_json(account) for account in accounts]}


@router.post("/accounts")
async def create_account(request: Request, services: ServicesDep) -> dict[str, Any]:
    body = await json_object(request, services.settings.max_body_bytes)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameter("name", "name is required: a non-empty string")
    balance = parse_amount(body.get("balance", 0), "balance")
    try:
        account = await run_in_threadpool(services.store.create_account, name.strip(), balance)
    except ValueError as exc:
        raise InvalidParameter("name", str(exc)) from None
    return account_json(account)


@router.get("/accounts/{account_id}")
async def show_account(account_id: str, services: ServicesDep) -> dict[str, Any]:
    """Balance, money held for unfinished tasks, limits and recent movements."""
    await _account(services, account_id)
    summary = await run_in_threadpool(services.store.summary, account_id)
    assert summary is not None
    return summary_json(summary)


@router.patch("/accounts/{account_id}")
async def set_limits(account_id: str, request: Request, services: ServicesDep) -> dict[str, Any]:
    """Set ``rpm_limit``, ``max_queued``, ``max_running`` (``null``: the default)."""
    await _account(services, account_id)
    body = await json_object(request, services.settings.max_body_bytes)
    limits: dict[str, int | None] = {}
    for name in LIMIT_FIELDS:
        if name in body:
            value = body[name]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):  # fmt: skip
                raise InvalidParameter(name, f"{name} must be a positive integer or null")
            limits[name] = value
    account = await run_in_threadpool(lambda: services.store.set_limits(account_id, **limits))
    return account_json(account)


@router.post("/accounts/{account_id}/topup")
async def topup(
    account_id: str,
    request: Request,
    services: ServicesDep,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Add money (a negative amount corrects a mistake). ``Idempotency-Key`` makes a retried
    top-up count once."""
    await _account(services, account_id)
    body = await json_object(request, services.settings.max_body_bytes)
    amount = parse_amount(body.get("amount"))
    key = f"topup:{account_id}:{idempotency_key}" if idempotency_key else None
    account = await run_in_threadpool(services.store.topup, account_id, amount, key)
    return account_json(account)


@router.get("/accounts/{account_id}/keys")
async def list_keys(account_id: str, services: ServicesDep) -> dict[str, Any]:
    await _account(services, account_id)
    keys = await run_in_threadpool(services.store.list_keys, account_id)
    return {"items": [key_json(key) for key in keys]}


@router.post("/accounts/{account_id}/keys")
async def create_key(account_id: str, request: Request, services: ServicesDep) -> dict[str, Any]:
    """A new key (shown only in this answer), optionally restricted to ``models``."""
    await _account(services, account_id)
    body = await json_object(request, services.settings.max_body_bytes)
    models = body.get("models")
    if models is not None:
        if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
            raise InvalidParameter("models", "models must be a list of model ids")
        models = [services.catalog.get(m).id for m in models]
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidParameter("name", "name must be a string")
    key = new_api_key()
    record = await run_in_threadpool(services.store.add_api_key, account_id, key, name, models)
    return {**key_json(record), "key": key}


@router.post("/keys/{prefix}/revoke")
async def revoke_key(prefix: str, services: ServicesDep) -> dict[str, Any]:
    revoked = await run_in_threadpool(services.store.revoke_keys, prefix)
    if not revoked:
        raise NotFound(f"no live key with prefix {prefix}")
    return {"revoked": [key_json(key) for key in revoked]}


@router.get("/usage")
async def usage(
    services: ServicesDep, account: str | None = None, since: str | None = None
) -> dict[str, Any]:
    """Succeeded tasks, seconds of video, tokens and money per account, model and day."""
    rows = await run_in_threadpool(services.store.usage, account, parse_since(since))
    return {"items": usage_json(rows)}
