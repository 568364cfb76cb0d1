"""``kinema keys``: create, list and revoke API keys."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from kinema.cli.common import DataDirOption, DbOption, account_or_exit, console, fail, open_store
from kinema.domain.catalog import Catalog
from kinema.domain.errors import ModelNotFound
from kinema.domain.keys import new_api_key

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@keys_app.command("create")
def create(
    account: Annotated[
        str | None, typer.Option(help="Add the key to this existing account.")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Without --account: the name of a new account for the key.")
    ] = None,
    models: Annotated[
        str | None, typer.Option(help="Restrict the key to these models (comma-separated).")
    ] = None,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Create an API key (a new account unless --account); the key is alone on the last line."""
    allowed = None
    if models:
        catalog = Catalog()
        try:
            allowed = [catalog.get(m.strip()).id for m in models.split(",") if m.strip()]
        except ModelNotFound as exc:
            raise fail(exc.message) from None
    with open_store(data_dir, db) as store:
        if account:
            owner = account_or_exit(store, account)
        else:
            try:
                owner = store.create_account(name or f"account-{secrets.token_hex(4)}")
            except ValueError as exc:
                raise fail(str(exc)) from None
        key = new_api_key()
        store.add_api_key(owner.id, key, models=allowed)
    restricted = f", models: {', '.join(allowed)}" if allowed else ""
    console.print(f'API key for account "{owner.name}" ({owner.id}){restricted}:')
    print(key)


@keys_app.command("ls")
def list_keys(
    account: Annotated[str, typer.Option(help="The account whose keys to list.")],
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """List an account's keys (their prefixes only: keys are stored hashed)."""
    with open_store(data_dir, db) as store:
        keys = store.list_keys(account_or_exit(store, account).id)
    table = Table()
    for column in ("prefix", "created", "models", "status"):
        table.add_column(column)
    for key in keys:
        created = datetime.fromtimestamp(key.created_at, UTC).strftime("%Y-%m-%d %H:%M")
        table.add_row(key.prefix, created, ", ".join(key.models) if key.models else "all",
                      "revoked" if key.revoked_at else "active")  # fmt: skip
    console.print(table)


@keys_app.command("revoke")
def revoke(prefix: str, data_dir: DataDirOption = None, db: DbOption = None) -> None:
    """Revoke the key(s) with this prefix (as `kinema keys ls` shows it)."""
    with open_store(data_dir, db) as store:
        revoked = store.revoke_keys(prefix)
    if not revoked:
        raise fail(f"no active key with prefix {prefix!r}")
    console.print(f"revoked {len(revoked)} key(s) with prefix {prefix}")
