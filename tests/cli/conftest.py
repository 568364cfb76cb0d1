"""One real ``kinema serve`` for the command-line tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.client.live import KinemaServer, kinema_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KinemaServer]:
    with kinema_server(tmp_path_factory.mktemp("cli-server")) as live:
        yield live
