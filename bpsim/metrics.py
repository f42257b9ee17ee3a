"""The numbers `bpsim compare` and `bpsim sweep` put side by side, and which direction is better.

Each `Metric` reads one number from a `RunResult`. Its `name` is what `--metric` accepts and the
CSV column; renderers look its `label` up in the message catalogue. The outcomes' metrics come
from the table of outcomes (`bpsim.outcomes`), with the outcomes' own words.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bpsim.errors import BpsimError
from bpsim.outcomes import HANDLED, OUTCOMES, UNFINISHED, Outcome, Reason, reason_words

if TYPE_CHECKING:
    from bpsim.engine import RunResult

__all__ = ["Metric", "METRICS", "metric_values", "parse_metrics", "best"]


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    value: Callable[[RunResult], float | None]
    """The value for one run; None when it does not exist (latency of a run that handled nothing)."""
    better: Literal["lower", "higher"]
    unit: Literal["count", "seconds", "rate", "qsize"]
    optional: bool = False
    """Shown in the comparison only when some variant has a non-zero value (a rare end state)."""
    words: str | None = None
    """The catalogue key of its label, when it is not `compare.metric.<name>`."""
    part_of: str | None = None
    """The metric this one is a part of (`dropped` for `dropped-queue-full`): shown indented under it."""

    @property
    def words_key(self) -> str:
        """The catalogue key of its label."""
        return self.words or f"compare.metric.{self.name}"


def _latency(field: str) -> Callable[[RunResult], float | None]:
    return lambda r: getattr(r.latency, field) if r.latency.count else None


def _count(end: Outcome | Reason) -> Callable[[RunResult], float | None]:
    return lambda r: r.counts.of(end)


def _outcome_metrics(outcome: Outcome) -> list[Metric]:
    """An outcome's total and, if it has them, one metric per reason (shown when not zero)."""
    better: Literal["lower", "higher"] = "higher" if outcome is HANDLED else "lower"
    total = Metric(outcome.metric, _count(outcome), better, "count", outcome.optional_metric, outcome.words)
    if not outcome.metric_per_reason:
        return [total]
    parts = [
        Metric(
            outcome.reason_metric(reason),
            _count(reason),
            better,
            "count",
            optional=True,
            words=reason_words(reason),
            part_of=outcome.metric,
        )
        for reason in outcome.reasons
    ]
    return [total, *parts]


_METRICS: tuple[Metric, ...] = (
    *(metric for outcome in OUTCOMES for metric in _outcome_metrics(outcome)),
    Metric("never-sent", lambda r: r.counts.never_sent, "lower", "count", optional=True, words="summary.never_sent"),
    Metric("blocked", lambda r: r.blocked_seconds, "lower", "seconds"),
    Metric("max-qsize", lambda r: r.max_qsize, "lower", "qsize"),
    Metric("mean-qsize", lambda r: r.mean_qsize, "lower", "qsize"),
    Metric("p50", _latency("p50"), "lower", "seconds"),
    Metric("p95", _latency("p95"), "lower", "seconds"),
    Metric("p99", _latency("p99"), "lower", "seconds"),
    Metric("max-latency", _latency("max"), "lower", "seconds"),
    Metric("throughput", lambda r: r.throughput, "higher", "rate"),
    # Only with an `slo`; without one they are None, and compare leaves them out.
    Metric("on-time", lambda r: r.counts.handled_on_time, "higher", "count", optional=True),
    Metric("goodput", lambda r: r.goodput, "higher", "rate", optional=True),
    Metric("wasted", lambda r: r.service.wasted_seconds if r.service is not None else None, "lower", "seconds", optional=True),
    # The client's resilience: None without its table ([retry], [breaker], [throttle]).
    Metric("retries", lambda r: r.retry.retries if r.retry else None, "lower", "count", optional=True),
    Metric("refused-by-budget", lambda r: r.retry.refused_by_budget if r.retry else None, "lower", "count", optional=True),
    Metric("breaker-opened", lambda r: r.breaker.opened if r.breaker else None, "lower", "count", optional=True),
    Metric("throttle-wait", lambda r: r.throttle_waited, "lower", "seconds", optional=True),
    Metric(UNFINISHED, lambda r: r.counts.unfinished, "lower", "count", words=f"outcome.label.{UNFINISHED}"),
)


def _measured(value: Callable[[RunResult], float | None]) -> Callable[[RunResult], float | None]:
    # With --warmup a result carries what was measured after it (`RunResult.measured`).
    return lambda result: value(result.measured if result.measured is not None else result)


METRICS: tuple[Metric, ...] = tuple(dataclasses.replace(metric, value=_measured(metric.value)) for metric in _METRICS)
"""Every metric, in the order the comparison table shows them: the outcomes' first, from the table.
With `--warmup`, each reads the run from the end of the warm-up on (`RunResult.measured`)."""

_BY_NAME = {metric.name: metric for metric in METRICS}


def metric_values(result: RunResult) -> dict[str, float | None]:
    """Every metric of one run, by name: a row of `bpsim sweep --csv`."""
    return {metric.name: metric.value(result) for metric in METRICS}


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
