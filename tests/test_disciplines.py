"""Queue disciplines (bpsim/disciplines.py): LIFO, CoDel's control law checked by hand, adaptive
LIFO, bad keys, and lesson (b): CoDel keeps a standing queue's wait near its target."""

from __future__ import annotations

from typing import Any

import pytest

from bpsim.compat import LifoQueue, Queue, QueueShutDown, SimulationQueue
from bpsim.engine import Simulation, run
from bpsim.events import ItemDequeued, ItemDropped
from bpsim.loader import load_scenario
from bpsim.render.trace import describe
from bpsim.scenario import Scenario
from tests.helpers import problems_in, of_type, run_recording, scenario


def backlog(discipline: str, items: int = 60, **queue: Any) -> Scenario:
    # Every item is due at t = 0; one worker takes one every 0.125 s (exact in binary floats).
    return scenario(
        items=items,
        producer={"rate": "unlimited"},
        workers={"count": 1, "service": {"distribution": "constant", "mean": 0.125}},
        queue={"discipline": discipline, **queue},
    )


# -- CoDel -----------------------------------------------------------------------------------------


def test_codel_drop_times_follow_the_control_law_computed_by_hand():
    # target 0.05 s, interval 1 s. Item k is taken at k/8 s after waiting k/8 s. Item 0 waited 0;
    # item 1 (0.125 s) is the first above target: the wait must stay above until 1.125 s. Then:
    #   1.125  item 9 dropped, dropping begins: count 1, next drop due 1.125 + 1/√1 = 2.125
    #          (the item after it, taken at the same instant, is served, as in RFC 8289)
    #   2.125  item 18 dropped, count 2; next due 2.125 + 1/√2 = 2.8321 -> the first take at or
    #          after it is at 2.875: item 25 dropped, count 3; next due 2.8321 + 1/√3 = 3.4095
    #   3.5    item 31 (count 4), next due 3.4095 + 1/√4 = 3.9095
    #   4.0    item 36 (count 5), next due 3.9095 + 1/√5 = 4.3567
    #   4.375  item 40 (count 6), next due 4.3567 + 1/√6 = 4.7649
    #   4.875  item 45 (count 7), next due 4.7649 + 1/√7 = 5.1429
    #   5.25   item 49 (count 8), next due 5.1429 + 1/√8 = 5.4964
    #   5.5    item 52 (count 9), next due 5.4964 + 1/√9 = 5.8298
    #   5.875  item 56
    result, events = run_recording(backlog("codel", codel={"target": 0.05, "interval": 1.0}))
    drops = of_type(events, ItemDropped)
    assert [(d.at, d.item) for d in drops] == [
        (1.125, 9), (2.125, 18), (2.875, 25), (3.5, 31), (4.0, 36),
        (4.375, 40), (4.875, 45), (5.25, 49), (5.5, 52), (5.875, 56),
    ]
    assert result.counts.dropped_codel == 10 and result.counts.handled == 50
    assert describe(drops[0]).startswith("item 9 dropped by CoDel")


def test_codel_never_drops_the_last_queued_item():
    # target 0.5 s, interval 1 s: item 4 is the first to wait 0.5 s (at 0.5 s), and item 12, taken
    # at 1.5 s, is the first that may be dropped. With 14 items it is; with 13 it is the last one
    # queued when it is taken, and RFC 8289 never drops the last packet.
    drops = of_type(run_recording(backlog("codel", items=14, codel={"target": 0.5, "interval": 1.0}))[1], ItemDropped)
    assert [(d.at, d.item) for d in drops] == [(1.5, 12)]
    result, events = run_recording(backlog("codel", items=13, codel={"target": 0.5, "interval": 1.0}))
    assert of_type(events, ItemDropped) == [] and result.counts.handled == 13


# -- LIFO and adaptive LIFO ------------------------------------------------------------------------


def served(discipline: str, items: int = 8, **queue: Any) -> list[int]:
    _, events = run_recording(backlog(discipline, items=items, **queue))
    return [e.item for e in of_type(events, ItemDequeued)]


def test_lifo_serves_newest_first_and_fifo_oldest_first():
    assert served("fifo") == [0, 1, 2, 3, 4, 5, 6, 7]
    assert served("lifo") == [7, 6, 5, 4, 3, 2, 1, 0]  # all 8 were put before the worker took one


def test_the_queue_classes_are_asyncios_own_and_fifo_is_todays():
    # asyncio's Queue (on 3.11 and 3.12 the backport's, with 3.13's put_nowait and get_nowait)
    assert type(Simulation([backlog("fifo")]).pipelines[0].queue) is SimulationQueue
    assert issubclass(SimulationQueue, Queue)
    assert type(Simulation([backlog("lifo")]).pipelines[0].queue) is LifoQueue
    assert issubclass(LifoQueue, Queue)  # so shutdown(), join() and maxsize are Queue's
    lifo: LifoQueue[int] = LifoQueue()
    lifo.put_nowait(1)
    lifo.shutdown()
    with pytest.raises(QueueShutDown):
        lifo.put_nowait(2)
    assert lifo.get_nowait() == 1


def test_adaptive_lifo_serves_oldest_first_until_the_queue_stands_then_newest_first():
    # target 0.2 s, interval 0.5 s: the oldest item's wait passes 0.2 s at 0.25 s (item 2) and
    # has stood above it for 0.5 s at 0.75 s: from then on, newest first.
    order = served("adaptive-lifo", items=12, codel={"target": 0.2, "interval": 0.5})
    assert order == [0, 1, 2, 3, 4, 5, 11, 10, 9, 8, 7, 6]


@pytest.mark.parametrize("discipline", ["lifo", "codel", "adaptive-lifo"])
@pytest.mark.parametrize("mode", ["graceful", "immediate"])
def test_every_item_is_accounted_for_under_every_discipline_and_shutdown(discipline: str, mode: str):
    s = scenario(
        duration=20.0,
        producer={"rate": 14.0},
        queue={"maxsize": 30, "discipline": discipline, "codel": {"target": 0.2, "interval": 0.5}},
        workers={"count": 2, "service": {"distribution": "exponential", "mean": 0.2}},
        shutdown={"mode": mode, "at": 15.0},
    )
    result = run(s)
    counts = result.counts
    assert counts.finished == counts.produced and counts.unfinished == 0
    assert result.completed


# -- what the user sees ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("queue", "line", "says"),
    [
        ('discipline = "lifo"\npolicy = "drop-oldest"',
         "bad.toml:2: queue: drop-oldest evicts with get_nowait(), which takes the newest item from a \"lifo\" queue; "
         "use block or drop-newest with it", "가장 새 item"),
        ('discipline = "fifi"', "bad.toml:3: queue.discipline: must be 'fifo', 'lifo', 'codel' or 'adaptive-lifo', not 'fifi'", None),
        ('discipline = "codel"\ncodel = { target = -1 }', "bad.toml:4: queue.codel.target: must be greater than 0, not -1", None),
        ('codel = { targt = 1 }', "bad.toml:3: queue.codel.targt: unknown key; did you mean 'target'?", None),
    ],
)
def test_a_bad_discipline_is_one_line_naming_file_line_and_key(queue: str, line: str, says: str | None):
    text = f"duration = 10.0\n[queue]\n{queue}\n"
    assert problems_in(text) == [line]
    if says is not None:
        assert says in problems_in(text, "ko")[0]


def test_the_json_counts_codel_drops_under_dropped():
    data = run(backlog("codel", codel={"target": 0.05, "interval": 1.0})).to_json()
    assert data["items"]["dropped"] == 10
    assert data["items"]["dropped_by_reason"] == {"queue-full": 0, "evicted": 0, "stale": 0, "codel": 10}


# -- lesson (b): CoDel against a standing queue ----------------------------------------------------


def test_lesson_codel_keeps_the_wait_near_its_target_while_fifos_grows():
    lesson = load_scenario("codel-standing")
    target = lesson.queue.codel_settings.target  # 0.5 s

    def waits(discipline: str, duration: float) -> float:
        s = lesson.model_copy(
            update={"duration": duration, "queue": lesson.queue.model_copy(update={"discipline": discipline})}
        )
        return run(s).queue_wait.mean

    codel_half, codel = waits("codel", 30.0), waits("codel", 60.0)
    fifo_half, fifo = waits("fifo", 30.0), waits("fifo", 60.0)
    assert codel < 2.5 * target  # 1.07 s against a 0.5 s target
    assert codel <= codel_half  # and it does not grow with the run (1.27 s over 30 s)
    assert fifo > 10 * target  # 8.5 s
    assert fifo > 1.5 * fifo_half  # FIFO's grows the longer the run
    result = run(lesson)
    # It drops the excess: 12 arrive per second, 10 are served: about 2 in 12.
    assert 0.15 < result.counts.dropped_codel / result.counts.produced < 0.3


# -- lesson (c): adaptive LIFO keeps fresh requests fast through a backlog -------------------------


def test_lesson_adaptive_lifo_keeps_fresh_requests_fast_at_the_cost_of_the_old_ones():
    lesson = load_scenario("adaptive-lifo")
    fifo = run(lesson.model_copy(update={"queue": lesson.queue.model_copy(update={"discipline": "fifo"})}))
    adaptive = run(lesson)
    assert adaptive.counts.handled == fifo.counts.handled == 607  # nothing dropped: only the order changed
    assert adaptive.latency.p50 < 0.1 * fifo.latency.p50  # "0.6 s" against "8.6 s"
    assert adaptive.latency.p99 > 3 * fifo.latency.p99  # "55 s" against "12.8 s"
    on_time = adaptive.counts.handled_on_time, fifo.counts.handled_on_time
    assert on_time == (405, 60)  # within the 1 s slo
