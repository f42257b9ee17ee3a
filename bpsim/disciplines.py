"""Queue disciplines: which queued item a worker gets next, and CoDel, which drops by age.

`queue.discipline` picks the queue the pipeline makes:

* `fifo` (the default): `asyncio.Queue`, oldest first.
* `lifo`: `asyncio.LifoQueue`, newest first, with the same `shutdown()` as `asyncio.Queue`.
* `codel`: oldest first, and a worker drops the item it takes when CoDel says so (`CoDel`).
* `adaptive-lifo`: oldest first, but newest first while the queue is *standing* (CoDel's test:
  its oldest item has waited longer than `target` for at least `interval`), as Facebook's
  servers do: the newest request's client is still waiting, the oldest one's has likely left.

Both of the last two need to know when each item entered the queue: `TimedQueue` keeps that
beside the item, overriding the same three methods asyncio's own `LifoQueue` overrides.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from typing import Generic, TypeVar

from bpsim.compat import LifoQueue, Queue, SimulationQueue
from bpsim.scenario import CoDelSettings, QueueSettings

__all__ = ["CoDel", "Standing", "TimedQueue", "make_queue"]

T = TypeVar("T")


class Standing:
    """CoDel's test for a standing queue: the wait has stayed at or above `target` for `interval`.

    `check(sojourn, now)` is RFC 8289's `dodequeue` test: a wait below target resets it; the
    first wait above target starts the clock; it is true once that lasted `interval`.
    """

    def __init__(self, settings: CoDelSettings) -> None:
        self.target = settings.target
        self.interval = settings.interval
        self.first_above: float | None = None
        """When the wait will have been above target for an interval (None: it is below)."""

    def check(self, sojourn: float, now: float) -> bool:
        if sojourn < self.target:
            self.first_above = None
            return False
        if self.first_above is None:
            self.first_above = now + self.interval
            return False
        return now >= self.first_above


class TimedQueue(SimulationQueue[T], Generic[T]):
    """An `asyncio.Queue` that keeps when each item entered it; with `standing`, newest first
    while the queue is standing (adaptive LIFO). Shutdown, join and maxsize are Queue's own."""

    def __init__(self, maxsize: int = 0, standing: Standing | None = None) -> None:
        super().__init__(maxsize)
        self.standing = standing
        self.entered_at = 0.0
        """When the item the last `get` returned entered the queue."""
        self.newest_first = False
        """Whether the last `get` served the newest item (adaptive LIFO, while standing)."""

    def _init(self, maxsize: int) -> None:
        self._queue: deque[tuple[float, T]] = deque()

    def _put(self, item: T) -> None:
        self._queue.append((asyncio.get_running_loop().time(), item))

    def _get(self) -> T:
        if self.standing is not None:
            now = asyncio.get_running_loop().time()
            self.newest_first = self.standing.check(now - self._queue[0][0], now)
        self.entered_at, item = self._queue.pop() if self.newest_first else self._queue.popleft()
        return item


class CoDel:
    """RFC 8289's CoDel, judging one item at a time as a worker takes it: drop it, or serve it.

    RFC 8289 dequeues in a loop, dropping items until one may pass; here each item a worker takes
    is one turn of that loop (a worker that drops an item takes the next at the same instant),
    so the state below carries what the loop would remember between its turns.

    * Not dropping: once the wait has stood above `target` for `interval`, drop this item and
      start dropping; the next drop is due `interval / sqrt(count)` later (count: drops in this
      episode, resumed from the last one if that ended less than 16 intervals ago).
    * Dropping: drop an item each time the next drop is due, each one `interval / sqrt(count)`
      after the previous (the control law: drops come faster while the queue stands), until an
      item's wait is below target (or the queue is empty): then stop dropping.
    """

    _FRESH, _ENTERED, _DROPPED = "fresh", "entered", "dropped"

    def __init__(self, settings: CoDelSettings) -> None:
        self.standing = Standing(settings)
        self.interval = settings.interval
        self.dropping = False
        self.drop_next = 0.0
        self.count = 0
        self.last_count = 0
        self._after = self._FRESH
        """What happened to the item just before this one in the same dequeue loop."""

    def control_law(self, t: float) -> float:
        return t + self.interval / math.sqrt(self.count)

    def drop(self, sojourn: float, now: float, empty: bool) -> bool:
        """Whether to drop the item a worker just took after `sojourn` seconds in the queue;
        `empty`: it was the last one queued (RFC 8289 never drops the last packet)."""
        ok_to_drop = self.standing.check(0.0 if empty else sojourn, now)
        after, self._after = self._after, self._FRESH
        if after == self._ENTERED:
            return False  # the RFC sends the item after the one that began dropping
        if self.dropping:
            if not ok_to_drop:
                self.dropping = False
                return False
            if after == self._DROPPED:
                self.drop_next = self.control_law(self.drop_next)
            if now < self.drop_next:
                return False
            self.count += 1
            self._dropped(self._DROPPED, empty)
            return True
        if not ok_to_drop:
            return False
        self.dropping = True
        delta = self.count - self.last_count
        self.count = delta if delta > 1 and now - self.drop_next < 16 * self.interval else 1
        self.drop_next = self.control_law(now)
        self.last_count = self.count
        self._dropped(self._ENTERED, empty)
        return True

    def _dropped(self, turn: str, empty: bool) -> None:
        """The loop goes on with the next queued item, or ends if there is none."""
        if not empty:
            self._after = turn
            return
        self.standing.first_above = None  # RFC: dodequeue found the queue empty
        if turn == self._DROPPED:
            self.dropping = False


def make_queue(settings: QueueSettings) -> Queue[T]:
    """The queue `settings.discipline` asks for (with its maxsize)."""
    if settings.discipline == "lifo":
        return LifoQueue(settings.maxsize)
    if settings.discipline == "adaptive-lifo":
        return TimedQueue(settings.maxsize, Standing(settings.codel_settings))
    if settings.discipline == "codel":
        return TimedQueue(settings.maxsize)
    return SimulationQueue(settings.maxsize)
