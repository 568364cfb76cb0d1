"""Output files at signed, expiring URLs: no API key needed, 403 for a bad signature, 410 once
the file's lifetime has passed."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from kinema.api.deps import ServicesDep

router = APIRouter(tags=["files"])

_MEDIA_TYPES = {".mp4": "video/mp4", ".png": "image/png"}


def _plain(status: int, message: str) -> Response:
    return Response(message + "\n", status_code=status, media_type="text/plain")


@router.get("/files/{key:path}", response_model=None)
async def get_file(key: str, services: ServicesDep, expires: int = 0, sig: str = "") -> Response:
    if not key.startswith("outputs/") or not services.signer.verify(key, expires, sig):
        return _plain(403, "invalid or missing signature")
    if time.time() > expires:
        return _plain(410, "this link has expired")
    path = services.artifacts.local_path(key)
    if path is None or not path.is_file():
        return _plain(410, "this file no longer exists")
    suffix = path.suffix.lower()
    return FileResponse(
        path,
        media_type=_MEDIA_TYPES.get(suffix, "application/octet-stream"),
        headers={"Cache-Control": "private, max-age=3600"},
    )
