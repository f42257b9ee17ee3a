"""`bpsim compare`: variants from --policy, --vary and files; one clock; a fair, paired comparison."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpsim.cli import app
from bpsim.engine import Simulation
from bpsim.errors import BpsimError, ScenarioError
from bpsim.events import ItemHandled, ItemProduced
from bpsim.i18n import set_language
from bpsim.metrics import METRICS, best
from bpsim.loader import load_scenario
from bpsim.render.compare_live import varied_line
from bpsim.render.comparison import comparison, tradeoffs
from bpsim.scenario import Scenario
from bpsim.variants import compare_variants, parse_vary, split_values
from tests.golden import assert_golden
from tests.render import render

runner = CliRunner()

# A burst that overloads one worker: 4x its capacity for 2 s, so every policy has work to do.
OVERLOAD = """\
name = "Overload"
seed = 3
items = 120
[producer]
rate = 8.0
bursts = [ { at = 2.0, duration = 2.0, rate = 40.0 } ]
[queue]
maxsize = 5
put_timeout = 2.0
[workers]
count = 1
service = { distribution = "exponential", mean = 0.1 }
"""


@pytest.fixture
def overload(tmp_path: Path) -> str:
    path = tmp_path / "overload.toml"
    path.write_text(OVERLOAD)
    return str(path)


def bpsim(*args: str):
    return runner.invoke(app, list(args), prog_name="bpsim")


def test_every_variant_gets_the_same_items_at_the_same_arrival_times(overload: str):
    variants = compare_variants([overload], ["block", "drop-newest", "drop-oldest"], ["queue.maxsize=5,0"])
    simulation = Simulation([v.scenario for v in variants], labels=[v.label for v in variants])
    produced: list[list[ItemProduced]] = [[] for _ in variants]
    handled: list[list[ItemHandled]] = [[] for _ in variants]
    for index in range(len(variants)):
        simulation.subscribe(lambda e, i=index: isinstance(e, ItemProduced) and produced[i].append(e), index)
        simulation.subscribe(lambda e, i=index: isinstance(e, ItemHandled) and handled[i].append(e), index)
    simulation.run()
    # Every variant produces items 0..119.
    assert all([e.item for e in events] == list(range(120)) for events in produced)
    # A producer that never waits produces each item exactly when it is due: the same instants.
    never_wait = [i for i, v in enumerate(variants) if v.label != "block maxsize=5"]
    arrivals = [e.at for e in produced[never_wait[0]]]
    assert all([e.at for e in produced[i]] == arrivals for i in never_wait)
    # Under block the producer is late, yet latency still counts from the item's due time.
    blocked = next(i for i, v in enumerate(variants) if v.label == "block maxsize=5")
    assert [e.at for e in produced[blocked]] != arrivals
    assert all(e.at - e.latency == pytest.approx(arrivals[e.item], abs=1e-9) for e in handled[blocked])


def test_policy_variants_are_labelled_by_policy_and_lose_put_timeout_unless_block(overload: str):
    variants = compare_variants([overload], ["block", "dropHead"])
    assert [v.label for v in variants] == ["block", "drop-oldest"]
    assert [v.scenario.queue.put_timeout for v in variants] == [2.0, None]
    assert [v.put_timeout_removed for v in variants] == [None, 2.0]
    text = render(comparison(variants, Simulation([v.scenario for v in variants]).run()), 100)
    assert "put_timeout (2.00 s) only applies to block, so it was removed for drop-oldest." in text


def test_vary_labels_by_the_keys_last_part_and_parses_values_like_set(overload: str):
    variants = compare_variants([overload], vary=["queue.maxsize=2,10,0", "producer.arrivals=constant,poisson"])
    assert [v.label for v in variants][:3] == [
        "maxsize=2 arrivals=constant",
        "maxsize=2 arrivals=poisson",
        "maxsize=10 arrivals=constant",
    ]
    assert [v.scenario.queue.maxsize for v in variants] == [2, 2, 10, 10, 0, 0]


def test_vary_of_the_policy_key_is_the_same_as_policy_options(overload: str):
    assert parse_vary("queue.policy=block,sliding").values == ("block", "drop-oldest")
    assert [v.label for v in compare_variants([overload], vary=["queue.policy=block,sliding"])] == ["block", "drop-oldest"]


def test_several_files_are_labelled_by_file_name(overload: str, tmp_path: Path):
    other = tmp_path / "calm.toml"
    other.write_text(OVERLOAD.replace("rate = 40.0", "rate = 9.0"))
    assert [v.label for v in compare_variants([overload, str(other)])] == ["overload", "calm"]


def test_values_split_at_commas_outside_lists_tables_and_quotes():
    assert split_values("1, [2,3], {a=1,b=2}, 'x,y'") == ["1", "[2,3]", "{a=1,b=2}", "'x,y'"]


def test_a_bad_varied_value_is_reported_against_its_vary(overload: str):
    with pytest.raises(ScenarioError) as caught:
        compare_variants([overload], vary=["queue.maxsize=2,x,-1"])
    assert caught.value.lines() == [
        "--vary queue.maxsize=2,x,-1: queue.maxsize: must be a whole number, not 'x'",
        "--vary queue.maxsize=2,x,-1: queue.maxsize: must be 0 or more, not -1",
    ]


def test_one_variant_is_nothing_to_compare(overload: str):
    with pytest.raises(BpsimError, match="nothing to compare"):
        compare_variants([overload], ["block"])


def test_best_marks_every_tied_best_value_and_nothing_when_all_are_equal():
    lower = next(m for m in METRICS if m.better == "lower")
    higher = next(m for m in METRICS if m.better == "higher")
    assert best(lower, [3, 1, 1, None]) == {1, 2}
    assert best(higher, [3, 1, 3]) == {0, 2}
    assert best(lower, [2, 2, None]) == set()


def test_tradeoffs_say_what_each_policy_paid(overload: str):
    variants = compare_variants([overload], ["block", "drop-newest", "drop-oldest"])
    results = Simulation([v.scenario for v in variants]).run()
    block, newest, oldest = tradeoffs(variants, results)
    assert block.startswith("block dropped nothing, but p99 grew to ") and "the producer waited" in block
    assert newest.startswith("drop-newest kept p99 at ") and "queue-full)" in newest
    assert oldest.startswith("drop-oldest kept p99 at ") and "evicted)" in oldest


def test_a_different_seed_means_the_comparison_is_not_paired(overload: str):
    variants = compare_variants([overload], vary=["seed=1,2"])
    text = render(comparison(variants, Simulation([v.scenario for v in variants]).run()), 100)
    assert "The variants differ in their traffic" in text
    assert "common random numbers" not in text


@pytest.mark.parametrize("lang, width", [("en", 100), ("ko", 80)])
def test_comparison_table_golden(lang: str, width: int, overload: str):
    set_language(lang)
    variants = compare_variants([overload], ["block", "drop-newest", "drop-oldest"])
    results = Simulation([v.scenario for v in variants], labels=[v.label for v in variants]).run()
    assert_golden(f"compare_overload_{lang}_{width}", render(comparison(variants, results), width))


# -- the command ---------------------------------------------------------------------------------


def test_compare_prints_the_table_and_the_paired_sentence():
    result = bpsim("compare", "burst", "--policy", "block", "--policy", "drop-oldest")
    assert result.exit_code == 0, result.output
    assert "Every variant got the same arrivals and the same service time for item k" in result.output


def test_compare_json_is_a_list_of_run_results_with_variant_labels():
    result = bpsim("compare", "handbook", "--vary", "queue.maxsize=1,2", "--json", "-")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [run["variant"] for run in data] == ["maxsize=1", "maxsize=2"]
    assert [run["queue"]["maxsize"] for run in data] == [1, 2]
    single = json.loads(bpsim("run", "handbook", "--set", "queue.maxsize=2", "--json", "-").stdout)
    assert data[1] | {"variant": None} == single | {"variant": None}


def test_compare_saves_the_table_as_svg(tmp_path: Path):
    path = tmp_path / "compare.svg"
    result = bpsim("compare", "handbook", "--policy", "block", "--policy", "drop-newest", "--svg", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_text().startswith("<svg") and "drop-newest" in path.read_text()


TEN = ",".join(str(n) for n in range(1, 11))


@pytest.mark.parametrize(
    "args, line",
    [
        (["--vary", "queue.maxsize"], "--vary queue.maxsize: expected KEY=V1,V2,..., e.g. --vary queue.maxsize=2,10,0"),
        (["--vary", "queue.maxsize=5"], "--vary queue.maxsize=5: give two or more values separated by commas"),
        (["--vary", "queue.maxsiz=1,2"], "--vary queue.maxsiz=1,2: queue.maxsiz: unknown key; did you mean 'maxsize'?"),
        (["--policy", "yolo", "--policy", "block"], "--policy yolo: 'yolo' is not a policy; choose block"),
        (["--policy", "block"], "nothing to compare: give --policy twice or more"),
        (  # three --vary of ten values once ran 1,000 variants for 204 s
            [f"--vary=queue.maxsize={TEN}", f"--vary=workers.count={TEN}", f"--vary=producer.rate={TEN}"],
            f"--vary queue.maxsize={TEN} --vary workers.count={TEN} --vary producer.rate={TEN}: "
            "1000 variants is too many to run (at most 16); give fewer values",
        ),
    ],
)
def test_a_bad_compare_option_gives_one_clear_line_and_exit_code_2(args: list[str], line: str):
    result = bpsim("compare", "handbook", *args)
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(line)


def test_each_variant_of_a_shared_clock_reports_what_a_run_of_it_alone_would(overload: str):
    # drop-newest finishes long before block; its duration, mean qsize and throughput are its own.
    variants = compare_variants([overload], ["block", "drop-newest", "drop-oldest"])
    together = Simulation([v.scenario for v in variants]).run()
    alone = [Simulation([v.scenario]).run()[0] for v in variants]
    assert [r.to_json() for r in together] == [r.to_json() for r in alone]
    assert together[1].duration < together[0].duration


# -- when the variants do not share their traffic ---------------------------------------------------

CLOSED_LOOP = """\
name = "closed"
seed = 7
duration = 20
[producer]
rate = 8
arrivals = "after-put"
[queue]
maxsize = 3
[workers]
count = 1
service = { distribution = "exponential", mean = 0.2 }
"""


def _compare(*args: str) -> str:
    result = bpsim("compare", *args, "--no-live")
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())  # the note as one line, wherever the table wrapped it


def test_poisson_against_after_put_says_item_k_does_not_meet_the_same_arrival(tmp_path: Path):
    path = tmp_path / "closed.toml"
    path.write_text(CLOSED_LOOP)
    text = _compare(str(path), "--vary", "producer.arrivals=poisson,after-put")
    assert "The variants differ in their traffic (producer.arrivals): item k does not meet the same arrival" in text
    assert "common random numbers" not in text and "every difference comes from what was varied" not in text


def test_different_arrival_files_are_different_traffic(tmp_path: Path):
    for name, times in (("a", "0\n0.5\n1\n"), ("b", "0\n0.2\n1.5\n")):
        (tmp_path / f"{name}.csv").write_text(times)
        (tmp_path / f"{name}.toml").write_text(f'items = 3\n[producer]\narrivals = {{ file = "{name}.csv" }}\n')
    text = _compare(str(tmp_path / "a.toml"), str(tmp_path / "b.toml"))
    assert "differ in their traffic (producer.arrivals): item k does not meet the same arrival" in text


def test_after_put_arrivals_are_shared_only_while_no_put_waits(tmp_path: Path):
    path = tmp_path / "closed.toml"
    path.write_text(CLOSED_LOOP)
    # block waits in put (maxsize 3, one worker at 5/s against 8/s): every later arrival moves.
    text = _compare(str(path), "--policy", "block", "--policy", "drop-newest")
    assert "its arrival follows the producer's puts (arrivals = \"after-put\": each gap starts when the last put returned)" in text
    assert "item k does not meet the same arrival in each variant" in text and "common random numbers" not in text
    # Neither drop policy ever waits, so item k arrives at the same instant in both: that is said.
    text = _compare(str(path), "--policy", "drop-newest", "--policy", "drop-oldest")
    assert "Every variant got the same arrivals and the same service time for item k (common random numbers, seed 7)" in text
    loaded = [load_scenario(str(path), [f"queue.policy={policy}"]) for policy in ("block", "drop-newest", "drop-oldest")]
    block, newest, oldest = (
        [e.at for e in events if isinstance(e, ItemProduced)] for events in (_events(s) for s in loaded)
    )
    assert newest == oldest and block != newest


def _events(scenario: Scenario) -> list[object]:
    simulation = Simulation([scenario])
    events: list[object] = []
    simulation.subscribe(events.append)
    simulation.run()
    return events


def test_replications_say_when_the_variants_do_not_share_their_traffic(tmp_path: Path):
    path = tmp_path / "closed.toml"
    path.write_text(CLOSED_LOOP)
    text = _compare(str(path), "--policy", "block", "--policy", "drop-newest", "--replications", "2", "--jobs", "1")
    assert "item k does not meet the same arrival in each variant" in text
    text = _compare("burst", "--policy", "block", "--policy", "drop-oldest", "--replications", "2", "--jobs", "1")
    assert "item k does not meet" not in text


def test_the_live_line_names_the_traffic_keys_that_differ(tmp_path: Path):
    path = tmp_path / "closed.toml"
    path.write_text(CLOSED_LOOP)
    poisson = load_scenario(str(path), ["producer.arrivals=poisson"])
    closed = load_scenario(str(path))
    # Poisson against after-put: the same draws, paired until a put waits (known at the end).
    assert varied_line([poisson, closed], ["producer.arrivals"]).endswith("the same draws in every column (seed 7); arrivals follow the puts, so a waiting put delays them")
    constant = load_scenario(str(path), ["producer.arrivals=constant"])
    assert varied_line([constant, closed], ["producer.arrivals"]).endswith("the columns differ in their traffic too (producer.arrivals)")
    assert "arrivals follow the puts" in varied_line([closed, closed], ["queue.policy"])
    assert "same arrivals and service times in every column (seed 7)" in varied_line([poisson, poisson], ["queue.policy"])
