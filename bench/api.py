"""HTTP API throughput and latency: Kinema's submit and result routes against a bare FastAPI app.

What it measures
    Four Kinema scenarios, each ``--requests`` requests sent by ``--concurrency`` concurrent
    tasks, each task with its own ``httpx.AsyncClient`` holding one keep-alive connection (one
    shared pool of C connections costs httpx several times the CPU per request), after a
    warm-up of the same scenario:

    1. GPTProto submit  ``POST /api/v3/bytedance/seedance-1-0-lite-t2v-250428/text-to-video``
    2. Ark create       ``POST /api/v3/contents/generations/tasks``
    3. GPTProto result  ``GET  /api/v3/predictions/{id}/result`` over the ids made in (1)
    4. Ark get          ``GET  /api/v3/contents/generations/tasks/{id}`` over the ids made in (2)

    and two reference scenarios against a bare FastAPI app measured in the same run, on the same
    uvicorn settings, from the same client: (5) a POST that parses a small JSON body and answers a
    GPTProto-shaped envelope, and (6) a GET that answers a small dict.

    Kinema runs as the real app (``create_app``) with ``workers=0``, so submitted tasks only queue
    (nothing is rendered); the queue grows by every submit of the run, and a queued task's views
    include its queue position. Each server runs in its own process (multiprocessing ``spawn``),
    so the load generator does not share a GIL with it. SQLite lives in a temporary directory;
    with ``--db postgresql://...`` the run uses a scratch database created next to the one named
    and dropped afterwards (or, when it may not create one, the named database itself).

How to read it
    ``req/s`` is requests completed divided by the wall time of the scenario; p50/p99 are the
    per-request latencies (``time.perf_counter`` around each request, so they include waiting
    behind the other concurrent requests). "req/s vs bare" is Kinema's req/s over the bare
    endpoint's of the same kind (submits against the bare POST, queries against the bare GET):
    the share of what uvicorn + FastAPI + this client can do at all that Kinema keeps once it
    authenticates, validates, talks to the database and renders its views. 1.0 would mean Kinema
    costs nothing over an empty handler; 0.25 means each request costs about four times an empty
    one.

    Everything (both servers, the load generator and, for PostgreSQL, the database) shares this
    machine's CPUs, and a single-process httpx client saturates around a core's worth of work,
    so the bare endpoint's req/s is usually bound by the client (the report says how busy the
    client was) and "req/s vs bare" flatters Kinema. The server CPU columns do not depend on the
    client: CPU seconds the server process spent during the measured requests (from
    ``/proc/<pid>/stat``; excludes PostgreSQL's own processes) divided by the requests, and
    "CPU vs bare" is the bare endpoint's figure over Kinema's, read like the other ratio.
    Absolute figures are for comparing runs on the same machine. Nothing is asserted.

Run: ``python bench/api.py [--requests N] [--concurrency C] [--db URL]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as ``python bench/api.py``, this file's folder is first on sys.path, so a sibling bench
# script named like a standard module (bench/queue.py shadows ``queue``) would be imported in its
# place, here and in the spawned servers (they inherit sys.path). Drop that entry.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import asyncio
import importlib.metadata
import importlib.util
import math
import os
import platform
import secrets
import shutil
import socket
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Request

MODEL = "seedance-1-0-lite-t2v-250428"
GPTPROTO_SUBMIT = f"/api/v3/bytedance/{MODEL}/text-to-video"
GPTPROTO_RESULT = "/api/v3/predictions/{id}/result"
ARK_TASKS = "/api/v3/contents/generations/tasks"
PROMPT = "a paper boat drifting down a rain-soaked street at dusk, neon reflections"
GPTPROTO_BODY: dict[str, Any] = {"prompt": PROMPT, "resolution": "480p", "duration": 5}
ARK_BODY: dict[str, Any] = {
    "model": MODEL,
    "content": [{"type": "text", "text": PROMPT}],
    "resolution": "480p",
    "duration": 5,
}
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0

Kind = Literal["submit", "query", "bare-post", "bare-get"]
Sender = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


# -- servers (each runs in a spawned child process) -------------------------------------------


def _listening_socket() -> socket.socket:
    # proto must be IPPROTO_TCP (not 0): asyncio sets TCP_NODELAY on accepted connections only
    # then, and without it every response waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _run_uvicorn(app: FastAPI, sock: socket.socket) -> None:
    """The same uvicorn settings for both apps: no access log, whatever loop/http are installed."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])


def bare_app() -> FastAPI:
    """The reference: routing, a JSON body parsed, a dict serialised; nothing else."""
    app = FastAPI()

    @app.post("/api/v3/{vendor}/{model}/{mode}")
    async def submit(vendor: str, model: str, mode: str, request: Request) -> dict[str, Any]:
        body = await request.json()
        task_id = "cgt-20260101000000-" + secrets.token_hex(3)[:5]
        return {
            "code": 200,
            "message": "success",
            "data": {
                "id": task_id,
                "model": model,
                "status": "queued",
                "outputs": [],
                "urls": {"get": f"{request.base_url}api/v3/predictions/{task_id}/result"},
                "error": None,
                "has_nsfw_contents": [],
                "created_at": "2026-01-01T00:00:00.000Z",
                "executionTime": 0,
                "timings": {"inference": 0},
                "seed": body.get("seed", -1),
            },
        }

    @app.get("/api/v3/predictions/{task_id}/result")
    async def result(task_id: str) -> dict[str, Any]:
        return {"code": 200, "message": "success", "data": {"id": task_id, "status": "queued"}}

    return app


def serve_bare(conn: Connection) -> None:
    """Child process: the bare app; sends ``{"port"}`` once it is about to listen."""
    try:
        app = bare_app()
        sock = _listening_socket()
        conn.send({"port": sock.getsockname()[1]})
    except Exception:
        conn.send({"error": traceback.format_exc()})
        return
    finally:
        conn.close()
    _run_uvicorn(app, sock)


def serve_kinema(conn: Connection, data_dir: str, db: str | None) -> None:
    """Child process: the real Kinema app (workers=0, no prices file so tasks are free, queue and
    rate limits out of reach); sends ``{"port", "key"}``."""
    try:
        from kinema.api.app import create_app
        from kinema.config import Settings
        from kinema.domain.keys import new_api_key

        # Limits far above what a run sends (the rate limit is still counted per request).
        settings = Settings(
            data_dir=Path(data_dir),
            db=db,
            workers=0,
            max_queued_per_account=1_000_000_000,
            default_rpm=1_000_000_000,
        )
        app = create_app(settings)
        store = app.state.services.store
        account = store.create_account(f"bench-{secrets.token_hex(4)}")
        key = new_api_key()
        store.add_api_key(account.id, key, name="bench")
        sock = _listening_socket()
        conn.send({"port": sock.getsockname()[1], "key": key})
    except Exception:
        conn.send({"error": traceback.format_exc()})
        return
    finally:
        conn.close()
    _run_uvicorn(app, sock)


@dataclass
class Server:
    base_url: str
    key: str | None
    pid: int


@contextmanager
def server_process(
    name: str, target: Callable[..., None], *args: Any, ready_path: str
) -> Iterator[Server]:
    """Start ``target`` in a spawned process, wait until ``ready_path`` answers 200, stop it."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process: SpawnProcess = ctx.Process(target=target, args=(child, *args), name=name)
    process.start()
    child.close()
    try:
        if not parent.poll(START_TIMEOUT_SECONDS):
            raise RuntimeError(f"{name} did not start (exit code {process.exitcode})")
        info: dict[str, Any] = parent.recv()
        if "error" in info:
            raise RuntimeError(f"{name} failed to start:\n{info['error']}")
        assert process.pid is not None
        server = Server(f"http://127.0.0.1:{info['port']}", info.get("key"), process.pid)
        _wait_ready(name, process, server.base_url + ready_path)
        yield server
    finally:
        parent.close()
        _stop(process)


def _wait_ready(name: str, process: SpawnProcess, url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not process.is_alive():
            raise RuntimeError(f"{name} exited with code {process.exitcode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not answer {url}")


def _stop(process: SpawnProcess) -> None:
    """SIGTERM (uvicorn shuts down gracefully, the app closes its store), then SIGKILL."""
    if process.is_alive():
        process.terminate()
        process.join(STOP_TIMEOUT_SECONDS)
    if process.is_alive():
        process.kill()
        process.join(STOP_TIMEOUT_SECONDS)
    process.close()


# -- databases ---------------------------------------------------------------------------------


@dataclass
class Database:
    url: str | None
    """What Kinema is given (``None``: SQLite in its data dir)."""
    summary: str


@contextmanager
def database(url: str | None, data_dir: str) -> Iterator[Database]:
    """SQLite in the temp dir, the SQLite URL given, or a scratch PostgreSQL database."""
    if url is None:
        yield Database(None, "sqlite (file in a temporary directory, WAL)")
        return
    if url.startswith(("postgresql://", "postgres://", "postgresql+")):
        with scratch_postgres(url) as found:
            yield found
        return
    yield Database(url, f"{url.split(':', 1)[0]} ({url})")


@contextmanager
def scratch_postgres(url: str) -> Iterator[Database]:
    """A fresh database beside the one in ``url`` (dropped afterwards), else ``url`` itself."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from kinema.store.engine import normalise_url

    admin = sa.create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    name = f"kinema_bench_api_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            version = str(conn.exec_driver_sql("SHOW server_version").scalar_one())
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:
        admin.dispose()
        reason = str(exc).splitlines()[0]
        print(f"note: could not create a scratch database ({reason}); using {url} as it is")
        yield Database(url, f"postgresql ({url}, used in place)")
        return
    scratch = make_url(url).set(database=name).render_as_string(hide_password=False)
    try:
        yield Database(scratch, f"postgresql {version.split()[0]} (scratch database {name})")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


# -- load generator ----------------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` (Linux ``/proc``; ``None`` elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Measurement:
    scenario: str
    kind: Kind
    requests: int
    errors: int = 0
    seconds: float = 0.0
    server_cpu: float | None = None
    """Server process CPU seconds spent during the measured requests."""
    client_cpu: float = 0.0
    """Load generator CPU seconds spent during the measured requests."""
    latencies: list[float] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    first_error: str | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.server_cpu is None or self.requests == 0:
            return None
        return self.server_cpu / self.requests * 1000

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
        return ordered[rank - 1] * 1000


@dataclass
class Target:
    """A running server, seen from the load generator: one keep-alive client per task."""

    server: Server
    clients: list[httpx.AsyncClient]


async def drive(
    target: Target,
    measurement: Measurement,
    send: Sender,
    id_of: Callable[[Any], str] | None = None,
) -> Measurement:
    """Send ``measurement.requests`` requests, one task per client; fills ``measurement``."""
    indexes = iter(range(measurement.requests))

    async def one_connection(client: httpx.AsyncClient) -> None:
        for index in indexes:  # shared iterator: each index is taken by exactly one task
            start = time.perf_counter()
            try:
                response = await send(client, index)
            except httpx.HTTPError as exc:
                measurement.latencies.append(time.perf_counter() - start)
                _failed(measurement, f"{type(exc).__name__}: {exc}")
                continue
            measurement.latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                _failed(measurement, f"HTTP {response.status_code}: {response.text[:300]}")
            elif id_of is not None:
                measurement.ids.append(id_of(response.json()))

    server_before = process_cpu_seconds(target.server.pid)
    client_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(one_connection(client) for client in target.clients))
    measurement.seconds = time.perf_counter() - started
    measurement.client_cpu = time.process_time() - client_before
    server_after = process_cpu_seconds(target.server.pid)
    if server_before is not None and server_after is not None:
        measurement.server_cpu = server_after - server_before
    return measurement


def _failed(measurement: Measurement, reason: str) -> None:
    measurement.errors += 1
    if measurement.first_error is None:
        measurement.first_error = reason


def post(path: str, body: dict[str, Any]) -> Sender:
    async def send(client: httpx.AsyncClient, _index: int) -> httpx.Response:
        return await client.post(path, json=body)

    return send


def get_each(template: str, ids: list[str]) -> Sender:
    async def send(client: httpx.AsyncClient, index: int) -> httpx.Response:
        return await client.get(template.format(id=ids[index % len(ids)]))

    return send


@dataclass
class Scenario:
    name: str
    kind: Kind
    target: Target
    send: Sender
    id_of: Callable[[Any], str] | None = None


async def measure(scenario: Scenario, requests: int, warmup: int) -> tuple[Measurement, list[str]]:
    """Warm up, then measure; returns the measurement and the ids the warm-up made."""
    print(f"  {scenario.name}: {warmup} warm-up + {requests} measured ...", flush=True)
    warm = Measurement(scenario.name, scenario.kind, warmup)
    await drive(scenario.target, warm, scenario.send, scenario.id_of)
    if warm.errors:
        print(f"    warm-up errors: {warm.errors} (first: {warm.first_error})")
    result = Measurement(scenario.name, scenario.kind, requests)
    await drive(scenario.target, result, scenario.send, scenario.id_of)
    return result, warm.ids


async def open_target(stack: AsyncExitStack, server: Server, concurrency: int) -> Target:
    """``concurrency`` clients of one connection each: one shared pool of many connections
    costs httpx several times the CPU per request, and this client is the scarce side."""
    headers = {"Authorization": f"Bearer {server.key}"} if server.key else {}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        await stack.enter_async_context(
            httpx.AsyncClient(
                base_url=server.base_url, headers=headers, limits=limits, timeout=60.0
            )
        )
        for _ in range(concurrency)
    ]
    return Target(server, clients)


def _gptproto_id(body: Any) -> str:
    return str(body["data"]["id"])


def _ark_id(body: Any) -> str:
    return str(body["id"])


async def run_all(
    kinema_server: Server, bare_server: Server, requests: int, concurrency: int, warmup: int
) -> list[Measurement]:
    results: list[Measurement] = []
    async with AsyncExitStack() as stack:
        kinema = await open_target(stack, kinema_server, concurrency)
        bare = await open_target(stack, bare_server, concurrency)
        submit, submit_warm = await measure(
            Scenario("Kinema GPTProto submit", "submit", kinema,
                     post(GPTPROTO_SUBMIT, GPTPROTO_BODY), _gptproto_id),
            requests, warmup,
        )  # fmt: skip
        create, create_warm = await measure(
            Scenario("Kinema Ark create", "submit", kinema, post(ARK_TASKS, ARK_BODY), _ark_id),
            requests, warmup,
        )  # fmt: skip
        results += [submit, create]
        queries = [
            ("Kinema GPTProto result", GPTPROTO_RESULT, submit.ids or submit_warm),
            ("Kinema Ark get", ARK_TASKS + "/{id}", create.ids or create_warm),
        ]
        for name, template, ids in queries:
            if not ids:
                print(f"  {name}: skipped (no task ids: every submit failed)")
                continue
            scenario = Scenario(name, "query", kinema, get_each(template, ids))
            results.append((await measure(scenario, requests, warmup))[0])
        bare_ids = [f"cgt-20260101000000-{index:05d}" for index in range(100)]
        for scenario in (
            Scenario("bare FastAPI POST", "bare-post", bare, post(GPTPROTO_SUBMIT, GPTPROTO_BODY)),
            Scenario("bare FastAPI GET", "bare-get", bare, get_each(GPTPROTO_RESULT, bare_ids)),
        ):
            results.append((await measure(scenario, requests, warmup))[0])
    return results


# -- report ------------------------------------------------------------------------------------


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def environment(db: Database, args: argparse.Namespace, warmup: int, load_before: str) -> str:
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return (
        f"CPUs: {os.cpu_count()} (shared by both servers, the load generator and any database) · "
        f"Python {platform.python_version()} · database: {db.summary} · "
        f"uvicorn {_version('uvicorn')} ({loop}, {http}), one process per server, no access log "
        f"· fastapi {_version('fastapi')} · httpx {_version('httpx')} client, one process · "
        f"{args.requests} requests per scenario, concurrency {args.concurrency}, "
        f"{warmup} warm-up requests each · 1-min load average {load_before} before the run, "
        f"{_load_average()} after it (this run included; other work on the machine skews "
        "every figure)"
    )


_BASELINE: dict[Kind, Kind] = {"submit": "bare-post", "query": "bare-get"}


def _ratio(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return "n/a"
    return f"{value / reference:.2f}x"


def report(results: list[Measurement], env: str, db: Database) -> None:
    from rich.console import Console
    from rich.table import Table

    bare: dict[Kind, Measurement] = {m.kind: m for m in results if m.kind not in _BASELINE}
    table = Table(title="Kinema HTTP API vs a bare FastAPI endpoint (same run, same machine)")
    columns = ("scenario", "requests", "errors", "req/s", "p50 ms", "p99 ms", "req/s vs bare",
               "server CPU ms/req", "CPU vs bare")  # fmt: skip
    for column in columns:
        if column == "scenario":
            table.add_column(column, no_wrap=True)
        else:
            table.add_column(column, justify="right")
    for m in results:
        cpu = m.cpu_ms_per_request
        rate_ratio = cpu_ratio = "reference"
        if m.kind in _BASELINE:
            reference = bare.get(_BASELINE[m.kind])
            rate_ratio = _ratio(m.rate, reference.rate if reference else None)
            # Inverted so that both ratios read the same way: 1.0 = as cheap as bare.
            bare_cpu = reference.cpu_ms_per_request if reference else None
            cpu_ratio = _ratio(bare_cpu, cpu) if cpu else "n/a"
        table.add_row(
            m.scenario,
            str(m.requests),
            str(m.errors),
            f"{m.rate:,.0f}",
            f"{m.percentile_ms(50):.1f}",
            f"{m.percentile_ms(99):.1f}",
            rate_ratio,
            "n/a" if cpu is None else f"{cpu:.2f}",
            cpu_ratio,
        )
    console = Console(width=max(150, Console().width))
    console.print()
    console.print(table)
    notes = [
        "req/s vs bare: Kinema's req/s / the bare endpoint's (submits vs bare POST, queries vs "
        "bare GET). CPU vs bare: the bare endpoint's server CPU per request / Kinema's, "
        "so 0.25x = four times the CPU of an empty handler.",
    ]
    if db.url is not None and db.url.startswith("postgres"):
        notes.append("Server CPU excludes PostgreSQL's own processes.")
    client_busy = [m.client_cpu / m.seconds for m in bare.values() if m.seconds > 0]
    if client_busy:
        notes.append(
            f"The load generator kept {max(client_busy):.0%} of a core busy during the bare "
            "scenarios (near 100% means their req/s is bound by the client, not the server)."
        )
    for note in notes:
        console.print(note, highlight=False, soft_wrap=True)
    console.print(env, highlight=False, soft_wrap=True)
    for m in results:
        if m.first_error:
            console.print(f"first error in {m.scenario}: {m.first_error}", highlight=False)


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Kinema HTTP API throughput and latency against a bare FastAPI endpoint."
    )
    parser.add_argument(
        "--requests", "-n", type=int, default=2000, help="measured requests per scenario"
    )
    parser.add_argument(
        "--concurrency", "-c", type=int, default=16, help="requests in flight at once"
    )
    parser.add_argument(
        "--warmup", type=int, default=None, help="warm-up requests per scenario [N/10, >= 4*C]"
    )
    parser.add_argument(
        "--db",
        default=None,
        help="database URL for Kinema [SQLite in a temporary directory]; postgresql://... "
        "runs on a scratch database created beside the one named and dropped afterwards",
    )
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1:
        parser.error("--requests and --concurrency must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    warmup: int = args.warmup
    if warmup is None:
        warmup = max(args.requests // 10, 4 * args.concurrency)
    load_before = _load_average()
    print(f"Kinema API benchmark on {os.cpu_count()} CPUs (everything shares them).")
    with ExitStack() as stack:
        data_dir = tempfile.mkdtemp(prefix="kinema-bench-api-")
        stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
        db = stack.enter_context(database(args.db, data_dir))
        print("starting Kinema (workers=0) and the bare FastAPI app ...", flush=True)
        kinema = stack.enter_context(
            server_process("kinema", serve_kinema, data_dir, db.url, ready_path="/healthz")
        )
        bare = stack.enter_context(
            server_process("bare", serve_bare, ready_path=GPTPROTO_RESULT.format(id="x"))
        )
        results = asyncio.run(run_all(kinema, bare, args.requests, args.concurrency, warmup))
    report(results, environment(db, args, warmup, load_before), db)


if __name__ == "__main__":
    main()
