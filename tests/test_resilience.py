"""Backoff, retry budget, circuit breaker and throttle on their own, with numbers computed by hand."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from bpsim.clock import VirtualTimeLoop
from bpsim.resilience import Backoff, BreakerState, CircuitBreaker, Jitter, RetryBudget, Throttle
from bpsim.workload import Draws

T = TypeVar("T")


def on_virtual_time(main: Callable[[], Awaitable[T]]) -> T:
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main())  # type: ignore[arg-type]


# -- draws ---------------------------------------------------------------------------------------


def test_a_draw_depends_only_on_its_seed_purpose_item_and_attempt():
    jitter = Draws(7, "jitter")
    assert jitter.uniform(41, 2) == Draws(7, "jitter").uniform(41, 2)
    assert jitter.uniform(41, 2) != jitter.uniform(41, 3)
    assert jitter.uniform(41, 2) != jitter.uniform(42, 2)
    assert jitter.uniform(41, 2) != Draws(8, "jitter").uniform(41, 2)
    assert jitter.uniform(41, 2) != Draws(7, "errors").uniform(41, 2)


def test_draws_are_uniform():
    draws = Draws(0, "errors")
    values = [draws.uniform(item, attempt) for item in range(10_000) for attempt in range(4)]
    assert all(0.0 <= v < 1.0 for v in values)
    # 40,000 uniforms: the mean's standard error is sqrt(1/12 / 40000) = 0.00144; 4 of them is
    # 0.0058. Each tenth holds 4000 ± sqrt(40000 · 0.1 · 0.9) = 60; 5 of them is 300.
    assert sum(values) / len(values) == pytest.approx(0.5, abs=0.0058)
    tenths = [0] * 10
    for v in values:
        tenths[int(v * 10)] += 1
    assert all(abs(n - 4000) < 300 for n in tenths)


# -- backoff -------------------------------------------------------------------------------------


def sleeps(backoff: Backoff, us: list[float]) -> list[float]:
    previous, out = backoff.initial, []
    for retry, u in enumerate(us):
        previous = backoff.sleep(retry, previous, u)
        out.append(previous)
    return out


def test_backoff_without_jitter_doubles_up_to_the_cap():
    backoff = Backoff(0.1, 2.0, 1.0, Jitter.NONE)
    assert sleeps(backoff, [0.9] * 6) == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


def test_full_and_equal_jitter_scale_the_capped_exponential():
    # t = 0.1, 0.2, 0.4, 0.8, 1.0 (capped); full = u·t, equal = t/2 + u·t/2.
    us = [0.5, 0.25, 0.0, 1.0, 0.5]
    assert sleeps(Backoff(0.1, 2.0, 1.0, Jitter.FULL), us) == pytest.approx([0.05, 0.05, 0.0, 0.8, 0.5])
    assert sleeps(Backoff(0.1, 2.0, 1.0, Jitter.EQUAL), us) == pytest.approx([0.075, 0.125, 0.2, 0.8, 0.75])


def test_decorrelated_jitter_grows_from_the_previous_sleep():
    # b = 0.1, cap 1, u = 0.5: s = b + (3·previous − b)/2, previous starting at b:
    # 0.1 + 0.1 = 0.2; 0.1 + 0.25 = 0.35; 0.1 + 0.475 = 0.575; 0.1 + 0.8125 = 0.9125; then capped.
    backoff = Backoff(0.1, 2.0, 1.0, Jitter.DECORRELATED)
    assert sleeps(backoff, [0.5] * 5) == pytest.approx([0.2, 0.35, 0.575, 0.9125, 1.0])


@pytest.mark.parametrize("jitter", list(Jitter))
def test_jittered_sleeps_from_a_seeded_stream_stay_in_their_range(jitter: Jitter):
    backoff, draws = Backoff(0.1, 2.0, 1.0, jitter), Draws(3, "jitter")
    for item in range(200):
        previous = backoff.initial
        for retry in range(6):
            ceiling = min(1.0, 0.1 * 2**retry)
            sleep = backoff.sleep(retry, previous, draws.uniform(item, retry))
            low, high = {
                Jitter.NONE: (ceiling, ceiling),
                Jitter.FULL: (0.0, ceiling),
                Jitter.EQUAL: (ceiling / 2, ceiling),
                Jitter.DECORRELATED: (0.1, min(1.0, 3 * previous)),
            }[jitter]
            assert low <= sleep <= high
            previous = sleep


def test_full_jitter_spreads_a_wave_over_its_whole_range():
    # 1000 clients failing together retry at u·0.8 s: a mean of 0.4 s (standard error
    # 0.8/sqrt(12·1000) = 0.0073; 4 of them 0.03), where without jitter all 1000 come at 0.8 s.
    backoff, draws = Backoff(0.1, 2.0, 1.0, Jitter.FULL), Draws(1, "jitter")
    waits = [backoff.sleep(3, 0.0, draws.uniform(item, 3)) for item in range(1000)]
    assert sum(waits) / len(waits) == pytest.approx(0.4, abs=0.03)
    assert min(waits) < 0.01 and max(waits) > 0.79


# -- retry budget --------------------------------------------------------------------------------


def test_a_budget_allows_its_ratio_of_recent_requests():
    budget = RetryBudget(ratio=0.2, min_per_second=0.0, window=10.0)
    for _ in range(10):
        budget.requested(0.0)
    # 0.2 · 10 requests = 2 retries; the third is refused.
    assert [budget.try_retry(1.0) for _ in range(3)] == [True, True, False]
    # At t = 10 the requests of t = 0 are out of the window (10 − 10 = 0 is not after 0).
    budget.requested(10.0)
    assert budget.try_retry(10.0) is False


def test_a_budget_has_a_floor_per_second():
    # 1 per second over a 10 s window: 10 retries with no requests at all, not an 11th.
    budget = RetryBudget(ratio=0.2, min_per_second=1.0, window=10.0)
    assert sum(budget.try_retry(0.5) for _ in range(11)) == 10
    # Once they are out of the window (t = 10.5) the floor is there again.
    assert budget.try_retry(10.5) is True


def test_in_any_window_retries_stay_within_the_budget():
    budget, stream = RetryBudget(ratio=0.25, min_per_second=2.0, window=5.0), random.Random(4)
    now, requests, retries = 0.0, [], []
    while now < 100:
        now += stream.expovariate(20.0)
        budget.requested(now)
        requests.append(now)
        for _ in range(3):  # every request wants three retries: far more than the budget
            if budget.try_retry(now):
                retries.append(now)
    for end in retries:
        in_window = sum(end - 5.0 < r <= end for r in retries)
        deposits = sum(end - 5.0 < r <= end for r in requests)
        assert in_window <= 0.25 * deposits + 2.0 * 5.0
    # 20 requests/s · 0.25 + 2/s = 7 retries per second, give or take the Poisson noise.
    assert len(retries) / 100 == pytest.approx(7.0, rel=0.1)


# -- circuit breaker -----------------------------------------------------------------------------


def test_a_breaker_opens_on_enough_failures_within_its_window():
    breaker = CircuitBreaker(failures=3, window=1.0, cooldown=2.0, probes=2)
    for at in (0.0, 0.5, 1.2):  # by 1.2 the failure at 0.0 has left the window: 2 count
        ticket = breaker.admit(at)
        assert ticket is not None
        breaker.failed(ticket, at)
    assert breaker.state(1.2) is BreakerState.CLOSED
    breaker.failed(breaker.admit(1.3), 1.3)  # type: ignore[arg-type]  # 0.5, 1.2, 1.3: open
    assert breaker.state(1.3) is BreakerState.OPEN and breaker.opened == 1
    assert breaker.admit(1.4) is None and breaker.admit(3.29) is None
    assert breaker.refused == 2


def test_a_half_open_breaker_closes_when_its_probes_succeed():
    breaker = CircuitBreaker(failures=1, window=1.0, cooldown=2.0, probes=2)
    breaker.failed(breaker.admit(0.0), 0.0)  # type: ignore[arg-type]
    assert breaker.state(1.99) is BreakerState.OPEN
    assert breaker.state(2.0) is BreakerState.HALF_OPEN
    first, second = breaker.admit(2.0), breaker.admit(2.1)
    assert first is not None and second is not None
    assert breaker.admit(2.2) is None  # both probes are out: the others fail at once
    breaker.succeeded(first, 2.3)
    assert breaker.state(2.3) is BreakerState.HALF_OPEN
    breaker.succeeded(second, 2.4)
    assert breaker.state(2.4) is BreakerState.CLOSED
    assert breaker.admit(2.5) is not None


def test_a_failed_probe_opens_it_again():
    breaker = CircuitBreaker(failures=1, window=1.0, cooldown=2.0, probes=1)
    breaker.failed(breaker.admit(0.0), 0.0)  # type: ignore[arg-type]
    probe = breaker.admit(2.0)
    assert probe is not None
    breaker.failed(probe, 2.5)
    assert breaker.state(2.5) is BreakerState.OPEN and breaker.opened == 2
    assert breaker.state(4.49) is BreakerState.OPEN  # the cool-down starts again at 2.5
    assert breaker.state(4.5) is BreakerState.HALF_OPEN


def test_a_call_from_before_the_breaker_opened_does_not_count():
    breaker = CircuitBreaker(failures=1, window=1.0, cooldown=1.0, probes=1)
    slow = breaker.admit(0.0)
    breaker.failed(breaker.admit(0.1), 0.1)  # type: ignore[arg-type]
    probe = breaker.admit(1.1)
    assert slow is not None and probe is not None
    breaker.succeeded(slow, 1.2)  # sent while closed: says nothing about the service now
    assert breaker.state(1.2) is BreakerState.HALF_OPEN
    breaker.failed(slow, 1.3)
    assert breaker.state(1.3) is BreakerState.HALF_OPEN and breaker.opened == 1


# -- throttle ------------------------------------------------------------------------------------


async def pass_times(throttle: Throttle, arrivals: list[float]) -> list[float]:
    loop = asyncio.get_running_loop()
    passed: list[float] = []

    async def caller(at: float) -> None:
        await asyncio.sleep(at)
        await throttle.acquire()
        passed.append(loop.time())

    async with asyncio.TaskGroup() as group:
        for at in arrivals:
            group.create_task(caller(at))
    return passed


def test_a_throttle_lets_a_burst_through_then_one_token_per_interval():
    throttle = Throttle(rate=10.0, burst=5)
    passed = on_virtual_time(lambda: pass_times(throttle, [0.0] * 50))
    # 5 at once, then one every 0.1 s: the 50th at 4.5 s.
    assert passed == pytest.approx([0.0] * 5 + [0.1 * k for k in range(1, 46)])
    # The k-th waiter (k = 1..45) waited 0.1·k s: 0.1 · 45·46/2 = 103.5 s in all.
    assert throttle.waited_seconds == pytest.approx(103.5)


@pytest.mark.parametrize(("rate", "burst"), [(10.0, 1), (10.0, 5), (3.0, 20)])
def test_a_throttle_never_passes_more_than_rate_times_t_plus_burst(rate: float, burst: int):
    # Poisson callers at twice the rate, with idle gaps that let the bucket refill.
    stream, at, arrivals = random.Random(11), 0.0, []
    while at < 60:
        at += stream.expovariate(2 * rate)
        if stream.random() < 0.02:
            at += 5.0
        arrivals.append(at)
    passed = sorted(on_virtual_time(lambda: pass_times(Throttle(rate, burst), arrivals)))
    for i in range(len(passed)):
        for j in range(i, min(len(passed), i + 4 * burst + 200)):
            # Calls i..j passed within t = passed[j] - passed[i] seconds.
            assert j - i + 1 <= rate * (passed[j] - passed[i]) + burst + 1e-9
    assert len(passed) == len(arrivals)


def test_a_caller_cancelled_while_waiting_gives_its_token_back():
    async def main() -> tuple[float, float]:
        throttle = Throttle(rate=1.0, burst=1)
        await throttle.acquire()
        waiting = asyncio.create_task(throttle.acquire())
        await asyncio.sleep(0.25)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        loop = asyncio.get_running_loop()
        await throttle.acquire()  # the token that arrives at t = 1 is still there for this caller
        return loop.time(), throttle.waited_seconds

    passed, waited = on_virtual_time(main)
    assert passed == pytest.approx(1.0)
    assert waited == pytest.approx(0.25 + 0.75)
