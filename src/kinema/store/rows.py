"""Rows → records, and the key hash; shared by the store's modules."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.engine import Row

from kinema.domain.request import GenerationRequest
from kinema.domain.task import TaskStatus
from kinema.store.base import Account, Task, TaskOutputs


def hash_key(key: str) -> str:
    """API keys are 288-bit random strings, so a plain SHA-256 is a safe, fast lookup hash."""
    return hashlib.sha256(key.encode()).hexdigest()


def account_from_row(row: Row[Any]) -> Account:
    return Account(
        id=row.id, name=row.name, webhook_secret=row.webhook_secret, created_at=row.created_at
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
    )
