"""Capture what the real CPython 3.13 prints for each program case into expected.json.

    PYENV_VERSION=3.13.0 python tests/data/programs/capture.py

tests/test_program.py runs the same cases under `bpsim run` and compares. The programs are
examples/handbook-race.py (the handbook's example, verbatim), examples/handbook.py (the fix)
and examples/handbook-options.py (the fix with its numbers as options). Each case is run RUNS
times on the real clock (it takes real seconds: the sleeps are real); a case whose output
differs between runs depends on real-time jitter and is refused, since no virtual clock could
match it. Only paths are normalised: the repository becomes <root>, the standard library <stdlib>. stdout, stderr
and the exit code are stored as they are.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent
STDLIB = os.path.dirname(os.path.dirname(asyncio.__file__))
RUNS = 3

VARIANT = "examples/handbook-options.py"
CASES: dict[str, list[str]] = {
    # The handbook's example as printed (join() returns before the producer has put anything).
    "seed": ["examples/handbook-race.py"],
    # The fix: join once the producer is done.
    "fixed": ["examples/handbook.py"],
    # The fixed example with other numbers (handbook-options.py's options).
    "items-10": [VARIANT, "--items", "10"],
    "maxsize-1": [VARIANT, "--maxsize", "1"],
    "unbounded": [VARIANT, "--maxsize", "0"],
    "semaphore-1": [VARIANT, "--limit", "1"],
    "workers-1": [VARIANT, "--workers", "1"],
    "workers-5": [VARIANT, "--workers", "5", "--limit", "5", "--items", "8"],
    "slow-work": [VARIANT, "--work", "0.3"],
    "uneven-work": [VARIANT, "--spread", "0.05", "--items", "8"],
    "producer-sleeps": [VARIANT, "--gap", "0.1"],
    "producer-sleeps-slowly": [VARIANT, "--gap", "0.2", "--workers", "1", "--limit", "1"],
    "put-timeout": [VARIANT, "--maxsize", "1", "--workers", "1", "--limit", "1", "--put-timeout", "0.1", "--work", "0.25"],
}


def normalised(text: str) -> str:
    return text.replace(str(ROOT), "<root>").replace(STDLIB, "<stdlib>")


def capture(argv: list[str]) -> dict[str, object]:
    done = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    return {"argv": argv, "stdout": normalised(done.stdout), "stderr": normalised(done.stderr), "exit_code": done.returncode}


def main() -> None:
    if sys.version_info[:2] != (3, 13):
        sys.exit(f"capture with CPython 3.13 (PYENV_VERSION=3.13.0 python {sys.argv[0]}), not {sys.version.split()[0]}")
    expected: dict[str, dict[str, object]] = {"_python": {"version": sys.version.split()[0]}}
    for name, argv in CASES.items():
        runs = [capture(argv) for _ in range(RUNS)]
        if any(run != runs[0] for run in runs):
            sys.exit(f"{name}: the real clock gives different output from run to run; leave this case out")
        expected[name] = runs[0]
        print(f"{name}: {len(str(runs[0]['stdout']).splitlines())} lines, exit code {runs[0]['exit_code']}")
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
