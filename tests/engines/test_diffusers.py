"""The diffusers engine end to end over HTTP, on tiny random pipelines of every family.

Each pipeline is built here from tiny configs (tokenizers from an in-memory vocabulary),
saved with ``save_pretrained`` and loaded back through a models file exactly as real weights
are: ``from_pretrained(folder, local_files_only=True)``. Nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

if os.environ.get("KINEMA_REQUIRE_DIFFUSERS") == "1":  # CI: a missing extra is a failure
    import diffusers  # noqa: F401
    import torch  # noqa: F401
pytest.importorskip("torch", reason="the diffusers extra is not installed")
pytest.importorskip("diffusers", reason="the diffusers extra is not installed")

from kinema.engines.base import RenderCancelled, RenderSpec
from kinema.engines.diffusers.engine import DiffusersEngine
from kinema.engines.diffusers.tiny import save_tiny_pipeline
from kinema.media.probe import probe
from tests.api.test_generation import decoded_frames, download
from tests.support import LiveService, png_data_uri, start_service, wait_for

ARK = "/api/v3/contents/generations/tasks"
LITE = "seedance-1-0-lite-t2v-250428"
LITE_I2V = "seedance-1-0-lite-i2v-250428"
V15 = "seedance-1-5-pro-251215"
TINY = "steps = 2\nmax_area = 4096\n"  # 64×64 native pixels: fast on any CPU


def entry(model_id: str, family: str, weights: Path | str, extra: str = "") -> str:
    return (f'[[models]]\nid = "{model_id}"\nengine = "diffusers"\nfamily = "{family}"\n'
            f'weights = "{weights}"\n{TINY}{extra}\n')  # fmt: skip


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("weights")
    names = ("wan2.1-t2v", "wan2.1-i2v", "wan2.1-flf2v", "wan2.2-ti2v-5b", "ltx-video")
    folders = {name: save_tiny_pipeline(name, root / name) for name in names}
    broken = root / "broken"
    shutil.copytree(folders["wan2.1-t2v"], broken)
    weights_file = broken / "transformer" / "diffusion_pytorch_model.safetensors"
    weights_file.write_bytes(b"not a safetensors file" * 10)
    folders["broken"] = broken
    return folders


@pytest.fixture(scope="module")
def models_file(weights: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = "".join([
        entry("tiny-wan", "wan2.1-t2v", weights["wan2.1-t2v"], f'serves = ["{LITE}"]\n'),
        entry("tiny-wan-i2v", "wan2.1-i2v", weights["wan2.1-i2v"], f'serves = ["{LITE_I2V}"]\n'),
        entry("tiny-wan-flf", "wan2.1-i2v", weights["wan2.1-flf2v"],
              'modes = ["first_last_frame"]\n'),
        entry("tiny-wan22", "wan2.2-ti2v-5b", weights["wan2.2-ti2v-5b"]),
        entry("tiny-ltx", "ltx-video", weights["ltx-video"], f'serves = ["{V15}"]\n'),
        entry("tiny-slow", "wan2.1-t2v", weights["wan2.1-t2v"]).replace("steps = 2", "steps = 900"),
        entry("tiny-missing", "wan2.1-t2v", weights["wan2.1-t2v"].parent / "absent"),
        entry("tiny-broken", "wan2.1-t2v", weights["broken"]),
    ])  # fmt: skip
    path = tmp_path_factory.mktemp("config") / "models.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def live(models_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    data = tmp_path_factory.mktemp("service")
    with start_service(data, workers=1, models_file=models_file, heartbeat_seconds=0.2,
                       diffusers_cpu_threads=1) as service:  # fmt: skip
        yield service


def submit(client: httpx.Client, model: str, *images: tuple[str, str], **fields: Any) -> str:
    content: list[dict[str, Any]] = [{"type": "text", "text": "a red kite over the sea"}]
    for role, uri in images:
        content.append({"type": "image_url", "image_url": {"url": uri}, "role": role})
    response = client.post(ARK, json={"model": model, "content": content, **fields})
    assert response.status_code == 200, response.text
    task_id: str = response.json()["id"]
    return task_id


def run(live: LiveService, model: str, *images: tuple[str, str], **fields: Any) -> dict[str, Any]:
    with live.client(live.new_key()) as client:
        return live.wait(client, submit(client, model, *images, **fields), timeout=120)


def test_a_seedance_id_served_by_wan_keeps_the_contract(live: LiveService, tmp_path: Path) -> None:
    task = run(live, LITE, resolution="480p", duration=2, seed=5)
    assert task["status"] == "succeeded", task
    video = download(task["content"]["video_url"], tmp_path / "v.mp4")
    info = probe(video)
    # Wan 2.1 made 33 frames at 16 fps on its own grid; the contract gets 864×480, 49, 24 fps.
    assert (info.width, info.height, info.frame_count, info.fps) == (864, 480, 49, 24)
    assert info.audio_codec is None


def test_same_seed_same_frames_other_seed_other_frames(live: LiveService, tmp_path: Path) -> None:
    def frames(seed: int, name: str) -> np.ndarray:
        task = run(live, "tiny-wan", duration=2, seed=seed)
        assert task["status"] == "succeeded", task
        return np.stack(decoded_frames(download(task["content"]["video_url"], tmp_path / name)))

    first, again, other = frames(11, "a.mp4"), frames(11, "b.mp4"), frames(12, "c.mp4")
    assert np.array_equal(first, again)
    assert np.abs(first.astype(float) - other.astype(float)).mean() > 1


FIRST = ("first_frame", png_data_uri(320, 180, seed=1))
LAST = ("last_frame", png_data_uri(320, 180, seed=2))


@pytest.mark.parametrize(
    ("model", "images", "size", "frames"),
    [
        (LITE_I2V, (FIRST,), (864, 480), 49),  # Wan 2.1 I2V, adaptive ratio → 16:9
        ("tiny-wan-flf", (FIRST, LAST), (864, 480), 49),  # Wan 2.1 FLF2V
        ("tiny-wan22", (), (864, 480), 49),  # Wan 2.2 TI2V-5B, text
        ("tiny-wan22", (FIRST,), (864, 480), 49),  # ... and first frame
        (V15, (), (864, 496), 97),  # LTX-Video serving 1.5 pro: its sizes, 4 s at least
        ("tiny-ltx", (FIRST,), (864, 480), 49),
        ("tiny-ltx", (FIRST, LAST), (864, 480), 49),  # LTX condition pipeline
    ],
)
def test_every_family_and_mode(
    live: LiveService,
    tmp_path: Path,
    model: str,
    images: tuple[tuple[str, str], ...],
    size: tuple[int, int],
    frames: int,
) -> None:
    duration = (frames - 1) // 24
    task = run(live, model, *images, resolution="480p", duration=duration, generate_audio=True)
    assert task["status"] == "succeeded", task
    info = probe(download(task["content"]["video_url"], tmp_path / "v.mp4"))
    assert (info.width, info.height, info.frame_count, info.fps) == (*size, frames, 24)
    # No family here has audio: generate_audio is ignored, as on the 1.0 models.
    assert task["generate_audio"] is False and info.audio_codec is None


def test_progress_moves_per_step_and_a_cancel_stops_the_run(live: LiveService) -> None:
    worker = live.workers[0]
    with live.client(live.new_key()) as client:
        task_id = submit(client, "tiny-slow", duration=2)
        seen: set[float] = set()

        def progressed() -> bool:
            task = client.get(f"/api/v3/predictions/{task_id}/result").json()["data"]
            if task["status"] == "running" and task["progress"] > 0:
                seen.add(task["progress"])
            return len(seen) >= 2

        wait_for(progressed, 120, "the denoising loop to report progress twice")
        engine_pid = worker.engine.pid
        asked = time.monotonic()
        assert client.post(f"/api/v3/predictions/{task_id}/cancel").status_code == 200
        task = live.wait(client, task_id, timeout=30)
    assert task["status"] == "cancelled", task
    assert max(seen) < 0.9  # stopped while denoising, well before 900 steps were done
    # Stopped cooperatively (no kill after the grace period), and promptly.
    assert worker.engine.pid == engine_pid and worker.engine.alive()
    assert time.monotonic() - asked < 5


def test_missing_or_broken_weights_fail_the_task_saying_why(live: LiveService) -> None:
    missing = run(live, "tiny-missing", duration=2)
    broken = run(live, "tiny-broken", duration=2)
    assert missing["status"] == "failed" and broken["status"] == "failed"
    assert "tiny-missing could not be loaded" in missing["error"]["message"]
    assert "absent does not exist" in missing["error"]["message"]
    assert "tiny-broken could not be loaded: loading" in broken["error"]["message"]
    # The worker and its engine child carry on.
    assert run(live, "tiny-wan", duration=2)["status"] == "succeeded"


def test_kinema_models_says_which_weights_are_complete(models_file: Path) -> None:
    command = [sys.executable, "-m", "kinema", "models", "--models", str(models_file)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "tiny-wan: weights complete at" in result.stdout
    assert "tiny-missing: weights missing or incomplete" in result.stdout


def spec(**fields: Any) -> RenderSpec:
    values: dict[str, Any] = dict(model="m", prompt="a cat", width=96, height=64,
                                  frame_count=29, fps=24, seed=3)  # fmt: skip
    return RenderSpec(**{**values, **fields})


def engine(folder: Path, **config: Any) -> DiffusersEngine:
    base = {"model": "m", "family": "wan2.1-t2v", "weights": str(folder), "steps": 6,
            "max_area": 4096, "speed": {"cpu_threads": 1}}  # fmt: skip
    return DiffusersEngine({**base, **config})


def test_a_cancel_stops_within_one_step(weights: dict[str, Path]) -> None:
    steps: list[float] = []
    with pytest.raises(RenderCancelled, match="after step 3 of 6"):
        engine(weights["wan2.1-t2v"]).render(spec(), steps.append, lambda: len(steps) >= 3)
    assert len(steps) == 3


def test_cache_acceleration_is_still_reproducible(weights: dict[str, Path]) -> None:
    speed = {"cache": "first-block", "cache_threshold": 0.5, "cpu_threads": 1}
    cached = engine(weights["wan2.1-t2v"], speed=speed)
    runs = [np.stack(list(cached.render(spec(), lambda _: None, lambda: False).frames))
            for _ in range(2)]  # fmt: skip
    assert np.array_equal(runs[0], runs[1])
