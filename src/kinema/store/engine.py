"""Database engines for the store: SQLite (embedded) and PostgreSQL (fleet), same statements.

SQLite is tuned for several processes sharing one file: WAL, a busy timeout, and write
transactions opened with ``BEGIN IMMEDIATE`` so that a read that upgrades to a write never dies
with "database is locked" under contention. The PostgreSQL driver (psycopg 3) is imported only
when a PostgreSQL URL is used.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

WRITE_OPTION = "kinema_write"


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and point them at psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_db_engine(url: str) -> Engine:
    """An engine for ``url`` with Kinema's connection settings applied."""
    url = normalise_url(url)
    if url.startswith("postgresql"):
        if importlib.util.find_spec("psycopg") is None:
            raise RuntimeError(
                "psycopg 3.2 or newer is needed for PostgreSQL: pip install 'kinema[postgres]'"
            )
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if not url.startswith("sqlite"):
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is always DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def db_now(engine: Engine) -> sa.ColumnElement[float]:
    """The database clock as Unix seconds (a float), the one clock leases are measured by."""
    if engine.dialect.name == "postgresql":
        return sa.literal_column(
            "CAST(extract(epoch from clock_timestamp()) AS double precision)", sa.Float
        )
    return sa.literal_column("((julianday('now') - 2440587.5) * 86400.0)", sa.Float)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: ``BEGIN IMMEDIATE`` on SQLite, plain on PostgreSQL."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction (a consistent snapshot on both databases)."""
    with engine.connect() as conn, conn.begin():
        yield conn
