"""The ``kinema`` command line: serve, worker, keys, accounts, usage, models."""

from __future__ import annotations

import sys

import typer

from kinema.cli.accounts import accounts_app, usage
from kinema.cli.keys import keys_app
from kinema.cli.models import models
from kinema.cli.server import serve, worker

app = typer.Typer(
    help="Kinema: a self-hosted video generation service that speaks the Seedance API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(serve)
app.command()(worker)
app.command()(models)
app.command()(usage)
app.add_typer(keys_app, name="keys")
app.add_typer(accounts_app, name="accounts")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
