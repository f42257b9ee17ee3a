"""The adaptive concurrency limit (bpsim/adaptive.py): the AIMD rule checked by hand, the semaphore
it is, its JSON and dashboard, bad keys, and lesson (a): AIMD finds the knee of a contended service."""

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
from bpsim.scenario import AdaptiveConcurrency, Scenario
from bpsim.theory import theory_for
from tests.helpers import problems_in, scenario


def aimd(**settings: Any) -> AdaptiveConcurrency:
    return AdaptiveConcurrency.model_validate({"adaptive": "aimd", **settings})


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
        ('{ adaptive = "vegas" }', "bad.toml:3: downstream.concurrency.adaptive: must be 'aimd', not 'vegas'", None),
        ('{ adaptive = "aimd", mx = 4 }', "bad.toml:3: downstream.concurrency.mx: unknown key; did you mean 'max'?", None),
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
