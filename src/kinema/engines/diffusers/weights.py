"""Is a local weights folder a complete diffusers pipeline? Checked without importing torch.

``kinema models`` shows the answer for every entry, and the engine checks before loading so
that a missing or half-copied folder fails with one line naming what is missing rather than a
deep stack from ``from_pretrained``.
"""

from __future__ import annotations

import json
from pathlib import Path

from kinema.engines.diffusers.families import Family

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_LFS_POINTER = b"version https://git-lfs"


def weights_problem(folder: Path, family: Family | None = None) -> str | None:
    """None when ``folder`` looks like a complete pipeline; otherwise what is wrong, in a line."""
    if not folder.is_dir():
        return f"weights folder {folder} does not exist"
    index_path = folder / "model_index.json"
    try:
        index = json.loads(index_path.read_text())
    except FileNotFoundError:
        return f"{folder} has no model_index.json (not a diffusers pipeline folder)"
    except (OSError, ValueError) as exc:
        return f"{index_path} is unreadable: {exc}"
    if not isinstance(index, dict):
        return f"{index_path} is not a JSON object"
    if family is not None:
        classes = {family.load_class, family.text_class, family.first_frame_class,
                   family.first_last_class}  # fmt: skip
        found = index.get("_class_name")
        if found not in classes:
            return (f"{folder} holds a {found} pipeline; family {family.name} loads "
                    f"{family.load_class}")  # fmt: skip
    for name, value in index.items():
        if name.startswith("_") or not isinstance(value, list) or value[:1] == [None]:
            continue
        problem = _component_problem(folder / name)
        if problem is not None:
            return problem
    return None


def _component_problem(component: Path) -> str | None:
    if not component.is_dir() or not any(component.iterdir()):
        return f"component folder {component} is missing or empty"
    if not (component / "config.json").is_file():
        return None  # a scheduler, tokenizer or image processor: configuration only
    for index_file in component.glob("*.index.json"):
        try:
            shards = set(json.loads(index_file.read_text())["weight_map"].values())
        except (OSError, ValueError, KeyError, AttributeError) as exc:
            return f"{index_file} is unreadable: {exc}"
        for shard in sorted(shards):
            problem = _weight_file_problem(component / shard)
            if problem is not None:
                return problem
        return None
    weights = [p for p in component.iterdir() if p.suffix in _WEIGHT_SUFFIXES]
    if not weights:
        return f"{component} has a config.json but no weights file"
    for path in weights:
        problem = _weight_file_problem(path)
        if problem is not None:
            return problem
    return None


def _weight_file_problem(path: Path) -> str | None:
    if not path.is_file():
        return f"weights file {path} is missing"
    with path.open("rb") as handle:
        head = handle.read(len(_LFS_POINTER))
    if head == _LFS_POINTER:
        return f"{path} is a Git LFS pointer, not the weights (run git lfs pull)"
    if path.stat().st_size < 64:
        return f"weights file {path} is truncated ({path.stat().st_size} bytes)"
    return None
