"""VirtualTimeLoop: an asyncio event loop whose clock is virtual.

When no callback is ready, the loop does not sleep: its clock jumps to the next timer. Everything
that reads `loop.time()` (`asyncio.sleep`, `asyncio.timeout`, `call_later`) follows the virtual
clock unchanged, so the pipeline is ordinary asyncio code. The details below were each measured
(see the README, "How bpsim keeps time"):

* Timers due at the same instant fire in the order they were scheduled (FIFO ties). The stock
  heap breaks ties by heap shape, which is deterministic but unexplainable.
* `_clock_resolution` is set explicitly; the OS default (15.6 ms on Windows) would fire timers
  early and make results depend on the OS.
* When every task waits and no timer is pending the loop raises `Stalled` instead of hanging.
* The clock never reads the wall clock unless it is paced (`Pacing`): a paced run only waits
  *between* jumps, so it executes exactly the same callbacks in the same order as an unpaced one.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import selectors
import time
from collections.abc import Callable
from typing import Any

from bpsim.errors import Stalled

__all__ = ["VirtualTimeLoop", "Pacing", "SPEEDS"]

# The real file descriptors are polled on every this many clock jumps (and before a stall), so
# Ctrl-C and key presses are seen within milliseconds while a run goes at full speed.
_POLL_EVERY = 256

SPEEDS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
"""The speeds `faster()` and `slower()` step through; above the last one comes "max" (None)."""


class _FifoTimer(asyncio.TimerHandle):
    """A timer that, among timers due at the same instant, fires in scheduling order."""

    __slots__ = ("_seq",)

    def __lt__(self, other: _FifoTimer) -> bool:  # type: ignore[override]
        when, other_when = self._when, other._when
        return when < other_when or (when == other_when and self._seq < other._seq)


class Pacing:
    """Paces virtual time against the wall clock and draws frames while it waits.

    Virtual time `t` is shown at wall time `wall_start + t / speed` (anchored, so waiting never
    accumulates drift). `speed=None` runs as fast as the machine allows, still drawing frames.
    `on_frame(shown_at)` is called at most `fps` times per wall second with the virtual time to
    display; pausing, stepping and changing speed re-anchor the mapping. `on_loop(loop)` is called
    once when a `VirtualTimeLoop` adopts this pacing (a dashboard adds its keyboard reader there).
    """

    def __init__(
        self,
        speed: float | None = None,
        *,
        fps: float = 10.0,
        on_frame: Callable[[float], None] | None = None,
        on_loop: Callable[[asyncio.AbstractEventLoop], None] | None = None,
    ) -> None:
        self.speed = speed
        self.paused = False
        self.on_frame = on_frame
        self.on_loop = on_loop
        self.behind = 0.0
        """Wall seconds the clock is behind its schedule (the machine cannot keep up); 0 at max."""
        self._frame_interval = 1.0 / fps
        self._wall_start: float | None = None
        self._wall_next_frame = 0.0
        self._step_pending = False

    def set_speed(self, speed: float | None) -> None:
        self.speed = speed
        self.behind = 0.0
        self._wall_start = None

    def faster(self) -> None:
        """Step up to the next speed in `SPEEDS`; beyond the last one, run at max."""
        if self.speed is not None:
            self.set_speed(next((s for s in SPEEDS if s > self.speed), None))

    def slower(self) -> None:
        """Step down to the next speed in `SPEEDS` (from max: the last one); never below the first."""
        current = self.speed if self.speed is not None else float("inf")
        self.set_speed(max((s for s in SPEEDS if s < current), default=SPEEDS[0]))

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self._wall_start = None

    def step(self) -> None:
        """While paused, let the clock make one jump (to the next event)."""
        self._step_pending = True

    def frame(self, shown_at: float, *, force: bool = False) -> None:
        """Draw a frame if one is due (or `force`)."""
        if self.on_frame is None:
            return
        wall_now = time.monotonic()
        if force or wall_now >= self._wall_next_frame:
            self._wall_next_frame = wall_now + self._frame_interval
            self.on_frame(shown_at)

    def wait_until(self, now: float, target: float, wait: Callable[[float], list[Any]]) -> list[Any]:
        """Wait (with `wait(seconds)`, a real select) until virtual `target` is due on the wall.

        Returns the real events that woke it early (a key, Ctrl-C) without letting time move;
        returns [] when the clock may jump to `target`.
        """
        while True:
            if self.paused:
                if self._step_pending:
                    self._step_pending = False
                    self.frame(target, force=True)
                    return []
                self.frame(now)
                if ready := wait(self._frame_interval):
                    return ready
                continue
            if self.speed is None:
                self.frame(target)
                return []
            wall_now = time.monotonic()
            if self._wall_start is None:
                self._wall_start = wall_now - now / self.speed
            wall_due = self._wall_start + target / self.speed
            if wall_due <= wall_now:
                self.behind = wall_now - wall_due
                self.frame(target)
                return []
            self.behind = 0.0
            ready = wait(min(wall_due - wall_now, self._frame_interval))
            self.frame(min(target, (time.monotonic() - self._wall_start) * self.speed))
            if ready:
                return ready


class _VirtualSelector(selectors.DefaultSelector):
    """Polls the real file descriptors now and then, without blocking, and lets the loop jump.

    The loop only asks when nothing is ready (see `VirtualTimeLoop._run_once`): time is about to
    jump, or the run has stalled. The real descriptors (the self-pipe that Ctrl-C and
    `call_soon_threadsafe` write to, the keyboard of a live view) are polled before a stall is
    declared and on every `_POLL_EVERY`-th jump, not on every one: a system call per jump would
    cost more than the simulation step it precedes.
    """

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop
        self._unpolled = 0

    def select(self, timeout: float | None = None) -> list[Any]:
        self._unpolled += 1
        if timeout is None or self._unpolled >= _POLL_EVERY:
            self._unpolled = 0
            if ready := super().select(0):
                return ready
        if timeout == 0:
            return []
        if timeout is None:
            raise Stalled(
                f"t={self._loop.time():.6f}: every task waits and no timer is pending, "
                "so the simulation can never move on"
            )
        return self._loop._advance(timeout, super().select)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop on virtual time; optionally paced against the wall clock."""

    def __init__(self, pacing: Pacing | None = None) -> None:
        self._now = 0.0
        self._timer_seq = itertools.count()
        self.pacing = pacing
        super().__init__(selector=_VirtualSelector(self))
        # Timers due before now + resolution fire now. It must be > 0 (a timer due exactly now
        # must fire) and small enough that `now + resolution > now` for any realistic run.
        self._clock_resolution = 1e-9
        if pacing is not None and pacing.on_loop is not None:
            pacing.on_loop(self)

    def time(self) -> float:
        """The virtual time in seconds since the loop was created."""
        return self._now

    def call_at(self, when: float, callback: Callable[..., object], *args: Any, context: Any = None) -> asyncio.TimerHandle:
        """Like `BaseEventLoop.call_at`, but ties between equal `when` fire first-scheduled first."""
        self._check_closed()
        if self._debug:
            self._check_thread()
            self._check_callback(callback, "call_at")
        timer = _FifoTimer(when, callback, args, self, context)
        timer._seq = next(self._timer_seq)
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer

    def _run_once(self) -> None:
        """One loop iteration; while callbacks are ready, without asking the selector.

        `BaseEventLoop._run_once` asks the selector for I/O on every iteration (with timeout 0
        while callbacks are ready), then moves the timers due now to the ready queue and runs
        the ready callbacks. On virtual time the clock cannot move while callbacks are ready, so
        this iteration skips the selector and does the other two steps exactly as the stock one
        does, in the same order. With nothing ready (time is about to jump, or the run has
        stalled), in debug mode and when the loop is stopping, the stock iteration runs.
        """
        ready = self._ready
        if not ready or self._debug or self._stopping:
            super()._run_once()
            return
        scheduled, due_before = self._scheduled, self._now + self._clock_resolution
        while scheduled and scheduled[0]._when < due_before:
            timer = heapq.heappop(scheduled)
            timer._scheduled = False
            ready.append(timer)
        for _ in range(len(ready)):
            handle = ready.popleft()
            if not handle._cancelled:
                handle._run()

    def _advance(self, timeout: float, wait: Callable[[float], list[Any]]) -> list[Any]:
        """Jump the clock to the next timer (or by `timeout`, which asyncio caps at a day)."""
        target = self._now + timeout
        if self._scheduled:
            # Land exactly on the timer's deadline: now + (when - now) can be off by an ulp.
            target = min(target, self._scheduled[0]._when)
        if self.pacing is not None and (ready := self.pacing.wait_until(self._now, target, wait)):
            return ready
        self._now = max(self._now, target)
        # Timers due before now + resolution fire now, so now + resolution must exceed now. Past
        # 2**23 s (97 days) 1e-9 is below a float's spacing and would vanish (CPython gh-116342):
        # then one spacing (ulp) is used, still far below anything a scenario can express.
        self._clock_resolution = max(1e-9, math.ulp(self._now))
        return []
