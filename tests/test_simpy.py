"""bpsim agrees with SimPy, the standard Python discrete-event simulator, to the last bit.

Both are fed the same items (`bpsim.workload.items(scenario)`: the same arrival and service
times) and must give every item the same fate at the same instant, compared as floats with `==`.
That works because both do the same arithmetic: the producer waits `arrival - now` (SimPy's
`timeout(arrival - now)`, bpsim's `sleep(arrival - loop.time())`), a call ends at
`now + service`, a deadline is `now + timeout`; and both break ties first-scheduled first
(SimPy's `(time, priority, id)` order, bpsim's FIFO-tie virtual loop).

The block policy is expressible too, with put_timeout, a semaphore and a downstream timeout:

* `Store(capacity)` with a blocking `put` is `Queue(maxsize)` with `await put`. There is a single
  producer, so the order of waiting puts cannot differ; the blocked put completes at the instant
  a worker takes an item in both (asyncio wakes the putter, which runs later in the same instant).
* `put | timeout(put_timeout)` with `put.cancel()` is `asyncio.timeout` around `queue.put`.
* `Resource(capacity)` is the semaphore: both hand a released slot to the longest waiter (FIFO;
  asyncio's `Semaphore.acquire` does not let a newcomer barge in while others wait).
* The downstream deadline is created before the call, so on an exact tie it fires first in both:
  a call that takes exactly the timeout counts as timed out.

Same-instant ties between *different* kinds of events (a put and a get, a deadline and a release)
could still be ordered differently by the two kernels; Poisson arrivals and exponential service
make such ties have probability zero, which is why these scenarios use them.
"""

from __future__ import annotations

from typing import Any

import pytest

from bpsim.events import Event, ItemDropped, ItemHandled, ItemTimedOut
from bpsim.scenario import Scenario
from bpsim.workload import items
from tests.helpers import run_recording, scenario

simpy = pytest.importorskip("simpy")

Fates = dict[int, tuple[str, float]]
"""Item number -> (what happened to it, simulated second)."""


def bpsim_fates(events: list[Event]) -> Fates:
    fates: Fates = {}
    for event in events:
        if isinstance(event, ItemHandled):
            fates[event.item] = ("handled", event.at)
        elif isinstance(event, ItemDropped):
            fates[event.item] = ("dropped", event.at)
        elif isinstance(event, ItemTimedOut):
            fates[event.item] = (f"timed out in {event.place}", event.at)
    return fates


def simpy_fates(s: Scenario) -> Fates:
    """The same pipeline as a SimPy model: Store for the queue, Resource for the semaphore."""
    env = simpy.Environment()
    capacity = s.queue.maxsize
    store = simpy.Store(env, capacity=capacity)
    limiter = simpy.Resource(env, s.downstream.concurrency) if s.downstream.concurrency else None
    fates: Fates = {}

    def producer():  # type: ignore[no-untyped-def]
        for item in items(s):
            if (delay := item.arrival - env.now) > 0:
                yield env.timeout(delay)
            if s.queue.policy == "drop-newest":
                if len(store.items) < capacity:
                    store.put(item)
                else:
                    fates[item.number] = ("dropped", env.now)
                continue
            put = store.put(item)  # block
            if s.queue.put_timeout is None:
                yield put
                continue
            yield put | env.timeout(s.queue.put_timeout)
            if not put.triggered:
                put.cancel()
                fates[item.number] = ("timed out in put", env.now)

    def call(item):  # type: ignore[no-untyped-def]
        if s.downstream.timeout is None:
            yield env.timeout(item.service)
            return True
        deadline = env.timeout(s.downstream.timeout)  # before the call, as asyncio.timeout does
        done = env.timeout(item.service)
        yield deadline | done
        return not deadline.processed

    def worker():  # type: ignore[no-untyped-def]
        while True:
            item = yield store.get()
            if limiter is None:
                finished = yield env.process(call(item))
            else:
                with limiter.request() as slot:
                    yield slot
                    finished = yield env.process(call(item))
            fates[item.number] = ("handled", env.now) if finished else ("timed out in downstream", env.now)

    env.process(producer())
    for _ in range(s.workers.count):
        env.process(worker())
    env.run()
    return fates


POISSON = dict(seed=7, items=3_000, producer={"rate": 3.5})
EXPONENTIAL = {"distribution": "exponential", "mean": 1.0}

CASES: dict[str, dict[str, Any]] = {
    "M/M/4/14 drop-newest": dict(
        **POISSON,
        queue={"maxsize": 10, "policy": "drop-newest"},
        workers={"count": 4, "service": EXPONENTIAL},
    ),
    "block": dict(
        **POISSON,
        queue={"maxsize": 10, "policy": "block"},
        workers={"count": 4, "service": EXPONENTIAL},
    ),
    "block, put_timeout, semaphore, downstream timeout": dict(
        **POISSON,
        queue={"maxsize": 10, "policy": "block", "put_timeout": 0.5},
        workers={"count": 5, "service": EXPONENTIAL},
        downstream={"concurrency": 3, "timeout": 3.0},
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bpsim_and_simpy_give_every_item_the_same_fate_at_the_same_instant(case):
    s = scenario(**CASES[case])
    result, events = run_recording(s)
    ours, theirs = bpsim_fates(events), simpy_fates(s)
    assert len(ours) == s.items
    assert ours == theirs  # exact float equality, item by item
    assert result.duration == max(at for _, at in theirs.values())


def test_the_cross_check_cases_exercise_drops_and_both_timeouts():
    # Guard against a vacuous comparison: each kind of fate actually happens.
    kinds = {fate for case in CASES.values() for fate, _ in simpy_fates(scenario(**case)).values()}
    assert kinds == {"handled", "dropped", "timed out in put", "timed out in downstream"}
