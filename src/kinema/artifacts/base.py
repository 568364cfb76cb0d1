"""Where output (and fetched input) files live: a local directory now, an S3 bucket in a fleet.

Keys derive from ``task_id/attempt`` so that a retried task never overwrites the files of an
earlier attempt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


def output_key(task_id: str, attempt: int, name: str) -> str:
    """The key of one output file of one attempt of a task."""
    return f"outputs/{task_id}/{attempt}/{name}"


def input_key(task_id: str, name: str) -> str:
    """The key of a fetched, checked input file of a task."""
    return f"{inputs_prefix(task_id)}{name}"


def inputs_prefix(task_id: str) -> str:
    """The key prefix of every input file of a task."""
    return f"inputs/{task_id}/"


def task_prefixes(task_id: str) -> tuple[str, ...]:
    """Every key prefix under which a task's files may be."""
    return (f"outputs/{task_id}/", inputs_prefix(task_id))


class ArtifactStore(Protocol):
    """Stores files by key. Implementations must make ``put_*`` atomic (no half files)."""

    def put_file(self, key: str, source: Path) -> int:
        """Move or copy ``source`` to ``key``; returns its size in bytes."""
        ...

    def put_bytes(self, key: str, data: bytes) -> int: ...

    def get_bytes(self, key: str) -> bytes:
        """The file's content; FileNotFoundError when absent."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A path to read the file from directly, when the store is local; None otherwise."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every file whose key starts with ``prefix``; returns how many."""
        ...
