"""``create_app(settings)``: the HTTP API, built from one Settings object (no import-time state)."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from kinema import __version__
from kinema.api.deps import Services
from kinema.api.errors import install_error_handlers
from kinema.api.limits import HeaderLimit
from kinema.api.routes import account, admin, ark, files, gptproto, health, models
from kinema.api.schemas.openapi import install_openapi
from kinema.api.views import Links, ark_task
from kinema.artifacts.local import LocalArtifacts
from kinema.artifacts.signing import UrlSigner
from kinema.config import Settings
from kinema.domain.models_file import load_catalog
from kinema.domain.pricing import PriceList
from kinema.safety.images import load_image_screen
from kinema.safety.policy import Blocklist, PromptPolicy, TextClassifier
from kinema.store.base import Task
from kinema.store.sql import SqlStore
from kinema.store.transitions import CallbackRenderer

URL_SIGNING_SECRET = "url_signing_secret"

log = logging.getLogger(__name__)


def build_services(settings: Settings, *, screening: bool = True) -> Services:
    """Open the store (migrating it) and everything else a request needs. ``screening=False``
    (a worker process) leaves out the prompt policy and the input image screen, so that a
    supervisor never loads a screen's model (or torch)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore(settings.database_url)
    signer = UrlSigner(store.get_or_create_meta(URL_SIGNING_SECRET, secrets.token_urlsafe(48)))
    store.render_callback = callback_renderer(settings, signer)
    catalog = load_catalog(settings.models_file)
    return Services(
        settings=settings,
        store=store,
        catalog=catalog,
        prices=PriceList.load(settings.prices_file, catalog),
        artifacts=LocalArtifacts(settings.artifacts_dir),
        signer=signer,
        policy=prompt_policy(settings) if screening else None,
        image_screen=load_image_screen(settings.image_screen)
        if screening and settings.input_image_screening
        else None,
    )


def prompt_policy(settings: Settings) -> PromptPolicy:
    """The blocklist and classifier the settings ask for; the classifier is not loaded yet."""
    blocklist = Blocklist.load(
        settings.blocklist_file, settings.blocklist_add, settings.blocklist_remove
    )
    classifier: TextClassifier | None = None
    if settings.prompt_classifier == "minilm":
        from kinema.safety.classifier import INSTALL_HINT, MiniLmClassifier, classifier_installed

        if not classifier_installed():
            raise RuntimeError(f"prompt_classifier=minilm needs the model package: {INSTALL_HINT}")
        classifier = MiniLmClassifier(blocklist.examples(), settings.classifier_threshold)
    return PromptPolicy(blocklist if settings.prompt_blocklist else None, classifier)


def _warm_classifier(classifier: TextClassifier) -> None:
    # In the background: the API answers at once, and the first screened prompt waits for the
    # load only if it comes in the first seconds.
    def load() -> None:
        try:
            classifier.warm()
        except Exception:
            log.exception("the prompt classifier could not be loaded")

    threading.Thread(target=load, name="classifier-warm", daemon=True).start()


def callback_renderer(settings: Settings, signer: UrlSigner) -> CallbackRenderer:
    """Callbacks carry the Ark task object, with links on the base URL the task came in on."""

    def render(task: Task) -> dict[str, Any]:
        base = settings.public_url or task.base_url or "http://127.0.0.1"
        return ark_task(task, Links(base.rstrip("/"), signer, settings.output_ttl_seconds))

    return render


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """The Kinema API. ``services`` may be given by tests that share a store with workers."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if services is None:
            app.state.services.store.close()

    app = FastAPI(
        title="Kinema",
        version=__version__,
        description=(
            "Self-hosted Seedance-compatible video generation (GPTProto and Ark formats). "
            "The default preview engine is procedural, not a neural network."
        ),
        lifespan=lifespan,
    )
    app.state.services = services or build_services(settings)
    policy = app.state.services.policy
    if policy is not None and policy.classifier is not None:
        _warm_classifier(policy.classifier)
    install_error_handlers(app)
    app.add_middleware(HeaderLimit, max_bytes=settings.max_header_bytes)
    app.include_router(health.router)
    # Ark's fixed paths first: /api/v3/contents/generations/tasks would otherwise match
    # GPTProto's /api/v3/{vendor}/{model}/{mode}.
    app.include_router(ark.router)
    app.include_router(account.router)
    app.include_router(models.router)  # Kinema extension: GET /api/v3/models
    app.include_router(gptproto.router)
    app.include_router(admin.router)
    app.include_router(files.router)
    install_openapi(app, [model.id for model in app.state.services.catalog.models])
    return app
