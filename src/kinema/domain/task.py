"""Task statuses and the transitions between them (API.md §5)."""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    """The seed's status table; every transition is durable before it is reported."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset(
    {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.EXPIRED, TaskStatus.CANCELLED}
)

TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.QUEUED: frozenset(
        {TaskStatus.RUNNING, TaskStatus.CANCELLED, TaskStatus.EXPIRED, TaskStatus.FAILED}
    ),
    # running → queued is a requeue after a lost lease (a retry), never visible as a step back
    # to the client except through ``attempts``.
    TaskStatus.RUNNING: frozenset(
        {
            TaskStatus.QUEUED,
            TaskStatus.SUCCEEDED,
            TaskStatus.FAILED,
            TaskStatus.EXPIRED,
            TaskStatus.CANCELLED,
        }
    ),
    TaskStatus.SUCCEEDED: frozenset(),
    TaskStatus.FAILED: frozenset(),
    TaskStatus.EXPIRED: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}


def can_transition(current: TaskStatus, new: TaskStatus) -> bool:
    """Whether ``current → new`` is allowed; terminal statuses are never left."""
    return new in TRANSITIONS[current]
