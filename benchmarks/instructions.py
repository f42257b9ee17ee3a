"""The dashboard's cost counted in CPU instructions, which do not vary from run to run.

    for mode in none headless history live; do
        PYTHONHASHSEED=0 PYTHONPATH=. valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
            python benchmarks/instructions.py $mode 2>&1 | grep Collected
    done

Each run warms up (imports, message catalogues, Rich's caches), then runs burst.toml stretched
to 600 s four times in MODE (`none` runs nothing more: the baseline to subtract). The clock's
wall-time frame schedule would draw many frames under valgrind, which runs fifty times slower,
so the first mid-run frame is pushed out of reach: as in a native run of 0.3 s, the dashboard
draws its final frame only. (headless - none) / 4 is one run; (live - headless) / 4 its cost.
"""

from __future__ import annotations

import sys

import bpsim.clock
from live import burst, timed  # benchmarks/live.py

RUNS = 4


def main() -> None:
    mode = sys.argv[1]
    bpsim.clock._MAX_SPEED_FIRST_FRAME = float("inf")
    scenario = burst(600.0)
    timed(scenario, "headless")
    timed(scenario, "live")
    if mode != "none":
        for _ in range(RUNS):
            timed(scenario, mode)


if __name__ == "__main__":
    main()
