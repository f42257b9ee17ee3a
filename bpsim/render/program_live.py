"""The live dashboard of a user's program (`bpsim run FILE.py` in a terminal).

A `rich.live.Live` that never refreshes by itself: the virtual clock's frame hook
(`Pacing.on_frame`) draws each frame from the probes, so the program runs exactly as it would
headless. The program's lines are printed above the dashboard as it prints them (the run does not
echo them itself), and the final frame stays on the screen when the program ends.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from rich.console import Console
from rich.live import Live
from rich.text import Text

from bpsim.clock import Pacing
from bpsim.probes import ProbesObserver, ProgramSnapshot
from bpsim.program import Printed, ProgramObserver, ProgramRun
from bpsim.render.program import Status, program_dashboard
from bpsim.render.theme import theme

__all__ = ["ProgramView"]

_MOST_ROWS = 20
"""The dashboard's most lines: the rest of the terminal shows the program's own output."""


class ProgramView(ProgramObserver):
    """Observe a run after `probes` (which it draws); pass `pacing` to the run."""

    def __init__(self, probes: ProbesObserver, program: str, speed: float | None, look: str) -> None:
        self.probes = probes
        self.program = program
        self.pacing = Pacing(speed, on_frame=self.draw)
        # The real stdout, taken now: during the run sys.stdout is the program's (bpsim.program),
        # whose lines come back here through `printed`.
        self.console = Console(file=sys.stdout, emoji=False, theme=theme(look))
        self._live = Live(console=self.console, auto_refresh=False, redirect_stdout=False, redirect_stderr=False)

    def installed(self, run: ProgramRun) -> None:
        self._live.start()

    def printed(self, line: Printed) -> None:
        self.console.print(Text(line.text), soft_wrap=True)  # above the dashboard: Live moves it up

    def draw(self, shown_at: float) -> None:
        self._show(replace(self.probes.snapshot(), time=shown_at), "running")

    def finished(self, run: ProgramRun) -> None:
        try:
            self._show(self.probes.probes.final or self.probes.snapshot(), "finished")
        finally:
            self._live.stop()

    def _show(self, snapshot: ProgramSnapshot, status: Status) -> None:
        width, height = self.console.size
        frame = program_dashboard(snapshot, self.program, status, width=min(width, 120), height=min(height - 1, _MOST_ROWS))
        self._live.update(frame, refresh=True)
