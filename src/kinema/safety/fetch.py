"""Fetching the media a client points us at: http(s) URLs and ``data:`` URIs, with limits.

Every byte of input comes through here. Limits: size (streamed, never buffered past the limit),
time, redirects, scheme; and unless ``allow_private_urls`` is set, every hop must resolve only to
public addresses and is connected to the address checked (``kinema.safety.addresses``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from kinema.safety.addresses import UnresolvableHost, UnsafeTarget, resolve_target

MAX_REDIRECTS = 3
_DATA_URI = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?);base64,", re.I)


class FetchError(Exception):
    """The input could not be fetched or is not acceptable; the message is for the client."""


@dataclass(frozen=True)
class FetchedMedia:
    data: bytes
    content_type: str | None


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int
    timeout_seconds: float
    allow_private: bool


def decode_data_uri(uri: str, max_bytes: int) -> FetchedMedia:
    """Decode a base64 ``data:`` URI, enforcing the same size limit as a download."""
    match = _DATA_URI.match(uri)
    if match is None:
        raise FetchError("data URIs must look like data:<type>;base64,<data>")
    payload = uri[match.end() :]
    # 4 base64 characters carry 3 bytes: refuse before decoding anything too large.
    if len(payload) * 3 // 4 > max_bytes + 3:
        raise FetchError(f"data URI is larger than {max_bytes} bytes")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise FetchError("data URI is not valid base64") from None
    if len(data) > max_bytes:
        raise FetchError(f"data URI is larger than {max_bytes} bytes")
    return FetchedMedia(data=data, content_type=(match.group("type") or "").lower() or None)


async def fetch_media(url: str, limits: FetchLimits) -> FetchedMedia:
    """Fetch ``url`` (http, https or data) within ``limits``; raises FetchError with a reason."""
    if url[:5].lower() == "data:":
        return decode_data_uri(url, limits.max_bytes)
    try:
        return await asyncio.wait_for(_download(url, limits), timeout=limits.timeout_seconds)
    except TimeoutError:
        raise FetchError(
            f"fetching {_short(url)} took longer than {limits.timeout_seconds:g} s"
        ) from None


async def _download(url: str, limits: FetchLimits) -> FetchedMedia:
    timeout = httpx.Timeout(limits.timeout_seconds)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        # Redirects are followed by hand so that every hop is checked and pinned.
        for _ in range(MAX_REDIRECTS + 1):
            try:
                target = await resolve_target(url, limits.allow_private)
            except (UnsafeTarget, UnresolvableHost) as exc:
                raise FetchError(f"{_short(url)}: {exc}") from None
            request = client.build_request(
                "GET", target.url, headers=target.headers, extensions=target.extensions
            )
            try:
                response = await client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise FetchError(f"could not fetch {_short(url)}: {type(exc).__name__}") from None
            try:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                if response.status_code != 200:
                    raise FetchError(f"fetching {_short(url)} answered HTTP {response.status_code}")
                data = await _read_limited(response, limits.max_bytes, url)
                content_type = response.headers.get("content-type", "")
                return FetchedMedia(data, content_type.split(";")[0].strip().lower() or None)
            except httpx.HTTPError as exc:
                raise FetchError(f"could not fetch {_short(url)}: {type(exc).__name__}") from None
            finally:
                await response.aclose()
    raise FetchError(f"too many redirects (more than {MAX_REDIRECTS}) fetching {_short(url)}")


async def _read_limited(response: httpx.Response, max_bytes: int, url: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{_short(url)} is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{_short(url)} is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _short(url: str) -> str:
    return url if len(url) <= 100 else url[:97] + "..."
