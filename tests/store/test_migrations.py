"""The Alembic migrations build exactly the schema the code declares, on both databases, and
run down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from kinema.store.engine import write_transaction
from kinema.store.migrate import alembic_config, upgrade
from kinema.store.schema import metadata
from kinema.store.sql import SqlStore


def test_migrations_match_the_declared_schema(store: SqlStore) -> None:
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_migrations_go_down_and_up_again(store: SqlStore) -> None:
    config = alembic_config()
    with write_transaction(store.engine) as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    upgrade(store.engine)
    assert store.count_accounts() == 0
    store.create_account("after-a-round-trip")
