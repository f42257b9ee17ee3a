"""History: the event log and the chart's bins a dashboard reads, kept cheaply while a run goes."""

from __future__ import annotations

from bpsim.engine import Simulation
from bpsim.events import Event
from bpsim.eventlog import ROUTINE, EventLog
from bpsim.history import Bins, History
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
