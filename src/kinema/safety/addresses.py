"""Where the server may connect: http(s) to public addresses only, pinned to the address checked.

A URL given by a client (an input image, a callback) must not make the server call into its own
network. Checking the name and then letting the HTTP client resolve it again would leave a gap —
a DNS answer that changes between the check and the connection (DNS rebinding). So the name is
resolved once, every address it resolves to is checked, and the connection goes to the checked
address, with the original name in ``Host`` and in TLS (SNI and certificate check).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit


class UnsafeTarget(Exception):
    """The URL is not allowed (scheme, port, or a non-public address); final."""


class UnresolvableHost(Exception):
    """The host name did not resolve (may be temporary)."""


@dataclass(frozen=True)
class Target:
    """How to connect to a checked URL."""

    url: str
    """The URL to request: the original, or with the host replaced by the checked address."""
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)
    """httpx request extensions (``sni_hostname`` for https to a pinned address)."""


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Global unicast only: no loopback, private, link-local (cloud metadata), multicast,
    reserved or unspecified addresses; IPv4-mapped IPv6 is judged as the IPv4 it carries."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def resolve_target(url: str, allow_private: bool) -> Target:
    """Check ``url`` and pin it to a public address (unless ``allow_private``)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("only http and https URLs with a host are allowed")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UnsafeTarget("the URL has an invalid port") from None
    if allow_private:
        return Target(url)
    host = parts.hostname
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise UnresolvableHost(f"could not resolve {host}") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not is_public(address):
            raise UnsafeTarget(f"{host} resolves to a non-public address ({address})")
    if not addresses:
        raise UnresolvableHost(f"could not resolve {host}")
    pinned = addresses[0]
    literal = f"[{pinned}]" if pinned.version == 6 else str(pinned)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    headers = {"Host": parts.netloc.rsplit("@", 1)[-1]}
    extensions = {"sni_hostname": host} if scheme == "https" else {}
    pinned_url = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(pinned_url, headers, extensions)
