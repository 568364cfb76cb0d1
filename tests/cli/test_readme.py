"""The README's SDK and command-line examples work as written, against a real server."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from kinema.media.probe import probe
from tests.client.live import KinemaServer, cli_env

README = Path(__file__).parents[2] / "README.md"


def examples(language: str) -> list[str]:
    section = README.read_text().split("## Python SDK and command line\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


def test_the_sdk_example(server: KinemaServer, tmp_path: Path) -> None:
    (code,) = examples("python")
    assert len(code.strip().splitlines()) <= 4  # the import, a blank line, two lines
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env=cli_env(server, server.new_key()),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    path, seed, tokens = result.stdout.split()
    assert path == "kite.mp4" and int(seed) >= 0 and int(tokens) > 0
    assert probe(tmp_path / "kite.mp4").frame_count == 121


def test_the_command_line_example(server: KinemaServer, tmp_path: Path) -> None:
    (script,) = examples("bash")
    env = cli_env(server, server.new_key())
    for line in script.strip().splitlines():
        args = shlex.split(line)
        assert args[0] == "kinema"
        result = subprocess.run(
            [sys.executable, "-m", "kinema", *args[1:]], cwd=tmp_path, capture_output=True,
            text=True, timeout=60, env=env,
        )  # fmt: skip
        assert result.returncode == 0, (line, result.stderr)
    assert probe(tmp_path / "lighthouse.mp4").frame_count == 121
