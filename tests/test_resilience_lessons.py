"""The retry-storm lessons tell the truth: every claim their text makes is checked on the run.

retry-storm: a service of 100 calls/s (capacity 10, 0.1 s each) at 90 calls/s, a 10 s burst to
2x, 1 s timeouts, 3 attempts and no budget; retry-storm-budget and retry-storm-breaker are the
same traffic with one cure each. "Recovered" below means: from that second on, every one of the
next five seconds has at least 70% of the 90 items/s handled within the slo.
"""

from __future__ import annotations

import bisect
from functools import cache

import pytest

from bpsim.engine import RunResult
from bpsim.events import CallStarted, ItemHandled, RetryScheduled
from bpsim.loader import load_scenario
from bpsim.outcomes import FailReason
from bpsim.resilience import Backoff, Jitter
from bpsim.variants import compare_variants, shares_traffic
from tests.helpers import of_type, run_recording

BURST_ENDS = 20


@cache
def storm(name: str, *overrides: str) -> tuple[RunResult, tuple[int, ...]]:
    """The run, and the items handled within the slo in each second from 0 to 60."""
    result, events = run_recording(load_scenario(name, overrides))
    slo = result.scenario.slo
    assert slo is not None
    good = [0] * 60
    for event in of_type(events, ItemHandled):
        if event.latency <= slo and event.at < 60:
            good[int(event.at)] += 1
    return result, tuple(good)


def recovered_at(good: tuple[int, ...]) -> int | None:
    """The first second after the burst from which five seconds in a row have good throughput."""
    return next((s for s in range(BURST_ENDS, 56) if all(n >= 0.7 * 90 for n in good[s : s + 5])), None)


def test_the_service_runs_at_90_percent_of_its_capacity_with_a_burst_to_twice_that():
    scenario = load_scenario("retry-storm")
    capacity = scenario.downstream.capacity / scenario.workers.service.mean  # type: ignore[operator]
    assert capacity == pytest.approx(100.0)
    assert scenario.producer.rate == 90.0
    assert [(b.at, b.duration, b.rate) for b in scenario.producer.bursts] == [(10.0, 10.0, 180.0)]
    assert scenario.downstream.timeout == 1.0 and scenario.retry is not None and scenario.retry.attempts == 3
    assert scenario.retry.budget is None


def test_without_a_budget_the_service_stays_saturated_and_goodput_near_zero_after_the_burst():
    result, good = storm("retry-storm")
    assert recovered_at(good) is None
    assert sum(good[25:60]) < 0.01 * 90 * 35  # under 1% of what arrives
    # Saturated with wasted work: from 20 s to 60 s the service has 10 × 40 = 400 s of capacity;
    # over 400 s of work went to calls whose client had already left.
    assert result.service is not None and result.service.wasted_seconds > 400
    assert result.retry is not None and result.retry.retries > 3000


def test_without_retries_the_same_traffic_recovers_on_its_own():
    _, good = storm("retry-storm", "retry.attempts=1")
    at = recovered_at(good)
    assert at is not None and at <= BURST_ENDS + 10


def test_a_budget_under_the_headroom_ends_the_storm_about_10_s_after_the_burst():
    result, good = storm("retry-storm-budget")
    at = recovered_at(good)
    assert at is not None and BURST_ENDS + 5 <= at <= BURST_ENDS + 12
    assert result.scenario.retry is not None and result.scenario.retry.budget is not None
    assert result.scenario.retry.budget.ratio == 0.05  # under the 10% of headroom
    _, without_retries = storm("retry-storm", "retry.attempts=1")
    assert at - recovered_at(without_retries) <= 4  # type: ignore[operator]  # "nearly as soon"
    assert result.retry is not None and result.retry.refused_by_budget > 1000


def test_a_budget_over_the_headroom_takes_about_twice_as_long():
    _, good = storm("retry-storm-budget", "retry.budget.ratio=0.2")
    _, under = storm("retry-storm-budget")
    at, at_under = recovered_at(good), recovered_at(under)
    assert at is not None and at_under is not None
    assert 1.5 <= (at - BURST_ENDS) / (at_under - BURST_ENDS) <= 2.5


def test_a_breaker_keeps_some_goodput_in_the_burst_and_recovers_within_2_s_of_its_end():
    result, good = storm("retry-storm-breaker")
    at = recovered_at(good)
    assert at is not None and at <= BURST_ENDS + 2
    # From 13 s to the end of the burst: useful work between the openings, none without a cure.
    assert sum(good[13:20]) > 300 and sum(storm("retry-storm")[1][13:20]) == 0
    assert result.breaker is not None and result.breaker.opened >= 2
    assert result.counts.failed_circuit_open == result.breaker.refused > 0


def test_a_breaker_open_longer_than_the_service_needs_makes_goodput_wait():
    _, good = storm("retry-storm-breaker", "breaker.cooldown=5")
    _, quick = storm("retry-storm-breaker")
    assert recovered_at(good) > recovered_at(quick)  # type: ignore[operator]


def test_compare_puts_the_storm_and_its_cures_side_by_side_on_the_same_traffic():
    names = ("retry-storm", "retry-storm-budget", "retry-storm-breaker")
    for name in names:
        assert "bpsim compare retry-storm retry-storm-budget retry-storm-breaker" in load_scenario(name).lesson
    assert shares_traffic([load_scenario(name) for name in names])
    goodput = [storm(name)[0].goodput for name in names]
    assert goodput[0] < 20 < 60 < goodput[1] < goodput[2]  # items/s within the slo over the run


# -- retry-jitter: 200 calls fail in the same instant; retried without jitter they come in waves --

WAVES_AT = (10.0, 14.0, 22.0, 30.0)  # 8 s (the service is back) + 2, 6, 14 and 22 s of backoff


@cache
def jitter(kind: str) -> tuple[RunResult, tuple[float, ...], list[RetryScheduled]]:
    """The run with `retry.backoff.jitter=kind`, the times its retries were sent, and its trace's retries."""
    result, events = run_recording(load_scenario("retry-jitter", [f"retry.backoff.jitter={kind}"]))
    scheduled = of_type(events, RetryScheduled)
    return result, tuple(sorted(e.at + e.sleep for e in scheduled)), scheduled


def busiest(times: tuple[float, ...], width: float) -> int:
    """The most retries sent within any `width` seconds (a sliding window)."""
    return max(bisect.bisect_left(times, at + width) - i for i, at in enumerate(times))


def test_the_jitter_lesson_is_the_one_it_describes():
    scenario = load_scenario("retry-jitter")
    assert scenario.workers.count == 200 and scenario.producer.rate == 100.0
    limit = scenario.downstream.rate_limit
    assert limit is not None and (limit.rate, limit.depth) == (150.0, 30)
    assert [(o.at, o.duration, o.mode) for o in scenario.downstream.outages] == [(5.0, 3.0, "hang")]
    retry = scenario.retry
    assert retry is not None and retry.attempts == 5 and retry.backoff.jitter == "none"
    backoff = Backoff(retry.backoff.initial, retry.backoff.multiplier, retry.backoff.max, Jitter.NONE)
    assert [backoff.sleep(n, 0.0, 0.5) for n in range(4)] == [2.0, 4.0, 8.0, 8.0]  # "backoff 2, 4, 8, 8 s"
    # The waves: 8 + 2 = 10, 10 + 4 = 14, 14 + 8 = 22, 22 + 8 = 30.
    assert WAVES_AT == tuple(8.0 + sum([2.0, 4.0, 8.0, 8.0][:n]) for n in range(1, 5))


def test_the_hang_ends_with_200_calls_failing_in_the_same_instant():
    _, events = run_recording(load_scenario("retry-jitter"))
    # "within 2 s all 200 workers are stuck in one": 100 calls/s arrive, none is answered.
    assert max(e.in_flight for e in of_type(events, CallStarted) if e.at <= 7.0) == 200
    for kind in ("none", "full"):
        _, _, scheduled = jitter(kind)
        outage = [e for e in scheduled if e.reason == "outage"]
        assert len(outage) == 200 and {e.at for e in outage} == {8.0}


def test_without_jitter_the_retries_come_in_waves_of_429s():
    result, sent, scheduled = jitter("none")
    # 200 retries at the same instant at 10 s; the bucket's 30 get through, 170 get a 429 there and then.
    assert sent.count(10.0) == 200
    assert sum(1 for e in scheduled if e.at == 10.0 and e.reason == "rate-limited") == 170
    # A wave at each multiple of the backoff, each the last one less the bucket's 30, and most
    # of the retries in them (the rest: first attempts of queued items that met a 429 too).
    waves = [sent.count(at) for at in WAVES_AT]
    assert waves == [200, 170, 140, 110]
    assert sum(waves) > 0.75 * len(sent)
    assert result.counts.of(FailReason.RATE_LIMITED) == result.counts.failed == 110 - 30  # "the 80 left after the last give up on a 429"
    assert result.latency.p99 > 20  # "p99 latency passes 20 s"
    assert result.retry is not None and result.retry.retries == 781


def test_full_jitter_spreads_the_same_retries_and_nobody_gives_up():
    none, sent_none, _ = jitter("none")
    full, sent_full, _ = jitter("full")
    assert busiest(sent_none, 0.5) == 200 and busiest(sent_full, 0.5) < 100  # "under 100 in any half second"
    assert max(sent_full.count(at) for at in WAVES_AT) <= 1  # no wave: no two retries share an instant there
    assert bisect.bisect_left(sent_full, 14.0) > 0.95 * len(sent_full)  # docs: "95% ... by 14 s"
    assert full.retry is not None and full.retry.retries == 545 < 781  # "fewer retries (545 instead of 781)"
    assert full.counts.failed == 0 and full.counts.handled == none.counts.handled + 80  # "no item gives up"
    assert full.latency.p99 < 7  # "p99 stays under 7 s"


def test_compare_shows_none_and_full_jitter_on_the_same_traffic():
    command = "bpsim compare retry-jitter --vary retry.backoff.jitter=none,full"
    scenario = load_scenario("retry-jitter")
    assert command in scenario.lesson and command in (scenario.ko.lesson or "")
    variants = compare_variants(["retry-jitter"], vary=["retry.backoff.jitter=none,full"])
    assert [v.label for v in variants] == ["jitter=none", "jitter=full"]
    assert shares_traffic([v.scenario for v in variants])


# -- rate-limited-retry and rate-limited-throttle: the rate-limited-api batch, two clients --------

LIMITED = ("rate-limited-api", "rate-limited-retry", "rate-limited-throttle")


@cache
def limited(name: str, *overrides: str) -> tuple[RunResult, int]:
    """The run, and the calls it sent to the API (429s included)."""
    result, events = run_recording(load_scenario(name, overrides))
    return result, len(of_type(events, CallStarted))


def test_the_three_rate_limited_lessons_are_one_batch_against_one_api():
    scenarios = [load_scenario(name) for name in LIMITED]
    assert shares_traffic(scenarios)
    assert all(s.downstream == scenarios[0].downstream for s in scenarios)  # the same API: 10/s, burst 10
    command = "bpsim compare " + " ".join(LIMITED)
    for s in scenarios:
        assert command in s.lesson and command in (s.ko.lesson or "")
    throttle = scenarios[2].throttle
    limit = scenarios[2].downstream.rate_limit
    assert throttle is not None and limit is not None and (throttle.rate, throttle.burst) == (limit.rate, limit.depth)


def test_retrying_429s_keeps_the_api_at_its_limit_and_only_adds_calls():
    result, calls = limited("rate-limited-retry")
    assert result.retry is not None and result.retry.attempts == calls == 1155  # "1,155 calls"
    assert result.counts.handled == 329 and result.counts.of(FailReason.RATE_LIMITED) == result.counts.failed == 71
    refused = calls - result.counts.handled
    assert refused == 826 and round(refused / result.counts.handled, 1) == 2.5  # "826 of them 429s (2.5 ... per answer)"
    assert round(result.throughput, 1) == 9.5 and round(result.duration) == 35  # "9.5 answers/s and takes 35 s"
    # "the retries are most of the traffic the API sees"
    assert result.retry.retries > calls / 2


def test_more_attempts_get_nearly_all_through_but_slower_than_the_throttle():
    result, calls = limited("rate-limited-retry", "retry.attempts=10")
    throttled, _ = limited("rate-limited-throttle")
    assert result.counts.handled == 395 and round(result.duration) == 41 and calls == 1168
    assert result.duration > throttled.duration


def test_a_throttle_at_the_published_rate_gets_every_call_through_with_no_429():
    result, calls = limited("rate-limited-throttle")
    assert result.counts.handled == calls == 400 and result.counts.failed == 0  # "400 calls, 400 answers"
    # (400 - 10) / 10 = 39 s of tokens after the burst, then the last call's 0.2 to 0.3 s.
    assert 39.2 <= result.duration <= 39.3 and round(result.throughput, 1) == 10.2
    assert result.throttle_waited is not None and result.throttle_waited > 0  # the workers wait, "throttled"
    assert result.blocked_seconds > 30  # the producer waits at the full queue: backpressure
    semaphore, _ = limited("rate-limited-api", "downstream.concurrency=2")
    assert result.throughput > semaphore.throughput + 1.5  # 10.2/s against Semaphore(2)'s 8/s
    retried, retried_calls = limited("rate-limited-retry")
    assert retried.counts.handled == 329 and retried_calls == 1155  # "35 s for 329 answers ... 1,155 calls"
    assert retried.latency.max < result.latency.max  # docs: the handled items' latency hides the lost ones


def test_a_throttle_over_the_published_rate_meets_429s_again():
    result, _ = limited("rate-limited-throttle", "throttle.rate=11")
    assert result.counts.of(FailReason.RATE_LIMITED) > 0


def test_the_rate_limited_moments_say_what_happens_then():
    # rate-limited-retry at 0 s: 10 calls through, the other 10 workers get a 429 and back off < 0.5 s.
    _, events = run_recording(load_scenario("rate-limited-retry"))
    at_zero = [e for e in of_type(events, RetryScheduled) if e.at == 0.0]
    assert len(at_zero) == 10 and all(e.reason == "rate-limited" and e.sleep < 0.5 for e in at_zero)
    # At 5 s, "most of them get a 429": at most 329 retries were answered, of 755.
    result, _ = limited("rate-limited-retry")
    assert result.retry is not None and result.retry.retries - result.counts.handled > result.retry.retries / 2
    # At 20 s, still the API's 10 answers per second: every 5 s from 5 s to 30 s, 45 to 50 answers.
    handled = [e.at for e in of_type(events, ItemHandled)]
    per_window = [sum(1 for at in handled if start <= at < start + 5) for start in range(5, 30, 5)]
    assert all(45 <= n <= 50 for n in per_window), per_window
    # rate-limited-throttle: the burst's 10 calls at 0 s, then one every 0.1 s to the last at 39 s.
    _, events = run_recording(load_scenario("rate-limited-throttle"))
    starts = [e.at for e in of_type(events, CallStarted)]
    assert starts[:10] == [0.0] * 10
    assert all(abs(b - a - 0.1) < 1e-6 for a, b in zip(starts[10:], starts[11:]))
    assert starts[-1] == pytest.approx(39.0)
