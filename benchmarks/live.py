"""How much the live dashboard costs: `--speed max` with the dashboard vs the headless run, and fps.

    PYTHONPATH=. python benchmarks/live.py [SECONDS [REPEAT]]

Runs scenarios/burst.toml stretched to SECONDS of producing (default 600, a 10-minute classroom
scenario) four ways, interleaved, best of REPEAT (default 9): headless; with a do-nothing observer
(what building and sending every event costs, as `--trace` does); keeping the dashboard's
history (`watch`: the last events and the chart's bins); and with the full LiveView at speed
max, drawing 100x30 frames into a terminal console that writes to /dev/null. Then a paced run
(speed 20) for the frame rate a viewer sees. Prints a Markdown table; nothing is asserted (single
runs vary by ±10% on a shared machine, hence the best of many).
"""

from __future__ import annotations

import sys
import time
import tomllib
from pathlib import Path

from rich.console import Console

from bpsim.engine import Simulation
from bpsim.render.live import LiveView, watch
from bpsim.render.theme import theme
from bpsim.scenario import Scenario

ROOT = Path(__file__).parent.parent


def burst(seconds: float) -> Scenario:
    data = tomllib.loads((ROOT / "scenarios" / "burst.toml").read_text())
    return Scenario.model_validate(data | {"duration": seconds})


def null_terminal() -> Console:
    return Console(
        file=open("/dev/null", "w"), width=100, height=30, force_terminal=True, force_interactive=True, color_system="truecolor", theme=theme()
    )


def timed(scenario: Scenario, mode: str, speed: float | None = None) -> tuple[float, float, int]:
    """CPU seconds and wall seconds of one run, and frames drawn.

    The slowdown is compared in CPU seconds of this process: other programs on a busy machine
    shift wall times by more than the effect measured. Frame rates are per wall second.
    """
    view = LiveView(null_terminal(), speed=speed) if mode == "live" else None
    simulation = Simulation([scenario], pacing=view.pacing if view else None)
    if view is not None:
        view.watch(simulation)
    elif mode == "history":
        watch(simulation)
    elif mode == "events":
        simulation.subscribe(lambda event: None)
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    if view is not None:
        with view:
            simulation.run()
    else:
        simulation.run()
    return time.process_time() - cpu_start, time.perf_counter() - wall_start, view.frames if view else 0


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 600.0
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    scenario = burst(seconds)
    modes = ("headless", "events", "history", "live")
    runs: dict[str, list[tuple[float, float, int]]] = {mode: [] for mode in modes}
    for _ in range(repeat):  # interleaved, so a busy moment on the machine hits every mode alike
        for mode in modes:
            runs[mode].append(timed(scenario, mode))
    best = {mode: min(runs[mode]) for mode in modes}
    base = best["headless"][0]
    print(f"burst.toml, duration {seconds:g} s, Python {sys.version.split()[0]}, best of {repeat}\n")
    print("| run | CPU s | vs headless | wall s | frames | fps |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    labels = {
        "headless": "headless",
        "events": "every event built and sent to a do-nothing observer",
        "history": "the dashboard's history kept (event log, chart bins)",
        "live": "dashboard, --speed max",
    }
    for mode, label in labels.items():
        cpu, wall, frames = best[mode]
        fps = f"{frames / wall:.1f}" if frames else "-"
        print(f"| {label} | {cpu:.3f} | {100 * (cpu / base - 1):+.1f}% | {wall:.3f} | {frames or '-'} | {fps} |")
    cpu, wall, frames = timed(burst(60.0), "live", speed=20.0)
    print(f"| dashboard, --speed 20 (60 s scenario) | {cpu:.3f} | - | {wall:.3f} | {frames} | {frames / wall:.1f} |")


if __name__ == "__main__":
    main()
