"""What a dashboard needs from a run's past: its event log, and qsize and in-flight over time.

A watched run makes several events per item and a frame shows a dozen of them, so `History`
hands each event as the raw tuple the pipeline sends, `(type, time, *fields)`, to an `EventLog`,
which keeps the routine ones raw and groups the notable ones (eventlog.py). qsize and in-flight go into `Bins` when they change: the highest
value in each bin of simulated time, for the chart. So do the counts of items handled and
failed, which only grow: the highest value in a bin is the count at its end, and `increments`
gives what each bin added (answers per second for the chart). Bins come from the simulated times of the
changes, never from wall-clock frames, so the chart is the same at every speed and in an export.

Some rows come from the events themselves, as `record` passes them on: the items dropped and
timed out in each bin (`Bins` of their counts). The pipeline records each handled item's latency
in `p99`, the p99 of each bin (`PercentileBins`): over time, not only now.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import math

from bpsim.eventlog import ROUTINE_TYPES, EventLog
from bpsim.events import ItemDropped, ItemTimedOut

__all__ = ["Bins", "PercentileBins", "History", "BREAKER_LEVELS"]

BREAKER_LEVELS = {"closed": 0, "half-open": 1, "open": 2}
"""The breaker's states as numbers for `History.breaker`: the highest in a bin is the worst."""

RawEvent = tuple[Any, ...]
"""An event as the pipeline sends it, `(event_type, at, *fields)`: `event_type(at, *fields)`."""


class Bins:
    """The highest value of one quantity in each bin of simulated time (the last `count` bins)."""

    def __init__(self, seconds_per_bin: float, count: int = 512) -> None:
        self.seconds_per_bin = seconds_per_bin
        self._closed: deque[int] = deque(maxlen=count - 1)
        self._bin = 0
        self._bin_end = seconds_per_bin
        self._high = 0
        """The open bin's highest value so far."""
        self._last = 0
        """The value now: what the next bins start from."""

    def changed(self, at: float, value: int) -> None:
        """The quantity became `value` at simulated time `at` (never earlier than the last change)."""
        if at >= self._bin_end:
            self._open_bin(at)
        self._last = value
        if value > self._high:
            self._high = value

    def values(self, now: float) -> list[int]:
        """One value per bin up to simulated time `now` (bins after the last change repeat it)."""
        missing = max(0, int(now / self.seconds_per_bin) - self._bin)
        return [*self._closed, self._high] + [self._last] * missing

    def increments(self, now: float) -> list[int]:
        """For a count that only grows: how much it grew in each bin up to `now`."""
        values = self.values(now)
        if len(self._closed) == self._closed.maxlen:  # the oldest bins are gone: the first has no base
            return [after - before for before, after in zip(values, values[1:])]
        return [after - before for before, after in zip([0, *values], values)]

    def _open_bin(self, at: float) -> None:
        index = int(at / self.seconds_per_bin)
        # Close the open bin; nothing changed in the skipped ones: each holds the last value.
        skipped = min(index - self._bin, self._closed.maxlen or 0)
        if skipped > 0:
            self._closed.append(self._high)
            self._closed.extend([self._last] * (skipped - 1))
            self._bin = index
            self._high = self._last
        self._bin_end = (self._bin + 1) * self.seconds_per_bin


class PercentileBins:
    """The nearest-rank `p`-th percentile of the values recorded in each bin of simulated time
    (the last `count` bins; None for a bin with no values): the p99 latency per slice.

    Only the open bin's values are kept (values come in time order); a closed bin keeps its
    percentile alone, so memory is one bin's worth of items.
    """

    def __init__(self, seconds_per_bin: float, p: float = 99.0, count: int = 512) -> None:
        self.seconds_per_bin = seconds_per_bin
        self.p = p
        self._closed: deque[float | None] = deque(maxlen=count - 1)
        self._bin = 0
        self._bin_end = seconds_per_bin
        self._values: list[float] = []

    def record(self, at: float, value: float) -> None:
        """A value at simulated time `at` (never earlier than the last one)."""
        if at >= self._bin_end:
            self._open_bin(at)
        self._values.append(value)

    def _open_bin(self, at: float) -> None:
        index = int(at / self.seconds_per_bin)
        if index > self._bin:  # close the open bin; the skipped ones saw no values
            self._closed.append(self._percentile())
            self._closed.extend([None] * min(index - self._bin - 1, self._closed.maxlen or 0))
            self._bin = index
            self._values = []
        self._bin_end = (self._bin + 1) * self.seconds_per_bin

    def values(self, now: float) -> list[float | None]:
        """One percentile per bin up to simulated time `now` (None where nothing was recorded)."""
        missing = max(0, int(now / self.seconds_per_bin) - self._bin)
        return [*self._closed, self._percentile()] + [None] * missing

    def _percentile(self) -> float | None:
        if not self._values:
            return None
        ordered = sorted(self._values)
        return ordered[max(1, math.ceil(self.p / 100 * len(ordered))) - 1]


GAP_BINS = 5
"""Events of one kind further apart than this many bins of the chart make separate log entries."""


class History:
    """The event log of one pipeline, and its qsize, in-flight, handled and failed `Bins`."""

    def __init__(self, seconds_per_bin: float, *, bins: int = 512) -> None:
        self.bins = bins
        self.qsize = Bins(seconds_per_bin, bins)
        self.in_flight = Bins(seconds_per_bin, bins)
        self.handled = Bins(seconds_per_bin, bins)
        """Items handled so far (a count that only grows)."""
        self.late = Bins(seconds_per_bin, bins)
        """Items handled later than the scenario's slo so far."""
        self.failed = Bins(seconds_per_bin, bins)
        """Items failed so far: calls the service answered with a failure."""
        self.first_attempts = Bins(seconds_per_bin, bins)
        """Calls made that were an item's first (a count that only grows)."""
        self.retries = Bins(seconds_per_bin, bins)
        """Calls made that were retries (a count that only grows)."""
        self.breaker = Bins(seconds_per_bin, bins)
        """The circuit breaker's state, as `BREAKER_LEVELS`: the worst in each bin."""
        self.limit: Bins | None = None
        """An adaptive concurrency limit's size, when the pipeline has one (it makes these bins)."""
        self.dropped = Bins(seconds_per_bin, bins)
        """Items dropped so far, for any reason (a count that only grows)."""
        self.timed_out = Bins(seconds_per_bin, bins)
        """Items timed out so far, in queue.put() or in the call (a count that only grows)."""
        self.p99 = PercentileBins(seconds_per_bin, 99.0, bins)
        """The p99 latency (time in the system) of the items handled in each bin."""
        self.log = EventLog(gap=GAP_BINS * seconds_per_bin)
        self._keep_routine = self.log.keep_routine
        self._dropped = self._timed_out = 0

    def record(self, raw: RawEvent) -> None:
        """Keep one raw event, `(event_type, at, *fields)`. The pipeline sends the routine steps
        straight to `log.keep_routine` when nobody else listens, and records each handled
        item's latency in `p99` itself (it has it at hand)."""
        kind = raw[0]
        if kind in ROUTINE_TYPES:
            self._keep_routine(raw)
            return
        if kind is ItemDropped:
            self._dropped += 1
            self.dropped.changed(raw[1], self._dropped)
        elif kind is ItemTimedOut:
            self._timed_out += 1
            self.timed_out.changed(raw[1], self._timed_out)
        self.log.add_notable(raw)

    @property
    def seconds_per_bin(self) -> float:
        """The width of a bin of the chart, in simulated seconds (the same for both quantities)."""
        return self.qsize.seconds_per_bin
