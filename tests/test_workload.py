"""The traffic: arrival and service times depend only on the seed and the item number."""

from __future__ import annotations

import itertools

import pytest

from bpsim.workload import arrival_times, items
from tests.helpers import scenario


def test_constant_arrivals_are_evenly_spaced_from_zero():
    s = scenario(duration=1.0, producer={"rate": 4.0, "arrivals": "constant"})
    assert [item.arrival for item in items(s)] == [0.0, 0.25, 0.5, 0.75]


def test_a_burst_packs_arrivals_closer_together():
    s = scenario(
        duration=3.0,
        producer={"rate": 2.0, "arrivals": "constant", "bursts": [{"at": 1.0, "duration": 1.0, "rate": 10.0}]},
    )
    arrivals = [round(item.arrival, 9) for item in items(s)]
    assert arrivals == [0.0, 0.5, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.5]


def test_poisson_arrivals_have_the_requested_mean_rate():
    s = scenario(duration=1000.0, producer={"rate": 5.0})
    count = sum(1 for _ in items(s))
    # Poisson with mean 5000: standard deviation ~71, so 4 sigma is ~280.
    assert abs(count - 5000) < 280


def test_unlimited_rate_puts_everything_at_time_zero():
    s = scenario(items=4, producer={"rate": "unlimited"})
    assert [item.arrival for item in items(s)] == [0.0] * 4


def test_item_k_gets_the_same_times_whatever_else_changes():
    base = dict(seed=11, duration=50.0, producer={"rate": 10.0}, workers={"service": {"distribution": "exponential", "mean": 0.2}})
    reference = [(i.arrival, i.service) for i in items(scenario(**base))]
    for variant in (
        {"queue": {"policy": "drop-oldest", "maxsize": 3}},
        {"queue": {"maxsize": 0}, "workers": {"count": 9, "service": base["workers"]["service"]}},
        {"downstream": {"concurrency": 1, "timeout": 0.1}},
    ):
        assert [(i.arrival, i.service) for i in items(scenario(**base | variant))] == reference


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_different_seeds_give_different_traffic(seed):
    producer = scenario(duration=1.0, producer={"rate": 10.0}).producer
    first = list(itertools.islice(arrival_times(producer, seed), 5))
    other = list(itertools.islice(arrival_times(producer, seed + 100), 5))
    assert first != other
