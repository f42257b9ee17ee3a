"""`--warmup S`: every metric but the maxima leaves out the first S simulated seconds."""

from __future__ import annotations

import json
import math

import pytest

from bpsim.cli import app
from bpsim.engine import Simulation
from bpsim.events import ItemDropped, ItemHandled, ProducerBlocked, ProducerUnblocked
from bpsim.loader import load_scenario
from bpsim.metrics import metric_values
from bpsim.replications import replicate
from bpsim.variants import compare_variants
from tests.helpers import cli_runner


def run(policy: str, warmup: float | None) -> tuple[object, list[object]]:
    simulation = Simulation([load_scenario("burst", [f"queue.policy={policy}"])], warmup=warmup)
    events: list[object] = []
    simulation.subscribe(events.append)
    return simulation.run()[0], events


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


@pytest.mark.parametrize("policy", ["block", "drop-oldest"])
def test_the_window_holds_exactly_what_happened_after_the_warmup(policy: str):
    result, events = run(policy, 10.0)
    window = result.measured
    assert window is not None and result.warmup == 10.0
    # Counted from the events, by hand: what ended at or after t = 10.
    handled = [e for e in events if isinstance(e, ItemHandled) and e.at >= 10.0]
    dropped = [e for e in events if isinstance(e, ItemDropped) and e.at >= 10.0]
    assert window.counts.handled == len(handled) and window.counts.dropped == len(dropped)
    latencies = [e.latency for e in handled]
    assert window.latency.p99 == pytest.approx(max(0.0, nearest_rank(latencies, 99)))
    assert window.latency.max == pytest.approx(max(latencies))
    assert window.duration == pytest.approx(result.duration - 10.0)
    assert window.throughput == pytest.approx(len(handled) / (result.duration - 10.0))
    # Blocked time after 10 s: each blocked put clipped to [10, end].
    starts = {e.item: e.at for e in events if isinstance(e, ProducerBlocked)}
    blocked = sum(e.at - max(starts[e.item], 10.0) for e in events if isinstance(e, ProducerUnblocked) and e.at > 10.0)
    assert window.blocked_seconds == pytest.approx(blocked, abs=1e-9)
    # Nothing is lost: the window's items (those not ended by 10 s) all end in one outcome.
    assert window.counts.unfinished == 0 and window.counts.produced == window.counts.finished
    # The run itself is the same run, and its own figures are untouched.
    plain, _ = run(policy, None)
    assert result.to_json() | {} == plain.to_json() | {"warmup": result.to_json()["warmup"]}


def test_no_warmup_and_a_zero_warmup_measure_the_whole_run():
    whole, _ = run("block", None)
    zero, _ = run("block", 0.0)
    assert whole.measured is None and zero.measured is not None
    assert metric_values(zero) == metric_values(whole)


def test_a_variant_that_ended_before_the_warmup_has_nothing_measured():
    scenario = load_scenario("burst", ["duration=5"])
    longer = load_scenario("burst")
    results = Simulation([scenario, longer], warmup=10.0).run()
    assert results[0].measured is not None and results[0].measured.counts.produced == 0
    assert metric_values(results[0])["p99"] is None and metric_values(results[0])["throughput"] == 0.0
    assert results[1].measured is not None and results[1].measured.counts.handled > 0


def test_compare_json_gains_warmup_beside_the_unchanged_keys():
    args = ["compare", "burst", "--policy", "block", "--policy", "drop-oldest", "--json", "-"]
    plain = json.loads(cli_runner().invoke(app, args).stdout)
    warmed = json.loads(cli_runner().invoke(app, [*args, "--warmup", "10"]).stdout)
    for before, after in zip(plain, warmed):
        window = after["warmup"]
        assert {key: value for key, value in after.items() if key != "warmup"} == before
        assert window["seconds"] == 10 and set(window) == {
            "seconds", "duration", "items", "producer", "latency", "queue_wait", "throughput", "queue"
        }
    # What docs/commands.md says: 644 handled after 10 s, mean qsize 17.2 rather than 11.6.
    assert warmed[0]["warmup"]["items"]["handled"] == 644
    assert round(warmed[0]["warmup"]["queue"]["mean_qsize"], 1) == 17.2 and round(plain[0]["queue"]["mean_qsize"], 1) == 11.6


def test_replications_with_a_warmup_are_the_same_for_any_jobs():
    variants = compare_variants(["burst"], ["block", "drop-oldest"])
    one = replicate(variants, 2, paired=True, jobs=1, warmup=10.0)
    two = replicate(variants, 2, paired=True, jobs=2, warmup=10.0)
    assert [s.metrics for s in one] == [s.metrics for s in two]
    assert one[0].metrics["handled"].mean < replicate(variants, 2, paired=True, jobs=1)[0].metrics["handled"].mean


@pytest.mark.parametrize("value, line", [("30", "--warmup 30: the run produces items for 30 s"), ("-1", "Invalid value for '--warmup'")])  # the rest is Typer's words, which differ by version
def test_a_warmup_as_long_as_the_run_is_refused(value: str, line: str):
    result = cli_runner().invoke(app, ["compare", "burst", "--policy", "block", "--policy", "drop-oldest", "--warmup", value])
    assert result.exit_code == 2 and line in result.stderr and "Traceback" not in result.output
    result = cli_runner().invoke(app, ["sweep", "burst", "--param", "queue.maxsize=1,2", "--warmup", value])
    assert result.exit_code == 2 and line in result.stderr
    result = cli_runner().invoke(app, ["run", "burst", "--no-live", "--warmup", value])
    assert result.exit_code == 2 and line in result.stderr


def test_run_json_gains_warmup_and_keeps_every_other_key():
    plain = json.loads(cli_runner().invoke(app, ["run", "burst", "--json", "-"]).stdout)
    warmed = json.loads(cli_runner().invoke(app, ["run", "burst", "--json", "-", "--warmup", "10"]).stdout)
    assert {key: value for key, value in warmed.items() if key != "warmup"} == plain  # latency_cdf too: the whole run
    # The same window as compare's block variant (docs/commands.md): 644 handled after t = 10 s.
    assert warmed["warmup"]["seconds"] == 10 and warmed["warmup"]["items"]["handled"] == 644
    assert round(warmed["warmup"]["duration"], 2) == 20.19 and round(warmed["warmup"]["queue"]["mean_qsize"], 1) == 17.2


def test_run_summary_is_the_window_and_says_so():
    result = cli_runner().invoke(app, ["run", "burst", "--no-live", "--warmup", "10", "--cdf"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Measured from t = 10 s on (--warmup 10)")
    plain = cli_runner().invoke(app, ["run", "burst", "--no-live", "--cdf"]).stdout
    assert "20.19 s simulated" in result.stdout and "20.19 s simulated" not in plain
    # The ledger and the CDF count the 644 items handled after 10 s, not the run's 833.
    assert "✓ 644 = 644 produced" in result.stdout and "644 handled items" in result.stdout
    assert "644 handled items" not in plain


def test_the_api_run_takes_a_warmup():
    import bpsim

    result = bpsim.run("burst", warmup=10)
    assert result.measured is not None and result.measured.counts.handled == 644
    assert bpsim.run("burst").measured is None
