"""The native-grid mapping and the weights-folder check: pure Python, no torch needed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kinema.engines.diffusers.families import FAMILIES
from kinema.engines.diffusers.grid import native_frames, native_size, to_contract
from kinema.engines.diffusers.weights import weights_problem

WAN = FAMILIES["wan2.1-t2v"]


@pytest.mark.parametrize(
    ("size", "multiple", "area", "expected"),
    [
        ((864, 480), 16, 832 * 480, (832, 464)),  # 480p 16:9 on Wan 2.1 1.3B
        ((832, 480), 16, 832 * 480, (832, 480)),  # already native: unchanged
        ((1920, 1088), 32, 1280 * 704, (1248, 704)),  # 1080p on Wan 2.2 5B
        ((480, 864), 16, 832 * 480, (464, 832)),  # portrait stays portrait
        ((640, 640), 32, 768 * 512, (608, 608)),
    ],
)
def test_native_size_keeps_the_shape_on_the_grid_within_the_area(
    size: tuple[int, int], multiple: int, area: int, expected: tuple[int, int]
) -> None:
    width, height = native_size(*size, multiple, area)
    assert (width, height) == expected
    assert width % multiple == 0 and height % multiple == 0 and width * height <= area


@pytest.mark.parametrize(
    ("frames", "native_fps", "step", "maximum", "expected"),
    [
        (121, 16, 4, 81, 81),  # 5 s at 24 fps → 5 s at 16 fps
        (49, 16, 4, 81, 33),  # 2 s
        (289, 16, 4, 81, 81),  # 12 s: capped, spread over the 12 s
        (121, 24, 4, 121, 121),  # Wan 2.2 and LTX run at 24 fps: one to one
        (121, 24, 8, 257, 121),
        (29, 24, 8, 257, 33),  # frames = 29: 28 frame steps → 3.5 × 8, rounded to 4 × 8
    ],
)
def test_native_frames_cover_the_same_time(
    frames: int, native_fps: int, step: int, maximum: int, expected: int
) -> None:
    assert native_frames(frames, 24, native_fps, step, maximum) == expected


def test_to_contract_gives_exact_frames_sizes_and_keeps_both_ends() -> None:
    native = np.stack([np.full((48, 80, 3), value, np.uint8) for value in (0, 100, 200)])
    out = list(to_contract(native, 160, 90, 5))
    assert len(out) == 5 and all(f.shape == (90, 160, 3) and f.dtype == np.uint8 for f in out)
    assert [int(f[0, 0, 0]) for f in out] == [0, 50, 100, 150, 200]
    out[0][:] = 7  # frames are copies: drawing on one changes nothing else
    assert native[0, 0, 0, 0] == 0


def _pipeline_folder(root: Path) -> Path:
    index = {"_class_name": "WanPipeline", "scheduler": ["diffusers", "UniPC"],
             "transformer": ["diffusers", "WanTransformer3DModel"],
             "transformer_2": [None, None]}  # fmt: skip
    root.mkdir()
    (root / "model_index.json").write_text(json.dumps(index))
    (root / "scheduler").mkdir()
    (root / "scheduler" / "scheduler_config.json").write_text("{}")
    (root / "transformer").mkdir()
    (root / "transformer" / "config.json").write_text("{}")
    (root / "transformer" / "diffusion_pytorch_model.safetensors").write_bytes(b"\0" * 128)
    return root


def test_a_complete_folder_passes(tmp_path: Path) -> None:
    assert weights_problem(_pipeline_folder(tmp_path / "w"), WAN) is None


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "model_index.json").unlink(), "has no model_index.json"),
        (lambda f: (f / "model_index.json").write_text("{"), "is unreadable"),
        (lambda f: (f / "transformer" / "diffusion_pytorch_model.safetensors").unlink(),
         "has a config.json but no weights file"),
        (lambda f: (f / "transformer" / "diffusion_pytorch_model.safetensors").write_bytes(
            b"version https://git-lfs.github.com/spec/v1\n"), "Git LFS pointer"),
        (lambda f: (f / "transformer" / "diffusion_pytorch_model.safetensors").write_bytes(
            b"\0"), "truncated"),
        (lambda f: (f / "model_index.json").write_text(json.dumps(
            {"_class_name": "LTXPipeline"})), "holds a LTXPipeline pipeline"),
    ],
)  # fmt: skip
def test_a_broken_folder_says_what_is_wrong(tmp_path: Path, damage: object, message: str) -> None:
    folder = _pipeline_folder(tmp_path / "w")
    damage(folder)  # type: ignore[operator]
    problem = weights_problem(folder, WAN)
    assert problem is not None and message in problem


def test_sharded_weights_need_every_shard(tmp_path: Path) -> None:
    folder = _pipeline_folder(tmp_path / "w")
    component = folder / "transformer"
    (component / "diffusion_pytorch_model.safetensors").unlink()
    weight_map = {"a": "part-1.safetensors", "b": "part-2.safetensors"}
    (component / "diffusion_pytorch_model.safetensors.index.json").write_text(
        json.dumps({"weight_map": weight_map})
    )
    (component / "part-1.safetensors").write_bytes(b"\0" * 128)
    assert "part-2.safetensors is missing" in str(weights_problem(folder, WAN))
    (component / "part-2.safetensors").write_bytes(b"\0" * 128)
    assert weights_problem(folder, WAN) is None


def test_a_missing_folder(tmp_path: Path) -> None:
    assert (
        weights_problem(tmp_path / "nope") == f"weights folder {tmp_path / 'nope'} does not exist"
    )
