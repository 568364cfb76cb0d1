"""Reading a caller's task for a route: 404 when it is not theirs, and where it stands."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from kinema.api.deps import Services
from kinema.domain.errors import TaskNotFound
from kinema.domain.task import TaskStatus
from kinema.store.base import Account, Task


async def owned_task(services: Services, account: Account, task_id: str) -> Task:
    """The account's task; another account's answers exactly like an unknown id (404)."""
    task = await run_in_threadpool(services.store.get_task, task_id, account.id)
    if task is None:
        raise TaskNotFound(task_id)
    return task


async def queue_position(services: Services, task: Task) -> int | None:
    """How many tasks run before this one, while it is queued; None otherwise."""
    if task.status is not TaskStatus.QUEUED:
        return None
    return await run_in_threadpool(services.store.queue_position, task)
