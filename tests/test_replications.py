"""`--replications N`: seeds, Student t intervals that cover the truth, paired differences, the CLI."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest

from bpsim.cli import app
from bpsim.i18n import set_language
from bpsim.loader import scenario_from_text
from bpsim.replications import (
    interval,
    replicate,
    replication_seed,
    replication_variants,
    summarize,
    t_quantile,
)
from bpsim.render.replications import replicated_comparison
from bpsim.sweeps import run_sweep
from bpsim.theory import mmck
from bpsim.variants import Variant, compare_variants
from tests.golden import assert_golden
from tests.helpers import cli_runner
from tests.render import render

# M/M/2/4 at lambda = 2, mu = 1: the chain's weights are 1, 2, 2^2/2, 2^3/4, 2^4/8 = 1, 2, 2, 2, 2
# for 0..4 in the system, so P(full) = 2/9 and an arrival is lost with probability 2/9 (PASTA).
MM24 = """\
name = "M/M/2/4"
items = {items}
seed = {seed}
[producer]
rate = 2.0
arrivals = "poisson"
[queue]
maxsize = 2
policy = "drop-newest"
[workers]
count = 2
service = {{ distribution = "exponential", mean = 1.0 }}
"""
LOSS = 2 / 9


def mm24(items: int, seed: int) -> Variant:
    return Variant(f"seed {seed}", scenario_from_text(MM24.format(items=items, seed=seed)))


def test_t_quantiles_are_those_of_the_printed_tables():
    # Two-sided 95% points of Student's t (any statistics textbook's table).
    table = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 9: 2.262, 15: 2.131, 19: 2.093, 29: 2.045, 99: 1.984}
    for df, value in table.items():
        assert t_quantile(df) == pytest.approx(value, abs=5e-4), df
    assert t_quantile(10_000) == pytest.approx(1.96020, abs=1e-4)  # tending to the normal's 1.95996
    with pytest.raises(ValueError):
        t_quantile(0)


def test_an_interval_by_hand():
    # 1..5: mean 3, s = sqrt(10 / 4) = 1.5811, t(4) = 2.7764: h = 2.7764 * 1.5811 / sqrt(5) = 1.9632.
    got = interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert got.mean == 3.0 and got.half_width == pytest.approx(1.9632, abs=1e-4)
    assert not got.includes_zero and interval([-1.0, 1.5]).includes_zero
    assert interval([4.0, 4.0, 4.0]).half_width == 0.0
    with pytest.raises(ValueError, match="needs 2 or more values, not 1"):
        interval([1.0])


def test_replication_seeds_are_the_seed_then_a_documented_hash():
    assert replication_seed(7, 0) == 7
    expected = int.from_bytes(hashlib.sha256(b"7/replication/1").digest()[:6], "little")
    assert replication_seed(7, 1) == expected == 135682225452249  # the number docs/commands.md shows
    seeds = [replication_seed(7, k) for k in range(200)]
    assert len(set(seeds)) == 200 and all(0 <= seed < 2**48 for seed in seeds)
    assert replication_seed(8, 0) not in seeds  # no overlap with the next seed's stream


def test_the_95_percent_interval_covers_the_exact_mmck_loss_in_about_95_percent_of_sets():
    # 40 independent sets (base seeds 1000..1039) of N = 5 replications of 200 items each: 200
    # runs of 200 items, about two seconds. Five replications is what a user might try first;
    # t(4) = 2.776 is what makes so few enough. 200 items (about 100 s simulated, 100 service
    # times) keep the empty start's bias small: it loses ~0.7 of 44.4 expected drops, against a
    # half-width of about 10. With 40 sets the coverage count is binomial(40, 0.95): below 34 (85%)
    # with probability 0.5%, so a correct interval passes and a wrong one (see below) fails.
    items, n, sets = 200, 5, 40
    expected = items * mmck(2.0, 1.0, 2, 4).blocking_probability
    assert expected == pytest.approx(items * LOSS)
    bases = [mm24(items, 1000 + j) for j in range(sets)]
    results = run_sweep(replication_variants(bases, n), jobs=1)
    summaries = summarize(bases, n, results, paired=False)
    dropped = [summary.metrics["dropped"] for summary in summaries]
    covered = sum(abs(d.mean - expected) <= d.half_width for d in dropped)
    assert 34 <= covered <= 40, covered  # 38 (docs/commands.md says so)
    # The test can fail: an interval a third as wide covers about 59% (P(|t4| < 2.776 / 3)).
    narrow = sum(abs(d.mean - expected) <= d.half_width / 3 for d in dropped)
    assert narrow <= 30


def test_half_widths_shrink_like_one_over_the_square_root_of_n():
    # The first N replications of a longer set are exactly the N-replication set (the seeds are a
    # stream), so prefixes of 64 runs give N = 4, 16, 64. h = t(N-1) s / sqrt(N), with s settling
    # to the runs' spread: h * sqrt(N) / t(N-1) should be about the same for each N, and 16x the
    # runs should give about a quarter of the 16-run half-width's ... averaged over 6 sets.
    runs = 64
    bases = [mm24(100, 2000 + j) for j in range(6)]
    results = run_sweep(replication_variants(bases, runs), jobs=1)
    spreads: dict[int, float] = {}
    widths: dict[int, float] = {}
    for n in (4, 16, 64):
        per_set = [interval([float(r.counts.dropped) for r in results[j * runs : j * runs + n]]) for j in range(len(bases))]
        widths[n] = sum(i.half_width for i in per_set) / len(per_set)
        spreads[n] = widths[n] * math.sqrt(n) / t_quantile(n - 1)
    assert spreads[4] == pytest.approx(spreads[64], rel=0.3) and spreads[16] == pytest.approx(spreads[64], rel=0.2)
    assert widths[16] / widths[64] == pytest.approx(2 * t_quantile(15) / t_quantile(63), rel=0.2)
    assert widths[4] > widths[16] > widths[64]


def test_variants_share_each_replications_seed_and_the_difference_is_paired():
    variants = compare_variants(["burst"], ["block", "drop-oldest"])
    summaries = replicate(variants, 4, paired=True, jobs=1)
    assert summaries[0].seeds == summaries[1].seeds == [replication_seed(7, k) for k in range(4)]
    assert summaries[0].versus_first is None
    versus = summaries[1].versus_first
    assert versus is not None
    differences = [b.counts.dropped - a.counts.dropped for a, b in zip(summaries[0].results, summaries[1].results)]
    assert versus["dropped"] == interval([float(d) for d in differences])
    # Paired beats unpaired: the handled count moves with the traffic in both variants.
    unpaired = math.hypot(summaries[0].metrics["handled"].half_width, summaries[1].metrics["handled"].half_width)
    assert versus["handled"].half_width < unpaired / 2


def compare_json(*args: str) -> list[dict[str, object]]:
    result = cli_runner().invoke(app, ["compare", "burst", *args, "--json", "-"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_compare_json_gains_replications_and_keeps_everything_else():
    plain = compare_json("--policy", "block", "--policy", "drop-newest")
    replicated = compare_json("--policy", "block", "--policy", "drop-newest", "--replications", "3", "--jobs", "1")
    for before, after in zip(plain, replicated):
        extra = after["replications"]
        assert {key: value for key, value in after.items() if key != "replications"} == before  # replication 0 is the plain run
        assert extra["n"] == 3 and extra["seeds"] == [7, replication_seed(7, 1), replication_seed(7, 2)]
        assert {"handled", "dropped", "p99", "blocked", "throughput"} <= set(extra["metrics"])
        assert set(extra["metrics"]["p99"]) == {"mean", "half_width"}
    assert "versus_first" not in replicated[0]["replications"]
    versus = replicated[1]["replications"]["versus_first"]
    assert versus["blocked"]["mean"] < 0 and abs(versus["blocked"]["mean"]) > versus["blocked"]["half_width"]


def test_results_are_the_same_for_any_jobs():
    args = ["--policy", "block", "--policy", "drop-oldest", "--replications", "3"]
    assert compare_json(*args, "--jobs", "1") == compare_json(*args, "--jobs", "2")
    sweep = ["sweep", "burst", "--param", "queue.maxsize=5,30", "--replications", "3", "--csv", "-"]
    one, two = (cli_runner().invoke(app, [*sweep, "--jobs", jobs]) for jobs in ("1", "2"))
    assert one.exit_code == two.exit_code == 0 and one.stdout == two.stdout


def test_sweep_csv_and_json_with_replications():
    base = ["sweep", "burst", "--param", "queue.maxsize=5,30", "--replications", "2", "--jobs", "1"]
    csv = cli_runner().invoke(app, [*base, "--csv", "-"]).stdout.splitlines()
    header = csv[0].split(",")
    assert header[:5] == ["variant", "queue.maxsize", "replications", "handled.mean", "handled.half_width"]
    assert "p99.mean" in header and "p99.half_width" in header and "p99" not in header
    assert csv[1].startswith("maxsize=5,5,2,")
    runs = json.loads(cli_runner().invoke(app, [*base, "--json", "-"]).stdout)
    assert [run["params"] for run in runs] == [{"queue.maxsize": 5}, {"queue.maxsize": 30}]
    assert runs[0]["replications"]["n"] == 2 and "versus_first" not in runs[0]["replications"]
    row = dict(zip(header, csv[1].split(",")))
    assert float(row["p99.mean"]) == pytest.approx(runs[0]["replications"]["metrics"]["p99"]["mean"])


@pytest.mark.parametrize("value", ["0", "1", "-3", "two"])
def test_too_few_replications_is_one_line_and_exit_2(value: str):
    for command in (["compare", "burst", "--policy", "block", "--policy", "drop-oldest"], ["sweep", "burst", "--param", "queue.maxsize=1,2"]):
        result = cli_runner().invoke(app, [*command, "--replications", value])
        assert result.exit_code == 2
        assert f"a confidence interval needs 2 or more replications, not {value}; e.g. --replications 20" in result.stderr
        assert "Traceback" not in result.output


def test_limits_are_refused_with_replications():
    result = cli_runner().invoke(app, ["compare", "burst", "--policy", "block", "--policy", "drop-oldest", "--replications", "2", "--max-items", "10"])
    assert result.exit_code == 2
    assert "--replications runs headless with the default guards" in result.stderr


def test_the_table_says_plainly_when_an_interval_includes_zero():
    # One more slot in the queue: the queue grows by one every time, the producer's blocking
    # moves by less than its spread over seeds.
    variants = compare_variants(["burst"], vary=["queue.maxsize=30,31"])
    text = render(replicated_comparison(replicate(variants, 4, paired=True, jobs=1)), 140)
    # mean qsize +0.3637 ± 0.01886: the half-width's two digits are 0.019, so the mean is 0.364.
    assert "maxsize=31: max qsize +1 ± 0; mean qsize +0.364 ± 0.019; no difference shown at 95% in producer blocked" in text


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_replicated_comparison_golden(lang: str):
    set_language(lang)
    variants = compare_variants(["burst"], ["block", "drop-newest", "drop-oldest"])
    assert_golden(f"compare_replications_{lang}_100", render(replicated_comparison(replicate(variants, 3, paired=True, jobs=1)), 100))


def test_the_output_docs_commands_md_shows_is_the_real_one():
    text = (Path(__file__).parent.parent / "docs" / "commands.md").read_text(encoding="utf-8")
    shown = text.split("Measured with the first command, at 100 columns", 1)[1].split("```\n", 1)[1].split("```", 1)[0]
    variants = compare_variants(["burst"], ["block", "drop-oldest"])
    rendered = render(replicated_comparison(replicate(variants, 10, paired=True, jobs=1)), 100)
    assert [line.rstrip() for line in rendered.splitlines()] == shown.splitlines()
    # And the sentence under it: drop-newest against drop-oldest on the same ten seeds.
    newest = replicate(compare_variants(["burst"], ["drop-newest", "drop-oldest"]), 10, paired=True, jobs=1)
    versus = newest[1].versus_first
    assert versus is not None and (round(versus["dropped"].mean, 1), round(versus["dropped"].half_width, 1)) == (3.6, 3.3)


def test_too_many_runs_are_refused_before_any_starts():
    result = cli_runner().invoke(app, ["compare", "burst", "--policy", "block", "--policy", "drop-oldest", "--replications", "6000"])
    assert result.exit_code == 2
    assert result.stderr.strip().endswith(
        "--replications 6000: 2 variants × 6000 replications is 12000 runs, more than the 10000 one command makes; give fewer replications or values"
    )


def test_the_sweep_table_shows_intervals_and_charts_the_means():
    from bpsim.metrics import parse_metrics
    from bpsim.render.replications import replicated_sweep
    from bpsim.sweeps import sweep_variants

    axes, variants = sweep_variants("burst", ["queue.maxsize=5,30"])
    summaries = replicate(variants, 3, paired=False, jobs=1)
    text = render(replicated_sweep(axes, summaries, parse_metrics("blocked")), 100)
    blocked = [s.metrics["blocked"] for s in summaries]
    assert blocked[0].mean > blocked[1].mean  # a smaller queue blocks the producer longer
    assert "3 replications of each variant" in text and "12.7 ± 1.4 s" in text
    assert "each bar is one point's mean over its replications, maxsize from 5 to 30" in text
    assert "█▁" in text  # the means, scaled: 5 blocks longest


@pytest.mark.parametrize(
    "mean, half, unit, shown",
    [
        # The half-width's two significant digits set the decimals, never past the units:
        (177.0, 25.2, "count", "177 ± 25"),  # 25.2 -> 25: 0 decimals
        (171.3, 21.7, "count", "171 ± 22"),  # so the two cells of one row read alike
        (154.2, 7.2, "count", "154.2 ± 7.2"),  # 7.2: 1 decimal
        (3.5213, 0.2104, "qsize", "3.52 ± 0.21"),  # 0.21: 2 decimals
        (1204.4, 310.0, "count", "1,204 ± 310"),
        (30.0, 0.0, "count", "30 ± 0"),  # no spread: the value as one run shows it
        (10.4217, 0.5963, "seconds", "10.42 ± 0.60 s"),  # the unit once, in the mean's scale
        (0.7741, 0.1493, "seconds", "774 ± 149 ms"),  # 149 ms: 0 decimals
        (0.1206, 0.0058, "seconds", "120.6 ± 5.8 ms"),  # 5.8 ms: 1 decimal
        (0.0, 0.0, "seconds", "0 ± 0 ms"),
    ],
)
def test_an_interval_shows_its_mean_to_the_digits_of_its_half_width(mean: float, half: float, unit: str, shown: str):
    from bpsim.metrics import Metric
    from bpsim.render.replications import _interval
    from bpsim.replications import Interval

    metric = Metric("x", lambda r: None, "lower", unit)  # type: ignore[arg-type]
    assert _interval(metric, Interval(mean, half)) == shown
    assert _interval(metric, Interval(-mean, half), signed=True) == (f"−{shown}" if mean else shown)
