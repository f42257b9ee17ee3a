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
import contextlib
import contextvars
import functools
import heapq
import itertools
import math
import platform
import sys
import time
from asyncio import format_helpers
from collections.abc import Callable
from typing import Any, TypeVarTuple, Unpack

from bpsim.errors import Stalled, UnsupportedPython

__all__ = ["VirtualTimeLoop", "Pacing", "Rewind", "SPEEDS", "MAX_SPEED_FRAME_SHARE", "PRIVATE_NAMES"]

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


# -- the private asyncio names the clock relies on -------------------------------------------------
#
# asyncio has no public API for a loop's clock, so the loop below uses these private names. Each was
# read against CPython 3.11-3.14 (docs/architecture.md, "How bpsim keeps time"). They are checked
# once, when the first loop is created: a Python whose asyncio lacks one gets a clear error instead
# of a loop that quietly runs the stock code (or wrong results).

PRIVATE_NAMES: dict[str, tuple[str, ...]] = {
    # The loop's own state and steps (set or defined by BaseEventLoop and BaseSelectorEventLoop).
    # `run_forever` must call `_run_once`, the iteration this loop replaces, for the clock to run.
    "loop": (
        "_ready", "_scheduled", "_stopping", "_closed", "_debug", "_timer_cancelled_count",
        "_clock_resolution", "_current_handle", "_selector", "_process_events", "_run_once",
        "_check_thread", "_check_callback",
    ),
    # The fields of a handle, which `call_soon` and `call_at` fill in without `Handle.__init__`.
    "asyncio.Handle": ("_callback", "_args", "_cancelled", "_loop", "_source_traceback", "_repr", "_context", "_run"),
    "asyncio.TimerHandle": ("_when", "_scheduled"),
    # What `asyncio.sleep` schedules, and how a failing callback is described (as in `Handle._run`).
    "asyncio.futures": ("_set_result_unless_cancelled",),
    "asyncio.format_helpers": ("_format_callback_source",),
}
"""The private asyncio names the clock uses, by where they live ("loop": the loop itself)."""

_OWNERS: dict[str, object] = {
    "asyncio.Handle": asyncio.Handle,
    "asyncio.TimerHandle": asyncio.TimerHandle,
    "asyncio.futures": asyncio.futures,
    "asyncio.format_helpers": format_helpers,
}


def missing_private_names(loop: asyncio.AbstractEventLoop) -> list[str]:
    """The names in `PRIVATE_NAMES` that this Python's asyncio (or `loop`) does not have."""
    missing = [
        f"{where}.{name}"
        for where, names in PRIVATE_NAMES.items()
        for name in names
        if not hasattr(loop if where == "loop" else _OWNERS[where], name)
    ]
    if "_run_once" not in asyncio.BaseEventLoop.run_forever.__code__.co_names:
        missing.append("BaseEventLoop.run_forever calling _run_once")
    return missing


# -- handles ---------------------------------------------------------------------------------------
#
# Outside debug mode the loop builds its handles itself: `call_soon` and `call_at` create them with
# `object.__new__` and set the fields `Handle.__init__` would set (it asks `loop.get_debug()` and
# costs a Python frame, several times per simulation step), and `_run_once` runs them by type, with
# `Handle._run`'s own body and exception path. Their order in the ready queue is the stock loop's:
# only how each one is built and called differs. In debug mode the loop uses asyncio's own handles.

_new_handle = object.__new__
_Ts = TypeVarTuple("_Ts")
_set_result_unless_cancelled = asyncio.futures._set_result_unless_cancelled
_CALLBACK_SOURCE_HAS_DEBUG = sys.version_info >= (3, 13)  # `_format_callback_source(..., debug=)`


class _Callback(asyncio.Handle):
    """A `call_soon` handle, built by `VirtualTimeLoop.call_soon` and run by its `_run_once`."""

    __slots__ = ()


class _Timer(asyncio.TimerHandle):
    """A `call_at` handle; cancelled with fewer calls.

    Every `asyncio.sleep` builds one and cancels it once it has fired; the stock `cancel`
    takes three Python calls to do what the four lines below do.
    """

    __slots__ = ()
    _callback: Callable[..., object] | None  # Handle's field, which typeshed leaves undeclared

    def cancel(self) -> None:
        if not self._cancelled:
            if self._scheduled:
                self._loop._timer_cancelled_count += 1
            self._cancelled = True
            self._callback = None
            self._args = None  # type: ignore[assignment]


class _SleepTimer(_Timer):
    """The timer of an `asyncio.sleep`: it calls `futures._set_result_unless_cancelled(future, result)`.

    `_run_once` does what that function does (set the future's result unless it was cancelled)
    where the timer stands in the ready queue, without a `Context.run` and a Python frame. The
    context does not matter: the future's own callbacks (the sleeping task's wake-up) are
    scheduled with the contexts they were added with.
    """

    __slots__ = ()


_SLEEP_CONTEXT = contextvars.Context()
"""The context of every `asyncio.sleep` timer that `call_later` builds: no copy of the caller's.

`_set_result_unless_cancelled` reads no context variable, and the callbacks it makes ready (the
sleeping task's wake-up) carry their own contexts, so any context gives the same run; `_run_once`
does not even enter it, but `Handle._run` (debug mode switched on mid-run) would, so it is a real
one. A copy per sleep costs an object allocated and freed, twice per item."""

_FALSE = False.__bool__
"""A C callable that returns False: the loop's `get_debug` outside debug mode (see `set_debug`)."""

# Past 2**23 s (97 days) 1e-9 is below a float's spacing (ulp): see `_next_instant`.
_ULP_EXCEEDS_RESOLUTION = 2.0**23


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop on virtual time; optionally paced against the wall clock.

    `_run_once`, `set_debug` and the three `call_*` methods differ from the stock loop; tasks,
    futures, queues and timeouts are asyncio's own. `_scheduled` holds `(when, seq, timer)` entries
    instead of bare timers: timers due at the same instant fire in scheduling order (`seq`), and
    the heap compares tuples in C instead of calling `TimerHandle.__lt__` in Python. Outside debug
    mode the loop takes the shortcuts described where they are made (handles above; `get_debug`,
    `_run_once` below): a simulation step is a handful of callbacks, so asyncio's per-callback
    bookkeeping is a large part of its cost. Each shortcut keeps the stock loop's order of
    callbacks; debug mode takes none of them.
    """

    def __init__(self, pacing: Pacing | None = None) -> None:
        self._now = 0.0
        self._timer_seq = itertools.count()
        self._jumps_unpolled = 0
        self.pacing = pacing
        super().__init__()
        if missing := missing_private_names(self):
            with contextlib.suppress(AttributeError):  # close() itself may need a missing name
                self.close()
            raise UnsupportedPython(
                f"bpsim's virtual clock cannot run on Python {platform.python_version()}: its asyncio has "
                f"no {', '.join(missing)}. bpsim runs on Python 3.11 to 3.13 (and was read against 3.14); "
                "please report this Python version."
            )
        self._scheduled: list[tuple[float, int, asyncio.TimerHandle]] = []
        # Timers due before now + resolution fire now. It must be > 0 (a timer due exactly now
        # must fire) and small enough that `now + resolution > now` for any realistic run.
        self._clock_resolution = 1e-9
        if pacing is not None and pacing.on_loop is not None:
            pacing.on_loop(self)

    def time(self) -> float:
        """The virtual time in seconds since the loop was created."""
        return self._now

    def set_debug(self, enabled: bool) -> None:
        """`BaseEventLoop.set_debug`; outside debug mode `get_debug` and `create_future` are C calls.

        The C `Future.__init__` calls `loop.get_debug()` for every future (and task) it creates,
        and every `asyncio.sleep` and `Queue.get` that waits calls `loop.create_future()`, which is
        `Future(loop=self)`: as methods defined in Python they cost a frame each time. Instance
        attributes answer first: a C callable that returns False, and `functools.partial`, which
        makes the very same call.
        """
        super().set_debug(enabled)
        if enabled:
            self.__dict__.pop("get_debug", None)
            self.__dict__.pop("create_future", None)
        else:
            self.get_debug = _FALSE  # type: ignore[method-assign]
            self.create_future = functools.partial(asyncio.Future, loop=self)  # type: ignore[method-assign]

    def call_soon(self, callback: Callable[[Unpack[_Ts]], object], *args: Unpack[_Ts], context: contextvars.Context | None = None) -> asyncio.Handle:
        """`BaseEventLoop.call_soon`, with a `_Callback` outside debug mode."""
        if self._debug:
            return super().call_soon(callback, *args, context=context)
        if self._closed:  # `_check_closed()`, inlined: this runs several times per item
            raise RuntimeError("Event loop is closed")
        # Handle.__init__'s fields, without its frame (see "handles" above).
        handle = _new_handle(_Callback)
        handle._context = contextvars.copy_context() if context is None else context
        handle._loop, handle._callback, handle._args = self, callback, args
        handle._cancelled, handle._repr, handle._source_traceback = False, None, None
        self._ready.append(handle)
        return handle

    def call_later(self, delay: float, callback: Callable[[Unpack[_Ts]], object], *args: Unpack[_Ts], context: contextvars.Context | None = None) -> asyncio.TimerHandle:
        """`BaseEventLoop.call_later` without its detour (every `asyncio.sleep` comes here)."""
        if self._debug:
            return super().call_later(delay, callback, *args, context=context)
        # `call_at(self._now + delay, ...)` outside debug mode, inlined: a frame less per sleep.
        if self._closed:
            raise RuntimeError("Event loop is closed")
        when = self._now + delay
        sleeps = callback is _set_result_unless_cancelled
        timer = _new_handle(_SleepTimer if sleeps else _Timer)
        if context is None:
            context = _SLEEP_CONTEXT if sleeps else contextvars.copy_context()
        timer._context = context
        timer._loop, timer._callback, timer._args, timer._when = self, callback, args, when
        timer._cancelled, timer._repr, timer._source_traceback, timer._scheduled = False, None, None, True
        heapq.heappush(self._scheduled, (when, next(self._timer_seq), timer))
        return timer

    def call_at(self, when: float, callback: Callable[[Unpack[_Ts]], object], *args: Unpack[_Ts], context: contextvars.Context | None = None) -> asyncio.TimerHandle:
        """Like `BaseEventLoop.call_at`, but ties between equal `when` fire first-scheduled first."""
        if self._closed:  # `_check_closed()`, inlined: this runs several times per item
            raise RuntimeError("Event loop is closed")
        timer: asyncio.TimerHandle
        if self._debug:
            self._check_thread()
            self._check_callback(callback, "call_at")
            timer = asyncio.TimerHandle(when, callback, args, self, context)
        else:
            # TimerHandle.__init__'s fields, without its frame (see "handles" above).
            timer = _new_handle(_SleepTimer if callback is _set_result_unless_cancelled else _Timer)
            timer._context = contextvars.copy_context() if context is None else context
            timer._loop, timer._callback, timer._args, timer._when = self, callback, args, when
            timer._cancelled, timer._repr, timer._source_traceback = False, None, None
        timer._scheduled = True  # after the callback checks, as in the stock loop
        heapq.heappush(self._scheduled, (when, next(self._timer_seq), timer))
        return timer

    def _run_once(self) -> None:
        """Run simulated instants until the loop is stopping: the stock iteration's steps, in order.

        `BaseEventLoop._run_once` drops cancelled timers, asks the selector for I/O (waiting until
        the next timer when nothing is ready), moves the timers due now to the ready queue, and
        runs the callbacks that were ready; `run_forever` calls it until the loop is stopping. Here
        the wait is a jump of the clock (`_next_instant`), and the selector is not asked at all
        while callbacks are ready: virtual time cannot move then, and a system call per iteration
        would cost more than the step it precedes. The ready callbacks, those they make ready and
        the timers due now run batch after batch, as the stock loop's following iterations would;
        then the clock jumps to the next instant, all without returning to `run_forever`, which
        would only call `_run_once` again. Outside debug mode each handle is run by its type
        (see "handles" above); in debug mode one instant is run per call, with `Handle._run`.
        """
        ready = self._ready
        popleft = ready.popleft
        while True:
            # The stock loop's rule for cancelled timers, inlined (its common case runs per instant):
            # rebuild the heap when most of it is cancelled (timeouts that were not needed), else
            # pop cancelled timers off its head.
            scheduled = self._scheduled
            cancelled = self._timer_cancelled_count  # > 50 first: a check cheaper than len()
            if cancelled > 50 and len(scheduled) > 100 and cancelled > len(scheduled) / 2:
                scheduled = self._drop_cancelled_timers()
            while scheduled and scheduled[0][2]._cancelled:
                self._timer_cancelled_count -= 1
                heapq.heappop(scheduled)[2]._scheduled = False
            if not ready and not self._stopping:
                self._jumps_unpolled += 1
                if scheduled and self._jumps_unpolled < _POLL_EVERY and self.pacing is None:
                    # `_next_instant` when it neither polls nor paces, inlined: this runs once per jump.
                    now = self._now = max(self._now, scheduled[0][0])
                    if now >= _ULP_EXCEEDS_RESOLUTION:
                        self._clock_resolution = math.ulp(now)
                elif events := self._next_instant():
                    self._process_events(events)
            due_before = self._now + self._clock_resolution
            debug = self._debug
            while True:
                while scheduled and scheduled[0][0] < due_before:
                    timer = heapq.heappop(scheduled)[2]
                    timer._scheduled = False
                    ready.append(timer)
                for _ in range(len(ready)):
                    handle = popleft()
                    if handle._cancelled:
                        continue
                    if debug:
                        self._run_handle_debug(handle)
                        continue
                    kind = type(handle)
                    try:
                        if kind is _Callback or kind is _Timer:
                            handle._context.run(handle._callback, *handle._args)  # Handle._run
                        elif kind is _SleepTimer:
                            future, result = handle._args
                            if not future.cancelled():  # futures._set_result_unless_cancelled
                                future.set_result(result)
                        else:  # not ours (a signal's handle, a thread-safe one): its own _run
                            handle._run()
                    except (SystemExit, KeyboardInterrupt):
                        raise
                    except BaseException as exc:
                        self._callback_raised(handle, exc)
                handle = None  # as in the stock loop: break reference cycles when an exception occurs
                if self._stopping:
                    return
                if not (ready or (scheduled and scheduled[0][0] < due_before)):
                    break
            if debug:
                return

    def _run_handle_debug(self, handle: asyncio.Handle) -> None:
        # What the stock loop does in debug mode, less the slow-callback warning: on virtual time
        # no callback takes any time.
        try:
            self._current_handle: asyncio.Handle | None = handle
            handle._run()
        finally:
            self._current_handle = None

    def _callback_raised(self, handle: asyncio.Handle, exc: BaseException) -> None:
        """`Handle._run`'s exception path: report a callback's exception to the exception handler."""
        debug = {"debug": self.get_debug()} if _CALLBACK_SOURCE_HAS_DEBUG else {}
        source = format_helpers._format_callback_source(handle._callback, handle._args, **debug)
        context: dict[str, Any] = {"message": f"Exception in callback {source}", "exception": exc, "handle": handle}
        if handle._source_traceback:
            context["source_traceback"] = handle._source_traceback
        self.call_exception_handler(context)

    def _drop_cancelled_timers(self) -> list[tuple[float, int, asyncio.TimerHandle]]:
        """Rebuild the timer heap without its cancelled timers; returns the new heap."""
        kept = []
        for entry in self._scheduled:
            if entry[2]._cancelled:
                entry[2]._scheduled = False
            else:
                kept.append(entry)
        heapq.heapify(kept)
        self._scheduled, self._timer_cancelled_count = kept, 0
        return kept

    def _next_instant(self) -> list[Any]:
        """Nothing is ready: jump the clock to the next timer, or return the real events first.

        The real file descriptors (the self-pipe that Ctrl-C and `call_soon_threadsafe` write
        to, the keyboard of a live view) are polled, without blocking, on every `_POLL_EVERY`-th
        jump and before a stall is declared. `_run_once` counts the jumps.
        """
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
        if self._now >= _ULP_EXCEEDS_RESOLUTION:
            self._clock_resolution = math.ulp(self._now)
        return []
