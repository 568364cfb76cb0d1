"""A submit's inputs, checked before anything is sent: the mode, the model, the images.

Local image files become ``data:`` URIs here, so the server never needs to reach the caller's
disk and the same call works against any Seedance service.
"""

from __future__ import annotations

import base64
import mimetypes
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from kinema.client.errors import InvalidParameter
from kinema.client.types import Image, SubmitOptions

DEFAULT_TEXT_MODEL = "seedance-1-0-lite-t2v-250428"
DEFAULT_IMAGE_MODEL = "seedance-1-0-lite-i2v-250428"
"""Defaults every Seedance service offers; the image model takes first, first + last frame and
reference images."""

_URL_SCHEMES = ("http://", "https://", "data:")
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)
# Option → body field; the same names in both dialects except ``ratio`` (GPTProto:
# ``aspect_ratio``), which the dialects rename.
_FIELDS = (
    "resolution", "ratio", "duration", "seed", "generate_audio", "camera_fixed",
    "return_last_frame", "watermark",
)  # fmt: skip


class Mode(StrEnum):
    """How a task is conditioned; picked from the images given."""

    TEXT = "text"
    FIRST_FRAME = "first_frame"
    FIRST_LAST_FRAME = "first_last_frame"
    REFERENCE = "reference"


@dataclass(frozen=True)
class Submission:
    """A checked submit, before a dialect turns it into a request."""

    mode: Mode
    model: str
    prompt: str | None
    image: str | None = None
    last_image: str | None = None
    reference_images: tuple[str, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    idempotency_key: str = ""


def build_submission(
    prompt: str | None,
    image: Image | None,
    last_image: Image | None,
    reference_images: Sequence[Image] | None,
    options: SubmitOptions,
) -> Submission:
    """Check the combination of inputs and read local images; raises :class:`InvalidParameter`."""
    references = list(reference_images or ())
    if last_image is not None and image is None:
        raise InvalidParameter("a last frame needs a first frame (image)", param="last_image")
    if references and image is not None:
        raise InvalidParameter(
            "give either a first frame (image) or reference images, not both", param="images"
        )
    if image is None and not references and not (prompt and prompt.strip()):
        raise InvalidParameter("a prompt is required for text-to-video", param="prompt")
    if references:
        mode = Mode.REFERENCE
    elif last_image is not None:
        mode = Mode.FIRST_LAST_FRAME
    elif image is not None:
        mode = Mode.FIRST_FRAME
    else:
        mode = Mode.TEXT
    default_model = DEFAULT_TEXT_MODEL if mode is Mode.TEXT else DEFAULT_IMAGE_MODEL
    given: Mapping[str, object] = options
    fields = {name: given[name] for name in _FIELDS if given.get(name) is not None}
    return Submission(
        mode=mode,
        model=options.get("model") or default_model,
        prompt=prompt,
        image=image_uri(image, "image") if image is not None else None,
        last_image=image_uri(last_image, "last_image") if last_image is not None else None,
        reference_images=tuple(
            image_uri(item, f"images[{index}]") for index, item in enumerate(references)
        ),
        fields=fields,
        extra=dict(options.get("extra") or {}),
        idempotency_key=options.get("idempotency_key") or new_idempotency_key(),
    )


def new_idempotency_key() -> str:
    """A fresh key: the same one goes with every retry of one submit, so it makes one task."""
    return f"kinema-{uuid.uuid4()}"


def image_uri(value: Image, param: str) -> str:
    """A URL as it is; a local file as a ``data:image/...;base64,`` URI."""
    if isinstance(value, str) and value.startswith(_URL_SCHEMES):
        return value
    path = Path(value).expanduser()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidParameter(
            f"{param}: no such file: {path} (give a local image or an http(s) URL)", param=param
        ) from None
    except OSError as exc:
        raise InvalidParameter(
            f"{param}: cannot read {path}: {exc.strerror}", param=param
        ) from None
    media_type = _image_type(data, path)
    if media_type is None:
        raise InvalidParameter(
            f"{param}: {path} is not an image (PNG, JPEG, WebP, GIF or BMP)", param=param
        )
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _image_type(data: bytes, path: Path) -> str | None:
    # The bytes decide, not the name: a PNG saved as "frame.jpg" is still sent as a PNG.
    for signature, media_type in _SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed if guessed and guessed.startswith("image/") else None
