"""Accounts, API keys, balances, the ledger, request-rate windows and usage."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kinema.domain.keys import KEY_PREFIX_CHARS
from kinema.domain.task import TaskStatus
from kinema.store.base import Account, ApiKeyRecord, LedgerEntry
from kinema.store.engine import read_transaction, write_transaction
from kinema.store.ledger import insert_ignoring_conflict, move_money
from kinema.store.rows import account_from_row, hash_key, key_from_row, ledger_from_row
from kinema.store.schema import accounts, api_keys, ledger, rate_windows, tasks
from kinema.store.transitions import Transitions

RATE_WINDOW_SECONDS = 60
MONEY_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class AccountSummary:
    """An account as its owner and the operator see it."""

    account: Account
    held: Decimal
    """Money held for queued and running tasks."""
    queued: int
    running: int
    recent: list[LedgerEntry] = field(default_factory=list)


@dataclass(frozen=True)
class UsageRow:
    """Succeeded work of one model on one day (UTC)."""

    account_id: str
    model: str
    day: str
    tasks: int
    seconds: Decimal
    tokens: int
    money: Decimal


class Accounts(Transitions):
    """The accounts half of the store."""

    def create_account(self, name: str, balance: Decimal = Decimal(0)) -> Account:
        with write_transaction(self.engine) as conn:
            if conn.execute(sa.select(accounts.c.id).where(accounts.c.name == name)).first():
                raise ValueError(f"an account named {name!r} already exists")
            now = self._clock(conn)
            account_id = "acct_" + secrets.token_hex(8)
            conn.execute(
                accounts.insert().values(
                    id=account_id,
                    name=name,
                    webhook_secret="whsec_" + secrets.token_urlsafe(32),
                    created_at=now,
                )
            )
            if balance:
                move_money(conn, account_id=account_id, kind="topup", amount=balance,
                           key=f"{account_id}:opening", now=now, note="opening")  # fmt: skip
            row = conn.execute(sa.select(accounts).where(accounts.c.id == account_id)).one()
            return account_from_row(row)

    def get_account(self, account_id: str) -> Account | None:
        with read_transaction(self.engine) as conn:
            row = conn.execute(sa.select(accounts).where(accounts.c.id == account_id)).first()
            return account_from_row(row) if row else None

    def get_account_by_name(self, name: str) -> Account | None:
        with read_transaction(self.engine) as conn:
            row = conn.execute(sa.select(accounts).where(accounts.c.name == name)).first()
            return account_from_row(row) if row else None

    def list_accounts(self) -> list[Account]:
        with read_transaction(self.engine) as conn:
            rows = conn.execute(sa.select(accounts).order_by(accounts.c.created_at)).all()
            return [account_from_row(row) for row in rows]

    def count_accounts(self) -> int:
        with read_transaction(self.engine) as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one())

    def set_limits(self, account_id: str, **limits: int | None) -> Account:
        """Set ``rpm_limit``, ``max_queued`` and/or ``max_running`` (None: the default)."""
        allowed = {"rpm_limit", "max_queued", "max_running"}
        if not set(limits) <= allowed:
            raise ValueError(f"unknown limits: {sorted(set(limits) - allowed)}")
        with write_transaction(self.engine) as conn:
            conn.execute(accounts.update().where(accounts.c.id == account_id).values(**limits))
            return account_from_row(
                conn.execute(sa.select(accounts).where(accounts.c.id == account_id)).one()
            )

    def topup(self, account_id: str, amount: Decimal, key: str | None = None,
              note: str | None = None) -> Account:  # fmt: skip
        """Add ``amount`` (negative to correct a mistake); ``key`` makes a retried top-up count
        once."""
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            kind = "topup" if amount >= 0 else "adjust"
            move_money(conn, account_id=account_id, kind=kind, amount=amount,
                       key=key or f"topup:{secrets.token_hex(12)}", now=now, note=note)  # fmt: skip
            return account_from_row(
                conn.execute(sa.select(accounts).where(accounts.c.id == account_id)).one()
            )

    def summary(self, account_id: str, recent: int = 20) -> AccountSummary | None:
        with read_transaction(self.engine) as conn:
            row = conn.execute(sa.select(accounts).where(accounts.c.id == account_id)).first()
            if row is None:
                return None
            counts: dict[str, int] = {
                status: count
                for status, count in conn.execute(
                    sa.select(tasks.c.status, sa.func.count())
                    .where(
                        tasks.c.account_id == account_id,
                        tasks.c.status.in_([TaskStatus.QUEUED.value, TaskStatus.RUNNING.value]),
                    )
                    .group_by(tasks.c.status)
                )
            }
            held = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(tasks.c.price), 0)).where(
                    tasks.c.account_id == account_id,
                    tasks.c.status.in_([TaskStatus.QUEUED.value, TaskStatus.RUNNING.value]),
                )
            ).scalar_one()
            movements = conn.execute(
                sa.select(ledger)
                .where(ledger.c.account_id == account_id)
                .order_by(ledger.c.id.desc())
                .limit(recent)
            ).all()
        return AccountSummary(
            account=account_from_row(row),
            held=Decimal(held).quantize(MONEY_PLACES),
            queued=int(counts.get(TaskStatus.QUEUED.value, 0)),
            running=int(counts.get(TaskStatus.RUNNING.value, 0)),
            recent=[ledger_from_row(m) for m in movements],
        )

    # -- keys --------------------------------------------------------------------------------

    def add_api_key(self, account_id: str, key: str, name: str | None = None,
                    models: Sequence[str] | None = None) -> ApiKeyRecord:  # fmt: skip
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                api_keys.insert()
                .values(
                    id="key_" + secrets.token_hex(8),
                    account_id=account_id,
                    prefix=key[:KEY_PREFIX_CHARS],
                    key_hash=hash_key(key),
                    name=name,
                    created_at=self._clock(conn),
                    models=list(models) if models is not None else None,
                )
                .returning(*api_keys.c)
            ).one()
            return key_from_row(row)

    def list_keys(self, account_id: str) -> list[ApiKeyRecord]:
        with read_transaction(self.engine) as conn:
            rows = conn.execute(
                sa.select(api_keys)
                .where(api_keys.c.account_id == account_id)
                .order_by(api_keys.c.created_at)
            ).all()
            return [key_from_row(row) for row in rows]

    def revoke_keys(self, prefix: str) -> list[ApiKeyRecord]:
        """Revoke the live keys whose prefix is ``prefix``; returns them."""
        with write_transaction(self.engine) as conn:
            rows = conn.execute(
                api_keys.update()
                .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=self._clock(conn))
                .returning(*api_keys.c)
            ).all()
            return [key_from_row(row) for row in rows]

    def authenticate(self, key: str) -> tuple[Account, ApiKeyRecord] | None:
        with read_transaction(self.engine) as conn:
            return self._authenticate(conn, key)

    def authenticate_request(self, key: str) -> tuple[Account, ApiKeyRecord, int, float] | None:
        """Authenticate and, for a live key, count the request in its rate window, in one
        transaction (one round trip per API request). Returns (account, key, requests in this
        minute so far, seconds until the window ends), or None for an unknown key."""
        with write_transaction(self.engine) as conn:
            found = self._authenticate(conn, key)
            if found is None:
                return None
            account, record = found
            if record.revoked_at is not None:
                return account, record, 0, 0.0
            count, window_left = self._count_request(conn, record.id)
            return account, record, count, window_left

    def _authenticate(self, conn: Connection, key: str) -> tuple[Account, ApiKeyRecord] | None:
        query = (
            sa.select(accounts, *[c.label(f"key_{c.name}") for c in api_keys.c])
            .join(api_keys, api_keys.c.account_id == accounts.c.id)
            .where(api_keys.c.key_hash == hash_key(key))
        )
        row = conn.execute(query).first()
        if row is None:
            return None
        mapping: dict[str, Any] = dict(row._mapping)
        key_record = ApiKeyRecord(
            id=mapping["key_id"],
            account_id=mapping["key_account_id"],
            prefix=mapping["key_prefix"],
            name=mapping["key_name"],
            created_at=mapping["key_created_at"],
            revoked_at=mapping["key_revoked_at"],
            models=tuple(mapping["key_models"]) if mapping["key_models"] is not None else None,
        )
        return account_from_row(row), key_record

    # -- request rate ------------------------------------------------------------------------

    def _count_request(self, conn: Connection, key_id: str) -> tuple[int, float]:
        now = self._clock(conn)
        window = int(now // RATE_WINDOW_SECONDS)
        if not insert_ignoring_conflict(
            conn, rate_windows, {"key_id": key_id, "window": window, "count": 1},
            ["key_id", "window"],
        ):  # fmt: skip
            conn.execute(
                rate_windows.update()
                .where(rate_windows.c.key_id == key_id, rate_windows.c.window == window)
                .values(count=rate_windows.c.count + 1)
            )
        count = conn.execute(
            sa.select(rate_windows.c.count).where(
                rate_windows.c.key_id == key_id, rate_windows.c.window == window
            )
        ).scalar_one()
        return int(count), (window + 1) * RATE_WINDOW_SECONDS - now

    def forget_old_rate_windows(self) -> None:
        """Drop the counters of windows that have ended (the reaper calls this)."""
        with write_transaction(self.engine) as conn:
            window = int(self._clock(conn) // RATE_WINDOW_SECONDS)
            conn.execute(rate_windows.delete().where(rate_windows.c.window < window - 1))

    # -- usage -------------------------------------------------------------------------------

    def usage(self, account_id: str | None = None, since: float | None = None) -> list[UsageRow]:
        """Succeeded tasks per account, model and UTC day: count, seconds, tokens, money."""
        import datetime as dt

        query = sa.select(
            tasks.c.account_id, tasks.c.model, tasks.c.finished_at, tasks.c.video_seconds,
            tasks.c.usage_tokens, tasks.c.price,
        ).where(tasks.c.status == TaskStatus.SUCCEEDED.value)  # fmt: skip
        if account_id is not None:
            query = query.where(tasks.c.account_id == account_id)
        if since is not None:
            query = query.where(tasks.c.finished_at >= since)
        with read_transaction(self.engine) as conn:
            rows = conn.execute(query).all()
        totals: dict[tuple[str, str, str], list[Any]] = {}
        for row in rows:
            day = dt.datetime.fromtimestamp(row.finished_at, dt.UTC).date().isoformat()
            entry = totals.setdefault((row.account_id, row.model, day),
                                      [0, Decimal(0), 0, Decimal(0)])  # fmt: skip
            entry[0] += 1
            entry[1] += Decimal(row.video_seconds)
            entry[2] += row.usage_tokens
            entry[3] += Decimal(row.price)
        return [
            UsageRow(account, model, day, *values)
            for (account, model, day), values in sorted(totals.items(), key=lambda kv: kv[0])
        ]
