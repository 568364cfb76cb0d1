"""A longer schemathesis run of every operation of Kinema's API (the CI run, at depth).

What it does
    Runs ``tests/api/test_fuzz.py`` — a live Kinema (no workers, an admin token, limits out of
    the way), every operation of its OpenAPI document, valid and invalid generated requests —
    with ``--examples`` per operation (default 500; CI uses 50). Each answer must not be a 5xx
    and must match the document: status documented, content type, body schema (errors
    included, in their dialect's shape).

How to read it
    It prints the operations run, the examples asked for, and the time taken. A finding is a
    failed test with a ``curl`` line that reproduces it; the exit status is pytest's. The time
    is for comparing runs on the same machine.

    python bench/fuzz.py [--examples 500] [-- extra pytest arguments]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500, help="examples per operation")
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest")
    args = parser.parse_args()
    env = {**os.environ, "KINEMA_FUZZ_EXAMPLES": str(args.examples)}
    command = [sys.executable, "-m", "pytest", "tests/api/test_fuzz.py", "-q",
               "-p", "no:cacheprovider", "--timeout", "0", *args.pytest_args]  # fmt: skip
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    elapsed = time.monotonic() - started
    print(f"\nfuzz: {args.examples} examples per operation, {elapsed:.1f} s, "
          f"pytest exit status {result.returncode}")  # fmt: skip
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
