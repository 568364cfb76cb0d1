"""``SqlStore``: the TaskStore contract in SQLAlchemy Core, for SQLite and PostgreSQL alike.

It is assembled from one part per responsibility: task records (``records``), the queue
(``queue``), the callbacks outbox (``outbox``), accounts, keys and money (``accounts``);
installation-wide values are here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kinema.store.accounts import Accounts
from kinema.store.base import TaskStore
from kinema.store.engine import create_db_engine, db_now, read_transaction, write_transaction
from kinema.store.migrate import upgrade
from kinema.store.outbox import Outbox
from kinema.store.schema import meta
from kinema.store.transitions import CallbackRenderer


class SqlStore(Accounts, Outbox):
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


if TYPE_CHECKING:
    # mypy checks that the implementation keeps to the documented contract.
    _conforms: type[TaskStore] = SqlStore
