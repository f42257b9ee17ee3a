"""The pipeline on virtual time: tiny scenarios whose every number is computed by hand."""

from __future__ import annotations

import os
import signal

import pytest

from bpsim.engine import Simulation
from bpsim.events import (
    CallStarted,
    Event,
    ItemAbandoned,
    ItemDropped,
    ItemEnqueued,
    ItemHandled,
    ItemRejected,
    ItemTimedOut,
    ProducerBlocked,
    ProducerState,
    ProducerUnblocked,
    ShutdownCalled,
    WorkerExited,
)
from bpsim.render.trace import describe
from bpsim.scenario import Policy
from tests.helpers import of_type, run_recording, scenario

# Five items put back-to-back at t=0 into maxsize 2; one worker; every call takes 1 s.
FIVE_AT_ONCE = dict(
    items=5,
    producer={"rate": "unlimited"},
    workers={"count": 1, "service": {"distribution": "constant", "mean": 1.0}},
)


def five_at_once(policy: str, **queue: object):
    return scenario(**FIVE_AT_ONCE, queue={"maxsize": 2, "policy": policy, **queue})


def test_block_makes_the_producer_wait_and_loses_nothing():
    result, events = run_recording(five_at_once("block"))
    # Item 2 gets in at t=0 (the worker takes item 0 at once); item 3 waits until the worker
    # takes item 1 at t=1, item 4 until t=2: blocked 0 + 1 + 1 = 2 s. Item k is done at k+1.
    assert result.counts.handled == 5
    assert result.blocked_seconds == pytest.approx(2.0)
    assert [e.at for e in of_type(events, ItemHandled)] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert result.latency.mean == pytest.approx(3.0)
    assert result.latency.max == pytest.approx(5.0)


def test_drop_newest_discards_the_arriving_items():
    result, events = run_recording(five_at_once("drop-newest"))
    dropped = of_type(events, ItemDropped)
    assert [e.item for e in dropped] == [2, 3, 4]
    assert {e.reason for e in dropped} == {"queue-full"}
    assert [e.item for e in of_type(events, ItemHandled)] == [0, 1]
    assert result.blocked_seconds == 0.0


def test_drop_oldest_evicts_the_oldest_queued_item():
    result, events = run_recording(five_at_once("drop-oldest"))
    # The producer runs first: 0 and 1 fill the queue, then 2, 3, 4 each evict the oldest.
    evicted = of_type(events, ItemDropped)
    assert [(e.item, e.admitted) for e in evicted] == [(0, 2), (1, 3), (2, 4)]
    assert describe(evicted[0]) == "item 0 evicted (drop-oldest) to admit item 2"
    assert [e.item for e in of_type(events, ItemHandled)] == [3, 4]
    assert result.counts.dropped_evicted == 3


def test_put_timeout_gives_up_on_a_put_that_waits_too_long():
    result, events = run_recording(five_at_once("block", put_timeout=0.4))
    # Item 2 gets in at t=0; item 3 waits 0.4 s and gives up, then item 4 likewise (t=0.8).
    timed_out = of_type(events, ItemTimedOut)
    assert [(e.item, e.place, e.at) for e in timed_out] == [(3, "put", 0.4), (4, "put", pytest.approx(0.8))]
    assert result.counts.handled == 3
    assert result.blocked_seconds == pytest.approx(0.8)


def test_max_age_skips_items_that_waited_too_long():
    s = scenario(**FIVE_AT_ONCE | {"items": 3}, queue={"max_age": 1.5})
    result, events = run_recording(s)
    # Item 2 is taken at t=2, 2 s after it arrived: older than 1.5 s.
    stale = of_type(events, ItemDropped)
    assert [(e.item, e.reason, e.at) for e in stale] == [(2, "stale", 2.0)]
    assert result.counts.handled == 2


@pytest.mark.parametrize(("timeout", "handled", "timed_out"), [(1.0, 0, 2), (1.5, 2, 0)])
def test_downstream_timeout_cancels_calls_that_take_too_long(timeout, handled, timed_out):
    # A call of exactly the timeout counts as timed out: the deadline was scheduled first.
    s = scenario(**FIVE_AT_ONCE | {"items": 2}, downstream={"timeout": timeout})
    result, events = run_recording(s)
    assert result.counts.handled == handled
    assert result.counts.timed_out_downstream == timed_out
    assert all(e.place == "downstream" for e in of_type(events, ItemTimedOut))


def test_the_semaphore_caps_concurrent_downstream_calls():
    s = scenario(
        items=4,
        producer={"rate": "unlimited"},
        workers={"count": 4, "service": {"distribution": "constant", "mean": 1.0}},
        downstream={"concurrency": 2},
    )
    result, events = run_recording(s)
    assert max(e.in_flight for e in of_type(events, CallStarted)) == 2
    assert result.max_in_flight == 2
    assert [e.at for e in of_type(events, ItemHandled)] == [1.0, 1.0, 2.0, 2.0]


SIX_SLOW = dict(
    items=6,
    producer={"rate": "unlimited"},
    workers={"count": 1, "service": {"distribution": "constant", "mean": 1.0}},
)


def test_graceful_shutdown_handles_every_queued_item():
    result, events = run_recording(scenario(**SIX_SLOW))
    assert result.counts.handled == 6
    assert result.duration == 6.0
    shutdown = of_type(events, ShutdownCalled)
    assert [(s.at, s.immediate) for s in shutdown] == [(6.0, False)]
    assert [e.reason for e in of_type(events, WorkerExited)] == ["QueueShutDown"]


def test_immediate_shutdown_abandons_queued_items_and_cancels_the_current_call():
    result, events = run_recording(scenario(**SIX_SLOW, shutdown={"mode": "immediate", "at": 2.5}))
    # At 2.5 s items 0 and 1 are handled, item 2 is in the worker, items 3-5 are queued.
    counts = result.counts
    assert (counts.handled, counts.abandoned_queued, counts.abandoned_in_worker) == (2, 3, 1)
    assert [(e.item, e.place) for e in of_type(events, ItemAbandoned)] == [
        (3, "queued"),
        (4, "queued"),
        (5, "queued"),
        (2, "in-worker"),
    ]
    assert result.duration == 2.5


def test_a_graceful_deadline_that_passes_becomes_an_immediate_shutdown():
    result, events = run_recording(scenario(**SIX_SLOW, shutdown={"mode": "graceful", "at": 2.5}))
    (shutdown,) = of_type(events, ShutdownCalled)
    assert (shutdown.immediate, shutdown.deadline_passed) == (True, True)
    assert result.counts.abandoned == 4


HANDBOOK_OUTPUT = """\
produce 0 qsize before: 0
enqueued 0 qsize after: 1
produce 1 qsize before: 1
enqueued 1 qsize after: 2
produce 2 qsize before: 2
enqueued 2 qsize after: 1
produce 3 qsize before: 1
enqueued 3 qsize after: 2
produce 4 qsize before: 2
enqueued 4 qsize after: 2
produce 5 qsize before: 2
worker-0 handled 0
worker-1 handled 1
enqueued 5 qsize after: 1
worker-2 handled 2
worker-0 handled 3
worker-1 handled 4
worker-2 handled 5
worker-0 shutdown
worker-1 shutdown
worker-2 shutdown"""
"""What the handbook's example prints on Python 3.13 (producer awaited before queue.join())."""

HANDBOOK_KINDS = ("produce ", "enqueued ", " handled ", " shutdown")


def handbook_lines(events) -> list[str]:
    lines = [describe(e) for e in events]
    return [line for line in lines if any(kind in f" {line} " for kind in HANDBOOK_KINDS) and "(" not in line]


def handbook(**shutdown: object):
    return scenario(
        items=6,
        producer={"rate": "unlimited"},
        queue={"maxsize": 2},
        workers={"count": 3, "service": {"distribution": "constant", "mean": 0.15}},
        downstream={"concurrency": 2},
        shutdown=shutdown,
    )


def test_the_handbook_example_prints_what_the_handbook_prints():
    result, events = run_recording(handbook())
    assert handbook_lines(events) == HANDBOOK_OUTPUT.splitlines()
    assert result.counts.handled == 6


def test_the_printed_handbook_example_shuts_the_queue_down_before_the_producer_runs():
    result, events = run_recording(handbook(await_producer=False))
    # As on Python 3.13: join() returns at once, shutdown() runs, the first put raises
    # QueueShutDown, and every worker's first get() does too.
    assert handbook_lines(events) == [
        "produce 0 qsize before: 0",
        "worker-0 shutdown",
        "worker-1 shutdown",
        "worker-2 shutdown",
    ]
    assert (result.counts.produced, result.counts.rejected_at_shutdown) == (1, 1)


BURSTY = dict(
    seed=3,
    duration=20.0,
    producer={"rate": 30.0, "bursts": [{"at": 5.0, "duration": 2.0, "rate": 200.0}]},
    workers={"count": 4, "service": {"distribution": "exponential", "mean": 0.1}},
    downstream={"concurrency": 3, "timeout": 0.3},
)


@pytest.mark.parametrize("policy", list(Policy))
def test_every_item_ends_in_exactly_one_state_and_the_limits_hold(policy):
    s = scenario(**BURSTY, queue={"maxsize": 8, "policy": policy.value, "max_age": 1.0})
    result, events = run_recording(s)
    counts = result.counts
    assert counts.in_progress == 0
    assert counts.finished == counts.produced > 0
    assert max(e.qsize for e in of_type(events, ItemEnqueued)) <= 8
    assert max(e.in_flight for e in of_type(events, CallStarted)) <= 3
    ended = [e.item for e in events if isinstance(e, ItemHandled | ItemDropped | ItemTimedOut)]
    assert len(ended) == len(set(ended)) == counts.produced


def test_the_same_seed_gives_the_same_run():
    s = scenario(**BURSTY, queue={"maxsize": 8, "policy": "drop-oldest"})
    first, first_events = run_recording(s)
    second, second_events = run_recording(s)
    assert first_events == second_events
    assert first.to_json() == second.to_json()


def test_an_item_blocked_in_put_when_the_deadline_passes_is_rejected():
    # Items 0, 1, 2 arrive at t=0 into maxsize 1 with one 1-second worker: the worker takes 0,
    # 1 waits in the queue, 2 waits in put. The shutdown at t=1 ends all three.
    s = scenario(**FIVE_AT_ONCE | {"items": 3}, queue={"maxsize": 1}, shutdown={"mode": "immediate", "at": 1.0})
    result, _ = run_recording(s)
    counts = result.counts
    assert (counts.abandoned_in_worker, counts.abandoned_queued, counts.rejected_at_shutdown) == (1, 1, 1)
    assert counts.in_progress == 0


def test_a_put_that_ends_without_the_item_never_says_the_item_got_in():
    # "producer unblocked: item 3 got in" is only for a put that succeeded; a put that timed out
    # or was ended by the shutdown is told by the item's fate, the very next event.
    timed_out = run_recording(five_at_once("block", put_timeout=0.4))[1]
    shut_down = run_recording(
        scenario(**FIVE_AT_ONCE | {"items": 3}, queue={"maxsize": 1}, shutdown={"mode": "immediate", "at": 1.0})
    )[1]
    for events, fate in ((timed_out, ItemTimedOut), (shut_down, ItemRejected)):
        for blocked in of_type(events, ProducerBlocked):
            after = next(e for e in events[events.index(blocked) + 1 :] if getattr(e, "item", None) == blocked.item)
            assert isinstance(after, ProducerUnblocked | fate), after
    assert [e.item for e in of_type(timed_out, ProducerUnblocked)] == [2]


def test_a_run_stopped_while_the_producer_waits_in_put_shows_it_still_blocked():
    simulation = Simulation([five_at_once("block")])

    def stop_at_the_first_handled(event: Event) -> None:
        if isinstance(event, ItemHandled) and event.item == 0:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, mid-run

    simulation.subscribe(stop_at_the_first_handled)
    with pytest.raises(KeyboardInterrupt):
        simulation.run()
    snapshot = simulation.pipelines[0].snapshot()
    assert snapshot.producer is ProducerState.BLOCKED
    assert simulation.results()[0].blocked_seconds == pytest.approx(1.0)
