"""Signed, expiring URLs for output files: fetching one needs no API key, forging one is not
possible without the installation's secret, and a URL stops working when it expires."""

from __future__ import annotations

import hashlib
import hmac


class UrlSigner:
    """Signs ``(key, expires)`` pairs with HMAC-SHA256 under the installation's secret."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def signature(self, key: str, expires: int) -> str:
        message = f"{key}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def query(self, key: str, expires: int) -> str:
        """The query string that authorises fetching ``key`` until ``expires`` (Unix s)."""
        return f"expires={expires}&sig={self.signature(key, expires)}"

    def verify(self, key: str, expires: int, signature: str) -> bool:
        """Whether the signature is genuine (expiry is checked by the caller: 410, not 403)."""
        return hmac.compare_digest(self.signature(key, expires), signature)
