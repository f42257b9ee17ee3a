"""`bpsim run` through Typer's CliRunner: results, JSON, trace, and one clear line per mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpsim.cli import app
from bpsim.engine import run
from bpsim.render.trace import TraceWriter
from tests.helpers import scenario
from tests.test_pipeline import HANDBOOK_OUTPUT

runner = CliRunner()


def bpsim(*args: str):
    return runner.invoke(app, list(args), prog_name="bpsim")


def test_run_prints_the_summary_with_the_ledger_check():
    result = bpsim("run", "handbook", "--no-live")
    assert result.exit_code == 0, result.output
    assert "✓ 6 = 6 produced: every item accounted for" in result.output
    assert "The producer waited 150 ms in total in queue.put(): that is backpressure." in result.output


def test_json_to_stdout_has_the_documented_fields():
    result = bpsim("run", "handbook", "--json", "-")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["scenario"] == "Handbook example"
    assert data["items"]["produced"] == data["items"]["handled"] == 6
    assert data["queue"] == {"maxsize": 2, "max_qsize": 2, "mean_qsize": pytest.approx(1.0), "entered": 6, "mean_time_in_queue": pytest.approx(0.075)}
    assert data["producer"]["blocked_seconds"] == pytest.approx(0.15)
    assert data["latency"]["max"] == pytest.approx(0.45)
    assert set(data) >= {"seed", "policy", "duration", "throughput", "latency", "queue_wait"}


def test_json_to_a_file_matches_json_to_stdout(tmp_path: Path):
    path = tmp_path / "result.json"
    assert bpsim("run", "burst", "--json", str(path), "--no-live").exit_code == 0
    assert json.loads(path.read_text()) == json.loads(bpsim("run", "burst", "--json", "-").stdout)


def test_trace_speaks_the_handbook_words():
    result = bpsim("run", "handbook", "--trace", "--no-live")
    lines = [line.split(" ", 1)[1] for line in result.output.splitlines() if line[:1].isdigit()]
    handbook = [line for line in lines if line in HANDBOOK_OUTPUT.splitlines()]
    assert handbook == HANDBOOK_OUTPUT.splitlines()
    assert "0.150 worker-0 handled 0" in result.output


def test_set_and_seed_override_the_file():
    default = json.loads(bpsim("run", "burst", "--json", "-").stdout)
    changed = json.loads(
        bpsim("run", "burst", "--json", "-", "--set", "queue.maxsize=5", "--set", "queue.policy=drop-oldest", "--seed", "8").stdout
    )
    assert (changed["seed"], changed["policy"], changed["queue"]["maxsize"]) == (8, "drop-oldest", 5)
    assert changed["items"]["produced"] != default["items"]["produced"]


BAD_SCENARIOS = {
    "unknown key": ('duration = 1.0\n[queue]\npolcy = "block"\n', "bad.toml:3: queue.polcy: unknown key; did you mean 'policy'?"),
    "negative rate": ("duration = 1.0\n[producer]\nrate = -5.0\n", "bad.toml:3: producer.rate: must be a positive number"),
    "ambiguous policy": (
        'duration = 1.0\n[queue]\npolicy = "DROP_LATEST"\n',
        "bad.toml:3: queue.policy: 'DROP_LATEST' is ambiguous",
    ),
    "malformed toml": ("duration = 1.0\n[queue\n", "bad.toml:2:7: "),
}


@pytest.mark.parametrize("case", list(BAD_SCENARIOS))
def test_a_wrong_scenario_gives_one_clear_line_and_exit_code_2(case: str, tmp_path: Path, monkeypatch):
    text, expected = BAD_SCENARIOS[case]
    monkeypatch.chdir(tmp_path)
    Path("bad.toml").write_text(text)
    result = bpsim("run", "bad.toml", "--no-live")
    assert result.exit_code == 2
    assert result.stderr.startswith(expected), result.stderr
    assert "Traceback" not in result.output


def test_every_problem_in_a_file_is_reported(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad.toml").write_text('duration = 1.0\n[producer]\nrate = -5.0\n[workers]\ncount = "4"\n')
    result = bpsim("run", "bad.toml")
    assert result.exit_code == 2
    assert [line.split(":")[1] for line in result.stderr.splitlines()] == ["3", "5"]


def test_a_missing_file_says_so():
    result = bpsim("run", "no-such-scenario.toml")
    assert result.exit_code == 2
    assert result.stderr.startswith("no-such-scenario.toml: no such file or bundled scenario")


def test_a_bad_override_names_the_override():
    result = bpsim("run", "burst", "--set", "queue.maxsize=-1")
    assert result.exit_code == 2
    assert result.stderr.startswith("--set queue.maxsize=-1: queue.maxsize: ")


def test_an_unwritable_json_path_is_a_clear_error(tmp_path: Path):
    result = bpsim("run", "handbook", "--json", str(tmp_path / "missing-dir" / "out.json"))
    assert result.exit_code == 2
    assert "cannot write here" in result.stderr


def test_help_teaches_the_policies():
    for command in ([], ["run"]):
        text = bpsim(*command, "--help").output
        assert "  drop-oldest  the oldest queued item is evicted to admit the arriving one" in text


def test_help_lists_the_commands_in_the_order_a_learner_meets_them():
    listing = bpsim("--help").output.split("Commands:")[1]
    names = [line.split()[0] for line in listing.splitlines() if line.startswith("  ") and not line.startswith("   ")]
    assert names == ["scenarios", "run", "explain", "compare", "sweep", "theory", "new", "validate", "code"]


def test_trace_stops_quietly_when_the_reader_goes_away():
    class ClosedPipe:
        writes = 0

        def write(self, text: str) -> None:
            self.writes += 1
            raise BrokenPipeError

    pipe = ClosedPipe()
    writer = TraceWriter(pipe)  # type: ignore[arg-type]
    result = run(scenario(items=3, producer={"rate": "unlimited"}), [writer])
    assert result.counts.handled == 3, "the run goes on to the end"
    assert (pipe.writes, writer.reader_gone) == (1, True)


def test_a_run_that_hits_a_limit_says_which_and_still_prints_the_summary():
    result = bpsim("run", "unbounded", "--no-live", "--max-queued", "50")
    assert result.exit_code == 3, "a limit has its own exit code: 2 means a bad scenario"
    assert "(--max-queued)" in result.stderr.splitlines()[0]
    assert "e.g. --max-queued 500" in result.stderr
    assert "INTERRUPTED" in result.stdout and "every item accounted for" in result.stdout
