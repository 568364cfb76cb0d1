"""The two shapes of the Seedance API (API.md §2 GPTProto, §3 Ark): requests out, tasks in.

Only submit and get differ between the dialects. Listing and deleting exist only as Ark routes,
so both dialects use those; cancelling a running task, the model list and the account are
Kinema extensions that the clients try and fall back from.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from kinema.client._inputs import Mode, Submission
from kinema.client.errors import APIError, InvalidParameter, NotSupported
from kinema.client.types import Account, Format, Model, Task, TaskPage, TaskStatus

ARK_TASKS = "/api/v3/contents/generations/tasks"
MODELS = "/api/v3/models"
ACCOUNT = "/api/v3/account"
DOWNLOAD_HEADERS = {"Accept-Encoding": "identity"}
"""Byte offsets of a resumed download must count the file's bytes, not compressed ones."""

_GPTPROTO_MODES = {
    Mode.TEXT: "text-to-video",
    Mode.FIRST_FRAME: "image-to-video",
    Mode.FIRST_LAST_FRAME: "image-to-video",
    Mode.REFERENCE: "reference-to-video",
}
# GPTProto's JSON examples (and the WaveSpeed SDK) use other words for the same statuses.
_STATUS_WORDS = {
    "created": TaskStatus.QUEUED,
    "pending": TaskStatus.QUEUED,
    "processing": TaskStatus.RUNNING,
    "completed": TaskStatus.SUCCEEDED,
    "canceled": TaskStatus.CANCELLED,
}


def cancel_path(task_id: str) -> str:
    """Kinema's cancel route: queued or running tasks."""
    return f"/api/v3/predictions/{task_id}/cancel"


def ark_task_path(task_id: str) -> str:
    return f"{ARK_TASKS}/{task_id}"


def list_params(
    status: TaskStatus | str | Sequence[TaskStatus | str] | None,
    model: str | None,
    task_ids: Sequence[str] | None,
    page: int,
    page_size: int,
) -> dict[str, Any]:
    """The Ark list route's query: ``filter.task_ids`` repeats per id."""
    params: dict[str, Any] = {"page_num": page, "page_size": page_size}
    if status:
        statuses = [status] if isinstance(status, str) else list(status)
        try:
            params["filter.status"] = ",".join(TaskStatus(s).value for s in statuses)
        except ValueError:
            allowed = ", ".join(s.value for s in TaskStatus)
            raise InvalidParameter(f"status must be one of {allowed}", param="status") from None
    if model:
        params["filter.model"] = model
    if task_ids:
        params["filter.task_ids"] = list(task_ids)
    return params


MISSING_ROUTE = (404, 405)
"""What a server without an optional route answers on it (a collection route: never a 404 for
an unknown record)."""


def not_offered(base_url: str, method: str, path: str) -> NotSupported:
    return NotSupported(f"{base_url} does not offer {method} {path}")


def no_running_cancel(base_url: str) -> str:
    return (
        f"{base_url} cannot cancel a running task (it lacks POST /api/v3/predictions/{{id}}/cancel,"
        " a Kinema extension); only queued tasks can be cancelled there"
    )


class Dialect(ABC):
    """How one format submits and reads a task."""

    name: Format

    @abstractmethod
    def submit(self, submission: Submission) -> tuple[str, dict[str, Any]]:
        """The path and JSON body of a submit."""

    @abstractmethod
    def submitted(self, body: Mapping[str, Any]) -> Task | str:
        """The submit's answer: the task, or only its id when the format answers no more."""

    @abstractmethod
    def task_path(self, task_id: str) -> str:
        """The path that reads one task."""

    @abstractmethod
    def parse_task(self, body: Mapping[str, Any]) -> Task:
        """A task from the answer of ``task_path``."""


class GptProto(Dialect):
    """``POST /api/v3/bytedance/{model}/{mode}``, ``GET /api/v3/predictions/{id}/result``."""

    name: Format = "gptproto"

    def submit(self, submission: Submission) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {}
        if submission.prompt is not None:
            body["prompt"] = submission.prompt
        for name, value in submission.fields.items():
            body["aspect_ratio" if name == "ratio" else name] = value
        if submission.image is not None:
            body["image"] = submission.image
        if submission.last_image is not None:
            body["last_image"] = submission.last_image
        if submission.reference_images:
            body["images"] = list(submission.reference_images)
        body.update(submission.extra)
        return f"/api/v3/bytedance/{submission.model}/{_GPTPROTO_MODES[submission.mode]}", body

    def submitted(self, body: Mapping[str, Any]) -> Task | str:
        return self.parse_task(body)

    def task_path(self, task_id: str) -> str:
        return f"/api/v3/predictions/{task_id}/result"

    def parse_task(self, body: Mapping[str, Any]) -> Task:
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise APIError("the server answered without a task (no data object)", body=body)
        outputs = [url for url in data.get("outputs") or () if isinstance(url, str)]
        error = data.get("error")
        return Task(
            id=str(data.get("id", "")),
            model=str(data.get("model", "")),
            status=parse_status(data.get("status")),
            video_url=outputs[0] if outputs else None,
            last_frame_url=outputs[1] if len(outputs) > 1 else None,
            error=str(error) if error else None,
            progress=_float(data.get("progress")),
            queue_position=_int(data.get("queue_position")),
            seed=_int(data.get("seed")),
            engine=_str(data.get("engine")),
            usage_tokens=_int(_mapping(data.get("usage")).get("completion_tokens")),
            execution_ms=_int(data.get("executionTime")),
            created_at=_iso(data.get("created_at")),
            raw=data,
        )


class Ark(Dialect):
    """``POST``/``GET /api/v3/contents/generations/tasks[/{id}]`` (ModelArk and Volcengine Ark)."""

    name: Format = "ark"

    def submit(self, submission: Submission) -> tuple[str, dict[str, Any]]:
        content: list[dict[str, Any]] = []
        if submission.prompt is not None:
            content.append({"type": "text", "text": submission.prompt})
        images = [("first_frame", submission.image), ("last_frame", submission.last_image)]
        images += [("reference_image", url) for url in submission.reference_images]
        for role, url in images:
            if url is not None:
                content.append({"type": "image_url", "image_url": {"url": url}, "role": role})
        body: dict[str, Any] = {"model": submission.model, "content": content}
        body.update(submission.fields)
        body.update(submission.extra)
        return ARK_TASKS, body

    def submitted(self, body: Mapping[str, Any]) -> Task | str:
        task_id = body.get("id")
        if not isinstance(task_id, str):
            raise APIError("the server answered the create without a task id", body=body)
        return task_id

    def task_path(self, task_id: str) -> str:
        return ark_task_path(task_id)

    def parse_task(self, body: Mapping[str, Any]) -> Task:
        return parse_ark_task(body)


DIALECTS: dict[str, Dialect] = {"gptproto": GptProto(), "ark": Ark()}


def parse_ark_task(body: Mapping[str, Any]) -> Task:
    """An Ark task object (also what list answers, in both dialects)."""
    content, error = _mapping(body.get("content")), _mapping(body.get("error"))
    created = _int(body.get("created_at"))
    return Task(
        id=str(body.get("id", "")),
        model=str(body.get("model", "")),
        status=parse_status(body.get("status")),
        video_url=_str(content.get("video_url")),
        last_frame_url=_str(content.get("last_frame_url")),
        error=_str(error.get("message")) or None,
        error_code=_str(error.get("code")),
        progress=_float(body.get("progress")),
        queue_position=_int(body.get("queue_position")),
        seed=_int(body.get("seed")),
        resolution=_str(body.get("resolution")),
        ratio=_str(body.get("ratio")),
        duration=_int(body.get("duration")),
        frames=_int(body.get("frames")),
        generate_audio=body.get("generate_audio") if isinstance(body.get("generate_audio"), bool)
        else None,
        engine=_str(body.get("engine")),
        usage_tokens=_int(_mapping(body.get("usage")).get("completion_tokens")),
        created_at=datetime.fromtimestamp(created, tz=UTC) if created is not None else None,
        raw=body,
    )  # fmt: skip


def parse_page(body: Mapping[str, Any]) -> TaskPage:
    items = body.get("items")
    if not isinstance(items, list):
        raise APIError("the server answered the list without items", body=body)
    tasks = [parse_ark_task(item) for item in items if isinstance(item, Mapping)]
    return TaskPage(total=_int(body.get("total")) or len(tasks), items=tasks)


def parse_models(body: Mapping[str, Any]) -> list[Model]:
    items = body.get("data")
    if not isinstance(items, list):
        raise APIError("the server answered the model list without data", body=body)
    models = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        low, high = [*(item.get("durations") or ()), 0, 0][:2]
        models.append(
            Model(
                id=str(item.get("id", "")),
                display_name=str(item.get("display_name") or item.get("id", "")),
                engine=str(item.get("engine", "")),
                modes=tuple(str(mode) for mode in item.get("modes") or ()),
                resolutions=tuple(str(res) for res in item.get("resolutions") or ()),
                default_resolution=_str(item.get("default_resolution")),
                durations=(int(low), int(high)),
                auto_duration=bool(item.get("auto_duration")),
                audio=bool(item.get("audio")),
                raw=item,
            )
        )
    return models


def parse_status(value: object) -> TaskStatus:
    word = str(value or "").strip().lower()
    if word in _STATUS_WORDS:
        return _STATUS_WORDS[word]
    try:
        return TaskStatus(word)
    except ValueError:
        raise APIError(f"the server reported an unknown task status {value!r}") from None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _iso(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_account(body: Mapping[str, Any]) -> Account:
    """``GET /api/v3/account``: amounts are decimal strings, exact."""
    try:
        return Account(
            id=str(body["id"]),
            name=str(body.get("name", "")),
            balance=Decimal(str(body.get("balance", "0"))),
            held=Decimal(str(body.get("held", "0"))),
            queued=_int(body.get("queued")) or 0,
            running=_int(body.get("running")) or 0,
            raw=body,
        )
    except (KeyError, ArithmeticError) as exc:
        raise APIError(f"the server answered the account route oddly ({exc})", body=body) from None
