"""The latency CDF: `latency_cdf` in `bpsim run --json`, and `bpsim run --cdf` in the terminal."""

from __future__ import annotations

import json

import pytest

from bpsim import stats as stats_module
from bpsim.cli import app
from bpsim.engine import Distribution, run
from bpsim.i18n import set_language
from bpsim.render.cdf import compared_cdfs, latency_cdf
from bpsim.scenario import Scenario
from bpsim.stats import LatencyStats
from tests.golden import assert_golden
from tests.helpers import cli_runner, scenario
from tests.render import render


def _queueing(call: float = 0.5) -> Scenario:
    # One worker, constant 0.5 s calls, an item every 0.25 s from t = 0, an unbounded queue:
    # item k (k = 0..3) arrives at 0.25·k and ends at 0.5·(k + 1), so its latency is
    # 0.5 + 0.25·k: 0.5, 0.75, 1.0 and 1.25 s. The 20 limits are 1.25·j/20 = 0.0625·j.
    return scenario(
        items=4,
        producer={"rate": 4.0, "arrivals": "constant"},
        workers={"count": 1, "service": {"distribution": "constant", "mean": call}},
        queue={"maxsize": 0},
    )


def test_cdf_counts_equal_the_hand_computed_shares() -> None:
    result = run(_queueing())
    assert result.counts.handled == 4
    limits = [limit for limit, _ in result.latency.cdf]
    assert limits == pytest.approx([0.0625 * j for j in range(1, 21)])
    # By hand: nothing is done within 0.4375 s (j = 1..7); one item (0.5 s) from j = 8, two
    # (0.75 s) from j = 12, three (1.0 s) from j = 16, all four at j = 20 (1.25 s, the max).
    expected = [0] * 7 + [1] * 4 + [2] * 4 + [3] * 4 + [4]
    assert [under for _, under in result.latency.cdf] == expected
    points = result.to_dict()["latency_cdf"]
    assert [point["count"] for point in points] == expected
    assert [point["share"] for point in points] == [count / 4 for count in expected]
    assert points[-1] == {"le": 1.25, "count": 4, "share": 1.0}


def test_json_adds_latency_cdf_and_keeps_every_other_key() -> None:
    output = cli_runner().invoke(app, ["run", "burst", "--no-live", "--json", "-"])
    assert output.exit_code == 0, output.output
    data = json.loads(output.stdout)
    points = data["latency_cdf"]
    assert len(points) == 20 and list(points[0]) == ["le", "count", "share"]
    assert points[-1]["le"] == data["latency"]["max"] and points[-1]["share"] == 1.0
    counts = [point["count"] for point in points]
    assert counts == sorted(counts) and counts[-1] == data["items"]["handled"]
    # The CDF agrees with the percentiles: 95% are done by p95, so the share at p95 is >= 0.95.
    under_p95 = [point["share"] for point in points if point["le"] >= data["latency"]["p95"]]
    assert under_p95[0] >= 0.95
    assert "latency_cdf" not in data["queue_wait"] and list(data["latency"]) == ["mean", "p50", "p95", "p99", "max"]


def test_nothing_handled_gives_an_empty_cdf_and_one_line() -> None:
    nothing = Distribution.of(LatencyStats())
    assert nothing.cdf == () and nothing.cdf_json() == []
    assert render(latency_cdf(nothing)) == "Latency CDF: no item was handled, so there is no latency to draw.\n"


def test_past_the_exact_limit_the_histogram_counts_within_its_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats_module, "EXACT_LIMIT", 10)
    values = [0.01 * k for k in range(1, 101)]  # 10 ms .. 1 s
    stats = LatencyStats()
    for value in values:
        stats.record(value)
    assert not stats.exact
    for limit, under in stats.cdf():
        exact = sum(value <= limit for value in values)
        # A bucket counts once its upper edge is within the limit: never more than the exact
        # count, and no fewer than the values up to one bucket (2%) below the limit.
        assert sum(value <= limit / 1.02 for value in values) <= under <= exact
    assert stats.cdf()[-1] == (stats.max, 100)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_chart_golden(lang: str) -> None:
    set_language(lang)
    assert_golden(f"cdf_queueing_{lang}_80", render(latency_cdf(run(_queueing()).latency), width=80))


def test_run_cdf_draws_after_the_summary_only_when_asked() -> None:
    plain = cli_runner().invoke(app, ["run", "burst", "--no-live"])
    drawn = cli_runner().invoke(app, ["run", "burst", "--no-live", "--cdf"])
    assert plain.exit_code == drawn.exit_code == 0
    assert "Latency CDF" not in plain.stdout
    assert drawn.stdout.startswith(plain.stdout)
    chart = drawn.stdout[len(plain.stdout) :].splitlines()
    assert chart[0] == "Latency CDF · share of the 833 handled items done within each latency"
    assert len(chart) == 21 and chart[-1].endswith("100.0% 833")


def test_chart_golden_in_the_light_theme() -> None:
    # The bars are the theme's named styles (bpsim.chart.good filled, bpsim.muted empty).
    assert_golden("cdf_queueing_light_80", render(latency_cdf(run(_queueing()).latency), width=80, look="light"))


def _compared() -> object:
    # _queueing (latencies 0.5, 0.75, 1.0, 1.25 s) beside the same arrivals served in 0.25 s:
    # item k arrives at 0.25·k, and the worker is free then, so every latency is 0.25 s. The
    # shared axis is the slower one's: 1.25·j/20 = 0.0625·j, so the fast column is 100% from
    # row 4 (0.25 s) on; the slow one is 25% at row 8 (0.5 s), 50% at 12, 75% at 16, 100% at 20.
    from bpsim.engine import Simulation

    simulation = Simulation([_queueing(), _queueing(call=0.25)], labels=["0.5 s calls", "0.25 s calls"])
    simulation.run()
    return compared_cdfs(simulation.labels or [], [simulation.latency_stats(0), simulation.latency_stats(1)])


def test_compared_cdfs_share_one_axis_computed_by_hand() -> None:
    lines = render(_compared(), width=80).splitlines()
    assert lines[1] == "One latency axis for all variants: 20 steps of 62 ms, up to 1.25 s."
    rows = lines[3:23]
    assert [row.split()[1] for row in rows] == [f"{1.25 * j / 20 * 1000:.0f}" for j in range(1, 16)] + [f"{1.25 * j / 20:.2f}" for j in range(16, 21)]
    shares = [[cell for cell in row.split() if cell.endswith("%")] for row in rows]
    assert [slow for slow, _ in shares] == ["0.0%"] * 7 + ["25.0%"] * 4 + ["50.0%"] * 4 + ["75.0%"] * 4 + ["100.0%"]
    assert [fast for _, fast in shares] == ["0.0%"] * 3 + ["100.0%"] * 17
    assert lines[23].split() == ["handled", "4", "4"]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_compared_cdfs_golden(lang: str) -> None:
    set_language(lang)
    assert_golden(f"cdf_compared_{lang}_80", render(_compared(), width=80))


def test_compare_cdf_draws_every_variant_on_one_axis_after_the_table() -> None:
    args = ["compare", "burst", "--policy", "block", "--policy", "drop-newest", "--policy", "drop-oldest", "--no-live"]
    drawn = cli_runner().invoke(app, [*args, "--cdf"], env={"COLUMNS": "80"})
    assert drawn.exit_code == 0, drawn.output
    plain = cli_runner().invoke(app, args, env={"COLUMNS": "80"}).stdout
    assert drawn.stdout.startswith(plain) and "Latency CDF" not in plain
    chart = drawn.stdout[len(plain) :].strip("\n").splitlines()
    assert all(len(line) <= 80 for line in chart)
    # burst: block's slowest item took 5.05 s, drop-oldest's 1.25 s, drop-newest's 1.53 s; on
    # block's axis (5.05·j/20) drop-oldest is done by the 5th row, 1.26 s, drop-newest by the 7th.
    assert chart[:2] == [
        "Latency CDF · share of each variant's handled items done within each latency",
        "One latency axis for all variants: 20 steps of 253 ms, up to 5.05 s.",
    ]
    assert chart[2].split() == ["block", "drop-newest", "drop-oldest"]
    rows = {row[:8]: [cell for cell in row.split() if cell.endswith("%")] for row in chart[3:23]}
    assert rows["≤ 1.26 s"] == ["58.2%", "99.6%", "100.0%"] and rows["≤ 1.01 s"][2] == "98.7%"
    assert rows["≤ 1.52 s"][1] == "99.9%" and rows["≤ 1.77 s"][1:] == ["100.0%", "100.0%"]
    assert chart[-1].split() == ["handled", "833", "687", "686"] and len(chart) == 3 + 20 + 1


def test_compare_cdf_after_a_warmup_counts_the_measured_items() -> None:
    args = ["compare", "burst", "--policy", "block", "--policy", "drop-oldest", "--no-live", "--warmup", "10", "--cdf"]
    drawn = cli_runner().invoke(app, args, env={"COLUMNS": "80"})
    assert drawn.exit_code == 0, drawn.output
    measured = json.loads(cli_runner().invoke(app, [*args[:-1], "--json", "-"]).stdout)
    handled = [str(variant["warmup"]["items"]["handled"]) for variant in measured]
    assert handled[0] == "644" and drawn.stdout.splitlines()[-1].split() == ["handled", *handled]


def test_compare_cdf_with_replications_is_refused_in_one_line() -> None:
    result = cli_runner().invoke(app, ["compare", "burst", "--policy", "block", "--policy", "drop-oldest", "--replications", "2", "--cdf"])
    assert result.exit_code == 2 and result.stderr.strip().endswith("--replications makes N of them: leave out one of the two")
