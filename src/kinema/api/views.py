"""A task as each dialect shows it: the GPTProto envelope (API.md §2) and the Ark task object (§3).

Both read the same ``Task`` record; links are built from the request's base URL (or the
``public_url`` setting) and output links are signed to expire with the files.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kinema.artifacts.signing import UrlSigner
from kinema.config import Settings
from kinema.domain.task import TaskStatus
from kinema.store.base import Task

_WAVESPEED_WORDS = {
    TaskStatus.QUEUED: "created",
    TaskStatus.RUNNING: "processing",
    TaskStatus.SUCCEEDED: "completed",
    TaskStatus.FAILED: "failed",
    TaskStatus.EXPIRED: "failed",
    TaskStatus.CANCELLED: "cancelled",
}


@dataclass(frozen=True)
class Links:
    """Builds absolute URLs for one request."""

    base_url: str
    signer: UrlSigner
    output_ttl_seconds: int

    def result_url(self, task_id: str) -> str:
        return f"{self.base_url}/api/v3/predictions/{task_id}/result"

    def file_url(self, task: Task, key: str) -> str:
        finished = task.finished_at or time.time()
        expires = int(finished) + self.output_ttl_seconds
        return f"{self.base_url}/files/{key}?{self.signer.query(key, expires)}"

    def outputs(self, task: Task) -> tuple[str | None, str | None]:
        """The video URL and last-frame URL of a succeeded task."""
        if task.status is not TaskStatus.SUCCEEDED or task.outputs is None:
            return None, None
        video = self.file_url(task, task.outputs.video_key)
        last = task.outputs.last_frame_key
        return video, self.file_url(task, last) if last else None


def nsfw_flags(task: Task) -> list[bool]:
    """One flag per output (video, then last frame): what the output screen said; ``false``
    when it flagged nothing or no screen is configured."""
    if task.status is not TaskStatus.SUCCEEDED or task.outputs is None:
        return []
    flags = [task.outputs.video_flagged]
    if task.outputs.last_frame_key:
        flags.append(task.outputs.last_frame_flagged)
    return flags


def iso_millis(timestamp: float) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, as GPTProto writes ``created_at``."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def gptproto_data(
    task: Task, links: Links, settings: Settings, queue_position: int | None = None
) -> dict[str, Any]:
    """The ``data`` object of the GPTProto envelope."""
    video, last_frame = links.outputs(task)
    outputs = [url for url in (video, last_frame) if url]
    status: str = task.status.value
    if settings.gptproto_status_words == "wavespeed":
        status = _WAVESPEED_WORDS[task.status]
    data: dict[str, Any] = {
        "id": task.id,
        "model": task.model,
        "status": status,
        "outputs": outputs,
        "urls": {"get": links.result_url(task.id)},
        "error": task.error_message if task.status.terminal and task.error_message else None,
        "has_nsfw_contents": nsfw_flags(task)[: len(outputs)],
        "created_at": iso_millis(task.created_at),
        "executionTime": task.execution_ms,
        "timings": {"inference": task.execution_ms},
        "progress": round(task.progress, 4),
        "engine": task.engine,
        "seed": task.request.seed,
    }
    if queue_position is not None:
        data["queue_position"] = queue_position
    if task.cancel_requested and task.status is TaskStatus.RUNNING:
        data["cancel_requested"] = True
    if task.status is TaskStatus.SUCCEEDED:
        tokens = task.request.usage_tokens
        data["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
    return data


def gptproto_envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {"code": 200, "message": "success", "data": data}


def ark_task(task: Task, links: Links, queue_position: int | None = None) -> dict[str, Any]:
    """The Ark task object."""
    request = task.request
    body: dict[str, Any] = {
        "id": task.id,
        "model": task.model,
        "status": task.status.value,
        "error": None,
    }
    if task.error_code or task.error_message:
        body["error"] = {
            "code": task.error_code or "InternalServiceError",
            "message": task.error_message or "",
        }
    video, last_frame = links.outputs(task)
    if video:
        content = {"video_url": video}
        if last_frame:
            content["last_frame_url"] = last_frame
        body["content"] = content
        tokens = request.usage_tokens
        body["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
    body.update(
        {
            "seed": request.seed,
            "resolution": request.resolution,
            "ratio": request.ratio,
        }
    )
    if request.frames is not None:
        body["frames"] = request.frames
    else:
        body["duration"] = request.duration
    body.update(
        {
            "framespersecond": request.fps,
            "generate_audio": request.generate_audio,
            "draft": request.draft,
            "camera_fixed": request.camera_fixed,
            "watermark": request.watermark,
            "return_last_frame": request.return_last_frame,
            "service_tier": request.service_tier,
            "execution_expires_after": request.execution_expires_after,
            "priority": request.priority,
            "created_at": int(task.created_at),
            "updated_at": int(task.updated_at),
            "progress": round(task.progress, 4),
            "engine": task.engine,
        }
    )
    if request.callback_url:
        body["callback_url"] = request.callback_url
    if queue_position is not None:
        body["queue_position"] = queue_position
    return body
