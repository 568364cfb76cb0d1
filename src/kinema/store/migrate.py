"""Apply the Alembic migrations (``kinema/store/migrations``), safely from any process.

Several processes may start at once against a fresh database (``kinema serve`` and its workers, or
a fleet's workers), so the upgrade runs under a lock: a PostgreSQL advisory lock, or SQLite's
``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from kinema.store.engine import write_transaction

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_ADVISORY_LOCK_ID = 0x6B696E656D61  # "kinema"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (a no-op when it is already there)."""
    config = alembic_config()
    with write_transaction(engine) as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK_ID})")
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
