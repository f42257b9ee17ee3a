"""The accounting of one run: where every item ended, and the time-weighted queue statistics.

The pipeline calls the ledger directly (it is on the hot path, so no event objects are built for
it). Memory is bounded: counters, running integrals and `LatencyStats`.
"""

from __future__ import annotations

from bpsim.history import Bins
from bpsim.outcomes import HANDLED, KEYS, Counts, FailReason
from bpsim.stats import LatencyStats

__all__ = ["Ledger"]


class Ledger:
    """Counts by end state, qsize over time, producer blocked time, latency and queue wait."""

    def __init__(self, slo: float | None = None) -> None:
        self.slo = slo
        """The scenario's latency objective, if any: a handled item slower than it is late."""
        self.late = 0
        """Handled items whose latency exceeded `slo` (the pipeline counts them)."""
        self.produced = 0
        self.never_sent = 0
        """Items due while the producer was stuck in a put, never offered: it stopped at the shutdown."""
        self.handled = 0
        """Counted apart from `ended`: one attribute to add 1 to, for every item that gets through."""
        self.ended: dict[str, int] = {key: 0 for key in KEYS if key != HANDLED.name}
        """Items per end reason (`outcomes.KEYS`: a `Reason`, or an outcome without reasons), but
        handled. The pipeline adds to it directly: `ledger.ended[DropReason.STALE] += 1`."""
        self.latency = LatencyStats()
        """From the item's scheduled arrival to the end of its call: blocked time counts."""
        self.queue_wait = LatencyStats()
        """From the item's scheduled arrival until a worker took it from the queue."""
        self.max_qsize = 0
        self.max_in_flight = 0
        self.blocked_seconds = 0.0
        self._qsize = 0
        self._qsize_since = 0.0
        self._qsize_area = 0.0
        self._blocked_since: float | None = None
        self.entered_queue = 0
        """Items put in the queue (admitted by the policy)."""
        self._time_in_queue = 0.0
        self.qsize_bins: Bins | None = None
        """qsize over time for a dashboard's chart, when one is watching (`Pipeline.keep_history`)."""

    def qsize_changed(self, now: float, qsize: int) -> None:
        self._qsize_area += self._qsize * (now - self._qsize_since)
        self._qsize, self._qsize_since = qsize, now
        if qsize > self.max_qsize:
            self.max_qsize = qsize
        if self.qsize_bins is not None:
            self.qsize_bins.changed(now, qsize)

    def enqueued(self, now: float, qsize: int) -> None:
        """An item entered the queue, which now holds `qsize` items."""
        self.entered_queue += 1
        self._time_in_queue -= now  # each item adds (time it left) - (time it entered)
        self.qsize_changed(now, qsize)

    def dequeued(self, now: float, qsize: int) -> None:
        """A worker took an item from the queue, which now holds `qsize` items."""
        self._time_in_queue += now
        self.qsize_changed(now, qsize)

    def left_queue(self, now: float) -> None:
        """An item left the queue without a worker: evicted, or abandoned at shutdown."""
        self._time_in_queue += now

    def time_in_queue(self, now: float) -> float:
        """Seconds spent in the queue up to `now`, summed over the items that entered it.

        Counted item by item, apart from the qsize integral behind `mean_qsize`: Little's law
        says they agree (`theory.littles_law`), whatever the policy.
        """
        return self._time_in_queue + self._qsize * now  # the items still queued: up to now

    def mean_qsize(self, now: float) -> float:
        """Time-average of qsize from 0 to `now`."""
        if now <= 0:
            return float(self._qsize)
        return (self._qsize_area + self._qsize * (now - self._qsize_since)) / now

    def producer_blocked(self, now: float) -> None:
        self._blocked_since = now

    def producer_unblocked(self, now: float) -> float:
        """Record the end of a blocked put; returns how long it waited."""
        assert self._blocked_since is not None
        waited = now - self._blocked_since
        self.blocked_seconds += waited
        self._blocked_since = None
        return waited

    def blocked_so_far(self, now: float) -> float:
        """Total blocked time including a put still waiting at `now`."""
        ongoing = 0.0 if self._blocked_since is None else now - self._blocked_since
        return self.blocked_seconds + ongoing

    def end(self, key: str) -> None:
        """One item ended: `key` is its reason, or the name of an outcome without reasons."""
        self.ended[key] += 1

    def failed(self, reason: FailReason) -> None:
        """One item's call failed, or was refused, for `reason`."""
        self.ended[reason] += 1

    def counts(self) -> Counts:
        on_time = self.handled - self.late if self.slo is not None else None
        return Counts(self.produced, self.ended | {HANDLED.name: self.handled}, self.never_sent, on_time)
