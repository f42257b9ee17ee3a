"""How fast is bpsim's engine, and what does it cost over plain asyncio and SimPy?

Each case runs three ways on the same items (the same arrival and service times, from
`bpsim.workload.items(scenario)`, generated lazily by all three):

* bpsim  - `bpsim.engine.run(scenario)`, headless (no observers): the engine as the CLI runs it.
* bare   - the same asyncio pipeline (producer, Queue, workers, timeouts, semaphore) on the same
           VirtualTimeLoop, with no bpsim bookkeeping: what the metrics and events cost.
* simpy  - SimPy 4 on the same M/M/c/K model (drop-newest cases only).

Every run is its own subprocess, so its peak RSS is its own; all three import the same modules
(bpsim's scenario model pulls in pydantic, SimPy is imported by all). Speed is items per second
of CPU time (`time.process_time`: other processes on a shared machine barely move it), the best
of `--repeat` runs, interleaved so that changes in load hit all alike; the tracemalloc peak
comes from one extra run. The three must agree on what happened (items handled, dropped,
timed out, and the end time), or the table says so.

    python benchmarks/engine.py                  # 100k items per case
    python benchmarks/engine.py --items 20000 --repeat 1
    python benchmarks/engine.py --million        # peak RSS of a 1,000,000-item bounded run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bpsim.clock import VirtualTimeLoop  # noqa: E402
from bpsim.compat import Queue, QueueFull, QueueShutDown  # noqa: E402
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
    queue: Queue = Queue(scenario.queue.maxsize)
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


def run_once(case: str, implementation: str, n: int, traced: bool) -> dict[str, object]:
    """One run of one implementation: CPU time and peak RSS, and (traced) the tracemalloc peak."""
    scenario = CASES[case](n)
    function = IMPLEMENTATIONS[implementation]
    rss_imports = peak_rss_mib()
    if traced:
        tracemalloc.start()
    start = time.process_time()
    outcome = function(scenario)
    cpu = time.process_time() - start
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else None
    return {
        "cpu": cpu,
        "outcome": outcome,
        "rss_imports_mib": rss_imports,
        "rss_mib": peak_rss_mib(),
        "tracemalloc_mib": traced_peak,
    }


def in_subprocess(case: str, implementation: str, n: int, traced: bool = False) -> dict[str, object]:
    command = [sys.executable, __file__, "--child", "--case", case, "--impl", implementation, "--items", str(n)]
    if traced:
        command.append("--traced")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output)


def table(n: int, repeat: int) -> None:
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
    print(f"Python {platform.python_version()}, {n:,} items per case, best of {repeat}, {os.cpu_count()} cores")
    header = f"{'case':<22} {'impl':<6} {'items/s':>9} {'vs bpsim':>8} {'tracemalloc':>11} {'peak RSS':>9}  outcome"
    print(header)
    print("-" * len(header))
    speed = {key: n / min(r["cpu"] for r in rows) for key, rows in runs.items()}
    for case in CASES:
        reference = runs[case, "bpsim"][0]["outcome"]
        for (row_case, implementation), rows in runs.items():
            if row_case != case:
                continue
            traced = in_subprocess(case, implementation, n, traced=True)
            handled, dropped, timed_out, end = rows[0]["outcome"]
            same = "" if all(r["outcome"] == reference for r in rows) else "  DIFFERS FROM bpsim"
            print(
                f"{case:<22} {implementation:<6} {speed[case, implementation]:>9,.0f} "
                f"{speed[case, implementation] / speed[case, 'bpsim']:>7.2f}x "
                f"{traced['tracemalloc_mib']:>7.2f} MiB {max(r['rss_mib'] for r in rows):>5.0f} MiB  "
                f"{handled} handled, {dropped} dropped, {timed_out} timed out, end {end:.6f}{same}"
            )
        if (case, "bare") in speed:
            overhead = speed[case, "bare"] / speed[case, "bpsim"] - 1
            print(f"{'':<22} bpsim's metrics and events cost {overhead:+.0%} over bare (time per item)")
    if ("contended service", "bpsim") in speed:
        cost = speed["block + timeouts", "bpsim"] / speed["contended service", "bpsim"]
        print(f"{'':<22} the contended service costs {cost:.2f}x per item of block + timeouts (bpsim)")
    print(f"peak RSS after imports alone: {runs[plan[0]][0]['rss_imports_mib']:.0f} MiB")


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
    parser.add_argument("--million", action="store_true", help="only measure a 1,000,000-item run's peak RSS")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--impl", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_once(args.case, args.impl, args.items, args.traced)))
    elif args.million:
        million()
    else:
        table(args.items, args.repeat)


if __name__ == "__main__":
    main()
