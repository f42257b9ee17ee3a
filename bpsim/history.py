"""What a dashboard needs from a run's past: its event log, and qsize and in-flight over time.

A watched run makes several events per item and a frame shows a dozen of them, so `History`
hands each event as the raw tuple the pipeline sends, `(type, time, *fields)`, to an `EventLog`,
which keeps the routine ones raw and groups the notable ones (eventlog.py). qsize and in-flight go into `Bins` when they change: the highest
value in each bin of simulated time, for the chart. So do the counts of items handled and
failed, which only grow: the highest value in a bin is the count at its end, and `increments`
gives what each bin added (answers per second for the chart). Bins come from the simulated times of the
changes, never from wall-clock frames, so the chart is the same at every speed and in an export.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from bpsim.eventlog import EventLog

__all__ = ["Bins", "History", "BREAKER_LEVELS"]

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
        self.log = EventLog(gap=GAP_BINS * seconds_per_bin)
        self.record = self.log.add
        """Keep one raw event: the pipeline's hot path calls this."""

    @property
    def seconds_per_bin(self) -> float:
        """The width of a bin of the chart, in simulated seconds (the same for both quantities)."""
        return self.qsize.seconds_per_bin
