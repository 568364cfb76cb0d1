"""Signed download URLs do not reach the access log."""

from __future__ import annotations

import logging

import uvicorn

from kinema.api import access_log


def test_the_signature_of_a_download_is_blanked() -> None:
    assert access_log.redact("/files/outputs/t/video.mp4?expires=1790000000&sig=ab12cd") == (
        "/files/outputs/t/video.mp4?expires=1790000000&sig=[redacted]"
    )
    assert (
        access_log.redact("/files/x.mp4?sig=ab12&expires=1")
        == "/files/x.mp4?sig=[redacted]&expires=1"
    )
    # Nothing else is touched: other parameters, and names that merely end in "sig".
    for path in ("/api/v3/predictions/abc/result", "/x?design=1&mysig=2", "/x?sig="):
        assert access_log.redact(path) == path


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_uvicorns_access_lines_go_out_without_it() -> None:
    """Installed after uvicorn configures its loggers (as ``kinema serve`` does), on the line
    uvicorn itself formats."""
    uvicorn.Config(app=lambda: None, log_level="info")  # configures the uvicorn loggers
    access_log.install()
    access_log.install()  # idempotent
    logger = logging.getLogger(access_log.ACCESS_LOGGER)
    assert sum(isinstance(f, access_log.RedactSignatures) for f in logger.filters) == 1
    lines = _Lines()
    logger.addHandler(lines)
    try:
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                    "/files/outputs/t/v.mp4?expires=9&sig=s3cr3t", "1.1", 200)  # fmt: skip
    finally:
        logger.removeHandler(lines)
    assert lines.lines == ['127.0.0.1:5000 - "GET /files/outputs/t/v.mp4?expires=9&sig=[redacted] '
                           'HTTP/1.1" 200']  # fmt: skip
