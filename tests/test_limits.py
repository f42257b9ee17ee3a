"""Resource guards: a run that would take the machine down stops cleanly, says why and how to go on."""

from __future__ import annotations

import pytest

from bpsim.engine import Simulation, run
from bpsim.i18n import set_language
from bpsim.limits import NO_LIMITS, LimitReached, Limits
from tests.helpers import scenario

# One item per second from t=0 (constant arrivals), one worker taking 0.5 s each.
STEADY = dict(
    producer={"rate": 1.0, "arrivals": "constant"},
    workers={"count": 1, "service": {"distribution": "constant", "mean": 0.5}},
)


def stopped(s, limits: Limits) -> LimitReached:
    with pytest.raises(LimitReached) as caught:
        run(s, limits=limits)
    return caught.value


def test_max_items_stops_the_producer_before_the_item_past_the_limit():
    stop = stopped(scenario(**STEADY, items=10), Limits(max_items=4))
    (result,) = stop.results
    # Items 0-3 are produced at t=0..3 and each handled half a second later; at t=4, when item 4
    # is due, the run stops instead of producing it.
    assert (stop.limit, stop.value, stop.at) == ("max_items", 4, 4.0)
    assert (result.completed, result.stopped_by) == (False, "max_items")
    assert (result.counts.produced, result.counts.handled, result.counts.in_progress) == (4, 4, 0)
    assert result.to_json()["stopped_by"] == "max_items"


def test_a_run_exactly_at_the_item_limit_completes():
    result = run(scenario(**STEADY, items=4), limits=Limits(max_items=4))
    assert result.completed and result.stopped_by is None
    assert result.counts.handled == 4


def test_max_queued_stops_an_unbounded_queue_that_grows_without_limit():
    # Back-to-back items into an unbounded queue: the producer never waits, the queue only grows.
    s = scenario(items=1_000, producer={"rate": "unlimited"}, queue={"maxsize": 0})
    stop = stopped(s, Limits(max_queued=50))
    (result,) = stop.results
    assert (stop.limit, stop.at) == ("max_queued", 0.0)
    assert result.max_qsize == 51
    assert (result.counts.produced, result.counts.in_progress) == (51, 51)


def test_max_duration_stops_the_clock_at_the_limit():
    stop = stopped(scenario(**STEADY, duration=100.0), Limits(max_duration=10.25))
    (result,) = stop.results
    # Items 0..10 were produced at t=0..10; item 10's call (10-10.5) is cut off at 10.25.
    assert (stop.limit, stop.at, result.duration) == ("max_duration", 10.25, 10.25)
    assert (result.counts.produced, result.counts.handled) == (11, 10)


def test_a_limit_in_one_variant_stops_every_variant_and_keeps_their_results():
    small = scenario(**STEADY, items=10, queue={"maxsize": 0})
    simulation = Simulation([small, small], labels=["a", "b"], limits=Limits(max_items=4))
    with pytest.raises(LimitReached):
        simulation.run()
    assert [(r.variant, r.completed, r.stopped_by) for r in simulation.results()] == [
        ("a", False, "max_items"),
        ("b", False, "max_items"),
    ]


def test_the_message_says_which_limit_what_happened_and_how_to_raise_it():
    stop = stopped(scenario(**STEADY, items=10), Limits(max_items=4))
    assert stop.lines() == [
        "stopped at 4.000 s: 4 items were produced, the most one run may produce (--max-items)",
        "until then: 4 produced, 4 handled, 0 dropped, 0 timed out, 0 unfinished",
        "to go further, raise the limit, e.g. --max-items 40",
    ]
    set_language("ko")
    assert stop.lines()[-1] == "더 진행하려면 한도를 올리세요. 예: --max-items 40"


def test_the_default_limits_change_nothing_in_an_ordinary_run():
    s = scenario(**STEADY, items=20)
    assert run(s).to_json() == run(s, limits=NO_LIMITS).to_json()


@pytest.mark.parametrize("field", ["max_items", "max_queued", "max_duration"])
def test_limits_must_be_positive(field):
    with pytest.raises(ValueError, match=field):
        Limits(**{field: 0})


# -- runaway scenarios are refused before they run (issue #17) -----------------------------------


def test_the_expected_item_count_counts_bursts_and_stops_at_shutdown():
    from bpsim.loader import load_scenario

    # burst.toml: 20/s for 30 s with a 100/s burst from 10 s to 13 s: 600 + 3 x 80 = 840; with
    # shutdown.at = 12 the producer stops there: 240 + 2 x 80 = 400.
    assert load_scenario("burst").expected_items == pytest.approx(840)
    assert load_scenario("burst", ["shutdown.at=12.0"]).expected_items == pytest.approx(400)
    assert scenario(items=7).expected_items == 7


@pytest.mark.parametrize("override", ["producer.rate=1e9", "duration=1e9"])
def test_a_runaway_scenario_is_refused_at_once_with_how_to_raise_the_limit(override: str):
    from typer.testing import CliRunner

    from bpsim.cli import app

    result = CliRunner().invoke(app, ["run", "burst", "--no-live", "--set", override])
    assert result.exit_code == LimitReached.exit_code
    first, second = result.stderr.splitlines()
    assert first.startswith("this scenario would produce about ") and "(--max-items 2,000,000); refused before running" in first
    assert second.startswith("to go further, raise the limit (bpsim run and compare: --max-items 100000000000)")
    assert result.stdout == ""  # nothing ran
