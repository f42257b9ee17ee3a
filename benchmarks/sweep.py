"""Wall time of a 50-point sweep (burst, queue.maxsize=1..50) in one process and on every core.

    PYTHONPATH=. python benchmarks/sweep.py [SCENARIO] [--param KEY=FROM..TO] [--replications N]

With --replications N it times `bpsim compare SCENARIO --policy block --policy drop-oldest
--replications N` instead (2 x N runs, as the command spreads them).

Prints a table; asserts nothing about time (the machine decides that). It does check that every
job count gives the same results, which is the promise `--jobs` makes.
"""

from __future__ import annotations

import argparse
import os
import time

from bpsim.replications import replication_variants
from bpsim.sweeps import run_sweep, sweep_variants
from bpsim.variants import compare_variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="burst")
    parser.add_argument("--param", default="queue.maxsize=1..50")
    parser.add_argument("--replications", type=int, default=None)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    if args.replications:
        variants = replication_variants(compare_variants([args.scenario], ["block", "drop-oldest"]), args.replications)
        what = f"compare --policy block --policy drop-oldest --replications {args.replications}"
    else:
        _, variants = sweep_variants(args.scenario, [args.param])
        what = f"--param {args.param}"
    print(f"{args.scenario}, {what}: {len(variants)} runs, {cores} cores")
    print(f"{'jobs':>5}  {'wall s':>8}  {'runs/s':>7}  {'speed-up':>8}")
    reference = None
    baseline = None
    for jobs in dict.fromkeys((1, cores)):
        wall_start = time.perf_counter()
        results = run_sweep(variants, jobs=jobs)
        wall = time.perf_counter() - wall_start
        outcome = [r.to_json() for r in results]
        reference = reference or outcome
        assert outcome == reference, f"--jobs {jobs} changed the results"
        baseline = baseline or wall
        print(f"{jobs:>5}  {wall:>8.2f}  {len(variants) / wall:>7.1f}  {baseline / wall:>7.2f}x")


if __name__ == "__main__":
    main()
