"""The engine child's environment: what its libraries read when they are imported."""

from __future__ import annotations

import os
import subprocess
import sys

from kinema.worker.engine_process import _CHILD_ENVIRONMENT


def test_the_engine_child_runs_opencv_on_one_thread() -> None:
    """OpenCV reads the variable when it is imported; a misspelt name would silently leave it
    splitting every resize across all cores, beside the encoder's threads."""
    env = {k: v for k, v in os.environ.items() if k not in _CHILD_ENVIRONMENT}
    probe = [sys.executable, "-c", "import cv2; print(cv2.getNumThreads())"]
    child = subprocess.run(probe, env={**env, **_CHILD_ENVIRONMENT}, capture_output=True,
                           text=True, check=True)  # fmt: skip
    assert child.stdout.strip() == "1"
