"""The engine child's start: what its libraries read when they are imported, and what it
gets ready before its first task."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

from kinema.domain.catalog import SEEDANCE_MODELS, Catalog
from kinema.worker.engine_process import _CHILD_ENVIRONMENT
from kinema.worker.runner import serves_preview


def test_the_engine_child_runs_opencv_on_one_thread() -> None:
    """OpenCV reads the variable when it is imported; a misspelt name would silently leave it
    splitting every resize across all cores, beside the encoder's threads."""
    env = {k: v for k, v in os.environ.items() if k not in _CHILD_ENVIRONMENT}
    probe = [sys.executable, "-c", "import cv2; print(cv2.getNumThreads())"]
    child = subprocess.run(probe, env={**env, **_CHILD_ENVIRONMENT}, capture_output=True,
                           text=True, check=True)  # fmt: skip
    assert child.stdout.strip() == "1"


def test_only_a_worker_that_may_get_preview_tasks_warms_the_preview_engine() -> None:
    """Warming it compiles (or loads) its kernels: seconds of CPU and ~120 MiB, wasted on a
    GPU host that only serves diffusers models."""
    preview = SEEDANCE_MODELS[0]
    wan = replace(preview, id="wan-2.2-t2v", aliases=("wan",), engine="diffusers")
    assert serves_preview(Catalog(), ())
    assert serves_preview(Catalog((preview, wan)), ())
    assert not serves_preview(Catalog((wan,)), ())
    assert not serves_preview(Catalog((preview, wan)), ("WAN",))
    assert serves_preview(Catalog((preview, wan)), ("wan", preview.id))
