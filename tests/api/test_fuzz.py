"""Schemathesis against a live Kinema: every operation of the OpenAPI document, generated valid
and invalid requests; no 5xx, and every answer (errors included) in the documented shape.

CI-sized by default (``KINEMA_FUZZ_EXAMPLES``, 50 per operation); ``python bench/fuzz.py``
runs the same with many more.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="pip install -e '.[test]'")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis import checks  # noqa: E402

from tests.support import LiveService, start_service  # noqa: E402

ADMIN = "fuzz-admin-token"
EXAMPLES = int(os.environ.get("KINEMA_FUZZ_EXAMPLES", "50"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """No workers (tasks stay queued), an admin token, and limits out of the fuzzer's way."""
    with start_service(tmp_path_factory.mktemp("fuzz"), workers=0, admin_token=ADMIN,
                       default_rpm=1_000_000, max_queued_per_account=1_000_000,
                       sync_mode_timeout_seconds=0.2) as live:  # fmt: skip
        yield live


@pytest.fixture(scope="module")
def fuzz_key(fuzz_service: LiveService) -> str:
    return fuzz_service.new_key("fuzz")


@pytest.fixture(scope="module")
def api_schema(fuzz_service: LiveService) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_service.base_url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_every_operation(case: Any, fuzz_service: LiveService, fuzz_key: str) -> None:
    token = ADMIN if case.path.startswith("/admin") else fuzz_key
    headers = {"Authorization": f"Bearer {token}"}
    response = case.call(base_url=fuzz_service.base_url, headers=headers, timeout=30)
    case.validate_response(response, checks=CHECKS)
    if 400 <= response.status_code < 500 and not case.path.startswith("/files"):
        error = response.json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str)
