"""The worker's retry loop, breaker and throttle in the pipeline, on tiny scenarios computed by hand."""

from __future__ import annotations

import re

import pytest

from bpsim.engine import Simulation
from bpsim.events import (
    BreakerChanged,
    CallStarted,
    ItemAbandoned,
    ItemFailed,
    ItemHandled,
    ItemTimedOut,
    RetryRefused,
    RetryScheduled,
)
from bpsim.loader import load_scenario
from bpsim.metrics import METRICS
from bpsim.render.summary import summary
from bpsim.render.trace import describe
from bpsim.resilience import BreakerState, CircuitBreaker
from tests.helpers import of_type, problems_in, run_recording, scenario
from tests.render import render
from tests.test_compare_live import frame_of
from tests.test_dashboard import assert_fits, frame_at

BACK_TO_BACK = {"rate": "unlimited"}


def slow_calls(items: int = 1, workers: int = 1, **tables: object):
    """`items` put at t=0; every call takes 1 s and times out at 0.5 s."""
    return scenario(
        items=items,
        producer=BACK_TO_BACK,
        workers={"count": workers, "service": {"distribution": "constant", "mean": 1.0}},
        downstream={"timeout": 0.5, **tables.pop("downstream", {})},  # type: ignore[dict-item]
        **tables,
    )


NO_JITTER = {"initial": 0.1, "multiplier": 2.0, "max": 10.0, "jitter": "none"}


def test_a_timeout_that_exhausts_its_attempts_stays_timed_out():
    result, events = run_recording(slow_calls(retry={"attempts": 3, "backoff": NO_JITTER}))
    # Calls [0, 0.5], sleep 0.1, [0.6, 1.1], sleep 0.2, [1.3, 1.8]: then it gives up, timed out.
    assert [e.at for e in of_type(events, CallStarted)] == pytest.approx([0.0, 0.6, 1.3])
    retries = of_type(events, RetryScheduled)
    assert [(e.attempt, e.reason) for e in retries] == [(1, "timeout"), (2, "timeout")]
    assert [e.at for e in retries] == pytest.approx([0.5, 1.1])
    assert [e.sleep for e in retries] == pytest.approx([0.1, 0.2])
    assert [e.at for e in of_type(events, ItemTimedOut)] == pytest.approx([1.8])
    assert result.counts.timed_out_downstream == 1 and result.counts.finished == 1
    assert result.retry is not None
    assert (result.retry.attempts, result.retry.retries, result.retry.refused_by_budget) == (3, 2, 0)


def test_the_backoff_sleep_holds_no_semaphore_slot():
    # Semaphore(1), two workers, two attempts, backoff 1 s. Item 0 calls [0, 0.5] and sleeps to
    # 1.5; item 1 takes the slot at 0.5 ([0.5, 1.0]) and sleeps to 2.0; item 0's retry [1.5, 2.0];
    # item 1's retry [2.0, 2.5]. Had the sleep held the slot, item 1 would wait until 1.5.
    s = slow_calls(2, 2, downstream={"concurrency": 1}, retry={"attempts": 2, "backoff": {**NO_JITTER, "initial": 1.0}})
    result, events = run_recording(s)
    calls = of_type(events, CallStarted)
    assert [e.item for e in calls] == [0, 1, 0, 1]
    assert [e.at for e in calls] == pytest.approx([0.0, 0.5, 1.5, 2.0])
    assert result.max_in_flight == 1
    assert result.counts.timed_out_downstream == 2


def test_only_the_failures_listed_in_on_are_retried():
    result, events = run_recording(slow_calls(retry={"attempts": 3, "on": ["error"]}))
    assert of_type(events, RetryScheduled) == []
    assert result.retry is not None and result.retry.attempts == 1


def test_a_retry_draws_its_own_service_time():
    # Exponential work of mean 1 s against a 1 s timeout: e^-1 = 37% of calls time out. With
    # 3 attempts and independent draws, 0.37^3 = 5% give up; had a retry repeated the first
    # attempt's work, every item that timed out once would time out three times (37%).
    s = scenario(
        items=2000,
        producer={"rate": 0.5},
        workers={"count": 1, "service": {"distribution": "exponential", "mean": 1.0}},
        downstream={"timeout": 1.0},
        retry={"attempts": 3, "backoff": NO_JITTER},
    )
    result, _ = run_recording(s)
    # Binomial(2000, 0.0498): standard deviation 9.7 items; 4 of them is 39.
    assert result.counts.timed_out_downstream == pytest.approx(2000 * 0.3679**3, abs=39)


def test_a_spent_budget_refuses_the_retry_and_the_item_keeps_its_failure():
    # ratio 0 and 0.1 retries per second over 10 s: one retry in the whole run. Five items at
    # t=0, one worker: item 0's first retry is allowed, every other retry refused.
    budget = {"ratio": 0.0, "min_per_second": 0.1, "window": 10.0}
    result, events = run_recording(slow_calls(5, retry={"attempts": 3, "backoff": NO_JITTER, "budget": budget}))
    assert result.retry is not None
    assert (result.retry.attempts, result.retry.retries, result.retry.refused_by_budget) == (6, 1, 5)
    assert [(e.item, e.attempt) for e in of_type(events, RetryRefused)] == [(0, 2), (1, 1), (2, 1), (3, 1), (4, 1)]
    assert result.counts.timed_out_downstream == 5


def test_a_throttle_spaces_the_calls_and_its_wait_is_counted():
    # Five items at t=0, five workers, 2 calls per second with a burst of 1: calls at 0, 0.5,
    # 1.0, 1.5 and 2.0; the waits add up to 0.5 + 1 + 1.5 + 2 = 5 s.
    s = scenario(
        items=5,
        producer=BACK_TO_BACK,
        workers={"count": 5, "service": {"distribution": "constant", "mean": 0.01}},
        throttle={"rate": 2.0, "burst": 1},
    )
    result, events = run_recording(s)
    assert [e.at for e in of_type(events, CallStarted)] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0])
    assert result.throttle_waited == pytest.approx(5.0)
    assert result.counts.handled == 5


def test_an_open_breaker_fails_calls_at_once_and_a_failed_probe_opens_it_again():
    # One worker, an item every 0.5 s, every call times out at 0.5 s. Items 0 and 1 time out
    # (at 0.5 and 1.0): two failures, the breaker opens at 1.0. Items 2..7 (1.0..3.5) fail at once.
    # At 4.0 (cool-down 3 s) it is half-open: item 8 is the probe, times out at 4.5, and it
    # opens again; item 9 (4.5) fails at once.
    s = scenario(
        items=10,
        producer={"rate": 2.0, "arrivals": "constant"},
        workers={"count": 1, "service": {"distribution": "constant", "mean": 1.0}},
        downstream={"timeout": 0.5},
        breaker={"failures": 2, "window": 10.0, "cooldown": 3.0, "probes": 1},
    )
    result, events = run_recording(s)
    assert [(e.at, e.state) for e in of_type(events, BreakerChanged)] == [(1.0, "open"), (4.0, "half-open"), (4.5, "open")]
    assert [e.item for e in of_type(events, ItemTimedOut)] == [0, 1, 8]
    refused = of_type(events, ItemFailed)
    assert [e.item for e in refused] == [2, 3, 4, 5, 6, 7, 9]
    assert {e.reason for e in refused} == {"circuit-open"}
    assert result.breaker is not None and (result.breaker.opened, result.breaker.refused) == (2, 7)
    json = result.to_json()
    assert json["breaker"] == {"opened": 2, "refused": 7}
    assert json["items"]["failed"] == 7 and json["items"]["failed_by_reason"]["circuit-open"] == 7
    assert [e.at for e in of_type(events, CallStarted)] == [0.0, 0.5, 4.0]  # refused calls never start


def test_an_immediate_shutdown_abandons_an_item_sleeping_before_its_retry():
    s = slow_calls(
        retry={"attempts": 2, "backoff": {**NO_JITTER, "initial": 5.0}}, shutdown={"mode": "immediate", "at": 2.0}
    )
    result, events = run_recording(s)
    assert [(e.at, e.place) for e in of_type(events, ItemAbandoned)] == [(2.0, "in-worker")]
    assert result.counts.abandoned_in_worker == 1 and result.counts.in_progress == 0
    assert result.retry is not None and result.retry.retries == 0


def test_retries_meet_the_same_luck_under_every_variant():
    # Item k's retries draw the same jitter and work whatever else differs (here the workers).
    def variant(workers: int) -> Simulation:
        return Simulation([
            scenario(
                items=300,
                producer={"rate": 4.0},
                workers={"count": workers, "service": {"distribution": "exponential", "mean": 0.5}},
                downstream={"timeout": 0.6},
                retry={"attempts": 4, "backoff": {"jitter": "full"}},
            )
        ])

    first, second = variant(2), variant(8)
    seen: list[dict[tuple[int, int], float]] = []
    for simulation in (first, second):
        events: list[object] = []
        simulation.subscribe(events.append)
        simulation.run()
        seen.append({(e.item, e.attempt): e.sleep for e in of_type(events, RetryScheduled)})  # type: ignore[arg-type]
    common = seen[0].keys() & seen[1].keys()
    assert len(common) > 50
    assert all(seen[0][key] == seen[1][key] for key in common)


def test_without_the_new_tables_the_json_has_no_new_keys():
    result, events = run_recording(slow_calls())
    assert {"retry", "breaker", "throttle"}.isdisjoint(result.to_json())
    assert of_type(events, ItemHandled) == []


def test_the_trace_says_each_retry_and_refusal_in_words():
    budget = {"ratio": 0.0, "min_per_second": 0.1, "window": 10.0}
    _, events = run_recording(slow_calls(2, retry={"attempts": 2, "backoff": NO_JITTER, "budget": budget}))
    lines = [describe(e) for e in events]
    assert "item 0: attempt 1 failed (timeout); worker-0 retries in 0.100 s" in lines
    assert "item 1: retry budget spent, worker-0 gives up after 1 attempt(s) (timeout)" in lines


# -- the scenario keys ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "line", "says"),
    [
        ("[retry]\nattempts = 0", "bad.toml:3: retry.attempts: must be 1 or more, not 0", None),
        (
            "[retry]\nbackoff = { initial = 1.0, max = 0.5 }",
            "bad.toml:3: retry.backoff: max (0.5 s) is below initial (1.0 s); max caps every sleep, so make it at least initial",
            "max (0.5초)가 initial (1.0초)보다 작습니다",
        ),
        ("[retry]\non = [\"timeout\", \"eror\"]", "bad.toml:3: retry.on[1]: must be 'timeout', 'error', 'rate-limited' or 'outage', not 'eror'", None),
        ("[retry]\non = []", "bad.toml:3: retry.on: lists no failure to retry; name some of timeout, error, rate-limited, outage, or remove [retry]", "재시도할 실패가 없습니다"),
        ("[retry]\nbudget = { ratio = -0.1 }", "bad.toml:3: retry.budget.ratio: must be 0 or more, not -0.1", None),
        ("[retry]\nbackoff = { jitter = \"ful\" }", "bad.toml:3: retry.backoff.jitter: must be 'none', 'full', 'equal' or 'decorrelated', not 'ful'", None),
        ("[breaker]\nprobes = 0", "bad.toml:3: breaker.probes: must be 1 or more, not 0", None),
        ("[breaker]\ncooldown = -1", "bad.toml:3: breaker.cooldown: must be greater than 0, not -1", None),
        ("[throttle]\nburst = 2", "bad.toml:2: throttle.rate: is missing; this table needs it", None),
        ("[throttle]\nrate = 10\nbrust = 2", "bad.toml:4: throttle.brust: unknown key; did you mean 'burst'?", None),
    ],
)
def test_a_bad_resilience_key_is_one_line_naming_file_line_and_key(table: str, line: str, says: str | None):
    text = "duration = 10.0\n" + table + "\n"
    assert problems_in(text) == [line]
    if says is not None:
        assert says in problems_in(text, "ko")[0]


def test_the_defaults_are_documented_ones():
    s = scenario(duration=1.0, retry={}, breaker={}, throttle={"rate": 5.0})
    assert s.retry is not None and s.breaker is not None and s.throttle is not None
    assert (s.retry.attempts, s.retry.backoff.initial, s.retry.backoff.multiplier, s.retry.backoff.max) == (3, 0.1, 2.0, 10.0)
    assert s.retry.backoff.jitter == "full" and s.retry.budget is None
    assert s.retry.on == ["timeout", "error", "rate-limited", "outage"]
    assert (s.breaker.failures, s.breaker.window, s.breaker.cooldown, s.breaker.probes) == (5, 10.0, 5.0, 1)
    assert s.throttle.burst == 1


def test_the_trace_says_when_the_breaker_changes():
    s = scenario(
        items=3,
        producer={"rate": 2.0, "arrivals": "constant"},
        workers={"count": 1, "service": {"distribution": "constant", "mean": 1.0}},
        downstream={"timeout": 0.5},
        breaker={"failures": 1, "window": 10.0, "cooldown": 3.0},
    )
    _, events = run_recording(s)
    lines = [describe(e) for e in events]
    assert "circuit breaker open: calls fail at once (circuit-open) without reaching the service" in lines


# -- summary and compare -------------------------------------------------------------------------


def test_the_summary_counts_retries_refusals_breaker_and_throttle():
    budget = {"ratio": 0.0, "min_per_second": 0.1, "window": 10.0}
    s = slow_calls(
        5,
        retry={"attempts": 3, "backoff": NO_JITTER, "budget": budget},
        breaker={"failures": 100},
        throttle={"rate": 100.0, "burst": 10},
    )
    text = render(summary(run_recording(s)[0]))
    assert "retries                 1 of 6 calls, 5 refused by the budget" in text
    assert "circuit breaker         opened 0×, 0 calls refused" in text
    assert "throttle                0 ms waited for tokens, summed over workers" in text
    assert "The retry budget refused 5 retries" in text


def test_compare_shows_the_retry_metrics_only_where_a_variant_has_them():
    names = [metric.name for metric in METRICS]
    assert {"retries", "refused-by-budget", "breaker-opened", "throttle-wait"} <= set(names)
    retried = run_recording(slow_calls(retry={"attempts": 3, "backoff": NO_JITTER}))[0]
    once = run_recording(slow_calls())[0]
    metric = next(m for m in METRICS if m.name == "retries")
    assert metric.optional and [metric.value(retried), metric.value(once)] == [2, None]


# -- the arithmetic of retries -------------------------------------------------------------------


def test_with_errors_p_and_n_attempts_p_to_the_n_give_up_and_calls_per_item_follow_the_formula():
    # Every call fails with p = 0.3, independently (each attempt draws its own luck); 3 attempts,
    # no timeouts. By hand: p^N = 0.3^3 = 0.027 of the items fail every attempt, and an item makes
    # 1 call with probability 0.7, 2 with 0.21, 3 with 0.09: (1 − p^N)/(1 − p) = 0.973/0.7 = 1.39
    # calls on average.
    # Tolerances, 4 standard deviations of 10,000 items: the failures are Binomial(10000, 0.027),
    # sd = sqrt(10000 · 0.027 · 0.973) = 16.2, so ± 65; calls per item have variance
    # 0.7 + 4·0.21 + 9·0.09 − 1.39² = 0.418, so the mean's sd is sqrt(0.418 / 10000) = 0.0065, ± 0.026.
    s = scenario(
        items=10_000,
        producer={"rate": 100.0, "arrivals": "constant"},
        workers={"count": 20, "service": {"distribution": "constant", "mean": 0.01}},
        downstream={"errors": 0.3},
        retry={"attempts": 3, "backoff": {"initial": 0.001, "jitter": "none"}},
    )
    result, _ = run_recording(s)
    assert result.counts.failed_error == pytest.approx(10_000 * 0.3**3, abs=65)
    assert result.counts.handled + result.counts.failed_error == 10_000
    assert result.retry is not None
    assert result.retry.attempts / 10_000 == pytest.approx((1 - 0.3**3) / (1 - 0.3), abs=0.026)
    assert result.retry.attempts - result.retry.retries == 10_000  # one first attempt per item


# -- the dashboard -------------------------------------------------------------------------------


def test_the_dashboard_charts_retries_against_first_attempts_and_the_breaker_over_time():
    storm = frame_at(load_scenario("retry-storm"), 30.0)
    assert "first/s" in storm and "retries/s" in storm and "backing off" in storm
    assert_fits(storm, 80, 23)
    breaker = frame_at(load_scenario("retry-storm-breaker"), 12.5)
    assert "breaker" in breaker and "█ OPEN" in breaker
    assert_fits(breaker, 80, 23)
    # Without the tables, none of these rows.
    plain = frame_at(slow_calls(3), 0.6)
    assert "retries/s" not in plain and "breaker" not in plain


def row(frame: str, label: str) -> list[str]:
    """The value each column of a compare frame shows after `label` ("retries" -> ["914", ...])."""
    line = next(line for line in frame.splitlines() if line.startswith(f"│ {label} "))
    return [cell.strip().removeprefix(label).strip() for cell in line.strip("│").split("││")]


@pytest.mark.parametrize("width", [80, 120])
def test_live_compare_shows_each_variants_retries_failures_and_breaker(width: int):
    names = ["retry-storm", "retry-storm-budget", "retry-storm-breaker"]
    frame = frame_of([load_scenario(name) for name in names], names, 25.0, width, 24, [], "Comparing")
    assert_fits(frame, width, 24)
    # 5 s after the burst: the storm goes on without a cure; the budget and the breaker cut it.
    storm, budget, breaker = (int(value.replace(",", "")) for value in row(frame, "retries"))
    assert storm > 5 * budget > 0 and storm > 5 * breaker > 0
    assert row(frame, "failed")[2] != "0" and row(frame, "failed")[:2] == ["0", "0"]  # circuit-open
    assert "retry trend" in frame
    assert len(re.findall(r"│ breaker +(closed|OPEN|half-open) │", frame)) == 1  # only the breaker's column
    # Without the tables (the burst policies), none of these rows.
    plain = frame_of([load_scenario("burst")] * 2, ["a", "b"], 5.0, width, 24, [], "Comparing")
    assert "retries" not in plain and "retry trend" not in plain and "failed" not in plain


def test_a_snapshot_does_not_move_the_breaker_on_its_own():
    # The display asks for the state at every frame; only calls may turn open into half-open (and
    # say so in an event), or a live run would not be the run a headless one is.
    breaker = CircuitBreaker(failures=1, window=1.0, cooldown=1.0, probes=1)
    breaker.failed(breaker.admit(0.0), 0.0)  # type: ignore[arg-type]
    changes: list[str] = []
    breaker.on_change = lambda state, now: changes.append(state.value)
    assert breaker.looks(5.0) is BreakerState.HALF_OPEN and changes == []
    assert breaker.state(5.0) is BreakerState.HALF_OPEN and changes == ["half-open"]
