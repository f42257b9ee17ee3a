"""What the M/M/c/K formula costs as K grows: time and peak memory of one `mmck` call.

    PYTHONPATH=. python benchmarks/theory.py [--repeat N]

The chain holds the c + 1 states up to the servers and sums the rest as a geometric series, so
neither column should grow with K (issue #17: the old code built lists as long as K, and
`--set queue.maxsize=100000000` on `textbook` ate memory until killed). Best of N calls
(default 200) in microseconds of CPU (`time.process_time`), peak memory from `tracemalloc` on
one more call. Prints a Markdown table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from bpsim.theory import mmck

CASES = (("M/M/4/K, ρ = 0.875", 3.5, 4), ("M/M/4/K, ρ = 1.25", 5.0, 4), ("M/M/1000/K, ρ = 0.95", 950.0, 1000))
CAPACITIES = (14, 10**3, 10**6, 10**9)


def best_of(repeat: int, arrival_rate: float, servers: int, capacity: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        mmck(arrival_rate, 1.0, servers, capacity)
        best = min(best, time.process_time() - start)
    return best


def peak_bytes(arrival_rate: float, servers: int, capacity: int) -> int:
    tracemalloc.start()
    try:
        mmck(arrival_rate, 1.0, servers, capacity)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    repeat = parser.parse_args().repeat
    print("| model | K | µs per call | peak memory |")
    print("| --- | ---: | ---: | ---: |")
    for label, arrival_rate, servers in CASES:
        for capacity in CAPACITIES:
            if capacity < servers:
                continue
            seconds = best_of(repeat, arrival_rate, servers, capacity)
            memory = peak_bytes(arrival_rate, servers, capacity)
            print(f"| {label} | {capacity:,} | {seconds * 1e6:,.0f} | {memory / 1024:,.1f} KiB |")


if __name__ == "__main__":
    main()
