"""The GPTProto format (API.md §2): submit per vendor/model/mode, and the predictions result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool

from kinema.api.admission import admit, wait_until_terminal
from kinema.api.body import json_object
from kinema.api.deps import AccountDep, CallerDep, ServicesDep, links_for
from kinema.api.lookup import owned_task, queue_position
from kinema.api.submission import GPTPROTO_MODES, gptproto_submission
from kinema.api.views import gptproto_data, gptproto_envelope
from kinema.domain.errors import InvalidParameter, InvalidState, NotFound, TaskNotFound
from kinema.domain.task import TaskStatus
from kinema.store.base import Task

router = APIRouter(tags=["gptproto"])

VENDORS = ("bytedance", "doubao")


async def _view(request: Request, services: ServicesDep, task: Task) -> dict[str, object]:
    position = await queue_position(services, task)
    data = gptproto_data(task, links_for(request, services), services.settings, position)
    return gptproto_envelope(data)


@router.get("/api/v3/predictions/{task_id}/result")
async def result(
    task_id: str, request: Request, services: ServicesDep, account: AccountDep
) -> dict[str, object]:
    """A task's current state, in the GPTProto envelope."""
    return await _view(request, services, await owned_task(services, account, task_id))


@router.post("/api/v3/predictions/{task_id}/cancel")
async def cancel(
    task_id: str, request: Request, services: ServicesDep, account: AccountDep
) -> dict[str, object]:
    """Cancel a task (a Kinema extension): a queued task at once, a running one as soon as its
    engine stops (between frames or steps); the answer shows the task as it then is."""
    task = await run_in_threadpool(services.store.request_cancel, task_id, account.id)
    if task is None:
        raise TaskNotFound(task_id)
    if task.status.terminal and task.status is not TaskStatus.CANCELLED:
        raise InvalidState(f"task {task_id} has already finished ({task.status.value})")
    return await _view(request, services, task)


# Last: its path pattern would also match /api/v3/predictions/{id}/cancel.
@router.post("/api/v3/{vendor}/{model}/{mode}")
async def submit(
    vendor: str,
    model: str,
    mode: str,
    request: Request,
    services: ServicesDep,
    caller: CallerDep,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> dict[str, object]:
    """Submit a generation (text-to-video, image-to-video or reference-to-video)."""
    if vendor.lower() not in VENDORS:
        raise NotFound(f"unknown vendor {vendor!r}; use one of: {', '.join(VENDORS)}")
    if mode not in GPTPROTO_MODES:
        raise NotFound(f"unknown mode {mode!r}; use one of: {', '.join(GPTPROTO_MODES)}")
    body = await json_object(request, services.settings.max_body_bytes)
    sync = body.get("enable_sync_mode")
    if sync is not None and not isinstance(sync, bool):
        raise InvalidParameter("enable_sync_mode", "enable_sync_mode must be a boolean")
    task = await admit(services, caller, gptproto_submission(body, model, mode),
                       idempotency_key, links_for(request, services).base_url)  # fmt: skip
    if sync:
        task = await wait_until_terminal(services, task)
    return await _view(request, services, task)
