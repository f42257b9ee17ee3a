"""`producer.start`: nothing arrives before it; the rate and bursts apply as written after it (#19)."""

from __future__ import annotations

import pytest

from bpsim.theory import theory_for
from bpsim.workload import arrival_times, items
from tests.helpers import problems_in, scenario


def first(producer: dict, n: int, seed: int = 0) -> list[float]:
    s = scenario(items=n, producer=producer, seed=seed)
    return [item.arrival for item in items(s)]


def test_constant_arrivals_begin_at_start():
    # 4 per second from 2.5 s: 2.5, 2.75, 3.0, 3.25
    assert first({"rate": 4.0, "arrivals": "constant", "start": 2.5}, 4) == [2.5, 2.75, 3.0, 3.25]
    assert first({"rate": "unlimited", "start": 1.0}, 3) == [1.0, 1.0, 1.0]


def test_poisson_arrivals_are_the_same_draws_shifted_by_start():
    # Without bursts the rate is constant, so starting the unit process at start shifts it.
    plain = first({"rate": 10.0}, 20)
    later = first({"rate": 10.0, "start": 3.0}, 20)
    assert later == pytest.approx([3.0 + t for t in plain], abs=1e-12)


def test_bursts_keep_their_times():
    # A burst at 0-1 s at 100/s, start at 0.5: constant arrivals every 10 ms from 0.5, then 1/s after 1.0.
    producer = {"rate": 1.0, "arrivals": "constant", "start": 0.5, "bursts": [{"at": 0.0, "duration": 1.0, "rate": 100.0}]}
    times = first(producer, 52)
    assert times[0] == pytest.approx(0.5)
    assert times[49] == pytest.approx(0.99)
    assert times[50] == pytest.approx(1.0)  # work 100 at 1.0 s
    assert times[51] == pytest.approx(2.0)


def test_without_start_the_schedule_is_unchanged():
    s = scenario(duration=5.0, producer={"rate": 7.0})
    explicit = scenario(duration=5.0, producer={"rate": 7.0, "start": 0.0})
    assert [t for t, _ in zip(arrival_times(s.producer, 3), range(50))] == [
        t for t, _ in zip(arrival_times(explicit.producer, 3), range(50))
    ]


def test_expected_items_count_only_the_time_after_start():
    assert scenario(duration=10.0, producer={"rate": 5.0, "start": 4.0}).expected_items == pytest.approx(30.0)


def test_a_start_past_the_duration_is_refused_and_theory_says_why_it_stands_aside():
    (problem,) = problems_in("duration = 2.0\n[producer]\nstart = 3.0\n")
    assert "producer.start (3.0 s) must come before duration (2.0 s)" in problem
    assert theory_for(scenario(duration=10.0, producer={"start": 1.0})).reason == "producer_start"
