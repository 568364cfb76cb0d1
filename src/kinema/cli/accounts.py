"""``kinema accounts`` and ``kinema usage``: accounts, balances, limits and what they used."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from kinema.cli.common import (
    DataDirOption,
    DbOption,
    account_or_exit,
    console,
    fail,
    open_store,
    parse_money,
)

accounts_app = typer.Typer(help="Accounts, balances and limits.", no_args_is_help=True)


@accounts_app.command("create")
def create(
    name: str,
    balance: Annotated[str, typer.Option(help="Opening balance, e.g. 25.00")] = "0",
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Create an account (add keys to it with `kinema keys create --account NAME`)."""
    amount = parse_money(balance)
    with open_store(data_dir, db) as store:
        try:
            account = store.create_account(name, amount)
        except ValueError as exc:
            raise fail(str(exc)) from None
    console.print(f'Created account "{account.name}" ({account.id}), balance {account.balance}')


@accounts_app.command("topup")
def topup(name: str, amount: str, data_dir: DataDirOption = None, db: DbOption = None) -> None:
    """Add AMOUNT to an account's balance (negative to correct a mistake)."""
    value = parse_money(amount)
    with open_store(data_dir, db) as store:
        account = store.topup(account_or_exit(store, name).id, value, note="kinema accounts topup")
    console.print(f'"{account.name}" balance: {account.balance}')


@accounts_app.command("show")
def show(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Balance, money held for unfinished tasks, limits and recent movements."""
    from kinema.api.account_views import summary_json

    with open_store(data_dir, db) as store:
        summary = store.summary(account_or_exit(store, name).id)
    assert summary is not None
    if as_json:
        print(json.dumps(summary_json(summary), indent=2))
        return
    account = summary.account
    console.print(f"[bold]{account.name}[/bold] ({account.id})")
    console.print(f"balance {account.balance}   held {summary.held}   "
                  f"queued {summary.queued}   running {summary.running}")  # fmt: skip
    console.print(f"limits: rpm {account.rpm_limit or 'default'}, max queued "
                  f"{account.max_queued or 'default'}, max running "
                  f"{account.max_running or 'default'}")  # fmt: skip
    table = Table(title="recent movements")
    for column in ("when", "kind", "amount", "balance after", "task"):
        table.add_column(column)
    for entry in summary.recent:
        when = datetime.fromtimestamp(entry.created_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(when, entry.kind, str(entry.amount), str(entry.balance_after),
                      entry.task_id or entry.note or "")  # fmt: skip
    console.print(table)


@accounts_app.command("set")
def set_limits(
    name: str,
    rpm: Annotated[int | None, typer.Option(min=1, help="Requests per minute per key.")] = None,
    max_queued: Annotated[int | None, typer.Option(min=1, help="Queued tasks at most.")] = None,
    max_running: Annotated[int | None, typer.Option(min=1, help="Running tasks at most.")] = None,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Set an account's limits (unset ones keep their value)."""
    given = {"rpm_limit": rpm, "max_queued": max_queued, "max_running": max_running}
    limits = {key: value for key, value in given.items() if value is not None}
    if not limits:
        raise fail("nothing to set: give --rpm, --max-queued and/or --max-running")
    with open_store(data_dir, db) as store:
        account = store.set_limits(account_or_exit(store, name).id, **limits)
    console.print(f'"{account.name}": rpm {account.rpm_limit}, max queued {account.max_queued}, '
                  f"max running {account.max_running}")  # fmt: skip


def usage(
    account: Annotated[str | None, typer.Option(help="Only this account (by name).")] = None,
    since: Annotated[str | None, typer.Option(help="From this UTC date, e.g. 2026-11-01.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Tasks, seconds of video, tokens and money per model and day."""
    from kinema.api.account_views import usage_json

    start = None
    if since:
        try:
            start = datetime.fromisoformat(since).replace(tzinfo=UTC).timestamp()
        except ValueError:
            raise fail(f"--since must be a date like 2026-11-01, got {since!r}") from None
    with open_store(data_dir, db) as store:
        account_id = account_or_exit(store, account).id if account else None
        rows = store.usage(account_id, start)
        names = {a.id: a.name for a in store.list_accounts()}
    if as_json:
        print(json.dumps(usage_json(rows), indent=2))
        return
    table = Table(title="usage (succeeded tasks)")
    for column in ("day", "account", "model", "tasks", "seconds", "tokens", "money"):
        table.add_column(column)
    for row in rows:
        owner = names.get(row.account_id, row.account_id)
        figures = (row.tasks, row.seconds, row.tokens, row.money)
        table.add_row(row.day, owner, row.model, *(str(value) for value in figures))
    console.print(table)
