"""Rows → records, and the key hash; shared by the store's modules."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Row

from kinema.domain.request import GenerationRequest
from kinema.domain.task import TaskStatus
from kinema.store.base import Account, ApiKeyRecord, LedgerEntry, Task, TaskOutputs


def hash_key(key: str) -> str:
    """API keys are 288-bit random strings, so a plain SHA-256 is a safe, fast lookup hash."""
    return hashlib.sha256(key.encode()).hexdigest()


def account_from_row(row: Row[Any]) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        webhook_secret=row.webhook_secret,
        created_at=row.created_at,
        balance=Decimal(row.balance),
        rpm_limit=row.rpm_limit,
        max_queued=row.max_queued,
        max_running=row.max_running,
    )


def key_from_row(row: Row[Any]) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        account_id=row.account_id,
        prefix=row.prefix,
        name=row.name,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        models=tuple(row.models) if row.models is not None else None,
    )


def ledger_from_row(row: Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        account_id=row.account_id,
        task_id=row.task_id,
        kind=row.kind,
        amount=Decimal(row.amount),
        balance_after=Decimal(row.balance_after),
        created_at=row.created_at,
        note=row.note,
    )


def task_from_row(row: Row[Any]) -> Task:
    outputs = row.outputs
    return Task(
        id=row.id,
        account_id=row.account_id,
        model=row.model,
        engine=row.engine,
        status=TaskStatus(row.status),
        request=GenerationRequest.from_json(row.request),
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        started_at=row.started_at,
        finished_at=row.finished_at,
        progress=row.progress,
        execution_ms=row.execution_ms,
        error_code=row.error_code,
        error_message=row.error_message,
        outputs=TaskOutputs(**outputs) if outputs else None,
        idempotency_key=row.idempotency_key,
        cancel_requested=bool(row.cancel_requested),
        base_url=row.base_url,
        price=Decimal(row.price),
    )
