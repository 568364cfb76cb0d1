"""The bodies and answers of both dialects, as documentation (API.md §2, §3)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Ratio = Literal["21:9", "16:9", "4:3", "1:1", "3:4", "9:16", "adaptive"]
Resolution = Literal["480p", "720p", "1080p"]
IntOrText = int | str


class _Open(BaseModel):
    """Unknown fields are accepted and ignored, as the contract says."""

    model_config = ConfigDict(extra="allow")


# -- errors ----------------------------------------------------------------------------------


class GptprotoErrorDetail(BaseModel):
    message: str
    type: str = Field(description="The HTTP status, as a string")
    code: str = Field(description="Machine code, e.g. invalid_parameter, content_policy_violation")
    param: str | None = None


class GptprotoError(BaseModel):
    """Every error outside the Ark routes (API.md §2.3)."""

    error: GptprotoErrorDetail


class ArkErrorDetail(BaseModel):
    code: str = Field(description="e.g. InvalidParameter, InputTextSensitiveContentDetected")
    message: str
    type: str = Field(description="e.g. BadRequest, Unauthorized")
    param: str | None = None


class ArkError(BaseModel):
    """Every error of the Ark routes (API.md §3)."""

    error: ArkErrorDetail


# -- GPTProto --------------------------------------------------------------------------------


class GptprotoSubmit(_Open):
    """``POST /api/v3/{vendor}/{model}/{mode}`` (the Ark fields are accepted too)."""

    prompt: str | None = Field(None, description="Required for text-to-video; 1..10000 chars")
    aspect_ratio: Ratio | None = None
    duration: IntOrText | None = Field(None, description="Seconds, per model; -1: model chooses")
    resolution: Resolution | None = None
    generate_audio: bool | None = None
    camera_fixed: bool | None = None
    seed: int | None = Field(None, ge=-1, le=2_147_483_647)
    enable_sync_mode: bool | None = None
    image: str | None = Field(None, description="First frame: http(s) URL or data:image URI")
    last_image: str | None = None
    images: list[str] | None = Field(None, max_length=20, description="Reference images")
    videos: list[str] | None = Field(None, max_length=20)
    audios: list[str] | None = Field(None, max_length=20)
    return_last_frame: bool | None = None
    callback_url: str | None = None


class GptprotoUrls(BaseModel):
    get: str


class GptprotoTask(_Open):
    id: str
    model: str
    status: str
    outputs: list[str]
    urls: GptprotoUrls
    error: str | None
    has_nsfw_contents: list[bool] = Field(description="One per output: flagged by the screen")
    created_at: str
    executionTime: int
    timings: dict[str, int]


class GptprotoEnvelope(BaseModel):
    code: int
    message: str
    data: GptprotoTask


# -- Ark -------------------------------------------------------------------------------------


class ArkUrl(_Open):
    url: str


class ArkText(_Open):
    type: Literal["text"]
    text: str = Field(description="The prompt; may carry inline commands (--rs 720p --dur 5)")


class ArkImage(_Open):
    type: Literal["image_url"]
    image_url: ArkUrl | str
    role: Literal["first_frame", "last_frame", "reference_image"] | None = None


class ArkVideo(_Open):
    type: Literal["video_url"]
    video_url: ArkUrl | str
    role: Literal["reference_video"] | None = None


class ArkAudio(_Open):
    type: Literal["audio_url"]
    audio_url: ArkUrl | str
    role: Literal["reference_audio"] | None = None


class ArkCreate(_Open):
    """``POST /api/v3/contents/generations/tasks``; ``null`` counts as not sent."""

    model: str
    content: list[ArkText | ArkImage | ArkVideo | ArkAudio] = Field(max_length=20)
    callback_url: str | None = None
    return_last_frame: bool | None = None
    service_tier: Literal["default", "flex"] | None = None
    execution_expires_after: int | None = Field(None, ge=3600, le=259_200)
    generate_audio: bool | None = None
    draft: bool | None = None
    resolution: Resolution | None = None
    ratio: Ratio | None = None
    duration: IntOrText | None = None
    frames: IntOrText | None = None
    seed: int | None = Field(None, ge=-1, le=2_147_483_647)
    camera_fixed: bool | None = None
    watermark: bool | None = None
    priority: int | None = Field(None, ge=0, le=9)
    safety_identifier: str | None = Field(None, max_length=64)


class ArkCreated(BaseModel):
    id: str


class ArkTaskError(BaseModel):
    code: str
    message: str


class ArkTask(_Open):
    id: str
    model: str
    status: str
    error: ArkTaskError | None
    content: dict[str, str] | None = None
    usage: dict[str, int] | None = None
    seed: int
    resolution: str
    ratio: str
    framespersecond: int
    created_at: int
    updated_at: int


class ArkTaskList(BaseModel):
    total: int
    items: list[ArkTask]


class Empty(BaseModel):
    """``{}``."""


# -- admin -----------------------------------------------------------------------------------


class AccountCreate(_Open):
    name: str
    balance: str | float | None = Field(None, description='Exact decimal, e.g. "10.50"')


class AccountLimits(_Open):
    rpm_limit: int | None = Field(None, ge=1)
    max_queued: int | None = Field(None, ge=1)
    max_running: int | None = Field(None, ge=1)


class Topup(_Open):
    amount: str | float = Field(description='Exact decimal, e.g. "10.50"; negative corrects')


class KeyCreate(_Open):
    name: str | None = None
    models: list[str] | None = None


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with references into ``#/components/schemas``."""
    return model.model_json_schema(ref_template="#/components/schemas/{model}")
