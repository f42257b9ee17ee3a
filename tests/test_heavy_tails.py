"""`distribution = "pareto"` and `"weibull"`: heavy-tailed service times (#19)."""

from __future__ import annotations

import math
import statistics

import pytest

from bpsim.theory import theory_for
from bpsim.workload import service_time_at, service_times
from tests.helpers import problems_in, scenario

PARETO = {"distribution": "pareto", "scale": 0.1, "shape": 2.0}
WEIBULL = {"distribution": "weibull", "scale": 1.0, "shape": 2.0}


def with_service(service: dict, **more: object):
    return scenario(duration=10.0, workers={"service": service}, **more)


def test_the_quantiles_match_values_computed_by_hand():
    pareto = with_service(PARETO).workers.service
    # scale (1 - u)^(-1/shape): 0.1 * 0.25^(-1/2) = 0.1 * 2 = 0.2
    assert service_time_at(pareto, 0.75) == pytest.approx(0.2)
    assert service_time_at(pareto, 0.0) == 0.1  # the shortest call is `scale`
    assert pareto.mean == pytest.approx(0.2)  # 0.1 * 2 / (2 - 1)
    assert pareto.variance == math.inf  # shape <= 2
    weibull = with_service(WEIBULL).workers.service
    # scale (-ln(1 - u))^(1/shape) at u = 1 - 1/e: 1 * 1^(1/2) = 1
    assert service_time_at(weibull, 1 - math.exp(-1)) == pytest.approx(1.0)
    assert weibull.mean == pytest.approx(math.sqrt(math.pi) / 2)  # Gamma(1.5)
    assert weibull.variance == pytest.approx(1 - math.pi / 4)  # Gamma(2) - Gamma(1.5)^2


def test_weibull_of_shape_1_is_the_exponential_item_for_item():
    weibull = with_service({"distribution": "weibull", "scale": 0.2, "shape": 1.0})
    exponential = with_service({"distribution": "exponential", "mean": 0.2})
    pairs = zip(service_times(weibull), service_times(exponential))
    for (a, b), _ in zip(pairs, range(100)):
        assert a == pytest.approx(b, rel=1e-12)


def test_the_drawn_times_have_the_distributions_mean():
    s = with_service({"distribution": "pareto", "scale": 0.1, "shape": 3.0}, seed=3)
    drawn = [t for t, _ in zip(service_times(s), range(20000))]
    assert min(drawn) >= 0.1
    assert statistics.fmean(drawn) == pytest.approx(0.15, rel=0.05)  # 0.1 * 3 / 2
    w = with_service(WEIBULL, seed=3)
    assert statistics.fmean(t for t, _ in zip(service_times(w), range(20000))) == pytest.approx(0.8862, rel=0.02)


def test_theory_uses_mg1_when_it_applies_and_says_why_not_otherwise():
    light = with_service({"distribution": "pareto", "scale": 0.01, "shape": 3.0})
    assert (theory_for(light).model, theory_for(light).applies) == ("M/G/1", True)
    assert theory_for(with_service({"distribution": "pareto", "scale": 0.01, "shape": 1.5})).reason == "pareto_service"
    two = scenario(duration=10.0, workers={"count": 2, "service": WEIBULL | {"scale": 0.01}})
    assert theory_for(two).reason == "weibull_service"


def test_bad_parameters_are_one_line_each():
    assert problems_in('duration = 1.0\n[workers]\nservice = { distribution = "pareto", scale = 0.1, shape = 1.0 }\n') == [
        "bad.toml:3: workers.service.shape: must be greater than 1, not 1.0"
    ]
    (missing,) = problems_in('duration = 1.0\n[workers]\nservice = { distribution = "weibull", shape = 2.0 }\n')
    assert missing.startswith("bad.toml:3: workers.service.scale:")
