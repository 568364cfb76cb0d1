"""Typed errors from a real server, and what the client does about failures: retries that never
make a second task, and downloads that resume where a dropped connection left them."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from kinema.client import (
    APIConnectionError,
    AuthenticationError,
    BadRequest,
    Client,
    ContentPolicyViolation,
    InsufficientBalance,
    InvalidParameter,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from tests.client.live import BLOCKED_WORD, LITE, PRICED, QUICK, SLOW, CuttingProxy, KinemaServer


@pytest.mark.parametrize("api_format", ["gptproto", "ark"])
def test_errors_are_typed(server: KinemaServer, api_format: str) -> None:
    with Client(server.base_url, server.new_key(models=[LITE, PRICED]), format=api_format) as c:
        with pytest.raises(InvalidParameter) as invalid:
            c.submit("a kite", duration=99)
        assert invalid.value.param == "duration" and invalid.value.status == 400
        assert "2 to 12" in invalid.value.message
        with pytest.raises(InsufficientBalance):
            c.submit("a kite", model=PRICED, **QUICK)
        with pytest.raises(PermissionDenied):
            c.submit("a kite", model=SLOW, **QUICK)
        with pytest.raises(NotFound):
            c.get("cgt-20260101000000-nopes")
        done = c.wait(c.submit("a kite", **QUICK))
        with pytest.raises(BadRequest, match="already finished"):
            c.cancel(done.id)
    with Client(server.base_url, "sk-nope", format=api_format) as stranger:
        with pytest.raises(AuthenticationError, match="not valid"):
            stranger.get(done.id)


def test_content_policy(server: KinemaServer) -> None:
    with Client(server.base_url, server.new_key()) as client:
        try:
            task = client.submit(f"a {BLOCKED_WORD} at dawn", **QUICK)
        except ContentPolicyViolation as refused:
            assert refused.status == 400 and refused.code == "content_policy_violation"
        else:
            client.wait(task)
            pytest.skip("this server does not screen prompts (no blocklist in admission yet)")


def test_mistakes_found_before_sending(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KINEMA_API_KEY", raising=False)
    with pytest.raises(AuthenticationError, match="no API key"):
        Client("http://127.0.0.1:1")
    with pytest.raises(InvalidParameter, match="format"):
        Client("http://127.0.0.1:1", "sk-x", format="sora")  # type: ignore[arg-type]
    with Client("http://127.0.0.1:1", "sk-x") as client:
        with pytest.raises(InvalidParameter, match="no such file") as missing:
            client.submit(image=tmp_path / "nope.png")
        assert missing.value.param == "image"
        notes = tmp_path / "notes.txt"
        notes.write_text("not a picture")
        with pytest.raises(InvalidParameter, match="not an image"):
            client.submit(image=notes)
        with pytest.raises(InvalidParameter, match="prompt is required"):
            client.submit()


def test_unreachable_server_is_retried_then_reported() -> None:
    with Client("http://127.0.0.1:1", "sk-x", max_retries=1) as client:
        with pytest.raises(APIConnectionError, match=r"cannot reach http://127\.0\.0\.1:1"):
            client.list()


def test_rate_limited_carries_retry_after(server: KinemaServer) -> None:
    key = server.new_key()
    server.set_rpm(key, 1)
    with Client(server.base_url, key, max_retries=0) as client:
        client.list()
        with pytest.raises(RateLimited) as limited:
            client.list()
    assert limited.value.retry_after is not None and 0 < limited.value.retry_after <= 60


def _header(request: str, name: str) -> str | None:
    match = re.search(rf"^{name}: (.*)$", request, re.IGNORECASE | re.MULTILINE)
    return match[1].strip() if match else None


def test_a_lost_submit_answer_is_retried_without_a_second_task(server: KinemaServer) -> None:
    proxy = CuttingProxy(server.port, cut_after=1)  # the first answer dies after one byte
    key = server.new_key()
    try:
        with Client(f"http://127.0.0.1:{proxy.port}", key) as client:
            task = client.submit("only once", **QUICK)
    finally:
        proxy.close()
    posts = [request for request in proxy.requests if request.startswith("POST")]
    assert proxy.cuts == 1 and len(posts) == 2
    keys = {_header(post, "idempotency-key") for post in posts}
    assert len(keys) == 1 and None not in keys
    with Client(server.base_url, key) as direct:
        page = direct.list()
        direct.wait(task)
    assert page.total == 1 and page.items[0].id == task.id


def test_a_download_resumes_after_a_dropped_connection(
    server: KinemaServer, tmp_path: Path
) -> None:
    with Client(server.base_url, server.new_key()) as client:
        task = client.wait(client.submit("waves on rocks", **QUICK))
        assert task.video_url is not None
        whole = httpx.get(task.video_url).content
        assert len(whole) > 40_000
        proxy = CuttingProxy(server.port, cut_after=30_000)
        try:
            path = client.download(proxy.url(task.video_url), tmp_path / "waves.mp4")
        finally:
            proxy.close()
    assert path.read_bytes() == whole
    assert not list(tmp_path.glob("*.part"))
    first, second = (request for request in proxy.requests if request.startswith("GET"))
    assert proxy.cuts == 1 and _header(first, "range") is None
    resumed = re.fullmatch(r"bytes=(\d+)-", _header(second, "range") or "")
    assert resumed is not None and 0 < int(resumed[1]) < 30_000
    assert _header(second, "if-range") and _header(second, "authorization") is None
