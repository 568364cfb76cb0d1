"""Each dialect's submit body → a canonical ``Submission`` (no validation of values here).

JSON ``null`` counts as absent everywhere: the official Ark SDKs send every optional key, ``null``
when unused. Legacy spellings are folded into canonical names; unknown fields are ignored.
"""

from __future__ import annotations

from typing import Any

from kinema.domain.catalog import Mode
from kinema.domain.errors import InvalidParameter, MissingParameter
from kinema.domain.request import MediaInput, MediaKind, MediaRole, Submission

# Canonical field → accepted spellings, first wins when several are sent.
_COMMON_FIELDS: dict[str, tuple[str, ...]] = {
    "resolution": ("resolution",),
    "duration": ("duration",),
    "frames": ("frames",),
    "framespersecond": ("framespersecond", "framepersecond"),
    "seed": ("seed",),
    "generate_audio": ("generate_audio",),
    "camera_fixed": ("camera_fixed", "camerafixed"),
    "watermark": ("watermark",),
    "draft": ("draft",),
    "return_last_frame": ("return_last_frame",),
    "service_tier": ("service_tier",),
    "execution_expires_after": ("execution_expires_after",),
    "priority": ("priority",),
    "callback_url": ("callback_url",),
    "safety_identifier": ("safety_identifier",),
}

MAX_CONTENT_ITEMS = 20
"""Ark ``content`` items, and each GPTProto media list, at most: more than any model takes (one
text, 9 images, 3 videos, 3 audios), refused before any item is looked at."""

GPTPROTO_MODES = {
    "text-to-video": Mode.TEXT,
    "image-to-video": Mode.FIRST_FRAME,
    "reference-to-video": Mode.REFERENCE,
}


def _fields(
    body: dict[str, Any], spellings: dict[str, tuple[str, ...]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Canonical values and the wire name each came under (for error messages)."""
    values: dict[str, Any] = {}
    names: dict[str, str] = {}
    for canonical, options in spellings.items():
        for name in options:
            if body.get(name) is not None:
                values[canonical] = body[name]
                names[canonical] = name
                break
    return values, names


def _url(value: Any, param: str, kind: MediaKind) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameter(
            param, f"{param} must be an http(s) URL or a data:{kind}/...;base64, URI"
        )
    return value.strip()


def _url_list(
    body: dict[str, Any], name: str, kind: MediaKind, role: MediaRole
) -> list[MediaInput]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidParameter(name, f"{name} must be a list of URLs")
    if len(value) > MAX_CONTENT_ITEMS:
        raise InvalidParameter(name, f"{name} may hold at most {MAX_CONTENT_ITEMS} items")
    return [
        MediaInput(kind=kind, role=role, url=_url(item, f"{name}[{i}]", kind), param=f"{name}[{i}]")
        for i, item in enumerate(value)
    ]


def gptproto_submission(body: dict[str, Any], model: str, mode_name: str) -> Submission:
    """``POST /api/v3/{vendor}/{model}/{mode}`` body → Submission."""
    spellings = {"ratio": ("aspect_ratio", "ratio"), **_COMMON_FIELDS}
    fields, names = _fields(body, spellings)
    mode = GPTPROTO_MODES[mode_name]
    media: list[MediaInput] = []
    if mode is Mode.FIRST_FRAME:
        if body.get("image") in (None, ""):
            raise MissingParameter(
                "image",
                "image is required for image-to-video (an http(s) URL or a "
                "data:image/...;base64, URI)",
            )
        media.append(
            MediaInput("image", "first_frame", _url(body["image"], "image", "image"), "image")
        )
        if body.get("last_image") not in (None, ""):
            url = _url(body["last_image"], "last_image", "image")
            media.append(MediaInput("image", "last_frame", url, "last_image"))
            mode = Mode.FIRST_LAST_FRAME
    elif mode is Mode.REFERENCE:
        media += _url_list(body, "images", "image", "reference_image")
        media += _url_list(body, "videos", "video", "reference_video")
        media += _url_list(body, "audios", "audio", "reference_audio")
        if not any(item.kind == "image" for item in media):
            raise MissingParameter(
                "images",
                "images is required for reference-to-video (a list of 1 or more image URLs)",
            )
    return Submission(
        model=model,
        prompt=body.get("prompt"),
        fields=fields,
        media=tuple(media),
        mode=mode,
        wire_names={**names, "ratio": names.get("ratio", "aspect_ratio")},
    )  # fmt: skip


_ARK_ITEM_KINDS: dict[str, MediaKind] = {
    "image_url": "image",
    "video_url": "video",
    "audio_url": "audio",
}
_ARK_ROLES: dict[MediaKind, tuple[MediaRole, ...]] = {
    "image": ("first_frame", "last_frame", "reference_image"),
    "video": ("reference_video",),
    "audio": ("reference_audio",),
}


def ark_submission(body: dict[str, Any]) -> Submission:
    """``POST /api/v3/contents/generations/tasks`` body → Submission."""
    model = body.get("model")
    if model is None or model == "":
        raise MissingParameter("model", "model is required")
    if not isinstance(model, str):
        raise InvalidParameter("model", "model must be a string")
    content = body.get("content")
    if content is None:
        raise MissingParameter("content", "content is required: a list of text and media items")
    if not isinstance(content, list):
        raise InvalidParameter("content", "content must be a list of items")
    if len(content) > MAX_CONTENT_ITEMS:
        raise InvalidParameter(
            "content", f"content may hold at most {MAX_CONTENT_ITEMS} items, got {len(content)}"
        )
    prompt: str | None = None
    media: list[MediaInput] = []
    for index, item in enumerate(content):
        param = f"content[{index}]"
        if not isinstance(item, dict):
            raise InvalidParameter(param, f"{param} must be an object with a type")
        kind_name = _item_type(item)
        if kind_name == "text":
            if prompt is not None:
                raise InvalidParameter(param, "content may hold only one text item")
            text = item.get("text")
            if not isinstance(text, str):
                raise InvalidParameter(f"{param}.text", f"{param}.text must be a string")
            prompt = text
        elif kind_name in _ARK_ITEM_KINDS:
            media.append(_ark_media(item, str(kind_name), param))
        else:
            allowed = ", ".join(("text", *_ARK_ITEM_KINDS))
            raise InvalidParameter(
                f"{param}.type", f"{param}.type must be one of {allowed}, got {kind_name!r}"
            )
    _default_roles(media)
    fields, names = _fields(body, {"ratio": ("ratio",), **_COMMON_FIELDS})
    return Submission(model=model, prompt=prompt, fields=fields, media=tuple(media),
                      wire_names=names)  # fmt: skip


def _item_type(item: dict[str, Any]) -> str:
    """A content item's ``type``; anything but a string is shown as written (and refused)."""
    kind_name = item.get("type")
    return kind_name if isinstance(kind_name, str) else repr(kind_name)


def _ark_media(item: dict[str, Any], kind_name: str, param: str) -> MediaInput:
    kind = _ARK_ITEM_KINDS[kind_name]
    holder = item.get(kind_name)
    # The legacy form gives the URL as a bare string instead of {"url": ...}.
    raw = holder.get("url") if isinstance(holder, dict) else holder
    url = _url(raw, f"{param}.{kind_name}.url", kind)
    role = item.get("role")
    if role is None:
        return MediaInput(kind, _DEFAULT_ROLES[kind], url, param)
    if role not in _ARK_ROLES[kind]:
        allowed = ", ".join(_ARK_ROLES[kind])
        raise InvalidParameter(
            f"{param}.role", f"{param}.role must be one of {allowed} for {kind_name}, got {role!r}"
        )
    return MediaInput(kind, role, url, param)


_DEFAULT_ROLES: dict[MediaKind, MediaRole] = {
    "image": "first_frame",
    "video": "reference_video",
    "audio": "reference_audio",
}


def _default_roles(media: list[MediaInput]) -> None:
    """Images without a role: one alone is the first frame; with others, roles are required."""
    images = [m for m in media if m.kind == "image"]
    if len(images) > 1:
        roles = {m.role for m in images}
        if roles == {"first_frame"}:
            raise InvalidParameter(
                "content", "with several images each needs a role: first_frame, last_frame or "
                "reference_image",
            )  # fmt: skip
