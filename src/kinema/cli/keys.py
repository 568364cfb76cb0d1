"""``kinema keys``: API keys."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from kinema.cli.common import DataDirOption, DbOption, console, err_console, settings_from
from kinema.domain.keys import new_api_key

keys_app = typer.Typer(help="Create API keys.", no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    data_dir: DataDirOption = None,
    db: DbOption = None,
    name: Annotated[str | None, typer.Option(help="Name of the new account.")] = None,
) -> None:
    """Create an account with a new API key; the key is printed alone on the last line."""
    from kinema.store.sql import SqlStore

    settings = settings_from(data_dir=data_dir, db=db)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore(settings.database_url)
    try:
        account_name = name or f"account-{secrets.token_hex(4)}"
        try:
            account = store.create_account(account_name)
        except ValueError as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        key = new_api_key()
        store.add_api_key(account.id, key)
        console.print(f'Created account "{account.name}" ({account.id}). API key:')
        print(key)
    finally:
        store.close()
