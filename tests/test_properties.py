"""Properties every run must have, checked over random valid scenarios (hypothesis).

Each example is a scenario dict as a learner could write it: any policy, maxsize 0, 1 or more,
1 to 64 workers, concurrency none or 1 to above the worker count, rates from one item an hour to
far above capacity, bursts, put_timeout, max_age, a downstream timeout, both shutdown modes, with
and without a deadline. Every example produces at most a few hundred items, so it runs in
milliseconds on the virtual clock.

The examples are derandomized and no example database is kept, so CI explores the same scenarios
every time. Explore more locally with BPSIM_PROPERTY_EXAMPLES=5000.
"""

from __future__ import annotations

import math
import os
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpsim.engine import RunResult, run
from bpsim.events import (
    CallStarted,
    Event,
    ItemAbandoned,
    ItemDequeued,
    ItemDropped,
    ItemEnqueued,
    ItemHandled,
    ItemProduced,
    ItemRejected,
    ItemTimedOut,
)
from bpsim.scenario import Scenario
from bpsim.theory import littles_law
from tests.helpers import scenario as scenario_of

MAX_ITEMS = 300
"""Upper bound on the items one example produces (a few more for Poisson arrivals)."""

WALL_LIMIT_SECONDS = 20
"""A run that takes longer than this on the wall clock is a hang, not a slow machine."""

END_EVENTS = (ItemHandled, ItemDropped, ItemTimedOut, ItemRejected, ItemAbandoned)

PROPERTIES = settings(
    max_examples=int(os.environ.get("BPSIM_PROPERTY_EXAMPLES", "200")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats spread evenly over orders of magnitude, so 0.001 is as likely as 1000."""
    return st.floats(math.log10(low), math.log10(high)).map(lambda exponent: 10.0**exponent)


@st.composite
def services(draw: st.DrawFn) -> dict[str, Any]:
    mean = draw(log_uniform(1e-4, 10.0))
    kind = draw(st.sampled_from(["constant", "exponential", "uniform"]))
    if kind == "uniform":
        return {"distribution": "uniform", "low": draw(st.sampled_from([0.0, mean / 2])), "high": mean * 2}
    return {"distribution": kind, "mean": mean}


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A valid scenario dict producing at most about MAX_ITEMS items."""
    target = draw(st.integers(1, MAX_ITEMS))
    policy = draw(st.sampled_from(["block", "drop-newest", "drop-oldest"]))
    workers = draw(st.integers(1, 64))
    data: dict[str, Any] = {"seed": draw(st.integers(0, 2**32))}

    unlimited = draw(st.booleans()) and draw(st.booleans())  # one scenario in four
    if unlimited:
        producer: dict[str, Any] = {"rate": "unlimited"}
        data["items"] = target
    else:
        rate = draw(log_uniform(1e-3, 1e5))
        producer = {"rate": rate, "arrivals": draw(st.sampled_from(["constant", "poisson"]))}
        # Bursts take part of the item budget: burst items = burst rate x burst duration.
        burst_count = draw(st.integers(0, 2))
        start = 0.0
        bursts = []
        for _ in range(burst_count):
            burst_rate = rate * draw(log_uniform(0.1, 100.0))
            burst_items = draw(st.integers(1, max(1, target // 4)))
            start += draw(log_uniform(1e-3, 10.0)) / rate
            duration = burst_items / burst_rate
            bursts.append({"at": start, "duration": duration, "rate": burst_rate})
            start += duration
        producer["bursts"] = bursts
        if draw(st.booleans()):
            data["items"] = target
        else:
            data["duration"] = target / rate

    queue: dict[str, Any] = {"maxsize": draw(st.sampled_from([0, 1, 2, 3, 10, 100])), "policy": policy}
    if policy == "block" and draw(st.booleans()):
        queue["put_timeout"] = draw(log_uniform(1e-4, 100.0))
    if draw(st.booleans()):
        queue["max_age"] = draw(log_uniform(1e-4, 100.0))

    downstream: dict[str, Any] = {}
    if draw(st.booleans()):
        downstream["concurrency"] = draw(st.integers(1, workers + 4))
    if draw(st.booleans()):
        downstream["timeout"] = draw(log_uniform(1e-4, 100.0))

    mode = draw(st.sampled_from(["graceful", "immediate"]))
    shutdown: dict[str, Any] = {"mode": mode, "await_producer": draw(st.booleans())}
    if mode == "immediate" or draw(st.booleans()):
        shutdown["at"] = draw(log_uniform(1e-4, 1e5))

    return data | {
        "producer": producer,
        "queue": queue,
        "workers": {"count": workers, "service": draw(services())},
        "downstream": downstream,
        "shutdown": shutdown,
    }


@contextmanager
def wall_limit(seconds: int) -> Iterator[None]:
    """Fail with TimeoutError instead of hanging the test suite if the body takes too long."""

    def give_up(signum: int, frame: object) -> None:
        raise TimeoutError(f"the run did not end within {seconds} s of wall time")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_recorded(data: dict[str, Any]) -> tuple[RunResult, list[Event]]:
    events: list[Event] = []
    with wall_limit(WALL_LIMIT_SECONDS):
        result = run(Scenario.model_validate(data), [events.append])
    return result, events


@PROPERTIES
@given(scenarios())
def test_every_run_ends_with_every_item_accounted_for(data: dict[str, Any]) -> None:
    # A run that could never end would raise Stalled here; none of these scenarios may.
    result, events = run_recorded(data)
    counts = result.counts
    assert result.completed
    assert counts.in_progress == 0
    assert counts.finished == counts.produced
    assert counts.produced == sum(isinstance(e, ItemProduced) for e in events)


@PROPERTIES
@given(scenarios())
def test_each_item_ends_in_exactly_one_state(data: dict[str, Any]) -> None:
    result, events = run_recorded(data)
    produced = [e.item for e in events if isinstance(e, ItemProduced)]
    ends = Counter(e.item for e in events if isinstance(e, END_EVENTS))
    assert produced == list(range(result.counts.produced))
    assert ends == Counter(produced), "items with no end state or with more than one"
    by_kind = Counter(type(e).__name__ for e in events if isinstance(e, END_EVENTS))
    c = result.counts
    assert by_kind["ItemHandled"] == c.handled
    assert by_kind["ItemDropped"] == c.dropped
    assert by_kind["ItemTimedOut"] == c.timed_out
    assert by_kind["ItemRejected"] == c.rejected_at_shutdown
    assert by_kind["ItemAbandoned"] == c.abandoned


@PROPERTIES
@given(scenarios())
def test_the_queue_never_holds_more_than_maxsize(data: dict[str, Any]) -> None:
    result, events = run_recorded(data)
    maxsize = data["queue"]["maxsize"]
    if maxsize > 0:
        sizes = [e.qsize for e in events if isinstance(e, ItemEnqueued | ItemDequeued | ItemProduced)]
        assert max(sizes, default=0) <= maxsize
        assert result.max_qsize <= maxsize


@PROPERTIES
@given(scenarios())
def test_calls_in_flight_never_exceed_the_concurrency(data: dict[str, Any]) -> None:
    result, events = run_recorded(data)
    limit = min(data["downstream"].get("concurrency", data["workers"]["count"]), data["workers"]["count"])
    assert max((e.in_flight for e in events if isinstance(e, CallStarted)), default=0) <= limit
    assert result.max_in_flight <= limit


@PROPERTIES
@given(scenarios())
def test_littles_law_holds_on_the_queue_of_every_run(data: dict[str, Any]) -> None:
    # The time-average qsize and the items' own times in the queue are counted separately.
    result, _ = run_recorded(data)
    check = littles_law(result)
    assert math.isclose(check.predicted_in_queue, check.observed_in_queue, rel_tol=1e-6, abs_tol=1e-9)


@settings(PROPERTIES, max_examples=max(1, PROPERTIES.max_examples // 2))
@given(scenarios())
def test_the_same_seed_gives_the_same_run(data: dict[str, Any]) -> None:
    first_result, first_events = run_recorded(data)
    second_result, second_events = run_recorded(data)
    assert first_events == second_events
    assert first_result == second_result



def test_a_run_past_194_simulated_days_still_ends():
    # One item whose call takes 2**25 s (388 days): handled at t = 2**25.
    with wall_limit(1):
        result = run(scenario_of(items=1, producer={"rate": "unlimited"}, workers={"service": {"distribution": "constant", "mean": 2.0**25}}))
    assert result.counts.handled == 1
    assert result.duration == 2.0**25
