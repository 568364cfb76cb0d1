"""What routes depend on: the services built once by ``create_app``, and the caller's account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from kinema.api.views import Links
from kinema.artifacts.base import ArtifactStore
from kinema.artifacts.signing import UrlSigner
from kinema.config import Settings
from kinema.domain.catalog import Catalog
from kinema.domain.errors import AccessDenied, AuthenticationFailed
from kinema.store.base import Account
from kinema.store.sql import SqlStore


@dataclass
class Services:
    """Everything a request may use; one instance per app, stored on ``app.state``."""

    settings: Settings
    store: SqlStore
    catalog: Catalog
    artifacts: ArtifactStore
    signer: UrlSigner


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def api_key_from(request: Request) -> str | None:
    """The key from ``Authorization: Bearer sk-...`` or the bare ``Authorization: sk-...``."""
    header = request.headers.get("authorization", "").strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    return header if " " not in header else None


async def current_account(request: Request, services: ServicesDep) -> Account:
    """The account behind the request's API key; 401 when missing or unknown, 403 if revoked."""
    key = api_key_from(request)
    if not key:
        raise AuthenticationFailed(
            "Invalid signature: missing API key (Authorization: Bearer sk-...)"
        )
    found = await run_in_threadpool(services.store.authenticate, key)
    if found is None:
        raise AuthenticationFailed("Invalid signature: the API key is not valid")
    account, key_record = found
    if key_record.revoked_at is not None:
        raise AccessDenied("this API key has been revoked")
    return account


AccountDep = Annotated[Account, Depends(current_account)]


def links_for(request: Request, services: Services) -> Links:
    """Link builder for this request: ``public_url`` if set, else the URL it came in on."""
    base = services.settings.public_url or str(request.base_url)
    return Links(
        base_url=base.rstrip("/"),
        signer=services.signer,
        output_ttl_seconds=services.settings.output_ttl_seconds,
    )
