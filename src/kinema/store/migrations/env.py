"""Alembic environment: migrations always run on a connection handed over by ``upgrade``."""

from __future__ import annotations

from alembic import context

from kinema.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through kinema.store.migrate.upgrade")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
