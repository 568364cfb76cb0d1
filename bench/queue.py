"""The task table as a queue: claim → complete throughput, and submit → running latency.

What it measures
    Throughput: ``--tasks`` tasks (default 2,000) are submitted up front through the real
    ``SqlStore.create_task``; then N workers, each looping ``claim`` → ``complete`` (empty
    outputs, two write transactions per task) until ``claim`` finds nothing, drain the queue.
    Workers are N threads sharing one store (as ``kinema serve --workers N`` runs them; they
    share one GIL) and, separately, N processes with a store each (as ``kinema worker`` runs on
    a fleet). The clock starts when every worker is connected and ready, and stops when the last
    one finds the queue empty; submitting is not timed. ``tasks/s`` is tasks over that time,
    ``per worker`` that divided by N, ``done`` the succeeded tasks read back afterwards (it must
    equal the tasks submitted: no claim is lost or doubled).

    Latency: a submitter thread creates tasks at a steady ``--rate`` for ``--seconds`` while W
    idle workers (threads in the same process) wait for work the way kinema's workers do: on
    SQLite they poll every ``idle_poll_seconds`` (kinema's default, 0.05 s); on PostgreSQL they
    wait on ``kinema.store.wakeup.TaskWakeup`` (LISTEN/NOTIFY, each with its own connection).
    A task's latency is the time from just before its ``create_task`` call to just after the
    ``claim`` that leased it returned, both read from ``time.monotonic()`` in this one process.

Databases
    SQLite: a fresh file in a temporary directory for each run (WAL, as kinema configures it).
    PostgreSQL (``--pg-url``, default ``postgresql://postgres@127.0.0.1:5432/test``): a scratch
    database created on that server for each run and dropped afterwards; skipped with a note
    when the server cannot be reached. The database runs on the same machine and shares its CPUs
    with the workers.

How to read it
    The figures are for comparing runs on the same machine; nothing is asserted about time. The
    reference machine has 2 CPU cores, so more than 2 workers only adds contention: the
    interesting question is that throughput holds up (no collapse under lock contention), not
    that it scales. Other programs on the machine (other test suites) make figures noisy; the
    load average is printed before and after.

Run: ``python bench/queue.py [--tasks N] [--threads 1,2,4,8] [--processes 1,2,4] [--pg-url URL]
[--skip-postgres] [--rate R] [--seconds S] [--latency-workers 1,4]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file shares its name with the standard library's ``queue``: run as a script, its folder
# would come first on sys.path and shadow it (multiprocessing imports ``queue``).
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import multiprocessing
import os
import platform
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.synchronize import Barrier as ProcessBarrier
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from kinema.config import Settings
from kinema.domain.catalog import Catalog
from kinema.domain.request import Submission, parse_request
from kinema.domain.task import TaskStatus
from kinema.store.base import NewTask, TaskOutputs
from kinema.store.engine import normalise_url
from kinema.store.sql import SqlStore
from kinema.store.wakeup import TaskWakeup

MODEL = "seedance-1-0-lite-t2v-250428"
EMPTY_OUTPUTS = TaskOutputs(video_key="")
LEASE_SECONDS = 30.0
IDLE_POLL_SECONDS: float = Settings.model_fields["idle_poll_seconds"].default
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


# -- databases ------------------------------------------------------------------------------------


def postgres_unreachable(url: str) -> str | None:
    """None if ``url``'s server answers and lets us create databases, else why not."""
    try:
        engine = sa.create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        finally:
            engine.dispose()
    except Exception as exc:
        return str(exc).strip().splitlines()[0]
    return None


@contextmanager
def scratch_database(backend: str, pg_url: str, folder: Path) -> Iterator[str]:
    """A fresh, empty database for one run: a new SQLite file, or a new PostgreSQL database
    (dropped afterwards)."""
    if backend == "sqlite":
        run_dir = folder / secrets.token_hex(4)
        run_dir.mkdir()
        try:
            yield f"sqlite:///{run_dir / 'kinema.db'}"
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
        return
    name = f"kinema_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(normalise_url(pg_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        try:
            yield make_url(normalise_url(pg_url)).set(database=name).render_as_string(False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        admin.dispose()


def submit_tasks(store: SqlStore, count: int) -> None:
    account = store.create_account(f"bench-{secrets.token_hex(3)}")
    request = parse_request(Catalog(), Submission(MODEL, "a paper boat on a rainy street", {}))
    for index in range(count):
        store.create_task(
            NewTask(f"task-{index:06d}", account.id, request, "preview", max_attempts=1)
        )


def count_succeeded(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        query = sa.text("SELECT count(*) FROM tasks WHERE status = :status")
        return int(conn.execute(query, {"status": TaskStatus.SUCCEEDED.value}).scalar_one())


# -- throughput -----------------------------------------------------------------------------------


def drain(store: SqlStore, owner: str) -> int:
    """Claim and complete tasks until none is left to claim; returns how many completed."""
    completed = 0
    while (claim := store.claim(owner, LEASE_SECONDS)) is not None:
        if store.complete(claim, EMPTY_OUTPUTS, 0):
            completed += 1
    return completed


@dataclass
class Throughput:
    backend: str
    workers: int
    kind: str
    tasks: int
    seconds: float
    done: int
    errors: list[str] = field(default_factory=list)


def drain_with_threads(url: str, workers: int) -> tuple[float, list[str]]:
    """N threads sharing one store; returns (seconds, errors)."""
    store = SqlStore(url, migrate=False)
    ready = threading.Barrier(workers + 1)
    ends: list[float] = []
    errors: list[str] = []

    def work(index: int) -> None:
        store.now()  # connect before the clock starts
        ready.wait()
        try:
            drain(store, f"thread-{index}")
        except Exception as exc:
            errors.append(repr(exc))
        ends.append(time.monotonic())

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join()
    store.close()
    return max(ends) - started, errors


def process_worker(url: str, owner: str, ready: ProcessBarrier, results: Any) -> None:
    """One worker process: its own store, then drain once everyone is ready."""
    store = SqlStore(url, migrate=False)
    store.now()  # connect before the clock starts
    ready.wait()
    error = None
    try:
        drain(store, owner)
    except Exception as exc:
        error = repr(exc)
    results.put((time.monotonic(), error))
    store.close()


def drain_with_processes(url: str, workers: int) -> tuple[float, list[str]]:
    """N spawned processes with a store each; returns (seconds, errors). ``time.monotonic`` is
    the system-wide CLOCK_MONOTONIC on Linux, so the children's end times compare with ours."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(workers + 1)
    results = context.Queue()
    processes = [
        context.Process(target=process_worker, args=(url, f"process-{i}", ready, results))
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    ready.wait()
    started = time.monotonic()
    reports = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    errors = [error for _, error in reports if error]
    return max(end for end, _ in reports) - started, errors


def measure_throughput(backend: str, url: str, workers: int, kind: str, tasks: int) -> Throughput:
    store = SqlStore(url)
    submit_tasks(store, tasks)
    run: Callable[[str, int], tuple[float, list[str]]]
    run = drain_with_threads if kind == "thread" else drain_with_processes
    seconds, errors = run(url, workers)
    done = count_succeeded(store)
    store.close()
    return Throughput(backend, workers, kind, tasks, seconds, done, errors)


# -- latency --------------------------------------------------------------------------------------


@dataclass
class Latency:
    backend: str
    wakeup: str
    workers: int
    submitted: int
    latencies: list[float]
    errors: list[str] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure_latency(backend: str, url: str, workers: int, rate: float, seconds: float) -> Latency:
    store = SqlStore(url)
    account = store.create_account("bench")
    request = parse_request(Catalog(), Submission(MODEL, "a paper boat on a rainy street", {}))
    submitted_at: dict[str, float] = {}
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    waiting = threading.Barrier(workers + 1)

    def work(index: int) -> None:
        wakeup = TaskWakeup(url, IDLE_POLL_SECONDS)  # LISTEN on PostgreSQL, polling on SQLite
        waiting.wait()
        try:
            while not stop.is_set():
                claim = store.claim(f"worker-{index}", LEASE_SECONDS)
                if claim is None:
                    wakeup.wait(stop)
                    continue
                claimed = time.monotonic()
                with lock:
                    latencies.append(claimed - submitted_at[claim.task.id])
                store.complete(claim, EMPTY_OUTPUTS, 0)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            wakeup.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    waiting.wait()
    time.sleep(0.5)  # let every worker go idle first
    total = round(rate * seconds)
    started = time.monotonic()
    for index in range(total):
        time.sleep(max(0.0, started + index / rate - time.monotonic()))
        task_id = f"task-{index:06d}"
        submitted_at[task_id] = time.monotonic()
        store.create_task(NewTask(task_id, account.id, request, "preview", max_attempts=1))
    deadline = time.monotonic() + 60
    while len(latencies) < total and time.monotonic() < deadline and not errors:
        time.sleep(0.01)
    stop.set()
    for thread in threads:
        thread.join()
    store.close()
    wakeup = "LISTEN/NOTIFY" if backend == "postgresql" else f"poll {IDLE_POLL_SECONDS:g} s"
    return Latency(backend, wakeup, workers, total, latencies, errors)


# -- report ---------------------------------------------------------------------------------------


def throughput_table(results: list[Throughput]) -> list[str]:
    lines = [
        f"{'database':<11} {'workers':<12} {'tasks':>6} {'seconds':>8} {'tasks/s':>9} "
        f"{'per worker':>11} {'done':>6}",
    ]
    for r in results:
        label = f"{r.workers} {r.kind}{'es' if r.kind == 'process' else 's'}"
        label = label if r.workers > 1 else f"1 {r.kind}"
        rate = r.tasks / r.seconds if r.seconds > 0 else float("nan")
        lines.append(
            f"{r.backend:<11} {label:<12} {r.tasks:>6} {r.seconds:>8.2f} {rate:>9.0f} "
            f"{rate / r.workers:>11.0f} {r.done:>6}"
            + (f"  errors: {len(r.errors)} (first: {r.errors[0]})" if r.errors else "")
        )
    return lines


def latency_table(results: list[Latency]) -> list[str]:
    lines = [
        f"{'database':<11} {'wake-up':<14} {'workers':>7} {'tasks':>6} {'claimed':>7} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}",
    ]
    for r in results:
        ms = [value * 1000 for value in r.latencies] or [float("nan")]
        lines.append(
            f"{r.backend:<11} {r.wakeup:<14} {r.workers:>7} {r.submitted:>6} "
            f"{len(r.latencies):>7} {percentile(ms, 0.5):>8.1f} {percentile(ms, 0.99):>8.1f} "
            f"{max(ms):>8.1f}"
            + (f"  errors: {len(r.errors)} (first: {r.errors[0]})" if r.errors else "")
        )
    return lines


def environment(pg_url: str, pg_missing: str | None) -> list[str]:
    lines = [
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    if pg_missing is None:
        engine = sa.create_engine(normalise_url(pg_url))
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar()
        engine.dispose()
        lines.append(f"PostgreSQL {version} at {make_url(pg_url).render_as_string(True)}")
    return lines


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# -- command line ---------------------------------------------------------------------------------


def int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, default=2000, help="tasks per throughput run")
    parser.add_argument("--threads", type=int_list, default=[1, 2, 4, 8])
    parser.add_argument("--processes", type=int_list, default=[1, 2, 4])
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--rate", type=float, default=50.0, help="latency: submits per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="latency: submitting time")
    parser.add_argument("--latency-workers", type=int_list, default=[1, 4])
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    backends = ["sqlite"]
    pg_missing = "--skip-postgres" if args.skip_postgres else postgres_unreachable(args.pg_url)
    if pg_missing is None:
        backends.append("postgresql")
    print("Kinema queue benchmark (the tasks table as the queue)")
    for line in environment(args.pg_url, pg_missing):
        print("  " + line)
    if pg_missing is not None:
        print(f"  PostgreSQL: skipped ({pg_missing})")
    print(f"  load average before: {load()}", flush=True)

    runs = [(n, "thread") for n in args.threads] + [(n, "process") for n in args.processes]
    throughput: list[Throughput] = []
    latency: list[Latency] = []
    with tempfile.TemporaryDirectory(prefix="kinema-bench-") as tmp:
        for backend in backends:
            for workers, kind in runs:
                with scratch_database(backend, args.pg_url, Path(tmp)) as url:
                    throughput.append(measure_throughput(backend, url, workers, kind, args.tasks))
                print(f"  ran {backend}, {workers} × {kind}", file=sys.stderr, flush=True)
            for workers in args.latency_workers:
                with scratch_database(backend, args.pg_url, Path(tmp)) as url:
                    latency.append(measure_latency(backend, url, workers, args.rate, args.seconds))
                print(f"  ran {backend} latency, {workers} × worker", file=sys.stderr, flush=True)

    print()
    print(f"Throughput: claim → complete, {args.tasks} tasks queued up front, drained by N workers")
    print("\n".join(throughput_table(throughput)))
    print()
    print(
        f"Submit → running latency: {args.rate:g} tasks/s for {args.seconds:g} s, "
        "idle workers (threads) waiting for work"
    )
    print("\n".join(latency_table(latency)))
    print()
    print(f"load average after: {load()} (1, 5, 15 min; above the CPU count means noisy figures)")


if __name__ == "__main__":
    main()
