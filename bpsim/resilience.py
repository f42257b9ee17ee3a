"""What a careful client puts around a call: backoff with jitter, a retry budget, a breaker, a throttle.

Each piece is small and reads like the code one would write in a real asyncio client; the
pipeline's retry loop (`Pipeline.call_with_retries`) uses them. Time is whatever the running
loop says, so on bpsim's virtual clock they run exactly as they would on a real one.

The randomness (jitter, a retry's work and luck) is drawn by the pipeline from `workload.Draws`:
a number for (purpose, item, attempt) that depends on nothing else, so item 7's second retry
waits just as long under every variant compared, whatever the other items did.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bpsim.service import TokenBucket

__all__ = ["RetryCounts", "BreakerCounts", "Jitter", "Backoff", "RetryBudget", "BreakerState", "CircuitBreaker", "Throttle"]

@dataclass(slots=True)
class RetryCounts:
    """What the retry loop did (JSON `retry`)."""

    attempts: int = 0
    """Calls made (sent to the downstream), first attempts and retries."""
    retries: int = 0
    """Of those, the retries."""
    refused_by_budget: int = 0
    """Retries the budget refused: not sent, their item gave up."""


@dataclass(frozen=True, slots=True)
class BreakerCounts:
    """What the circuit breaker did (JSON `breaker`)."""

    opened: int
    """Times it opened, again after a failed probe included."""
    refused: int
    """Calls it failed at once (reason circuit-open), without reaching the service."""


class Jitter(StrEnum):
    """How a backoff sleep is randomised (Marc Brooker, "Exponential Backoff And Jitter", 2015)."""

    NONE = "none"
    FULL = "full"
    EQUAL = "equal"
    DECORRELATED = "decorrelated"


class Backoff:
    """The sleep before each retry: exponential up to a cap, with jitter.

    With b = initial, m = multiplier, cap = max and retry a (0 for the first retry),
    t = min(cap, b·m^a) and u a uniform draw in [0, 1):

        none          t
        full          u·t                   uniform(0, t)
        equal         t/2 + u·t/2           uniform(t/2, t)
        decorrelated  min(cap, b + u·(3·previous − b))   uniform(b, 3·previous), previous = b at first

    The blog's formulas use m = 2; decorrelated jitter ignores m (its growth is the factor 3).
    """

    def __init__(self, initial: float, multiplier: float, cap: float, jitter: Jitter) -> None:
        self.initial = initial
        self.multiplier = multiplier
        self.cap = cap
        self.jitter = jitter

    def sleep(self, retry: int, previous: float, u: float) -> float:
        """Seconds to sleep before retry number `retry` (0 = the first), after `previous`."""
        if self.jitter is Jitter.DECORRELATED:
            low = self.initial
            return min(self.cap, low + u * (3 * max(previous, low) - low))
        ceiling = min(self.cap, self.initial * self.multiplier**retry)
        if self.jitter is Jitter.FULL:
            return u * ceiling
        if self.jitter is Jitter.EQUAL:
            return ceiling / 2 + u * ceiling / 2
        return ceiling


class RetryBudget:
    """Retries may be at most `ratio` of recent requests, plus `min_per_second` per second.

    "Recent" is the last `window` seconds (Finagle's deposits expire after 10 s, its default):
    a retry is allowed at time now if, counting over (now − window, now],

        retries + 1 <= ratio · first_attempts + min_per_second · window

    so in every window of that length the retries sent never exceed the right-hand side. A retry
    that is refused is not sent: its item gives up with the failure it had. First attempts are
    never refused (the budget limits only the extra load that retries add), as in Finagle.
    """

    def __init__(self, ratio: float, min_per_second: float, window: float = 10.0) -> None:
        self.ratio = ratio
        self.min_per_second = min_per_second
        self.window = window
        self._first_attempts: deque[float] = deque()
        self._retries: deque[float] = deque()

    def requested(self, now: float) -> None:
        """A first attempt was sent at `now` (a deposit)."""
        self._first_attempts.append(now)

    def try_retry(self, now: float) -> bool:
        """May a retry go at `now`? If so it is counted as sent (a withdrawal)."""
        since = now - self.window
        for times in (self._first_attempts, self._retries):
            while times and times[0] <= since:
                times.popleft()
        allowed = self.ratio * len(self._first_attempts) + self.min_per_second * self.window
        if len(self._retries) + 1 > allowed:
            return False
        self._retries.append(now)
        return True


class BreakerState(StrEnum):
    CLOSED = "closed"
    """Calls pass; failures are counted."""
    OPEN = "open"
    """Calls fail at once without reaching the service, until the cool-down has passed."""
    HALF_OPEN = "half-open"
    """A few trial calls (probes) pass; the others fail at once."""


class CircuitBreaker:
    """Michael Nygard's circuit breaker (*Release It!*, 2007), on the loop's clock.

    closed → open when `failures` calls failed within `window` seconds; open → half-open after
    `cooldown` seconds; half-open lets `probes` calls through: when all of them succeed it closes,
    when one fails it opens again. Results of calls let through before the latest change of
    state are ignored (a slow call from before the breaker opened says nothing about now), so
    each call carries the `ticket` that `admit` gave it.
    """

    def __init__(self, failures: int, window: float, cooldown: float, probes: int) -> None:
        self.failures = failures
        self.window = window
        self.cooldown = cooldown
        self.probes = probes
        self.opened = 0
        """How many times it opened (again after a failed probe too)."""
        self.refused = 0
        """Calls that failed at once because it was open (or half-open with its probes out)."""
        self._state = BreakerState.CLOSED
        self._since = 0.0
        self._epoch = 0
        self._recent_failures: deque[float] = deque()
        self._probes_sent = 0
        self._probes_passed = 0
        self.on_change: Callable[[BreakerState, float], None] | None = None
        """Called with the new state and the time whenever the state changes (it is noticed
        when next asked: open → half-open at the first call after the cool-down)."""

    def counts(self) -> BreakerCounts:
        return BreakerCounts(self.opened, self.refused)

    def looks(self, now: float) -> BreakerState:
        """The state at `now`, for a display: like `state` without changing anything."""
        if self._state is BreakerState.OPEN and now >= self._since + self.cooldown:
            return BreakerState.HALF_OPEN
        return self._state

    def state(self, now: float) -> BreakerState:
        if self._state is BreakerState.OPEN and now >= self._since + self.cooldown:
            self._state, self._since = BreakerState.HALF_OPEN, self._since + self.cooldown
            self._probes_sent = self._probes_passed = 0
            if self.on_change is not None:
                self.on_change(self._state, now)
        return self._state

    def admit(self, now: float) -> int | None:
        """A ticket for a call at `now`, or None: the call fails at once (reason circuit-open)."""
        state = self.state(now)
        if state is BreakerState.CLOSED:
            return self._epoch
        if state is BreakerState.HALF_OPEN and self._probes_sent < self.probes:
            self._probes_sent += 1
            return self._epoch
        self.refused += 1
        return None

    def succeeded(self, ticket: int, now: float) -> None:
        if ticket != self._epoch or self.state(now) is not BreakerState.HALF_OPEN:
            return
        self._probes_passed += 1
        if self._probes_passed == self.probes:
            self._change(BreakerState.CLOSED, now)
            self._recent_failures.clear()

    def failed(self, ticket: int, now: float) -> None:
        if ticket != self._epoch:
            return
        state = self.state(now)
        if state is BreakerState.HALF_OPEN:
            self._open(now)
        elif state is BreakerState.CLOSED:
            failures = self._recent_failures
            failures.append(now)
            while failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) >= self.failures:
                self._open(now)

    def _open(self, now: float) -> None:
        self.opened += 1
        self._change(BreakerState.OPEN, now)

    def _change(self, state: BreakerState, now: float) -> None:
        self._state, self._since = state, now
        self._epoch += 1
        if self.on_change is not None:
            self.on_change(state, now)


class Throttle:
    """A token bucket the client waits on before each call: `await throttle.acquire()`.

    Tokens arrive at `rate` per second up to `burst`; each call takes one. A caller that finds
    none takes the next one still to come and sleeps until it arrives (the bucket goes into
    debt), so callers pass in the order they came, like aiolimiter's `AsyncLimiter`, and in any
    t seconds at most rate·t + burst calls pass.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.waited_seconds = 0.0
        """Seconds callers spent waiting for a token, summed over callers."""
        self._bucket = TokenBucket(rate, float(burst))  # the server's bucket, refilled the same way

    async def acquire(self) -> None:
        """Take a token, waiting for it if none is left."""
        now = asyncio.get_running_loop().time()
        bucket = self._bucket
        bucket.refill(now)
        bucket.tokens -= 1
        if bucket.tokens < 0:
            wait = -bucket.tokens / self.rate
            try:
                await asyncio.sleep(wait)
            except asyncio.CancelledError:
                bucket.tokens += 1  # a caller cancelled while waiting gives its token back
                wait = asyncio.get_running_loop().time() - now
                raise
            finally:
                self.waited_seconds += wait
