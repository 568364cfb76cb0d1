"""Money moves as ledger rows, each keyed so that it happens once (ARCHITECTURE decision 8).

A movement locks the account row, writes the ledger row under its unique key and, only if that
row is new, changes the balance — all inside the caller's transaction, so a task's hold, capture
or release happens exactly once however often a worker crashes and a task is retried.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from kinema.store.schema import accounts, ledger

# Which way each kind moves the balance.
BALANCE_SIGN = {"topup": 1, "hold": -1, "release": 1, "capture": 0, "adjust": 1}


def insert_ignoring_conflict(
    conn: Connection, table: sa.Table, values: dict[str, Any], unique: list[str]
) -> bool:
    """INSERT unless a row with the same ``unique`` columns exists; True if inserted."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=unique)
        .returning(table.c[unique[0]])
    )
    return conn.execute(statement).first() is not None


def move_money(
    conn: Connection,
    *,
    account_id: str,
    kind: str,
    amount: Decimal,
    key: str,
    now: float,
    task_id: str | None = None,
    note: str | None = None,
) -> bool:
    """Apply one movement exactly once (by ``key``); False if it had already happened."""
    balance = conn.execute(
        sa.select(accounts.c.balance).where(accounts.c.id == account_id).with_for_update()
    ).scalar_one()
    after = Decimal(balance) + BALANCE_SIGN[kind] * amount
    inserted = insert_ignoring_conflict(
        conn,
        ledger,
        {
            "key": key,
            "account_id": account_id,
            "task_id": task_id,
            "kind": kind,
            "amount": amount,
            "balance_after": after,
            "note": note,
            "created_at": now,
        },
        ["key"],
    )
    if inserted and BALANCE_SIGN[kind]:
        conn.execute(accounts.update().where(accounts.c.id == account_id).values(balance=after))
    return inserted
