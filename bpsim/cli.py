"""The `bpsim` command: parses, calls the engine, hands results to a renderer, picks the exit code."""

from __future__ import annotations

import contextlib
import json
import sys
from enum import StrEnum
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from bpsim import __version__
from bpsim.engine import Simulation
from bpsim.errors import BpsimError
from bpsim.i18n import detect_language, set_language
from bpsim.loader import load_scenario
from bpsim.output import write_text
from bpsim.render.export import export
from bpsim.render.live import LiveView, Recent, demo_speed, final_dashboard, watch
from bpsim.render.summary import summary
from bpsim.render.trace import trace_line

HELP = """\
Watch asyncio queues and backpressure work: a producer, an asyncio.Queue(maxsize),
workers and a Semaphore-limited downstream, running as real asyncio code on a virtual clock.

Overload policies (queue.policy) — what the producer does when the queue is full:

  block        the producer waits for room (await queue.put)
  drop-newest  the arriving item is discarded, queued items are kept (put_nowait raising QueueFull)
  drop-oldest  the oldest queued item is evicted to admit the arriving one

Start with:  bpsim run scenarios/burst.toml
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)

INTERRUPTED = 130
EXPORT_WIDTH, EXPORT_HEIGHT = 110, 32


class Language(StrEnum):
    en = "en"
    ko = "ko"


def _fail(error: BpsimError) -> NoReturn:
    err = Console(stderr=True)
    for line in error.lines():
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(error.exit_code)


def _version(value: bool) -> None:
    if value:
        print(f"bpsim {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    lang: Annotated[
        Language | None,
        typer.Option(help="Language of lessons, labels and explanations (default: from LANG / LC_ALL)."),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Watch asyncio queues and backpressure work."""
    set_language(lang.value if lang is not None else detect_language())


ScenarioArg = Annotated[
    str, typer.Argument(metavar="SCENARIO", help="A scenario file, or the name of a bundled one (see `bpsim scenarios`).")
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Override a scenario key, e.g. --set queue.maxsize=50 --set producer.rate=40 (repeatable).",
    ),
]
SeedOption = Annotated[int | None, typer.Option(help="Override the scenario's random seed.")]
JsonOption = Annotated[
    str | None, typer.Option("--json", metavar="PATH", help="Write the results as JSON to PATH (- for stdout).")
]


def _parse_speed(value: str | None) -> str | None:
    if value is not None and value != "max":
        try:
            speed = float(value)
        except ValueError:
            speed = 0.0
        if not speed > 0 or speed == float("inf"):
            raise typer.BadParameter(f"{value!r} is not a speed; give a positive number (1 = real time) or max")
    return value


SpeedOption = Annotated[
    str | None,
    typer.Option(
        metavar="X|max",
        callback=_parse_speed,
        help="Simulated seconds per wall second for the dashboard (1 = real time, max = as fast as "
        "possible). Default: about 20 s of wall time for the whole scenario.",
    ),
]


@app.command()
def run(
    scenario: ScenarioArg,
    overrides: SetOption = None,
    seed: SeedOption = None,
    json_path: JsonOption = None,
    trace: Annotated[
        bool, typer.Option("--trace", help="Print every event as `<seconds> <message>` (the handbook's words).")
    ] = False,
    live: Annotated[
        bool, typer.Option("--live/--no-live", help="Show the live dashboard (only in a terminal).")
    ] = True,
    speed: SpeedOption = None,
    svg: Annotated[
        str | None, typer.Option("--svg", metavar="PATH", help="Save the final dashboard as an SVG picture.")
    ] = None,
    html: Annotated[
        str | None, typer.Option("--html", metavar="PATH", help="Save the final dashboard as an HTML page.")
    ] = None,
) -> None:
    """Run a scenario and summarise what happened to every item.

    In a terminal it shows a live dashboard (keys: space pause, + / - speed, s step, q quit);
    piped, in CI, with --no-live, --trace or --json - it runs at full speed and prints the
    summary. Results are the same either way. Ctrl-C stops early (exit code 130), q too (exit 0);
    the summary then counts the unfinished items.
    """
    console = Console()
    try:
        loaded = load_scenario(scenario, overrides or [], seed)
        view = None
        if live and console.is_terminal and not trace and json_path != "-":
            pace = demo_speed(loaded) if speed is None else None if speed == "max" else float(speed)
            view = LiveView(console, speed=pace, keys_fd=sys.stdin.fileno() if sys.stdin.isatty() else None)
        simulation = Simulation([loaded], pacing=view.pacing if view is not None else None)
        recent: Recent | None = None
        if view is not None:
            view.watch(simulation)
            recent = view.recent
        elif svg is not None or html is not None:
            recent = watch(simulation)
        if trace:
            simulation.subscribe(lambda event: console.print(trace_line(event), markup=False, highlight=False))
        interrupted = False
        try:
            with view if view is not None else contextlib.nullcontext():
                result = simulation.run()[0]
        except KeyboardInterrupt:
            interrupted = True
            result = simulation.results()[0]
        if json_path is not None:
            write_text(json_path, json.dumps(result.to_json(), indent=2) + "\n")
        if recent is not None:
            picture = final_dashboard(simulation, recent, width=EXPORT_WIDTH, height=EXPORT_HEIGHT)
            for path, kind in ((svg, "svg"), (html, "html")):
                if path is not None:
                    write_text(path, export(picture, kind, width=EXPORT_WIDTH, title=f"bpsim · {loaded.name}"))
    except BpsimError as error:
        _fail(error)
    if json_path != "-":
        console.print(summary(result))
    if interrupted and not (view is not None and view.quit_requested):
        raise typer.Exit(INTERRUPTED)


if __name__ == "__main__":  # pragma: no cover
    app(prog_name="bpsim")
