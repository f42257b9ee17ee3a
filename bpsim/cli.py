"""The `bpsim` command: parses, calls the engine, hands results to a renderer, picks the exit code.

Start-up time is part of the interface: `bpsim --help` should feel instant, so this module imports
only Typer and bpsim's small modules at the top. Each command imports the engine, pydantic and the
renderers it needs when it runs (`benchmarks/startup.py` measures it). Annotations are evaluated
here, not postponed (no `from __future__ import annotations`): Typer reads every command's
signature at each start, and a postponed one costs it an `eval` per parameter, about 5 ms in all.
The names imported only for type checkers are quoted.

Exit codes: 0 done, 2 a problem with the input (scenario, option, output file), 3 a run stopped by
a limit (--max-items...), 130 Ctrl-C, 143 SIGTERM, 141 the reader of stdout went away.
"""

import contextlib
import os
import re
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, TextIO

import typer
import typer.core

from bpsim import __version__
from bpsim.errors import BpsimError, OutputError, ScenarioError
from bpsim.i18n import LANGUAGES, detect_language, language, language_code, set_language, t
from bpsim.limits import DEFAULT_MAX_ITEMS, DEFAULT_MAX_QUEUED, Limits
from bpsim.metrics import METRICS

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from bpsim.engine import RunResult, Simulation
    from bpsim.metrics import Metric
    from bpsim.render.live import CompareView, LiveView
    from bpsim.replications import Replicated
    from bpsim.scenario import Scenario
    from bpsim.signals import Interruption
    from bpsim.variants import Axis, Variant

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
Start with:  bpsim run burst   (or: bpsim scenarios, bpsim explain backpressure)

\b
--lang en|ko   the language of lessons, labels and explanations, anywhere on the line
               (default: BPSIM_LANG, else LC_ALL / LC_MESSAGES / LANG): bpsim run burst --lang ko
"""

RUN_HELP = f"""\
Run a scenario and summarise what happened to every item.

\b
bpsim run FILE.py [-- ARGS] runs your own asyncio program instead, unchanged, on the
virtual clock: it prints what python3 FILE.py prints. In a terminal a live dashboard shows
its queues, semaphores, tasks and timeouts at the program's own pace (--speed 10 ten times
faster, --speed max at once), then a summary. Piped, with --no-live, --trace or --json - it
runs at once (--speed 1 paces it); --trace stamps each line with its simulated second,
--json PATH writes what it saw. See: bpsim explain your-code

In a terminal it shows a live dashboard (keys: space pause, + / - speed, s step, q quit);
piped, in CI, with --no-live, --trace or --json - it runs at full speed and prints the
summary. Results are the same either way. Ctrl-C stops early (exit code 130, 143 for SIGTERM),
q too (exit 0); the summary then counts the unfinished items. A run stopped by --max-items,
--max-queued or --max-duration exits with code 3.

{POLICIES}"""

READER_GONE = 141
"""The exit code when stdout's reader went away (`bpsim run X --trace | head`): 128 + SIGPIPE (13),
as a shell reports a program killed by SIGPIPE (written out: Windows has no signal.SIGPIPE)."""


# -- names for shell completion ----------------------------------------------------------------------


def _matching(names: list[str], incomplete: str) -> list[str]:
    return [name for name in names if name.startswith(incomplete)]


def _complete_scenario(incomplete: str) -> list[str]:
    from bpsim.library import bundled_names

    files = sorted(str(p) for p in _glob_toml(incomplete))
    return files + _matching(bundled_names(), incomplete)


def _glob_toml(incomplete: str) -> Iterator[Any]:
    from pathlib import Path

    folder, _, start = incomplete.rpartition("/")
    base = Path(folder or ".")
    if base.is_dir():
        for path in base.iterdir():
            if path.name.startswith(start) and (path.suffix == ".toml" or path.is_dir()):
                yield path if folder else Path(path.name)


def _complete_policy(incomplete: str) -> list[str]:
    from bpsim.scenario import Policy

    return _matching([p.value for p in Policy], incomplete)


def _complete_topic(incomplete: str) -> list[str]:
    from bpsim.explain import topic_names

    return _matching(list(topic_names()), incomplete)


def _complete_metrics(incomplete: str) -> list[str]:
    """Metric names, for the last name of a comma-separated list: `p99,dro` -> `p99,dropped`..."""
    done, _, last = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    return [prefix + m.name for m in METRICS if m.name.startswith(last)]


def _complete_key(incomplete: str) -> list[str]:
    """Scenario keys for --set / --vary / --param: `queue.` -> `queue.maxsize=`, `queue.policy=`..."""
    from bpsim.loader import key_paths

    return _matching([f"{key}=" for key in key_paths()], incomplete)


# -- the command group ---------------------------------------------------------------------------------


def _take_lang(args: list[str]) -> tuple[str | None, list[str]]:
    """The value of the last `--lang X` (or `--lang=X`) anywhere in `args`, and `args` without them,
    so that it may come after the command too (`bpsim run burst --lang ko`). Nothing after `--`
    counts. (An ordinary Typer option would also make every command import pydantic to read it.)"""
    lang: str | None = None
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        if arg == "--lang":
            if index + 1 == len(args):
                raise typer.BadParameter(_LANG_CHOICE, param_hint="'--lang'")
            lang = args[index + 1]
            index += 2
            continue
        if arg.startswith("--lang="):
            lang = arg.removeprefix("--lang=")
        else:
            rest.append(arg)
        index += 1
    return lang, rest


_LANG_CHOICE = f"choose {' or '.join(LANGUAGES)}"


class _Bpsim(typer.core.TyperGroup):
    """Lists the commands in the order a learner meets them, and reads --lang wherever it is."""

    ORDER = ("scenarios", "run", "explain", "compare", "sweep", "theory", "new", "validate", "code")

    # Typer hands its own Context (a subclass); the methods' parent names the base, which Typer
    # 0.29 keeps in a private module: hence the ignores.
    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        def place(name: str) -> int:
            return self.ORDER.index(name) if name in self.ORDER else len(self.ORDER)

        return sorted(super().list_commands(ctx), key=place)

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        lang, args = _take_lang(args)
        if lang is not None:
            code = language_code(lang)
            if code is None:
                raise typer.BadParameter(f"{lang!r} is not a language bpsim speaks; {_LANG_CHOICE}", param_hint="'--lang'")
            set_language(code)
        else:
            try:
                set_language(detect_language())
            except ValueError as error:
                _fail(BpsimError(str(error)))
        ctx.meta["bpsim.args"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except Exception as error:  # click's NoSuchOption, which Typer 0.29 vendors in a private module
            # `bpsim run prog.py -v`: the program's own option, which Typer reads as bpsim's.
            args = ctx.meta.get("bpsim.args", [])
            program = next((arg for arg in args[1:] if arg.endswith(".py")), None) if args[:1] == ["run"] else None
            option = getattr(error, "option_name", None)
            unknown = type(error).__name__ == "NoSuchOption" and not getattr(error, "possibilities", None)  # not a typo of bpsim's
            if program is None or option is None or not unknown or "--" in args:
                raise
            _fail(BpsimError(t("program.option_after_dashes", option=option, path=program)))


app = typer.Typer(
    cls=_Bpsim,
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _report(error: BpsimError) -> None:
    for line in error.lines():
        _print_line(line, err=True)


def _print_line(line: str, *, err: bool = False) -> None:
    """One plain line, no markup: a message may quote a user's text such as [queue].

    Control characters in a user's text (a file name, a key, a value) are shown as escapes
    (bpsim.text): an escape sequence in a scenario must not retitle or clear the terminal.
    """
    from bpsim.text import printable

    stream = sys.stderr if err else sys.stdout
    stream.write(printable(line) + "\n")
    stream.flush()


def _fail(error: BpsimError) -> NoReturn:
    _report(error)
    raise typer.Exit(error.exit_code)


def _look(name: str | None = None) -> str:
    """The theme to draw in: --theme `name`, else BPSIM_THEME, else dark (a bad BPSIM_THEME: exit 2)."""
    from bpsim.render.theme import DEFAULT_THEME, THEME_NAMES

    if name is not None:
        return name
    wanted = os.environ.get("BPSIM_THEME", "")
    if wanted and wanted not in THEME_NAMES:
        _fail(BpsimError(f"BPSIM_THEME={wanted!r} is not a theme bpsim has; use {', '.join(THEME_NAMES)}"))
    return wanted or DEFAULT_THEME


def _console(*, stderr: bool = False, look: str | None = None) -> "Console":
    from rich.console import Console

    from bpsim.render.theme import theme

    return Console(stderr=stderr, emoji=False, theme=theme(_look(look)))  # user text such as `1..10:-1` is no 👎


_TRAILING_SPACE = re.compile(r"[ \t]+((?:\x1b\[[0-9;]*m)*)$", re.MULTILINE)


def _show(console: "Console", renderable: "RenderableType") -> None:
    """Print `renderable`; into a file or a pipe without the spaces Rich pads lines with."""
    if sys.stdout.isatty():
        console.print(renderable)
        return
    with console.capture() as captured:
        console.print(renderable)
    sys.stdout.write(_TRAILING_SPACE.sub(r"\1", captured.get()))
    sys.stdout.flush()


def _interactive(console: "Console") -> bool:
    """True when a live view can be drawn: stdout is a real terminal. FORCE_COLOR makes Rich treat
    a file as a terminal for colours; a dashboard of cursor codes in a log file helps nobody."""
    return sys.stdout.isatty() and console.is_terminal


def _version(value: bool) -> None:
    if value:
        print(f"bpsim {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Watch asyncio queues and backpressure work."""
    from bpsim.signals import current, handle_signals

    # For the whole command, not only its run: a Ctrl-C while the summary is printed must not
    # cut it short (bpsim.signals). The `bpsim` program has entered the block already
    # (bpsim.__main__); `app` called in a test enters it here, until the command has finished.
    if current() is None:
        ctx.with_resource(handle_signals())


# -- options shared by the commands ----------------------------------------------------------------------

ScenarioArg = Annotated[
    str,
    typer.Argument(
        metavar="SCENARIO",
        autocompletion=_complete_scenario,
        help="A scenario file, or the name of a bundled one (see `bpsim scenarios`).",
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        autocompletion=_complete_key,
        help="Override a scenario key, e.g. --set queue.maxsize=50 --set producer.rate=40 (repeatable).",
    ),
]
def _parse_seed(value: str | None) -> int | None:
    """--seed as a whole number, with a line that says so (not the parser's own words)."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise typer.BadParameter(t("errors.seed.whole_number", shown=value[:40])) from None


SeedOption = Annotated[
    int | None,
    typer.Option(metavar="INTEGER", parser=_parse_seed, help="Override the scenario's random seed."),
]
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
    int, typer.Option(min=1, help="Stop a run after this many items produced (a guard for the machine; exit code 3).")
]
MaxQueuedOption = Annotated[
    int, typer.Option(min=1, help="Stop a run when this many items wait in the queue (unbounded queues; exit code 3).")
]
MaxDurationOption = Annotated[
    float | None, typer.Option(min=0.001, help="Stop a run at this simulated second (exit code 3).")
]
_DEFAULT = Limits()


def _parse_replications(value: str | None) -> int | None:
    """--replications as a whole number of 2 or more: an interval needs a spread."""
    if value is None:
        return None
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 2:
        raise typer.BadParameter(t("errors.replications.too_few", value=value[:40]))
    return count


ReplicationsOption = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        parser=_parse_replications,
        help="Run every variant on N seeds (2 or more) and show each metric as mean ± 95% confidence interval.",
    ),
]
WarmupOption = Annotated[
    float | None,
    typer.Option(
        metavar="S",
        min=0.0,
        help="Leave the first S simulated seconds out of every metric (a queue that starts empty is not yet in its steady state).",
    ),
]
JobsOption = Annotated[
    int | None, typer.Option(min=1, help="Processes to run in (default: one per core). Results do not depend on it.")
]

SpeedOption = Annotated[
    str | None,
    typer.Option(
        metavar="X|max",
        callback=_parse_speed,
        help="Simulated seconds per wall second for the dashboard (1 = real time, max = as fast as "
        "possible). Default: about 20 s of wall time for the whole scenario; a program (FILE.py) at its own pace, 1.",
    ),
]
LiveOption = Annotated[bool, typer.Option("--live/--no-live", help="Show the live dashboard (only in a terminal).")]
PauseAtOption = Annotated[
    list[float] | None,
    typer.Option(
        "--pause-at",
        metavar="T",
        min=0.0,
        help="Pause the dashboard at simulated second T (repeatable); b goes back 5 s.",
    ),
]
StopsOption = Annotated[
    bool, typer.Option("--stops", help="Pause the dashboard at every moment the lesson names ([[moments]]).")
]
HoldOption = Annotated[
    bool,
    typer.Option("--hold/--no-hold", help="Keep the dashboard's final frame on the screen until a key, then print the summary."),
]


def _check_theme(value: str | None) -> str | None:
    from bpsim.render.theme import THEME_NAMES

    if value is not None and value not in THEME_NAMES:
        raise typer.BadParameter(f"{value!r} is not a theme; choose {', '.join(THEME_NAMES)}")
    return value


ThemeOption = Annotated[
    str | None,
    typer.Option(
        "--theme",
        metavar="dark|light|contrast",
        callback=_check_theme,
        help="Colours: dark (the default), light (dark ink for a light background or a projector), "
        "contrast (nothing faint, for a dark background); pictures (--svg, --html) too. "
        "Default: BPSIM_THEME, else dark.",
    ),
]
EXPORT_WIDTH, EXPORT_HEIGHT = 110, 32


def _one_stdout(**outputs: bool) -> None:
    """Refuse two outputs on stdout at once (`--json - --trace`): the result would be neither.

    `outputs` maps each option as the user wrote it to whether it writes to stdout."""
    on_stdout = [option for option, used in outputs.items() if used]
    if len(on_stdout) > 1:
        raise BpsimError(t("errors.stdout.twice", first=on_stdout[0], second=on_stdout[1]))


def _one_file(**outputs: str | None) -> None:
    """Refuse two outputs into one file (`--items run.csv --json run.csv`): the last would destroy
    the first. `outputs` maps each option to its path, None when not given ("-" is `_one_stdout`'s)."""
    seen: dict[str, str] = {}
    for option, path in outputs.items():
        if path is None or path == "-":
            continue
        real = os.path.realpath(path)
        if real in seen:
            raise BpsimError(t("errors.stdout.same_file", first=seen[real], second=option, path=path))
        seen[real] = option


def _check_outputs(paths: list[str | None], scenarios: list[str]) -> None:
    """Refuse, before a long run, result paths that could not be written or are a scenario file."""
    given = [path for path in paths if path is not None]
    if not given:
        return  # most runs: nothing to check, and no writer (json, tempfile) to import
    from bpsim.loader import find_scenario
    from bpsim.output import check_writable

    protected = [find_scenario(source) for source in scenarios]
    for path in given:
        check_writable(path, protected)


def _pace(speed: str | None, *scenarios: "Scenario") -> float | None:
    """The dashboard's speed: --speed X, None for max, or a demo of about 20 wall seconds."""
    from bpsim.render.live import demo_speed

    return demo_speed(*scenarios) if speed is None else None if speed == "max" else float(speed)


def _keys_fd() -> int | None:
    """The terminal to read keys from: stdin, if it is a terminal and we are in its foreground.

    A background process (`timeout`, `cmd &`) that changes the terminal's modes is stopped by
    the kernel (SIGTTOU): then the dashboard still draws, without keys (Ctrl-C still works).
    """
    if not sys.stdin.isatty() or not hasattr(os, "tcgetpgrp"):  # Windows: no keys, no job control
        return None
    fd = sys.stdin.fileno()
    return fd if os.tcgetpgrp(fd) == os.getpgrp() else None


def _run_to_the_end(simulation: "Simulation", view: "LiveView | None" = None) -> "tuple[list[RunResult], int | None]":
    """Run `simulation`; return its results and the exit code to end with, if it was interrupted.

    Ctrl-C (130) and SIGTERM (143) stop the run early with partial results; so does `q` in the
    dashboard, which is a normal way to end a demo (no exit code). A run that hits one of its
    limits stops too: the limit's message goes to stderr and the exit code is 3.
    """
    from bpsim.limits import LimitReached, check_expected_items

    # A runaway scenario (1e9 items/s) is refused now, not after a minute of work with nothing shown.
    scenarios = [pipeline.scenario for pipeline in simulation.pipelines]
    check_expected_items(scenarios, simulation.limits, simulation.labels or [None] * len(scenarios))
    with _signals_handled() as interruption:
        try:
            with view if view is not None else contextlib.nullcontext():
                return (view.run(simulation) if view is not None else simulation.run()), None
        except LimitReached as stop:
            _report(stop)
            return stop.results, stop.exit_code
        except KeyboardInterrupt:
            quit_by_key = view is not None and view.quit_requested
            return simulation.results(), None if quit_by_key else interruption.exit_code


def _signals_handled() -> "contextlib.AbstractContextManager[Interruption]":
    """The command's `handle_signals` block (see `main`), or a new one outside the command line."""
    from bpsim.signals import current, handle_signals

    interruption = current()
    return contextlib.nullcontext(interruption) if interruption is not None else handle_signals()


def _exit(exit_code: int | None, view: "LiveView | CompareView | None" = None) -> None:
    """End the command with `exit_code`, or 130 / 143 if Ctrl-C or SIGTERM came after the run.

    A signal after the run is only noted (bpsim.signals), so that the summary is printed whole;
    the exit code still says the command was interrupted. `q` in a dashboard is not an interruption.
    """
    from bpsim.signals import current

    interruption = current()
    quit_by_key = view is not None and view.quit_requested
    if exit_code is None and interruption is not None and interruption.received is not None and not quit_by_key:
        exit_code = interruption.exit_code
    if exit_code is not None:
        raise typer.Exit(exit_code)


def _interrupt_run() -> None:
    """Stop the running simulation the way Ctrl-C does (asyncio's handler cancels it)."""
    on_sigint = signal.getsignal(signal.SIGINT)
    if callable(on_sigint):
        on_sigint(signal.SIGINT, None)
    else:
        raise KeyboardInterrupt


def _reader_gone() -> NoReturn:
    """stdout's reader has gone (`| head`): end quietly. Python would complain when it flushes
    stdout at exit, so stdout now points at /dev/null."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise typer.Exit(READER_GONE)


# -- the commands ------------------------------------------------------------------------------------------


@app.command(help=RUN_HELP)
def run(
    scenario: Annotated[
        str,
        typer.Argument(
            metavar="SCENARIO|FILE.py",
            autocompletion=_complete_scenario,
            help="A scenario file, the name of a bundled one (see `bpsim scenarios`), or your asyncio program FILE.py.",
        ),
    ],
    program_args: Annotated[
        list[str] | None,
        typer.Argument(metavar="ARGS", help="After --, the arguments of FILE.py (its sys.argv[1:]).", show_default=False),
    ] = None,
    overrides: SetOption = None,
    seed: SeedOption = None,
    json_path: JsonOption = None,
    trace: Annotated[
        bool, typer.Option("--trace", help="Print every event as `<seconds> <message>` (the handbook's words).")
    ] = False,
    live: LiveOption = True,
    speed: SpeedOption = None,
    hold: HoldOption = True,
    pause_at: PauseAtOption = None,
    stops: StopsOption = False,
    svg: Annotated[
        str | None, typer.Option("--svg", metavar="PATH", help="Save the final dashboard as an SVG picture (- for stdout).")
    ] = None,
    html: Annotated[
        str | None, typer.Option("--html", metavar="PATH", help="Save the final dashboard as an HTML page (- for stdout).")
    ] = None,
    items_path: Annotated[
        str | None,
        typer.Option(
            "--items",
            metavar="PATH",
            help="Write one CSV row per item (arrival, enqueued, taken, call start, end, outcome, reason, "
            "attempts, worker, latency), streamed as items end (- for stdout).",
        ),
    ] = None,
    max_items: MaxItemsOption = DEFAULT_MAX_ITEMS,
    max_queued: MaxQueuedOption = DEFAULT_MAX_QUEUED,
    max_duration: MaxDurationOption = None,
    theme: ThemeOption = None,
    cdf: Annotated[
        bool,
        typer.Option(
            "--cdf", help="After the summary, draw the latency CDF: the share of handled items done within each latency."
        ),
    ] = False,
    warmup: WarmupOption = None,
) -> None:
    if scenario.endswith(".py"):
        not_for_programs = {
            "--set": bool(overrides), "--svg": svg is not None, "--html": html is not None,
            "--items": items_path is not None, "--cdf": cdf, "--pause-at": bool(pause_at), "--stops": stops,
            "--max-items": max_items != DEFAULT_MAX_ITEMS, "--max-queued": max_queued != DEFAULT_MAX_QUEUED,
            "--warmup": warmup is not None, "--no-hold": not hold,
        }  # fmt: skip
        _run_program(scenario, program_args or [], [option for option, given in not_for_programs.items() if given],
                     trace=trace, speed=speed, seed=seed, max_duration=max_duration,
                     live=live, json_path=json_path, look=theme)  # fmt: skip
        return
    if program_args:
        _fail(BpsimError(t("program.args_for_scenario", scenario=scenario, args=" ".join(program_args)[:80])))
    look = _look(theme)
    console = _console(look=look)
    trace_writer = None
    try:
        _one_stdout(
            **{
                "--trace": trace,
                "--json -": json_path == "-",
                "--svg -": svg == "-",
                "--html -": html == "-",
                "--items -": items_path == "-",
            }
        )
        from bpsim.engine import Simulation
        from bpsim.loader import load_scenario

        loaded = load_scenario(scenario, overrides or [], seed)
        _check_warmup(warmup, [loaded])
        _check_outputs([json_path, svg, html, items_path], [scenario])
        _one_file(**{"--json": json_path, "--svg": svg, "--html": html, "--items": items_path})
        view = None
        if live and _interactive(console) and not trace and "-" not in (json_path, items_path):
            from bpsim.render.live import LiveView

            view = LiveView(
                console, speed=_pace(speed, loaded), keys_fd=_keys_fd(), hold=hold, stops=pause_at or (), pause_at_moments=stops
            )
        limits = Limits(max_items, max_queued, max_duration)
        simulation = Simulation([loaded], pacing=view.pacing if view is not None else None, limits=limits, warmup=warmup)
        recent = None
        if view is not None:
            view.watch(simulation)
            recent = view.recent
        elif svg is not None or html is not None:
            from bpsim.render.live import watch

            recent = watch(simulation)
        if trace:
            from bpsim.render.trace import TraceWriter

            trace_writer = TraceWriter(sys.stdout, on_reader_gone=_interrupt_run)
            simulation.subscribe(trace_writer)
        items_output: contextlib.AbstractContextManager[TextIO | None] = contextlib.nullcontext()
        if items_path is not None:
            from bpsim.output import open_output

            items_output = open_output(items_path)
        with items_output as items_file:
            recorder = None
            if items_file is not None:
                from bpsim.records import ItemRecorder

                recorder = ItemRecorder(loaded, items_file, on_error=_interrupt_run)
                simulation.subscribe(recorder)
            results, exit_code = _run_to_the_end(simulation, view)
            if recorder is not None:
                recorder.close()
                if isinstance(recorder.error, BrokenPipeError):
                    _reader_gone()
                if recorder.error is not None:
                    raise recorder.error  # open_output says what became of the file
        if trace_writer is not None and trace_writer.reader_gone:
            _reader_gone()
        result = results[0]
        if json_path is not None:
            from bpsim.output import strict_json, write_text

            write_text(json_path, strict_json(result_json(result)))
        if recent is not None:
            from bpsim.output import write_text
            from bpsim.render.export import export
            from bpsim.render.format import scenario_name
            from bpsim.render.live import final_dashboard

            picture = final_dashboard(simulation, recent, width=EXPORT_WIDTH, height=EXPORT_HEIGHT)
            pictures: tuple[tuple[str | None, Literal["svg", "html"]], ...] = ((svg, "svg"), (html, "html"))
            for path, kind in pictures:
                if path is not None:
                    write_text(path, export(picture, kind, width=EXPORT_WIDTH, title=f"bpsim · {scenario_name(loaded)}", look=look))
    except BpsimError as error:
        _fail(error)
    if "-" not in (json_path, svg, html, items_path):
        from bpsim.render.summary import summary

        measured = result.measured or result  # with --warmup, the run from S on
        _show(console, _warmed(summary(measured), warmup))
        if cdf:
            from bpsim.render.cdf import latency_cdf

            _show(console, latency_cdf(measured.latency))
    _exit(exit_code, view)


def _run_program(
    path: str, args: list[str], refused: list[str], *, trace: bool, speed: str | None, seed: int | None, max_duration: float | None,
    live: bool = True, json_path: str | None = None, look: str | None = None,
) -> None:
    """`bpsim run FILE.py`: the program's own output (stamped under --trace), then its exit code.

    In a terminal the probes' live dashboard is drawn under the program's lines, and what they saw
    is summarised after the program's output; piped, stdout is the program's alone. `--json PATH`
    writes what they saw (with the printed lines: under `--json -` they are not echoed)."""
    from bpsim.clock import Pacing
    from bpsim.program import DEFAULT_MAX_DURATION, ProgramObserver, print_uncaught, run_program

    if refused:
        _fail(BpsimError(t("program.option", option=refused[0], path=path)))
    try:
        _one_stdout(**{"--trace": trace, "--json -": json_path == "-"})
        if json_path is not None:
            from bpsim.output import check_writable

            check_writable(json_path, [path], is_input="program.json_is_program")
    except BpsimError as error:
        _fail(error)
    console = _console(look=look)
    on_terminal = _interactive(console) and json_path != "-"
    observers: list[ProgramObserver] = []
    probes = None
    if on_terminal or json_path is not None:
        from bpsim.probes import ProbesObserver

        probes = ProbesObserver()
        observers.append(probes)
    trace_writer = None
    if trace:
        from bpsim.render.trace import PrintedTrace, TraceWriter

        trace_writer = TraceWriter(sys.stdout, on_reader_gone=_interrupt_run)
        observers.append(PrintedTrace(trace_writer))
    # Paced only when asked (--speed 1: the program's lines come at their real pace); else at once.
    pacing = Pacing(float(speed)) if speed is not None and speed != "max" else None
    view = None
    if probes is not None and on_terminal and live and not trace:
        from bpsim.render.program_live import ProgramView

        # Live, the program's time passes at its own pace unless --speed says otherwise.
        view = ProgramView(probes, path, None if speed == "max" else float(speed or 1.0), _look(look), keys_fd=_keys_fd())
        observers.append(view)
        pacing = view.pacing
    limit = max_duration if max_duration is not None else DEFAULT_MAX_DURATION
    echo = not trace and view is None and json_path != "-"
    try:
        with _signals_handled():
            result = run_program(path, args, observers=observers, pacing=pacing, max_duration=limit, echo=echo, seed=seed)
    except BpsimError as error:
        _fail(error)
    try:
        if result.reader_gone or (trace_writer is not None and trace_writer.reader_gone):
            raise BrokenPipeError
        sys.stdout.flush()
    except BrokenPipeError:
        _reader_gone()
    print_uncaught(result)
    quit_by_key = view is not None and view.quit_requested  # q: a normal way to end a watch (exit 0)
    if result.stopped_by is not None:
        _report(result.stopped_by)
    elif result.interrupted and not quit_by_key:
        _print_line(t("program.interrupted", at=result.ended_at), err=True)
    elif not result.ran_a_loop and not result.exited and result.exit_code == 0:
        _print_line(t("program.no_loop", path=path), err=True)
    if probes is not None and probes.final is not None:
        if on_terminal:
            from bpsim.render.program import program_summary

            console.print()
            console.print(program_summary(probes.final, os.path.basename(path)))
        if json_path is not None:
            from bpsim.output import strict_json, write_text
            from bpsim.probes import program_json

            try:
                write_text(json_path, strict_json(program_json(result, probes.final)))
            except BpsimError as error:
                _fail(error)
    _exit(0 if quit_by_key else None if result.interrupted else result.exit_code or None)  # interrupted: 130, or 143 for SIGTERM


@app.command()
def theory(scenario: ScenarioArg, overrides: SetOption = None, seed: SeedOption = None) -> None:
    """Compare a run with queueing theory: M/M/c, M/M/c/K, M/D/1, the USL service and Little's law.

    When the scenario is a textbook queue (Poisson arrivals, exponential or constant service, no
    bursts, timeouts or max_age; a contended service too) or a closed loop (rate = "unlimited"),
    the formula's values are shown beside the simulated ones; otherwise one line says why no
    formula applies. Little's law is checked on every run.
    """
    from bpsim.engine import Simulation
    from bpsim.loader import load_scenario
    from bpsim.render.theory import theory_table
    from bpsim.theory import theory_for

    try:
        loaded = load_scenario(scenario, overrides or [], seed)
        results, exit_code = _run_to_the_end(Simulation([loaded]))
    except BpsimError as error:
        _fail(error)
    _show(_console(), theory_table(theory_for(loaded), results[0]))
    _exit(exit_code)


@app.command()
def explain(
    topic: Annotated[
        str | None,
        typer.Argument(
            autocompletion=_complete_topic,
            help="A topic, e.g. backpressure, drop-oldest, shutdown, little, policies.",
        ),
    ] = None,
    theme: ThemeOption = None,
) -> None:
    """Teach one concept: what it is, when to use it, its asyncio code, and a scenario to run.

    Without a topic, list them. `bpsim explain policies` maps bpsim's policy names to the names
    Akka, Kotlin, .NET, RxJava and RabbitMQ use, including the names that mean opposite things.
    """
    from bpsim.explain import check_topic
    from bpsim.render import explain as explain_render

    try:
        look = _look(theme)
        renderable = explain_render.topic_list() if topic is None else explain_render.topic(check_topic(topic), look)
    except BpsimError as error:
        _fail(error)
    _show(_console(look=look), renderable)


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
    typer.Option(
        "--policy",
        metavar="POLICY",
        autocompletion=_complete_policy,
        help="A policy to compare (repeatable): block, drop-newest, drop-oldest.",
    ),
]
SvgOption = Annotated[
    str | None, typer.Option("--svg", metavar="PATH", help="Save the final table as an SVG picture (- for stdout).")
]


@app.command(help=COMPARE_HELP)
def compare(
    scenarios: Annotated[
        list[str],
        typer.Argument(
            metavar="SCENARIO", autocompletion=_complete_scenario, help="One or more scenario files or bundled names."
        ),
    ],
    policies: PolicyOption = None,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            metavar="KEY=V1,V2,...",
            autocompletion=_complete_key,
            help="Compare values of any key, written like --set, e.g. --vary queue.maxsize=2,10,0.",
        ),
    ] = None,
    overrides: SetOption = None,
    seed: SeedOption = None,
    json_path: JsonOption = None,
    svg_path: SvgOption = None,
    live: LiveOption = True,
    speed: SpeedOption = None,
    hold: HoldOption = True,
    pause_at: PauseAtOption = None,
    max_items: MaxItemsOption = DEFAULT_MAX_ITEMS,
    max_queued: MaxQueuedOption = DEFAULT_MAX_QUEUED,
    max_duration: MaxDurationOption = None,
    replications: ReplicationsOption = None,
    jobs: JobsOption = None,
    warmup: WarmupOption = None,
    theme: ThemeOption = None,
    cdf: Annotated[
        bool, typer.Option("--cdf", help="After the table, draw every variant's latency CDF on one shared latency axis.")
    ] = False,
) -> None:
    look = _look(theme)
    console = _console(look=look)
    try:
        _one_stdout(**{"--json -": json_path == "-", "--svg -": svg_path == "-"})
        from bpsim.engine import Simulation
        from bpsim.output import strict_json, write_text
        from bpsim.render.comparison import comparison
        from bpsim.render.export import export
        from bpsim.variants import compare_variants

        variants = compare_variants(scenarios, policies or [], vary or [], overrides or [], seed)
        loaded = [v.scenario for v in variants]
        _check_outputs([json_path, svg_path], scenarios)
        _check_warmup(warmup, loaded)
        if replications is not None:
            if Limits(max_items, max_queued, max_duration) != _DEFAULT:
                raise BpsimError(t("errors.replications.limits"))
            if cdf:
                raise BpsimError(t("errors.replications.cdf"))
            _compare_replications(console, variants, replications, jobs, json_path, svg_path, warmup)
            return
        view = None
        if live and _interactive(console) and json_path != "-":
            from bpsim.render.compare_live import varied_line
            from bpsim.render.live import CompareView

            keys = list(dict.fromkeys(key for v in variants for key, _ in v.settings))
            varied = varied_line(loaded, keys)
            view = CompareView(console, varied=varied, speed=_pace(speed, *loaded), keys_fd=_keys_fd(), hold=hold, stops=pause_at or ())
        simulation = Simulation(
            loaded,
            labels=[v.label for v in variants],
            pacing=view.pacing if view else None,
            limits=Limits(max_items, max_queued, max_duration),
            warmup=warmup,
        )
        if view is not None:
            view.watch(simulation)
        results, exit_code = _run_to_the_end(simulation, view)
        if json_path is not None:
            write_text(json_path, strict_json([result_json(r) for r in results]))
        table = _warmed(comparison(variants, [r.measured or r for r in results]), warmup)
        if svg_path is not None:
            write_text(svg_path, export(table, "svg", width=EXPORT_WIDTH, title="bpsim compare", look=look))
    except BpsimError as error:
        _fail(error)
    if "-" not in (json_path, svg_path):
        _show(console, table)
        if cdf:
            from bpsim.render.cdf import compared_cdfs

            console.print()
            _show(console, compared_cdfs([v.label for v in variants], [simulation.latency_stats(i) for i in range(len(results))]))
    _exit(exit_code, view)


@app.command()
def sweep(
    scenario: ScenarioArg,
    params: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="KEY=FROM..TO[:STEP]",
            autocompletion=_complete_key,
            help="A key and its values: a range (1..50, 1..50:5) or a list (a,b,c). Once or twice.",
        ),
    ] = None,
    policies: PolicyOption = None,
    metric_names: Annotated[
        str,
        typer.Option(
            "--metric",
            metavar="NAMES",
            autocompletion=_complete_metrics,
            help=f"Metrics to show, comma-separated: {', '.join(m.name for m in METRICS)}.",
        ),
    ] = "dropped,p99,blocked",
    jobs: JobsOption = None,
    overrides: SetOption = None,
    seed: SeedOption = None,
    csv_path: Annotated[
        str | None, typer.Option("--csv", metavar="PATH", help="Write one CSV row per run to PATH (- for stdout).")
    ] = None,
    json_path: JsonOption = None,
    replications: ReplicationsOption = None,
    warmup: WarmupOption = None,
) -> None:
    """Run a scenario for every combination of values, headless, and chart how metrics change.

    \b
      bpsim sweep burst --param queue.maxsize=1..50 --policy block --policy drop-oldest
      bpsim sweep burst --param queue.maxsize=1..50:5 --param workers.count=2,4 --metric p99

    Runs spread over --jobs processes with results identical to one process.
    """
    try:
        _one_stdout(**{"--csv -": csv_path == "-", "--json -": json_path == "-"})
        from bpsim.metrics import parse_metrics
        from bpsim.output import write_text
        from bpsim.sweeps import csv_text, json_text, sweep_variants

        metrics = parse_metrics(metric_names)
        axes, variants = sweep_variants(scenario, params or [], policies or [], overrides or [], seed)
        _check_outputs([csv_path, json_path], [scenario])
        _check_warmup(warmup, [v.scenario for v in variants])
        if replications is not None:
            _sweep_replications(axes, variants, metrics, replications, jobs, csv_path, json_path, warmup)
            return
        total = len(variants)
        variants, results, exit_code = _sweep_to_the_end(variants, jobs, warmup)
        if csv_path is not None:
            write_text(csv_path, csv_text(variants, results))
        if json_path is not None:
            write_text(json_path, json_text(variants, results))
    except BpsimError as error:
        _fail(error)
    if "-" not in (csv_path, json_path) and results:
        from rich.console import Group, NewLine

        from bpsim.render.comparison import sweep_chart, sweep_table

        chart = Group(sweep_table(axes, variants, results, metrics), NewLine(), sweep_chart(axes, variants, results, metrics))
        _show(_console(), _warmed(chart, warmup))
    if exit_code is not None:
        _print_line(t("sweep.interrupted", done=len(results), total=total), err=True)
    _exit(exit_code)


def _sweep_to_the_end(
    variants: "list[Variant]", jobs: int | None, warmup: float | None = None
) -> "tuple[list[Variant], list[RunResult], int | None]":
    """Run the sweep; return the variants that finished, their results and the exit code if interrupted.

    Ctrl-C (130) and SIGTERM (143) stop the worker processes at once; the runs that had
    finished are kept.
    """
    from bpsim import sweeps as sweeping
    from bpsim.render.progress import sweep_progress

    with _signals_handled() as interruption:
        try:
            with sweep_progress(len(variants)) as advance:
                return variants, sweeping.run_sweep(variants, jobs, advance, warmup), None
        except KeyboardInterrupt as stopped:
            # Ctrl-C can also land in the progress bar, outside the sweep: then nothing finished.
            finished = stopped.finished if isinstance(stopped, sweeping.SweepInterrupted) else {}
            order = sorted(finished)
            return [variants[index] for index in order], [finished[index] for index in order], interruption.exit_code


def _check_warmup(warmup: float | None, scenarios: "list[Scenario]") -> None:
    """Refuse a warm-up that leaves nothing to measure (bpsim.warmup.check_warmup)."""
    from bpsim.warmup import check_warmup

    check_warmup(warmup, scenarios)


def _warmed(renderable: "RenderableType", warmup: float | None) -> "RenderableType":
    """`renderable` under the line that says the first `warmup` seconds were left out."""
    if warmup is None:
        return renderable
    from rich.console import Group
    from rich.text import Text

    return Group(Text(t("warmup.note", seconds=f"{warmup:g}"), style="bpsim.muted"), renderable)


def _replicate_to_the_end(
    variants: "list[Variant]", replications: int, *, paired: bool, jobs: int | None, warmup: float | None = None
) -> "list[Replicated] | None":
    """Run every variant on `replications` seeds; None if Ctrl-C or SIGTERM stopped it (the line
    saying so is printed: an interval needs every replication, so nothing else is)."""
    from bpsim import sweeps
    from bpsim.render.progress import sweep_progress
    from bpsim.replications import replicate

    total = len(variants) * replications
    with _signals_handled() as interruption:
        try:
            with sweep_progress(total) as advance:
                return replicate(variants, replications, paired=paired, jobs=jobs, on_done=advance, warmup=warmup)
        except KeyboardInterrupt as stopped:
            done = len(stopped.finished) if isinstance(stopped, sweeps.SweepInterrupted) else 0
            _print_line(t("replications.interrupted", done=done, total=total), err=True)
            raise typer.Exit(interruption.exit_code) from None


def _compare_replications(
    console: "Console",
    variants: "list[Variant]",
    replications: int,
    jobs: int | None,
    json_path: str | None,
    svg_path: str | None,
    warmup: float | None,
) -> None:
    """`bpsim compare --replications N`: headless, spread over processes like a sweep."""
    from bpsim.output import strict_json, write_text
    from bpsim.render.export import export
    from bpsim.render.replications import replicated_comparison
    from bpsim.replications import replicated_json

    summaries = _replicate_to_the_end(variants, replications, paired=True, jobs=jobs, warmup=warmup)
    assert summaries is not None
    if json_path is not None:
        write_text(json_path, strict_json([replicated_json(summary) for summary in summaries]))
    table = _warmed(replicated_comparison(summaries), warmup)
    if svg_path is not None:
        write_text(svg_path, export(table, "svg", width=EXPORT_WIDTH, title="bpsim compare"))
    if "-" not in (json_path, svg_path):
        _show(console, table)
    _exit(None)


def _sweep_replications(
    axes: "list[Axis]",
    variants: "list[Variant]",
    metrics: "list[Metric]",
    replications: int,
    jobs: int | None,
    csv_path: str | None,
    json_path: str | None,
    warmup: float | None,
) -> None:
    """`bpsim sweep --replications N`: each point of the grid on N seeds."""
    from bpsim.output import strict_json, write_text
    from bpsim.render.replications import replicated_sweep
    from bpsim.sweeps import csv_of, replicated_json_runs, replicated_rows

    summaries = _replicate_to_the_end(variants, replications, paired=False, jobs=jobs, warmup=warmup)
    assert summaries is not None
    if csv_path is not None:
        write_text(csv_path, csv_of(replicated_rows(summaries)))
    if json_path is not None:
        write_text(json_path, strict_json(replicated_json_runs(summaries)))
    if "-" not in (csv_path, json_path):
        _show(_console(), _warmed(replicated_sweep(axes, summaries, metrics), warmup))
    _exit(None)


def result_json(result: "RunResult") -> dict[str, Any]:
    """`RunResult.to_json()` plus the `theory` object: the formula's numbers, or why none applies."""
    return result.to_dict()


@app.command()
def scenarios() -> None:
    """List the bundled scenarios: the name to run (bpsim run NAME) and what each one shows."""
    from bpsim.library import bundled_scenarios, description
    from bpsim.render.scenarios import scenario_list

    lang = language()
    _show(_console(), scenario_list([(path.stem, description(path, lang)) for path in bundled_scenarios()]))


@app.command()
def validate(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE...", autocompletion=_complete_scenario, help="Scenario files (or bundled names) to check."
        ),
    ],
    overrides: SetOption = None,
) -> None:
    """Check scenario files without running them: every problem on its own line, ✓ for a valid file.

    Exit code 2 if any file has a problem. --set checks the files with those overrides applied.
    """
    from bpsim.loader import scenario_problems

    failed = False
    for file in files:
        problems = scenario_problems(file, overrides or [])
        lines = ScenarioError(problems).lines() if problems else [t("scenarios.valid", path=file)]
        for line in lines:
            _print_line(line)
        failed = failed or bool(problems)
    if failed:
        raise typer.Exit(ScenarioError.exit_code)


KINDS = ("webhooks", "api-fanout", "background-jobs", "ingest-burst", "realtime-latest")
"""The kinds of system `bpsim new` knows (`bpsim.new.Kind`, checked equal by a test), spelled out
here so that `--help` need not import the scenario model."""


def _kind(value: str | None) -> str | None:
    if value is not None and value not in KINDS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(KINDS)}")
    return value


@app.command()
def new(
    path: Annotated[str, typer.Argument(help="Where to write the scenario (- for stdout).")] = "scenario.toml",
    kind: Annotated[
        str | None,
        typer.Option(
            metavar="|".join(KINDS),
            callback=_kind,
            autocompletion=lambda incomplete: _matching(list(KINDS), incomplete),
            help="The kind of system; asked when not given.",
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Take every default without asking.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite PATH if it already exists.")] = False,
) -> None:
    """Write a new, commented scenario file from a few questions about your system.

    The kinds of system (webhooks, api-fanout, background-jobs, ingest-burst, realtime-latest) take
    their defaults from the bundled scenario of the same name. --yes asks nothing.
    """
    from pathlib import Path

    from bpsim.loader import scenario_from_text
    from bpsim.new import Kind, ask, defaults, scenario_toml
    from bpsim.output import write_text

    try:
        if Path(path).exists() and not force:
            raise OutputError(t("new.exists", path=path))
        chosen = Kind(kind) if kind is not None else None
        answers = defaults(chosen or Kind.WEBHOOKS) if yes else ask(chosen)
        text = scenario_toml(answers, path if path != "-" else _stdout_file())
        scenario_from_text(text, path)  # what bpsim writes must load; never leave a broken file behind
        write_text(path, text)
    except BpsimError as error:
        _fail(error)
    if path != "-":
        for line in (t("new.wrote", path=path, kind=answers.kind), t("new.next", path=path)):
            _print_line(line)


@app.command()
def code(
    scenario: ScenarioArg,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write the script to FILE (- for stdout, the default)."),
    ] = None,
    overrides: SetOption = None,
    seed: SeedOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it already exists.")] = False,
) -> None:
    """Write a scenario as a plain, commented asyncio program: producer, Queue, workers, Semaphore.

    Run the script with `bpsim run FILE.py` (virtual time; --speed max: at once) or
    `python3 FILE.py` (real time). On the virtual clock it ends every item as `bpsim run SCENARIO`
    does with the same seed, and prints the counts of its JSON's "items". --set and --seed apply
    as they do for run.

    It writes: arrivals (poisson, constant, after-put, unlimited, bursts, start), every service
    distribution but a file's, queue maxsize, policy, put_timeout, max_age and the fifo or lifo
    discipline, workers, downstream concurrency (a number) and timeout, slo, shutdown. For
    anything else (retry, breaker, throttle, the service model, adaptive limits, codel and
    adaptive-lifo, data files) it names the key it cannot write and exits with code 2.
    """
    from bpsim.codegen import program
    from bpsim.loader import find_scenario
    from bpsim.output import check_writable, write_text
    from bpsim.paths import open_file_link

    destination = output or "-"
    # A script is for editing and running later: a file, not a device or /dev/stdout (written into).
    a_file = destination != "-" and open_file_link(destination) is None
    try:
        text = program(scenario, overrides or [], seed)
        if destination != "-":
            if os.path.isdir(destination):
                suggested = os.path.join(destination, f"{find_scenario(scenario).stem}.py")
                raise OutputError(t("code.directory", path=destination, suggested=suggested))
            if a_file and os.path.isfile(destination) and not force:  # never replace one unasked
                raise OutputError(t("code.exists", path=destination))
            check_writable(destination, [find_scenario(scenario)])
        write_text(destination, text)
    except BpsimError as error:
        _fail(error)
    if a_file and os.path.isfile(destination):  # not /dev/null: nothing there to run
        # `bpsim run` tells a program from a scenario by its .py name.
        _print_line(t("code.wrote" if destination.endswith(".py") else "code.wrote_not_py", path=destination))


def _stdout_file() -> str | None:
    """The file stdout was redirected to (`bpsim new - > my.toml`), as a path from here; else None."""
    try:
        if not os.path.isfile("/dev/stdout"):
            return None  # a terminal or a pipe
        target = os.readlink(f"/proc/self/fd/{sys.stdout.fileno()}")
    except (OSError, ValueError):
        return None
    relative = os.path.relpath(target)
    return relative if not relative.startswith("..") else target


if __name__ == "__main__":  # pragma: no cover
    app(prog_name="bpsim")
