"""A real ``kinema serve`` for the client and CLI tests, and a TCP proxy that drops a connection.

The server runs as a subprocess exactly as a user starts it; tests make their own accounts
directly in its database (so no test sees another's tasks). One priced model
(:data:`PRICED`) lets an account without money be refused, and one blocklisted word
(:data:`BLOCKED_WORD`) lets a prompt be refused by the content policy.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from kinema.client import SubmitOptions
from kinema.config import Settings
from kinema.domain.keys import new_api_key
from kinema.store.sql import SqlStore
from tests.support import serve

LITE = "seedance-1-0-lite-t2v-250428"
LITE_I2V = "seedance-1-0-lite-i2v-250428"
SLOW = "seedance-1-0-pro-250528"
"""At 1080p and 12 s its task runs for seconds: long enough to be interrupted while running."""
PRICED = "seedance-1-0-pro-fast-251015"
BLOCKED_WORD = "zyxqblockedword"
QUICK: SubmitOptions = {"resolution": "480p", "duration": 2}


@dataclass
class KinemaServer:
    """A running ``kinema serve`` at ``base_url``."""

    base_url: str
    data_dir: Path
    store: SqlStore

    def new_key(self, models: list[str] | None = None) -> str:
        """A key of a new account with no money (only :data:`PRICED` costs any), allowed
        ``models`` (all when None)."""
        account = self.store.create_account(f"test-{secrets.token_hex(4)}")
        key = new_api_key()
        self.store.add_api_key(account.id, key, models=models)
        return key

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def set_rpm(self, key: str, rpm: int) -> None:
        found = self.store.authenticate(key)
        assert found is not None
        self.store.set_limits(found[0].id, rpm_limit=rpm)


@contextmanager
def kinema_server(data_dir: Path) -> Iterator[KinemaServer]:
    """``kinema serve --workers 1`` on a free port, with a prices file and a blocked word."""
    data_dir.mkdir(parents=True, exist_ok=True)
    prices = data_dir / "prices.toml"
    prices.write_text(f"[{PRICED}]\n480p = 1.0\n720p = 1.0\n1080p = 1.0\n")
    env = {"KINEMA_PRICES_FILE": str(prices), "KINEMA_BLOCKLIST_ADD": f'["{BLOCKED_WORD}"]'}
    with serve(data_dir, "--workers", "1", env=env) as (base_url, _):
        store = SqlStore(Settings(data_dir=data_dir).database_url)
        try:
            yield KinemaServer(base_url, data_dir, store)
        finally:
            store.close()


def cli_env(server: KinemaServer, key: str | None) -> dict[str, str]:
    """The environment of a ``kinema`` subprocess: this server and key, nothing inherited."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KINEMA_")}
    env["KINEMA_BASE_URL"] = server.base_url
    if key is not None:
        env["KINEMA_API_KEY"] = key
    return env


class CuttingProxy:
    """Forwards TCP connections to ``127.0.0.1:target_port``. The first answer to pass
    ``cut_after`` bytes is cut there, once: its connection is closed mid-answer. ``requests``
    holds the head of every request forwarded."""

    def __init__(self, target_port: int, cut_after: int) -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.cuts = 0
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, url: str) -> str:
        """``url`` (on the target) as seen through the proxy."""
        return url.replace(f"127.0.0.1:{self.target_port}", f"127.0.0.1:{self.port}")

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client), daemon=True).start()

    def _up(self, client: socket.socket, upstream: socket.socket) -> None:
        while chunk := _recv(client):
            if chunk[:8].split(b" ")[0] in (b"GET", b"POST", b"DELETE"):
                with self._lock:
                    self.requests.append(chunk.split(b"\r\n\r\n")[0].decode("latin-1"))
            upstream.sendall(chunk)
        _close(client, upstream)

    def _down(self, upstream: socket.socket, client: socket.socket) -> None:
        sent = 0
        while chunk := _recv(upstream):
            with self._lock:
                cut = self.cuts == 0 and sent + len(chunk) > self.cut_after
                if cut:
                    self.cuts += 1
            if cut:
                client.sendall(chunk[: self.cut_after - sent])
                break
            client.sendall(chunk)
            sent += len(chunk)
        _close(client, upstream)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
