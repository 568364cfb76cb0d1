"""The ``kinema`` command line: serve, worker, keys, models."""

from __future__ import annotations

import logging
import secrets
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kinema.config import Settings

app = typer.Typer(
    help="Kinema: a self-hosted video generation service that speaks the Seedance API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Create API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

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


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the flags that were given on top."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValueError as exc:
        err_console.print(f"[red]invalid settings:[/red] {exc}")
        raise typer.Exit(2) from None


def new_api_key() -> str:
    """``sk-`` + 48 url-safe random characters."""
    return "sk-" + secrets.token_urlsafe(36)


def _setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: DataDirOption = None,
    db: DbOption = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes to supervise; 0 queues tasks but runs none. "
                     "[default: 1]"),
    ] = None,
) -> None:  # fmt: skip
    """Run the HTTP API and its workers (the embedded default needs nothing else)."""
    import uvicorn

    from kinema.api.app import build_services, create_app
    from kinema.webhooks.dispatcher import Dispatcher
    from kinema.worker.pool import WorkerPool
    from kinema.worker.reaper import Reaper

    _setup_logging()
    settings = _settings(data_dir=data_dir, db=db, workers=workers)
    services = build_services(settings)
    if services.store.count_accounts() == 0:
        key = new_api_key()
        account = services.store.create_account("default")
        services.store.add_api_key(account.id, key, name="first start")
        console.print('Created account "default". Its API key (shown only this once):')
        console.print(key, highlight=False, soft_wrap=True)
    pool = WorkerPool(settings, settings.workers)
    pool.start()
    # The serve process reaps too, so overdue tasks expire even with --workers 0, and it
    # delivers callbacks, so that no worker ever waits on a slow receiver.
    background_stop = threading.Event()
    Reaper(settings, services.store, services.artifacts).start(background_stop)
    Dispatcher(settings, services.store).start(background_stop)
    config = uvicorn.Config(
        create_app(settings, services), host=host, port=port, log_level="info",
        timeout_graceful_shutdown=5,
    )  # fmt: skip
    # uvicorn re-raises the signal that stopped it once it has shut down; with our own
    # handlers in place that lands here harmlessly, and the workers are stopped below.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: None)
    try:
        uvicorn.Server(config).run()
    finally:
        background_stop.set()
        pool.stop()
        services.store.close()


@app.command()
def worker(
    data_dir: DataDirOption = None,
    db: DbOption = None,
    name: Annotated[str | None, typer.Option(help="Name shown in logs and leases.")] = None,
    model: Annotated[
        list[str] | None, typer.Option("--model", help="Only run tasks of this model (repeat).")
    ] = None,
    parent_pid: Annotated[
        int | None, typer.Option(hidden=True, help="Exit when this process is gone.")
    ] = None,
) -> None:
    """Run one worker: claim tasks from the database and render them."""
    from kinema.api.app import build_services
    from kinema.worker.runner import Worker, worker_id

    _setup_logging()
    settings = _settings(data_dir=data_dir, db=db)
    services = build_services(settings)
    owner = f"{name}@{worker_id()}" if name else None
    runner = Worker(settings, services.store, services.artifacts,
                    models=tuple(model or ()), owner=owner, parent_pid=parent_pid)  # fmt: skip

    def on_signal(_signum: int, _frame: object) -> None:
        runner.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        runner.run()
    finally:
        services.store.close()


@keys_app.command("create")
def keys_create(
    data_dir: DataDirOption = None,
    db: DbOption = None,
    name: Annotated[str | None, typer.Option(help="Name of the new account.")] = None,
) -> None:
    """Create an account with a new API key; the key is printed alone on the last line."""
    from kinema.store.sql import SqlStore

    settings = _settings(data_dir=data_dir, db=db)
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


@app.command()
def models() -> None:
    """List the model catalog and the engine serving each model."""
    from kinema.domain.catalog import Catalog

    table = Table(title="Kinema models")
    table.add_column("id", no_wrap=True)
    for column in ("engine", "modes", "resolutions", "duration", "audio"):
        table.add_column(column)
    for spec in Catalog().models:
        low, high = spec.durations
        table.add_row(
            spec.id,
            spec.engine,
            ", ".join(sorted(m.label for m in spec.modes)),
            " ".join(spec.resolutions),
            f"{low}-{high} s" + (" or -1" if spec.auto_duration else ""),
            "yes" if spec.audio else "no",
        )
    console.print(table)
    console.print(
        "The preview engine is procedural (shapes, gradients and synthesised sound chosen "
        "from the prompt), not a neural network."
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
