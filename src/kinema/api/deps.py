"""What routes depend on: the services built once by ``create_app``, and the caller's account."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from kinema.api.views import Links
from kinema.artifacts.base import ArtifactStore
from kinema.artifacts.signing import UrlSigner
from kinema.config import Settings
from kinema.domain.catalog import Catalog
from kinema.domain.errors import AccessDenied, AuthenticationFailed, RateLimited
from kinema.domain.pricing import PriceList
from kinema.safety.images import ImageScreen
from kinema.safety.policy import PromptPolicy
from kinema.store.base import Account, ApiKeyRecord
from kinema.store.sql import SqlStore


@dataclass
class Services:
    """Everything a request may use; one instance per app, stored on ``app.state``."""

    settings: Settings
    store: SqlStore
    catalog: Catalog
    artifacts: ArtifactStore
    signer: UrlSigner
    prices: PriceList
    policy: PromptPolicy | None = None
    """Prompt screening (blocklist, classifier); None screens nothing."""
    image_screen: ImageScreen | None = None
    """Input image screening (``image_screen`` with ``input_image_screening``)."""


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


@dataclass(frozen=True)
class Caller:
    """Who is calling: the account and the key it used."""

    account: Account
    key: ApiKeyRecord

    def check_model(self, model: str) -> None:
        """403 unless this key may use ``model``."""
        if self.key.models is not None and model not in self.key.models:
            raise AccessDenied(
                f"this API key may not use {model}; it may use: {', '.join(self.key.models)}"
            )


async def current_caller(request: Request, services: ServicesDep) -> Caller:
    """The account behind the request's key; 401 when missing, unknown or revoked; 429 past the
    key's requests per minute."""
    key = api_key_from(request)
    if not key:
        raise AuthenticationFailed(
            "Invalid signature: missing API key (Authorization: Bearer sk-...)"
        )
    found = await run_in_threadpool(services.store.authenticate_request, key)
    if found is None:
        raise AuthenticationFailed("Invalid signature: the API key is not valid")
    account, key_record, count, window_left = found
    if key_record.revoked_at is not None:
        raise AuthenticationFailed("Invalid signature: the API key has been revoked")
    limit = account.rpm_limit or services.settings.default_rpm
    if count > limit:
        raise RateLimited(
            f"rate limit exceeded: at most {limit} requests per minute for this key",
            retry_after=max(1, math.ceil(window_left)),
        )
    return Caller(account, key_record)


CallerDep = Annotated[Caller, Depends(current_caller)]


async def current_account(caller: CallerDep) -> Account:
    return caller.account


AccountDep = Annotated[Account, Depends(current_account)]


def links_for(request: Request, services: Services) -> Links:
    """Link builder for this request: ``public_url`` if set, else the URL it came in on."""
    base = services.settings.public_url or str(request.base_url)
    return Links(
        base_url=base.rstrip("/"),
        signer=services.signer,
        output_ttl_seconds=services.settings.output_ttl_seconds,
    )
