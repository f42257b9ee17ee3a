"""How fast `bpsim run FILE.py` runs a user's asyncio program, beside the real clock.

    python benchmarks/program.py [REPEAT]

Each case is the handbook's example (examples/handbook.py, examples/handbook-options.py with
other numbers), run in-process with `bpsim.program.run_program` (its output kept off the
screen) REPEAT times (default 5); the best wall time is shown, with the simulated seconds the
program took (what `python3 FILE.py` takes at least, on the real clock), the lines it printed
and the lines per wall second; then the same with the probes watching (what a terminal, or
`--json`, adds: bpsim.probes). Prints a Markdown table; nothing is
asserted (a shared machine's load moves every figure).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bpsim.probes import ProbesObserver
from bpsim.program import run_program

ROOT = Path(__file__).parent.parent
OPTIONS = str(ROOT / "examples" / "handbook-options.py")

CASES: list[tuple[str, str, list[str]]] = [
    ("handbook (6 items)", str(ROOT / "examples" / "handbook.py"), []),
    ("1,000 items", OPTIONS, ["--items", "1000"]),
    ("10,000 items, 8 workers, Semaphore(4), maxsize 100", OPTIONS, ["--items", "10000", "--workers", "8", "--limit", "4", "--maxsize", "100"]),
    ("10,000 items, producer sleeps 0.05 s", OPTIONS, ["--items", "10000", "--gap", "0.05", "--workers", "8", "--limit", "4"]),
]


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(f"Python {sys.version.split()[0]}, best of {repeat}\n")
    print("| program | simulated | bpsim wall | lines | lines/s | with probes |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, path, args in CASES:
        best = {False: float("inf"), True: float("inf")}
        for _ in range(repeat):
            for probed in (False, True):
                started = time.perf_counter()
                result = run_program(path, args, echo=False, observers=[ProbesObserver()] if probed else [])
                best[probed] = min(best[probed], time.perf_counter() - started)
                assert result.exit_code == 0, (name, result)
        lines = len(result.printed)
        plain, probed_best = best[False], best[True]
        print(
            f"| {name} | {result.ended_at:,.2f} s | {plain * 1000:,.1f} ms "
            f"| {lines:,} | {lines / plain:,.0f} | {probed_best * 1000:,.1f} ms (+{probed_best / plain - 1:.0%}) |"
        )


if __name__ == "__main__":
    main()
