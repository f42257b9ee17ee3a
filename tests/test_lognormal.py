"""`distribution = "lognormal"` with `median` and `p99`: the latencies engineers quote, one draw per item."""

from __future__ import annotations

import itertools
import math

import pytest

from bpsim.loader import load_scenario, scenario_from_text
from bpsim.scenario import LognormalService, Z_99
from bpsim.theory import mg1, theory_for
from bpsim.workload import service_time_at, service_times
from tests.helpers import problems_in

LOGNORMAL = '{distribution = "lognormal", median = 0.08, p99 = 0.6}'


def scenario(*sets: str):
    return load_scenario("burst", [f"workers.service={LOGNORMAL}", *sets])


def test_its_parameters_by_hand():
    service = scenario().workers.service
    assert isinstance(service, LognormalService)
    # sigma = ln(0.6 / 0.08) / 2.326348 = 2.014903 / 2.326348 = 0.866123; mu = ln 0.08 = -2.525729;
    # mean = 0.08 exp(0.866123^2 / 2) = 0.08 exp(0.375084) = 0.08 * 1.455114 = 0.116409;
    # variance = (exp(0.750169) - 1) mean^2 = 1.117357 * 0.013551 = 0.015141.
    assert Z_99 == pytest.approx(2.326348, abs=1e-6)
    assert service.sigma == pytest.approx(0.866123, abs=1e-6)
    assert service.mean == pytest.approx(0.116409, abs=1e-6)
    assert service.variance == pytest.approx(0.015141, abs=1e-6)


def test_the_median_and_p99_are_those_asked_for():
    service = scenario().workers.service
    assert service_time_at(service, 0.5) == pytest.approx(0.08, rel=1e-12)
    assert service_time_at(service, 0.99) == pytest.approx(0.6, rel=1e-9)
    assert service_time_at(service, 0.0) > 0  # u = 0 once in 2^53: still a time
    # 40,000 items, drawn as a run draws them: the sample's quantiles are within a few percent.
    times = sorted(itertools.islice(service_times(scenario()), 40_000))
    assert times[20_000] == pytest.approx(0.08, rel=0.03)
    assert times[39_600] == pytest.approx(0.6, rel=0.06)
    assert sum(times) / len(times) == pytest.approx(service.mean, rel=0.03)


def test_item_k_needs_the_same_time_under_every_policy():
    first = list(itertools.islice(service_times(scenario("queue.policy=block")), 100))
    assert first == list(itertools.islice(service_times(scenario("queue.policy=drop-oldest", "queue.maxsize=3")), 100))
    assert first != list(itertools.islice(service_times(scenario("seed=8")), 100))


def test_bad_values_are_one_line_each():
    assert problems_in('[workers]\nservice = { distribution = "lognormal", median = 0.5, p99 = 0.2 }\n') == [
        "bad.toml:2: workers.service.lognormal: p99 (0.2) must be above the median (0.5): 99% of calls are at most p99, half at most the median"
    ]
    missing = problems_in('[workers]\nservice = { distribution = "lognormal", median = 0.5 }\n')
    assert missing == ["bad.toml:2: workers.service.p99: is missing; this table needs it"]
    negative = problems_in('[workers]\nservice = { distribution = "lognormal", median = -1, p99 = 2 }\n')
    assert len(negative) == 1 and "workers.service" in negative[0] and "median" in negative[0]


def test_one_worker_and_an_unbounded_queue_is_mg1_with_the_lognormals_variance():
    def text(count: int) -> str:
        return f"duration = 60\n[producer]\nrate = 5.0\n[workers]\ncount = {count}\nservice = {LOGNORMAL}\n"

    theory = theory_for(scenario_from_text(text(1)))
    assert theory.applies and theory.model == "M/G/1"
    expected = mg1(5.0, 0.116409, 0.015141)  # the values above, by hand
    assert theory.mean_wait == pytest.approx(expected.mean_wait, rel=1e-4)
    more = theory_for(scenario_from_text(text(2)))
    assert (more.applies, more.reason) == (False, "lognormal_service")


def test_a_run_with_lognormal_service_accounts_for_every_item():
    from bpsim.engine import run

    result = run(scenario())
    assert result.counts.produced == result.counts.finished == 833
    assert math.isfinite(result.latency.p99) and result.latency.p99 > 0.6
