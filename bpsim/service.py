"""The service behind the call: a server that has a capacity, slows down under load, and fails.

Without a `[downstream]` service model the pipeline's call is `await asyncio.sleep(service)`: an
ideal server that answers every call in its own time, whatever else is going on. `Service` is
the server a real API or database is (docs/downstream.md):

* **capacity**: at most `capacity` calls are in service; the others wait, first come first
  served, in a queue inside the service that the client cannot see. That wait counts against the
  client's `asyncio.timeout`, like any other part of the call.
* **contention σ, coherency κ** (the Universal Scalability Law): with n calls in service the
  service does X(n) = n / (1 + σ(n−1) + κ·n(n−1)) times the work of a lone call per second,
  shared equally (processor sharing). A call's *work* is its item's service time, the time it
  takes when it is alone.
* **the client leaving changes nothing**: when the client's timeout fires (or an immediate
  shutdown cancels its worker) the service does not know; it finishes the call anyway, for
  nobody. That work is *wasted*. With `cancel_abandoned` the service drops the call as soon as
  its client has left (deadline propagation), so only the work done until then is wasted.
* **failures**: a call can fail when its work is done (`errors`, a 500), be refused at once by a
  token bucket (`rate_limit`, a 429), or meet an outage (`outages`). The call raises
  `CallFailed` with the reason.

How the sharing is computed: all calls in service progress at the same rate, X(n)/n seconds of
work per second. So the service keeps one number, `progress`: the work each call in service has
received since the service was last empty. A call that enters at progress P with work w is done
when progress reaches P + w; a heap orders those finishing points, and one timer
(`loop.call_at`) is set for the first of them. Each arrival and departure changes n, hence the
rate: the timer is set again. That is O(log n) per event, however many calls share the server.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bpsim.outcomes import FailReason
from bpsim.scenario import Downstream, Outage

__all__ = [
    "CallFailed",
    "Left",
    "Service",
    "ServiceTotals",
    "TokenBucket",
    "models_a_service",
    "per_call_rate",
]


class CallFailed(Exception):
    """The service answered the call with a failure: an error, a 429, an outage (`reason`)."""

    def __init__(self, reason: FailReason) -> None:
        super().__init__(reason)
        self.reason = reason


class Left(StrEnum):
    """What became of a call when its client gave up on it (`Service.last_left`)."""

    WORKING = "working"
    """In service: the service goes on working on it, for nobody."""
    WAITING = "waiting"
    """Waiting for a place inside the service: it will still be worked on, for nobody."""
    DROPPED = "dropped"
    """`cancel_abandoned`: the service dropped it at once."""
    ANSWERED = "answered"
    """Its answer came at the very instant the client gave up: done, and not read."""
    HANGING = "hanging"
    """A "hang" outage: the service was not answering anyway."""


def models_a_service(settings: Downstream) -> bool:
    """Whether `[downstream]` asks for more than the ideal delay (`await asyncio.sleep(work)`)."""
    return (
        settings.capacity is not None
        or settings.contention > 0
        or settings.coherency > 0
        or settings.cancel_abandoned
        or settings.errors > 0
        or settings.rate_limit is not None
        or bool(settings.outages)
    )


def per_call_rate(n: int, contention: float, coherency: float) -> float:
    """Seconds of work each of `n` calls in service receives per second: X(n) / n.

    X(n) = n / (1 + σ(n−1) + κ·n(n−1)), so X(n)/n = 1 / (1 + σ(n−1) + κ·n(n−1)); 1 for a lone call.
    """
    return 1.0 / (1.0 + contention * (n - 1) + coherency * n * (n - 1))


class TokenBucket:
    """`rate` tokens per second, at most `burst` kept; `take` spends one if there is one.

    Starts full. In any window of t seconds it lets at most rate·t + burst calls through.
    """

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self._since = 0.0

    def refill(self, now: float) -> None:
        """Add the tokens that arrived since the last refill, keeping at most `burst`."""
        self.tokens = min(self.burst, self.tokens + (now - self._since) * self.rate)
        self._since = now

    def take(self, now: float) -> bool:
        self.refill(now)
        # A hair of tolerance: 0.1 s at 10/s must refill one whole token, float rounding or not.
        if self.tokens >= 1.0 - 1e-9:
            self.tokens = max(0.0, self.tokens - 1.0)
            return True
        return False


_WAITING, _SERVING, _DONE, _DROPPED = "waiting", "serving", "done", "dropped"


@dataclass(frozen=True, slots=True)
class ServiceTotals:
    """What the service did in one run (JSON `downstream`)."""

    max_in_service: int
    wasted_calls: int
    """Calls the service worked on for a client that had given up on them."""
    wasted_seconds: float
    """The work those calls got (as a lone call's seconds): capacity spent on answers nobody read."""


class _Call:
    """One call inside the service: waiting for a place, or in service."""

    __slots__ = ("work", "number", "answer", "place", "entered", "finish", "left", "wasted")

    def __init__(self, work: float, number: int, answer: asyncio.Future[None]) -> None:
        self.work = work
        self.number = number
        self.answer = answer
        """Resolved when the work is done; the client awaits it."""
        self.place = _WAITING
        """_WAITING for a place, _SERVING, _DONE (work finished) or _DROPPED (cancel_abandoned)."""
        self.entered = 0.0
        """`progress` when the call entered service."""
        self.finish = 0.0
        """`progress` at which its work is done."""
        self.left = False
        """Its client gave up on it (timeout, shutdown)."""
        self.wasted = False
        """Its work was counted as wasted."""


class Service:
    """The server behind the pipeline's call, on the running loop's (virtual) clock.

    What a caller can rely on:

    * `await call(work)` returns after `work` seconds when the call is alone in service, later
      when it shares the server or waits for a place; it raises `CallFailed(reason)` on a failure.
    * Cancelling the awaiting task (a timeout, a shutdown) returns at once, but the service keeps
      the call and finishes it unless `cancel_abandoned`; `wasted_calls` and `wasted_seconds(now)`
      count that work.
    * The service holds no task: only timers. When the client side is done, `close()` cancels
      them, so leftover work never keeps a run going.
    """

    def __init__(self, settings: Downstream, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.capacity = settings.capacity
        self.contention = settings.contention
        self.coherency = settings.coherency
        self.cancel_abandoned = settings.cancel_abandoned
        self.errors = settings.errors
        limit = settings.rate_limit
        self.bucket = TokenBucket(limit.rate, limit.depth) if limit is not None else None
        self.outages: tuple[Outage, ...] = tuple(sorted(settings.outages, key=lambda o: o.at))
        self.in_service = 0
        """Calls being worked on now."""
        self.waiting: deque[_Call] = deque()
        """The queue inside the service, for a place in service (only with a capacity)."""
        self.max_in_service = 0
        self.wasted_calls = 0
        """Calls the service worked on for a client that gave up on them (finished or dropped since)."""
        self._wasted_seconds = 0.0
        self.on_wasted: Callable[[int, float, bool], None] | None = None
        """Told `(call number, seconds of work, finished)` when the service is done with a call
        nobody awaits: it finished it (True) or dropped it (False, `cancel_abandoned`)."""
        self.last_left: Left | None = None
        """What became of the last call whose client gave up: read it as the cancellation
        reaches the client (no other call can leave in between)."""
        self._progress = 0.0
        self._since = 0.0
        self._rate = 1.0
        self._heap: list[tuple[float, int, _Call]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    # -- the call ---------------------------------------------------------------------------------

    async def call(self, work: float, luck: float = 1.0, number: int = -1) -> None:
        """Send one call of `work` seconds; `luck` (uniform in [0, 1)) decides an error: < errors.

        `number` names the call in what the service reports (the item's number).
        """
        now = self.loop.time()
        if self.outages and (outage := self.outage_at(now)) is not None:
            if outage.mode == "hang":
                try:
                    await asyncio.sleep(outage.at + outage.duration - now)  # no answer until it ends
                except asyncio.CancelledError:
                    self.last_left = Left.HANGING
                    raise
            raise CallFailed(FailReason.OUTAGE)
        if self.bucket is not None and not self.bucket.take(now):
            raise CallFailed(FailReason.RATE_LIMITED)
        call = _Call(work, number, self.loop.create_future())
        if self.capacity is None or self.in_service < self.capacity:
            self._advance(now)
            self._enter(call)
            self._set_timer()
        else:
            self.waiting.append(call)
        try:
            await call.answer
        except asyncio.CancelledError:
            self.last_left = self._client_left(call)
            raise
        if luck < self.errors:
            raise CallFailed(FailReason.ERROR)

    def outage_at(self, now: float) -> Outage | None:
        """The outage going on at `now`, if any."""
        for outage in self.outages:
            if outage.at <= now < outage.at + outage.duration:
                return outage
            if outage.at > now:
                break
        return None

    # -- processor sharing ------------------------------------------------------------------------

    def _advance(self, now: float) -> None:
        """Bring `progress` up to `now` at the current per-call rate."""
        self._progress += (now - self._since) * self._rate
        self._since = now

    def _enter(self, call: _Call) -> None:
        call.place = _SERVING
        call.entered = self._progress
        call.finish = self._progress + call.work
        heapq.heappush(self._heap, (call.finish, next(self._order), call))
        self.in_service += 1
        if self.in_service > self.max_in_service:
            self.max_in_service = self.in_service

    def _set_timer(self) -> None:
        """The rate for the calls in service now, and the timer for the first to finish."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        heap = self._heap
        while heap and heap[0][2].place is _DROPPED:
            heapq.heappop(heap)
        if not heap:
            self._progress = 0.0  # empty: start counting afresh (smaller numbers, less rounding)
            return
        self._rate = per_call_rate(self.in_service, self.contention, self.coherency)
        when = self._since + (heap[0][0] - self._progress) / self._rate
        self._timer = self.loop.call_at(when, self._finish_first)

    def _finish_first(self) -> None:
        """The timer: the first call's work is done (and any other call's that ends with it)."""
        self._timer = None
        self._advance(self.loop.time())
        heap = self._heap
        # The timer was set for heap[0]: it is done even if rounding left progress a hair short.
        self._progress = max(self._progress, heap[0][0])
        while heap and heap[0][0] <= self._progress:
            call = heapq.heappop(heap)[2]
            if call.place is _SERVING:
                self.in_service -= 1
                self._done(call)
        self._fill_places()
        self._set_timer()

    def _fill_places(self) -> None:
        """Let the calls waiting inside the service into the places that are free."""
        while self.waiting and (self.capacity is None or self.in_service < self.capacity):
            self._enter(self.waiting.popleft())

    def _done(self, call: _Call) -> None:
        call.place = _DONE
        # The answer may be cancelled already: the client's timeout fired at this same instant,
        # and its task has not yet run to say so (`_client_left`).
        if call.left or call.answer.cancelled():
            self._waste(call, call.work)
        else:
            call.answer.set_result(None)

    def _client_left(self, call: _Call) -> Left:
        """The client gave up (its awaiting task was cancelled). The service may not know."""
        call.left = True
        if call.place is _DONE:
            self._waste(call, call.work)
            return Left.ANSWERED
        if not self.cancel_abandoned:
            # The service does not know: it finishes the call, for nobody.
            return Left.WAITING if call.place is _WAITING else Left.WORKING
        if call.place is _WAITING:
            self.waiting.remove(call)  # never started: nothing wasted
        else:
            self._advance(self.loop.time())
            call.place = _DROPPED
            self.in_service -= 1
            self._waste(call, self._progress - call.entered, finished=False)
            self._fill_places()
            self._set_timer()
        return Left.DROPPED

    def _waste(self, call: _Call, seconds: float, finished: bool = True) -> None:
        if call.wasted or seconds <= 0:
            return
        call.wasted = True
        self.wasted_calls += 1
        self._wasted_seconds += seconds
        if self.on_wasted is not None:
            self.on_wasted(call.number, seconds, finished)

    # -- what the service reports -----------------------------------------------------------------

    def wasted_seconds(self, now: float) -> float:
        """Seconds of work (as a lone call's) spent on calls nobody awaits, up to `now`.

        Includes the calls still in service whose client has left: their work so far.
        """
        return self._wasted_seconds + sum(self._abandoned_in_service(now))

    def wasted_calls_at(self, now: float) -> int:
        """`wasted_calls`, plus the calls still in service for nobody that got some work by `now`."""
        return self.wasted_calls + sum(1 for done in self._abandoned_in_service(now) if done > 0)

    def _abandoned_in_service(self, now: float) -> list[float]:
        """The work done by `now` on each call in service whose client has left."""
        progress = self._progress + (now - self._since) * self._rate
        return [
            min(call.work, progress - call.entered)
            for _, _, call in self._heap
            if call.place is _SERVING and call.left
        ]

    def totals(self, now: float) -> ServiceTotals:
        """What the service did up to `now` (the end of the run)."""
        return ServiceTotals(self.max_in_service, self.wasted_calls_at(now), self.wasted_seconds(now))

    def close(self) -> None:
        """The client side is done: cancel the timer, so the leftover work keeps nothing going."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
