"""LatencyStats: exact percentiles for ordinary runs, bounded memory and 1% error past the limit."""

from __future__ import annotations

import math
import random

import pytest

from bpsim import stats
from bpsim.stats import LatencyStats


def exact_percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def recorded(values: list[float]) -> LatencyStats:
    latency = LatencyStats()
    for value in values:
        latency.record(value)
    return latency


def test_percentiles_are_values_that_occurred_while_below_the_limit():
    values = [0.3, 0.1, 0.2, 0.5, 0.4]
    latency = recorded(values)
    assert latency.exact
    assert [latency.percentile(p) for p in (20, 50, 100)] == [0.1, 0.3, 0.5]
    assert (latency.count, latency.min, latency.max) == (5, 0.1, 0.5)
    assert latency.mean == pytest.approx(0.3)


def test_asking_while_values_keep_arriving_gives_the_same_percentiles_as_asking_once():
    # A dashboard asks on every frame; each time only the newer values need sorting.
    generator = random.Random(7)
    latency, values = LatencyStats(), []
    for _ in range(20):
        for _ in range(generator.randrange(1, 50)):
            values.append(generator.expovariate(1.0))
            latency.record(values[-1])
        assert [latency.percentile(p) for p in (1, 50, 95, 99, 100)] == [exact_percentile(values, p) for p in (1, 50, 95, 99, 100)]


def test_past_the_limit_percentiles_are_within_one_percent_and_memory_stops_growing(monkeypatch):
    monkeypatch.setattr(stats, "EXACT_LIMIT", 1_000)
    draw = random.Random(1)
    values = [draw.expovariate(1.0) for _ in range(5_000)]
    latency = recorded(values)
    assert not latency.exact
    for p in (50, 90, 99, 99.9):
        assert latency.percentile(p) == pytest.approx(exact_percentile(values, p), rel=0.01)
    assert len(latency._exact) == 0, "the kept values are released once the histogram takes over"
    assert len(latency._buckets) < 1_100
    assert (latency.min, latency.max) == (min(values), max(values))
