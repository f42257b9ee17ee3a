"""The latency CDF: `latency_cdf` in `bpsim run --json`, and `bpsim run --cdf` in the terminal."""

from __future__ import annotations

import json

import pytest

from bpsim import stats as stats_module
from bpsim.cli import app
from bpsim.engine import Distribution, run
from bpsim.i18n import set_language
from bpsim.render.cdf import latency_cdf
from bpsim.stats import LatencyStats
from tests.golden import assert_golden
from tests.helpers import cli_runner, scenario
from tests.render import render


def _queueing() -> object:
    # One worker, constant 0.5 s calls, an item every 0.25 s from t = 0, an unbounded queue:
    # item k (k = 0..3) arrives at 0.25·k and ends at 0.5·(k + 1), so its latency is
    # 0.5 + 0.25·k: 0.5, 0.75, 1.0 and 1.25 s. The 20 limits are 1.25·j/20 = 0.0625·j.
    return scenario(
        items=4,
        producer={"rate": 4.0, "arrivals": "constant"},
        workers={"count": 1, "service": {"distribution": "constant", "mean": 0.5}},
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


def test_compare_cdf_draws_one_cdf_per_variant_after_the_table() -> None:
    args = ["compare", "burst", "--policy", "block", "--policy", "drop-oldest", "--no-live"]
    drawn = cli_runner().invoke(app, [*args, "--cdf"])
    assert drawn.exit_code == 0, drawn.output
    text = drawn.stdout
    # burst: block handles 833 items, drop-oldest 686 (147 evicted); each CDF counts its own.
    block = text.index("Latency CDF of block · share of its 833 handled items")
    oldest = text.index("Latency CDF of drop-oldest · share of its 686 handled items")
    assert text.index("common random numbers") < block < oldest
    assert text.count("100.0% 833") == 1 and text.count("100.0% 686") == 1  # each ends at its own max
    assert "Latency CDF" not in cli_runner().invoke(app, args).stdout


def test_compare_cdf_with_replications_is_refused_in_one_line() -> None:
    result = cli_runner().invoke(app, ["compare", "burst", "--policy", "block", "--policy", "drop-oldest", "--replications", "2", "--cdf"])
    assert result.exit_code == 2 and result.stderr.strip().endswith("--replications makes N of them: leave out one of the two")
