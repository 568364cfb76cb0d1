"""What every command shares: the database/data-dir options, consoles, settings from flags."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from kinema.config import Settings

if TYPE_CHECKING:
    from kinema.store.base import Account
    from kinema.store.sql import SqlStore

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Directory for the SQLite database and output files "
                 "[default: ./kinema-data]"),
]  # fmt: skip
DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (sqlite:///... or postgresql://...) "
                 "[default: SQLite in the data dir]"),
]  # fmt: skip

console = Console()
err_console = Console(stderr=True)


def settings_from(**overrides: Any) -> Settings:
    """Settings from the environment, with the flags that were given on top."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValueError as exc:
        err_console.print(f"[red]invalid settings:[/red] {exc}")
        raise typer.Exit(2) from None


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one clear error line; the caller raises the returned Exit."""
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@contextmanager
def open_store(data_dir: Path | None, db: str | None) -> Iterator[SqlStore]:
    """The store the flags point at (migrated), closed afterwards."""
    from kinema.store.sql import SqlStore

    settings = settings_from(data_dir=data_dir, db=db)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore(settings.database_url)
    try:
        yield store
    finally:
        store.close()


def account_or_exit(store: SqlStore, name: str) -> Account:
    account = store.get_account_by_name(name)
    if account is None:
        raise fail(f"no account named {name!r} (create it with: kinema accounts create {name})")
    return account


def parse_money(text: str) -> Decimal:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise fail(f"not an amount: {text!r} (write it like 10 or 12.50)") from None
    if not amount.is_finite():
        raise fail(f"not an amount: {text!r}")
    return amount
