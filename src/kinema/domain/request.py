"""The normalised ``GenerationRequest`` and its validation against the catalog.

Both dialects (GPTProto and Ark) translate their bodies into a :class:`Submission` — canonical
field names, the media inputs and the mode — and :func:`parse_request` turns that into a
:class:`GenerationRequest` or raises :class:`InvalidParameter` naming the field as the client
wrote it and the values the model allows. JSON ``null`` has already been dropped by then: a
field that is absent and a field that is ``null`` are the same thing.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from kinema.domain.catalog import FPS, Catalog, Mode, ModelSpec, frame_size
from kinema.domain.errors import InvalidParameter, MissingParameter
from kinema.domain.inline import InlineValue, split_inline_commands

MAX_PROMPT_CHARS = 10_000
MAX_SEED = 2_147_483_647
DEFAULT_EXPIRES_AFTER = 172_800
EXPIRES_AFTER_RANGE = (3_600, 259_200)
SERVICE_TIERS = ("default", "flex")
AUTO_DURATION_SECONDS = 5
"""What ``duration = -1`` ("the model chooses") resolves to on Kinema's engines."""

MediaKind = Literal["image", "video", "audio"]
MediaRole = Literal[
    "first_frame", "last_frame", "reference_image", "reference_video", "reference_audio"
]


@dataclass(frozen=True)
class MediaInput:
    """An image, video or audio input given by URL or data URI."""

    kind: MediaKind
    role: MediaRole
    url: str
    param: str
    """Where it was in the request, as the client wrote it (``image``, ``content[1]``...)."""
    key: str | None = None
    """The artifact key of the fetched, checked copy, once the service has fetched it."""


@dataclass(frozen=True)
class Submission:
    """A request in canonical terms, before validation. Built by each dialect's route."""

    model: str
    prompt: str | None
    fields: dict[str, Any]
    media: tuple[MediaInput, ...] = ()
    mode: Mode | None = None
    """The mode the route asked for (GPTProto); None to derive it from the media (Ark)."""
    wire_names: dict[str, str] = field(default_factory=dict)
    """Canonical field → the name the client used, for error messages."""


@dataclass(frozen=True)
class GenerationRequest:
    """A validated, fully resolved request: what a task will render."""

    model: str
    mode: Mode
    prompt: str
    resolution: str
    ratio: str
    """A concrete ratio; ``adaptive`` is resolved before the task is stored."""
    adaptive: bool
    width: int
    height: int
    duration: int | None
    """Seconds; None when the request used ``frames``."""
    frames: int | None
    seed: int
    generate_audio: bool
    """Whether audio will actually be generated (the model has audio and it was asked for)."""
    camera_fixed: bool = False
    watermark: bool = False
    draft: bool = False
    return_last_frame: bool = False
    service_tier: str = "default"
    execution_expires_after: int = DEFAULT_EXPIRES_AFTER
    priority: int = 0
    callback_url: str | None = None
    safety_identifier: str | None = None
    media: tuple[MediaInput, ...] = ()

    @property
    def frame_count(self) -> int:
        if self.frames is not None:
            return self.frames
        assert self.duration is not None
        return FPS * self.duration + 1

    @property
    def fps(self) -> int:
        return FPS

    @property
    def usage_tokens(self) -> int:
        """Tokens as the contract defines them: width × height × frames / 1024, rounded down."""
        return self.width * self.height * self.frame_count // 1024

    def with_ratio(self, ratio: str, catalog: Catalog) -> GenerationRequest:
        """The same request at a concrete ratio (resolving ``adaptive``)."""
        spec = catalog.get(self.model)
        width, height = frame_size(spec.size_family, self.resolution, ratio)
        return replace(self, ratio=ratio, width=width, height=height)

    def with_media(self, media: tuple[MediaInput, ...]) -> GenerationRequest:
        return replace(self, media=media)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["mode"] = self.mode.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GenerationRequest:
        values = dict(data)
        values["mode"] = Mode(values["mode"])
        values["media"] = tuple(MediaInput(**m) for m in values.get("media", ()))
        return cls(**values)


def parse_request(catalog: Catalog, submission: Submission) -> GenerationRequest:
    """Validate ``submission`` against its model; raise InvalidParameter naming the field."""
    return _Parser(catalog, submission).parse()


class _Parser:
    """One validation pass; holds the model and the inline commands while fields are read."""

    def __init__(self, catalog: Catalog, submission: Submission) -> None:
        self.catalog = catalog
        self.sub = submission
        self.model: ModelSpec = catalog.get(submission.model)
        self.inline: dict[str, InlineValue] = {}

    def parse(self) -> GenerationRequest:
        prompt = self._prompt()
        mode = self._mode()
        self._check_media(mode)
        model = self.model
        draft = self._bool("draft", False)
        if draft and not model.draft:
            raise self._error("draft", f"draft is not supported by {model.id}")
        resolution = self._resolution(mode, draft)
        ratio = self._choice("ratio", model.ratios_for(mode), self._default_ratio(mode))
        duration, frames = self._length()
        self._fps()
        camera_fixed = self._bool("camera_fixed", False)
        if camera_fixed and not model.supports_camera_fixed(mode):
            raise self._error(
                "camera_fixed",
                f"camera_fixed is not supported by {model.id}"
                + (" with reference images" if model.camera_fixed else ""),
            )
        adaptive = ratio == "adaptive"
        # Text-to-video has no image to adapt to: adaptive means the default shape there.
        concrete = "16:9" if adaptive else ratio
        width, height = frame_size(model.size_family, resolution, concrete)
        return GenerationRequest(
            model=model.id,
            mode=mode,
            prompt=prompt,
            resolution=resolution,
            ratio=concrete,
            adaptive=adaptive and mode is not Mode.TEXT,
            width=width,
            height=height,
            duration=duration,
            frames=frames,
            seed=self._seed(),
            # Checked on every model, honoured only by those with audio (1.0 ignores it).
            generate_audio=self._bool("generate_audio", True) and model.audio,
            camera_fixed=camera_fixed,
            watermark=self._bool("watermark", False),
            draft=draft,
            return_last_frame=self._bool("return_last_frame", False),
            service_tier=self._choice("service_tier", SERVICE_TIERS, "default"),
            execution_expires_after=self._int(
                "execution_expires_after", *EXPIRES_AFTER_RANGE, DEFAULT_EXPIRES_AFTER
            ),
            priority=self._int("priority", 0, 9, 0),
            callback_url=self._callback_url(),
            safety_identifier=self._string("safety_identifier", 64),
            media=self.sub.media,
        )

    # -- prompt and mode ---------------------------------------------------------------------

    def _prompt(self) -> str:
        raw = self.sub.prompt
        name = self._name("prompt")
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            raise InvalidParameter(name, f"{name} must be a string")
        prompt, self.inline = split_inline_commands(raw)
        if len(prompt) > MAX_PROMPT_CHARS:
            raise InvalidParameter(
                name, f"{name} must be at most {MAX_PROMPT_CHARS} characters (got {len(prompt)})"
            )
        return prompt

    def _mode(self) -> Mode:
        mode = self.sub.mode or _mode_from_media(self.sub.media)
        model = self.model
        if mode not in model.modes:
            allowed = ", ".join(m.label for m in sorted(model.modes, key=list(Mode).index))
            raise InvalidParameter(
                "content" if self.sub.mode is None else "mode",
                f"{model.id} does not support {mode.label}; it supports: {allowed}",
            )
        if mode is Mode.TEXT and not self._prompt_given():
            name = self._name("prompt")
            raise MissingParameter(name, f"{name} is required for text-to-video")
        return mode

    def _prompt_given(self) -> bool:
        prompt, _ = split_inline_commands(self.sub.prompt or "")
        return bool(prompt)

    def _check_media(self, mode: Mode) -> None:
        model = self.model
        counts = {"image": 0, "video": 0, "audio": 0}
        for item in self.sub.media:
            if item.role.startswith("reference"):
                counts[item.kind] += 1
        limits = {
            "image": model.max_reference_images,
            "video": model.max_reference_videos,
            "audio": model.max_reference_audios,
        }
        for kind, count in counts.items():
            if count > limits[kind]:
                what = f"reference {kind}s"
                allowed = f"at most {limits[kind]}" if limits[kind] else "none are accepted"
                raise InvalidParameter(
                    self._name(f"{kind}s"),
                    f"too many {what} for {model.id}: {count} given, {allowed}",
                )
        if mode is Mode.REFERENCE and counts["image"] == 0:
            name = self._name("images")
            raise MissingParameter(
                name,
                f"{name}: reference-to-video needs 1 to "
                f"{model.max_reference_images} reference images",
            )

    # -- size and length ---------------------------------------------------------------------

    def _default_ratio(self, mode: Mode) -> str:
        if mode is not Mode.TEXT and mode in self.model.adaptive_ratio:
            return "adaptive"
        return "16:9"

    def _resolution(self, mode: Mode, draft: bool) -> str:
        allowed = self.model.resolutions_for(mode)
        if draft:
            resolution = self._choice("resolution", allowed, "480p")
            if resolution != "480p":
                raise self._error("resolution", "draft mode is only available at 480p")
            return resolution
        default = self.model.default_resolution
        if default not in allowed:
            default = allowed[-1]
        return self._choice("resolution", allowed, default)

    def _length(self) -> tuple[int | None, int | None]:
        model = self.model
        if self._present("frames"):
            if not model.frames:
                raise self._error("frames", f"frames is not supported by {model.id}; use duration")
            frames = self._int("frames", 29, 289, 0, rule="25 + 4n from 29 to 289")
            if (frames - 25) % 4:
                raise self._error(
                    "frames",
                    f"frames must be 25 + 4n from 29 to 289 for {model.id} "
                    f"(e.g. 29, 33, ..., 121, ..., 289), got {frames}",
                )
            return None, frames
        low, high = model.durations
        rule = f"an integer from {low} to {high}"
        if model.auto_duration:
            rule += ", or -1 (the model chooses),"
        value = self._int(
            "duration", -1 if model.auto_duration else low, high, model.default_duration, rule=rule
        )
        if value == -1:
            return AUTO_DURATION_SECONDS, None
        if value < low:
            raise self._range_error("duration", rule)
        return value, None

    def _fps(self) -> None:
        if self._present("framespersecond"):
            self._int("framespersecond", FPS, FPS, FPS, rule="24 (the only frame rate)")

    def _seed(self) -> int:
        seed = self._int("seed", -1, MAX_SEED, -1, rule=f"an integer from -1 to {MAX_SEED}")
        return secrets.randbelow(MAX_SEED + 1) if seed == -1 else seed

    def _callback_url(self) -> str | None:
        url = self._string("callback_url", 2048)
        if url is not None and not url.lower().startswith(("http://", "https://")):
            raise self._error("callback_url", "callback_url must be an http or https URL")
        return url

    # -- typed field readers -----------------------------------------------------------------

    def _present(self, name: str) -> bool:
        return name in self.sub.fields or name in self.inline

    def _raw(self, name: str) -> tuple[Any, bool]:
        """The value for ``name`` and whether it came from an inline command (body wins)."""
        if name in self.sub.fields:
            return self.sub.fields[name], False
        if name in self.inline:
            return self.inline[name].value, True
        return None, False

    def _name(self, canonical: str) -> str:
        return self.sub.wire_names.get(canonical, canonical)

    def _label(self, canonical: str) -> str:
        """How to name a field in a message: its wire name, and the inline command if used."""
        name = self._name(canonical)
        if canonical not in self.sub.fields and canonical in self.inline:
            return f"{name} (inline {self.inline[canonical].written} in the prompt)"
        return name

    def _error(self, canonical: str, message: str) -> InvalidParameter:
        return InvalidParameter(self._name(canonical), message)

    def _range_error(self, canonical: str, rule: str) -> InvalidParameter:
        return self._error(
            canonical, f"{self._label(canonical)} must be {rule} for {self.model.id}"
        )

    def _bool(self, canonical: str, default: bool) -> bool:
        value, inline = self._raw(canonical)
        if value is None:
            return default
        if inline and isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise self._error(
                canonical,
                f"{self._label(canonical)} must be a boolean (true or false), got {value!r}",
            )
        return value

    def _int(
        self, canonical: str, low: int, high: int, default: int, *, rule: str | None = None
    ) -> int:
        value, _ = self._raw(canonical)
        if value is None:
            return default
        rule = rule or f"an integer from {low} to {high}"
        number = _as_int(value)
        if number is None or not low <= number <= high:
            raise self._range_error(canonical, rule)
        return number

    def _choice(self, canonical: str, allowed: tuple[str, ...], default: str) -> str:
        value, _ = self._raw(canonical)
        if value is None:
            return default
        if isinstance(value, str) and value.strip().lower() in allowed:
            return value.strip().lower()
        raise self._error(
            canonical,
            f"{self._label(canonical)} must be one of {', '.join(allowed)} for "
            f"{self.model.id}, got {value!r}",
        )

    def _string(self, canonical: str, max_len: int) -> str | None:
        value, _ = self._raw(canonical)
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > max_len:
            raise self._error(
                canonical,
                f"{self._label(canonical)} must be a string of at most {max_len} characters",
            )
        return value or None


_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")


def _as_int(value: Any) -> int | None:
    """An int from a JSON int, an integral float, or a numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        # ASCII digits only: "¹".isdigit() is true, but int() refuses it.
        if _INTEGER.fullmatch(text):
            return int(text)
    return None


def _mode_from_media(media: tuple[MediaInput, ...]) -> Mode:
    roles = [item.role for item in media]
    for role in ("first_frame", "last_frame"):
        if roles.count(role) > 1:
            raise InvalidParameter("content", f"content may hold only one image with role {role}")
    if "last_frame" in roles and "first_frame" not in roles:
        raise InvalidParameter(
            "content", "an image with role last_frame needs one with role first_frame too"
        )
    framed = "first_frame" in roles
    if framed and any(role.startswith("reference") for role in roles):
        raise InvalidParameter(
            "content",
            "reference images, videos or audios cannot be mixed with first_frame/last_frame images",
        )
    if framed:
        return Mode.FIRST_LAST_FRAME if "last_frame" in roles else Mode.FIRST_FRAME
    if roles:
        return Mode.REFERENCE
    return Mode.TEXT
