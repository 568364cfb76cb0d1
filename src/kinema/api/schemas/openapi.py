"""The OpenAPI document: FastAPI's, completed with the bodies and answers routes read by hand.

Every operation gets its request body (where it has one), its 200 answer where the shape is the
contract's, and every error status it can answer, in the error shape of its dialect; FastAPI's
422 is removed, since no route ever answers it. Complete enough for schemathesis to check
each answer against it (``tests/api/test_fuzz.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from kinema.api.routes.gptproto import VENDORS
from kinema.api.schemas import wire
from kinema.api.submission import GPTPROTO_MODES

_ARK = "/api/v3/contents/generations/tasks"
_ERROR_STATUSES = {
    "400": "Invalid parameters, content policy violation, or a task in the wrong status",
    "401": "Missing or unknown API key",
    "403": "Revoked key, model not allowed, or insufficient balance",
    "404": "Unknown task, model or route",
    "405": "Method not allowed",
    "413": "Body too large",
    "429": "Rate or queue limit; carries Retry-After",
    "431": "Request headers too large",
    "500": "Internal error (never a stack trace)",
}

# (method, path) → (request body, 200 answer); None: no body / FastAPI's generic object.
_OPERATIONS: dict[tuple[str, str], tuple[type[BaseModel] | None, type[BaseModel] | None]] = {
    ("post", "/api/v3/{vendor}/{model}/{mode}"): (wire.GptprotoSubmit, wire.GptprotoEnvelope),
    ("get", "/api/v3/predictions/{task_id}/result"): (None, wire.GptprotoEnvelope),
    ("post", "/api/v3/predictions/{task_id}/cancel"): (None, wire.GptprotoEnvelope),
    ("post", _ARK): (wire.ArkCreate, wire.ArkCreated),
    ("get", _ARK): (None, wire.ArkTaskList),
    ("get", _ARK + "/{task_id}"): (None, wire.ArkTask),
    ("delete", _ARK + "/{task_id}"): (None, wire.Empty),
    ("post", "/admin/accounts"): (wire.AccountCreate, None),
    ("patch", "/admin/accounts/{account_id}"): (wire.AccountLimits, None),
    ("post", "/admin/accounts/{account_id}/topup"): (wire.Topup, None),
    ("post", "/admin/accounts/{account_id}/keys"): (wire.KeyCreate, None),
}
_MODELS: tuple[type[BaseModel], ...] = (wire.GptprotoError, wire.ArkError)


def install_openapi(app: FastAPI, model_ids: Sequence[str]) -> None:
    """Serve the completed document at ``/openapi.json`` (built once, on first request);
    ``model_ids`` are this installation's models (aliases are accepted too)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            complete(document, model_ids)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any], model_ids: Sequence[str] = ()) -> None:
    """Add bodies, answers and error statuses to FastAPI's document, in place."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    used: set[type[BaseModel]] = set(_MODELS)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            body, answer = _OPERATIONS.get((method, path), (None, None))
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            if body is not None:
                used.add(body)
                operation["requestBody"] = _json(body, required=True)
            if answer is not None:
                used.add(answer)
                responses["200"] = {"description": "OK", **_json(answer)}
            _path_choices(operation, model_ids)
            if path.startswith("/files/"):
                _files(responses)
                continue
            error = wire.ArkError if path.startswith(_ARK) else wire.GptprotoError
            for status, description in _ERROR_STATUSES.items():
                responses.setdefault(status, {"description": description, **_json(error)})
    for model in used:
        schema = wire.schema_of(model)
        for name, definition in schema.pop("$defs", {}).items():
            components[name] = definition
        components[model.__name__] = schema
    if model_ids:
        components["ArkCreate"]["properties"]["model"]["enum"] = list(model_ids)


def _path_choices(operation: dict[str, Any], model_ids: Sequence[str]) -> None:
    """The GPTProto submit path's vendor and mode, and the models of this installation."""
    choices = {"vendor": VENDORS, "mode": tuple(GPTPROTO_MODES), "model": tuple(model_ids)}
    for parameter in operation.get("parameters", ()):
        values = choices.get(parameter["name"]) if parameter.get("in") == "path" else None
        if values:
            parameter["schema"] = {"type": "string", "enum": list(values)}


def _json(model: type[BaseModel], required: bool = False) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}
    return {"content": content, "required": True} if required else {"content": content}


def _files(responses: dict[str, Any]) -> None:
    binary = {"schema": {"type": "string", "format": "binary"}}
    media = {kind: binary for kind in ("video/mp4", "image/png", "application/octet-stream")}
    text = {"text/plain": {"schema": {"type": "string"}}}
    responses["200"] = {"description": "The file", "content": media}
    responses["206"] = {"description": "Part of the file (Range)", "content": media}
    for status, description in (
        ("403", "Invalid or missing signature"),
        ("410", "The link or the file has expired"),
        ("416", "Range not satisfiable"),
    ):
        responses[status] = {"description": description, "content": text}
    for status in ("400", "404", "405", "431", "500"):
        responses[status] = {"description": _ERROR_STATUSES[status], **_json(wire.GptprotoError)}
