"""The HTTP access log without the secrets some URLs carry.

An output file's signed URL is its own credential: anyone holding one can download the file
until it expires, without an API key (see ``routes/files``). uvicorn's access log writes every
request's path with its query string, so the signatures of every download would sit in the
logs, readable by whoever reads those. This filter blanks them before a line is written.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_SIGNATURE = re.compile(r"(?<=[?&]sig=)[^&#\s]+")
REDACTED = "[redacted]"


class RedactSignatures(logging.Filter):
    """Blank the ``sig`` query parameter of the request path in uvicorn's access records."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn logs (client, method, path with query, HTTP version, status) as arguments.
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def redact(path: str) -> str:
    """``path`` with the value of every ``sig`` query parameter replaced by ``[redacted]``."""
    return _SIGNATURE.sub(REDACTED, path)


def install() -> None:
    """Filter the access logger; call it after uvicorn has configured its loggers."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactSignatures) for f in logger.filters):
        logger.addFilter(RedactSignatures())
