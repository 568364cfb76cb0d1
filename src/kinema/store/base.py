"""The TaskStore contract: records, and what each operation guarantees.

The tasks table is the queue (ARCHITECTURE.md decision 1). Accounts, the ledger and the callbacks
outbox are documented where they are implemented (``accounts``, ``ledger``, ``outbox``). One
implementation (``kinema.store.sql.SqlStore``, checked against this protocol by mypy) runs on
SQLite and PostgreSQL; the contract tests in ``tests/store`` run against both. Every method is
one transaction: it either happens whole or not at all. Times are Unix seconds from the
database clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from kinema.domain.request import GenerationRequest
from kinema.domain.task import TaskStatus


@dataclass(frozen=True)
class Account:
    """A customer of the service; owns API keys and tasks."""

    id: str
    name: str
    webhook_secret: str
    created_at: float
    balance: Decimal = Decimal(0)
    rpm_limit: int | None = None
    """Requests per minute per key; None = the settings' default."""
    max_queued: int | None = None
    max_running: int | None = None


@dataclass(frozen=True)
class ApiKeyRecord:
    """A stored API key: only its hash and a displayable prefix are kept."""

    id: str
    account_id: str
    prefix: str
    name: str | None
    created_at: float
    revoked_at: float | None
    models: tuple[str, ...] | None = None
    """The model ids this key may use; None = every model."""


@dataclass(frozen=True)
class LedgerEntry:
    """One movement of money; ``kind`` says which way it moved the balance."""

    id: int
    account_id: str
    task_id: str | None
    kind: str
    """``topup`` (+amount), ``hold`` (-amount), ``release`` (+amount), ``capture`` (the held
    amount is spent; balance unchanged), ``adjust`` (+amount, which may be negative)."""
    amount: Decimal
    balance_after: Decimal
    created_at: float
    note: str | None = None


@dataclass(frozen=True)
class TaskOutputs:
    """Artifact keys of a finished task's files."""

    video_key: str
    last_frame_key: str | None = None
    video_bytes: int = 0
    video_flagged: bool = False
    """The output screen flagged the video (``has_nsfw_contents``; ``output_screening=flag``)."""
    last_frame_flagged: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "video_key": self.video_key,
            "last_frame_key": self.last_frame_key,
            "video_bytes": self.video_bytes,
            "video_flagged": self.video_flagged,
            "last_frame_flagged": self.last_frame_flagged,
        }


@dataclass(frozen=True)
class Task:
    """A task row: the Seedance task record and its queue entry in one."""

    id: str
    account_id: str
    model: str
    engine: str
    status: TaskStatus
    request: GenerationRequest
    created_at: float
    updated_at: float
    expires_at: float
    attempts: int = 0
    max_attempts: int = 1
    started_at: float | None = None
    finished_at: float | None = None
    progress: float = 0.0
    execution_ms: int = 0
    error_code: str | None = None
    error_message: str | None = None
    outputs: TaskOutputs | None = None
    idempotency_key: str | None = None
    cancel_requested: bool = False
    base_url: str | None = None
    """The base URL the task was submitted on (links in callbacks are built from it)."""
    price: Decimal = Decimal(0)
    """Held at submit, captured on success, released otherwise."""


@dataclass(frozen=True)
class NewTask:
    """What the API hands the store to create a task."""

    id: str
    account_id: str
    request: GenerationRequest
    engine: str
    max_attempts: int
    idempotency_key: str | None = None
    base_url: str | None = None
    price: Decimal = Decimal(0)
    video_seconds: Decimal = Decimal(0)


@dataclass(frozen=True)
class Claim:
    """A task leased to one worker. Writes about it must present ``owner`` and ``token``."""

    task: Task
    owner: str
    token: str


@dataclass(frozen=True)
class TaskFilter:
    """Ark list filters; empty means no filter."""

    statuses: Sequence[TaskStatus] = ()
    task_ids: Sequence[str] = ()
    model: str | None = None
    service_tier: str | None = None


@dataclass(frozen=True)
class TaskPage:
    total: int
    items: list[Task] = field(default_factory=list)


class TaskStore(Protocol):
    """Durable tasks, accounts and keys. Implementations must be safe across processes."""

    # -- accounts and keys -------------------------------------------------------------------

    def create_account(self, name: str) -> Account:
        """Create an account; raises ValueError if the name is taken."""
        ...

    def get_account_by_name(self, name: str) -> Account | None: ...

    def count_accounts(self) -> int: ...

    def add_api_key(self, account_id: str, key: str, name: str | None = None) -> ApiKeyRecord:
        """Store ``key``'s hash for the account. The key itself is never stored."""
        ...

    def authenticate(self, key: str) -> tuple[Account, ApiKeyRecord] | None:
        """The account and key record for a presented key, or None if no key matches.

        Revoked keys are returned too (with ``revoked_at`` set): the caller decides.
        """
        ...

    # -- tasks -------------------------------------------------------------------------------

    def create_task(
        self,
        new: NewTask,
        max_queued: int | None = None,
        max_running: int | None = None,
        refuse_at_running_limit: bool = False,
    ) -> tuple[Task, bool]:
        """Insert a queued task; returns (task, created).

        With an idempotency key this account used in the last 24 h, returns that task and False
        instead of inserting: a repeated submit never makes a second task. In the same
        transaction, with the account row locked: refuses a task past the account's queued
        limit (its own ``max_queued``, else ``max_queued``; QuotaExceeded), past its running
        limit when ``refuse_at_running_limit`` (RateLimited), or past its balance
        (InsufficientBalance); holds the task's price in the ledger; writes the ``queued``
        callback.
        """
        ...

    def find_by_idempotency_key(self, account_id: str, key: str) -> Task | None:
        """The account's task submitted with this idempotency key, if any."""
        ...

    def get_task(self, task_id: str, account_id: str | None = None) -> Task | None:
        """The task, or None if unknown or (when ``account_id`` is given) another account's."""
        ...

    def list_tasks(
        self, account_id: str, flt: TaskFilter, page_num: int, page_size: int
    ) -> TaskPage:
        """Tasks of one account matching ``flt``, newest first, with the total count."""
        ...

    def queue_position(self, task: Task) -> int:
        """How many queued tasks will be claimed before this one (0 = next)."""
        ...

    def cancel_queued(self, task_id: str, account_id: str) -> Task | None:
        """Atomically move a *queued* task to cancelled; None if it was not queued."""
        ...

    def delete_task(self, task_id: str, account_id: str) -> Task | None:
        """Delete a *terminal* task's record; returns it (for its files) or None."""
        ...

    def request_cancel(self, task_id: str, account_id: str) -> Task | None:
        """Cancel a queued task at once, or flag a running one for its worker to stop.

        Returns the task as it now is, or None if unknown (or another account's).
        """
        ...

    # -- the queue ---------------------------------------------------------------------------

    def claim(
        self,
        owner: str,
        lease_seconds: float,
        models: Sequence[str] = (),
        max_running: int | None = None,
    ) -> Claim | None:
        """Lease the next runnable queued task to ``owner``: status → running, attempts + 1.

        Highest priority first; among equal priorities the account claimed from longest ago,
        then its oldest task. Tasks in backoff or past their expiry are skipped, and so is an
        account already running its limit (its own ``max_running``, else ``max_running``).
        Safe against concurrent claimers: a task is never leased to two workers at once
        (``BEGIN IMMEDIATE`` on SQLite, ``SKIP LOCKED`` on PostgreSQL). ``models`` restricts
        the claim to those model ids when given.
        """
        ...

    def heartbeat(self, claim: Claim, lease_seconds: float, progress: float) -> bool | None:
        """Extend the lease and record progress.

        Returns None when the lease is lost (the worker must stop and write nothing else),
        otherwise whether cancellation was requested.
        """
        ...

    def cancel_requested(self, claim: Claim) -> bool | None:
        """A read between heartbeats: None if the lease is lost, else the cancel flag."""
        ...

    def complete(self, claim: Claim, outputs: TaskOutputs, execution_ms: int) -> bool:
        """running → succeeded, fenced by the lease; False (and no change) if the lease is lost.

        Captures the task's hold; every terminal change also writes its callback.
        """
        ...

    def fail(self, claim: Claim, code: str, message: str, execution_ms: int) -> bool:
        """running → failed, fenced; releases the hold. False if the lease is lost."""
        ...

    def cancel_running(self, claim: Claim, execution_ms: int) -> bool:
        """running → cancelled once the engine stopped, fenced; releases the hold."""
        ...

    def release(
        self, claim: Claim, *, retry_delay: float, reason: str, count_attempt: bool = True
    ) -> TaskStatus | None:
        """running → queued for another attempt after ``retry_delay`` seconds, fenced.

        When ``count_attempt`` and the task has used all its attempts, it becomes failed with
        ``reason`` instead; a task whose cancel was requested becomes cancelled.
        ``count_attempt=False`` (an orderly shutdown) gives the attempt back. Returns the new
        status, or None if the lease was lost.
        """
        ...

    # -- the reaper (safe to run in many processes at once) ----------------------------------

    def requeue_lost_leases(self, max_backoff: float = 60.0) -> tuple[int, int]:
        """Tasks whose lease expired, as ``release`` with backoff; returns (requeued, failed)."""
        ...

    def expire_overdue(self) -> int:
        """queued/running → expired past ``execution_expires_after``; returns how many."""
        ...

    def outputs_past(self, lifetime_seconds: float) -> list[str]:
        """Mark outputs finished longer ago as purged; returns the task ids (to delete files)."""
        ...

    def delete_records_past(self, lifetime_seconds: float) -> list[str]:
        """Delete finished records (and callbacks) created longer ago; returns their ids."""
        ...

    # -- installation-wide values ------------------------------------------------------------

    def get_or_create_meta(self, name: str, make: str) -> str:
        """The stored value for ``name``, storing ``make`` first if there is none."""
        ...
