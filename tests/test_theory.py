"""The formulas against textbook values, theory_for's choice of model, and the simulation agreeing."""

from __future__ import annotations

import io
import json
import math
import tracemalloc
from fractions import Fraction
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bpsim.cli import app

from bpsim.engine import RunResult, run
from bpsim.limits import Limits, LimitReached
from bpsim.loader import load_scenario
from bpsim.render.theme import theme
from bpsim.render.theory import note_text, theory_table
from bpsim.scenario import Scenario
from bpsim.i18n import t
from bpsim.theory import (
    NoSteadyState,
    birth_death,
    closed_loop_throughput,
    erlang_c,
    littles_law,
    md1,
    mg1,
    mmc,
    mmck,
    simulated,
    theory_for,
    usl,
    usl_chain,
    usl_knee,
    usl_peak,
    usl_service,
)

EXPONENTIAL_1S = {"distribution": "exponential", "mean": 1.0}


def scenario(**sections: Any) -> Scenario:
    """A scenario of 3.5 items/s into 4 workers of 1 s exponential service, unbounded queue."""
    data: dict[str, Any] = {
        "items": 100,
        "producer": {"rate": 3.5},
        "workers": {"count": 4, "service": EXPONENTIAL_1S},
    }
    return Scenario.model_validate(data | sections)


# -- formulas --------------------------------------------------------------------------------------


def test_mm1_at_half_load_matches_the_textbook() -> None:
    # lambda = 0.5, mu = 1: rho = 0.5, L = rho / (1 - rho) = 1, W = 1 / (mu - lambda) = 2 = 1/lambda,
    # Lq = rho^2 / (1 - rho) = 0.5, Wq = rho / (mu - lambda) = 1, P(wait) = rho.
    state = mmc(0.5, 1.0, 1)
    assert state.rho == 0.5
    assert state.mean_in_system == pytest.approx(1.0, abs=1e-12)
    assert state.mean_response == pytest.approx(2.0, abs=1e-12)
    assert state.mean_in_queue == pytest.approx(0.5, abs=1e-12)
    assert state.mean_wait == pytest.approx(1.0, abs=1e-12)
    assert state.wait_probability == pytest.approx(0.5, abs=1e-12)


def test_mm2_matches_its_closed_form() -> None:
    # M/M/2 with rho = lambda / (2 mu): L = 2 rho / (1 - rho^2), P(wait) = 2 rho^2 / (1 + rho).
    # lambda = 3, mu = 2: rho = 0.75, L = 1.5 / 0.4375 = 24/7, P(wait) = 1.125 / 1.75 = 9/14.
    state = mmc(3.0, 2.0, 2)
    assert state.mean_in_system == pytest.approx(24 / 7, abs=1e-12)
    assert state.wait_probability == pytest.approx(9 / 14, abs=1e-12)
    assert state.mean_response == pytest.approx(state.mean_in_system / 3.0, abs=1e-12)


def test_erlang_c_matches_the_textbook_sum_computed_exactly() -> None:
    # The textbook definition, in exact fractions: P0 = 1 / (sum_{k<c} a^k/k! + a^c / (c! (1-rho))),
    # C = a^c / (c! (1-rho)) * P0. lambda = 3.5, mu = 1, c = 4: a = 7/2, rho = 7/8.
    a, c = Fraction(7, 2), 4
    tail = a**c / (math.factorial(c) * (1 - a / c))
    wait = tail / (sum(a**k / math.factorial(k) for k in range(c)) + tail)
    assert erlang_c(3.5, 1.0, 4) == pytest.approx(float(wait), abs=1e-12)
    state = mmc(3.5, 1.0, 4)
    # Lq = C rho / (1 - rho) = 7 C, Wq = Lq / lambda, W = Wq + 1/mu; by hand C = 0.73786...
    assert state.wait_probability == pytest.approx(0.7379, abs=5e-5)
    assert state.mean_in_queue == pytest.approx(float(7 * wait), abs=1e-12)
    assert state.mean_response == pytest.approx(float(2 * wait) + 1, abs=1e-12)


def test_erlang_c_stays_finite_for_a_thousand_servers() -> None:
    # a^c / c! overflows a float here (950^1000); the Erlang B recursion does not.
    assert 0 < erlang_c(950.0, 1.0, 1000) < 1


def test_unbounded_formulas_refuse_utilisation_of_one_or_more() -> None:
    with pytest.raises(ValueError, match="no steady state"):
        mmc(2.0, 1.0, 2)
    with pytest.raises(ValueError, match="no steady state"):
        md1(1.0, 1.5)


def test_mmck_matches_the_independent_reference_case() -> None:
    # lambda = 3.5, mu = 1, c = 4, K = 14, measured with an independent tool:
    # P(block) = 0.0292, W = 1.7473 s.
    state = mmck(3.5, 1.0, 4, 14)
    assert state.blocking_probability == pytest.approx(0.0292, abs=5e-5)
    assert state.mean_response == pytest.approx(1.7473, abs=5e-5)
    assert state.throughput == pytest.approx(3.5 * (1 - state.blocking_probability), abs=1e-12)
    assert state.mean_in_system == pytest.approx(state.throughput * state.mean_response, abs=1e-12)


def test_mm1k_matches_its_closed_form() -> None:
    # M/M/1/3 at rho = 0.5: p_n proportional to 1, 1/2, 1/4, 1/8, so p = 8/15, 4/15, 2/15, 1/15:
    # P(block) = 1/15, L = (4 + 2*2 + 3*1) / 15 = 11/15, Lq = (2 + 2*1) / 15 = 4/15.
    state = mmck(0.5, 1.0, 1, 3)
    assert state.blocking_probability == pytest.approx(1 / 15, abs=1e-12)
    assert state.mean_in_system == pytest.approx(11 / 15, abs=1e-12)
    assert state.mean_in_queue == pytest.approx(4 / 15, abs=1e-12)
    # At rho = 1 every state is equally likely: P(block) = 1/(K+1), L = K/2.
    at_capacity = mmck(1.0, 1.0, 1, 9)
    assert at_capacity.blocking_probability == pytest.approx(0.1, abs=1e-12)
    assert at_capacity.mean_in_system == pytest.approx(4.5, abs=1e-12)


def test_mmck_tends_to_mmc_as_the_capacity_grows() -> None:
    assert mmck(3.5, 1.0, 4, 2000).mean_response == pytest.approx(mmc(3.5, 1.0, 4).mean_response, abs=1e-9)


def test_mmck_stays_finite_for_large_pools_and_overload() -> None:
    state = mmck(2500.0, 1.0, 2000, 2500)
    assert 0 < state.blocking_probability < 1
    assert state.throughput == pytest.approx(2000, rel=0.01)


def test_md1_waits_half_as_long_as_mm1() -> None:
    # Pollaczek-Khinchine, lambda = 0.5, D = 1: Lq = rho^2 / (2 (1 - rho)) = 0.25, Wq = 0.5,
    # W = 1.5, L = 0.75; M/M/1 at the same load waits Wq = 1.
    state = md1(0.5, 1.0)
    assert (state.mean_in_queue, state.mean_wait) == pytest.approx((0.25, 0.5), abs=1e-12)
    assert (state.mean_response, state.mean_in_system) == pytest.approx((1.5, 0.75), abs=1e-12)
    assert state.mean_wait == pytest.approx(mmc(0.5, 1.0, 1).mean_wait / 2, abs=1e-12)


def test_mg1_with_exponential_variance_is_mm1() -> None:
    # Exponential service of mean 1 has variance 1: Pollaczek-Khinchine gives M/M/1 back.
    assert mg1(0.5, 1.0, 1.0) == mmc(0.5, 1.0, 1)


# -- theory_for --------------------------------------------------------------------------------------


def test_unbounded_queue_is_mmc_whatever_the_policy() -> None:
    for policy in ("block", "drop-newest", "drop-oldest"):
        theory = theory_for(scenario(queue={"policy": policy}))
        assert (theory.model, theory.applies, theory.reason) == ("M/M/4", True, None)
        assert theory.mean_response == pytest.approx(mmc(3.5, 1.0, 4).mean_response)
        assert theory.blocking_probability == 0.0


def test_drop_newest_with_a_bounded_queue_is_mmck_with_k_maxsize_plus_workers() -> None:
    theory = theory_for(scenario(queue={"maxsize": 10, "policy": "drop-newest"}))
    assert theory.model == "M/M/4/14"
    assert theory.blocking_probability == pytest.approx(mmck(3.5, 1.0, 4, 14).blocking_probability)
    assert "finite_run" in theory.note


def test_drop_oldest_loses_as_much_as_drop_newest_but_leaves_waits_out() -> None:
    newest = theory_for(scenario(queue={"maxsize": 10, "policy": "drop-newest"}))
    oldest = theory_for(scenario(queue={"maxsize": 10, "policy": "drop-oldest"}))
    assert oldest.applies and oldest.model == "M/M/4/14"
    assert (oldest.blocking_probability, oldest.throughput) == (newest.blocking_probability, newest.throughput)
    assert (oldest.mean_response, oldest.mean_wait) == (None, None)
    assert "drop_oldest" in oldest.note


def test_a_semaphore_at_least_as_large_as_the_pool_changes_nothing() -> None:
    theory = theory_for(scenario(downstream={"concurrency": 4}))
    assert theory.model == "M/M/4"


def test_single_worker_with_constant_or_uniform_service_is_md1_or_mg1() -> None:
    constant = theory_for(
        scenario(producer={"rate": 0.5}, workers={"count": 1, "service": {"distribution": "constant", "mean": 1.0}})
    )
    assert constant.model == "M/D/1"
    assert constant.mean_response == pytest.approx(1.5)
    uniform = theory_for(
        scenario(
            producer={"rate": 0.5},
            workers={"count": 1, "service": {"distribution": "uniform", "low": 0.0, "high": 2.0}},
        )
    )
    # Uniform(0, 2): mean 1, variance 4/12; Lq = 0.25 * (1/3 + 1) / (2 * 0.5) = 1/3.
    assert uniform.model == "M/G/1"
    assert uniform.mean_in_queue == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("sections", "reason"),
    [
        ({"producer": {"rate": 3.5, "bursts": [{"at": 1.0, "duration": 1.0, "rate": 50.0}]}}, "bursts"),
        ({"producer": {"rate": 3.5, "arrivals": "constant"}}, "constant_arrivals"),
        ({"downstream": {"timeout": 2.0}}, "downstream_timeout"),
        ({"queue": {"max_age": 2.0}}, "max_age"),
        ({"queue": {"maxsize": 10, "policy": "block"}}, "block_bounded"),
        ({"queue": {"maxsize": 10, "policy": "block", "put_timeout": 1.0}}, "block_bounded"),
        ({"shutdown": {"await_producer": False}}, "await_producer"),
        ({"workers": {"count": 2, "service": {"distribution": "constant", "mean": 0.5}}}, "constant_service"),
        (
            {"workers": {"count": 1, "service": {"distribution": "uniform", "low": 0.1, "high": 0.2}},
             "queue": {"maxsize": 5, "policy": "drop-newest"}},
            "uniform_service",
        ),
    ],
)
def test_no_formula_applies_and_the_reason_says_why(sections: dict[str, Any], reason: str) -> None:
    theory = theory_for(scenario(**sections))
    assert (theory.applies, theory.model, theory.reason) == (False, None, reason)
    assert theory.rho is not None
    assert theory.mean_response is None


def test_utilisation_uses_the_base_rate_even_with_bursts() -> None:
    theory = theory_for(scenario(producer={"rate": 3.5, "bursts": [{"at": 1.0, "duration": 1.0, "rate": 50.0}]}))
    assert theory.rho == pytest.approx(0.875)


def test_unlimited_rate_into_a_drop_policy_is_neither_a_rate_nor_a_loop() -> None:
    theory = theory_for(scenario(producer={"rate": "unlimited"}, queue={"maxsize": 10, "policy": "drop-newest"}))
    assert (theory.applies, theory.rho, theory.reason) == (False, None, "unlimited")


def test_overload_is_unstable_with_an_unbounded_queue_and_lossy_with_a_bounded_one() -> None:
    unbounded = theory_for(scenario(producer={"rate": 5.0}))
    assert (unbounded.applies, unbounded.unstable, unbounded.model) == (False, True, "M/M/4")
    assert unbounded.rho == pytest.approx(1.25)
    bounded = theory_for(scenario(producer={"rate": 5.0}, queue={"maxsize": 10, "policy": "drop-newest"}))
    assert (bounded.applies, bounded.unstable) == (True, False)
    assert bounded.throughput is not None and bounded.throughput < 4.0


def test_notes_warn_about_near_saturation_and_a_deadline() -> None:
    theory = theory_for(scenario(producer={"rate": 3.8}, shutdown={"at": 60.0}))
    assert theory.note == ("finite_run", "near_saturation", "deadline")
    assert theory.deadline == 60.0
    assert note_text(theory) == "; ".join(
        [t("theory.note.finite_run"), t("theory.note.near_saturation"), t("theory.note.deadline", at=60.0)]
    )


# -- birth-death chains in constant memory -----------------------------------------------------------


def test_mmck_with_a_billion_places_holds_only_the_states_up_to_c() -> None:
    # The states past c form a geometric series summed in closed form: the chain keeps c + 1
    # numbers whatever K is, and allocates next to nothing (the old code built lists as long as K).
    tracemalloc.start()
    try:
        state = mmck(3.5, 1.0, 4, 10**9)
        chain = birth_death(3.5, [1.0, 2.0, 3.0, 4.0], 10**9)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(chain.head) == 5 and peak < 100_000
    # With K that large nobody is ever lost: M/M/4 exactly (Erlang C, the test above).
    assert state.blocking_probability == 0.0
    assert state.mean_response == pytest.approx(mmc(3.5, 1.0, 4).mean_response, rel=1e-12)


def test_mmck_with_a_billion_places_in_overload_loses_the_excess() -> None:
    # lambda = 5 into 4 servers of mu = 1, K = 10^9: the system sits at the top. Seen from K the
    # states fall off with ratio 4/5, so P(K) = 1 - 4/5 = 0.2 (the excess 1/s of 5/s is lost),
    # throughput 4/s, and K - n has mean (4/5) / (1 - 4/5) = 4: L = 10^9 - 4.
    state = mmck(5.0, 1.0, 4, 10**9)
    assert state.blocking_probability == pytest.approx(0.2, rel=1e-12)
    assert state.throughput == pytest.approx(4.0, rel=1e-12)
    assert state.mean_in_system == pytest.approx(10**9 - 4, rel=1e-12)
    # At rho = 1 the tail is flat: every state past c about equally likely, L about K / 2.
    assert mmck(4.0, 1.0, 4, 10**9).mean_in_system == pytest.approx(5e8, rel=1e-6)


def test_theory_of_textbook_with_a_hundred_million_places_is_m_m_4_at_once() -> None:
    theory = theory_for(load_scenario("textbook", ["queue.maxsize=100000000"]))
    assert theory.model == "M/M/4/100000004"
    assert theory.mean_response == pytest.approx(mmc(3.5, 1.0, 4).mean_response, rel=1e-12)


def test_an_unbounded_chain_that_cannot_keep_up_has_no_steady_state() -> None:
    with pytest.raises(NoSteadyState, match="no steady state"):
        birth_death(2.0, [1.0, 2.0], None)


# -- the service behind the call: USL ------------------------------------------------------------------


def test_usl_matches_its_definition_and_peaks_at_the_knee() -> None:
    # sigma = 0.05, kappa = 0.02: X(n) = n / (1 + 0.05 (n - 1) + 0.02 n (n - 1)).
    # X(1) = 1; X(6) = 6 / 1.85 = 3.2432; X(7) = 7 / 2.14 = 3.2710; X(8) = 8 / 2.47 = 3.2389.
    # n* = sqrt(0.95 / 0.02) = sqrt(47.5) = 6.892: the best whole number of calls is 7.
    assert usl(1, 0.05, 0.02) == 1.0
    assert [round(usl(n, 0.05, 0.02), 4) for n in (6, 7, 8)] == [3.2432, 3.2710, 3.2389]
    assert usl_knee(0.05, 0.02) == pytest.approx(6.892, abs=5e-4)
    assert usl_peak(100, 0.05, 0.02) == 7 and usl_peak(5, 0.05, 0.02) == 5
    assert usl(50, 0.0, 0.0) == 50 and usl_knee(0.3, 0.0) is None


def test_usl_service_with_one_call_at_a_time_is_mm1() -> None:
    # c = 1, sigma = kappa = 0, lambda = 0.5, mu = 1: W = 1 / (mu - lambda) = 2 s.
    state = usl_service(0.5, 1.0, 1)
    assert state.mean_response == pytest.approx(2.0, abs=1e-12)
    assert state.mean_in_service == pytest.approx(0.5, abs=1e-12)


def test_usl_service_without_a_capacity_is_mm_infinity() -> None:
    # No capacity, sigma = kappa = 0: nobody waits, W = 1/mu = 0.5 s, L = lambda / mu = 1.5.
    state = usl_service(3.0, 2.0, None)
    assert (state.mean_response, state.mean_in_system, state.mean_wait) == (0.5, 1.5, 0.0)


def test_usl_service_with_coherency_and_no_capacity_collapses() -> None:
    with pytest.raises(NoSteadyState, match="congestion collapse"):
        usl_service(1.0, 10.0, None, 0.0, 0.01)


def test_usl_chain_matches_the_birth_death_sum_by_hand() -> None:
    # lambda = mu = 1, c = 2, sigma = 0, kappa = 0.25: X(1) = 1, X(2) = 2 / (1 + 0.25*2) = 4/3.
    # p(n)/p(0) = 1, then 3/4 for each further state: 1, 1, 3/4, 9/16, ... Sum = 1 + 1/(1 - 3/4) = 5,
    # p(0) = 1/5; L = (1/5) sum n (3/4)^(n-1) = (1/5) * 16 = 3.2, W = L / lambda = 3.2 s.
    # In service E[min(n, 2)] = p(1) + 2 P(n >= 2) = 1/5 + 2 * 3/5 = 1.4.
    state = usl_service(1.0, 1.0, 2, 0.0, 0.25)
    assert state.mean_in_system == pytest.approx(3.2, abs=1e-12)
    assert state.mean_response == pytest.approx(3.2, abs=1e-12)
    assert state.mean_in_service == pytest.approx(1.4, abs=1e-12)
    # The same service without coherency is M/M/2 at rho = 1/2: L = 2 rho / (1 - rho^2) = 4/3.
    assert usl_service(1.0, 1.0, 2).mean_in_system == pytest.approx(4 / 3, abs=1e-12)
    # Room for 3 calls in all: weights 1, 1, 3/4, 9/16, sum 53/16; P(full) = 9/53,
    # L = (1 + 2*3/4 + 3*9/16) / (53/16) = 67/53.
    small = usl_service(1.0, 1.0, 2, 0.0, 0.25, room=3)
    assert small.blocking_probability == pytest.approx(9 / 53, abs=1e-12)
    assert small.mean_in_system == pytest.approx(67 / 53, abs=1e-12)


def test_usl_chain_without_contention_is_mmck() -> None:
    assert usl_chain(3.5, 1.0, 4, capacity=14) == mmck(3.5, 1.0, 4, 14)


def test_closed_loop_throughput_is_mu_times_usl() -> None:
    # mu = 5/s, 10 calls always in service, sigma = 0.05, kappa = 0.02: X(10) = 10 / (1 + 0.45 + 1.8)
    # = 10 / 3.25 = 3.0769, so 15.385 calls/s; at 7 calls 5 * 3.2710 = 16.355 calls/s.
    assert closed_loop_throughput(5.0, 10, 0.05, 0.02) == pytest.approx(50 / 3.25, abs=1e-12)
    assert closed_loop_throughput(5.0, 7, 0.05, 0.02) == pytest.approx(35 / 2.14, abs=1e-12)


def test_a_semaphore_smaller_than_the_pool_is_a_chain_with_the_queue_past_the_workers() -> None:
    # 4 workers but Semaphore(2): 2 servers; K = 10 queued + 4 in workers' hands = 14, and the
    # asyncio queue holds the items past the 4 workers.
    theory = theory_for(scenario(producer={"rate": 1.5}, queue={"maxsize": 10, "policy": "drop-newest"},
                                 downstream={"concurrency": 2}))
    reference = mmck(1.5, 1.0, 2, 14)
    assert theory.model == "M/M/2/14" and theory.calls == 2
    assert theory.blocking_probability == pytest.approx(reference.blocking_probability, rel=1e-12)
    assert theory.mean_in_system == pytest.approx(reference.mean_in_system, rel=1e-12)
    assert theory.mean_in_queue < reference.mean_in_queue  # 2 of the waiting hold a worker


def test_unlimited_rate_into_block_is_a_closed_loop_at_mu_times_the_calls() -> None:
    batch = scenario(items=2_000, producer={"rate": "unlimited"}, queue={"maxsize": 20})
    theory = theory_for(batch)
    assert (theory.applies, theory.model, theory.throughput) == (True, "closed/4", 4.0)
    assert theory.note == ("closed_loop",)
    # 2,000 exponential calls of mean 1 s, 4 at a time: 500 s give or take sqrt(2000)/4 = 11 s.
    assert run(batch).throughput == pytest.approx(4.0, rel=0.05)


# -- results hold no translated text ----------------------------------------------------------------


@pytest.mark.parametrize("args", [["textbook", "--set", "duration=100"], ["burst"], ["api-fanout"]], ids=str)
def test_theory_json_is_the_same_in_every_language(args: list[str]) -> None:
    # textbook: a formula with its notes; burst: no formula and why; api-fanout: a closed loop.
    outputs = [CliRunner().invoke(app, ["--lang", lang, "run", *args, "--json", "-"]) for lang in ("en", "ko")]
    assert all(output.exit_code == 0 for output in outputs), outputs[1].output
    english, korean = (json.loads(output.stdout) for output in outputs)
    assert english == korean
    assert set(english["theory"]) >= {"model", "applies", "reason", "note", "rho"}


# -- the simulation agrees ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mm4_14_run() -> RunResult:
    return run(scenario(items=20_000, queue={"maxsize": 10, "policy": "drop-newest"}))


def test_simulated_mm4_14_drops_and_responds_as_the_formula_says(mm4_14_run: RunResult) -> None:
    # Tolerance: 3 standard deviations of the estimate at this run length. The standard deviation
    # was measured across seeds 0-39 of this exact scenario (20,000 items each): 0.0032 for the
    # share dropped, 0.036 s for the mean response. It shrinks as 1/sqrt(items): 4x the items for
    # half the tolerance. Seed 0 lands 1.5 sd and 0.4 sd from the formula.
    theory = theory_for(mm4_14_run.scenario)
    measured = simulated(mm4_14_run)
    assert measured.blocking_probability == pytest.approx(theory.blocking_probability, abs=3 * 0.0032)
    assert measured.mean_response == pytest.approx(theory.mean_response, abs=3 * 0.036)


def test_simulated_mm1_responds_in_two_seconds_at_half_load() -> None:
    # M/M/1, lambda = 0.5, mu = 1: W = 2 s. Across seeds 0-39 at 20,000 items the mean response
    # had a standard deviation of 0.039 s; 3 of them is the tolerance. Seed 0 gives 2.013 s.
    result = run(scenario(items=20_000, producer={"rate": 0.5}, workers={"count": 1, "service": EXPONENTIAL_1S}))
    assert theory_for(result.scenario).mean_response == pytest.approx(2.0)
    assert result.latency.mean == pytest.approx(2.0, abs=3 * 0.039)


def test_littles_law_on_the_queue_is_an_identity_over_a_drained_run(mm4_14_run: RunResult) -> None:
    # The run starts and ends with an empty queue, so the area under qsize is the sum of the
    # times in the queue: lambda * Wq equals the mean qsize up to rounding, not just statistically.
    check = littles_law(mm4_14_run)
    assert check.holds
    assert check.relative_error < 1e-9
    assert check.arrival_rate == pytest.approx(mm4_14_run.entered_queue / mm4_14_run.duration)
    # No item was blocked or evicted here, so time in the queue is the summary's queue wait.
    assert check.mean_wait == pytest.approx(mm4_14_run.queue_wait.mean)


@pytest.mark.parametrize(
    "case",
    [
        {"queue": {"maxsize": 2, "policy": "drop-oldest"}},  # evicted items leave without a worker
        {"queue": {"maxsize": 2, "policy": "block"}},  # blocked time is not time in the queue
        {"queue": {"maxsize": 50}, "shutdown": {"mode": "immediate", "at": 300.0}},  # abandoned
    ],
    ids=["evictions", "blocking", "immediate-shutdown"],
)
def test_littles_law_on_the_queue_holds_whatever_the_policy(case: dict[str, Any]) -> None:
    result = run(scenario(items=2_000, producer={"rate": 4.5}, **case))
    assert result.counts.dropped_evicted + result.blocked_seconds + result.counts.abandoned_queued > 0
    check = littles_law(result)
    assert check.holds and check.relative_error < 1e-9


def test_littles_law_holds_on_a_run_stopped_with_items_still_queued() -> None:
    # Over [0, T] the items still queued at T count their time in the queue up to T.
    with pytest.raises(LimitReached) as stopped:
        run(scenario(items=2_000, producer={"rate": 8.0}, queue={"maxsize": 0}), limits=Limits(max_duration=100.0))
    result = stopped.value.results[0]
    assert result.max_qsize > 0 and not result.completed
    assert littles_law(result).relative_error < 1e-9


# -- rendering ------------------------------------------------------------------------------------------


def render(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=80, color_system=None, force_terminal=False, theme=theme())
    console.print(renderable)
    # Rich pads lines to the table's width; golden text without trailing spaces survives editors.
    text: str = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def test_theory_table_puts_formula_and_simulation_side_by_side(mm4_14_run: RunResult) -> None:
    expected = """\
Theory vs simulation: M/M/4/14

                            formula   simulated
 ───────────────────────────────────────────────
  utilisation ρ               0.875           —
  P(block): share dropped     2.92%       3.40%
  throughput                3.398/s     3.422/s
  L: items in system          5.937           —
  Lq: items in queue          2.539       2.633
  W: response time          1.747 s     1.763 s
  Wq: queue wait            0.747 s     0.769 s

a finite run lands near the formula, not on it; the share dropped, a rare event,
needs the most items to settle
Little's law, Lq = λ·Wq: 3.422/s × 0.769 s = 2.633; measured Lq 2.633: holds
"""
    assert render(theory_table(theory_for(mm4_14_run.scenario), mm4_14_run)) == expected


def test_theory_table_without_a_run_shows_the_formula_column_only() -> None:
    theory = theory_for(scenario(producer={"rate": 0.5}, workers={"count": 1, "service": EXPONENTIAL_1S}))
    expected = """\
Theory vs simulation: M/M/1

                            formula
 ───────────────────────────────────
  utilisation ρ               0.500
  P(block): share dropped     0.00%
  throughput                0.500/s
  L: items in system          1.000
  Lq: items in queue          0.500
  W: response time          2.000 s
  Wq: queue wait            1.000 s

a finite run lands near the formula, not on it; the share dropped, a rare event,
needs the most items to settle
"""
    assert render(theory_table(theory)) == expected


def test_theory_table_says_why_no_formula_applies() -> None:
    theory = theory_for(scenario(queue={"maxsize": 10, "policy": "block"}))
    expected = """\
No formula (ρ = 0.88): block policy with a bounded queue: the producer waits,
arrivals are no longer Poisson
"""
    assert render(theory_table(theory)) == expected


def test_theory_table_of_a_contended_service_shows_calls_in_service_and_the_knee() -> None:
    theory = theory_for(load_scenario("congestion-collapse", ["producer.bursts=[]", "downstream.concurrency=14"]))
    expected = """\
Theory vs simulation: M/M/14/340 + USL

                             formula
 ────────────────────────────────────
  utilisation ρ                0.775
  P(block): share dropped      0.00%
  throughput                50.000/s
  L: items in system           8.024
  Lq: items in queue           0.000
  calls in service             7.653
  W: response time           0.160 s
  Wq: queue wait             0.000 s

a finite run lands near the formula, not on it; the share dropped, a rare event,
needs the most items to settle
USL: past n* = 14.0 calls in service the service slows down; at best it
completes 64.52 calls/s (this scenario allows 14 at once)
"""
    assert render(theory_table(theory)) == expected


def test_theory_says_congestion_collapse_when_fewer_calls_would_keep_up() -> None:
    # 40 calls in service complete 10 X(40) = 41.8/s < 50/s; 14 would complete 64.5/s.
    theory = theory_for(load_scenario("congestion-collapse", ["producer.bursts=[]", "queue.maxsize=0"]))
    assert (theory.applies, theory.reason, theory.unstable) == (False, "collapse", True)
    assert theory.rho == pytest.approx(50 / (10 * 40 / 9.58))
    text = render(theory_table(theory))
    assert text.startswith("No formula (ρ = 1.20): congestion collapse:")
    assert "this scenario allows 40 at once" in text
    # Past what even the knee could do, it is plain instability.
    hopeless = theory_for(load_scenario("congestion-collapse", ["producer.bursts=[]", "queue.maxsize=0", "producer.rate=70"]))
    assert hopeless.reason == "unstable"
