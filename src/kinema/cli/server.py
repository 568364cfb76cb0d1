"""``kinema serve`` and ``kinema worker``: the processes that run the service."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from kinema.cli.common import DataDirOption, DbOption, console, settings_from, setup_logging
from kinema.cli.models import ModelsOption, check_engines, load_catalog_or_exit
from kinema.domain.keys import new_api_key


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
    models_file: ModelsOption = None,
) -> None:  # fmt: skip
    """Run the HTTP API and its workers (the embedded default needs nothing else)."""
    import uvicorn

    from kinema.api import access_log
    from kinema.api.app import build_services, create_app
    from kinema.api.limits import server_limits
    from kinema.webhooks.dispatcher import Dispatcher
    from kinema.worker.pool import WorkerPool
    from kinema.worker.reaper import Reaper

    setup_logging()
    settings = settings_from(data_dir=data_dir, db=db, workers=workers, models_file=models_file)
    catalog = load_catalog_or_exit(settings)
    if settings.workers:
        check_engines(catalog)
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
        timeout_graceful_shutdown=5, **server_limits(settings),
    )  # fmt: skip
    access_log.install()  # after uvicorn's own logging set-up: download signatures stay out
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
    models_file: ModelsOption = None,
) -> None:
    """Run one worker: claim tasks from the database and render them."""
    from kinema.api.app import build_services
    from kinema.worker.runner import Worker, worker_id

    setup_logging()
    settings = settings_from(data_dir=data_dir, db=db, models_file=models_file)
    catalog = load_catalog_or_exit(settings)
    # Before anything starts: a model whose engine is not installed is one clear line.
    models = check_engines(catalog, tuple(model or ()))
    services = build_services(settings, screening=False)
    owner = f"{name}@{worker_id()}" if name else None
    runner = Worker(settings, services.store, services.artifacts, models=models, owner=owner,
                    parent_pid=parent_pid, catalog=catalog)  # fmt: skip

    def on_signal(_signum: int, _frame: object) -> None:
        runner.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        runner.run()
    finally:
        services.store.close()
