"""``SqlStore``: the TaskStore contract in SQLAlchemy Core, for SQLite and PostgreSQL alike.

It is assembled from one part per responsibility: task records (``records``), the queue
(``queue``), the callbacks outbox (``outbox``); accounts, keys and installation-wide values are
here.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kinema.domain.keys import KEY_PREFIX_CHARS
from kinema.store.base import Account, ApiKeyRecord
from kinema.store.engine import create_db_engine, db_now, read_transaction, write_transaction
from kinema.store.migrate import upgrade
from kinema.store.outbox import Outbox
from kinema.store.rows import account_from_row, hash_key
from kinema.store.schema import accounts, api_keys, meta
from kinema.store.transitions import CallbackRenderer


class SqlStore(Outbox):
    """The one TaskStore implementation (see ``kinema.store.base`` for the contract)."""

    def __init__(
        self,
        url: str,
        *,
        migrate: bool = True,
        render_callback: CallbackRenderer | None = None,
    ) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        if migrate:
            upgrade(self.engine)
        self._now = db_now(self.engine)
        self.render_callback = render_callback

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def now(self) -> float:
        """The database clock."""
        with read_transaction(self.engine) as conn:
            return self._clock(conn)

    # -- accounts and keys -------------------------------------------------------------------

    def create_account(self, name: str) -> Account:
        with write_transaction(self.engine) as conn:
            if conn.execute(sa.select(accounts.c.id).where(accounts.c.name == name)).first():
                raise ValueError(f"an account named {name!r} already exists")
            account = Account(
                id="acct_" + secrets.token_hex(8),
                name=name,
                webhook_secret="whsec_" + secrets.token_urlsafe(32),
                created_at=self._clock(conn),
            )
            conn.execute(
                accounts.insert().values(
                    id=account.id,
                    name=account.name,
                    webhook_secret=account.webhook_secret,
                    created_at=account.created_at,
                )
            )
            return account

    def get_account_by_name(self, name: str) -> Account | None:
        with read_transaction(self.engine) as conn:
            row = conn.execute(sa.select(accounts).where(accounts.c.name == name)).first()
            return account_from_row(row) if row else None

    def count_accounts(self) -> int:
        with read_transaction(self.engine) as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one())

    def add_api_key(self, account_id: str, key: str, name: str | None = None) -> ApiKeyRecord:
        with write_transaction(self.engine) as conn:
            record = ApiKeyRecord(
                id="key_" + secrets.token_hex(8),
                account_id=account_id,
                prefix=key[:KEY_PREFIX_CHARS],
                name=name,
                created_at=self._clock(conn),
                revoked_at=None,
            )
            conn.execute(
                api_keys.insert().values(
                    id=record.id,
                    account_id=account_id,
                    prefix=record.prefix,
                    key_hash=hash_key(key),
                    name=name,
                    created_at=record.created_at,
                )
            )
            return record

    def authenticate(self, key: str) -> tuple[Account, ApiKeyRecord] | None:
        query = (
            sa.select(accounts, api_keys.c.id.label("key_id"), api_keys.c.prefix,
                      api_keys.c.name.label("key_name"), api_keys.c.created_at.label("key_at"),
                      api_keys.c.revoked_at)
            .join(api_keys, api_keys.c.account_id == accounts.c.id)
            .where(api_keys.c.key_hash == hash_key(key))
        )  # fmt: skip
        with read_transaction(self.engine) as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        key_record = ApiKeyRecord(
            id=row.key_id,
            account_id=row.id,
            prefix=row.prefix,
            name=row.key_name,
            created_at=row.key_at,
            revoked_at=row.revoked_at,
        )
        return account_from_row(row), key_record

    # -- installation-wide values ------------------------------------------------------------

    def get_or_create_meta(self, name: str, make: str) -> str:
        with write_transaction(self.engine) as conn:
            value: Any = conn.execute(sa.select(meta.c.value).where(meta.c.name == name)).scalar()
            if value is not None:
                return str(value)
            try:
                with conn.begin_nested():
                    conn.execute(meta.insert().values(name=name, value=make))
            except IntegrityError:
                # Another process stored it first (PostgreSQL): theirs is the value.
                return str(
                    conn.execute(sa.select(meta.c.value).where(meta.c.name == name)).scalar_one()
                )
            return make
