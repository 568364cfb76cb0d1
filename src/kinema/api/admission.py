"""Admitting a submission, the same for both dialects: validate, fetch inputs, store the task.

The data's road (ARCHITECTURE.md): request → ``GenerationRequest`` → task row. Inputs are fetched
and checked here, at submit time, so a bad image is a 400 to the caller rather than a failed task
later, and ``adaptive`` is resolved to a concrete ratio before the task is stored.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import string
import time
from dataclasses import replace
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool

from kinema.api.deps import Caller, Services
from kinema.artifacts.base import input_key, inputs_prefix
from kinema.domain.catalog import closest_ratio
from kinema.domain.errors import ContentPolicyViolation, InputImageSensitive, InvalidParameter
from kinema.domain.pricing import video_seconds
from kinema.domain.request import GenerationRequest, MediaInput, Submission, parse_request
from kinema.media.image import decode_image, encode_png
from kinema.safety.fetch import FetchError, FetchLimits, fetch_media
from kinema.store.base import NewTask, Task

log = logging.getLogger(__name__)
_ID_ALPHABET = string.ascii_lowercase + string.digits
MAX_IDEMPOTENCY_KEY = 200
_SYNC_POLL_SECONDS = 0.1


def new_task_id() -> str:
    """``cgt-<UTC yyyymmddHHMMSS>-<5 random chars>``, the shape Seedance ids have."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(5))
    return f"cgt-{stamp}-{suffix}"


async def admit(
    services: Services,
    caller: Caller,
    submission: Submission,
    idempotency_key: str | None,
    base_url: str | None = None,
) -> Task:
    """Validate and store a submission; returns the (new or, for a repeated key, earlier) task."""
    if idempotency_key is not None and len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidParameter(
            "Idempotency-Key", f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY} characters"
        )
    request = parse_request(services.catalog, submission)
    caller.check_model(request.model)
    account = caller.account
    await _screen_prompt(services, account.id, request)
    store = services.store
    if idempotency_key:
        earlier = await run_in_threadpool(
            store.find_by_idempotency_key, account.id, idempotency_key
        )
        if earlier is not None:
            return earlier
    task_id = new_task_id()
    request = await _fetch_inputs(services, task_id, request)
    model = services.catalog.get(request.model)
    new = NewTask(
        id=task_id,
        account_id=account.id,
        request=request,
        engine=model.engine,
        max_attempts=services.settings.max_attempts,
        idempotency_key=idempotency_key or None,
        base_url=base_url,
        price=services.prices.price(request),
        video_seconds=video_seconds(request),
    )
    settings = services.settings
    try:
        task, created = await run_in_threadpool(
            store.create_task,
            new,
            settings.max_queued_per_account,
            settings.default_max_running,
            settings.running_limit == "reject",
        )
    except BaseException:
        # Refused (a queue or running limit, the balance): no task will ever read the inputs.
        await _forget_inputs(services, task_id, request)
        raise
    if not created:  # a concurrent submission with the same Idempotency-Key was stored first
        await _forget_inputs(services, task_id, request)
    return task


async def _forget_inputs(services: Services, task_id: str, request: GenerationRequest) -> None:
    """Delete the inputs fetched for ``task_id`` when no task of that id was stored."""
    if request.media:
        await run_in_threadpool(services.artifacts.delete_prefix, inputs_prefix(task_id))


async def _screen_prompt(services: Services, account_id: str, request: GenerationRequest) -> None:
    """400 ``content_policy_violation`` before anything is stored or charged."""
    policy = services.policy
    if policy is None or not request.prompt:
        return
    if policy.classifier is None:
        violation = policy.check(request.prompt)  # the blocklist alone takes microseconds
    else:
        violation = await run_in_threadpool(policy.check, request.prompt)
    if violation is not None:
        # The category for the operator; never the prompt, which may be anything.
        log.info("refused a prompt of account %s: %s (%s: %s)", account_id,
                 violation.category, violation.source, violation.detail)  # fmt: skip
        raise ContentPolicyViolation(violation.category, violation.source)


async def _fetch_inputs(
    services: Services, task_id: str, request: GenerationRequest
) -> GenerationRequest:
    if not request.media:
        return request
    settings = services.settings
    limits = FetchLimits(
        max_bytes=settings.max_input_bytes,
        timeout_seconds=settings.fetch_timeout_seconds,
        allow_private=settings.allow_private_urls,
    )
    results = await asyncio.gather(
        *(_fetch_one(services, task_id, index, item, limits)
          for index, item in enumerate(request.media))
    )  # fmt: skip
    # Stored only once every input passed: a refused submission leaves nothing behind.
    for item, data, _size in results:
        assert item.key is not None
        await run_in_threadpool(services.artifacts.put_bytes, item.key, data)
    media = tuple(item for item, _data, _size in results)
    request = request.with_media(media)
    if request.adaptive:
        shape = next(size for _item, _data, size in results if size is not None)
        request = request.with_ratio(closest_ratio(*shape), services.catalog)
    return request


async def _fetch_one(
    services: Services, task_id: str, index: int, item: MediaInput, limits: FetchLimits
) -> tuple[MediaInput, bytes, tuple[int, int] | None]:
    """Fetch and check one input; returns it with its key, the bytes to store under that key,
    and an image's (w, h)."""
    try:
        fetched = await fetch_media(item.url, limits)
    except FetchError as exc:
        raise InvalidParameter(item.param, f"{item.param}: {exc}") from None
    if item.kind != "image":
        key = input_key(task_id, f"{index}-{item.role}.bin")
        return replace(item, key=key), fetched.data, None
    try:
        image = await run_in_threadpool(decode_image, fetched.data)
    except ValueError as exc:
        raise InvalidParameter(item.param, f"{item.param}: {exc}") from None
    screen = services.image_screen
    if screen is not None:
        (verdict,) = await run_in_threadpool(screen.screen, [image])
        if verdict.flagged:
            log.info("refused input image %s of task %s: %s", item.param, task_id,
                     verdict.category or "flagged")  # fmt: skip
            raise InputImageSensitive(verdict.category or "image", "image_screen", item.param)
    key = input_key(task_id, f"{index}-{item.role}.png")
    png = await run_in_threadpool(encode_png, image)
    height, width = image.shape[:2]
    return replace(item, key=key), png, (width, height)


async def wait_until_terminal(services: Services, task: Task) -> Task:
    """Hold a sync-mode submit open until the task ends or the server's limit passes."""
    deadline = time.monotonic() + services.settings.sync_mode_timeout_seconds
    while not task.status.terminal and time.monotonic() < deadline:
        await asyncio.sleep(_SYNC_POLL_SECONDS)
        latest = await run_in_threadpool(services.store.get_task, task.id)
        if latest is None:
            break
        task = latest
    return task
