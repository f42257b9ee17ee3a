"""Concurrency limits that adapt: semaphores whose size follows what the calls meet.

A fixed `asyncio.Semaphore(n)` is right for one service on one day. An `AdaptiveLimit` is used
exactly like it (`async with limit:` around the downstream call) but its size, `limit`, changes
with each call's outcome and latency, measured from the call's start to its end. Two rules, both
from Netflix's concurrency-limits (docs/adaptive.md has them by hand):

`AIMDLimit`, the way TCP's congestion window does:

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

`GradientLimit`, Netflix's `Gradient2Limit`: a long-term average of the calls' latency is the
baseline; each call's latency against it is the gradient, clamp(tolerance × long / latency, 0.5,
1). The estimate moves toward estimate × gradient + `queue_size`, a share `smoothing` of the way:
it grows while latency stays within `tolerance` of the baseline and shrinks when it rises above.

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

from bpsim.scenario import AdaptiveConcurrency, AIMDConcurrency, GradientConcurrency

__all__ = ["AdaptiveLimit", "AIMDLimit", "GradientLimit", "LimitSummary", "adaptive_limit"]


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
    in_flight: int
    """Calls under way when this one took its permit, itself included."""
    dropped: bool = False


class AdaptiveLimit:
    """`async with limit:` like an `asyncio.Semaphore` of `limit` permits, whose size changes.

    The semaphore and the record of the limit are here; a subclass's `_judge` is the rule, told of
    each call that ended (not of one cancelled: a shutdown or Ctrl-C says nothing of the service).
    """

    name = "adaptive"
    """The algorithm, as `downstream.concurrency.adaptive` spells it."""

    def __init__(self, settings: AdaptiveConcurrency, on_change: Callable[[float, int], None] | None = None) -> None:
        self.limit = settings.start
        self.least = settings.min
        self.most = settings.max if settings.max is not None else math.inf
        self.on_change = on_change
        """Told `(now, limit)` whenever the limit changes (the dashboard's chart)."""
        self.in_flight = 0
        """Permits held: calls under way."""
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._calls: dict[asyncio.Task[object] | None, _Call] = {}
        """The call each task is making, by the task: what `__aexit__` judges."""
        self._taken = 0
        """Permits handed out so far."""
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
        call = _Call(self._taken, asyncio.get_running_loop().time(), self.in_flight)
        self._calls[asyncio.current_task()] = call
        self._took(call)

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        call = self._calls.pop(asyncio.current_task())
        self.in_flight -= 1
        if kind is None:
            self._judge(call, asyncio.get_running_loop().time())
        self._wake()

    def started(self) -> None:
        """The current task's call starts now, later than it took its permit (it waited for the
        client's throttle): its latency is the downstream's, from here."""
        self._calls[asyncio.current_task()].started = asyncio.get_running_loop().time()

    def dropped(self) -> None:
        """The current task's call timed out or failed."""
        self._calls[asyncio.current_task()].dropped = True

    def _wake(self) -> None:
        """Hand the free permits to the calls waiting for one, first come first served."""
        while self._waiters and self.in_flight < self.limit:
            self.in_flight += 1
            self._waiters.popleft().set_result(None)

    # -- the rule ---------------------------------------------------------------------------------

    def _took(self, call: _Call) -> None:
        """`call` just took its permit."""

    def _judge(self, call: _Call, now: float) -> None:
        """`call` ended (it succeeded, or `dropped` was said): move the limit, or not."""
        raise NotImplementedError

    def _set(self, limit: int, now: float) -> None:
        """The limit is `limit` from `now` on."""
        if limit == self.limit:
            return
        self._area += self.limit * (now - self._since)
        self._since = now
        self.limit = limit
        self._min = min(self._min, limit)
        if self.on_change is not None:
            self.on_change(now, limit)

    def summary(self, end: float) -> LimitSummary:
        """The limit's lowest, time-averaged and last values, from the start to `end`."""
        area = self._area + self.limit * max(0.0, end - self._since)
        mean = area / end if end > 0 else float(self.limit)
        return LimitSummary(self._min, mean, self.limit)


class AIMDLimit(AdaptiveLimit):
    """Additive increase per window of good calls that used the limit, multiplicative decrease on
    a bad call (a timeout, a failure, slower than `latency_limit`), once per episode."""

    name = "aimd"

    def __init__(self, settings: AIMDConcurrency, on_change: Callable[[float, int], None] | None = None) -> None:
        super().__init__(settings, on_change)
        self.increase = settings.increase
        self.decrease = settings.decrease
        self.latency_limit = settings.latency_limit if settings.latency_limit is not None else math.inf
        self._old = 0
        """Calls numbered up to this started before the last decrease."""
        self._successes = 0
        """Good calls in the current window."""
        self._used = False
        """Some call found in-flight at the limit in the current window."""

    def _took(self, call: _Call) -> None:
        if call.in_flight >= self.limit:
            self._used = True

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
        self._set(new, now)


class GradientLimit(AdaptiveLimit):
    """Netflix's `Gradient2Limit`, updated after every call that ended (a timeout or a failure too:
    its latency is what the client saw).

        long     ← the mean latency of the first 10 calls, then an exponential average over
                   `long_window` calls: long + (latency − long) × 2 / (long_window + 1)
        if long / latency > 2:  long ← long × 0.95   (latency fell: let the baseline follow faster)
        if in-flight < estimate / 2:  no change       (the limit is not what holds calls back)
        gradient = max(0.5, min(1, tolerance × long / latency))
        estimate ← estimate × (1 − smoothing) + (estimate × gradient + queue_size) × smoothing
        limit    = ⌊estimate⌋, between min and max

    `estimate` is a real number: small steps add up even while the whole limit stays put.
    """

    name = "gradient"
    WARMUP = 10
    """Calls averaged plainly before the long-term average turns exponential (Netflix's too)."""

    def __init__(self, settings: GradientConcurrency, on_change: Callable[[float, int], None] | None = None) -> None:
        super().__init__(settings, on_change)
        self.estimate = float(self.limit)
        self.smoothing = settings.smoothing
        self.tolerance = settings.tolerance
        self.queue_size = settings.queue_size
        self.weight = 2.0 / (settings.long_window + 1)
        """How much of a call's latency goes into the long-term average, after the warm-up."""
        self.long = 0.0
        """The long-term average latency: the baseline."""
        self._samples = 0
        self._sum = 0.0
        """The warm-up's latencies, summed."""

    def _judge(self, call: _Call, now: float) -> None:
        latency = now - call.started
        if latency <= 0:  # an instant answer has no latency to compare (Netflix skips < 0.1 ms)
            return
        self._samples += 1
        if self._samples <= self.WARMUP:
            self._sum += latency
            self.long = self._sum / self._samples
        else:
            self.long += (latency - self.long) * self.weight
        if self.long / latency > 2:
            self.long *= 0.95
        if call.in_flight < self.estimate / 2:
            return
        gradient = max(0.5, min(1.0, self.tolerance * self.long / latency))
        target = self.estimate * gradient + self.queue_size
        self.estimate = max(self.least, min(self.most, self.estimate * (1 - self.smoothing) + target * self.smoothing))
        self._set(int(self.estimate), now)


def adaptive_limit(settings: AdaptiveConcurrency, on_change: Callable[[float, int], None] | None = None) -> AdaptiveLimit:
    """The limiter `downstream.concurrency = { adaptive = ... }` asks for."""
    if isinstance(settings, GradientConcurrency):
        return GradientLimit(settings, on_change)
    assert isinstance(settings, AIMDConcurrency)
    return AIMDLimit(settings, on_change)
