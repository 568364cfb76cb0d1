"""Shared fixtures: PostgreSQL when present, and live Kinema services over real HTTP."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.support import LiveService, start_service

PG_ADMIN_URL = os.environ.get(
    "KINEMA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_missing(reason: str) -> None:
    # CI sets KINEMA_REQUIRE_POSTGRES=1: there a missing PostgreSQL is a failure, not a skip.
    if os.environ.get("KINEMA_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required here but unavailable: {reason}")
    pytest.skip(f"PostgreSQL not available at {PG_ADMIN_URL}: {reason}")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session, dropped afterwards."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _postgres_missing("psycopg is not installed")
    name = f"kinema_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:  # any connection failure means "not here"
        admin.dispose()
        _postgres_missing(str(exc).splitlines()[0])
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """A running Kinema (HTTP API + one worker with its engine child) on SQLite."""
    with start_service(tmp_path_factory.mktemp("service"), workers=1) as live:
        yield live


@pytest.fixture(scope="session")
def idle_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """A running Kinema API with no workers: tasks stay queued."""
    with start_service(tmp_path_factory.mktemp("idle"), workers=0) as live:
        yield live
