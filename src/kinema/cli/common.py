"""What every command shares: the database/data-dir options, consoles, settings from flags."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from kinema.config import Settings

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
