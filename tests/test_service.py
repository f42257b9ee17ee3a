"""The service behind the call (bpsim/service.py), on virtual time, with numbers computed by hand."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bpsim.clock import VirtualTimeLoop
from bpsim.engine import Simulation, run
from bpsim.events import ItemAbandoned, ItemFailed, ItemHandled, ItemTimedOut, WorkWasted
from bpsim.loader import bundled_scenarios, load_scenario
from bpsim.render.trace import describe
from bpsim.scenario import Downstream
from bpsim.service import CallFailed, Left, Service, TokenBucket, models_a_service, per_call_rate
from tests.helpers import of_type, run_recording, scenario


def on_virtual_time(main: Callable[[], Awaitable[Any]]) -> Any:
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main())


def service(**settings: Any) -> Service:
    return Service(Downstream.model_validate(settings), asyncio.get_running_loop())


async def finish_times(svc: Service, works: list[float], timeout: float | None = None) -> list[float | str]:
    """Send one call per work at the same instant; each one's end time, or why it ended."""
    loop = asyncio.get_running_loop()

    async def one(work: float) -> float | str:
        try:
            async with asyncio.timeout(timeout):
                await svc.call(work)
        except TimeoutError:
            return "timed out"
        except CallFailed as failure:
            return failure.reason
        return loop.time()

    return list(await asyncio.gather(*(one(work) for work in works)))


# -- processor sharing with the Universal Scalability Law -------------------------------------


def test_per_call_rate_is_usl_capacity_shared_by_n():
    # X(n) = n / (1 + σ(n−1) + κ·n(n−1)); each of the n calls gets X(n)/n.
    assert per_call_rate(1, 0.5, 0.1) == 1.0
    assert per_call_rate(2, 0.5, 0.0) == pytest.approx(1 / 1.5)  # X(2) = 2/1.5
    assert per_call_rate(4, 0.1, 0.02) == pytest.approx(1 / (1 + 0.3 + 0.24))  # X(4) = 4/1.54 = 2.597


def test_without_contention_every_call_takes_its_work():
    async def main():
        return await finish_times(service(capacity=10), [1.0, 2.0])

    assert on_virtual_time(main) == [1.0, 2.0]


def test_contention_shares_the_server():
    # σ = 0.5, two calls of work 1 s and 2 s at t=0: X(2) = 2/1.5, so each progresses at 2/3 s of
    # work per second. The 1 s call is done at 1 / (2/3) = 1.5 s; the other has 2 − 1 = 1 s left,
    # alone at rate 1: done at 2.5 s. (Without sharing they would end at 1 and 2.)
    async def main():
        return await finish_times(service(contention=0.5), [1.0, 2.0])

    assert on_virtual_time(main) == [pytest.approx(1.5), pytest.approx(2.5)]


def test_coherency_makes_more_calls_slower_than_fewer():
    # κ = 0.1, σ = 0: three calls of 1 s: each at 1 / (1 + 0.1·3·2) = 1/1.6, all done at 1.6 s.
    # X(3) = 3/1.6 = 1.875 calls' work per second. Ten calls: 1 / (1 + 0.1·10·9) = 1/10, all done
    # at 10 s: X(10) = 1.0, worse than three. Past n* = sqrt(1/κ) = 3.16 more is less.
    async def three():
        return await finish_times(service(coherency=0.1), [1.0] * 3)

    async def ten():
        return await finish_times(service(coherency=0.1), [1.0] * 10)

    assert on_virtual_time(three) == [pytest.approx(1.6)] * 3
    assert on_virtual_time(ten) == [pytest.approx(10.0)] * 10


def test_capacity_queues_calls_inside_the_service():
    # capacity 2, four calls of 1 s at t=0: two in service until 1 s, then the other two until 2 s.
    async def main():
        svc = service(capacity=2)
        loop = asyncio.get_running_loop()
        seen = []
        loop.call_at(0.5, lambda: seen.append((svc.in_service, len(svc.waiting))))
        ends = await finish_times(svc, [1.0] * 4)
        return ends, seen, svc.max_in_service

    ends, seen, most = on_virtual_time(main)
    assert ends == [1.0, 1.0, 2.0, 2.0]
    assert seen == [(2, 2)]
    assert most == 2


def test_time_waiting_inside_the_service_counts_against_the_timeout():
    # capacity 1, two calls of 1 s, timeout 1.5 s: the second waits 1 s for the place, is worked
    # on from 1 s, and its client gives up at 1.5 s, with 0.5 s of its work done.
    async def main():
        svc = service(capacity=1)
        ends = await finish_times(svc, [1.0, 1.0], timeout=1.5)
        left = svc.last_left
        at_end = svc.wasted_calls_at(1.5), svc.wasted_seconds(1.5)
        await asyncio.sleep(1.0)  # the service, not knowing, finishes it at 2 s
        return ends, left, at_end, (svc.wasted_calls, svc.wasted_seconds(2.5))

    ends, left, at_end, later = on_virtual_time(main)
    assert ends == [1.0, "timed out"]
    assert left is Left.WORKING
    assert at_end == (1, pytest.approx(0.5))
    assert later == (1, pytest.approx(1.0))


def test_a_call_left_in_the_hidden_queue_is_still_worked_on():
    # capacity 1, three calls of 1 s, timeout 0.5: the two waiting ones are given up at 0.5 s but
    # still served, one after the other: 1..2 s and 2..3 s, each 1 s of work for nobody.
    async def main():
        svc = service(capacity=1)
        ends = await finish_times(svc, [1.0] * 3, timeout=1.5)
        await asyncio.sleep(5)
        return ends, svc.wasted_calls, svc.wasted_seconds(10)

    assert on_virtual_time(main) == ([1.0, "timed out", "timed out"], 2, pytest.approx(2.0))


def test_cancel_abandoned_drops_the_call_when_its_client_leaves():
    # As above, but the service hears the client leave: the second call is dropped at 1.5 s after
    # 0.5 s of work (wasted), the third never starts (nothing wasted), the place is free at 1.5 s.
    async def main():
        svc = service(capacity=1, cancel_abandoned=True)
        loop = asyncio.get_running_loop()
        ends = await finish_times(svc, [1.0] * 3, timeout=1.5)
        late = loop.create_task(svc.call(1.0))  # free at once: done at 2.5 s
        await late
        return ends, svc.last_left, svc.wasted_calls, svc.wasted_seconds(loop.time()), loop.time()

    ends, left, calls, seconds, end = on_virtual_time(main)
    assert ends == [1.0, "timed out", "timed out"]
    assert left is Left.DROPPED
    assert (calls, seconds) == (1, pytest.approx(0.5))
    assert end == pytest.approx(2.5)


def test_contention_with_a_call_nobody_awaits_slows_the_others():
    # σ = 1: with n in service each call gets 1/n. Calls of 1 s and 3 s; the 3 s call's client
    # leaves at 0.5 s (timeout) but the service goes on sharing: the 1 s call gets 1/2 until it is
    # done at 2 s. With cancel_abandoned the 3 s call is dropped at 0.5 s: the 1 s call has 0.75 s
    # left, alone: done at 1.25 s.
    async def main(cancel: bool) -> list[float | str]:
        svc = service(contention=1.0, cancel_abandoned=cancel)
        loop = asyncio.get_running_loop()

        async def short() -> float:
            await svc.call(1.0)
            return loop.time()

        async def long() -> str:
            try:
                async with asyncio.timeout(0.5):
                    await svc.call(3.0)
            except TimeoutError:
                return "timed out"
            return "answered"

        return list(await asyncio.gather(short(), long()))

    assert on_virtual_time(lambda: main(False)) == [pytest.approx(2.0), "timed out"]
    assert on_virtual_time(lambda: main(True)) == [pytest.approx(1.25), "timed out"]


# -- failures --------------------------------------------------------------------------------


def test_an_error_comes_when_the_work_is_done():
    async def main():
        svc = service(errors=0.5)
        loop = asyncio.get_running_loop()
        try:
            await svc.call(2.0, luck=0.2)  # unlucky: 0.2 < 0.5
        except CallFailed as failure:
            return failure.reason, loop.time()

    assert on_virtual_time(main) == ("error", 2.0)


def test_token_bucket_admits_at_most_rate_times_window_plus_burst():
    bucket = TokenBucket(rate=5.0, burst=3.0)
    stream = random.Random(7)
    times, now = [], 0.0
    for _ in range(3000):
        now += stream.expovariate(20.0)  # four times the rate: most calls are refused
        if bucket.take(now):
            times.append(now)
    assert 0.2 < len(times) / 3000 < 0.3  # about 5 of every 20 per second get through
    for i, start in enumerate(times):
        for window in (0.1, 1.0, 10.0):
            passed = sum(1 for t in times[i:] if t < start + window)  # a window starting at a pass
            assert passed <= 5.0 * window + 3.0 + 1e-6


def test_rate_limit_answers_429_at_once():
    # rate 1/s, burst 2: five calls at t=0: two pass (done at 1 s), three refused at t=0.
    async def main():
        return await finish_times(service(rate_limit={"rate": 1.0, "burst": 2}), [1.0] * 5)

    assert on_virtual_time(main) == [1.0, 1.0, "rate-limited", "rate-limited", "rate-limited"]


def test_fail_outage_refuses_at_once():
    async def main():
        svc = service(outages=[{"at": 1.0, "duration": 2.0}])
        loop = asyncio.get_running_loop()
        results = []
        for start in (0.0, 1.0, 2.5, 3.0):
            await asyncio.sleep(start - loop.time())
            results += await finish_times(svc, [0.1])
        return results

    assert on_virtual_time(main) == [pytest.approx(0.1), "outage", "outage", pytest.approx(3.1)]


def test_hang_outage_answers_nothing_until_the_client_gives_up_or_it_ends():
    # A hang from 0 to 5 s: with a 1 s timeout the client gives up at 1 s; without one the call
    # fails as an outage when the outage ends, so a run can never stall on it.
    async def main():
        svc = service(outages=[{"at": 0.0, "duration": 5.0, "mode": "hang"}])
        with_timeout = await finish_times(svc, [0.1], timeout=1.0)
        left = svc.last_left
        loop = asyncio.get_running_loop()
        start = loop.time()
        without = await finish_times(svc, [0.1])
        return with_timeout, left, start, without, loop.time(), svc.wasted_calls

    assert on_virtual_time(main) == (["timed out"], Left.HANGING, 1.0, ["outage"], 5.0, 0)


# -- in the pipeline --------------------------------------------------------------------------

# Three items at t=0, three workers, 1 s of work each, a service with one place, timeout 1.5 s.
ONE_PLACE = dict(
    items=3,
    producer={"rate": "unlimited"},
    workers={"count": 3, "service": {"distribution": "constant", "mean": 1.0}},
)


def test_a_run_ends_when_the_clients_are_done_and_counts_the_work_wasted_so_far():
    s = scenario(**ONE_PLACE, downstream={"capacity": 1, "timeout": 1.5})
    result, events = run_recording(s)
    # Item 0 handled at 1 s; items 1 and 2 timed out at 1.5 s. The service would go on until 3 s
    # (item 1 from 1 to 2 s, item 2 from 2 to 3 s), but the run ends with its clients at 1.5 s,
    # when item 1 has had 0.5 s of work and item 2 none.
    assert result.duration == 1.5
    assert (result.counts.handled, result.counts.timed_out_downstream) == (1, 2)
    downstream = result.to_json()["downstream"]
    assert downstream == {
        "concurrency": None,
        "max_in_flight": 3,
        "capacity": 1,
        "max_in_service": 1,
        "wasted_calls": 1,
        "wasted_seconds": 0.5,
    }
    timed_out = of_type(events, ItemTimedOut)
    assert [(e.item, e.service) for e in timed_out] == [(1, "working"), (2, "waiting")]
    assert describe(timed_out[0]) == "worker-1 gave up on item 1 after 1.50 s; the service is still working on it"
    assert describe(timed_out[1]) == (
        "worker-2 gave up on item 2 after 1.50 s; it still waits inside the service, which will work on it anyway"
    )


def test_cancel_abandoned_in_the_pipeline():
    s = scenario(**ONE_PLACE, downstream={"capacity": 1, "timeout": 1.5, "cancel_abandoned": True})
    result, events = run_recording(s)
    assert result.service is not None
    assert (result.service.wasted_calls, result.service.wasted_seconds) == (1, pytest.approx(0.5))
    [wasted] = of_type(events, WorkWasted)
    assert (wasted.item, wasted.seconds, wasted.finished) == (1, pytest.approx(0.5), False)
    assert describe(of_type(events, ItemTimedOut)[0]).endswith("the service drops it (deadline propagation)")


def test_wasted_work_that_finishes_during_the_run_is_reported():
    # Item 0 times out at 0.5 s; the service finishes it at 2 s, while item 1 (due at 1.5 s) runs.
    s = scenario(
        items=2,
        producer={"rate": 1 / 1.5, "arrivals": "constant"},
        workers={"count": 1, "service": {"distribution": "constant", "mean": 2.0}},
        downstream={"timeout": 0.5, "contention": 0.0, "capacity": 4},
    )
    result, events = run_recording(s)
    [wasted] = of_type(events, WorkWasted)
    assert (wasted.at, wasted.item, wasted.seconds, wasted.finished) == (2.0, 0, 2.0, True)
    assert describe(wasted) == "the service finished item 0 for nobody: 2.00 s of work wasted"
    # Item 1: timed out at 2.0 s after 0.5 s of work: the run ends there.
    assert result.duration == 2.0
    assert result.to_json()["downstream"]["wasted_seconds"] == pytest.approx(2.5)


def test_an_immediate_shutdown_leaves_the_service_working():
    s = scenario(
        items=2,
        producer={"rate": "unlimited"},
        workers={"count": 2, "service": {"distribution": "constant", "mean": 4.0}},
        downstream={"capacity": 8},
        shutdown={"mode": "immediate", "at": 1.0},
    )
    result, events = run_recording(s)
    abandoned = of_type(events, ItemAbandoned)
    assert [(e.item, e.service) for e in abandoned] == [(0, "working"), (1, "working")]
    assert describe(abandoned[0]) == "item 0 abandoned: worker-0 cancelled mid-call; the service is still working on it"
    assert result.duration == 1.0
    assert result.to_json()["downstream"]["wasted_seconds"] == pytest.approx(2.0)


def test_failed_calls_end_their_items_as_failed():
    s = scenario(
        items=4,
        producer={"rate": "unlimited"},
        workers={"count": 4, "service": {"distribution": "constant", "mean": 1.0}},
        downstream={"rate_limit": {"rate": 1.0, "burst": 1}},
    )
    result, events = run_recording(s)
    failed = of_type(events, ItemFailed)
    assert [(e.item, e.reason, e.at) for e in failed] == [(1, "rate-limited", 0.0), (2, "rate-limited", 0.0), (3, "rate-limited", 0.0)]
    assert describe(failed[0]) == "item 1 failed: the service's rate limit refused the call, 429 (worker-1)"
    assert [e.item for e in of_type(events, ItemHandled)] == [0]
    assert (result.counts.failed, result.counts.failed_rate_limited, result.counts.unfinished) == (3, 3, 0)
    items = result.to_json()["items"]
    assert (items["failed"], items["failed_by_reason"]["rate-limited"]) == (3, 3)


def test_errors_fail_their_share_of_items_and_the_same_items_under_every_variant():
    def failing(workers: int, concurrency: int | None) -> set[int]:
        s = scenario(
            seed=3,
            items=2000,
            producer={"rate": 50.0},
            workers={"count": workers, "service": {"distribution": "exponential", "mean": 0.05}},
            downstream={"errors": 0.2, "concurrency": concurrency},
        )
        _, events = run_recording(s)
        return {e.item for e in of_type(events, ItemFailed) if e.reason == "error"}

    one = failing(8, None)
    # 2000 calls at p = 0.2: 400 expected, standard deviation sqrt(2000·0.2·0.8) = 17.9.
    assert abs(len(one) - 400) < 4 * 17.9
    assert failing(3, 2) == one  # item k has the same luck whatever else changes


def test_errors_absent_draw_nothing_new():
    from bpsim.workload import items

    base = scenario(items=50, producer={"rate": 10.0})
    assert all(item.luck == 1.0 for item in items(base))
    with_errors = scenario(items=50, producer={"rate": 10.0}, downstream={"errors": 0.5})
    # The arrivals and work are the same with or without errors: their streams are their own.
    assert [(i.arrival, i.service) for i in items(with_errors)] == [(i.arrival, i.service) for i in items(base)]


def test_outage_failures_in_the_pipeline():
    s = scenario(
        items=6,
        producer={"rate": 1.0, "arrivals": "constant"},
        workers={"count": 1, "service": {"distribution": "constant", "mean": 0.5}},
        downstream={"outages": [{"at": 2.0, "duration": 2.0}]},
    )
    result, events = run_recording(s)
    # Items arrive at 0, 1, ..., 5: items 2 and 3 meet the outage (2 <= t < 4).
    assert [(e.item, e.reason) for e in of_type(events, ItemFailed)] == [(2, "outage"), (3, "outage")]
    assert result.counts.handled == 4


# -- the default is today's ideal downstream -----------------------------------------------------


SERVICE_LESSONS = {"congestion-collapse", "wasted-work", "rate-limited-api", "aimd-knee"}
"""The bundled lessons about the service itself; every other bundled scenario predates it."""


def test_bundled_scenarios_model_no_service_and_their_json_has_no_service_keys():
    # Without the service keys the call is `await asyncio.sleep(item.service)`, as before the
    # service existed (main's JSON for every bundled scenario was compared byte for byte).
    older = [path for path in bundled_scenarios() if path.stem not in SERVICE_LESSONS]
    assert not any(models_a_service(load_scenario(path).downstream) for path in older)
    simulation = Simulation([load_scenario("handbook")])
    [result] = simulation.run()
    assert simulation.pipelines[0].service is None
    assert result.service is None
    assert set(result.to_json()["downstream"]) == {"concurrency", "max_in_flight"}


@pytest.mark.parametrize("name", ["burst", "slow-downstream", "webhooks", "api-fanout"])
def test_a_service_without_limits_behaves_like_the_ideal_delay(name):
    # capacity far above any load, σ = κ = 0: every call still takes exactly its work.
    plain = run(load_scenario(name))
    served = run(load_scenario(name, overrides=["downstream.capacity=100000"]))
    assert json.dumps(served.to_json()["items"]) == json.dumps(plain.to_json()["items"])
    assert served.latency.mean == pytest.approx(plain.latency.mean)
    assert served.duration == pytest.approx(plain.duration)


# -- bad input: one line with file, line and what to fix ----------------------------------------


@pytest.mark.parametrize(
    ("table", "line"),
    [
        ("contention = -0.1", "s.toml:4: downstream.contention: must be 0 or more, not -0.1"),
        ("coherency = -1", "s.toml:4: downstream.coherency: must be 0 or more, not -1"),
        (
            "capacity = 0",
            "s.toml:4: downstream.capacity: capacity = 0 would refuse every call; give 1 or more, or leave it out for no limit",
        ),
        (
            "outages = [{ at = 1.0, duration = 5.0 }, { at = 3.0, duration = 1.0 }]",
            "s.toml:4: downstream.outages: outages at 1.0 s and 3.0 s overlap; make each start after the previous one ends",
        ),
        ("rate_limit = { rate = 0 }", "s.toml:4: downstream.rate_limit.rate: must be greater than 0, not 0"),
        ("errors = 1.5", "s.toml:4: downstream.errors: must be 1 or less, not 1.5"),
        ("errors = -0.5", "s.toml:4: downstream.errors: must be 0 or more, not -0.5"),
    ],
)
def test_bad_service_keys_get_one_line(table, line):
    from bpsim.errors import ScenarioError
    from bpsim.loader import scenario_from_text

    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(f"items = 10\n\n[downstream]\n{table}\n", "s.toml")
    assert caught.value.lines()[0] == line


def test_rate_limit_burst_defaults_to_one_second_of_tokens():
    assert Downstream.model_validate({"rate_limit": {"rate": 20.0}}).rate_limit.depth == 20.0
    assert Downstream.model_validate({"rate_limit": {"rate": 0.5}}).rate_limit.depth == 1.0
    assert Downstream.model_validate({"rate_limit": {"rate": 5.0, "burst": 2}}).rate_limit.depth == 2.0


# -- docs/downstream.md's example: collapse and two cures ---------------------------------------

CONTENDED_API = dict(
    name="Contended API",
    seed=3,
    duration=60.0,
    producer={"rate": 12.0, "bursts": [{"at": 20.0, "duration": 10.0, "rate": 30.0}]},
    queue={"maxsize": 200},
    workers={"count": 40, "service": {"distribution": "exponential", "mean": 0.5}},
    downstream={"timeout": 2.0, "contention": 0.05, "coherency": 0.01},
)


@pytest.mark.parametrize(
    ("downstream", "handled", "timed_out", "wasted_seconds", "max_in_service"),
    [
        ({}, 60, 871, 33, 840),
        ({"concurrency": 10}, 396, 535, 275, 233),
        ({"cancel_abandoned": True}, 389, 542, 115, 40),
    ],
)
def test_the_documented_collapse_and_its_cures(downstream, handled, timed_out, wasted_seconds, max_in_service):
    s = scenario(**CONTENDED_API | {"downstream": CONTENDED_API["downstream"] | downstream})
    result = run(s)
    assert (result.counts.handled, result.counts.timed_out) == (handled, timed_out)
    assert result.service is not None
    assert result.service.wasted_calls == timed_out  # every call given up on got some work
    assert round(result.service.wasted_seconds) == wasted_seconds
    assert result.service.max_in_service == max_in_service


def test_the_summary_and_compare_show_the_wasted_work():
    from bpsim.metrics import parse_metrics
    from bpsim.render.summary import observations

    s = scenario(**ONE_PLACE, downstream={"capacity": 1, "timeout": 1.5})
    result = run(s)
    assert (
        "Wasted work: the service spent 500 ms on calls whose client had given up (1); "
        "cancel_abandoned drops them (docs/downstream.md)." in observations(result)
    )
    [wasted] = parse_metrics("wasted")
    assert (wasted.value(result), wasted.better, wasted.optional) == (0.5, "lower", True)
    assert wasted.value(run(scenario(**ONE_PLACE))) is None  # no service: nothing to show


# -- against queueing theory -----------------------------------------------------------------


def poisson_into_service(downstream: dict[str, Any], distribution: str = "exponential") -> float:
    """Mean latency of 4,000 Poisson arrivals at 0.5/s, work of mean 1 s, into `downstream`.

    50 workers and no semaphore: the client never queues, so all waiting is inside the service.
    At 4,000 items seeds 11 to 13 land within 5% of the formulas (sampling noise): 6% is allowed.
    """
    s = scenario(
        seed=11,
        items=4_000,
        producer={"rate": 0.5},
        workers={"count": 50, "service": {"distribution": distribution, "mean": 1.0}},
        downstream=downstream,
    )
    return run(s).latency.mean


def test_one_place_is_an_m_m_1_queue():
    # capacity 1, σ = κ = 0: M/M/1, W = 1 / (μ − λ) = 1 / (1 − 0.5) = 2 s.
    assert poisson_into_service({"capacity": 1}) == pytest.approx(2.0, rel=0.06)


@pytest.mark.parametrize("distribution", ["exponential", "constant"])
def test_full_contention_is_processor_sharing_m_g_1_ps(distribution):
    # σ = 1: X(n) = n / (1 + (n − 1)) = 1, one call's worth shared by all n: M/G/1-PS, whose mean
    # response is E[S] / (1 − ρ) = 1 / (1 − 0.5) = 2 s whatever the work's distribution.
    assert poisson_into_service({"contention": 1.0}, distribution) == pytest.approx(2.0, rel=0.06)
