"""What a command-line user expects of any tool: -h, --lang anywhere, completion, one output per
stdout, no dashboard into a file, quiet pipes and exit codes (what a start imports: test_startup.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpsim import cli
from bpsim.cli import app
from bpsim.i18n import detect_language, language_code

ROOT = Path(__file__).parent.parent


def bpsim(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), prog_name="bpsim", env=env)


# -- help and language ---------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["-h"], ["run", "-h"], ["explain", "-h"]])
def test_dash_h_is_help(args):
    result = bpsim(*args)
    assert result.exit_code == 0
    assert result.output.startswith("Usage: bpsim")


def test_help_starts_with_a_command_that_works_from_any_folder():
    assert "Start with:  bpsim run burst " in bpsim("--help").output


@pytest.mark.parametrize(
    "args",
    [
        ["run", "handbook", "--no-live", "--lang", "ko"],
        ["run", "--lang=ko", "handbook", "--no-live"],
        ["--lang", "ko", "run", "handbook", "--no-live"],
        ["run", "handbook", "--no-live", "--lang", "ko-KR"],
        ["run", "handbook", "--no-live", "--lang", "KO"],
    ],
)
def test_lang_may_come_anywhere_and_be_spelled_as_a_locale(args):
    result = bpsim(*args)
    assert result.exit_code == 0, result.output
    assert "✓ 6 = 생산 6" in result.output


def test_explain_after_the_topic_and_bpsim_lang():
    assert "배압" in bpsim("explain", "backpressure", "--lang", "ko").output
    assert "배압" in bpsim("explain", "backpressure", env={"BPSIM_LANG": "ko_KR.UTF-8"}).output
    assert "배압" not in bpsim("explain", "backpressure", "--lang", "en", env={"BPSIM_LANG": "ko"}).output


def test_an_unknown_language_is_one_clear_line_and_exit_2():
    result = bpsim("run", "handbook", "--lang", "fr")
    assert result.exit_code == 2
    assert "'fr' is not a language bpsim speaks; choose en or ko" in result.output
    result = bpsim("scenarios", env={"BPSIM_LANG": "fr"})
    assert result.exit_code == 2
    assert result.stderr.strip() == "BPSIM_LANG='fr' is not a language bpsim speaks; use en or ko"


def test_nothing_after_double_dash_is_taken_for_lang():
    assert cli._take_lang(["run", "x", "--", "--lang", "ko"]) == (None, ["run", "x", "--", "--lang", "ko"])
    assert cli._take_lang(["--lang", "en", "run", "--lang=ko"]) == ("ko", ["run"])


@pytest.mark.parametrize(
    ("value", "code"), [("ko", "ko"), ("KO", "ko"), ("ko-KR", "ko"), ("ko_KR.UTF-8", "ko"), ("en_GB", "en"), ("C", None), ("fr", None)]
)
def test_language_codes(value, code):
    assert language_code(value) == code


def test_detect_language_prefers_bpsim_lang_then_the_locale():
    assert detect_language({"BPSIM_LANG": "ko", "LANG": "en_US.UTF-8"}) == "ko"
    assert detect_language({"LC_ALL": "ko_KR.UTF-8"}) == "ko"
    assert detect_language({"LANG": "fr_FR.UTF-8"}) == "en"
    with pytest.raises(ValueError, match="BPSIM_LANG='xx'"):
        detect_language({"BPSIM_LANG": "xx"})


# -- shell completion ----------------------------------------------------------------------------------


def words(line: str) -> set[str]:
    """What zsh completion offers for `line` (Typer's protocol, as `--install-completion` sets up)."""
    result = bpsim(env={"_BPSIM_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": line})
    assert result.exit_code == 0, result.output
    return set(re.findall(r'"([^"]*)"', result.output))


def test_completion_offers_bundled_scenarios_policies_topics_metrics_and_keys():
    assert "burst" in words("bpsim run bu")
    assert {"drop-newest", "drop-oldest"} <= words("bpsim compare burst --policy drop")
    assert "backpressure" in words("bpsim explain back")
    assert "p99,dropped" in words("bpsim sweep burst --metric p99,dro")
    assert "queue.maxsize=" in words("bpsim run burst --set queue.max")


def test_kinds_of_new_are_the_kinds_it_knows():
    from bpsim.new import Kind

    assert cli.KINDS == tuple(kind.value for kind in Kind)


# -- outputs ---------------------------------------------------------------------------------------------


def test_forced_colour_into_a_file_gets_the_summary_not_the_dashboard():
    result = bpsim("run", "handbook", env={"FORCE_COLOR": "1"})
    assert result.exit_code == 0
    assert "\x1b[?25l" not in result.output, "no hidden cursor: the live view needs a real terminal"
    assert "every item accounted for" in result.output


def test_forced_colour_draws_no_sweep_progress_bar_into_a_file():
    result = bpsim("sweep", "handbook", "--param", "queue.maxsize=1..2", "--jobs", "1", env={"FORCE_COLOR": "1"})
    assert result.exit_code == 0
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "first", "second"),
    [
        (["run", "handbook", "--json", "-", "--trace"], "--trace", "--json -"),
        (["run", "handbook", "--json", "-", "--svg", "-"], "--json -", "--svg -"),
        (["compare", "handbook", "--policy", "block", "--policy", "drop-oldest", "--json", "-", "--svg", "-"], "--json -", "--svg -"),
        (["sweep", "handbook", "--param", "queue.maxsize=1..2", "--csv", "-", "--json", "-"], "--csv -", "--json -"),
    ],
)
def test_two_outputs_on_stdout_are_refused_in_one_line(args, first, second):
    result = bpsim(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{first} and {second} would both write to stdout and mix; send one of them to a file (e.g. --json run.json)"
    ]


def test_svg_to_stdout_is_the_picture_alone():
    result = bpsim("run", "handbook", "--svg", "-")
    assert result.exit_code == 0
    assert result.stdout.startswith("<svg") and result.stdout.rstrip().endswith("</svg>")


def test_json_to_stdout_is_json_alone():
    assert json.loads(bpsim("run", "handbook", "--json", "-").stdout)["items"]["handled"] == 6


@pytest.mark.parametrize(
    "args",
    [
        ["run", "burst", "--no-live"],
        ["compare", "burst", "--policy", "block", "--policy", "drop-oldest", "--no-live"],
        ["sweep", "handbook", "--param", "queue.maxsize=1..3", "--jobs", "1"],
        ["scenarios"],
        ["explain", "backpressure"],
        ["explain", "policies"],
        ["theory", "textbook"],
    ],
)
def test_piped_output_has_no_trailing_spaces(args):
    result = bpsim(*args)
    assert result.exit_code == 0
    padded = [line for line in result.stdout.splitlines() if line != line.rstrip()]
    assert padded == []


def test_trace_into_a_closed_pipe_stops_the_run_quietly():
    # `bpsim run ... --trace | head -1`: a 100 000-second scenario that would run for a minute if
    # nothing noticed the reader had gone.
    command = [sys.executable, "-m", "bpsim", "run", "burst", "--trace", "--set", "duration=100000", "--max-items", "10000000"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()
        code = process.wait(timeout=120)
        stderr = process.stderr.read()
    assert (code, stderr) == (cli.READER_GONE, b"")


def test_a_closed_pipe_interrupts_the_simulation():
    from bpsim.engine import Simulation
    from bpsim.loader import load_scenario
    from bpsim.render.trace import TraceWriter

    class ClosedPipe:
        def write(self, text: str) -> None:
            raise BrokenPipeError

    simulation = Simulation([load_scenario("burst", ["duration=1000"])])
    simulation.subscribe(TraceWriter(ClosedPipe(), on_reader_gone=cli._interrupt_run))  # type: ignore[arg-type]
    with pytest.raises(KeyboardInterrupt):
        simulation.run()
    assert simulation.results()[0].counts.produced < 10, "stopped at the first event"
