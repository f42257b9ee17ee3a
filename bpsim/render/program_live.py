"""The live dashboard of a user's program (`bpsim run FILE.py` in a terminal).

A `rich.live.Live` that never refreshes by itself: the virtual clock's frame hook
(`Pacing.on_frame`) draws each frame from the probes, so the program runs exactly as it would
headless. Everything the program writes goes above the dashboard, in order: its stdout lines
come through `printed` (the run does not echo them itself), its stderr (logging, warnings,
`print(..., file=sys.stderr)`, asyncio's own complaints) through Live's stderr redirection, so
no redraw wipes a line. Each redraw is drawn from the probes at that instant (`_Now`), also the
one under each printed line: the frame under a line printed at 150 ms shows 150 ms. The keys are the scenario dashboard's
(bpsim.render.keys): space pause, + / - speed, s step, q quit. The final frame stays on the
screen when the program ends, saying how it ended.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from collections.abc import Iterator

from rich.console import Console, ConsoleOptions, RenderableType
from rich.live import Live
from rich.text import Text

from bpsim.clock import Pacing
from bpsim.probes import ProbesObserver, ProgramSnapshot
from bpsim.program import Printed, ProgramObserver, ProgramRun
from bpsim.render.dashboard import speed_label
from bpsim.render.keys import Keyboard, pace, quit_run
from bpsim.render.program import Status, program_dashboard
from bpsim.render.theme import theme

__all__ = ["ProgramView"]

_MOST_ROWS = 20
"""The dashboard's most lines: the rest of the terminal shows the program's own output."""


class ProgramView(ProgramObserver):
    """Observe a run after `probes` (which it draws); pass `pacing` to the run. Keys are read
    from `keys_fd` (None: no keys)."""

    def __init__(self, probes: ProbesObserver, program: str, speed: float | None, look: str, keys_fd: int | None = None) -> None:
        self.probes = probes
        self.program = program
        self.quit_requested = False
        """`q` stopped the program (a normal end, exit code 0, unlike Ctrl-C)."""
        self._keys = Keyboard(keys_fd, self.press)
        self._shown_at = 0.0
        self._status: Status = "running"
        self._final: RenderableType | None = None
        self.pacing = Pacing(speed, on_frame=self.draw, on_loop=self._keys.listen)
        # The real stdout, taken now: during the run sys.stdout is the program's (bpsim.program),
        # whose lines come back here through `printed`.
        self.console = Console(file=sys.stdout, emoji=False, theme=theme(look))
        self._live = Live(
            _Now(self),
            console=self.console,
            auto_refresh=False,
            redirect_stdout=False,
            # stderr on the same terminal: the program's writes to it are printed above the dashboard
            redirect_stderr=sys.stderr.isatty(),
        )

    def installed(self, run: ProgramRun) -> None:
        self._keys.start()
        try:
            self._live.start()
        except BaseException:
            self._keys.restore(self.console)
            raise

    def printed(self, line: Printed) -> None:
        self._shown_at = max(self._shown_at, line.at)
        self.console.print(Text(line.text), soft_wrap=True)  # above the dashboard: Live moves it up

    def draw(self, shown_at: float) -> None:
        self._shown_at = shown_at
        self._live.refresh()

    def press(self, key: str) -> None:
        """Act on one key: space, +, -, s, q (anything else is ignored)."""
        if key in "qQ":
            self.quit_requested = True
            quit_run()  # as Ctrl-C: the program is stopped at its loop's next step
        elif pace(self.pacing, key):
            self._live.refresh()  # show the change now, not at the next frame

    def finished(self, run: ProgramRun) -> None:
        result = run.result
        if result is not None and result.interrupted and not self.quit_requested:
            self._status = "interrupted"
        elif self.quit_requested or run.stopped_by is not None:
            self._status = "stopped"
        else:
            self._status = "finished"
        try:
            final = self.probes.probes.final or self.probes.snapshot()
            self._final = self._dashboard(final)
            self._live.refresh()
        finally:
            try:
                self._live.stop()
            finally:
                self._keys.restore(self.console)

    def _frame(self) -> RenderableType:
        """The frame Live draws: the probes now (at least at the clock's shown time), or the end."""
        if self._final is not None:
            return self._final
        snapshot = self.probes.snapshot()
        return self._dashboard(replace(snapshot, time=max(snapshot.time, self._shown_at)))

    def _dashboard(self, snapshot: ProgramSnapshot) -> RenderableType:
        width, height = self.console.size
        paused = self._status == "running" and self.pacing.paused
        status: Status = "paused" if paused else self._status
        speed = speed_label(self.pacing.speed) if self._status == "running" else None  # + / - change it
        return program_dashboard(
            snapshot, self.program, status, width=min(width, 120), height=min(height - 1, _MOST_ROWS), speed=speed
        )


class _Now:
    """What Live draws: the view's frame, made anew at each drawing. Live redraws its renderable
    under every line printed above it, between the clock's frames: this one shows that instant."""

    def __init__(self, view: ProgramView) -> None:
        self._view = view

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[RenderableType]:
        yield self._view._frame()
