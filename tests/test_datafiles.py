"""Inputs from production: `producer.arrivals = { file = ... }` and `workers.service = { file = ... }` (#19)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bpsim.cli import app
from bpsim.engine import run
from bpsim.errors import ScenarioError
from bpsim.loader import load_scenario
from bpsim.records import ItemRecorder
from bpsim.scenario import EmpiricalService
from bpsim.theory import theory_for
from bpsim.workload import service_times
from tests.helpers import cli_runner

ARRIVALS = [0.0, 0.125, 0.125, 0.5, 2.25, 2.3]


def write_scenario(folder: Path, producer: str, service: str = '{ distribution = "constant", mean = 0.1 }') -> Path:
    path = folder / "prod.toml"
    path.write_text(f"[producer]\narrivals = {producer}\n\n[workers]\nservice = {service}\n")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [str(problem) for problem in caught.value.problems]


def records(scenario) -> list[dict[str, str]]:
    out = io.StringIO()
    recorder = ItemRecorder(scenario, out)
    run(scenario, [recorder])
    recorder.close()
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_arrivals_from_a_file_reproduce_exactly_those_arrival_times(tmp_path: Path):
    (tmp_path / "arrivals.csv").write_text("".join(f"{time!r}\n" for time in ARRIVALS))
    # No `duration` or `items`: the file's end is the producer's end.
    path = write_scenario(tmp_path, '{ file = "arrivals.csv" }')
    scenario = load_scenario(path)
    rows = sorted(records(scenario), key=lambda row: int(row["item"]))
    assert [float(row["arrival"]) for row in rows] == ARRIVALS
    assert [float(row["enqueued"]) for row in rows] == ARRIVALS  # unbounded queue: put at once
    assert scenario.expected_items == len(ARRIVALS)


def test_the_same_times_come_from_gaps_from_a_header_column_and_from_json_lines(tmp_path: Path):
    gaps = [b - a for a, b in zip([0.0, *ARRIVALS], ARRIVALS)]
    (tmp_path / "gaps.csv").write_text("# seconds before each request\n" + "".join(f"{g!r}\n" for g in gaps))
    (tmp_path / "log.csv").write_text("path,ts\n" + "".join(f"/hook,{time!r}\n" for time in ARRIVALS))
    (tmp_path / "log.jsonl").write_text("".join(f'{{"ts": {time!r}, "path": "/hook"}}\n' for time in ARRIVALS))
    expected = records(load_scenario(write_scenario(tmp_path, '{ file = "log.csv", column = "ts" }')))
    for producer in ('{ file = "gaps.csv", values = "gaps" }', '{ file = "log.jsonl", column = "ts" }'):
        got = records(load_scenario(write_scenario(tmp_path, producer)))
        assert [row["arrival"] for row in got] == [row["arrival"] for row in expected], producer
    # gaps are summed in order: 0.125 = 0 + 0.125 exactly; the sums may differ in the last bit elsewhere
    assert [float(row["arrival"]) for row in expected] == ARRIVALS


def test_duration_and_items_still_stop_the_producer_early(tmp_path: Path):
    (tmp_path / "arrivals.csv").write_text("".join(f"{time!r}\n" for time in ARRIVALS))
    path = write_scenario(tmp_path, '{ file = "arrivals.csv" }')
    assert load_scenario(path, ["items=2"]).expected_items == 2
    short = load_scenario(path, ["duration=1.0"])
    assert len(records(short)) == short.expected_items == 4  # 0, 0.125, 0.125, 0.5 are before 1.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("0.5\nabc\n", 'arrivals.csv:2: \'abc\' is not a number (a header? name its column with column = "...")'),
        ("0.5\n-1\n", "arrivals.csv:2: -1 is negative"),
        ("0.5\n\n# a comment\n0.25\n", "arrivals.csv:4: time 0.25 comes before the one above it (0.5); sort the file"),
        ("# nothing here\n\n", "arrivals.csv: holds no numbers; give one number per line"),
        ("1733040000.5\n", "past 1e+09; epoch timestamps? subtract the first one"),
        ("nan\n", "arrivals.csv:1: nan is not a finite number"),
    ],
)
def test_a_bad_arrivals_file_is_one_line_naming_the_file_and_its_line(tmp_path: Path, monkeypatch, content, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "arrivals.csv").write_text(content)
    (problem,) = problems(write_scenario(tmp_path, '{ file = "arrivals.csv" }'))
    assert problem.startswith("prod.toml:2: producer.arrivals.file: ") or problem.startswith(
        f"{tmp_path}/prod.toml:2: producer.arrivals.file: "
    ), problem
    assert message in problem


def test_a_missing_file_and_a_wrong_key_are_refused(tmp_path: Path):
    (missing,) = problems(write_scenario(tmp_path, '{ file = "nope.csv" }'))
    assert "producer.arrivals.file:" in missing and "nope.csv: no such file" in missing
    (tmp_path / "log.csv").write_text("path,ts\n/a,1\n")
    (column,) = problems(write_scenario(tmp_path, '{ file = "log.csv", column = "time" }'))
    assert "log.csv:1: no column 'time' in the header (path, ts); name one of them" in column
    (word,) = problems(write_scenario(tmp_path, '"poison"'))
    assert 'producer.arrivals: must be "poisson", "constant" or a table such as { file = "arrivals.csv" }' in word


def test_rate_and_bursts_are_refused_beside_a_file(tmp_path: Path):
    (tmp_path / "arrivals.csv").write_text("1\n")
    path = tmp_path / "prod.toml"
    path.write_text('[producer]\nrate = 50\narrivals = { file = "arrivals.csv" }\n')
    (problem,) = problems(path)
    assert "remove `rate` and `bursts` from [producer]" in problem


def test_service_times_from_a_file_are_sampled_per_item_from_the_service_stream(tmp_path: Path):
    (tmp_path / "latencies.csv").write_text("0.3\n0.1\n0.2\n0.2\n")
    path = write_scenario(tmp_path, '"poisson"', '{ file = "latencies.csv" }')
    path.write_text("items = 2000\n" + path.read_text())
    scenario = load_scenario(path)
    service = scenario.workers.service
    assert isinstance(service, EmpiricalService)
    assert service.samples == (0.1, 0.2, 0.2, 0.3)
    assert service.mean == pytest.approx(0.2)
    assert service.variance == pytest.approx(0.005)  # ((0.1)^2 + 0 + 0 + (0.1)^2) / 4
    drawn = [time for time, _ in zip(service_times(scenario), range(2000))]
    assert set(drawn) == {0.1, 0.2, 0.3}
    assert drawn.count(0.2) / 2000 == pytest.approx(0.5, abs=0.05)  # two of four samples
    # Common random numbers: item k gets the same time in every variant; another seed draws others.
    same = load_scenario(path, ["queue.maxsize=3"])
    assert [t for t, _ in zip(service_times(same), range(50))] == drawn[:50]
    assert [t for t, _ in zip(service_times(load_scenario(path, seed=1)), range(50))] != drawn[:50]


def test_a_bad_latency_file_names_the_service_key(tmp_path: Path):
    (tmp_path / "latencies.csv").write_text("0.1\nslow\n")
    path = write_scenario(tmp_path, '"poisson"', '{ file = "latencies.csv" }')
    path.write_text("items = 5\n" + path.read_text())
    (problem,) = problems(path)
    assert ":6: workers.service.file: " in problem and "latencies.csv:2: 'slow' is not a number" in problem


def test_theory_says_why_no_formula_applies_and_mg1_for_a_latency_file(tmp_path: Path):
    (tmp_path / "arrivals.csv").write_text("".join(f"{time!r}\n" for time in ARRIVALS))
    assert theory_for(load_scenario(write_scenario(tmp_path, '{ file = "arrivals.csv" }'))).reason == "file_arrivals"
    (tmp_path / "latencies.csv").write_text("0.02\n0.05\n0.08\n")  # mean 0.05 s at 10/s: rho = 0.5
    path = write_scenario(tmp_path, '"poisson"', '{ file = "latencies.csv" }')
    path.write_text("duration = 10\n" + path.read_text())
    theory = theory_for(load_scenario(path))
    assert (theory.model, theory.applies) == ("M/G/1", True)


def test_the_cli_runs_a_scenario_fed_from_files_and_sweeps_it_in_workers(tmp_path: Path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "arrivals.csv").write_text("".join(f"{time!r}\n" for time in ARRIVALS))
    (tmp_path / "data" / "latencies.csv").write_text("0.05\n0.1\n0.15\n")
    path = write_scenario(tmp_path / "data", '{ file = "arrivals.csv" }', '{ file = "latencies.csv" }')
    monkeypatch.chdir(tmp_path)  # the files are found beside the scenario, not in the working directory
    runner = cli_runner()
    result = runner.invoke(app, ["run", str(path), "--items", "-"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1 + len(ARRIVALS)
    swept = runner.invoke(app, ["sweep", str(path), "--param", "workers.count=1,2", "--jobs", "2", "--csv", "-"])
    assert swept.exit_code == 0, swept.output


def test_producer_start_shifts_the_files_times(tmp_path: Path):
    (tmp_path / "arrivals.csv").write_text("".join(f"{time!r}\n" for time in ARRIVALS))
    path = tmp_path / "prod.toml"
    path.write_text('[producer]\nstart = 10.0\narrivals = { file = "arrivals.csv" }\n')
    rows = sorted(records(load_scenario(path)), key=lambda row: int(row["item"]))
    assert [float(row["arrival"]) for row in rows] == [10.0 + time for time in ARRIVALS]


def test_a_bad_data_file_is_reported_in_korean_with_the_same_file_and_line(tmp_path: Path):
    from bpsim.i18n import set_language

    (tmp_path / "latencies.csv").write_text("0.1\nslow\n")
    path = write_scenario(tmp_path, '"poisson"', '{ file = "latencies.csv" }')
    path.write_text("items = 5\n" + path.read_text())
    set_language("ko")
    try:
        (problem,) = problems(path)
    finally:
        set_language("en")
    assert ":6: workers.service.file: " in problem
    assert "latencies.csv:2: 'slow'은(는) 숫자가 아닙니다 (헤더인가요? column = \"...\"으로 열 이름을 지정하세요)" in problem
