"""The `bpsim` command: parses, calls the engine, hands results to a renderer, picks the exit code."""

from __future__ import annotations

import contextlib
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import typer.core
from rich.console import Console

from bpsim import __version__
from bpsim.engine import RunResult, Simulation
from bpsim.errors import BpsimError, OutputError, ScenarioError
from bpsim.explain import check_topic
from bpsim.i18n import detect_language, set_language, t
from bpsim.limits import Limits, LimitReached
from bpsim.loader import bundled_scenarios, find_scenario, load_scenario, scenario_from_text, scenario_problems
from bpsim.metrics import METRICS, parse_metrics
from bpsim.new import Kind, ask, defaults, scenario_toml
from bpsim.output import check_writable, strict_json, write_text
from bpsim.scenario import Scenario
from bpsim.render import explain as explain_render
from bpsim.render.comparison import comparison, sweep_chart, sweep_table
from bpsim.render.export import export
from bpsim.render.compare_live import varied_line
from bpsim.render.live import CompareView, LiveView, Recent, demo_speed, final_dashboard, watch
from bpsim.render.progress import sweep_progress
from bpsim.render.scenarios import scenario_list
from bpsim.render.summary import summary
from bpsim.render.theory import theory_table
from bpsim.render.trace import TraceWriter
from bpsim.signals import handle_signals
from bpsim.sweep import SweepInterrupted, csv_text, json_text, run_sweep, sweep_variants
from bpsim.theory import theory_for
from bpsim.variants import Variant, compare_variants

POLICIES = """\
Overload policies (queue.policy) — what the producer does when the queue is full:

\b
  block        the producer waits for room (await queue.put)
  drop-newest  the arriving item is discarded, queued items are kept
               (put_nowait raising QueueFull)
  drop-oldest  the oldest queued item is evicted to admit the arriving one
"""

HELP = f"""\
Watch asyncio queues and backpressure work: a producer, an asyncio.Queue(maxsize),
workers and a Semaphore-limited downstream, running as real asyncio code on a virtual clock.

{POLICIES}
Start with:  bpsim run scenarios/burst.toml   (or: bpsim explain backpressure)
"""

RUN_HELP = f"""\
Run a scenario and summarise what happened to every item.

In a terminal it shows a live dashboard (keys: space pause, + / - speed, s step, q quit);
piped, in CI, with --no-live, --trace or --json - it runs at full speed and prints the
summary. Results are the same either way. Ctrl-C stops early (exit code 130, 143 for SIGTERM),
q too (exit 0); the summary then counts the unfinished items.

{POLICIES}"""


class _TeachingOrder(typer.core.TyperGroup):
    """Lists the commands in the order a learner meets them, not in the order they are defined."""

    ORDER = ("scenarios", "run", "explain", "compare", "sweep", "theory", "new", "validate")

    def list_commands(self, ctx: typer.Context) -> list[str]:
        def place(name: str) -> int:
            return self.ORDER.index(name) if name in self.ORDER else len(self.ORDER)

        return sorted(super().list_commands(ctx), key=place)


app = typer.Typer(
    cls=_TeachingOrder,
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)


class Language(StrEnum):
    en = "en"
    ko = "ko"


def _report(error: BpsimError) -> None:
    err = Console(stderr=True)
    for line in error.lines():
        err.print(line, markup=False, highlight=False, soft_wrap=True)


def _fail(error: BpsimError) -> NoReturn:
    _report(error)
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


MaxItemsOption = Annotated[
    int, typer.Option(min=1, help="Stop a run after this many items produced (a guard for the machine).")
]
MaxQueuedOption = Annotated[
    int, typer.Option(min=1, help="Stop a run when this many items wait in the queue (unbounded queues).")
]
MaxDurationOption = Annotated[
    float | None, typer.Option(min=0.001, help="Stop a run at this simulated second.")
]
_DEFAULT = Limits()

SpeedOption = Annotated[
    str | None,
    typer.Option(
        metavar="X|max",
        callback=_parse_speed,
        help="Simulated seconds per wall second for the dashboard (1 = real time, max = as fast as "
        "possible). Default: about 20 s of wall time for the whole scenario.",
    ),
]
LiveOption = Annotated[bool, typer.Option("--live/--no-live", help="Show the live dashboard (only in a terminal).")]
EXPORT_WIDTH, EXPORT_HEIGHT = 110, 32


def _pace(speed: str | None, *scenarios: Scenario) -> float | None:
    """The dashboard's speed: --speed X, None for max, or a demo of about 20 wall seconds."""
    return demo_speed(*scenarios) if speed is None else None if speed == "max" else float(speed)


def _keys_fd() -> int | None:
    """The terminal to read keys from: stdin, if it is a terminal and we are in its foreground.

    A background process (`timeout`, `cmd &`) that changes the terminal's modes is stopped by
    the kernel (SIGTTOU): then the dashboard still draws, without keys (Ctrl-C still works).
    """
    if not sys.stdin.isatty():
        return None
    fd = sys.stdin.fileno()
    return fd if os.tcgetpgrp(fd) == os.getpgrp() else None


def _check_outputs(paths: list[str | None], scenarios: list[str]) -> None:
    """Refuse, before a long run, result paths that could not be written or are a scenario file."""
    protected = [find_scenario(source) for source in scenarios]
    for path in paths:
        if path is not None:
            check_writable(path, protected)


def _run_to_the_end(simulation: Simulation, view: LiveView | None = None) -> tuple[list[RunResult], int | None]:
    """Run `simulation`; return its results and the exit code to end with, if it was interrupted.

    Ctrl-C (130) and SIGTERM (143) stop the run early with partial results; so does `q` in the
    dashboard, which is a normal way to end a demo (no exit code). A run that hits one of its
    limits stops too: the limit's message goes to stderr and the exit code is 2.
    """
    with handle_signals() as interruption:
        try:
            with view if view is not None else contextlib.nullcontext():
                return simulation.run(), None
        except LimitReached as stop:
            _report(stop)
            return stop.results, stop.exit_code
        except KeyboardInterrupt:
            quit_by_key = view is not None and view.quit_requested
            return simulation.results(), None if quit_by_key else interruption.exit_code


@app.command(help=RUN_HELP)
def run(
    scenario: ScenarioArg,
    overrides: SetOption = None,
    seed: SeedOption = None,
    json_path: JsonOption = None,
    trace: Annotated[
        bool, typer.Option("--trace", help="Print every event as `<seconds> <message>` (the handbook's words).")
    ] = False,
    live: LiveOption = True,
    speed: SpeedOption = None,
    svg: Annotated[
        str | None, typer.Option("--svg", metavar="PATH", help="Save the final dashboard as an SVG picture.")
    ] = None,
    html: Annotated[
        str | None, typer.Option("--html", metavar="PATH", help="Save the final dashboard as an HTML page.")
    ] = None,
    max_items: MaxItemsOption = _DEFAULT.max_items,
    max_queued: MaxQueuedOption = _DEFAULT.max_queued,
    max_duration: MaxDurationOption = None,
) -> None:
    console = Console()
    try:
        loaded = load_scenario(scenario, overrides or [], seed)
        _check_outputs([json_path, svg, html], [scenario])
        view = None
        if live and console.is_terminal and not trace and json_path != "-":
            view = LiveView(console, speed=_pace(speed, loaded), keys_fd=_keys_fd())
        limits = Limits(max_items, max_queued, max_duration)
        simulation = Simulation([loaded], pacing=view.pacing if view is not None else None, limits=limits)
        recent: Recent | None = None
        if view is not None:
            view.watch(simulation)
            recent = view.recent
        elif svg is not None or html is not None:
            recent = watch(simulation)
        if trace:
            simulation.subscribe(TraceWriter(sys.stdout))
        results, exit_code = _run_to_the_end(simulation, view)
        result = results[0]
        if json_path is not None:
            write_text(json_path, strict_json(result_json(result)))
        if recent is not None:
            picture = final_dashboard(simulation, recent, width=EXPORT_WIDTH, height=EXPORT_HEIGHT)
            for path, kind in ((svg, "svg"), (html, "html")):
                if path is not None:
                    write_text(path, export(picture, kind, width=EXPORT_WIDTH, title=f"bpsim · {loaded.name}"))
    except BpsimError as error:
        _fail(error)
    if json_path != "-":
        console.print(summary(result))
    if exit_code is not None:
        raise typer.Exit(exit_code)


@app.command()
def theory(scenario: ScenarioArg, overrides: SetOption = None, seed: SeedOption = None) -> None:
    """Compare a run with queueing theory: M/M/c, M/M/c/K, M/D/1, the USL service and Little's law.

    When the scenario is a textbook queue (Poisson arrivals, exponential or constant service, no
    bursts, timeouts or max_age; a contended service too) or a closed loop (rate = "unlimited"),
    the formula's values are shown beside the simulated ones; otherwise one line says why no
    formula applies. Little's law is checked on every run.
    """
    try:
        loaded = load_scenario(scenario, overrides or [], seed)
        result = Simulation([loaded]).run()[0]
    except BpsimError as error:
        _fail(error)
    Console().print(theory_table(theory_for(loaded), result))


@app.command()
def explain(
    topic: Annotated[
        str | None, typer.Argument(help="A topic, e.g. backpressure, drop-oldest, shutdown, little, policies.")
    ] = None,
) -> None:
    """Teach one concept: what it is, when to use it, its asyncio code, and a scenario to run.

    Without a topic, list them. `bpsim explain policies` maps bpsim's policy names to the names
    Akka, Kotlin, .NET, RxJava and RabbitMQ use, including the names that mean opposite things.
    """
    try:
        renderable = explain_render.topic_list() if topic is None else explain_render.topic(check_topic(topic))
    except BpsimError as error:
        _fail(error)
    Console().print(renderable)


COMPARE_HELP = f"""\
Run variants of a scenario side by side on one shared clock and compare them.

\b
  bpsim compare burst --policy block --policy drop-newest --policy drop-oldest
  bpsim compare burst --vary queue.maxsize=2,10,0
  bpsim compare a.toml b.toml

Every variant gets the same arrivals and the same service time for item k (common random
numbers), so every difference comes from what was varied. Prints one column per variant, one
row per metric with the best value marked, and what each variant traded for its latency.

In a terminal every variant is shown live first, side by side on the shared clock (keys: space
pause, + / - speed, s step, q quit); piped, with --no-live or --json - it runs at full speed.
Results are the same either way. Ctrl-C stops early (exit code 130, 143 for SIGTERM), q too
(exit 0); the table then shows the partial runs.

{POLICIES}"""

PolicyOption = Annotated[
    list[str] | None,
    typer.Option("--policy", metavar="POLICY", help="A policy to compare (repeatable): block, drop-newest, drop-oldest."),
]
SvgOption = Annotated[str | None, typer.Option("--svg", metavar="PATH", help="Save the final table as an SVG picture.")]


@app.command(help=COMPARE_HELP)
def compare(
    scenarios: Annotated[
        list[str], typer.Argument(metavar="SCENARIO", help="One or more scenario files or bundled names.")
    ],
    policies: PolicyOption = None,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            metavar="KEY=V1,V2,...",
            help="Compare values of any key, written like --set, e.g. --vary queue.maxsize=2,10,0.",
        ),
    ] = None,
    overrides: SetOption = None,
    seed: SeedOption = None,
    json_path: JsonOption = None,
    svg_path: SvgOption = None,
    live: LiveOption = True,
    speed: SpeedOption = None,
    max_items: MaxItemsOption = _DEFAULT.max_items,
    max_queued: MaxQueuedOption = _DEFAULT.max_queued,
    max_duration: MaxDurationOption = None,
) -> None:
    console = Console()
    try:
        variants = compare_variants(scenarios, policies or [], vary or [], overrides or [], seed)
        loaded = [v.scenario for v in variants]
        _check_outputs([json_path, svg_path], scenarios)
        view = None
        if live and console.is_terminal and json_path != "-":
            keys = list(dict.fromkeys(key for v in variants for key, _ in v.settings))
            varied = varied_line(loaded, keys)
            view = CompareView(console, varied=varied, speed=_pace(speed, *loaded), keys_fd=_keys_fd())
        simulation = Simulation(
            loaded,
            labels=[v.label for v in variants],
            pacing=view.pacing if view else None,
            limits=Limits(max_items, max_queued, max_duration),
        )
        if view is not None:
            view.watch(simulation)
        results, exit_code = _run_to_the_end(simulation, view)
        if json_path is not None:
            write_text(json_path, strict_json([result_json(r) for r in results]))
        table = comparison(variants, results)
        if svg_path is not None:
            write_text(svg_path, export(table, "svg", width=EXPORT_WIDTH, title="bpsim compare"))
    except BpsimError as error:
        _fail(error)
    if json_path != "-":
        console.print(table)
    if exit_code is not None:
        raise typer.Exit(exit_code)


@app.command()
def sweep(
    scenario: ScenarioArg,
    params: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="KEY=FROM..TO[:STEP]",
            help="A key and its values: a range (1..50, 1..50:5) or a list (a,b,c). Once or twice.",
        ),
    ] = None,
    policies: PolicyOption = None,
    metric_names: Annotated[
        str, typer.Option("--metric", metavar="NAMES", help=f"Metrics to show, comma-separated: {', '.join(m.name for m in METRICS)}.")
    ] = "dropped,p99,blocked",
    jobs: Annotated[
        int | None, typer.Option(min=1, help="Processes to run in (default: one per core). Results do not depend on it.")
    ] = None,
    overrides: SetOption = None,
    seed: SeedOption = None,
    csv_path: Annotated[str | None, typer.Option("--csv", metavar="PATH", help="Write one CSV row per run to PATH (- for stdout).")] = None,
    json_path: JsonOption = None,
) -> None:
    """Run a scenario for every combination of values, headless, and chart how metrics change.

    \b
      bpsim sweep burst --param queue.maxsize=1..50 --policy block --policy drop-oldest
      bpsim sweep burst --param queue.maxsize=1..50:5 --param workers.count=2,4 --metric p99

    Runs spread over --jobs processes with results identical to one process.
    """
    try:
        metrics = parse_metrics(metric_names)
        axes, variants = sweep_variants(scenario, params or [], policies or [], overrides or [], seed)
        _check_outputs([csv_path, json_path], [scenario])
        total = len(variants)
        variants, results, exit_code = _sweep_to_the_end(variants, jobs)
        if csv_path is not None:
            write_text(csv_path, csv_text(variants, results))
        if json_path is not None:
            write_text(json_path, json_text(variants, results))
    except BpsimError as error:
        _fail(error)
    if "-" not in (csv_path, json_path) and results:
        console = Console()
        console.print(sweep_table(axes, variants, results, metrics))
        console.print()
        console.print(sweep_chart(axes, variants, results, metrics))
    if exit_code is not None:
        message = t("sweep.interrupted", done=len(results), total=total)
        Console(stderr=True).print(message, markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(exit_code)


def _sweep_to_the_end(variants: list[Variant], jobs: int | None) -> tuple[list[Variant], list[RunResult], int | None]:
    """Run the sweep; return the variants that finished, their results and the exit code if interrupted.

    Ctrl-C (130) and SIGTERM (143) stop the worker processes at once; the runs that had
    finished are kept.
    """
    with handle_signals() as interruption:
        try:
            with sweep_progress(len(variants)) as advance:
                return variants, run_sweep(variants, jobs, advance), None
        except KeyboardInterrupt as stopped:
            # Ctrl-C can also land in the progress bar, outside the sweep: then nothing finished.
            finished = stopped.finished if isinstance(stopped, SweepInterrupted) else {}
            order = sorted(finished)
            return [variants[index] for index in order], [finished[index] for index in order], interruption.exit_code


def result_json(result: RunResult) -> dict[str, Any]:
    """`RunResult.to_json()` plus the `theory` object: the formula's numbers, or why none applies."""
    return result.to_json() | {"theory": theory_for(result.scenario).to_json()}


@app.command()
def scenarios() -> None:
    """List the bundled scenarios: the name to run (bpsim run NAME) and what each one shows."""
    try:
        bundled = [(path.stem, load_scenario(path)) for path in bundled_scenarios()]
    except BpsimError as error:
        _fail(error)
    Console().print(scenario_list(bundled))


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(metavar="FILE...", help="Scenario files (or bundled names) to check.")],
    overrides: SetOption = None,
) -> None:
    """Check scenario files without running them: every problem on its own line, ✓ for a valid file.

    Exit code 2 if any file has a problem. --set checks the files with those overrides applied.
    """
    console = Console()
    failed = False
    for file in files:
        problems = scenario_problems(file, overrides or [])
        lines = ScenarioError(problems).lines() if problems else [t("scenarios.valid", path=file)]
        for line in lines:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        failed = failed or bool(problems)
    if failed:
        raise typer.Exit(ScenarioError.exit_code)


@app.command()
def new(
    path: Annotated[str, typer.Argument(help="Where to write the scenario (- for stdout).")] = "scenario.toml",
    kind: Annotated[Kind | None, typer.Option(help="The kind of system; asked when not given.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Take every default without asking.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite PATH if it already exists.")] = False,
) -> None:
    """Write a new, commented scenario file from a few questions about your system.

    The kinds of system (webhooks, api-fanout, background-jobs, ingest-burst, realtime-latest) take
    their defaults from the bundled scenario of the same name. --yes asks nothing.
    """
    try:
        if Path(path).exists() and not force:
            raise OutputError(t("new.exists", path=path))
        answers = defaults(kind or Kind.WEBHOOKS) if yes else ask(kind)
        text = scenario_toml(answers, path)
        scenario_from_text(text, path)  # what bpsim writes must load; never leave a broken file behind
        write_text(path, text)
    except BpsimError as error:
        _fail(error)
    if path != "-":
        console = Console()
        for line in (t("new.wrote", path=path, kind=answers.kind), t("new.next", path=path)):
            console.print(line, markup=False, highlight=False, soft_wrap=True)


if __name__ == "__main__":  # pragma: no cover
    app(prog_name="bpsim")
