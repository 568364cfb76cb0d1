"""Hostile requests: each over-limit answer is a clear 4xx in the dialect's shape, never a 500,
and the server answers the next normal request as usual."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from kinema.api.submission import MAX_CONTENT_ITEMS
from kinema.domain.request import MAX_PROMPT_CHARS
from tests.support import LiveService, png_data_uri, start_service

LITE = "seedance-1-0-lite-t2v-250428"
V20 = "seedance-2-0-260128"
ARK = "/api/v3/contents/generations/tasks"
GPTPROTO = f"/api/v3/bytedance/{LITE}/text-to-video"
HEADER_LIMIT = 8 * 1024
BODY_LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    with start_service(tmp_path_factory.mktemp("tight"), workers=0, max_header_bytes=HEADER_LIMIT,
                       max_body_bytes=BODY_LIMIT) as live:  # fmt: skip
        yield live


def raw_request(live: LiveService, head: bytes, body: bytes = b"", timeout: float = 10) -> bytes:
    """Send bytes as they are; returns what came back before the server closed or went quiet."""
    url = urlsplit(live.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        # The server may stop reading early; its answer is still there to read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head + body)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                break
        return b"".join(chunks)


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def still_serving(live: LiveService, key: str) -> None:
    with live.client(key) as client:
        assert client.get("/healthz").status_code == 200
        ok = client.post(GPTPROTO, json={"prompt": "a kite", "resolution": "480p"})
        assert ok.status_code == 200, ok.text


def assert_gptproto_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == str(status) and isinstance(error["code"], str) and error["message"]
    return error


def assert_ark_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert {"code", "message", "type"} <= set(error) and isinstance(error["code"], str)
    return error


def test_oversized_headers_are_431_in_each_dialect(tight: LiveService) -> None:
    key = tight.new_key()
    padding = {"X-Padding": "p" * (HEADER_LIMIT + 100)}
    with tight.client(key) as client:
        gpt = client.post(GPTPROTO, json={"prompt": "a kite"}, headers=padding)
        ark = client.get(ARK, headers=padding)
        long_url = client.get(f"{ARK}?page_num=1&x={'q' * HEADER_LIMIT}")
    assert assert_gptproto_error(gpt, 431)["code"] == "request_header_fields_too_large"
    assert assert_ark_error(ark, 431)["type"] == "RequestHeaderFieldsTooLarge"
    assert long_url.status_code == 431
    still_serving(tight, key)


def test_far_larger_headers_are_cut_off_by_the_parser(tight: LiveService) -> None:
    key = tight.new_key()
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
    head += b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(400)) + b"\r\n"
    answer = raw_request(tight, head)
    assert status_of(answer) in (400, 431)
    many = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 5000 + b"\r\n"
    assert status_of(raw_request(tight, many)) in (400, 431)
    still_serving(tight, key)


def test_body_over_the_limit_is_413_declared_or_streamed(tight: LiveService) -> None:
    key = tight.new_key()
    big = b'{"prompt": "' + b"a" * (BODY_LIMIT + 10) + b'"}'
    with tight.client(key) as client:
        declared = client.post(GPTPROTO, content=big, headers={"Content-Type": "application/json"})
        streamed = client.post(ARK, content=iter([big[:1000], big[1000:]]),
                               headers={"Content-Type": "application/json"})  # fmt: skip
    assert assert_gptproto_error(declared, 413)["code"] == "payload_too_large"
    assert assert_ark_error(streamed, 413)["type"] == "RequestEntityTooLarge"
    # A lying Content-Length: the server reads what it announced, no more, and answers.
    head = (
        f"POST {GPTPROTO} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {10 * BODY_LIMIT}\r\n\r\n"
    )
    answer = raw_request(tight, head.encode(), b"{}", timeout=2)
    assert answer == b"" or status_of(answer) == 413
    still_serving(tight, key)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"[" * 30_000 + b"]" * 30_000, "body"),
        (b'{"seed": ' + b"9" * 5000 + b"}", "body"),
        (b'{"prompt": "\\ud800"}', None),
        (b"\xff\xfe{}", "body"),
    ],
    ids=["deep-nesting", "huge-int", "lone-surrogate", "not-utf8"],
)
def test_hostile_json_is_400(tight: LiveService, body: bytes, param: str | None) -> None:
    key = tight.new_key()
    with tight.client(key) as client:
        response = client.post(GPTPROTO, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    if param:
        assert response.json()["error"]["param"] == param


def test_prompt_length_and_content_items(tight: LiveService) -> None:
    key = tight.new_key()
    with tight.client(key) as client:
        long = client.post(GPTPROTO, json={"prompt": "a" * (MAX_PROMPT_CHARS + 1)})
        text = {"type": "text", "text": "a kite"}
        image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"},
                 "role": "reference_image"}  # fmt: skip
        items = client.post(
            ARK, json={"model": V20, "content": [text, *[image] * MAX_CONTENT_ITEMS]}
        )
        images = client.post(
            f"/api/v3/bytedance/{V20}/reference-to-video",
            json={"prompt": "x", "images": ["x"] * (MAX_CONTENT_ITEMS + 1)},
        )
        refs = client.post(
            f"/api/v3/bytedance/{V20}/reference-to-video",
            json={"prompt": "x", "images": [png_data_uri(8, 8)] * 10},
        )
    assert "at most 10000 characters" in assert_gptproto_error(long, 400)["message"]
    assert assert_ark_error(items, 400)["param"] == "content"
    assert assert_gptproto_error(images, 400)["param"] == "images"
    assert "at most 9" in assert_gptproto_error(refs, 400)["message"]
    still_serving(tight, key)
