"""What does a retried call cost? CPU time per item without `[retry]`, and per attempt with it.

Issue #12 asks that with retries "the cost per attempt is of the same order as per item today".
Three cases on the same traffic (the same seed, arrivals and work), each run headless in this
process with `bpsim.engine.run` (as `bpsim run --no-live` runs it):

* plain         - no `[retry]`, an ideal downstream (`await asyncio.sleep(work)`): today's cost per item;
* errors        - no `[retry]`, a service where 60% of the calls fail (`errors = 0.6`): one call per item;
* retry         - the same service with `[retry] attempts = 5`: (1 - 0.6^5) / (1 - 0.6) = 2.31 calls
                  per item on average, each retry after a backoff sleep (full jitter).

Calls are counted by the run itself (`retry.attempts`; without `[retry]` every item makes one
call, none is dropped or timed out). CPU time is `time.process_time`, the best of `--repeat`
runs, the cases interleaved so that a change in the machine's load hits all alike.

    python benchmarks/attempts.py                      # 20,000 items, best of 5
    python benchmarks/attempts.py --items 50000 --repeat 7
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bpsim.engine import RunResult, run  # noqa: E402
from bpsim.scenario import Scenario  # noqa: E402

ERRORS = 0.6
ATTEMPTS = 5


def base(n: int) -> dict[str, Any]:
    """Poisson arrivals at 50/s, 20 workers, exponential work of mean 0.1 s: never a full queue."""
    return {
        "seed": 7,
        "items": n,
        "producer": {"rate": 50.0},
        "queue": {"maxsize": 1000, "policy": "drop-newest"},
        "workers": {"count": 20, "service": {"distribution": "exponential", "mean": 0.1}},
    }


def plain(n: int) -> Scenario:
    return Scenario.model_validate(base(n))


def errors(n: int) -> Scenario:
    return Scenario.model_validate(base(n) | {"downstream": {"errors": ERRORS}})


def retry(n: int) -> Scenario:
    backoff = {"initial": 0.01, "multiplier": 2.0, "max": 0.1, "jitter": "full"}
    return Scenario.model_validate(
        base(n) | {"downstream": {"errors": ERRORS}, "retry": {"attempts": ATTEMPTS, "backoff": backoff}}
    )


CASES: dict[str, Callable[[int], Scenario]] = {"plain": plain, "errors": errors, "retry": retry}
WORDS = {
    "plain": "no `[retry]`, ideal downstream",
    "errors": f"no `[retry]`, `errors = {ERRORS}`",
    "retry": f"`[retry] attempts = {ATTEMPTS}`, `errors = {ERRORS}`",
}


def calls(result: RunResult) -> int:
    """Calls made: the retry loop's count, or one per item that reached the downstream."""
    if result.retry is not None:
        return result.retry.attempts
    counts = result.counts
    assert counts.dropped == counts.timed_out == 0, "every item makes exactly one call"
    return counts.handled + counts.failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    scenarios = {name: make(args.items) for name, make in CASES.items()}
    for scenario in scenarios.values():
        run(scenario.model_copy(update={"items": 500}))  # warm-up: imports, caches
    best: dict[str, float] = {}
    results: dict[str, RunResult] = {}
    for _ in range(args.repeat):
        for name, scenario in scenarios.items():
            start = time.process_time()
            results[name] = run(scenario)
            spent = time.process_time() - start
            best[name] = min(best.get(name, spent), spent)

    print(f"Python {platform.python_version()}, {args.items:,} items, best of {args.repeat} (CPU time)\n")
    print("| case | calls per item | µs per item | µs per call | per call / plain per item |")
    print("| --- | ---: | ---: | ---: | ---: |")
    plain_per_item = best["plain"] / args.items
    for name, result in results.items():
        made = calls(result)
        per_item, per_call = best[name] / args.items, best[name] / made
        print(
            f"| {WORDS[name]} | {made / args.items:.2f} | {per_item * 1e6:.1f} | {per_call * 1e6:.1f} |"
            f" {per_call / plain_per_item:.2f}x |"
        )
    expected = (1 - ERRORS**ATTEMPTS) / (1 - ERRORS)
    print(f"\n(1 - {ERRORS}^{ATTEMPTS}) / (1 - {ERRORS}) = {expected:.2f} calls per item expected with retries")


if __name__ == "__main__":
    main()
