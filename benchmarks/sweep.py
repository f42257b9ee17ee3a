"""Wall time of a 50-point sweep (burst, queue.maxsize=1..50) on one job and on every core.

    PYTHONPATH=. python benchmarks/sweep.py [SCENARIO] [--param KEY=FROM..TO] [--replications N]
    python benchmarks/sweep.py --whole [--repeat 7] [--before TREE]

In process (the default) it times `run_sweep` itself; with --replications N it times `bpsim
compare SCENARIO --policy block --policy drop-oldest --replications N` instead (2 x N runs, as
the command spreads them).

--whole starts the commands as a user types them (the `bpsim` program beside this Python, from
/tmp, bytecode compiled first as an installation leaves it), interleaving --jobs 1 and --jobs
CORES, --repeat times each:

    bpsim sweep burst --param queue.maxsize=1..50 --jobs J --csv FILE
    bpsim compare burst --policy block --policy drop-oldest --replications 20 --jobs J --json FILE

and a 1-point sweep (`--param queue.maxsize=10..10 --jobs 1`), which is the serial part of a
sweep (start-up, loading, output) plus one run. It prints medians of wall and CPU time (user +
system, the workers' included) and the load average, and the most that --jobs CORES could give
with that serial part, by CPU time: (serial + work) / (serial + work / CORES), work being the
--jobs 1 run's CPU time less the 1-point sweep's; and the same with the --jobs CORES run's own CPU
time as the work, an estimate of the speed-up on idle cores that a loaded machine moves less than
it moves wall times (a loaded machine gives a second process no second core). --before TREE (an older checkout, e.g. `git
worktree add /tmp/old COMMIT`) times bpsim from there too, interleaved with this one, so both see
the same load.

Prints tables; asserts nothing about time (the machine decides that). It does check that every
job count gives the same results (the CSV and JSON files byte for byte), the promise `--jobs` makes.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable


def in_process(args: argparse.Namespace, cores: int) -> None:
    from bpsim.replications import replication_variants
    from bpsim.sweeps import run_sweep, sweep_variants
    from bpsim.variants import compare_variants

    if args.replications:
        variants = replication_variants(compare_variants([args.scenario], ["block", "drop-oldest"]), args.replications)
        what = f"compare --policy block --policy drop-oldest --replications {args.replications}"
    else:
        _, variants = sweep_variants(args.scenario, [args.param])
        what = f"--param {args.param}"
    print(f"{args.scenario}, {what}: {len(variants)} runs, {cores} cores, load {os.getloadavg()[0]:.2f}")
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


def bpsim_program() -> list[str]:
    """The `bpsim` program installed beside this Python, as a user runs it; else `python -m bpsim`."""
    program = Path(PYTHON).parent / "bpsim"
    return [str(program)] if program.exists() else [PYTHON, "-m", "bpsim"]


def timed(argv: list[str], tree: str | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the workers' included) of `argv`, run from /tmp with
    its output thrown away (the chart is still drawn); with `tree`, bpsim imported from there."""
    env = dict(os.environ, PYTHONPATH=tree) if tree else None
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp", env=env)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv)} failed")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def whole(repeat: int, cores: int, before: str | None) -> None:
    import bpsim

    trees: dict[str, str | None] = {"now": None} | ({f"before ({before})": before} if before else {})
    for tree in trees.values():
        compileall.compile_dir(Path(tree or Path(bpsim.__file__).parent.parent) / "bpsim", quiet=1)
    program = bpsim_program()
    sweep = [*program, "sweep", "burst", "--param", "queue.maxsize=1..50"]
    compare = [*program, "compare", "burst", "--policy", "block", "--policy", "drop-oldest", "--replications", "20"]
    cases = {"sweep, 50 points": (sweep, "--csv"), "compare --replications 20": (compare, "--json")}
    job_counts = list(dict.fromkeys((1, cores)))
    one_point = [*program, "sweep", "burst", "--param", "queue.maxsize=10..10", "--jobs", "1"]
    Key = tuple[str, str, int]
    walls: dict[Key, list[float]] = {(tree, name, jobs): [] for tree in trees for name in cases for jobs in job_counts}
    cpus: dict[Key, list[float]] = {key: [] for key in walls}
    serial: dict[str, list[tuple[float, float]]] = {tree: [] for tree in trees}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as folder:
        outputs: dict[Key, bytes] = {}
        for _ in range(repeat):  # every tree, command and job count in turn: the same load for all
            for tree, where in trees.items():
                serial[tree].append(timed(one_point, where))
                for name, (argv, option) in cases.items():
                    for jobs in job_counts:
                        path = Path(folder) / "out"
                        wall, cpu = timed([*argv, "--jobs", str(jobs), option, str(path)], where)
                        walls[tree, name, jobs].append(wall)
                        cpus[tree, name, jobs].append(cpu)
                        outputs[tree, name, jobs] = path.read_bytes()
                        same = outputs[tree, name, jobs] == outputs[tree, name, job_counts[0]]
                        assert same, f"{tree}, {name}: --jobs {jobs} changed the results"
            loads.append(os.getloadavg()[0])
    print(
        f"Whole processes, median of {repeat} (Python {sys.version.split()[0]}, {cores} cores, "
        f"load average {min(loads):.2f} to {max(loads):.2f}); results identical for every --jobs\n"
    )
    print(
        f"| tree | command | --jobs 1 | --jobs {cores} | speed-up | CPU, --jobs 1 | CPU, --jobs {cores} "
        f"| 1-point sweep (serial part + 1 run), CPU | most {cores} cores give with it | idle {cores} cores, from CPU times |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for tree in trees:
        one_cpu = statistics.median(cpu for _, cpu in serial[tree])
        for name in cases:
            first, last = (statistics.median(walls[tree, name, jobs]) for jobs in (job_counts[0], job_counts[-1]))
            first_cpu, last_cpu = (statistics.median(cpus[tree, name, jobs]) for jobs in (job_counts[0], job_counts[-1]))
            # By CPU time, which other work on the machine moves much less than wall time.
            # The ceiling: the --jobs 1 work spread perfectly, nothing paid for the processes. The
            # estimate for idle cores: --jobs CORES' own CPU time (workers' start-up, the results'
            # transfer included) spread perfectly past the serial part.
            ceiling = first_cpu / (one_cpu + (first_cpu - one_cpu) / cores)
            idle = first_cpu / (one_cpu + (last_cpu - one_cpu) / cores)
            print(
                f"| {tree} | {name} | {first:.2f} s | {last:.2f} s | **{first / last:.2f}x** | {first_cpu:.2f} s "
                f"| {last_cpu:.2f} s | {one_cpu * 1000:.0f} ms | {ceiling:.2f}x | {idle:.2f}x |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="burst")
    parser.add_argument("--param", default="queue.maxsize=1..50")
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--whole", action="store_true", help="time whole `bpsim` processes")
    parser.add_argument("--repeat", type=int, default=7, help="runs of each command with --whole")
    parser.add_argument("--before", metavar="TREE", help="with --whole: also time bpsim from this checkout, interleaved")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    if args.whole:
        whole(args.repeat, cores, args.before)
    else:
        in_process(args, cores)


if __name__ == "__main__":
    main()
