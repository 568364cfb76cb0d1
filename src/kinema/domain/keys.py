"""API keys: how they look. Only their hash is ever stored (``kinema.store.rows.hash_key``)."""

from __future__ import annotations

import secrets

KEY_PREFIX_CHARS = 10
"""How much of a key is kept in the clear, to recognise it in listings."""


def new_api_key() -> str:
    """``sk-`` + 48 url-safe random characters (288 bits)."""
    return "sk-" + secrets.token_urlsafe(36)
