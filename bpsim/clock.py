"""VirtualTimeLoop: an asyncio event loop whose clock is virtual.

When no callback is ready, the loop does not sleep: its clock jumps to the next timer. Everything
that reads `loop.time()` (`asyncio.sleep`, `asyncio.timeout`, `call_later`) follows the virtual
clock unchanged, so the pipeline is ordinary asyncio code. The details below were each measured
(see docs/architecture.md, "How bpsim keeps time"):

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
import contextvars
import heapq
import itertools
import math
import time
from collections.abc import Callable
from typing import Any

from bpsim.errors import Stalled

__all__ = ["VirtualTimeLoop", "Pacing", "Rewind", "SPEEDS", "MAX_SPEED_FRAME_SHARE"]

# The real file descriptors are polled on every this many clock jumps (and before a stall), so
# Ctrl-C and key presses are seen within milliseconds while a run goes at full speed.
_POLL_EVERY = 256

# At max speed a frame may be due on every this many clock jumps (a fraction of a millisecond).
_MAX_SPEED_CHECK_EVERY = 32

MAX_SPEED_FRAME_SHARE = 0.025
"""At `--speed max`, the largest share of the run's wall time that drawing frames may take."""

# At max speed the first frame comes this far into the run. A 10-minute scenario is over in
# about 0.3 s: a frame drawn in it would be on the screen for a blink, at the price of 2% of
# the run. Such a run shows its final frame only, which the view always draws.
_MAX_SPEED_FIRST_FRAME = 0.5

SPEEDS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
"""The speeds `faster()` and `slower()` step through; above the last one comes "max" (None)."""


class Rewind(Exception):
    """Raised out of a paced run when a rewind was asked for (`Pacing.rewind`): run it again.

    A run cannot go back in time, but it is deterministic: running it again from the start to
    simulated time `to`, at full speed and without frames (`Pacing.catch_up`), shows what was
    on the screen at `to`.
    """

    def __init__(self, to: float) -> None:
        super().__init__(f"rewind to t={to}")
        self.to = to


class Pacing:
    """Paces virtual time against the wall clock and draws frames while it waits.

    Virtual time `t` is shown at wall time `wall_start + t / speed` (anchored, so waiting never
    accumulates drift). `speed=None` runs as fast as the machine allows, still drawing frames.
    `on_frame(shown_at)` is called at most `fps` times per wall second with the virtual time to
    display; pausing, stepping and changing speed re-anchor the mapping. `on_loop(loop)` is called
    once when a `VirtualTimeLoop` adopts this pacing (a dashboard adds its keyboard reader there).

    Stops (`pause_at`) pause the clock when it reaches their simulated time, showing that time;
    `rewind(to)` ends the run with `Rewind`, and `catch_up(to)` makes the next run go to `to` at
    full speed, silently, and pause there.
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
        # The first frame is drawn at once, except at max speed.
        self._wall_next_frame = 0.0 if speed is not None else time.monotonic() + _MAX_SPEED_FIRST_FRAME
        self._step_pending = False
        self._stops: list[float] = []
        """The stops still ahead, soonest first."""
        self._every_stop: set[float] = set()
        self.next_stop = math.inf
        """The simulated time of the next stop (inf: none); the loop asks `wait_until` before reaching it."""
        self._held_at = 0.0
        """The time shown since the clock paused at a stop (the clock itself is still before it)."""
        self._rewind_to: float | None = None
        self._catching_up = False

    def pause_at(self, *times: float) -> None:
        """Pause the clock when it reaches each of these simulated times."""
        self._every_stop.update(times)
        self._stops = sorted({*self._stops, *times})
        self._next_stop_changed()

    def _next_stop_changed(self) -> None:
        self.next_stop = -math.inf if self._rewind_to is not None else self._stops[0] if self._stops else math.inf

    def rewind(self, to: float) -> None:
        """End the run at its next clock jump with `Rewind(to)` (whoever runs it runs it again)."""
        self._rewind_to = max(0.0, to)
        self._next_stop_changed()

    def catch_up(self, to: float) -> None:
        """For the run that starts next: go to simulated time `to` at full speed, without frames,
        and pause there. The stops after `to` come again."""
        self._catching_up = True
        self._held_at = 0.0
        self._wall_start = None
        self._stops = [to] + sorted(stop for stop in self._every_stop if stop > to)
        self._next_stop_changed()

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
        """Draw a frame if one is due (or `force`).

        At max speed every frame's wall time is taken from the run, so frames are spaced to keep
        drawing under `MAX_SPEED_FRAME_SHARE` of it (at 2.5%, a frame that took 5 ms is followed
        by the next one 200 ms later). Paced, the clock waits anyway and `fps` holds.
        """
        if self.on_frame is None:
            return
        wall_now = time.monotonic()
        if force or wall_now >= self._wall_next_frame:
            self.on_frame(shown_at)
            gap = self._frame_interval
            if self.speed is None:
                gap = max(gap, (time.monotonic() - wall_now) / MAX_SPEED_FRAME_SHARE)
            self._wall_next_frame = wall_now + gap

    def wait_until(self, now: float, target: float, wait: Callable[[float], list[Any]]) -> list[Any]:
        """Wait (with `wait(seconds)`, a real select) until virtual `target` is due on the wall.

        Returns the real events that woke it early (a key, Ctrl-C) without letting time move;
        returns [] when the clock may jump to `target`. Raises `Rewind` if one was asked for.
        """
        self._rewind_if_asked()
        if target >= self.next_stop:
            # A stop lies between now and the next jump: pause, showing the stop's own time.
            self._held_at = self._stops.pop(0)
            self._next_stop_changed()
            self.paused, self._catching_up = True, False
            self.frame(max(now, self._held_at), force=True)
        if self._catching_up:
            return []
        while True:
            self._rewind_if_asked()  # a key read while waiting (or a frame) may have asked
            shown = max(now, self._held_at)
            if self.paused:
                if self._step_pending:
                    self._step_pending = False
                    self.frame(target, force=True)
                    return []
                self.frame(shown)
                if ready := wait(self._frame_interval):
                    return ready
                continue
            if self.speed is None:
                self.frame(target)
                return []
            wall_now = time.monotonic()
            if self._wall_start is None:
                self._wall_start = wall_now - shown / self.speed
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


    def _rewind_if_asked(self) -> None:
        if self._rewind_to is not None:
            to, self._rewind_to = self._rewind_to, None
            # Until the next run begins, the one being torn down moves without waiting or drawing.
            self.paused, self._catching_up = False, True
            self._next_stop_changed()
            raise Rewind(to)


class _Callback(asyncio.Handle):
    """`asyncio.Handle` as the stock loop builds it outside debug mode, with one call less.

    `Handle.__init__` asks `loop.get_debug()` each time; a simulation step schedules a few
    handles, so the call shows in the profile. In debug mode the loop uses the stock handles.
    """

    __slots__ = ()

    def __init__(self, callback: Callable[..., object], args: tuple[Any, ...], loop: asyncio.AbstractEventLoop, context: contextvars.Context | None) -> None:
        self._context = contextvars.copy_context() if context is None else context
        self._loop = loop
        self._callback = callback
        self._args = args
        self._cancelled = False
        self._repr = None
        self._source_traceback = None


class _Timer(_Callback, asyncio.TimerHandle):
    """`asyncio.TimerHandle`, built (as a `_Callback`) and cancelled with fewer calls.

    Every `asyncio.sleep` builds one and cancels it once it has fired; the stock `cancel`
    takes three Python calls to do what the four lines below do. `call_at` sets `_when`.
    """

    __slots__ = ()

    def cancel(self) -> None:
        if not self._cancelled:
            if self._scheduled:
                self._loop._timer_cancelled_count += 1  # type: ignore[attr-defined]
            self._cancelled = True
            self._callback = None  # type: ignore[assignment]
            self._args = None  # type: ignore[assignment]


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop on virtual time; optionally paced against the wall clock.

    `_run_once` and the three `call_*` methods differ from the stock loop; tasks, futures, queues
    and timeouts are asyncio's own. `_scheduled` holds `(when, seq, timer)` entries instead of
    bare timers: timers due at the same instant fire in scheduling order (`seq`), and the heap
    compares tuples in C instead of calling `TimerHandle.__lt__` in Python. Outside debug mode
    handles are built with fewer calls (`_Callback`, `_Timer`): a simulation step is a handful of
    callbacks, so asyncio's per-callback bookkeeping is a large part of its cost.
    """

    def __init__(self, pacing: Pacing | None = None) -> None:
        self._now = 0.0
        self._timer_seq = itertools.count()
        self._jumps_unpolled = 0
        self.pacing = pacing
        super().__init__()
        self._scheduled: list[tuple[float, int, asyncio.TimerHandle]] = []  # type: ignore[assignment]
        # Timers due before now + resolution fire now. It must be > 0 (a timer due exactly now
        # must fire) and small enough that `now + resolution > now` for any realistic run.
        self._clock_resolution = 1e-9
        if pacing is not None and pacing.on_loop is not None:
            pacing.on_loop(self)

    def time(self) -> float:
        """The virtual time in seconds since the loop was created."""
        return self._now

    def call_soon(self, callback: Callable[..., object], *args: Any, context: contextvars.Context | None = None) -> asyncio.Handle:
        """`BaseEventLoop.call_soon`, with a `_Callback` outside debug mode."""
        if self._debug:
            return super().call_soon(callback, *args, context=context)
        if self._closed:  # `_check_closed()`, inlined: this runs several times per item
            raise RuntimeError("Event loop is closed")
        handle = _Callback(callback, args, self, context)
        self._ready.append(handle)
        return handle

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any, context: contextvars.Context | None = None) -> asyncio.TimerHandle:
        """`BaseEventLoop.call_later` without its detour (every `asyncio.sleep` comes here)."""
        if self._debug:
            return super().call_later(delay, callback, *args, context=context)
        return self.call_at(self._now + delay, callback, *args, context=context)

    def call_at(self, when: float, callback: Callable[..., object], *args: Any, context: contextvars.Context | None = None) -> asyncio.TimerHandle:
        """Like `BaseEventLoop.call_at`, but ties between equal `when` fire first-scheduled first."""
        if self._closed:  # `_check_closed()`, inlined: this runs several times per item
            raise RuntimeError("Event loop is closed")
        if self._debug:
            self._check_thread()
            self._check_callback(callback, "call_at")
            timer = asyncio.TimerHandle(when, callback, args, self, context)
            timer._scheduled = True
        else:
            timer = _Timer(callback, args, self, context)
            timer._when, timer._scheduled = when, True
        heapq.heappush(self._scheduled, (when, next(self._timer_seq), timer))
        return timer

    def _run_once(self) -> None:
        """One loop iteration: the stock one's steps, in its order, on virtual time.

        `BaseEventLoop._run_once` drops cancelled timers, asks the selector for I/O (waiting
        until the next timer when nothing is ready), moves the timers due now to the ready
        queue, and runs the ready callbacks. Here the wait is a jump of the clock, and the
        selector is not asked at all while callbacks are ready: virtual time cannot move then,
        and a system call per iteration would cost more than the step it precedes.
        """
        self._drop_cancelled_timers()
        ready, scheduled = self._ready, self._scheduled
        if not ready and not self._stopping:
            if events := self._next_instant():
                self._process_events(events)
        # Then run the ready callbacks, and those they make ready, as the stock loop's following
        # iterations would (in the same order: each batch, then the timers due now), until none is
        # ready or the loop is stopping. Returning to `run_forever` between batches is its cost.
        due_before = self._now + self._clock_resolution
        popleft = ready.popleft
        while True:
            while scheduled and scheduled[0][0] < due_before:
                timer = heapq.heappop(scheduled)[2]
                timer._scheduled = False
                ready.append(timer)
            for _ in range(len(ready)):
                handle = popleft()
                if not handle._cancelled:
                    handle._run()
            if self._stopping or not (ready or (scheduled and scheduled[0][0] < due_before)):
                return

    def _drop_cancelled_timers(self) -> None:
        # The stock loop's rule: rebuild the heap when most of it is cancelled (timeouts that
        # were not needed), else pop cancelled timers off its head.
        scheduled = self._scheduled
        if len(scheduled) > 100 and self._timer_cancelled_count > len(scheduled) / 2:
            kept = []
            for entry in scheduled:
                if entry[2]._cancelled:
                    entry[2]._scheduled = False
                else:
                    kept.append(entry)
            heapq.heapify(kept)
            self._scheduled, self._timer_cancelled_count = kept, 0
        else:
            while scheduled and scheduled[0][2]._cancelled:
                self._timer_cancelled_count -= 1
                heapq.heappop(scheduled)[2]._scheduled = False

    def _next_instant(self) -> list[Any]:
        """Nothing is ready: jump the clock to the next timer, or return the real events first.

        The real file descriptors (the self-pipe that Ctrl-C and `call_soon_threadsafe` write
        to, the keyboard of a live view) are polled, without blocking, on every `_POLL_EVERY`-th
        jump and before a stall is declared.
        """
        self._jumps_unpolled += 1
        if not self._scheduled or self._jumps_unpolled >= _POLL_EVERY:
            self._jumps_unpolled = 0
            if events := self._selector.select(0):
                return events
        if not self._scheduled:
            raise Stalled(f"t={self._now:.6f}: every task waits and no timer is pending, so the simulation can never move on")
        target = self._scheduled[0][0]
        pacing = self.pacing
        # At max speed (and not paused) the pacing only draws frames when they are due: asking it
        # on every jump would cost more than the frames. Keys are read at polls, also a multiple.
        if pacing is not None and (
            pacing.speed is not None
            or pacing.paused
            or target >= pacing.next_stop
            or self._jumps_unpolled % _MAX_SPEED_CHECK_EVERY == 0
        ):
            if events := pacing.wait_until(self._now, target, self._selector.select):
                return events
        self._now = max(self._now, target)
        # Timers due before now + resolution fire now, so now + resolution must exceed now. Past
        # 2**23 s (97 days) 1e-9 is below a float's spacing and would vanish (CPython gh-116342):
        # then one spacing (ulp) is used, still far below anything a scenario can express.
        self._clock_resolution = max(1e-9, math.ulp(self._now))
        return []
