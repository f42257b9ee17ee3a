"""How fast is bpsim's engine, and what does it cost over plain asyncio and SimPy?

Each case runs three ways on the same items (the same arrival and service times, from
`bpsim.workload.items(scenario)`, generated lazily by all three):

* bpsim  - `bpsim.engine.run(scenario)`, headless (no observers): the engine as the CLI runs it.
* bare   - the same asyncio pipeline (producer, Queue, workers, timeouts, semaphore) on the same
           VirtualTimeLoop, with no bpsim bookkeeping: what the metrics and events cost.
* simpy  - SimPy 4 on the same M/M/c/K model (drop-newest cases only).

Every run is its own subprocess, so its peak RSS is its own; all three import the same modules
(bpsim's scenario model pulls in pydantic, SimPy is imported by all). Two measures of speed:

* CPU time: items per second of `time.process_time` (other processes on a shared machine barely
  move it), the best of `--repeat` runs, interleaved so that changes in load hit all alike;
* instructions per item under callgrind (valgrind), which do not vary from run to run at all:
  (instructions of a run of `--callgrind-items` items - those of a run of none) / items, both
  runs after the same warm-up (imports, a 500-item run), with PYTHONHASHSEED=0.

"vs simpy" is bpsim's speed as a multiple of SimPy's (SimPy's time or instructions per item
divided by bpsim's): 0.5x means half as fast. The tracemalloc peak comes from one extra run.
The three must agree on what happened (items handled, dropped, timed out, and the end time), or
the table says so. Run it with each Python (3.11, 3.12, 3.13): the children use the same one.

    python benchmarks/engine.py                  # 100k items per case; callgrind 20k (slow: minutes)
    python benchmarks/engine.py --items 20000 --repeat 1 --no-callgrind
    python benchmarks/engine.py --whole          # whole processes: `bpsim run` vs a SimPy script
    python benchmarks/engine.py --whole --whole-callgrind   # and their instructions (minutes)
    python benchmarks/engine.py --million        # peak RSS of a 1,000,000-item bounded run
    python benchmarks/engine.py --memory         # peak RSS and tracemalloc, 100k items, all three

A new case is a function from an item count to a Scenario, added to `CASES`; a new implementation
is a function from a Scenario to an `Outcome`, added to `IMPLEMENTATIONS` (and, if it cannot run
every case, to `can_run`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bpsim.clock import VirtualTimeLoop  # noqa: E402
from bpsim.compat import QueueFull, QueueShutDown, SimulationQueue  # noqa: E402
from bpsim.engine import run  # noqa: E402
from bpsim.scenario import Scenario  # noqa: E402
from bpsim.service import models_a_service  # noqa: E402
from bpsim.workload import items  # noqa: E402

Outcome = tuple[int, int, int, float]
"""(handled, dropped, timed out, end time): what all implementations must agree on."""


def mmck(n: int) -> Scenario:
    """M/M/4/14 drop-newest: Poisson arrivals at 3.5/s, exponential service of mean 1 s."""
    return Scenario.model_validate(
        {
            "seed": 42,
            "items": n,
            "producer": {"rate": 3.5},
            "queue": {"maxsize": 10, "policy": "drop-newest"},
            "workers": {"count": 4, "service": {"distribution": "exponential", "mean": 1.0}},
        }
    )


def block_timeouts(n: int) -> Scenario:
    """Overload with backpressure: block with put_timeout 0.5 s, calls time out after 3 s."""
    return Scenario.model_validate(
        {
            "seed": 42,
            "items": n,
            "producer": {"rate": 3.5},
            "queue": {"maxsize": 10, "policy": "block", "put_timeout": 0.5},
            "workers": {"count": 5, "service": {"distribution": "exponential", "mean": 1.0}},
            "downstream": {"concurrency": 3, "timeout": 3.0},
        }
    )


def contended(n: int) -> Scenario:
    """"block + timeouts" against a contended service (USL σ = 0.1, κ = 0.02, 4 places): calls
    share the server, wait inside it, and go on after their client gave up (docs/downstream.md)."""
    data = block_timeouts(n).model_dump()
    data["downstream"] |= {"capacity": 4, "contention": 0.1, "coherency": 0.02}
    return Scenario.model_validate(data)


CASES: dict[str, Callable[[int], Scenario]] = {
    "drop-newest M/M/4/14": mmck,
    "block + timeouts": block_timeouts,
    "contended service": contended,
}


# -- the three implementations ------------------------------------------------------------------


def run_bpsim(scenario: Scenario) -> Outcome:
    result = run(scenario)
    counts = result.counts
    return counts.handled, counts.dropped, counts.timed_out, result.duration


def run_bare(scenario: Scenario) -> Outcome:
    """The handbook pipeline with nothing but three counters, on bpsim's VirtualTimeLoop."""
    counters = {"handled": 0, "dropped": 0, "timed_out": 0}
    queue: SimulationQueue = SimulationQueue(scenario.queue.maxsize)  # bpsim's own queue class
    concurrency = scenario.downstream.concurrency
    put_timeout, call_timeout = scenario.queue.put_timeout, scenario.downstream.timeout
    drop = scenario.queue.policy == "drop-newest"
    no_timeout = contextlib.nullcontext()  # as in bpsim's pipeline: asyncio.timeout(None) costs

    async def producer() -> None:
        loop = asyncio.get_running_loop()
        for item in items(scenario):
            if (delay := item.arrival - loop.time()) > 0:
                await asyncio.sleep(delay)
            if drop:
                try:
                    queue.put_nowait(item)
                except QueueFull:
                    counters["dropped"] += 1
            elif not queue.full():
                queue.put_nowait(item)
            else:
                try:
                    async with asyncio.timeout(put_timeout):
                        await queue.put(item)
                except TimeoutError:
                    counters["timed_out"] += 1

    async def worker(limiter: asyncio.Semaphore | contextlib.nullcontext[None]) -> None:
        while True:
            try:
                item = await queue.get()
            except QueueShutDown:
                return
            try:
                async with limiter:
                    async with asyncio.timeout(call_timeout) if call_timeout is not None else no_timeout:
                        await asyncio.sleep(item.service)
                counters["handled"] += 1
            except TimeoutError:
                counters["timed_out"] += 1
            finally:
                queue.task_done()

    async def main() -> float:
        limiter = asyncio.Semaphore(concurrency) if concurrency is not None else contextlib.nullcontext()
        async with asyncio.TaskGroup() as group:
            produce = group.create_task(producer())
            for _ in range(scenario.workers.count):
                group.create_task(worker(limiter))
            await produce
            await queue.join()
            queue.shutdown()
        return asyncio.get_running_loop().time()

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        end = runner.run(main())
    return counters["handled"], counters["dropped"], counters["timed_out"], end


def run_simpy(scenario: Scenario) -> Outcome:
    """The same M/M/c/K drop-newest system as a SimPy model (see tests/test_simpy.py)."""
    env = simpy.Environment()
    capacity = scenario.queue.maxsize
    store = simpy.Store(env, capacity=capacity)
    counters = {"handled": 0, "dropped": 0}

    def producer():  # type: ignore[no-untyped-def]
        for item in items(scenario):
            if (delay := item.arrival - env.now) > 0:
                yield env.timeout(delay)
            if len(store.items) < capacity:
                store.put(item)
            else:
                counters["dropped"] += 1

    def worker():  # type: ignore[no-untyped-def]
        while True:
            item = yield store.get()
            yield env.timeout(item.service)
            counters["handled"] += 1

    env.process(producer())
    for _ in range(scenario.workers.count):
        env.process(worker())
    env.run()
    return counters["handled"], counters["dropped"], 0, env.now


IMPLEMENTATIONS: dict[str, Callable[[Scenario], Outcome]] = {
    "bpsim": run_bpsim,
    "bare": run_bare,
    "simpy": run_simpy,
}


def can_run(implementation: str, scenario: Scenario) -> bool:
    """bare and simpy model an ideal downstream only; simpy has no timeouts or backpressure here."""
    if implementation == "bpsim":
        return True
    if models_a_service(scenario.downstream):
        return False
    return implementation == "bare" or (scenario.queue.policy == "drop-newest" and scenario.downstream.timeout is None)


# -- measuring, one subprocess per (case, implementation) ---------------------------------------


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


WARM_UP_ITEMS = 500


def run_once(case: str, implementation: str, n: int, traced: bool, warm_up: bool = False) -> dict[str, object]:
    """One run of one implementation: CPU time and peak RSS, and (traced) the tracemalloc peak.

    `warm_up` first runs 500 items (what callgrind subtracts: imports, first calls); n may be 0.
    """
    function = IMPLEMENTATIONS[implementation]
    if warm_up:
        function(CASES[case](WARM_UP_ITEMS))
    rss_imports = peak_rss_mib()
    if traced:
        tracemalloc.start()
    start = time.process_time()
    outcome = function(CASES[case](n)) if n else None
    cpu = time.process_time() - start
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else None
    return {
        "cpu": cpu,
        "outcome": outcome,
        "rss_imports_mib": rss_imports,
        "rss_mib": peak_rss_mib(),
        "tracemalloc_mib": traced_peak,
    }


def child_command(case: str, implementation: str, n: int, *options: str) -> list[str]:
    return [sys.executable, __file__, "--child", "--case", case, "--impl", implementation, "--items", str(n), *options]


def in_subprocess(case: str, implementation: str, n: int, traced: bool = False) -> dict[str, object]:
    command = child_command(case, implementation, n, *(["--traced"] if traced else []))
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output)


def instructions(case: str, implementation: str, n: int) -> float:
    """Instructions per item under callgrind: a run of n items less a run of none, over n."""

    def collected(items: int) -> int:
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
        command += child_command(case, implementation, items, "--warm-up")
        environment = {**os.environ, "PYTHONHASHSEED": "0"}
        stderr = subprocess.run(command, check=True, capture_output=True, text=True, env=environment).stderr
        match = re.search(r"Collected : (\d+)", stderr)
        if match is None:
            raise RuntimeError(f"no instruction count in valgrind's output:\n{stderr}")
        return int(match.group(1))

    return (collected(n) - collected(0)) / n


def table(n: int, repeat: int, callgrind_items: int | None) -> None:
    """Time every (case, implementation) `repeat` times, interleaved so load changes hit all alike."""
    plan = [
        (case, implementation)
        for case in CASES
        for implementation in IMPLEMENTATIONS
        if can_run(implementation, CASES[case](1))
    ]
    runs: dict[tuple[str, str], list[dict[str, object]]] = {key: [] for key in plan}
    for _ in range(repeat):
        for key in plan:
            runs[key].append(in_subprocess(*key, n))
    counted = {key: instructions(*key, callgrind_items) for key in plan} if callgrind_items else {}
    print(f"Python {platform.python_version()}, {n:,} items per case, best of {repeat}, {os.cpu_count()} cores", end="")
    print(f"; callgrind: {callgrind_items:,} items" if callgrind_items else "")
    header = (
        f"{'case':<22} {'impl':<6} {'items/s':>9} {'vs simpy':>8} {'instr/item':>10} {'vs simpy':>8} "
        f"{'vs bpsim':>8} {'tracemalloc':>11} {'peak RSS':>9}  outcome"
    )
    print(header)
    print("-" * len(header))
    speed = {key: n / min(r["cpu"] for r in rows) for key, rows in runs.items()}
    for case in CASES:
        reference = runs[case, "bpsim"][0]["outcome"]
        for (row_case, implementation), rows in runs.items():
            if row_case != case:
                continue
            key, simpy = (case, implementation), (case, "simpy")
            traced = in_subprocess(case, implementation, n, traced=True)
            handled, dropped, timed_out, end = rows[0]["outcome"]
            same = "" if all(r["outcome"] == reference for r in rows) else "  DIFFERS FROM bpsim"
            per_item = f"{counted[key]:,.0f}" if key in counted else ""
            print(
                f"{case:<22} {implementation:<6} {speed[key]:>9,.0f} {ratio(speed, key, simpy):>8} "
                f"{per_item:>10} {ratio(counted, simpy, key):>8} {ratio(speed, key, (case, 'bpsim')):>8} "
                f"{traced['tracemalloc_mib']:>7.2f} MiB {max(r['rss_mib'] for r in rows):>5.0f} MiB  "
                f"{handled} handled, {dropped} dropped, {timed_out} timed out, end {end:.6f}{same}"
            )
        if (case, "bare") in speed:
            line = f"bpsim's metrics and events cost {speed[case, 'bare'] / speed[case, 'bpsim'] - 1:+.0%} over bare (CPU time)"
            if counted:
                line += f", {counted[case, 'bpsim'] / counted[case, 'bare'] - 1:+.0%} (instructions)"
            print(f"{'':<22} {line}")
    if ("contended service", "bpsim") in speed:
        cost = speed["block + timeouts", "bpsim"] / speed["contended service", "bpsim"]
        print(f"{'':<22} the contended service costs {cost:.2f}x per item of block + timeouts (bpsim)")
    print(f"peak RSS after imports alone: {runs[plan[0]][0]['rss_imports_mib']:.0f} MiB")


def ratio(values: dict[tuple[str, str], float], top: tuple[str, str], bottom: tuple[str, str]) -> str:
    """`values[top] / values[bottom]` as "0.62x", or "" if either is missing."""
    return f"{values[top] / values[bottom]:.2f}x" if top in values and bottom in values else ""


WHOLE_SCENARIO = """\
seed = 42
items = {items}
[producer]
rate = 3.5
arrivals = "poisson"
[queue]
maxsize = 10
policy = "drop-newest"
[workers]
count = 4
service = {{ distribution = "exponential", mean = 1.0 }}
"""


def whole(n: int, repeat: int, callgrind: bool = False) -> None:
    """A run of `n` items as a user starts it (`bpsim run FILE --no-live`), against a SimPy script.

    Both are whole processes, start-up included: the time is the child's CPU time (user + system),
    the best and the median of `repeat` interleaved runs, and its wall time. bpsim's modules are
    compiled to bytecode first, as an installation leaves them (benchmarks/startup.py). The SimPy
    script draws the same items from the same streams (benchmarks/mmck_simpy.py), so both end at
    the same instant. With `callgrind`, each process also runs once under callgrind: its
    instructions, start-up and teardown included, which do not move with the machine's load.
    """
    from startup import compile_bpsim  # benchmarks/, beside this file

    compile_bpsim()
    bpsim = shutil.which("bpsim", path=str(Path(sys.executable).parent)) or "bpsim"
    script = Path(__file__).with_name("mmck_simpy.py")
    with tempfile.TemporaryDirectory() as folder:
        scenario, result = Path(folder) / "mmck.toml", Path(folder) / "out.json"
        scenario.write_text(WHOLE_SCENARIO.format(items=n))
        commands = {
            "bpsim run": [bpsim, "run", str(scenario), "--no-live", "--json", str(result)],
            "SimPy script": [sys.executable, str(script), str(n)],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        wall: dict[str, list[float]] = {name: [] for name in commands}
        load = os.getloadavg()[0]
        for _ in range(repeat):
            for name, command in commands.items():
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True)
                wall[name].append(time.perf_counter() - started)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        load = max(load, os.getloadavg()[0])
        counted = {name: whole_instructions(command) for name, command in commands.items()} if callgrind else {}
        items = json.loads(result.read_text())["items"]
    print(
        f"Python {platform.python_version()}, {n:,} items (M/M/4/14 drop-newest), whole processes, "
        f"{repeat} runs each, load average up to {load:.1f} on {os.cpu_count()} cores"
    )
    for name in commands:
        line = f"{name:<15} CPU best {min(cpu[name]):>6.2f} s, median {statistics.median(cpu[name]):>6.2f} s; wall median {statistics.median(wall[name]):>6.2f} s"
        if name in counted:
            line += f"; {counted[name] / 1e9:,.2f} G instructions"
        print(line)
    for figure, values in (("best", min), ("median", statistics.median)):
        print(f"bpsim run is {values(cpu['SimPy script']) / values(cpu['bpsim run']):.2f}x the SimPy script's speed (CPU time, {figure})")
    if counted:
        print(f"bpsim run is {counted['SimPy script'] / counted['bpsim run']:.2f}x the SimPy script's speed (instructions)")
    print(f"bpsim: {items['handled']:,} handled, {items['dropped']:,} dropped")


def whole_instructions(command: list[str]) -> int:
    """The instructions a whole process executes under callgrind (PYTHONHASHSEED=0)."""
    if Path(command[0]).name == "bpsim":  # its `#!` line: callgrind follows the interpreter itself
        command = [sys.executable, *command]
    valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command]
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    stderr = subprocess.run(valgrind, check=True, capture_output=True, text=True, env=environment).stderr
    match = re.search(r"Collected : (\d+)", stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{stderr}")
    return int(match.group(1))


def memory(n: int) -> None:
    """Peak RSS and tracemalloc peak of an `n`-item drop-newest run, per implementation.

    Two subprocesses each: one untraced for the peak RSS (tracemalloc's own bookkeeping would
    inflate it), one with tracemalloc for the peak of what the run itself allocated.
    """
    case = "drop-newest M/M/4/14"
    print(f"Python {platform.python_version()}, {case}, {n:,} items, one subprocess per figure")
    header = f"{'impl':<6} {'peak RSS':>9} {'after imports':>13} {'run adds':>9} {'tracemalloc peak':>16} {'per item':>9}"
    print(header)
    print("-" * len(header))
    for implementation in IMPLEMENTATIONS:
        plain, traced = in_subprocess(case, implementation, n), in_subprocess(case, implementation, n, traced=True)
        rss, imports, peak = plain["rss_mib"], plain["rss_imports_mib"], traced["tracemalloc_mib"]
        print(
            f"{implementation:<6} {rss:>5.1f} MiB {imports:>9.1f} MiB {rss - imports:>5.1f} MiB "
            f"{peak:>12.2f} MiB {peak * 2**20 / n:>7.0f} B"
        )


def million() -> None:
    n = 1_000_000
    row = in_subprocess("drop-newest M/M/4/14", "bpsim", n)
    handled, dropped, _, end = row["outcome"]
    print(
        f"Python {platform.python_version()}: bpsim, drop-newest M/M/4/14, {n:,} items: "
        f"{row['cpu']:.1f} s CPU ({n / row['cpu']:,.0f} items/s), peak RSS {row['rss_mib']:.0f} MiB "
        f"({row['rss_imports_mib']:.0f} MiB after imports); {handled:,} handled, {dropped:,} dropped, end {end:.3f}"
    )



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000, help="items per case (default 100,000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the best counts (default 5)")
    parser.add_argument("--callgrind-items", type=int, default=20_000, help="items per callgrind run (default 20,000)")
    parser.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts (valgrind is slow)")
    parser.add_argument("--whole", action="store_true", help="only compare whole processes: bpsim run vs a SimPy script")
    parser.add_argument("--whole-callgrind", action="store_true", help="with --whole: also count each process's instructions (minutes)")
    parser.add_argument("--million", action="store_true", help="only measure a 1,000,000-item run's peak RSS")
    parser.add_argument("--memory", action="store_true", help="only the memory table: peak RSS and tracemalloc per implementation")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--impl", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--warm-up", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_once(args.case, args.impl, args.items, args.traced, args.warm_up)))
    elif args.million:
        million()
    elif args.memory:
        memory(args.items)
    elif args.whole:
        whole(args.items, args.repeat, args.whole_callgrind and shutil.which("valgrind") is not None)
    else:
        callgrind = not args.no_callgrind and shutil.which("valgrind") is not None
        table(args.items, args.repeat, args.callgrind_items if callgrind else None)


if __name__ == "__main__":
    main()
