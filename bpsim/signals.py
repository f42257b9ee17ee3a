"""Ctrl-C and SIGTERM stop a command cleanly, the summary is still printed, and the exit code
says which of the two it was (130 or 143, as a shell reports them).

A `kill`, a CI job's timeout or a closed container send SIGTERM, whose default is to die on the
spot: no summary, a live dashboard left drawn on the screen. Inside `handle_signals()` both
signals take one path: the first stops the run going on (`stops`) or, before any run, raises
KeyboardInterrupt; the ones after it are ignored, so that a second Ctrl-C pressed a moment
after the first cannot cut the summary short or land inside the event loop.

Some code must not be interrupted at an arbitrary line: a process pool's locks, taken by the
main thread in `submit`, stay taken forever if KeyboardInterrupt lands between acquiring one and
entering its `with` block. `signals_held()` turns those signals into a flag the code polls.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["Interruption", "current", "handle_signals", "interrupted", "signals_held", "stops"]


class Interruption:
    """Which signal interrupted the command, if any: SIGINT (Ctrl-C) or SIGTERM."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        """The first signal received in the block; None while there was none."""
        self._stop: Callable[[], None] | None = None
        self._ran = False

    @property
    def signal(self) -> signal.Signals:
        """The signal that interrupted the command: SIGINT unless SIGTERM was received."""
        return self.received if self.received is not None else signal.SIGINT

    @property
    def exit_code(self) -> int:
        """128 + the signal number: 130 for Ctrl-C, 143 for SIGTERM."""
        return 128 + self.signal

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            # Already stopping. A second Ctrl-C a few milliseconds after the first (or a SIGTERM
            # after it) once raised KeyboardInterrupt inside the event loop or in the middle of
            # the summary: a traceback, a false "stalled", or no summary at all.
            return
        self.received = signal.Signals(signum)
        if self._stop is not None:
            self._stop()  # a run is going on: it stops at this instant and ends in KeyboardInterrupt
        elif not self._ran:
            raise KeyboardInterrupt  # nothing has run yet: there is nothing to summarise
        # After a run the command goes on to show what it has, and exits with `exit_code`.


_active: Interruption | None = None


@contextmanager
def handle_signals(*, then_exit: bool = False) -> Iterator[Interruption]:
    """Within the block, Ctrl-C and SIGTERM stop the command cleanly; the first one is remembered.

    Before any run (loading a scenario, say) a signal raises KeyboardInterrupt at once. During a
    run (a block of `stops`) it calls that block's `stop`, which ends the run with its results
    intact. After a run it is only noted: the summary is still printed, then the command exits
    with `exit_code`. Every signal after the first is ignored. The previous handlers are restored
    on the way out. A SIGINT that is ignored (a background job) stays ignored. Outside the main
    thread (where Python allows no signal handlers) it changes nothing.

    `then_exit`: the process ends with the block (the CLI). Once interrupted, signals then stay
    ignored, so that a second Ctrl-C in the milliseconds before the exit cannot kill it with
    SIGINT's default action after the summary was printed.
    """
    global _active
    interruption = Interruption()
    if threading.current_thread() is not threading.main_thread():
        yield interruption
        return
    signums = [signal.SIGTERM] + ([signal.SIGINT] if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN else [])
    outer = _active
    previous = {signum: signal.signal(signum, interruption._on_signal) for signum in signums}
    _active = interruption
    try:
        yield interruption
    finally:
        _active = outer
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_IGN if then_exit and interruption.received else handler)


@contextmanager
def stops(stop: Callable[[], None]) -> Iterator[None]:
    """Within the block, the first Ctrl-C or SIGTERM of a `handle_signals` block calls `stop`.

    `Simulation.run` runs in one: `stop` cancels the simulation at the current instant. `stop`
    runs inside a signal handler, between two bytecodes of whatever the main thread is doing,
    as `asyncio.Runner`'s own Ctrl-C handler does. Without `handle_signals` it changes nothing
    (and asyncio's own Ctrl-C handling applies).
    """
    interruption = _active
    if interruption is None:
        yield
        return
    interruption._stop, interruption._ran = stop, True
    try:
        yield
    finally:
        interruption._stop = None


def current() -> Interruption | None:
    """The `handle_signals` block in effect, if any."""
    return _active


def interrupted() -> bool:
    """Whether the `handle_signals` block in effect has received Ctrl-C or SIGTERM."""
    return _active is not None and _active.received is not None


@contextmanager
def signals_held(*signums: signal.Signals) -> Iterator[Callable[[], bool]]:
    """Within the block, the given signals are only noted; yield a function that says if one was.

    On the way out the previous handlers come back and the first signal noted is raised again,
    so that they handle it (KeyboardInterrupt for Ctrl-C) once the block has cleaned up. Ignored
    signals stay ignored. Outside the main thread it changes nothing.
    """
    noted: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        noted.append(signum)

    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    held = [signum for signum in signums if signal.getsignal(signum) is not signal.SIG_IGN]
    previous = {signum: signal.signal(signum, note) for signum in held}
    try:
        yield lambda: bool(noted)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if noted:
            signal.raise_signal(noted[0])
