"""SIGTERM stops a run the way Ctrl-C does, and the exit code says which of the two it was.

Ctrl-C (SIGINT) already interrupts a run cleanly: `asyncio.Runner` cancels the simulation and
raises KeyboardInterrupt, the CLI prints the partial summary and exits 130. A `kill`, a CI job's
timeout or a closed container send SIGTERM instead, whose default is to die on the spot: no
summary, a live dashboard left drawn on the screen. Inside `handle_signals()` SIGTERM takes the
Ctrl-C path instead, and the exit code becomes 143 (128 + 15), as a shell reports it.

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

__all__ = ["Interruption", "handle_signals", "signals_held"]


class Interruption:
    """Which signal interrupted the run; SIGINT (Ctrl-C) unless SIGTERM was received."""

    def __init__(self) -> None:
        self.signal = signal.SIGINT

    @property
    def exit_code(self) -> int:
        """128 + the signal number: 130 for Ctrl-C, 143 for SIGTERM."""
        return 128 + self.signal


@contextmanager
def handle_signals() -> Iterator[Interruption]:
    """Within the block, SIGTERM interrupts like Ctrl-C (KeyboardInterrupt) and is remembered.

    It calls whatever handles SIGINT at that moment: inside `asyncio.Runner.run` that cancels the
    simulation, which then ends in KeyboardInterrupt with its results intact; elsewhere it raises
    KeyboardInterrupt at once. The previous SIGTERM handler is restored on the way out. Outside
    the main thread (where Python allows no signal handlers) it changes nothing.
    """
    interruption = Interruption()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        interruption.signal = signal.SIGTERM
        on_sigint = signal.getsignal(signal.SIGINT)
        if callable(on_sigint):
            on_sigint(signal.SIGINT, frame)  # asyncio's cancels the run and returns; Python's raises
        else:
            raise KeyboardInterrupt  # SIGINT is ignored (a background job): interrupt anyway

    if threading.current_thread() is not threading.main_thread():
        yield interruption
        return
    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield interruption
    finally:
        signal.signal(signal.SIGTERM, previous)


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
