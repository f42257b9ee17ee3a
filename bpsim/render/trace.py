"""One plain line per event: `--trace` output and the dashboard's event log.

For the events the handbook's example prints (produce, enqueued, handled, worker shutdown) the
text is exactly the handbook's, so `bpsim run handbook --trace` can be read beside it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TextIO, cast

from bpsim.eventlog import Entry

from bpsim.events import (
    AbandonPlace,
    BreakerChanged,
    CallStarted,
    DropReason,
    Event,
    ItemAbandoned,
    ItemDequeued,
    ItemDropped,
    ItemEnqueued,
    ItemFailed,
    ItemHandled,
    ItemProduced,
    ItemRejected,
    ItemTimedOut,
    ProducerBlocked,
    ProducerFinished,
    ProducerUnblocked,
    QueueJoined,
    RetryRefused,
    RetryScheduled,
    ShutdownCalled,
    TimeoutPlace,
    WorkerExited,
    WorkWasted,
)
from bpsim.i18n import t
from bpsim.program import Printed, ProgramObserver

__all__ = ["TraceWriter", "PrintedTrace", "describe", "describe_entry", "stamped", "trace_line", "is_shutdown_event"]


def describe(event: Event) -> str:
    """The event in plain words."""
    match event:
        case ItemProduced(item=item, qsize=qsize):
            return f"produce {item} qsize before: {qsize}"
        case ItemEnqueued(item=item, qsize=qsize):
            return f"enqueued {item} qsize after: {qsize}"
        case ItemHandled(item=item, worker=worker):
            return f"{worker} handled {item}"
        case WorkerExited(worker=worker, reason="QueueShutDown"):
            return f"{worker} shutdown"
        case WorkerExited(worker=worker):
            return t("trace.worker_cancelled", worker=worker)
        case ProducerBlocked(item=item, qsize=qsize, maxsize=maxsize):
            return t("trace.producer_blocked", item=item, qsize=qsize, maxsize=maxsize)
        case ProducerUnblocked(item=item, waited=waited):
            return t("trace.producer_unblocked", item=item, waited=waited)
        case ProducerFinished(produced=produced, stopped_by_shutdown=True):
            return t("trace.producer_stopped", produced=produced)
        case ProducerFinished(produced=produced):
            return t("trace.producer_done", produced=produced)
        case ItemDropped(item=item, reason=DropReason.EVICTED, admitted=admitted):
            return t("trace.evicted", item=item, admitted=admitted)
        case ItemDropped(item=item, reason=DropReason.STALE, age=age):
            return t("trace.stale", item=item, age=age)
        case ItemDropped(item=item, reason=DropReason.CODEL, age=age):
            return t("trace.codel", item=item, age=age)
        case ItemDropped(item=item):
            return t("trace.queue_full", item=item)
        case ItemTimedOut(item=item, place=TimeoutPlace.PUT):
            return t("trace.put_timeout", item=item)
        case ItemTimedOut(item=item, worker=worker, after=float(after), service=str(fate)):
            return t("trace.gave_up", item=item, worker=worker, after=after, fate=t(f"trace.fate.{fate}"))
        case ItemTimedOut(item=item, worker=worker):
            return t("trace.call_timeout", item=item, worker=worker)
        case ItemFailed(item=item, reason=reason, worker=worker):
            return t(f"trace.failed.{reason}", item=item, worker=worker)
        case ItemRejected(item=item):
            return t("trace.rejected", item=item)
        case ItemAbandoned(item=item, place=AbandonPlace.QUEUED):
            return t("trace.abandoned_queued", item=item)
        case ItemAbandoned(item=item, worker=worker, service=str(fate)):
            return t("trace.abandoned_in_service", item=item, worker=worker, fate=t(f"trace.fate.{fate}"))
        case ItemAbandoned(item=item, worker=worker, in_call=False):
            return t("trace.abandoned_at_semaphore", item=item, worker=worker)
        case ItemAbandoned(item=item, worker=worker):
            return t("trace.abandoned_in_worker", item=item, worker=worker)
        case WorkWasted(item=item, seconds=seconds, finished=True):
            return t("trace.wasted_finished", item=item, seconds=seconds)
        case WorkWasted(item=item, seconds=seconds):
            return t("trace.wasted_dropped", item=item, seconds=seconds)
        case ItemDequeued(item=item, worker=worker, qsize=qsize):
            return t("trace.dequeued", item=item, worker=worker, qsize=qsize)
        case CallStarted(item=item, worker=worker, in_flight=in_flight):
            return t("trace.call_started", item=item, worker=worker, in_flight=in_flight)
        case RetryScheduled(item=item, worker=worker, attempt=attempt, reason=reason, sleep=sleep):
            return t("trace.retry", item=item, worker=worker, attempt=attempt, reason=reason, sleep=sleep)
        case RetryRefused(item=item, worker=worker, attempt=attempt, reason=reason):
            return t("trace.retry_refused", item=item, worker=worker, attempt=attempt, reason=reason)
        case BreakerChanged(state=state):
            return t(f"trace.breaker_{state.replace('-', '_')}")
        case QueueJoined():
            return t("trace.joined")
        case ShutdownCalled(immediate=False, qsize=qsize):
            return t("trace.shutdown", qsize=qsize)
        case ShutdownCalled(deadline_passed=True, qsize=qsize):
            return t("trace.shutdown_deadline", qsize=qsize)
        case ShutdownCalled(at=at, qsize=qsize):
            return t("trace.shutdown_immediate", at=at, qsize=qsize)
    raise AssertionError(f"no description for {event!r}")


def describe_entry(entry: Entry) -> str:
    """A log entry in plain words: its event's, or for a run of them `item 311–359 (49) abandoned …`."""
    first, last = entry.first, entry.last
    if entry.kind == "blocked":
        if entry.count == 1 and entry.blocked:
            return describe(first)
        fields: dict[str, object] = dict(count=entry.count, waited=entry.waited, maxsize=getattr(first, "maxsize", "?"))
        if entry.blocked:
            return t("trace.group.blocked_now", item=getattr(last, "item", "?"), **fields)
        return t("trace.group.blocked", **fields)
    if entry.count == 1:
        return describe(first)
    items = t("trace.group.items", low=entry.low, high=entry.high, count=entry.count)
    workers = next(iter(entry.workers)) if len(entry.workers) == 1 else t("trace.group.workers", count=len(entry.workers))
    match first:
        case ItemDropped(reason=DropReason.EVICTED):
            return t("trace.group.evicted", items=items)
        case ItemDropped(reason=DropReason.STALE):
            return t("trace.group.stale", items=items, age=entry.most)
        case ItemDropped(reason=DropReason.CODEL):
            return t("trace.group.codel", items=items, age=entry.most)
        case WorkWasted(finished=finished):
            return t(f"trace.group.wasted_{'finished' if finished else 'dropped'}", items=items, seconds=entry.waited)
        case RetryScheduled(reason=reason):
            return t("trace.group.retry", items=items, count=entry.count, reason=reason, workers=workers)
        case WorkerExited(reason="QueueShutDown"):
            return t("trace.group.exited", workers=t("trace.group.workers", count=entry.count))
        case WorkerExited():
            return t("trace.group.cancelled", workers=t("trace.group.workers", count=entry.count))
    # Every other kind reads the same for many items: its first event's words, with the items
    # (and the workers) of the whole run.
    changes: dict[str, Any] = {"item": items} if hasattr(first, "item") else {}
    if getattr(first, "worker", None) is not None:
        changes["worker"] = workers
    return describe(dataclasses.replace(cast(Any, first), **changes))


def stamped(at: float, message: str) -> str:
    """`<seconds> <message>`: one line of a trace."""
    return f"{at:.3f} {message}"


def trace_line(event: Event) -> str:
    """`<seconds> <message>`, as `--trace` prints it."""
    return stamped(event.at, describe(event))


def is_shutdown_event(event: Event) -> bool:
    """Events about stopping, which the dashboard highlights."""
    return isinstance(event, ShutdownCalled | WorkerExited | ItemRejected | ItemAbandoned | QueueJoined)


class TraceWriter:
    """An observer that writes one `trace_line` per event to `file`.

    When the reader goes away (`bpsim run X --trace | head`) it stops writing, and calls
    `on_reader_gone` (the CLI stops the run there: nothing more can be shown anyway).
    """

    def __init__(self, file: TextIO, on_reader_gone: Callable[[], None] | None = None) -> None:
        self.file = file
        self.on_reader_gone = on_reader_gone
        self.reader_gone = False

    def __call__(self, event: Event) -> None:
        self.write(trace_line(event))

    def write(self, line: str) -> None:
        if self.reader_gone:
            return
        try:
            self.file.write(line + "\n")
        except BrokenPipeError:
            self.reader_gone = True
            if self.on_reader_gone is not None:
                self.on_reader_gone()


class PrintedTrace(ProgramObserver):
    """`bpsim run FILE.py --trace`: each line the program prints, stamped with its simulated second."""

    def __init__(self, writer: TraceWriter) -> None:
        self.writer = writer

    def printed(self, line: Printed) -> None:
        self.writer.write(stamped(line.at, line.text))
