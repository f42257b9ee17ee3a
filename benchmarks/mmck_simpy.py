"""M/M/4/14 drop-newest in SimPy, as a user would write it: the whole-process reference.

`benchmarks/engine.py --whole` times `bpsim run` on the same system against this script, both as
whole processes. It imports only SimPy and the standard library, and draws the same items as
`bpsim.workload` does for seed 42 (arrivals at rate 3.5 from the "42/arrivals" stream, service
times of mean 1 s from "42/service"), so it ends at the same instant as bpsim's run.

    python benchmarks/mmck_simpy.py 100000
"""

from __future__ import annotations

import random
import sys

import simpy


def main(n: int, seed: int = 42, rate: float = 3.5, capacity: int = 10, workers: int = 4) -> None:
    env = simpy.Environment()
    store = simpy.Store(env, capacity=capacity)
    arrivals, services = random.Random(f"{seed}/arrivals"), random.Random(f"{seed}/service")
    counts = {"handled": 0, "dropped": 0}

    def producer():  # type: ignore[no-untyped-def]
        work = 0.0
        for _ in range(n):
            work += arrivals.expovariate(1.0)
            if (delay := work / rate - env.now) > 0:
                yield env.timeout(delay)
            if len(store.items) < capacity:
                store.put(services.expovariate(1.0))
            else:
                services.expovariate(1.0)  # item k keeps service time k, as in bpsim
                counts["dropped"] += 1

    def worker():  # type: ignore[no-untyped-def]
        while True:
            service = yield store.get()
            yield env.timeout(service)
            counts["handled"] += 1

    env.process(producer())
    for _ in range(workers):
        env.process(worker())
    env.run()
    print(f"{counts['handled']} handled, {counts['dropped']} dropped, end {env.now:.6f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
