"""The ``kinema`` command line: serve, worker, keys, accounts, usage, models; generate and tasks
(clients of a running server)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kinema.cli.accounts import accounts_app, usage
from kinema.cli.generate import generate
from kinema.cli.keys import keys_app
from kinema.cli.models import models
from kinema.cli.server import serve, worker
from kinema.cli.tasks import tasks_app

app = typer.Typer(
    help="Kinema: a self-hosted video generation service that speaks the Seedance API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(serve)
app.command()(worker)
app.command()(models)
app.command()(usage)
app.command()(generate)
app.add_typer(keys_app, name="keys")
app.add_typer(accounts_app, name="accounts")
app.add_typer(tasks_app, name="tasks")


@app.callback()
def _global_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show an error's traceback, not only its one line")
    ] = False,
) -> None:
    # No docstring: the app's help stays the one above.
    from kinema.cli.remote import set_debug

    set_debug(debug)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
