"""How much CPU one live-dashboard frame costs: building the renderable and drawing it, as Live does.

    PYTHONPATH=. python benchmarks/frame.py [--repeat N]

Runs scenarios/burst.toml once (and its three policies side by side, as `bpsim compare burst
--policy block --policy drop-newest --policy drop-oldest` does), keeping what the clock's frame
hook would show every simulated second: the snapshot, the event log and the chart's trend.
Then, for each screen size, draws that whole sequence of frames through a `rich.live.Live`
(no auto refresh, as `LiveView.draw` does) on a truecolor terminal console that writes to
/dev/null, best of N passes (default 20). Only this frame work is timed, in CPU milliseconds
per frame (`time.process_time`); taking the snapshot and running the engine are not.
Prints a Markdown table; nothing is asserted (times vary ±10% on a busy machine).
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console, RenderableType
from rich.live import Live

from bpsim.clock import Pacing
from bpsim.engine import Simulation
from bpsim.eventlog import EventLog
from bpsim.events import Snapshot
from bpsim.render.compare_live import side_by_side, varied_line
from bpsim.render.dashboard import Header, Trend, dashboard
from bpsim.render.live import Recent, expected_duration, watch
from bpsim.render.theme import theme
from bpsim.scenario import Scenario

ROOT = Path(__file__).parent.parent
POLICIES = ("block", "drop-newest", "drop-oldest")
SIZES = ((80, 24), (100, 30), (160, 45))


@dataclass(frozen=True)
class Still:
    """A `Recent` frozen at one instant: what `side_by_side` reads from it."""

    log: EventLog
    frozen_trend: Trend

    def trend(self, now: float) -> Trend:
        return self.frozen_trend


@dataclass(frozen=True)
class Moment:
    """Everything a frame is drawn from, for each variant, at one simulated instant."""

    snapshots: list[Snapshot]
    stills: list[Still]


Draw = Callable[[Moment, int, int], RenderableType]


def burst(policy: str) -> Scenario:
    data = tomllib.loads((ROOT / "scenarios" / "burst.toml").read_text())
    return Scenario.model_validate(data | {"queue": data["queue"] | {"policy": policy}})


def moments(scenarios: Sequence[Scenario]) -> list[Moment]:
    """The variants' state at the first clock jump of every simulated second, and at the end."""
    simulation = Simulation(list(scenarios), labels=[s.queue.policy.value for s in scenarios])
    recents = [watch(simulation, index) for index in range(len(scenarios))]
    taken: list[Moment] = []

    def keep() -> None:
        snapshots = [pipeline.snapshot() for pipeline in simulation.pipelines]
        now = snapshots[0].now
        taken.append(Moment(snapshots, [freeze(recent, now) for recent in recents]))

    def on_frame(shown_at: float) -> None:
        if shown_at >= len(taken):
            keep()

    # Paced (so the clock offers a frame at every jump) but so fast that it never waits, and
    # fps=inf: the moments do not depend on the wall clock.
    simulation.pacing = Pacing(1e12, fps=float("inf"), on_frame=on_frame)
    simulation.run()
    keep()
    return taken


def freeze(recent: Recent, now: float) -> Still:
    return Still(recent.log.copy(), recent.trend(now))


def header(scenario: Scenario, now: float, title: str | None = None) -> Header:
    return Header(scenario, now, expected_duration(scenario), "running", speed=None, title=title)


def one(scenario: Scenario) -> Draw:
    def draw(moment: Moment, width: int, height: int) -> RenderableType:
        snapshot, still = moment.snapshots[0], moment.stills[0]
        return dashboard(snapshot, still.log, still.trend(snapshot.now), header(scenario, snapshot.now), width, height)

    return draw


def compared(scenarios: Sequence[Scenario]) -> Draw:
    varied = varied_line(scenarios, ["queue.policy"])
    title = f"Comparing: {scenarios[0].name}"

    def draw(moment: Moment, width: int, height: int) -> RenderableType:
        now = moment.snapshots[0].now
        frame_header = header(scenarios[0], now, title)
        return side_by_side(moment.snapshots, POLICIES, moment.stills, frame_header, varied, width, height)  # type: ignore[arg-type]

    return draw


def per_frame(draw: Draw, frames: Sequence[Moment], width: int, height: int, repeat: int) -> float:
    """Best-of-`repeat` CPU milliseconds per frame, drawing every moment once per pass."""
    with open("/dev/null", "w") as null:
        console = Console(
            file=null, width=width, height=height, force_terminal=True, force_interactive=True, color_system="truecolor", theme=theme()
        )
        best = float("inf")
        with Live(console=console, auto_refresh=False, redirect_stdout=False, redirect_stderr=False) as live:
            for _ in range(repeat):
                start = time.process_time()
                for moment in frames:
                    # One line spare, as LiveView.frame leaves, so nothing ever scrolls.
                    live.update(draw(moment, width, height - 1), refresh=True)
                best = min(best, time.process_time() - start)
    return 1000 * best / len(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the frames; the best counts")
    repeat = parser.parse_args().repeat
    scenarios = [burst(policy) for policy in POLICIES]
    single, side = moments(scenarios[:1]), moments(scenarios)
    rows = [(f"dashboard {w}x{h}", per_frame(one(scenarios[0]), single, w, h, repeat)) for w, h in SIZES]
    rows.append(("compare, 3 policies, 160x45", per_frame(compared(scenarios), side, 160, 45, repeat)))
    print(f"burst.toml, {len(single)} frames (one per simulated second), best of {repeat}, Python {sys.version.split()[0]}\n")
    print("| frame | CPU ms per frame |")
    print("| --- | ---: |")
    for label, ms in rows:
        print(f"| {label} | {ms:.2f} |")


if __name__ == "__main__":
    main()
