"""`bpsim sweep`: ranges and lists, a grid in a fixed order, the same results in one process or many."""

from __future__ import annotations

import csv
import io
import json
import signal
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpsim.cli import app
from bpsim.errors import ScenarioError
from bpsim.metrics import parse_metrics
from bpsim.render.comparison import sweep_chart, sweep_table
from bpsim.sweeps import SweepInterrupted, csv_text, json_text, parse_param, run_sweep, sweep_variants
from tests.golden import assert_golden
from tests.render import render
from tests.test_compare import OVERLOAD

runner = CliRunner()


@pytest.fixture
def overload(tmp_path: Path) -> str:
    path = tmp_path / "overload.toml"
    path.write_text(OVERLOAD.replace("put_timeout = 2.0\n", ""))
    return str(path)


def bpsim(*args: str):
    return runner.invoke(app, list(args), prog_name="bpsim")


@pytest.mark.parametrize(
    "text, values",
    [
        ("queue.maxsize=1..5", ("1", "2", "3", "4", "5")),
        ("queue.maxsize=1..50:10", ("1", "11", "21", "31", "41")),
        ("producer.rate=0.1..0.3:0.1", ("0.1", "0.2", "0.3")),  # exact: no 0.30000000000000004
        ("producer.arrivals=constant,poisson", ("constant", "poisson")),
        ("queue.policy=block,dropHead", ("block", "drop-oldest")),
    ],
)
def test_a_param_is_a_range_with_both_ends_or_a_list(text: str, values: tuple[str, ...]):
    assert parse_param(text).values == values


@pytest.mark.parametrize(
    "text, message",
    [
        ("queue.maxsize", "expected KEY=FROM..TO[:STEP] or KEY=a,b,c"),
        ("queue.maxsize=50..1", "a range goes up"),
        ("queue.maxsize=1..9:0", "a range goes up"),
        ("queue.maxsize=a..z", "a range needs finite numbers"),
        ("producer.rate=nan..5", "a range needs finite numbers"),  # once a decimal traceback
        ("producer.rate=1..inf", "a range needs finite numbers"),  # once an OverflowError
        ("producer.rate=1..5:nan", "a range needs finite numbers"),
        ("producer.rate=1..2:1e-30", "1.0e+30 values is too many"),
        ("queue.maxsize=7", "give two or more values"),
    ],
)
def test_a_bad_param_is_one_problem_that_names_it(text: str, message: str):
    with pytest.raises(ScenarioError) as caught:
        parse_param(text)
    [line] = caught.value.lines()
    assert line.startswith(f"--param {text}: {message}")


def test_the_grid_puts_the_policy_outermost_and_the_last_param_fastest(overload: str):
    axes, variants = sweep_variants(overload, ["queue.maxsize=1,2", "workers.count=1,2"], ["block", "drop-newest"])
    assert [axis.name for axis in axes] == ["policy", "maxsize", "count"]
    assert [v.label for v in variants][:3] == [
        "block maxsize=1 count=1",
        "block maxsize=1 count=2",
        "block maxsize=2 count=1",
    ]
    assert len(variants) == 8


def test_results_are_identical_with_one_process_and_with_two(overload: str):
    _, variants = sweep_variants(overload, ["queue.maxsize=1..6"], ["block", "drop-oldest"])
    finished: list[None] = []
    one = run_sweep(variants, jobs=1)
    two = run_sweep(variants, jobs=2, on_done=lambda: finished.append(None))
    assert [r.to_json() for r in two] == [r.to_json() for r in one]
    assert [r.variant for r in two] == [v.label for v in variants]
    assert len(finished) == len(variants)


@pytest.mark.parametrize("jobs", [3, 20])
def test_results_are_identical_with_three_workers_and_with_more_jobs_than_runs(overload: str, jobs: int):
    # 20 is more jobs than runs (12): one worker per run at most.
    _, variants = sweep_variants(overload, ["queue.maxsize=1..6"], ["block", "drop-oldest"])
    one = run_sweep(variants, jobs=1)
    many = run_sweep(variants, jobs=jobs)
    assert [r.to_json() for r in many] == [r.to_json() for r in one]
    assert [r.variant for r in many] == [v.label for v in variants]


def test_csv_and_json_have_one_row_per_run_with_the_varied_values(overload: str):
    _, variants = sweep_variants(overload, ["queue.maxsize=1..3"], ["drop-newest"])
    results = run_sweep(variants, jobs=1)
    table = list(csv.DictReader(io.StringIO(csv_text(variants, results))))
    assert [row["queue.maxsize"] for row in table] == ["1", "2", "3"]
    assert {"variant", "queue.policy", "dropped", "p99", "blocked", "throughput"} <= set(table[0])
    runs = json.loads(json_text(variants, results))
    assert [run["params"] for run in runs] == [{"queue.policy": "drop-newest", "queue.maxsize": n} for n in (1, 2, 3)]
    assert runs[0]["items"]["dropped"] == int(table[0]["dropped"])


def test_sweep_table_and_chart_golden(overload: str):
    axes, variants = sweep_variants(overload, ["queue.maxsize=1..12"], ["block", "drop-oldest"])
    results = run_sweep(variants, jobs=1)
    metrics = parse_metrics("dropped,p99,blocked")
    text = render(sweep_table(axes, variants, results, metrics), 100) + render(sweep_chart(axes, variants, results, metrics), 100)
    assert_golden("sweep_overload_en_100", text)


# -- the command ---------------------------------------------------------------------------------


def test_sweep_prints_a_table_and_a_chart(overload: str):
    result = bpsim("sweep", overload, "--param", "queue.maxsize=1..4", "--jobs", "1", "--metric", "p99,handled")
    assert result.exit_code == 0, result.output
    assert "latency p99" in result.output and "each bar is one run, maxsize from 1 to 4" in result.output


def test_sweep_writes_csv_and_json(overload: str, tmp_path: Path):
    csv_path, json_path = tmp_path / "runs.csv", tmp_path / "runs.json"
    args = ["sweep", overload, "--param", "queue.maxsize=1..3", "--jobs", "2", "--csv", str(csv_path), "--json", str(json_path)]
    assert bpsim(*args).exit_code == 0
    assert len(csv_path.read_text().splitlines()) == 1 + 3
    assert len(json.loads(json_path.read_text())) == 3


@pytest.mark.parametrize(
    "args, line",
    [
        (["--param", "queue.maxsize:1..5"], "--param queue.maxsize:1..5: expected KEY=FROM..TO[:STEP] or KEY=a,b,c"),
        (["--param", "queue.maxsize=5..1"], "--param queue.maxsize=5..1: a range goes up"),
        (["--param", "queue.maxsize=-1..1"], "--param queue.maxsize=-1..1: queue.maxsize: must be 0 or more, not -1"),
        ([], "give one or two --param"),
        (
            ["--param", "queue.maxsize=1..200", "--param", "workers.count=1..100"],
            "--param queue.maxsize=1..200 --param workers.count=1..100: 20000 variants is too many to run (at most 10000)",
        ),
        (["--param", "queue.maxsize=1,2", "--metric", "p98"], "--metric p98: 'p98' is not a metric; did you mean 'p99'?"),
    ],
)
def test_a_bad_sweep_option_gives_one_clear_line_and_exit_code_2(args: list[str], line: str):
    result = bpsim("sweep", "handbook", "--jobs", "1", *args)
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(line)


def test_the_chart_runs_along_the_axis_with_the_most_values(overload: str):
    axes, variants = sweep_variants(overload, ["queue.maxsize=1..6", "workers.count=1,2"])
    results = run_sweep(variants, jobs=1)
    text = render(sweep_chart(axes, variants, results, parse_metrics("p99")), 100)
    assert "count=1 " in text and "count=2 " in text
    assert "each bar is one run, maxsize from 1 to 6" in text


def test_variants_and_sweep_import_no_user_interface():
    # Sweep workers import bpsim.sweeps: they should not pay for Rich or Typer.
    import subprocess
    import sys

    code = "import sys, bpsim.sweeps, bpsim.variants, bpsim.metrics; print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'typer') or m.startswith('bpsim.render')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_ctrl_c_while_the_runs_are_being_submitted_still_stops_the_workers(overload: str, monkeypatch):
    # Submitting the first run starts the worker processes. A Ctrl-C before the last submit used
    # to escape as a bare KeyboardInterrupt, or to leave the pool's lock taken: the exit hung.
    _, variants = sweep_variants(overload, ["queue.maxsize=1..6"], ["block"])
    submit = ProcessPoolExecutor.submit
    workers: set = set()

    def ctrl_c_after_the_first(pool: ProcessPoolExecutor, *args, **kwargs):
        if workers:
            signal.raise_signal(signal.SIGINT)
        future = submit(pool, *args, **kwargs)
        workers.update(pool._processes.values())  # the first submit starts them all (fork)
        return future

    monkeypatch.setattr(ProcessPoolExecutor, "submit", ctrl_c_after_the_first)
    with pytest.raises(KeyboardInterrupt) as stopped:
        run_sweep(variants, jobs=2)
    assert isinstance(stopped.value, SweepInterrupted), "the CLI's summary line needs SweepInterrupted"
    assert len(workers) == 2 and not [worker for worker in workers if worker.is_alive()], "no worker left"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "Ctrl-C handled as before"


def test_ctrl_c_outside_the_runs_still_prints_the_summary_line(overload: str, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # as if Ctrl-C arrived while the progress bar was being set up

    monkeypatch.setattr("bpsim.sweeps.run_sweep", interrupted)
    result = bpsim("sweep", overload, "--param", "queue.maxsize=1..3")
    assert result.exit_code == 130
    assert result.stderr.strip() .startswith("interrupted: 0 of 3 runs finished")
