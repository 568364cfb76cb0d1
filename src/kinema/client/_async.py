"""``AsyncClient``: the asynchronous client, call for call the same as ``Client`` (``_sync.py``)."""

from __future__ import annotations

import asyncio
import builtins
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Unpack

import httpx

from kinema.client import _dialects as wire
from kinema.client import _http
from kinema.client._inputs import build_submission
from kinema.client._progress import (
    DEFAULT_WAIT_TIMEOUT,
    Download,
    DownloadProgress,
    Poller,
    TaskUpdate,
    target_path,
)
from kinema.client.errors import APIError, KinemaError, NotSupported, TaskFailed
from kinema.client.types import (
    Account,
    Format,
    Generation,
    Image,
    Model,
    SubmitOptions,
    Task,
    TaskPage,
    TaskStatus,
)


class AsyncClient:
    """An asyncio client of any Seedance service: Kinema, GPTProto's hosted API, or an Ark endpoint.

    ``base_url`` and ``api_key`` default to ``KINEMA_BASE_URL`` (else ``http://127.0.0.1:8000``)
    and ``KINEMA_API_KEY``. ``format`` picks the dialect (API.md §2 ``gptproto``, §3 ``ark``).
    Requests are retried on connection errors, 429 and 5xx (up to ``max_retries`` times);
    submits carry an ``Idempotency-Key``, so a retried submit never makes a second task.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        format: Format = "gptproto",
        timeout: float = _http.DEFAULT_TIMEOUT,
        max_retries: int = _http.DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._config = _http.resolve_config(base_url, api_key, format, max_retries)
        self._session = http_client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers=_http.client_headers(),
        )
        self._owns_http = http_client is None

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def format(self) -> Format:
        return self._config.dialect.name

    async def aclose(self) -> None:
        """Close the connections (only those of an HTTP client this client made)."""
        if self._owns_http:
            await self._session.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- submitting ------------------------------------------------------------------------

    async def submit(
        self,
        prompt: str | None = None,
        *,
        image: Image | None = None,
        last_image: Image | None = None,
        reference_images: Sequence[Image] | None = None,
        **options: Unpack[SubmitOptions],
    ) -> Task:
        """Submit a task; the mode follows from the images given (none: text-to-video)."""
        submission = build_submission(prompt, image, last_image, reference_images, options)
        dialect = self._config.dialect
        path, body = dialect.submit(submission)
        answer = await self._request(
            "POST", path, json=body, idempotency_key=submission.idempotency_key
        )
        submitted = dialect.submitted(answer)
        return submitted if isinstance(submitted, Task) else await self.get(submitted)

    async def text_to_video(self, prompt: str, **options: Unpack[SubmitOptions]) -> Task:
        """Submit a text-to-video task."""
        return await self.submit(prompt, **options)

    async def image_to_video(
        self, image: Image, prompt: str | None = None, **options: Unpack[SubmitOptions]
    ) -> Task:
        """Submit an image-to-video task from a first frame."""
        return await self.submit(prompt, image=image, **options)

    async def first_last_frame_to_video(
        self, first: Image, last: Image, prompt: str | None = None,
        **options: Unpack[SubmitOptions],
    ) -> Task:  # fmt: skip
        """Submit an image-to-video task that starts on ``first`` and ends on ``last``."""
        return await self.submit(prompt, image=first, last_image=last, **options)

    async def reference_to_video(
        self, images: Sequence[Image], prompt: str | None = None, **options: Unpack[SubmitOptions]
    ) -> Task:
        """Submit a reference-to-video task (1 or more reference images)."""
        return await self.submit(prompt, reference_images=images, **options)

    # -- tasks -----------------------------------------------------------------------------

    async def get(self, task_id: str) -> Task:
        """A task's current state."""
        dialect = self._config.dialect
        return dialect.parse_task(await self._request("GET", dialect.task_path(task_id)))

    async def list(
        self,
        *,
        status: TaskStatus | str | Sequence[TaskStatus | str] | None = None,
        model: str | None = None,
        task_ids: Sequence[str] | None = None,
        page: int = 1,
        page_size: int = 10,
    ) -> TaskPage:
        """The account's tasks, newest first (the Ark list route, in both dialects)."""
        params = wire.list_params(status, model, task_ids, page, page_size)
        try:
            return wire.parse_page(await self._request("GET", wire.ARK_TASKS, params=params))
        except APIError as exc:
            if exc.status not in wire.MISSING_ROUTE:
                raise
            raise wire.not_offered(self.base_url, "GET", wire.ARK_TASKS) from exc

    async def cancel(self, task_id: str) -> Task:
        """Cancel a queued or running task; answers the task as it then is.

        Uses Kinema's cancel route; where a server lacks it, a queued task is cancelled with the
        Ark delete and a running one raises :class:`NotSupported`.
        """
        try:
            await self._request("POST", wire.cancel_path(task_id))
        except APIError as exc:
            if exc.status not in wire.MISSING_ROUTE:
                raise
            task = await self.get(task_id)  # an unknown task raises NotFound here
            if task.status is TaskStatus.RUNNING:
                raise NotSupported(wire.no_running_cancel(self.base_url)) from exc
            if task.status is TaskStatus.QUEUED:
                await self._request("DELETE", wire.ark_task_path(task_id), resend=False)
        return await self.get(task_id)

    async def delete(self, task_id: str) -> None:
        """Cancel a queued task, or delete a finished one with its files (Ark's delete)."""
        await self._request("DELETE", wire.ark_task_path(task_id), resend=False)

    async def wait(
        self,
        task: Task | str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = 0.25,
        max_poll_interval: float = 5.0,
        on_update: TaskUpdate | None = None,
    ) -> Task:
        """Poll until the task is final; the succeeded task, else :class:`TaskFailed`.

        Polls soon after each change and backs off to ``max_poll_interval`` while nothing
        changes; :class:`Timeout` after ``timeout`` seconds (the task goes on). ``on_update``
        sees every state polled (with ``progress`` and ``queue_position`` where offered).
        """
        current = task if isinstance(task, Task) else await self.get(task)
        poller = Poller(timeout, poll_interval, max_poll_interval)
        while True:
            if on_update is not None:
                on_update(current)
            if current.done:
                break
            await asyncio.sleep(poller.next_delay(current))
            current = await self.get(current.id)
        if not current.succeeded:
            raise TaskFailed(current)
        return current

    async def download(
        self,
        task: Task | str,
        path: str | os.PathLike[str] | None = None,
        *,
        on_progress: DownloadProgress | None = None,
    ) -> Path:
        """Save a task's video (a task, its id, or the video URL) to ``path``, streaming.

        ``path`` defaults to ``<task id>.mp4``; a folder gets that name inside it. A dropped
        connection resumes with a ``Range`` request; the file appears only once complete.
        """
        url, task_id = await self._video_url(task)
        state = Download(target_path(path, task_id, url), on_progress)
        while True:
            error = None
            try:
                headers = {**wire.DOWNLOAD_HEADERS, **state.request_headers()}
                # No API key: output links are signed, and may live on another host.
                async with self._session.stream("GET", url, headers=headers) as response:
                    if response.status_code not in (200, 206):
                        await response.aread()
                        raise _http.error_for(response)
                    state.start(response)
                    async for chunk in response.aiter_bytes():
                        state.write(chunk)
            except httpx.TransportError as exc:
                error = str(exc) or type(exc).__name__
            except BaseException:
                state.discard()
                raise
            if state.ended(error):
                return state.finish()
            if state.failures > 1:  # resume at once after progress; back off when there is none
                await asyncio.sleep(_http.backoff(state.failures - 2))

    async def generate(
        self,
        prompt: str | None = None,
        *,
        output: str | os.PathLike[str] | None = None,
        image: Image | None = None,
        last_image: Image | None = None,
        reference_images: Sequence[Image] | None = None,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        on_update: TaskUpdate | None = None,
        on_download: DownloadProgress | None = None,
        **options: Unpack[SubmitOptions],
    ) -> Generation:
        """Submit, wait and download in one call; the task and the saved video's path."""
        task = await self.submit(prompt, image=image, last_image=last_image,
                           reference_images=reference_images, **options)  # fmt: skip
        task = await self.wait(task, timeout=timeout, on_update=on_update)
        return Generation(task, await self.download(task, output, on_progress=on_download))

    # -- Kinema extensions -----------------------------------------------------------------

    async def models(self) -> builtins.list[Model]:
        """The server's model catalog (``GET /api/v3/models``; :class:`NotSupported` without)."""
        try:
            return wire.parse_models(await self._request("GET", wire.MODELS))
        except APIError as exc:
            if exc.status not in wire.MISSING_ROUTE:
                raise
            raise wire.not_offered(self.base_url, "GET", wire.MODELS) from exc

    async def account(self) -> Account:
        """The calling account's balance and counts (``GET /api/v3/account``)."""
        try:
            return wire.parse_account(await self._request("GET", wire.ACCOUNT))
        except APIError as exc:
            if exc.status not in wire.MISSING_ROUTE:
                raise
            raise wire.not_offered(self.base_url, "GET", wire.ACCOUNT) from exc

    # -- plumbing --------------------------------------------------------------------------

    async def _video_url(self, task: Task | str) -> tuple[str, str | None]:
        if isinstance(task, str) and task.startswith(("http://", "https://")):
            return task, None
        current = task if isinstance(task, Task) and task.video_url else None
        current = current or await self.get(task.id if isinstance(task, Task) else task)
        if current.video_url is None:
            if current.done:
                raise TaskFailed(current)
            raise KinemaError(f"task {current.id} is {current.status.value}: no video yet")
        return current.video_url, current.id

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        resend: bool = True,
    ) -> Mapping[str, Any]:
        config = self._config
        headers = config.headers(idempotency_key)
        attempt = 0
        while True:
            try:
                response = await self._session.request(
                    method, config.url(path), json=json, params=params, headers=headers
                )
            except httpx.TransportError as exc:
                delay = _http.retry_delay(attempt, config.max_retries, error=exc, resend=resend)
                if delay is None:
                    raise _http.connection_error(config, exc) from exc
            else:
                if response.is_success:
                    return _http.parse_json(response)
                delay = _http.retry_delay(attempt, config.max_retries, response=response)
                if delay is None:
                    raise _http.error_for(response)
            await asyncio.sleep(delay)
            attempt += 1
