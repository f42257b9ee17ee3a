"""The Python API (`bpsim.load`, `run`, `compare`, `sweep`): the CLI's results, also inside a running event loop."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

import bpsim
from bpsim.cli import app
from bpsim.engine import run as engine_run
from bpsim.errors import BpsimError, ScenarioError, WarmupTooLong
from bpsim.limits import LimitReached, Limits
from bpsim.loader import load_scenario
from tests.helpers import cli_runner

NOTEBOOK = Path(__file__).parent.parent / "docs" / "notebook.ipynb"


def cli_json(*args: str) -> object:
    result = cli_runner().invoke(app, [*args, "--json", "-"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_load_applies_a_dict_of_overrides_as_set_does():
    settings = {"queue.maxsize": 10, "queue.policy": "drop-oldest", "producer.rate": 12.5, "workers.count": 3}
    given = bpsim.load("burst", set=settings, seed=3)
    assert given == load_scenario(
        "burst", ["queue.maxsize=10", "queue.policy=drop-oldest", "producer.rate=12.5", "workers.count=3"], 3
    )
    assert bpsim.load("burst", set=["queue.maxsize=10"]) == load_scenario("burst", ["queue.maxsize=10"])


def test_a_bad_value_raises_the_command_lines_one_line_error():
    with pytest.raises(ScenarioError) as error:
        bpsim.load("burst", set={"queue.maxsize": -1})
    assert str(error.value).startswith("--set queue.maxsize=-1: ")
    with pytest.raises(ScenarioError, match="burts: no such file"):
        bpsim.load("burts")


def test_run_to_dict_is_what_bpsim_run_json_writes():
    assert bpsim.run("burst").to_dict() == cli_json("run", "burst")
    assert bpsim.run("burst", set={"queue.maxsize": 5}, seed=2).to_dict() == cli_json(
        "run", "burst", "--set", "queue.maxsize=5", "--seed", "2"
    )


def test_run_keeps_the_engines_signature():
    # bpsim.run(scenario, observers, pacing, limits) was bpsim.engine.run: positional calls still work.
    scenario = bpsim.load("burst")
    seen: list[object] = []
    result = bpsim.run(scenario, [seen.append], None, Limits())
    assert result == engine_run(scenario)
    assert seen, "the observer saw the run's events"
    with pytest.raises(LimitReached):
        bpsim.run(scenario, (), None, Limits(max_items=10))
    with pytest.raises(BpsimError, match="set and seed apply to a name or a file"):
        bpsim.run(scenario, seed=1)


def test_everything_works_inside_a_running_event_loop():
    # What a notebook does: Jupyter's loop runs in the thread that calls bpsim.
    async def in_a_notebook() -> tuple[object, ...]:
        asyncio.get_running_loop()  # there is one
        return (
            bpsim.run("burst").to_dict(),
            bpsim.compare("burst", policy=["block", "drop-oldest"]).to_dict(),
            bpsim.sweep("burst", {"queue.maxsize": [2, 10]}, jobs=1).to_dict(),
        )

    inside = asyncio.run(in_a_notebook())
    outside = (
        bpsim.run("burst").to_dict(),
        bpsim.compare("burst", policy=["block", "drop-oldest"]).to_dict(),
        bpsim.sweep("burst", {"queue.maxsize": [2, 10]}, jobs=1).to_dict(),
    )
    assert inside == outside
    assert inside[0]["items"]["handled"] == 833  # burst's documented figure


def test_compare_is_what_bpsim_compare_json_writes():
    comparison = bpsim.compare("burst", policy=["block", "drop-newest"], vary={"queue.maxsize": [5, 30]})
    assert comparison.to_dict() == cli_json(
        "compare", "burst", "--policy", "block", "--policy", "drop-newest", "--vary", "queue.maxsize=5,30"
    )
    assert [v.label for v in comparison.variants] == ["block maxsize=5", "block maxsize=30", "drop-newest maxsize=5", "drop-newest maxsize=30"]
    assert comparison["drop-newest maxsize=30"].counts.dropped == 146
    with pytest.raises(KeyError, match="no variant 'drop'; the labels are block maxsize=5"):
        comparison["drop"]


def test_compare_takes_loaded_scenarios_labelled_by_name_or_by_key():
    small, large = bpsim.load("burst", set={"queue.maxsize": 2}), bpsim.load("burst")
    by_key = bpsim.compare({"small": small, "large": large})
    assert [v.label for v in by_key.variants] == ["small", "large"]
    assert by_key["small"].max_qsize == 2 and by_key["large"].max_qsize == 30
    by_name = bpsim.compare([small, large])
    assert [v.label for v in by_name.variants] == ["Burst traffic #1", "Burst traffic #2"]
    assert [r.counts for r in by_name.results] == [r.counts for r in by_key.results]
    with pytest.raises(BpsimError, match="nothing to compare"):
        bpsim.compare([small])


def test_sweep_is_what_bpsim_sweep_json_and_csv_give():
    swept = bpsim.sweep("burst", {"queue.maxsize": "1..3"}, policy=["block", "drop-oldest"], jobs=1)
    assert swept.to_dict() == cli_json("sweep", "burst", "--param", "queue.maxsize=1..3", "--policy", "block", "--policy", "drop-oldest", "--jobs", "1")
    csv = cli_runner().invoke(app, ["sweep", "burst", "--param", "queue.maxsize=1..3", "--policy", "block", "--policy", "drop-oldest", "--jobs", "1", "--csv", "-"])
    frame = swept.to_pandas()
    assert frame.to_csv(index=False, lineterminator="\n") == csv.stdout
    assert list(frame["queue.maxsize"]) == [1, 2, 3, 1, 2, 3]


def test_to_pandas_of_one_run_is_one_row_of_metrics():
    pandas = pytest.importorskip("pandas")
    frame = bpsim.run("burst").to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert len(frame) == 1 and frame.loc[0, "handled"] == 833 and frame.loc[0, "dropped"] == 0
    assert frame.columns[0] == "variant"


def test_to_pandas_without_pandas_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # what `import pandas` finds when it is missing
    with pytest.raises(ImportError, match=r"needs pandas, an optional extra: pip install 'bpsim\[pandas\]'"):
        bpsim.run("burst").to_pandas()


def test_import_bpsim_imports_no_ui_and_load_no_engine():
    code = (
        "import sys, bpsim; first = sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'typer', 'click', 'pydantic', 'pandas'));"
        "bpsim.load; bpsim.run; bpsim.compare; bpsim.sweep;"
        "then = sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'typer', 'click', 'pandas') or m.startswith('bpsim.render'));"
        "print(first, then, callable(bpsim.sweep))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[] [] True"


def test_bpsim_sweep_stays_the_function_after_the_sweep_module_is_imported():
    import bpsim.sweeps  # noqa: F401  (the module that runs sweeps is not called bpsim.sweep, so it never shadows it)

    assert callable(bpsim.sweep) and bpsim.sweep.__module__ == "bpsim.api"


@pytest.mark.slow
def test_the_example_notebook_runs_under_nbclient():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    text = "\n".join(output.get("text", "") or output.get("data", {}).get("text/plain", "") for output in outputs)
    assert "833 handled, 0 dropped" in text
    assert "drop-oldest      686      147" in text  # the comparison's table, as the notebook shows it


def test_the_example_of_docs_api_runs_inside_asyncio_run():
    text = (Path(__file__).parent.parent / "docs" / "api.md").read_text(encoding="utf-8")
    example = text.split("```python\n", 1)[1].split("```", 1)[0]

    async def cell() -> None:
        exec(compile(example, "docs/api.md", "exec"), {})  # its asserts check the numbers it shows

    asyncio.run(cell())


def test_compare_and_sweep_take_replications_as_the_options_do():
    comparison = bpsim.compare("burst", 3, policy=["block", "drop-oldest"], jobs=1)
    assert comparison.to_dict() == cli_json("compare", "burst", "--policy", "block", "--policy", "drop-oldest", "--replications", "3")
    assert comparison.replications is not None and comparison.replications[1].versus_first is not None
    assert comparison["block"] == comparison.replications[0].results[0]  # replication 0: the plain run
    frame = comparison.to_pandas()
    assert list(frame.columns[:5]) == ["variant", "queue.policy", "replications", "handled.mean", "handled.half_width"]
    swept = bpsim.sweep("burst", {"queue.maxsize": [5, 30]}, replications=2, jobs=1)
    assert swept.to_dict() == cli_json("sweep", "burst", "--param", "queue.maxsize=5,30", "--replications", "2")
    with pytest.raises(BpsimError, match="needs 2 or more replications, not 1"):
        bpsim.compare("burst", 1, policy=["block", "drop-oldest"])


def test_compare_and_sweep_take_a_warmup_as_the_option_does():
    comparison = bpsim.compare("burst", policy=["block", "drop-oldest"], warmup=10)
    assert comparison.to_dict() == cli_json("compare", "burst", "--policy", "block", "--policy", "drop-oldest", "--warmup", "10")
    assert comparison.to_pandas()["handled"].tolist() == [644, comparison["drop-oldest"].measured.counts.handled]
    swept = bpsim.sweep("burst", {"queue.maxsize": [5, 30]}, jobs=1, warmup=10)
    assert swept.to_dict() == cli_json("sweep", "burst", "--param", "queue.maxsize=5,30", "--warmup", "10")


def cli_error(*args: str) -> str:
    result = cli_runner().invoke(app, list(args))
    assert result.exit_code == 2, result.output
    return result.stderr.strip().removeprefix("Error: ")


@pytest.mark.parametrize("warmup", [30, 45.5])  # burst produces items for 30 s
def test_a_warmup_as_long_as_the_run_is_refused_with_the_command_lines_words(warmup: float):
    words = f"--warmup {warmup:g}: the run produces items for 30 s, so nothing would be left to measure; give a warm-up below 30"
    assert cli_error("run", "burst", "--no-live", "--warmup", str(warmup)) == words
    assert cli_error("compare", "burst", "--policy", "block", "--policy", "drop-oldest", "--warmup", str(warmup)) == words
    assert cli_error("sweep", "burst", "--param", "queue.maxsize=5,30", "--warmup", str(warmup)) == words
    refusals = [
        lambda: bpsim.run("burst", warmup=warmup),
        lambda: bpsim.run(bpsim.load("burst"), warmup=warmup),
        lambda: bpsim.compare("burst", policy=["block", "drop-oldest"], warmup=warmup),
        lambda: bpsim.compare("burst", 2, policy=["block", "drop-oldest"], warmup=warmup),
        lambda: bpsim.sweep("burst", {"queue.maxsize": [5, 30]}, jobs=1, warmup=warmup),
        lambda: bpsim.sweep("burst", {"queue.maxsize": [5, 30]}, jobs=1, replications=2, warmup=warmup),
    ]
    for refused in refusals:
        with pytest.raises(WarmupTooLong) as error:
            refused()
        assert str(error.value) == words and isinstance(error.value, ValueError) and isinstance(error.value, BpsimError)


@pytest.mark.parametrize("warmup", [-1, float("nan"), "10"])
def test_a_warmup_that_is_not_seconds_is_refused(warmup: object):
    with pytest.raises(WarmupTooLong, match=r"a warm-up is a number of simulated seconds, 0 or more"):
        bpsim.run("burst", warmup=warmup)  # type: ignore[arg-type]
