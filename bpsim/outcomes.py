"""Where an item can end: the one table of outcomes, and the counts read from it.

Every item the producer offers ends in exactly one outcome (handled, dropped, timed out...), most
of them for a reason (dropped: the queue was full, it was evicted, it was stale). `OUTCOMES` lists
them in the order every view shows them, and whatever counts, shows or compares outcomes is built
from it: the ledger's counters, `Counts`, the `items` object of the JSON, the compare and sweep
metrics, the summary and dashboard ledgers, the limit message. A new outcome or reason is a row
here and its words in `bpsim/locale/{en,ko}/outcome.toml`; whoever produces it calls
`Ledger.end(reason)` (or the outcome's own method, such as `Ledger.failed`).

Each row names everything else after itself, so the names cannot drift apart:

    outcome "dropped", reason DropReason.QUEUE_FULL ("queue-full")
      Counts attribute   counts.dropped, counts.dropped_queue_full
      JSON               items.dropped, items.dropped_by_reason["queue-full"]
      metric             dropped, dropped-queue-full (when `metric_per_reason`)
      words              outcome.label.dropped, outcome.short.dropped, outcome.reason.queue-full
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bpsim.scenario import Scenario

__all__ = [
    "DropReason",
    "TimeoutPlace",
    "FailReason",
    "AbandonPlace",
    "Reason",
    "Outcome",
    "OUTCOMES",
    "HANDLED",
    "FAILED",
    "REJECTED_AT_SHUTDOWN",
    "KEYS",
    "FULL_QUEUE",
    "reason_words",
    "UNFINISHED",
    "Counts",
]


class DropReason(StrEnum):
    QUEUE_FULL = "queue-full"
    """drop-newest: the arriving item met a full queue."""
    EVICTED = "evicted"
    """drop-oldest: the oldest queued item made room for an arriving one."""
    STALE = "stale"
    """max_age: a worker took the item after it was already too old."""
    CODEL = "codel"
    """discipline = "codel": the queue's wait had stood above target for an interval (CoDel)."""


class TimeoutPlace(StrEnum):
    PUT = "put"
    """put_timeout: the producer gave up waiting for room."""
    DOWNSTREAM = "downstream"
    """downstream.timeout: the call took too long."""


class FailReason(StrEnum):
    ERROR = "error"
    """The service answered with an error (a 500)."""
    RATE_LIMITED = "rate-limited"
    """The service's rate limit refused the call at once (a 429)."""
    OUTAGE = "outage"
    """The service was down."""
    CIRCUIT_OPEN = "circuit-open"
    """The client's circuit breaker refused the call without making it."""


class AbandonPlace(StrEnum):
    QUEUED = "queued"
    IN_WORKER = "in-worker"


Reason = DropReason | TimeoutPlace | FailReason | AbandonPlace
"""Why an item ended where it did. The values are unique across the table, and unlike the names of
the outcomes (checked below), so one dict keyed by them counts every end: a reason is a str."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One end state: its name, its reasons, and how the views show it."""

    name: str
    """The `Counts` attribute, the key in the JSON's `items`, and `outcome.label.<name>`."""
    metric: str
    """The compare and sweep metric of its total (`--metric timed-out`)."""
    reasons: tuple[Reason, ...] = ()
    breakdown: str | None = None
    """The JSON key of its count per reason (`dropped_by_reason`); None without reasons."""
    metric_per_reason: bool = False
    """Compare and sweep also have one metric per reason (`dropped-queue-full`)."""
    optional_metric: bool = False
    """Compare shows its metric only when some variant has one (a rare end state)."""
    reachable: Callable[[Scenario], bool] = lambda scenario: True
    """Whether items of `scenario` can end here: the summary and dashboard list it even at 0 when
    they can, and otherwise only once some item did (a row that cannot be non-zero teaches nothing)."""
    tone: Literal["good", "loss", "shutdown"] = "loss"
    """How the dashboard colours a non-zero count."""

    def listed(self, counts: Counts, scenario: Scenario) -> bool:
        """Whether the ledger of a run of `scenario` shows this outcome's row."""
        return self.reachable(scenario) or counts.of(self) > 0

    def field(self, reason: Reason) -> str:
        """The `Counts` attribute of one reason: `dropped_queue_full`."""
        return f"{self.name}_{reason.name.lower()}"

    def reason_metric(self, reason: Reason) -> str:
        """The metric of one reason: `dropped-queue-full`."""
        return f"{self.metric}-{reason.value}"

    @property
    def keys(self) -> tuple[str, ...]:
        """Its keys in `Counts.ended` and `Ledger.ended`: its reasons, or its name without any."""
        return self.reasons or (self.name,)

    @property
    def words(self) -> str:
        """The catalogue key of its label in the summary and compare (`outcome.label.dropped`)."""
        return f"outcome.label.{self.name}"

    @property
    def short_words(self) -> str:
        """The catalogue key of its label in the dashboard's narrow ledger."""
        return f"outcome.short.{self.name}"

    @property
    def json_path(self) -> str:
        return f"items.{self.name}"


def reason_words(reason: Reason) -> str:
    """The catalogue key of a reason's word (`outcome.reason.queue-full`)."""
    return f"outcome.reason.{reason.value}"


def _can_fail(scenario: Scenario) -> bool:
    """Calls fail only against a service that errs, limits its rate or goes down, or behind a breaker.

    """
    downstream = scenario.downstream
    return (
        downstream.errors > 0
        or downstream.rate_limit is not None
        or bool(downstream.outages)
        or scenario.breaker is not None
    )


# Named for the code that counts or explains them.
HANDLED = Outcome("handled", "handled", tone="good")
FAILED = Outcome(
    "failed",
    "failed",
    tuple(FailReason),
    "failed_by_reason",
    metric_per_reason=True,
    optional_metric=True,
    reachable=_can_fail,
)
REJECTED_AT_SHUTDOWN = Outcome("rejected_at_shutdown", "rejected", optional_metric=True, tone="shutdown")

OUTCOMES: tuple[Outcome, ...] = (
    HANDLED,
    Outcome("dropped", "dropped", tuple(DropReason), "dropped_by_reason", metric_per_reason=True),
    Outcome("timed_out", "timed-out", tuple(TimeoutPlace), "timed_out_by_place"),
    FAILED,
    REJECTED_AT_SHUTDOWN,
    Outcome("abandoned", "abandoned", tuple(AbandonPlace), "abandoned_by_place", optional_metric=True, tone="shutdown"),
)
"""Every end state, in the order the summary, the dashboard, the JSON and compare show them."""

FULL_QUEUE: tuple[Reason, ...] = (DropReason.QUEUE_FULL, DropReason.EVICTED)
"""The reasons that mean an item met a full system: what queueing theory calls *blocked* and lost
(`theory.simulated`). A stale item found room; a timed-out put is not in the models."""

KEYS: tuple[str, ...] = tuple(key for outcome in OUTCOMES for key in outcome.keys)
"""Every key of `Counts.ended`, in the table's order."""

assert len(set(KEYS)) == len(KEYS), "two reasons (or a reason and an outcome) share a name"

UNFINISHED = "unfinished"
"""Not an end state: produced and not ended yet (queued, in a worker, or waiting in put). Its JSON
key and metric are `unfinished`, its words `outcome.label.unfinished`."""

_TOTALS = {outcome.name: outcome for outcome in OUTCOMES}
_FIELDS = {outcome.field(reason): reason for outcome in OUTCOMES for reason in outcome.reasons}


@dataclass(frozen=True, slots=True)
class Counts:
    """The item ledger at one instant: every produced item has ended in one outcome, or is unfinished.

    Read a count by its name in the table: `counts.handled`, `counts.dropped` (every reason),
    `counts.dropped_queue_full` (one reason), or with `of(outcome)` and `of(reason)`.
    """

    produced: int = 0
    ended: Mapping[str, int] = field(default_factory=dict)
    """Items per key of `KEYS`: per reason, or per outcome name for an outcome without reasons;
    a key left out is 0."""
    never_sent: int = 0
    """Not produced: items that came due while the producer was blocked in `queue.put()` and that
    it never offered, because the queue shut down first. With them the ledger covers every item
    the scenario meant to produce by the end of the run (`due`)."""
    handled_on_time: int | None = None
    """Handled items whose latency stayed within the scenario's `slo`; None without one."""

    def of(self, end: Outcome | Reason) -> int:
        """Items that ended in an outcome (for any reason), or for one reason."""
        if isinstance(end, Outcome):
            return sum(self.ended.get(key, 0) for key in end.keys)
        return self.ended.get(end, 0)

    def __getattr__(self, name: str) -> int:
        # Called only for names that are not fields: the outcomes and reasons of the table.
        if name in _TOTALS:
            return self.of(_TOTALS[name])
        if name in _FIELDS:
            return self.of(_FIELDS[name])
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def late(self) -> int:
        """Handled items slower than the `slo` (0 without one)."""
        return self.handled - self.handled_on_time if self.handled_on_time is not None else 0

    @property
    def finished(self) -> int:
        """Items in an end state."""
        return sum(self.ended.values())

    @property
    def unfinished(self) -> int:
        """Produced but not yet in an end state (queued, in a worker, or being put)."""
        return self.produced - self.finished

    in_progress = unfinished  # its name before the table of outcomes, which code still reads

    @property
    def due(self) -> int:
        """Items the scenario meant to produce by the end of the run: produced, or never sent."""
        return self.produced + self.never_sent
