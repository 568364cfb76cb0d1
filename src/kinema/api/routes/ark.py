"""The official ModelArk / Ark format (API.md §3): create, get, list and delete tasks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from kinema.api.admission import admit
from kinema.api.body import json_object
from kinema.api.deps import AccountDep, CallerDep, ServicesDep, links_for
from kinema.api.lookup import owned_task, queue_position
from kinema.api.submission import ark_submission
from kinema.api.views import ark_task
from kinema.artifacts.base import task_prefixes
from kinema.domain.errors import InvalidParameter, InvalidState, TaskNotFound
from kinema.domain.task import TaskStatus
from kinema.store.base import TaskFilter

router = APIRouter(prefix="/api/v3/contents/generations/tasks", tags=["ark"])

_MAX_PAGE = 500


@router.post("")
async def create_task(
    request: Request,
    services: ServicesDep,
    caller: CallerDep,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> dict[str, str]:
    """Create a generation task; answers its id."""
    body = await json_object(request, services.settings.max_body_bytes)
    base_url = links_for(request, services).base_url
    task = await admit(services, caller, ark_submission(body), idempotency_key, base_url)
    return {"id": task.id}


@router.get("/{task_id}")
async def get_task(
    task_id: str, request: Request, services: ServicesDep, account: AccountDep
) -> dict[str, object]:
    """One task object."""
    task = await owned_task(services, account, task_id)
    position = await queue_position(services, task)
    return ark_task(task, links_for(request, services), position)


def _page_value(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= _MAX_PAGE:
        raise InvalidParameter(name, f"{name} must be an integer from 1 to {_MAX_PAGE}")
    return int(value)


@router.get("")
async def list_tasks(
    request: Request,
    services: ServicesDep,
    account: AccountDep,
    page_num: str | None = None,
    page_size: str | None = None,
    status: Annotated[str | None, Query(alias="filter.status")] = None,
    task_ids: Annotated[list[str] | None, Query(alias="filter.task_ids")] = None,
    model: Annotated[str | None, Query(alias="filter.model")] = None,
    service_tier: Annotated[str | None, Query(alias="filter.service_tier")] = None,
) -> dict[str, object]:
    """The account's tasks, newest first: ``{"total", "items"}``."""
    statuses: list[TaskStatus] = []
    if status:
        try:
            statuses = [TaskStatus(part.strip()) for part in status.split(",") if part.strip()]
        except ValueError:
            allowed = ", ".join(s.value for s in TaskStatus)
            raise InvalidParameter(
                "filter.status", f"filter.status must be one of {allowed}"
            ) from None
    if service_tier and service_tier not in ("default", "flex"):
        raise InvalidParameter("filter.service_tier", "filter.service_tier must be default or flex")
    model_id = None
    if model:
        # An unknown model simply matches nothing; an alias matches its canonical id.
        model_id = services.catalog.canonical(model) or model
    ids = [part for value in task_ids or [] for part in value.split(",") if part]
    flt = TaskFilter(statuses=statuses, task_ids=ids, model=model_id, service_tier=service_tier)
    page = await run_in_threadpool(
        services.store.list_tasks,
        account.id,
        flt,
        _page_value(page_num, "page_num", 1),
        _page_value(page_size, "page_size", 10),
    )
    links = links_for(request, services)
    return {"total": page.total, "items": [ark_task(task, links) for task in page.items]}


@router.delete("/{task_id}")
async def delete_task(
    task_id: str, services: ServicesDep, account: AccountDep
) -> dict[str, object]:
    """Cancel a queued task, or delete a finished one with its files. Answers ``{}``."""
    store = services.store
    if await run_in_threadpool(store.cancel_queued, task_id, account.id) is not None:
        return {}
    task = await run_in_threadpool(store.get_task, task_id, account.id)
    if task is None:
        raise TaskNotFound(task_id)
    if task.status in (TaskStatus.RUNNING, TaskStatus.CANCELLED):
        raise InvalidState(
            f"task {task_id} is {task.status.value} and cannot be deleted"
            + (" (cancel it first)" if task.status is TaskStatus.RUNNING else "")
        )
    deleted = await run_in_threadpool(store.delete_task, task_id, account.id)
    if deleted is None:
        # It changed status between the two reads (e.g. it just started running).
        raise InvalidState(f"task {task_id} cannot be deleted in its current status")
    for prefix in task_prefixes(task_id):
        await run_in_threadpool(services.artifacts.delete_prefix, prefix)
    return {}
