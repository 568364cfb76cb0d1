"""The store fixture: every store test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from kinema.store.schema import metadata
from kinema.store.sql import SqlStore


def empty_tables(store: SqlStore) -> None:
    """Empty every table the migrations made (as test_store.py does, but also tables added
    since), children before parents."""
    existing = set(sa.inspect(store.engine).get_table_names()) - {"alembic_version"}
    ordered = [t.name for t in reversed(metadata.sorted_tables) if t.name in existing]
    ordered += sorted(existing - set(ordered))
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(ordered)}"))
        else:
            for table in ordered:
                conn.execute(sa.text(f"DELETE FROM {table}"))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'kinema.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    store = SqlStore(url)
    # One PostgreSQL database serves the whole session: start each test from empty tables.
    empty_tables(store)
    yield store
    store.close()
