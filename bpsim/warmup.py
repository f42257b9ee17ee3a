"""`--warmup S`: measure a run from simulated second S on, leaving out how it started.

A queue that starts empty is not yet in its steady state: the first seconds have shorter waits
and fewer drops than the rest. Compare and sweep can discard them. At S the engine opens a
`Window` on each pipeline's ledger: it notes the ledger's totals at that instant, and from then
on every latency and queue wait is recorded twice, in the run's statistics and in the window's.
At the end the window's figures are the totals' differences:

- items: those that had not ended by S (the ones in the pipeline at S, and every one produced
  after), each counted in the outcome it ended in after S, or unfinished, so they still add up;
- latency and queue wait: the items handled (taken) after S;
- producer blocked: blocked time after S; mean qsize: the time-average over [S, end];
- throughput (and goodput): items handled after S per second of the window.

Maxima (max qsize, max in flight) and the totals of the service, retries, breaker and throttle
stay those of the whole run. The run itself is unchanged: the same events at the same instants.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bpsim.errors import WarmupTooLong
from bpsim.events import Counts
from bpsim.ledger import Ledger
from bpsim.stats import LatencyStats

if TYPE_CHECKING:  # the engine imports this module
    from bpsim.engine import RunResult
    from bpsim.scenario import Scenario

__all__ = ["Window", "check_warmup", "open_window", "measured"]


def check_warmup(warmup: float | None, scenarios: Iterable[Scenario]) -> None:
    """Refuse a warm-up that leaves nothing to measure: as long as a run's production, or longer.

    The command line and the Python API (`bpsim.run`, `compare`, `sweep`) both call this, so
    `warmup=30` on a 30-second scenario fails with the words `--warmup 30` fails with.
    """
    from bpsim.i18n import t

    if warmup is None:
        return
    if isinstance(warmup, bool) or not isinstance(warmup, int | float) or not warmup >= 0:  # NaN fails >= 0
        raise WarmupTooLong(t("errors.warmup.not_seconds", warmup=warmup))
    for scenario in scenarios:
        end = scenario.duration if scenario.shutdown.at is None or scenario.duration is None else min(scenario.duration, scenario.shutdown.at)
        if end is not None and warmup >= end:
            raise WarmupTooLong(t("errors.warmup.too_long", warmup=f"{warmup:g}", end=f"{end:g}"))


@dataclass(slots=True)
class Window:
    """A ledger's totals at the window's start, and the durations recorded since."""

    start: float
    counts: Counts
    blocked: float
    qsize_area: float
    latency: LatencyStats
    queue_wait: LatencyStats


def _also(first: Callable[[float], None], second: Callable[[float], None]) -> Callable[[float], None]:
    def record(value: float) -> None:
        first(value)
        second(value)

    return record


def open_window(ledger: Ledger, now: float) -> Window:
    """Note `ledger`'s totals at `now` and record every later duration in the window too."""
    window = Window(
        start=now,
        counts=ledger.counts(),
        blocked=ledger.blocked_so_far(now),
        qsize_area=ledger.mean_qsize(now) * now,
        latency=LatencyStats(),
        queue_wait=LatencyStats(),
    )
    # The pipeline records through `ledger.latency.record(...)`: an attribute on the instance
    # shadows the method, so the run's own statistics carry on and the window gets a copy.
    for name, mine in (("latency", window.latency), ("queue_wait", window.queue_wait)):
        stats = getattr(ledger, name)
        setattr(stats, "record", _also(stats.record, mine.record))
    return window


def _since(before: Counts, now: Counts) -> Counts:
    """The items that had not ended at `before`: where they ended since, or unfinished."""
    on_time = None
    if now.handled_on_time is not None and before.handled_on_time is not None:
        on_time = now.handled_on_time - before.handled_on_time
    return Counts(
        produced=now.produced - before.finished,
        ended={key: value - before.ended.get(key, 0) for key, value in now.ended.items()},
        never_sent=now.never_sent - before.never_sent,
        handled_on_time=on_time,
    )


def measured(result: RunResult, window: Window | None, ledger: Ledger, end: float) -> RunResult:
    """`result` as seen from the window's start on: the window's counts, durations and averages.

    Without a window (the variant had ended before the warm-up was over) nothing is left to
    measure: no item, no latency, a window of 0 s.
    """
    from bpsim.engine import Distribution

    if window is None:
        counts = ledger.counts()
        empty = Counts(0, dict.fromkeys(counts.ended, 0), 0, 0 if counts.handled_on_time is not None else None)
        nothing = Distribution.of(LatencyStats())
        return dataclasses.replace(
            result, duration=0.0, counts=empty, blocked_seconds=0.0, mean_qsize=0.0, latency=nothing, queue_wait=nothing
        )
    length = end - window.start
    area = ledger.mean_qsize(end) * end - window.qsize_area
    return dataclasses.replace(
        result,
        duration=length,
        counts=_since(window.counts, ledger.counts()),
        blocked_seconds=ledger.blocked_so_far(end) - window.blocked,
        mean_qsize=area / length if length > 0 else 0.0,
        latency=Distribution.of(window.latency),
        queue_wait=Distribution.of(window.queue_wait),
    )
