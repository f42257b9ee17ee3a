"""The live view: draws dashboard frames from the clock and turns key presses into pacing.

`LiveView` (one variant's dashboard) and `CompareView` (every variant side by side, for
`bpsim compare`) own a `rich.live.Live` that never refreshes by itself: the virtual clock's frame hook
(`Pacing.on_frame`) draws each frame, so frames are consistent snapshots and the simulation runs
exactly as it would headless. Keys are read with `bpsim.render.keys.Keyboard` (cbreak mode,
`loop.add_reader`; the terminal is restored on the way out, whatever happened).

    space  pause / resume      + / -  faster / slower      s  one step while paused
    b      back 5 simulated seconds (the run is run again to there, then paused)
    q      quit (the summary still prints)                  Ctrl-C  the same, exit code 130

A run that finishes in a terminal keeps its final frame on the screen until a key (`hold`), so
that a class can talk about the end before the summary scrolls it away.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from rich.console import Console, RenderableType
from rich.live import Live

from bpsim.clock import SPEEDS, Pacing, Rewind
from bpsim.engine import RunResult, Simulation
from bpsim.eventlog import EventLog
from bpsim.history import History
from bpsim.i18n import language, t
from bpsim.render.compare_live import side_by_side
from bpsim.render.dashboard import Header, Status, Trend, dashboard
from bpsim.render.format import scenario_name
from bpsim.render.keys import Keyboard, pace, quit_run
from bpsim.scenario import Policy, Scenario

__all__ = ["Recent", "LiveView", "CompareView", "watch", "expected_duration", "demo_speed", "final_dashboard"]

DEMO_SECONDS = 20.0
"""How long, in wall seconds, a demo at the default speed should take (10-30 s is comfortable)."""

REWIND_SECONDS = 5.0
"""How far back `b` goes, in simulated seconds."""

FLASH_SECONDS = 3.0
"""How long, in wall seconds, the line of a moment just reached stays highlighted."""

CHART_BINS = 60
"""Roughly how many chart columns a whole run spans; each column is a bin of simulated time."""


def expected_duration(scenario: Scenario) -> float:
    """About how many simulated seconds the scenario runs: producing, then draining what is left.

    A graceful run whose arrivals outpace its workers goes on after the producer stops, until
    the backlog is handled (`graceful-vs-immediate`: 10 s of producing, then about 8 s more).
    """
    service = scenario.workers.service.mean
    parallel = min(scenario.workers.count, scenario.downstream.most_in_flight or scenario.workers.count)
    capacity = parallel / service  # items handled per second, all workers busy
    # Calls go no faster than the client's throttle, nor than a rate limit whose 429s are retried.
    if scenario.throttle is not None:
        capacity = min(capacity, scenario.throttle.rate)
    limit = scenario.downstream.rate_limit
    if limit is not None and scenario.retry is not None and "rate-limited" in scenario.retry.on:
        capacity = min(capacity, limit.rate)
    from_file = scenario.producer.from_file
    if from_file is not None:  # the last arrival due, or the time to handle them all
        due = int(scenario.expected_items)
        length = max(from_file.times[due - 1] if due else 0.0, due / capacity)
    elif scenario.duration is not None:
        length = scenario.duration
        producer = scenario.producer
        if producer.rate != "unlimited":
            arrivals = producer.rate * length + sum(
                (burst.rate - producer.rate) * max(0.0, min(burst.duration, length - burst.at)) for burst in producer.bursts
            )
            backlog = max(0.0, arrivals - capacity * length)
            if scenario.queue.maxsize > 0 and (scenario.policy is not Policy.BLOCK or scenario.puts_delay_arrivals):
                backlog = min(backlog, scenario.queue.maxsize)  # the rest was dropped, or (after-put) never produced
            length += backlog / capacity
    else:
        assert scenario.items is not None
        length = scenario.items / capacity
        if scenario.producer.rate != "unlimited":
            length = max(length, scenario.items / scenario.producer.rate)
    if scenario.shutdown.at is not None:
        length = min(length, scenario.shutdown.at)
    return length


def demo_speed(*scenarios: Scenario) -> float:
    """The longest scenario's own `speed`, else the one from `SPEEDS` that makes it last closest
    to `DEMO_SECONDS` of wall time (several scenarios: compared side by side on one clock)."""
    longest = max(scenarios, key=expected_duration)
    if longest.speed is not None:
        return longest.speed
    length = expected_duration(longest)
    return min(SPEEDS, key=lambda speed: abs(math.log(length / speed / DEMO_SECONDS)))


def what_to_watch(lesson: str) -> str:
    """The lesson's first sentence, on one line: what to watch while the run goes."""
    text = " ".join(lesson.split())
    end = re.search(r"[.!?](\s|$)", text)
    return text[: end.end()].strip() if end else text


def _bin_seconds(length: float) -> float:
    """A round bin width (1, 2 or 5 times a power of ten) near length / CHART_BINS."""
    raw = max(length, 1e-3) / CHART_BINS
    power = 10.0 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


class Recent:
    """One variant's recent past as a frame wants it: the last events and the chart's `Trend`."""

    def __init__(self, history: History) -> None:
        self._history = history

    def follow(self, history: History) -> None:
        """Show this history from now on (the same variant, run again after a rewind)."""
        self._history = history

    @property
    def log(self) -> EventLog:
        return self._history.log

    def trend(self, now: float) -> Trend:
        """qsize and in-flight per bin of simulated time up to `now`, and the answers in each."""
        history = self._history
        return Trend(
            history.seconds_per_bin,
            history.qsize.values(now),
            history.in_flight.values(now),
            handled=history.handled.increments(now),
            late=history.late.increments(now),
            failed=history.failed.increments(now),
            first_attempts=history.first_attempts.increments(now),
            retries=history.retries.increments(now),
            breaker=history.breaker.values(now),
            limit=history.limit.values(now) if history.limit is not None else (),
            dropped=history.dropped.increments(now),
            timed_out=history.timed_out.increments(now),
            p99=history.p99.values(now),
        )


def watch(simulation: Simulation, variant: int = 0, into: Recent | None = None) -> Recent:
    """Keep the recent past of one variant of the simulation (the first by default), in `into`
    if given (after a rewind the same `Recent` follows the run again)."""
    pipeline = simulation.pipelines[variant]
    history = History(_bin_seconds(expected_duration(pipeline.scenario)))
    pipeline.keep_history(history)
    if into is None:
        return Recent(history)
    into.follow(history)
    return into


def final_dashboard(simulation: Simulation, recent: Recent, *, width: int, height: int) -> RenderableType:
    """The last frame of a run as a still picture (no speed, lag or keys): what --svg saves."""
    pipeline = simulation.pipelines[0]
    snapshot = pipeline.snapshot()
    scenario = pipeline.scenario
    status: Status = "finished" if simulation.completed else "stopped"
    header = Header(scenario, snapshot.now, expected_duration(scenario), status, controls=False)
    return dashboard(snapshot, recent.log, recent.trend(snapshot.now), header, width, height)


class LiveView:
    """A paced, keyboard-controlled dashboard of the first variant of a `Simulation`.

    Create it, pass `view.pacing` to the `Simulation`, call `watch(simulation)`, then run the
    simulation inside `with view:`. The final frame is always drawn on the way out.
    """

    def __init__(
        self,
        console: Console,
        *,
        speed: float | None,
        fps: float = 10.0,
        keys_fd: int | None = None,
        hold: bool = True,
        stops: Sequence[float] = (),
        pause_at_moments: bool = False,
    ) -> None:
        self.console = console
        self.pause_at_moments = pause_at_moments
        """Pause at every moment the lesson names (`--stops`), not only show its line."""
        self.hold = hold
        """Keep the final frame of a finished run until a key (only when keys come from a terminal)."""
        self._keys = Keyboard(keys_fd, self.press)
        self.pacing = Pacing(speed, fps=fps, on_frame=self.draw, on_loop=self._keys.listen)
        self.pacing.pause_at(*stops)
        self.rewinds = 0
        """How many times the run was rewound (`b`)."""
        self.quit_requested = False
        self.frames = 0
        self._live = Live(
            console=console, auto_refresh=False, transient=False, redirect_stdout=False, redirect_stderr=False
        )
        self._simulation: Simulation | None = None
        self.recents: list[Recent] = []
        """The events and trend of each variant shown (set by `watch`)."""
        self._shown_at = 0.0
        self._hint: str | None = None

    @property
    def recent(self) -> Recent | None:
        """The first variant's events and trend, once `watch` was called."""
        return self.recents[0] if self.recents else None

    def watch(self, simulation: Simulation) -> None:
        """Show this simulation (its first variant) and keep its recent events."""
        self._simulation = simulation
        self.recents = [watch(simulation, 0, self.recent)]
        if self.pause_at_moments:
            self.pacing.pause_at(*(moment.at for moment in simulation.pipelines[0].scenario.moments))

    def run(self, simulation: Simulation) -> list[RunResult]:
        """`simulation.run()`, run again from the start whenever `b` rewinds it (see `Rewind`)."""
        while True:
            try:
                return simulation.run()
            except Rewind as rewind:
                simulation.restart()
                self.watch(simulation)
                self.pacing.catch_up(rewind.to)
                self.rewinds += 1

    # -- frames ------------------------------------------------------------------------------------

    def draw(self, shown_at: float, status: Status | None = None, *, refresh: bool = True) -> None:
        """Draw one frame showing simulated time `shown_at` (the clock calls this).

        `refresh=False` only hands the frame to `Live`, which draws it when it stops.
        """
        assert self._simulation is not None, "call watch(simulation) first"
        self._shown_at = shown_at
        self.frames += 1
        self._live.update(self.frame(status), refresh=refresh)

    def frame(self, status: Status | None = None) -> RenderableType:
        """The current frame, sized to the console (one line spare, so nothing ever scrolls)."""
        assert self._simulation is not None and self.recent is not None
        snapshot = self._simulation.pipelines[0].snapshot()
        header = self._header(snapshot.now, status)
        width, height = self.console.size
        return dashboard(snapshot, self.recent.log, self.recent.trend(header.shown_at), header, width, height - 1)

    def _header(self, now: float, status: Status | None, title: str | None = None) -> Header:
        """The header at simulated time `now`: the longest variant's length, speed, lag, status."""
        assert self._simulation is not None
        scenarios = [pipeline.scenario for pipeline in self._simulation.pipelines]
        pacing = self.pacing
        return Header(
            scenarios[0],
            max(self._shown_at, now),
            max(expected_duration(scenario) for scenario in scenarios),
            status or ("paused" if pacing.paused else "running"),
            speed=pacing.speed,
            behind=pacing.behind,
            title=title,
            controls=status is None,  # a finished or stopped run has no keys left to press
            hint=self._hint,
            **self._lesson(max(self._shown_at, now)),
        )

    def _lesson(self, shown_at: float) -> dict[str, Any]:
        """The lesson line at `shown_at`: the last moment reached (highlighted for a few wall
        seconds, and while paused on it), else the lesson's first sentence; none without a lesson."""
        assert self._simulation is not None
        scenario = self._simulation.pipelines[0].scenario
        words = scenario.words(language())
        said = [(moment.at, say) for moment, say in zip(scenario.moments, words.moments or [])]
        reached = [(at, say) for at, say in said if at <= shown_at]
        if reached:
            at, say = reached[-1]
            return {"lesson": say, "flash": shown_at - at <= FLASH_SECONDS * (self.pacing.speed or 0.0)}
        return {"lesson": what_to_watch(words.lesson or "") or None}

    # -- keys --------------------------------------------------------------------------------------

    def press(self, key: str) -> None:
        """Act on one key: space, +, -, s, b, q (anything else is ignored)."""
        if key in "bB":
            self.pacing.rewind(self._shown_at - REWIND_SECONDS)  # the run ends at once and starts again
        elif key in "qQ":
            self.quit_requested = True
            quit_run()
        elif pace(self.pacing, key) and self._simulation is not None:
            self.draw(self._shown_at)  # show the change now, not at the next frame

    # -- the terminal ------------------------------------------------------------------------------

    def __enter__(self) -> LiveView:
        self._keys.start()
        try:
            self._live.start()
        except BaseException:
            self._restore_terminal()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        try:
            if self._simulation is not None:
                status: Status = "finished" if kind is None else "stopped"
                if kind is None and self.hold and self._keys.is_terminal:
                    self._hold(status)
                # Live.stop() draws its renderable once more: let that be the final frame.
                self.draw(self._shown_at, status, refresh=False)
            self._live.stop()
        finally:
            self._restore_terminal()

    def _hold(self, status: Status) -> None:
        """Show the final frame with `press any key for the summary` and wait for that key.

        Keys typed during the run (a last `+`) are discarded first, so only a key pressed after
        the end lets the summary scroll the frame away. Ctrl-C or SIGTERM end the wait too: after a
        run they are only noted (`bpsim.signals`), and the command exits with their code.
        """
        fd = self._keys.fd
        assert fd is not None
        import select
        import termios

        from bpsim.signals import interrupted

        self._hint = t("dashboard.hold")
        try:
            self.draw(self._shown_at, status)
            termios.tcflush(fd, termios.TCIFLUSH)
            while not interrupted():
                if select.select([fd], [], [], 0.1)[0]:
                    os.read(fd, 64)
                    break
        except KeyboardInterrupt:  # outside the command line, Ctrl-C still raises
            pass
        finally:
            self._hint = None

    def _restore_terminal(self) -> None:
        self._keys.restore(self.console)


class CompareView(LiveView):
    """A `LiveView` of every variant of a `Simulation`, side by side, in lockstep (`bpsim compare`).

    The same keys, pacing and terminal handling; `varied` is the header's second line (see
    `compare_live.varied_line`). Variants share the clock, so every column shows the same instant.
    """

    def __init__(
        self,
        console: Console,
        *,
        varied: str,
        speed: float | None,
        fps: float = 10.0,
        keys_fd: int | None = None,
        hold: bool = True,
        stops: Sequence[float] = (),
    ) -> None:
        super().__init__(console, speed=speed, fps=fps, keys_fd=keys_fd, hold=hold, stops=stops)
        self.varied = varied

    def _lesson(self, shown_at: float) -> dict[str, Any]:
        return {}  # several scenarios side by side: no one lesson to show

    def watch(self, simulation: Simulation) -> None:
        """Show every variant of this simulation and keep each one's recent events."""
        self._simulation = simulation
        old: list[Recent | None] = list(self.recents) or [None] * len(simulation.pipelines)
        self.recents = [watch(simulation, variant, old[variant]) for variant in range(len(simulation.pipelines))]

    def frame(self, status: Status | None = None) -> RenderableType:
        """The current frame, sized to the console (one line spare, so nothing ever scrolls)."""
        assert self._simulation is not None
        pipelines = self._simulation.pipelines
        snapshots = [pipeline.snapshot() for pipeline in pipelines]
        names = dict.fromkeys(scenario_name(pipeline.scenario) for pipeline in pipelines)
        header = self._header(snapshots[0].now, status, t("compare_live.title", name=" / ".join(names)))
        labels = self._simulation.labels or [str(index + 1) for index in range(len(pipelines))]
        width, height = self.console.size
        return side_by_side(snapshots, labels, self.recents, header, self.varied, width, height - 1)
