"""The adaptive concurrency limits (bpsim/adaptive.py): the AIMD and gradient rules checked by hand,
the semaphore they are, their JSON and dashboard, bad keys, the throttle's wait kept out of the
latency they judge, and lesson (a): AIMD and gradient against the knee of a contended service."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from rich.console import Console

from bpsim.adaptive import AIMDLimit
from bpsim.clock import VirtualTimeLoop
from bpsim.engine import RunResult, Simulation, run
from bpsim.loader import load_scenario
from bpsim.render.live import final_dashboard, watch
from bpsim.render.summary import summary
from bpsim.render.theme import theme
from bpsim.scenario import AIMDConcurrency, GradientConcurrency, Scenario
from bpsim.theory import theory_for
from tests.helpers import problems_in, scenario


def aimd(**settings: Any) -> AIMDConcurrency:
    return AIMDConcurrency.model_validate({"adaptive": "aimd", **settings})


def limit_changes(s: Scenario) -> tuple[list[tuple[float, int]], RunResult]:
    """Every change of the limit as (time, new limit), and the run's result."""
    simulation = Simulation([s])
    changes: list[tuple[float, int]] = []
    adaptive = simulation.pipelines[0].adaptive
    assert adaptive is not None
    adaptive.on_change = lambda now, limit: changes.append((round(now, 9), limit))
    return changes, simulation.run()[0]


def sawtooth(**concurrency: Any) -> Scenario:
    # A closed loop (every item due at once, 20 workers) into a service where n calls in service
    # each take 0.1 s × (1 + 0.1·(n − 1)) (USL contention σ = 0.1, constant work, no noise).
    return scenario(
        items=400,
        producer={"rate": "unlimited"},
        workers={"count": 20, "service": {"distribution": "constant", "mean": 0.1}},
        downstream={"contention": 0.1, "concurrency": {"adaptive": "aimd", **concurrency}},
    )


# -- the rule, by hand -----------------------------------------------------------------------------


def test_with_a_constant_service_the_limit_follows_the_sawtooth_computed_by_hand():
    # The limit L lets L calls start together; they share the service, so each takes
    # d(L) = 0.1 × (1 + 0.1·(L − 1)) s and they end together. d(1..7) = 0.10, 0.11, 0.12, 0.13,
    # 0.14, 0.15, 0.16 s. latency_limit = 0.155: L ≤ 6 is good, L = 7 is bad.
    # Good window (L successes, the limit used): L + 1. Bad: ⌊7 × 0.5⌋ = 3, once (the other six
    # calls of that window started before the decrease and do not count again).
    # From 1 at t = 0: 2 at 0.10, 3 at 0.21, 4 at 0.33, 5 at 0.46, 6 at 0.60, 7 at 0.75, then
    # 3 at 0.91; then 4 at 0.91 + 0.12 = 1.03, 5 at 1.16, 6 at 1.30, 7 at 1.45, 3 at 1.61, and
    # so on: a cycle of 0.70 s (0.12 + 0.13 + 0.14 + 0.15 + 0.16) handling 3+4+5+6+7 = 25 items.
    changes, result = limit_changes(sawtooth(initial=1, decrease=0.5, latency_limit=0.155))
    assert changes[:12] == [
        (0.1, 2), (0.21, 3), (0.33, 4), (0.46, 5), (0.6, 6), (0.75, 7),
        (0.91, 3), (1.03, 4), (1.16, 5), (1.3, 6), (1.45, 7), (1.61, 3),
    ]
    cycle = [(round(at + 0.7, 9), limit) for at, limit in changes[6:11]]
    assert changes[11:16] == cycle
    assert result.counts.handled == 400
    assert result.max_in_flight == 7
    assert result.limit is not None and (result.limit.min, result.limit.final) == (1, 7)
    # The first 0.91 s handle 1+…+7 = 28 items; each 0.70 s cycle 25 more: 372 = 14 cycles + 22,
    # and the 22 are 3+4+5+6+4 of a last, cut cycle (the last round has only 4 items left).
    # 0.91 + 14 × 0.70 + 0.12 + 0.13 + 0.14 + 0.15 + d(7) for the 4 left = 11.38 s.
    assert result.duration == pytest.approx(11.38)


def test_a_decrease_is_floor_of_limit_times_decrease_and_never_below_min():
    # 4 calls of 1 s against latency_limit = 0.5: every call is bad. From 4: ⌊4 × 0.9⌋ = 3 at
    # t = 1, then the 3 started after it are bad at t = 2: ⌊3 × 0.9⌋ = 2, then 1 at t = 3; min = 1.
    s = scenario(
        items=10,
        producer={"rate": "unlimited"},
        workers={"count": 4, "service": {"distribution": "constant", "mean": 1.0}},
        downstream={"concurrency": {"adaptive": "aimd", "initial": 4, "latency_limit": 0.5}},
    )
    changes, result = limit_changes(s)
    assert changes == [(1.0, 3), (2.0, 2), (3.0, 1)]
    assert result.limit is not None and result.limit.min == 1


def test_timeouts_and_failures_are_bad_calls_but_one_episode_decreases_once():
    # 8 calls at once, each 1 s, against timeout = 0.5: all 8 time out at t = 0.5. One decrease,
    # 8 → ⌊8 × 0.9⌋ = 7: the other seven started before it.
    s = scenario(
        items=8,
        producer={"rate": "unlimited"},
        workers={"count": 8, "service": {"distribution": "constant", "mean": 1.0}},
        downstream={"timeout": 0.5, "concurrency": {"adaptive": "aimd", "initial": 8}},
    )
    changes, result = limit_changes(s)
    assert changes == [(0.5, 7)]
    assert result.counts.timed_out == 8
    failing = scenario(
        items=3,
        producer={"rate": "unlimited"},
        workers={"count": 1, "service": {"distribution": "constant", "mean": 0.1}},
        downstream={"errors": 1.0, "concurrency": {"adaptive": "aimd", "initial": 5}},
    )
    changes, _ = limit_changes(failing)
    assert changes == [(0.1, 4), (0.2, 3), (0.3, 2)]  # one call at a time: each starts after the last cut


def test_a_limit_that_is_not_used_does_not_grow_and_max_caps_the_one_that_is():
    # One worker can never have 3 calls in flight: the limit of 3 was not what held calls back.
    idle = scenario(items=50, producer={"rate": "unlimited"}, downstream={"concurrency": {"adaptive": "aimd", "initial": 3}})
    changes, result = limit_changes(idle)
    assert changes == [] and result.limit is not None and result.limit.final == 3
    capped = sawtooth(initial=1, max=4)  # no latency_limit: nothing is bad; 1, 2, 3, 4 and no more
    changes, result = limit_changes(capped)
    assert [limit for _, limit in changes] == [2, 3, 4]
    assert result.max_in_flight == 4


def test_the_json_mean_is_the_time_average_of_the_limit():
    changes, result = limit_changes(sawtooth(initial=1, max=3))
    # 1 during [0, 0.10), 2 during [0.10, 0.21), then 3 until the end.
    assert changes == [(0.1, 2), (0.21, 3)]
    end = result.duration
    expected = (1 * 0.1 + 2 * 0.11 + 3 * (end - 0.21)) / end
    data = result.to_json()["downstream"]
    assert data["limit"] == {"min": 1, "mean": pytest.approx(expected), "final": 3}
    assert data["concurrency"] == {
        "adaptive": "aimd", "min": 1, "max": 3, "initial": 1, "increase": 1, "decrease": 0.9, "latency_limit": None,
    }


def test_without_an_adaptive_limit_the_json_has_no_limit_key():
    fixed = run(scenario(items=5, downstream={"concurrency": 2}))
    assert fixed.limit is None
    assert fixed.to_json()["downstream"] == {"concurrency": 2, "max_in_flight": 1}


# -- the semaphore ---------------------------------------------------------------------------------


def on_virtual_time(main: Any) -> Any:
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main())


def test_no_call_starts_while_in_flight_is_at_the_limit_and_waiters_go_first_come_first_served():
    async def main() -> tuple[list[int], list[int]]:
        limit = AIMDLimit(aimd(initial=2, max=2))
        order: list[int] = []
        seen: list[int] = []

        async def call(number: int) -> None:
            async with limit:
                seen.append(limit.in_flight)
                order.append(number)
                await asyncio.sleep(1.0)

        await asyncio.gather(*(call(n) for n in range(6)))
        return order, seen

    order, seen = on_virtual_time(main)
    assert order == [0, 1, 2, 3, 4, 5]
    assert max(seen) == 2


def test_a_waiter_cancelled_after_it_was_handed_a_permit_passes_it_on():
    async def main() -> tuple[int, list[str]]:
        limit = AIMDLimit(aimd(initial=1, max=1))
        done: list[str] = []

        async def call(name: str, seconds: float) -> None:
            async with limit:
                await asyncio.sleep(seconds)
                done.append(name)

        first = asyncio.create_task(call("first", 1.0))
        await asyncio.sleep(0)
        second = asyncio.create_task(call("second", 1.0))
        third = asyncio.create_task(call("third", 1.0))
        await asyncio.sleep(1.0)  # first is done: the permit is handed to second, not yet running
        second.cancel()
        await asyncio.gather(first, third, return_exceptions=True)
        assert second.cancelled()
        return limit.in_flight, done

    in_flight, done = on_virtual_time(main)
    assert done == ["first", "third"] and in_flight == 0


# -- what the user sees ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("concurrency", "line", "says"),
    [
        ("0", "bad.toml:3: downstream.concurrency: must be a whole number of calls, 1 or more, or a table such as "
         '{ adaptive = "aimd", max = 20 }, not 0', "1 이상의 정수"),
        ('{ adaptive = "aimd", min = 5, max = 3 }', "bad.toml:3: downstream.concurrency.max: min (5) must not be above max (3)", "클 수 없습니다"),
        ('{ adaptive = "aimd", initial = 9, max = 3 }',
         "bad.toml:3: downstream.concurrency.initial: initial = 9 must be between min (1) and max (3)", "사이여야 합니다"),
        ('{ adaptive = "aimd", decrease = 1.5 }', "bad.toml:3: downstream.concurrency.decrease: must be less than 1, not 1.5", None),
        ('{ adaptive = "vegas" }', "bad.toml:3: downstream.concurrency.adaptive: must be 'aimd' or 'gradient', not 'vegas'", None),
        ('{ adaptive = "aimd", mx = 4 }', "bad.toml:3: downstream.concurrency.mx: unknown key; did you mean 'max'?", None),
        ("{ min = 2 }", "bad.toml:3: downstream.concurrency: concurrency needs `adaptive`: aimd or gradient", "`adaptive` 키가"),
        ('{ adaptive = "gradient", tolerance = 0.5 }',
         "bad.toml:3: downstream.concurrency.tolerance: must be 1 or more, not 0.5", None),
        ('{ adaptive = "gradient", smoothing = 0 }', "bad.toml:3: downstream.concurrency.smoothing: must be greater than 0, not 0", None),
        # an AIMD key in a gradient table: the keys listed are gradient's only
        ('{ adaptive = "gradient", latency_limit = 2.0 }', "bad.toml:3: downstream.concurrency.latency_limit: unknown key; "
         "use adaptive, min, max, initial, smoothing, tolerance, queue_size, long_window", None),
    ],
)
def test_a_bad_adaptive_limit_is_one_line_naming_file_line_and_key(concurrency: str, line: str, says: str | None):
    text = f"duration = 10.0\n[downstream]\nconcurrency = {concurrency}\n"
    assert problems_in(text) == [line]
    if says is not None:
        assert says in problems_in(text, "ko")[0]


def render(renderable: Any, width: int = 100) -> str:
    console = Console(width=width, color_system=None, record=True, file=open("/dev/null", "w"), theme=theme())
    console.print(renderable)
    return console.export_text()


def test_the_dashboard_charts_the_limit_beside_in_flight_and_the_summary_sums_it_up():
    s = sawtooth(initial=1, decrease=0.5, latency_limit=0.155)
    simulation = Simulation([s])
    recent = watch(simulation)
    result = simulation.run()[0]
    frame = render(final_dashboard(simulation, recent, width=100, height=30)).splitlines()
    row = next(index for index, line in enumerate(frame) if " limit  " in line)
    flight, limit = frame[row - 1].split(), frame[row].split()
    assert flight[-3:-2] == ["flight"] and limit[-3] == "limit"  # in flight, then the limit under it
    assert flight[-1] == limit[-1] == "7"  # one scale, topped by the highest limit
    assert set(limit[-2]) <= set("▁▂▃▄▅▆▇█")
    text = render(summary(result))
    assert "concurrency aimd 1..20" in text
    assert "concurrency limit       adaptive: min 1, time-average 5.07, final 7" in text


def test_theory_says_an_adaptive_limit_has_no_closed_form():
    s = scenario(duration=10.0, downstream={"concurrency": {"adaptive": "aimd"}})
    assert theory_for(s).reason == "adaptive"


# -- lesson (a): AIMD finds the knee --------------------------------------------------------------


def test_lesson_aimd_settles_near_the_knee_with_goodput_close_to_the_best_fixed_semaphore():
    lesson = load_scenario("aimd-knee")
    downstream = lesson.downstream
    knee = math.sqrt((1 - downstream.contention) / downstream.coherency)  # n* = sqrt(0.95 / 0.01) = 9.75
    adaptive = run(lesson)
    assert adaptive.limit is not None
    assert abs(adaptive.limit.mean - knee) / knee < 0.2
    # What `bpsim sweep aimd-knee --param downstream.concurrency=1..20 --metric goodput` finds.
    fixed = {
        n: run(lesson.model_copy(update={"downstream": downstream.model_copy(update={"concurrency": n})})).goodput
        for n in range(1, 21)
    }
    best = max(fixed, key=lambda n: fixed[n] or 0.0)
    assert 7 <= best <= 12  # the best fixed semaphore is near n* too
    assert adaptive.goodput is not None and adaptive.goodput >= 0.8 * (fixed[best] or 0.0)
    assert adaptive.goodput > 1.5 * (fixed[20] or 0.0)  # every worker at once: past the knee


# -- gradient (Netflix's Gradient2) ---------------------------------------------------------------


def test_with_a_constant_service_the_gradient_limit_follows_the_steps_computed_by_hand():
    # The closed loop of the sawtooth: L calls start together and each takes d(L) = 0.1 × (1 +
    # 0.1·(L − 1)) s. smoothing = 1, queue_size = 1, tolerance = 1, long_window = 9 (weight
    # 2 / (9 + 1) = 0.2 after the first 10 calls, whose latencies are averaged plainly). Each call
    # that ends: gradient g = min(1, long / latency), estimate e ← e × g + 1, limit = ⌊e⌋.
    #   0.00–0.10, 1 call of 0.10: long 0.1, g = 1, e = 2                          → limit 2 at 0.10
    #   0.10–0.21, 2 calls of 0.11: long = 0.21 / 2 = 0.105, g = 0.954545, e = 2.909091;
    #              long = 0.32 / 3 = 0.106667, g = 0.969697, e = 3.820937          → limit 3 at 0.21
    #   0.21–0.33, 3 calls of 0.12: long 0.11, g 0.916667, e = 4.502526              → limit 4 at 0.33;
    #              long 0.112, g 0.933333, e = 5.202358                              → limit 5 at 0.33;
    #              long 0.113333, g 0.944444, e = 5.913338 (still 5)
    #   0.33–0.47, 5 calls of 0.14: long 0.117143, g 0.836735, e = 5.947899; long 0.12,
    #              g 0.857143, e = 6.098199                                          → limit 6 at 0.47;
    #              then e = 6.323825, 6.601102, and (long 0.1272 by the weight) 6.997572
    #   0.47–0.62, 6 calls of 0.15: long 0.13176, g 0.8784, e = 7.146667            → limit 7 at 0.62
    changes, _ = limit_changes(
        sawtooth(adaptive="gradient", initial=1, smoothing=1.0, queue_size=1, tolerance=1.0, long_window=9)
    )
    assert changes[:6] == [(0.1, 2), (0.21, 3), (0.33, 4), (0.33, 5), (0.47, 6), (0.62, 7)]


def test_a_steady_latency_grows_the_gradient_limit_until_in_flight_is_under_half_of_it():
    # No noise, no contention: every call takes 0.1 s, so the latency equals the long-term average,
    # g = 1 and each call adds smoothing × queue_size = 0.2 × 4 = 0.8 (Gradient2's drift). With 4
    # workers in flight never passes 4: the estimate stops once 4 < e / 2, the first e above 8
    # (1 + 0.8k for k = 9 is 8.2), and the limit stays at ⌊8.2⌋ = 8.
    s = scenario(
        items=200,
        producer={"rate": "unlimited"},
        workers={"count": 4, "service": {"distribution": "constant", "mean": 0.1}},
        downstream={"concurrency": {"adaptive": "gradient", "initial": 1}},
    )
    changes, result = limit_changes(s)
    assert [limit for _, limit in changes] == [2, 3, 4, 5, 6, 7, 8]
    assert result.limit is not None and result.limit.final == 8


def test_the_gradient_json_is_its_table_with_netflix_defaults_and_the_limit_summary():
    data = run(sawtooth(adaptive="gradient", initial=1, max=3)).to_json()["downstream"]
    assert data["concurrency"] == {
        "adaptive": "gradient", "min": 1, "max": 3, "initial": 1,
        "smoothing": 0.2, "tolerance": 1.5, "queue_size": 4.0, "long_window": 600,
    }
    assert data["limit"]["min"] == 1 and data["limit"]["final"] == 3


def test_the_dashboard_names_the_gradient_limit():
    s = sawtooth(adaptive="gradient", initial=1, max=5)
    s = s.model_copy(update={"downstream": s.downstream.model_copy(update={"contention": 0.0})})  # no service box
    simulation = Simulation([s])
    recent = watch(simulation)
    simulation.run()
    text = render(final_dashboard(simulation, recent, width=100, height=30))
    assert "│ gradient 5 " in text and " limit  " in text  # the box names it, the chart draws it


# -- the throttle's wait is not the downstream's latency ---------------------------------------


def test_waiting_for_the_throttle_is_not_counted_in_the_latency_the_limit_judges():
    # A call holds its permit while it waits for a token (the throttle is inside `async with
    # limiter:`), but its latency is measured from when it is sent: the limit judges the
    # downstream's answer. 20 calls at once, a token every 0.5 s (burst 1), each answer in 0.1 s:
    # calls wait up to 9.5 s for a token, yet every answer takes 0.1 s < latency_limit = 0.2,
    # so nothing is bad and the limit never falls. (Timed from the permit, 19 of them would be.)
    s = scenario(
        items=20,
        producer={"rate": "unlimited"},
        workers={"count": 20, "service": {"distribution": "constant", "mean": 0.1}},
        throttle={"rate": 2.0, "burst": 1},
        downstream={"concurrency": {"adaptive": "aimd", "initial": 10, "latency_limit": 0.2}},
    )
    simulation = Simulation([s])
    result = simulation.run()[0]
    pipeline = simulation.pipelines[0]
    assert pipeline.throttle is not None and pipeline.throttle.waited_seconds > 40
    assert result.limit is not None and result.limit.min == 10
    assert result.duration == pytest.approx(9.6)  # the last token at 9.5 s, its answer 0.1 s later


# -- lesson (a), with gradient: no latency threshold, and it settles above the knee ---------------


def test_lesson_gradient_gets_within_20_percent_of_the_best_fixed_semaphore_but_settles_above_the_knee():
    lesson = load_scenario("gradient-knee")
    downstream = lesson.downstream
    knee = math.sqrt((1 - downstream.contention) / downstream.coherency)  # n* = 9.75
    gradient = run(lesson)
    aimd_knee = run(load_scenario("aimd-knee"))  # the same traffic and service, AIMD's limit
    assert gradient.goodput is not None and aimd_knee.goodput is not None
    # What the lesson says: 5.72/s, against 6.48/s for the best fixed semaphore (9, aimd-knee's
    # test sweeps it) and 4.08/s for every worker at once (20); AIMD, told latency_limit, 6.51/s.
    best_fixed = run(lesson.model_copy(update={"downstream": downstream.model_copy(update={"concurrency": 9})}))
    every_worker = run(lesson.model_copy(update={"downstream": downstream.model_copy(update={"concurrency": 20})}))
    assert round(gradient.goodput, 2) == 5.72 and round(aimd_knee.goodput, 2) == 6.51
    assert round(best_fixed.goodput or 0.0, 2) == 6.48 and round(every_worker.goodput or 0.0, 2) == 4.08
    assert gradient.goodput >= 0.8 * (best_fixed.goodput or 0.0)
    assert gradient.goodput < aimd_knee.goodput
    # It settles above the knee, not near it: time-averaged 14.0, 1.4 × n*, and below 20.
    assert gradient.limit is not None and 1.3 * knee < gradient.limit.mean < 20
    assert round(gradient.limit.mean) == 14
    # "climb to 17 in five seconds, fall back": the peak of the first 6 s, and the first fall.
    changes, _ = limit_changes(lesson)
    first = [(at, limit) for at, limit in changes if at < 6.0]
    assert max(limit for _, limit in first) == 17 and next(at for at, limit in first if limit == 17) < 5.6
    falls = [at for (at, limit), (_, before) in zip(changes[1:], changes) if limit < before]
    assert 5.6 < falls[0] < 5.8  # the lesson's second moment, at 5.7 s
    # "Try ... tolerance=1.2: it settles lower, time-average 12.4"
    stricter = lesson.downstream.concurrency
    assert isinstance(stricter, GradientConcurrency)
    stricter = stricter.model_copy(update={"tolerance": 1.2})
    lower = run(lesson.model_copy(update={"downstream": downstream.model_copy(update={"concurrency": stricter})}))
    assert lower.limit is not None and round(lower.limit.mean, 1) == 12.4
