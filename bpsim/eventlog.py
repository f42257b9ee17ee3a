"""The event log a dashboard lists: repeats grouped, the first of each kind and the shutdown kept.

During a blocking burst every put is a "producer blocked" and a "producer unblocked"; an
immediate shutdown abandons every queued item in the same instant. Listed one by one, they push
everything else off a log of five lines, the shutdown itself included. So `EventLog` takes every
event as the pipeline sends it and folds a run of notable events of one kind into one `Entry`
(items 311-359, 49 of them; 23 blocked puts and the 4.2 s they waited): an event joins the open
entry of its kind unless that entry has been quiet for `gap` simulated seconds. The counts are
exact, since every event is seen, however many went by between two frames.

It keeps the latest entries, the first entry of each kind (when the blocking, the dropping...
began) and the shutdown: what a teacher points at. The routine steps (produce, enqueued, got,
calls, handled) are only kept, the last few, to fill a log that has room. Like the rest of the
engine side it holds no text: `render/trace.py` words the entries.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, fields

from bpsim.events import (
    AbandonPlace,
    CallStarted,
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
    RetryRefused,
    RetryScheduled,
    ShutdownCalled,
    WorkerExited,
    WorkWasted,
)

__all__ = ["Entry", "EventLog", "ROUTINE", "ROUTINE_TYPES", "kind_of"]

ROUTINE = (ItemProduced, ItemEnqueued, ItemDequeued, CallStarted, ItemHandled)
"""The handbook's routine steps: a few per item, dimmed in the log and the first to give way."""

ROUTINE_TYPES = frozenset(ROUTINE)

_KEEP = 100
"""Entries kept besides the pinned ones: more than any screen lists."""


@dataclass(slots=True, eq=False)
class Entry:
    """One line of the log: a notable event, or a run of events of one kind close together."""

    kind: str | None
    """What groups events (`kind_of`); None for an event that stands alone (a shutdown)."""
    first: Event
    last: Event
    count: int = 1
    """Events in the entry; for "blocked", the puts that blocked (an unblock ends one)."""
    low: int | None = None
    """The lowest and highest item number in the entry (for events about an item)."""
    high: int | None = None
    workers: set[str] = field(default_factory=set)
    waited: float = 0.0
    """For "blocked": the seconds the puts that ended waited; for wasted work: its seconds."""
    most: float = 0.0
    """The largest age (stale, CoDel) or timeout in the entry: one number for many items."""
    blocked: bool = False
    """For "blocked": a put is still waiting (the last event was a block, not an unblock)."""
    seq: int = 0
    """The entry's place among the log's entries, in the order they began."""

    @property
    def start(self) -> float:
        return self.first.at

    @property
    def end(self) -> float:
        return self.last.at

    def add(self, event: Event) -> None:
        self.last = event
        if isinstance(event, ProducerUnblocked):
            self.waited += event.waited
            self.blocked = False
            self.count = max(self.count, 1)  # a log begun mid-wait still counts that put
            return
        self.blocked = isinstance(event, ProducerBlocked)
        self.count += 1
        item = getattr(event, "item", None)
        if item is not None:
            self.low = item if self.low is None else min(self.low, item)
            self.high = item if self.high is None else max(self.high, item)
        worker = getattr(event, "worker", None)
        if worker is not None:
            self.workers.add(worker)
        if isinstance(event, WorkWasted):
            self.waited += event.seconds
        number = getattr(event, "age", None) or getattr(event, "after", None)
        if number is not None and number > self.most:
            self.most = number


def kind_of(event: Event) -> str | None:
    """The kind an event groups by: events of one kind close together make one entry. A
    shutdown, a breaker's change, the producer's end and queue.join() stand alone (None)."""
    match event:
        case ProducerBlocked() | ProducerUnblocked():
            return "blocked"
        case ItemDropped(reason=reason):
            return f"dropped.{reason.value}"
        case ItemTimedOut(place=place, service=fate):
            return f"timed_out.{place.value}" if fate is None else f"timed_out.{place.value}.{fate}"
        case ItemFailed(reason=reason):
            return f"failed.{reason}"
        case ItemRejected():
            return "rejected"
        case ItemAbandoned(place=AbandonPlace.QUEUED):
            return "abandoned.queued"
        case ItemAbandoned(service=str(fate)):
            return f"abandoned.service.{fate}"
        case ItemAbandoned(in_call=in_call):
            return "abandoned.worker" if in_call else "abandoned.semaphore"
        case WorkWasted(finished=finished):
            return "wasted.finished" if finished else "wasted.dropped"
        case WorkerExited(reason=reason):
            return f"exited.{reason}"
        case RetryScheduled(reason=reason):
            return f"retry.{reason}"
        case RetryRefused(reason=reason):
            return f"retry_refused.{reason}"
    return None


class EventLog:
    """Every event of one run, folded into the entries a log lists (see the module's docstring)."""

    def __init__(self, gap: float, routine: int = 50) -> None:
        self.gap = gap
        """An entry quiet for longer than this (simulated seconds) takes no more events."""
        self._routine: deque[tuple[object, ...]] = deque(maxlen=routine)
        self.keep_routine = self._routine.append
        """Keep one routine raw event (a call into C: the hot path calls it several times per item)."""
        self._entries: dict[int, Entry] = {}
        """The latest entries, oldest activity first (an entry moves to the end when it grows)."""
        self._open: dict[str, Entry] = {}
        """The entry of each kind that the next event of that kind may join."""
        self.firsts: dict[str, Entry] = {}
        """The first entry of each kind, kept however old."""
        self.shutdown: Entry | None = None
        """queue.shutdown(), kept however many events came after it."""
        self._begun = 0

    @classmethod
    def of(cls, events: Iterable[Event], gap: float) -> EventLog:
        """The log of `events` (event objects rather than the pipeline's raw tuples)."""
        log = cls(gap)
        for event in events:
            log.add((type(event), *(getattr(event, f.name) for f in fields(event))))
        return log

    def add(self, raw: tuple[object, ...]) -> None:
        """Take one raw event, `(event_type, at, *fields)`."""
        if raw[0] in ROUTINE_TYPES:
            self.keep_routine(raw)
        else:
            self.add_notable(raw)

    def add_notable(self, raw: tuple[object, ...]) -> None:
        """Take one raw event that is not a routine step (`History.record` sorts them)."""
        event: Event = raw[0](*raw[1:])  # type: ignore[operator]
        blocked = self._open.get("blocked")
        if blocked is not None and blocked.blocked and isinstance(event, ItemRejected | ProducerFinished):
            # The shutdown ended the put still waiting: its wait counts, as in the summary's total.
            blocked.blocked = False
            blocked.waited += event.at - blocked.last.at
        kind = kind_of(event)
        entry = self._open.get(kind) if kind is not None else None
        # An unblock ends the put its entry's last block began, however long that put waited.
        joins = entry is not None and (event.at - entry.end <= self.gap or (entry.blocked and isinstance(event, ProducerUnblocked)))
        if entry is not None and joins:
            entry.add(event)
            del self._entries[id(entry)]  # to the end: the latest activity
        else:
            self._begun += 1
            entry = Entry(kind, event, event, count=0, seq=self._begun)
            entry.add(event)
            if kind is not None:
                self._open[kind] = entry
                self.firsts.setdefault(kind, entry)
            if isinstance(event, ShutdownCalled):
                self.shutdown = entry
        self._entries[id(entry)] = entry
        if len(self._entries) > _KEEP:
            del self._entries[next(iter(self._entries))]

    def entries(self) -> list[Entry]:
        """The latest entries, oldest activity first."""
        return list(self._entries.values())

    def pick(self, count: int, routine: bool = True) -> list[Entry | Event]:
        """The `count` lines to list, in order: the shutdown, the first entry of each kind (in
        less than half the room: in a short log the latest matter more), the latest entries, then (with `routine`) the latest routine
        events in what room is left.

        At speed the routine steps come by the hundred per second; letting them push out a
        "producer blocked" or "evicted" line would hide the lesson.
        """
        if count <= 0:
            return []
        entries = self.entries()
        pinned = [self.shutdown] if self.shutdown is not None else []
        room = count - len(pinned)
        latest = set(map(id, entries[-room:])) if room > 0 else set()
        firsts = [first for first in self.firsts.values() if id(first) not in latest and first is not self.shutdown]
        firsts = sorted(firsts, key=lambda entry: entry.seq)[: max(0, room - 1) // 2]
        chosen = pinned + firsts
        taken = set(map(id, chosen))
        room = count - len(chosen)
        chosen += [entry for entry in entries if id(entry) not in taken][-room:] if room > 0 else []
        lines: list[tuple[float, int, Entry | Event]] = [(entry.start, entry.seq, entry) for entry in chosen[:count]]
        if routine:
            lines += [(event.at, -1, event) for event in self.routine(count - len(lines))]
        return [line for _, _, line in sorted(lines, key=lambda line: line[:2])]

    def routine(self, count: int) -> list[Event]:
        """The last `count` routine events, oldest first."""
        if count <= 0:
            return []
        raws = list(self._routine)[-count:]
        return [raw[0](*raw[1:]) for raw in raws]  # type: ignore[operator]

    def copy(self) -> EventLog:
        """This log as it is now, unchanged by the events to come (a still frame's)."""
        return copy.deepcopy(self)
