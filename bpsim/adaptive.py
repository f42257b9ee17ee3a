"""A concurrency limit that adapts: a semaphore whose size follows what the calls meet (AIMD).

A fixed `asyncio.Semaphore(n)` is right for one service on one day. `AIMDLimit` is used exactly
like it (`async with limit:` around the downstream call) but its size, `limit`, changes the way
TCP's congestion window does, and Netflix's concurrency-limits `AIMDLimit`:

* **additive increase**: the limit grows by `increase` after each *window* of good calls in
  which the limit was used. A window begins at the start and whenever the limit changes; it is
  full when as many calls as the limit have succeeded in it (about one round trip's worth of
  calls). If some call found in-flight at the limit during the window, the limit grows; if none
  did, the limit was not what held the calls back, and a new window begins with no change.
* **multiplicative decrease**: a *bad* call (it timed out, failed, or succeeded slower than
  `latency_limit`) sets limit = ⌊limit × decrease⌋, never below `min`. Only calls that started
  after the last decrease can decrease it again: the calls already under way when it was
  lowered tell of the old limit, so one episode of congestion gives one decrease (TCP halves its
  window once per window of losses; Netflix's `AIMDLimit` backs off on every drop).

Lowering the limit cancels nothing: calls in flight above the new limit finish, and no new call
starts until in-flight is below the limit. Waiting calls start in the order they came.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from bpsim.scenario import AdaptiveConcurrency

__all__ = ["AIMDLimit", "LimitSummary"]


@dataclass(frozen=True, slots=True)
class LimitSummary:
    """How the limit moved during a run (JSON `downstream.limit`)."""

    min: int
    mean: float
    """Averaged over time, from the start to the end of the run."""
    final: int


@dataclass(slots=True)
class _Call:
    number: int
    """The how-manieth call to take a permit: tells calls older than the last decrease."""
    started: float
    dropped: bool = False


class AIMDLimit:
    """`async with limit:` like an `asyncio.Semaphore` of `limit` permits, whose size changes."""

    def __init__(self, settings: AdaptiveConcurrency, on_change: Callable[[float, int], None] | None = None) -> None:
        self.limit = settings.start
        self.least = settings.min
        self.most = settings.max if settings.max is not None else math.inf
        self.increase = settings.increase
        self.decrease = settings.decrease
        self.latency_limit = settings.latency_limit if settings.latency_limit is not None else math.inf
        self.on_change = on_change
        """Told `(now, limit)` whenever the limit changes (the dashboard's chart)."""
        self.in_flight = 0
        """Permits held: calls under way."""
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._calls: dict[asyncio.Task[object] | None, _Call] = {}
        """The call each task is making, by the task: what `__aexit__` judges."""
        self._taken = 0
        """Permits handed out so far."""
        self._old = 0
        """Calls numbered up to this started before the last decrease."""
        self._successes = 0
        """Good calls in the current window."""
        self._used = False
        """Some call found in-flight at the limit in the current window."""
        self._min = self.limit
        self._area = 0.0
        """The limit integrated over time, up to `_since`: for the time-averaged mean."""
        self._since = 0.0

    # -- the semaphore ----------------------------------------------------------------------------

    async def __aenter__(self) -> None:
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
        else:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter  # `_wake` counts the permit as ours before it wakes us
            except asyncio.CancelledError:
                if waiter.cancelled():
                    self._waiters.remove(waiter)
                else:  # handed a permit just as we were cancelled: pass it on
                    self.in_flight -= 1
                    self._wake()
                raise
        self._taken += 1
        if self.in_flight >= self.limit:
            self._used = True
        self._calls[asyncio.current_task()] = _Call(self._taken, asyncio.get_running_loop().time())

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        call = self._calls.pop(asyncio.current_task())
        self.in_flight -= 1
        if kind is None:  # a cancelled call (a shutdown, Ctrl-C) says nothing about the service
            self._judge(call, asyncio.get_running_loop().time())
        self._wake()

    def dropped(self) -> None:
        """The current task's call timed out or failed: a bad call, whatever its latency."""
        self._calls[asyncio.current_task()].dropped = True

    def _wake(self) -> None:
        """Hand the free permits to the calls waiting for one, first come first served."""
        while self._waiters and self.in_flight < self.limit:
            self.in_flight += 1
            self._waiters.popleft().set_result(None)

    # -- the rule ---------------------------------------------------------------------------------

    def _judge(self, call: _Call, now: float) -> None:
        if call.dropped or now - call.started > self.latency_limit:
            if call.number > self._old:
                self._old = self._taken
                self._change(max(self.least, math.floor(self.limit * self.decrease + 1e-9)), now)
            return
        self._successes += 1
        if self._successes >= self.limit:
            self._change(min(self.most, self.limit + self.increase) if self._used else self.limit, now)

    def _change(self, limit: int | float, now: float) -> None:
        """Set the limit and begin a new window."""
        new = int(limit)
        self._successes = 0
        self._used = self.in_flight >= new
        if new == self.limit:
            return
        self._area += self.limit * (now - self._since)
        self._since = now
        self.limit = new
        self._min = min(self._min, new)
        if self.on_change is not None:
            self.on_change(now, new)

    def summary(self, end: float) -> LimitSummary:
        """The limit's lowest, time-averaged and last values, from the start to `end`."""
        area = self._area + self.limit * max(0.0, end - self._since)
        mean = area / end if end > 0 else float(self.limit)
        return LimitSummary(self._min, mean, self.limit)
