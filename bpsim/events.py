"""The contract between the engine and everything that shows it: events and snapshots.

Events are past-tense facts, pushed to observers as they happen; each carries `at`, the simulated
second. A `Snapshot` is the pipeline's state at one instant, pulled when a frame is drawn. Neither
knows how it will be drawn: the engine never imports Rich or Typer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

# The outcomes' reasons and counts are part of this contract; they live with the table of outcomes.
from bpsim.outcomes import AbandonPlace, Counts, DropReason, FailReason, TimeoutPlace

__all__ = [
    "DropReason",
    "TimeoutPlace",
    "FailReason",
    "AbandonPlace",
    "ItemProduced",
    "ItemEnqueued",
    "ProducerBlocked",
    "ProducerUnblocked",
    "ProducerFinished",
    "ItemDropped",
    "ItemTimedOut",
    "ItemFailed",
    "ItemRejected",
    "ItemAbandoned",
    "WorkWasted",
    "ItemDequeued",
    "CallStarted",
    "ItemHandled",
    "QueueJoined",
    "ShutdownCalled",
    "WorkerExited",
    "RetryScheduled",
    "RetryRefused",
    "BreakerChanged",
    "Event",
    "Observer",
    "WorkerState",
    "ProducerState",
    "Counts",
    "ServiceState",
    "Snapshot",
]


# Events are read-only by convention, not frozen: a frozen dataclass sets each field through
# object.__setattr__, which makes building one three times slower, and a run with an observer
# (`--trace`) builds several per item (see benchmarks/live.py).
@dataclass(slots=True)
class ItemProduced:
    at: float
    item: int
    qsize: int


@dataclass(slots=True)
class ItemEnqueued:
    at: float
    item: int
    qsize: int


@dataclass(slots=True)
class ProducerBlocked:
    at: float
    item: int
    qsize: int
    maxsize: int


@dataclass(slots=True)
class ProducerUnblocked:
    at: float
    item: int
    waited: float


@dataclass(slots=True)
class ProducerFinished:
    at: float
    produced: int
    stopped_by_shutdown: bool


@dataclass(slots=True)
class ItemDropped:
    at: float
    item: int
    reason: DropReason
    admitted: int | None = None
    """For an eviction: the arriving item that took the evicted one's place."""
    age: float = 0.0


@dataclass(slots=True)
class ItemTimedOut:
    at: float
    item: int
    place: TimeoutPlace
    worker: str | None = None
    after: float | None = None
    """For a call to a modelled service: how long the client waited (its timeout)."""
    service: str | None = None
    """For a call to a modelled service: what became of the call there (service.Left)."""


@dataclass(slots=True)
class ItemFailed:
    """The downstream call failed (an error, a 429, an outage) or was refused before it was made."""

    at: float
    item: int
    reason: FailReason
    worker: str | None = None


@dataclass(slots=True)
class ItemRejected:
    """The producer's put raised QueueShutDown."""

    at: float
    item: int


@dataclass(slots=True)
class ItemAbandoned:
    at: float
    item: int
    place: AbandonPlace
    worker: str | None = None
    service: str | None = None
    """For a call to a modelled service cut by the shutdown: what became of it there (service.Left)."""
    in_call: bool = True
    """In the downstream call; False while the worker still waited for the semaphore."""


@dataclass(slots=True)
class WorkWasted:
    """The service is done with a call whose client had left: it finished it, or dropped it."""

    at: float
    item: int
    seconds: float
    """Work done on it (as a lone call's seconds), all for nothing."""
    finished: bool


@dataclass(slots=True)
class ItemDequeued:
    at: float
    item: int
    worker: str
    qsize: int


@dataclass(slots=True)
class CallStarted:
    at: float
    item: int
    worker: str
    in_flight: int


@dataclass(slots=True)
class ItemHandled:
    at: float
    item: int
    worker: str
    latency: float


@dataclass(slots=True)
class QueueJoined:
    """`await queue.join()` returned: every item put so far is task_done()."""

    at: float


@dataclass(slots=True)
class ShutdownCalled:
    at: float
    immediate: bool
    deadline_passed: bool = False
    qsize: int = 0


@dataclass(slots=True)
class WorkerExited:
    at: float
    worker: str
    reason: str
    """"QueueShutDown" (the handbook's clean exit) or "cancelled"."""


@dataclass(slots=True)
class RetryScheduled:
    """An attempt failed and the worker will try again after `sleep` seconds (`[retry]`)."""

    at: float
    item: int
    worker: str
    attempt: int
    """The attempt that failed, 1 for the first."""
    reason: str
    """Why it failed: "timeout", "error", "rate-limited" or "outage"."""
    sleep: float


@dataclass(slots=True)
class RetryRefused:
    """The retry budget is spent: the item gives up after `attempt` attempts, with `reason`."""

    at: float
    item: int
    worker: str
    attempt: int
    reason: str


@dataclass(slots=True)
class BreakerChanged:
    """The circuit breaker went "closed", "open" or "half-open" (`[breaker]`)."""

    at: float
    state: str


Event = (
    ItemProduced
    | ItemEnqueued
    | ProducerBlocked
    | ProducerUnblocked
    | ProducerFinished
    | ItemDropped
    | ItemTimedOut
    | ItemFailed
    | ItemRejected
    | ItemAbandoned
    | WorkWasted
    | ItemDequeued
    | CallStarted
    | ItemHandled
    | QueueJoined
    | ShutdownCalled
    | WorkerExited
    | RetryScheduled
    | RetryRefused
    | BreakerChanged
)

Observer = Callable[[Event], None]
"""Anything that wants every event: a trace printer, the dashboard's event log."""


class WorkerState(StrEnum):
    IDLE = "idle"
    """Waiting in `await queue.get()`."""
    WAITING = "waiting"
    """Holding an item, waiting for the semaphore (`async with limiter`)."""
    THROTTLED = "throttled"
    """Inside the semaphore, waiting for the throttle's next token (`[throttle]`)."""
    CALLING = "calling"
    """In the downstream call."""
    BACKING_OFF = "backoff"
    """Sleeping before a retry, outside the semaphore (`[retry]`)."""
    EXITED = "exited"


class ProducerState(StrEnum):
    WAITING = "waiting"
    """Sleeping until the next item is due: the producer is on schedule."""
    BLOCKED = "blocked"
    """Waiting in `await queue.put(item)` for room: backpressure."""
    DONE = "done"
    STOPPED = "stopped"
    """Its put raised QueueShutDown."""


@dataclass(frozen=True, slots=True)
class ServiceState:
    """The service's side of the call, when `[downstream]` models one (service.py)."""

    in_service: int
    capacity: int | None
    waiting: int
    """Calls waiting for a place inside the service: a queue the client cannot see."""
    wasted_calls: int
    wasted_seconds: float
    outage: str | None
    """The mode of the outage going on ("fail", "hang"), or None."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The pipeline at one instant (what a dashboard frame shows)."""

    now: float
    qsize: int
    maxsize: int
    max_qsize: int
    mean_qsize: float
    producer: ProducerState
    producer_lag: float
    """How far behind its schedule the producer is (seconds); 0 when on time."""
    blocked_seconds: float
    workers: tuple[WorkerState, ...]
    in_flight: int
    concurrency: int | None
    """The limit on in-flight calls now (an adaptive limit's current size); None for no limit."""
    counts: Counts
    latency_p50: float
    latency_p95: float
    latency_p99: float
    latency_max: float
    shutdown: str | None
    """None, "graceful" or "immediate" once queue.shutdown() was called."""
    breaker: str | None = None
    """The circuit breaker's state ("closed", "open", "half-open"); None without `[breaker]`."""
    retries: int | None = None
    """Retries sent so far; None without `[retry]`."""
    service: ServiceState | None = None
    """The service behind the call, when one is modelled."""
    adaptive: str | None = None
    """The adaptive limit's algorithm ("aimd", "gradient"); None for a fixed limit or none."""
