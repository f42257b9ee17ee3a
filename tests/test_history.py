"""History: the event log and the chart's bins a dashboard reads, kept cheaply while a run goes."""

from __future__ import annotations

from bpsim.engine import Simulation
from bpsim.events import Event
from bpsim.eventlog import ROUTINE, EventLog
from bpsim.history import Bins, History, PercentileBins
from tests.helpers import scenario

BURSTY = dict(
    seed=3,
    items=120,
    producer={"rate": 8.0},
    queue={"maxsize": 5, "policy": "drop-oldest"},
    workers={"count": 2, "service": {"distribution": "exponential", "mean": 0.4}},
)


def test_the_history_logs_every_event_exactly_as_an_observer_got_them():
    simulation = Simulation([scenario(**BURSTY)])
    observed: list[Event] = []
    simulation.subscribe(observed.append)
    history = History(1.0)
    simulation.pipelines[0].keep_history(history)
    simulation.run()
    assert history.log.routine(20) == [event for event in observed if isinstance(event, ROUTINE)][-20:]
    # The same events, logged straight from the objects, make the same entries.
    again = EventLog.of(observed, history.log.gap)
    assert [(e.kind, e.first, e.last, e.count) for e in history.log.entries()] == [
        (e.kind, e.first, e.last, e.count) for e in again.entries()
    ]


def test_each_bin_holds_the_highest_value_and_skipped_bins_repeat_the_last_one():
    bins = Bins(seconds_per_bin=1.0)
    bins.changed(0.1, 3)
    bins.changed(0.2, 1)  # bin 0: 3 was its highest
    bins.changed(2.5, 2)  # bin 1 saw no change: it held 1 all along; bin 2 rose from 1 to 2
    assert bins.values(now=3.2) == [3, 1, 2, 2]  # bin 3: nothing changed yet, still 2


def test_bins_are_bounded_to_the_most_recent_ones():
    bins = Bins(seconds_per_bin=1.0, count=4)
    for second in range(10):
        bins.changed(second + 0.5, second)
    assert bins.values(now=9.5) == [6, 7, 8, 9]


def test_the_chart_bins_agree_with_the_ledger():
    simulation = Simulation([scenario(**BURSTY)])
    history = History(0.5)
    simulation.pipelines[0].keep_history(history)
    simulation.run()
    result = simulation.results()[0]
    assert max(history.qsize.values(simulation.now)) == result.max_qsize == 5
    assert max(history.in_flight.values(simulation.now)) == result.max_in_flight == 2
    later = simulation.now + 1.0  # the bins after the end hold the end's values: all done
    assert history.qsize.values(later)[-1] == 0 and history.in_flight.values(later)[-1] == 0


def test_each_bin_holds_the_nearest_rank_p99_of_its_own_values():
    p99 = PercentileBins(seconds_per_bin=1.0)
    for value in range(1, 101):  # 100 values in bin 0: the 99th smallest is 99 (rank ceil(0.99 * 100))
        p99.record(0.5, float(value))
    p99.record(1.2, 7.0)  # bin 1: one value, its own p99
    p99.record(3.9, 2.0)  # bin 2: nothing handled; bin 3: 2.0 so far
    assert p99.values(now=4.5) == [99.0, 7.0, None, 2.0, None]


def test_percentile_bins_keep_only_the_most_recent_ones():
    p99 = PercentileBins(seconds_per_bin=1.0, count=3)
    for second in range(6):
        p99.record(second + 0.5, float(second))
    assert p99.values(now=5.5) == [3.0, 4.0, 5.0]


def test_drops_timeouts_and_p99_per_slice_agree_with_the_results():
    s = scenario(**BURSTY | {"downstream": {"timeout": 0.6}})
    simulation = Simulation([s])
    history = History(0.5)
    simulation.pipelines[0].keep_history(history)
    simulation.run()
    (result,) = simulation.results()
    now = simulation.now
    assert sum(history.dropped.increments(now)) == result.counts.dropped > 0
    assert sum(history.timed_out.increments(now)) == result.counts.timed_out > 0
    # No slice's p99 is above the slowest item of the run, and the worst slice reaches the run's
    # p99: were every slice's 1% slowest all faster than it, the run's 1% slowest would be too.
    slices = [value for value in history.p99.values(now) if value is not None]
    assert max(slices) <= result.latency.max
    assert max(slices) >= result.latency.p99


def test_handled_one_is_handled_changed_and_p99_record_together():
    one, two = History(1.0), History(1.0)
    for count, (at, latency) in enumerate([(0.2, 0.5), (0.7, 0.1), (2.5, 0.3), (2.6, 0.9)], start=1):
        one.handled_one(at, count, latency)
        two.handled.changed(at, count)
        two.p99.record(at, latency)
    assert one.handled.values(4.0) == two.handled.values(4.0) == [2, 2, 4, 4, 4]
    assert one.p99.values(4.0) == two.p99.values(4.0) == [0.5, None, 0.9, None, None]
