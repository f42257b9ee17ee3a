"""Keys pressed during a live run, shared by every live view (a scenario's, a compare's, a program's).

`Keyboard` puts a terminal in cbreak mode (keys arrive one by one, unechoed; Ctrl-C still sends
SIGINT), reads them on the run's event loop with `loop.add_reader` and gives the terminal's
settings and cursor back on the way out, whatever happened. `pace` is what the pacing keys do:

    space  pause / resume      + / -  faster / slower      s  one step while paused

and `quit` is `q`: it stops the run exactly as Ctrl-C does (asyncio.Runner cancels the run, the
command line prints the summary).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from typing import Any

from rich.console import Console

from bpsim.clock import Pacing

__all__ = ["Keyboard", "pace", "quit_run"]


def pace(pacing: Pacing, key: str) -> bool:
    """Act on a pacing key (space, +, -, s while paused); False: `key` is not one."""
    if key == " ":
        pacing.toggle_pause()
    elif key in "+=":
        pacing.faster()
    elif key in "-_":
        pacing.slower()
    elif key == "s" and pacing.paused:
        pacing.step()
    else:
        return False
    return True


def quit_run() -> None:
    """`q`: stop the run as Ctrl-C does (bpsim.signals takes it from there)."""
    signal.raise_signal(signal.SIGINT)


class Keyboard:
    """The keys typed on `fd` (None: no keys), each given to `press` on the run's loop."""

    def __init__(self, fd: int | None, press: Callable[[str], None]) -> None:
        self.fd = fd
        self._press = press
        self._saved_tty: list[Any] | None = None  # termios.tcgetattr's attributes, given back as they came

    @property
    def is_terminal(self) -> bool:
        """The keys come from a terminal in cbreak mode (between `start` and `restore`)."""
        return self._saved_tty is not None

    def start(self) -> None:
        """Put the terminal (if `fd` is one) in cbreak mode."""
        if self.fd is not None and os.isatty(self.fd):
            import termios  # Unix only: imported here, so that headless runs work on Windows too
            import tty

            self._saved_tty = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)

    def listen(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read keys on `loop` (a `Pacing`'s `on_loop`: called for each loop the run makes)."""
        if self.fd is not None:
            loop.add_reader(self.fd, self._read, loop)

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self.fd is not None
        data = os.read(self.fd, 64)
        if not data:  # end of input: stop listening rather than spin
            loop.remove_reader(self.fd)
            return
        for key in data.decode(errors="replace"):
            self._press(key)

    def restore(self, console: Console) -> None:
        """Give the terminal back as it was: its settings, and the console's cursor."""
        with contextlib.suppress(Exception):
            console.show_cursor(True)
        if self._saved_tty is not None and self.fd is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved_tty)
            self._saved_tty = None
