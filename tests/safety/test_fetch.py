"""Fetching client-given URLs safely: public addresses only (every hop, pinned), with limits."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from kinema.safety import addresses
from kinema.safety.fetch import FetchError, FetchLimits, decode_data_uri, fetch_media

# 127.0.0.2 stands in for "a public host" in these tests (no real network here); 127.0.0.1
# stays what it is: the server's own loopback.
STAND_IN_PUBLIC = "127.0.0.2"
LIMITS = FetchLimits(max_bytes=1000, timeout_seconds=2, allow_private=False)


@pytest.fixture(autouse=True)
def stand_in_public(monkeypatch: pytest.MonkeyPatch) -> None:
    real = addresses.is_public

    def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return str(address) == STAND_IN_PUBLIC or real(address)

    monkeypatch.setattr(addresses, "is_public", is_public)


class Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}
    seen: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Host", "")))
        if self.path == "/slow":
            time.sleep(3)
        status, headers, body = self.routes.get(self.path, (404, {}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", headers.get("Content-Length", str(len(body))))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client hangs up past a size limit
            self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """An HTTP server on the stand-in public address; yields its base URL."""
    Handler.routes, Handler.seen = {}, []
    httpd = ThreadingHTTPServer((STAND_IN_PUBLIC, 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://{STAND_IN_PUBLIC}:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def fake_dns(monkeypatch: pytest.MonkeyPatch, resolver: Any) -> None:
    monkeypatch.setattr(
        asyncio.base_events.BaseEventLoop, "getaddrinfo", lambda _loop, *a, **k: resolver(*a, **k)
    )


def fetch(url: str, limits: FetchLimits = LIMITS) -> bytes:
    return asyncio.run(fetch_media(url, limits)).data


def test_a_public_host_is_fetched(server: str) -> None:
    Handler.routes["/a.png"] = (200, {"Content-Type": "image/png"}, b"png-bytes")
    assert fetch(f"{server}/a.png") == b"png-bytes"


def test_a_redirect_to_loopback_is_refused(server: str) -> None:
    Handler.routes["/jump"] = (302, {"Location": "http://127.0.0.1:9/secret"}, b"")
    with pytest.raises(FetchError, match="non-public address"):
        fetch(f"{server}/jump")


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    with pytest.raises(FetchError, match="non-public address"):
        fetch("http://localhost:9/x.png")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/x", "http://10.0.0.8/x", "http://169.254.169.254/latest/meta-data",
     "http://[::1]/x", "http://[::ffff:10.0.0.1]/x", "http://224.0.0.1/x", "http://0.0.0.0/x"],
)  # fmt: skip
def test_private_and_metadata_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchError, match="non-public address"):
        fetch(url)


def test_the_connection_goes_to_the_address_that_was_checked(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name is resolved once; a second, different answer is never used."""
    port = server.rsplit(":", 1)[1]
    answers = iter([STAND_IN_PUBLIC, "127.0.0.1"])

    async def getaddrinfo(host: str, *_args: Any, **_kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), int(port)))]

    fake_dns(monkeypatch, getaddrinfo)
    Handler.routes["/img"] = (200, {}, b"ok")
    assert fetch(f"http://rebind.test:{port}/img") == b"ok"
    assert Handler.seen == [("/img", f"rebind.test:{port}")]


def test_one_private_answer_among_public_ones_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    async def getaddrinfo(host: str, port: int, *_args: Any, **_kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
                for ip in (STAND_IN_PUBLIC, "192.168.1.10")]  # fmt: skip

    fake_dns(monkeypatch, getaddrinfo)
    with pytest.raises(FetchError, match=r"192\.168\.1\.10"):
        fetch("http://mixed.test/x")


def test_size_limits(server: str) -> None:
    Handler.routes["/big"] = (200, {}, b"x" * 1001)
    Handler.routes["/liar"] = (200, {"Content-Length": "999999"}, b"x")
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        fetch(f"{server}/big")
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        fetch(f"{server}/liar")


def test_time_limit(server: str) -> None:
    Handler.routes["/slow"] = (200, {}, b"late")
    with pytest.raises(FetchError, match="longer than"):
        fetch(f"{server}/slow", FetchLimits(1000, timeout_seconds=0.5, allow_private=False))


def test_redirect_limit(server: str) -> None:
    for hop in range(5):
        Handler.routes[f"/r{hop}"] = (302, {"Location": f"/r{hop + 1}"}, b"")
    with pytest.raises(FetchError, match="too many redirects"):
        fetch(f"{server}/r0")


@pytest.mark.parametrize("url", ["ftp://example.com/a.png", "file:///etc/passwd", "gopher://x"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(FetchError, match="http and https"):
        fetch(url)


def test_http_errors_are_reported(server: str) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(f"{server}/missing")


def test_data_uris_have_the_same_size_limit() -> None:
    small = "data:image/png;base64," + base64.b64encode(b"x" * 10).decode()
    assert decode_data_uri(small, 1000).data == b"x" * 10
    large = "data:image/png;base64," + base64.b64encode(b"x" * 1001).decode()
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        decode_data_uri(large, 1000)
    with pytest.raises(FetchError, match="base64"):
        decode_data_uri("data:image/png;base64,***", 1000)
