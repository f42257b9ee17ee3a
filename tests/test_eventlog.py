"""The event log: repeats fold into one line with exact counts; the shutdown and the first of each kind stay."""

from __future__ import annotations

import pytest

from bpsim.engine import Simulation
from bpsim.eventlog import Entry, EventLog
from bpsim.events import (
    AbandonPlace,
    DropReason,
    Event,
    ItemAbandoned,
    ItemDropped,
    ItemEnqueued,
    ItemTimedOut,
    ProducerBlocked,
    ProducerUnblocked,
    ShutdownCalled,
    TimeoutPlace,
    WorkerExited,
)
from bpsim.i18n import set_language
from bpsim.render.live import watch
from bpsim.render.trace import describe_entry
from tests.helpers import scenario


def words(log: EventLog, count: int = 10, routine: bool = True) -> list[str]:
    return [describe_entry(line) if isinstance(line, Entry) else type(line).__name__ for line in log.pick(count, routine)]


def blocking_burst(pairs: int, start: float = 4.0, wait: float = 0.1) -> list[Event]:
    """`pairs` puts that block on a full queue and get in `wait` seconds later, back to back."""
    events: list[Event] = []
    for index in range(pairs):
        at = start + index * wait
        events += [ProducerBlocked(at, 100 + index, 12, 12), ProducerUnblocked(at + wait, 100 + index, wait)]
    return events


def immediate_shutdown(at: float, queued: range) -> list[Event]:
    return [ShutdownCalled(at, immediate=True, qsize=len(queued))] + [
        ItemAbandoned(at, item, AbandonPlace.QUEUED, in_call=False) for item in queued
    ]


def test_a_blocking_burst_is_one_line_with_the_count_and_the_total_wait():
    log = EventLog.of(blocking_burst(23), gap=1.0)
    (entry,) = log.entries()
    assert (entry.count, entry.blocked) == (23, False)
    assert entry.waited == pytest.approx(23 * 0.1)  # 23 puts of 0.1 s each: 2.3 s
    assert words(log) == ["producer blocked ×23 in queue.put(), waited 2.30 s (queue full, 12)"]


def test_a_put_still_waiting_is_counted_and_named():
    log = EventLog.of([*blocking_burst(3), ProducerBlocked(4.3, 103, 12, 12)], gap=1.0)
    assert words(log) == ["producer blocked ×4 in queue.put(), waited 0.30 s; item 103 waiting"]
    lone = EventLog.of([ProducerBlocked(4.0, 7, 12, 12)], gap=1.0)
    assert words(lone) == ["producer blocked: queue full (12/12), item 7 waits in queue.put()"]


def test_an_unblock_joins_its_block_however_long_the_put_waited():
    log = EventLog.of([ProducerBlocked(4.0, 7, 12, 12), ProducerUnblocked(9.0, 7, 5.0)], gap=1.0)
    (entry,) = log.entries()
    assert (entry.count, entry.waited, entry.blocked) == (1, 5.0, False)


def test_an_immediate_shutdown_is_one_line_and_its_abandoned_items_another():
    # 49 queued items abandoned at once used to fill the log and push the shutdown line out.
    log = EventLog.of(immediate_shutdown(12.0, range(311, 360)), gap=1.0)
    assert words(log) == [
        "immediate shutdown at 12 s, 49 queued items abandoned: queue.shutdown(immediate=True)",
        "item 311–359 (49) abandoned: still queued at shutdown(immediate=True)",
    ]


def test_the_shutdown_stays_pinned_however_many_events_follow():
    after = [ItemTimedOut(12.0 + index * 2.0, index, TimeoutPlace.DOWNSTREAM, "worker-0") for index in range(150)]
    log = EventLog.of([*immediate_shutdown(12.0, range(3)), *after], gap=1.0)  # 150 separate entries
    lines = log.pick(4)
    assert isinstance(lines[0], Entry) and lines[0] is log.shutdown
    assert len(lines) == 4 and lines[-1].first == after[-1]  # type: ignore[union-attr]


def test_the_first_of_each_kind_stays_while_the_latest_fill_the_rest():
    first_drop = ItemDropped(1.0, 5, DropReason.QUEUE_FULL)
    later = [ItemTimedOut(10.0 + index * 2.0, index, TimeoutPlace.DOWNSTREAM, "worker-0") for index in range(120)]
    log = EventLog.of([first_drop, *later], gap=1.0)
    assert first_drop not in [entry.first for entry in log.entries()]  # long gone from the latest
    lines = log.pick(6)
    firsts = [line.first for line in lines]  # type: ignore[union-attr]
    # Oldest first: the first drop, then the first timeout (pinned), then the four latest timeouts.
    assert firsts == [first_drop, later[0], *later[-4:]]


def test_events_further_apart_than_the_gap_are_separate_lines():
    log = EventLog.of([*blocking_burst(5, start=4.0), *blocking_burst(5, start=20.0)], gap=2.0)
    assert [entry.count for entry in log.entries()] == [5, 5]
    assert [entry.start for entry in log.entries()] == [4.0, 20.0]


def test_kinds_interleaved_in_time_still_group_each_with_its_own():
    events: list[Event] = []
    for index in range(10):
        events += [ItemDropped(1.0 + index * 0.1, index, DropReason.QUEUE_FULL)]
        events += [ItemTimedOut(1.05 + index * 0.1, 100 + index, TimeoutPlace.DOWNSTREAM, f"worker-{index % 2}")]
    assert words(EventLog.of(events, gap=1.0)) == [
        "item 0–9 (10) dropped: queue full (drop-newest)",
        "item 100–109 (10) timed out in the downstream call (2 workers)",
    ]


def test_routine_events_only_fill_the_room_left_and_never_in_the_compare_view():
    routine = [ItemEnqueued(0.1 * index, index, 1) for index in range(20)]
    log = EventLog.of([*routine, *blocking_burst(2, start=1.0)], gap=1.0)
    # The last three routine events (1.7, 1.8, 1.9 s) come after the blocking that began at 1.0 s.
    assert words(log, 4) == ["producer blocked ×2 in queue.put(), waited 0.20 s (queue full, 12)", *["ItemEnqueued"] * 3]
    assert words(log, 4, routine=False) == ["producer blocked ×2 in queue.put(), waited 0.20 s (queue full, 12)"]


def test_workers_exiting_together_are_counted():
    exits = [WorkerExited(30.0, f"worker-{index}", "QueueShutDown") for index in range(4)]
    assert words(EventLog.of(exits, gap=1.0)) == ["4 workers shutdown"]
    assert words(EventLog.of(exits[:1], gap=1.0)) == ["worker-0 shutdown"]  # the handbook's line


def test_groups_speak_korean():
    set_language("ko")
    log = EventLog.of([*blocking_burst(3), *immediate_shutdown(12.0, range(10, 20))], gap=1.0)
    assert words(log) == [
        "producer 대기 ×3 (queue.put()), 모두 0.30초 기다림 (큐가 가득 참, 12)",
        "12초에 즉시 종료, 큐에 남은 10개 폐기: queue.shutdown(immediate=True)",
        "item 10–19 (10개) 폐기: shutdown(immediate=True) 시점에 큐에 남아 있었음",
    ]


def test_a_real_run_logs_exact_counts_that_match_its_results():
    # graceful-vs-immediate with an immediate shutdown at 12 s: the lesson says about 47 queued
    # and 2 in-worker items abandoned; the log's lines add up to the result's counts.
    s = scenario(
        seed=6,
        duration=10.0,
        producer={"rate": 16.0, "arrivals": "poisson"},
        queue={"maxsize": 100, "policy": "block"},
        workers={"count": 2, "service": {"distribution": "exponential", "mean": 0.2}},
        shutdown={"mode": "immediate", "at": 12.0},
    )
    simulation = Simulation([s])
    recent = watch(simulation)
    simulation.run()
    (result,) = simulation.results()
    log = recent.log
    abandoned = {entry.kind: entry.count for entry in log.entries() if entry.kind and entry.kind.startswith("abandoned")}
    assert sum(abandoned.values()) == result.counts.abandoned == 49
    assert abandoned == {"abandoned.queued": 47, "abandoned.worker": 2}
    assert log.shutdown is not None and any(line is log.shutdown for line in log.pick(3))


@pytest.mark.parametrize("shutdown", [{"mode": "graceful"}, {"mode": "immediate", "at": 5.0}])
def test_the_blocked_lines_wait_adds_up_to_the_results_time_blocked(shutdown):
    # Every put of one long blocking run is one line; its total is the summary's "blocked", the
    # put a shutdown cut short included.
    s = scenario(
        seed=7,
        duration=10.0,
        producer={"rate": 20.0, "bursts": [{"at": 4.0, "duration": 2.0, "rate": 100.0}]},
        queue={"maxsize": 12, "policy": "block"},
        workers={"count": 4, "service": {"distribution": "exponential", "mean": 0.12}},
        downstream={"concurrency": 3},
        shutdown=shutdown,
    )
    simulation = Simulation([s])
    recent = watch(simulation)
    simulation.run()
    (result,) = simulation.results()
    blocked = [entry for entry in recent.log.entries() if entry.kind == "blocked"]
    assert len(blocked) == 1 and not blocked[0].blocked
    assert blocked[0].waited == pytest.approx(result.blocked_seconds)
