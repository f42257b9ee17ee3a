"""The numbers `bpsim compare` and `bpsim sweep` put side by side, and which direction is better.

Each `Metric` reads one number from a `RunResult`. Its `name` is what `--metric` accepts and the
CSV column; renderers look its label up in the message catalogue (`compare.metric.<name>`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bpsim.errors import BpsimError

if TYPE_CHECKING:
    from bpsim.engine import RunResult

__all__ = ["Metric", "METRICS", "parse_metrics", "best"]


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    value: Callable[[RunResult], float | None]
    """The value for one run; None when it does not exist (latency of a run that handled nothing)."""
    better: Literal["lower", "higher"]
    unit: Literal["count", "seconds", "rate", "qsize"]
    optional: bool = False
    """Shown in the comparison only when some variant has a non-zero value (a rare end state)."""


def _latency(field: str) -> Callable[[RunResult], float | None]:
    return lambda r: getattr(r.latency, field) if r.latency.count else None


METRICS: tuple[Metric, ...] = (
    Metric("handled", lambda r: r.counts.handled, "higher", "count"),
    Metric("dropped", lambda r: r.counts.dropped, "lower", "count"),
    Metric("dropped-queue-full", lambda r: r.counts.dropped_queue_full, "lower", "count", optional=True),
    Metric("dropped-evicted", lambda r: r.counts.dropped_evicted, "lower", "count", optional=True),
    Metric("dropped-stale", lambda r: r.counts.dropped_stale, "lower", "count", optional=True),
    Metric("timed-out", lambda r: r.counts.timed_out, "lower", "count"),
    Metric("rejected", lambda r: r.counts.rejected_at_shutdown, "lower", "count", optional=True),
    Metric("abandoned", lambda r: r.counts.abandoned, "lower", "count", optional=True),
    Metric("blocked", lambda r: r.blocked_seconds, "lower", "seconds"),
    Metric("max-qsize", lambda r: r.max_qsize, "lower", "qsize"),
    Metric("mean-qsize", lambda r: r.mean_qsize, "lower", "qsize"),
    Metric("p50", _latency("p50"), "lower", "seconds"),
    Metric("p95", _latency("p95"), "lower", "seconds"),
    Metric("p99", _latency("p99"), "lower", "seconds"),
    Metric("max-latency", _latency("max"), "lower", "seconds"),
    Metric("throughput", lambda r: r.throughput, "higher", "rate"),
    Metric("unfinished", lambda r: r.counts.in_progress, "lower", "count"),
)
"""Every metric, in the order the comparison table shows them."""

_BY_NAME = {metric.name: metric for metric in METRICS}


def parse_metrics(text: str, option: str = "--metric") -> list[Metric]:
    """The metrics named in `text` ("dropped,p99,blocked"), in that order.

    Raises BpsimError naming the first unknown name, with a did-you-mean.
    """
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise BpsimError(f"{option} {text}: name one or more metrics: {', '.join(_BY_NAME)}")
    for name in names:
        if name not in _BY_NAME:
            close = difflib.get_close_matches(name, list(_BY_NAME), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"choose from {', '.join(_BY_NAME)}"
            raise BpsimError(f"{option} {text}: {name!r} is not a metric; {hint}")
    return [_BY_NAME[name] for name in dict.fromkeys(names)]


def best(metric: Metric, values: Sequence[float | None]) -> set[int]:
    """Indexes of the best values; empty when all known values are equal (nothing to choose)."""
    known = [v for v in values if v is not None]
    if len(set(known)) < 2:
        return set()
    target = min(known) if metric.better == "lower" else max(known)
    return {index for index, value in enumerate(values) if value == target}
