"""Accounts, money and usage as JSON: amounts are decimal strings (exact), times Unix seconds."""

from __future__ import annotations

from typing import Any

from kinema.store.accounts import AccountSummary, UsageRow
from kinema.store.base import Account, ApiKeyRecord, LedgerEntry


def account_json(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "balance": str(account.balance),
        "rpm_limit": account.rpm_limit,
        "max_queued": account.max_queued,
        "max_running": account.max_running,
        "created_at": int(account.created_at),
    }


def movement_json(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind,
        "amount": str(entry.amount),
        "balance_after": str(entry.balance_after),
        "task_id": entry.task_id,
        "note": entry.note,
        "created_at": int(entry.created_at),
    }


def summary_json(summary: AccountSummary) -> dict[str, Any]:
    return {
        **account_json(summary.account),
        "held": str(summary.held),
        "queued": summary.queued,
        "running": summary.running,
        "recent_movements": [movement_json(entry) for entry in summary.recent],
    }


def key_json(key: ApiKeyRecord) -> dict[str, Any]:
    return {
        "id": key.id,
        "prefix": key.prefix,
        "name": key.name,
        "models": list(key.models) if key.models is not None else None,
        "created_at": int(key.created_at),
        "revoked": key.revoked_at is not None,
    }


def usage_json(rows: list[UsageRow]) -> list[dict[str, Any]]:
    return [
        {
            "account_id": row.account_id,
            "model": row.model,
            "day": row.day,
            "tasks": row.tasks,
            "seconds": str(row.seconds),
            "tokens": row.tokens,
            "money": str(row.money),
        }
        for row in rows
    ]
