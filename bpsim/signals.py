"""SIGTERM stops a run the way Ctrl-C does, and the exit code says which of the two it was.

Ctrl-C (SIGINT) already interrupts a run cleanly: `asyncio.Runner` cancels the simulation and
raises KeyboardInterrupt, the CLI prints the partial summary and exits 130. A `kill`, a CI job's
timeout or a closed container send SIGTERM instead, whose default is to die on the spot: no
summary, a live dashboard left drawn on the screen. Inside `handle_signals()` SIGTERM takes the
Ctrl-C path instead, and the exit code becomes 143 (128 + 15), as a shell reports it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["Interruption", "handle_signals"]


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
