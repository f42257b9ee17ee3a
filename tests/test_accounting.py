"""What the ledger covers, on hand-computed runs: items never sent, the tail after a shutdown,
and honest numbers when nothing was measured."""

from __future__ import annotations

import pytest

from bpsim.engine import Distribution, run
from bpsim.cli import app
from bpsim.i18n import set_language, t, t_count
from bpsim.render.summary import observations, summary
from bpsim.stats import LatencyStats
from tests.helpers import cli_runner, scenario
from tests.render import render

# One item a second (t = 0, 1, 2, ...); one worker whose calls take 10 s; room for one item.
SLOW = dict(
    items=20,
    producer={"rate": 1.0, "arrivals": "constant"},
    queue={"maxsize": 1, "policy": "block"},
    workers={"count": 1, "service": {"distribution": "constant", "mean": 10.0}},
)


def test_items_due_while_the_producer_was_blocked_at_an_immediate_shutdown_are_never_sent():
    result = run(scenario(**SLOW, shutdown={"mode": "immediate", "at": 5.5}))
    # The worker takes item 0 at t=0, item 1 waits in the queue, item 2 blocks the producer at
    # t=2. At 5.5 the shutdown abandons items 0 (in the worker) and 1 (queued), and item 2's put
    # raises QueueShutDown: rejected. Items 3, 4 and 5 came due at 3, 4, 5 and were never offered.
    items = result.to_json()["items"]
    assert (items["produced"], items["never_sent"]) == (3, 3)
    assert items["abandoned_by_place"] == {"queued": 1, "in-worker": 1}
    assert (items["rejected_at_shutdown"], items["unfinished"]) == (1, 0)
    assert result.counts.due == 6  # items 0..5: every one due by 5.5
    assert result.duration == 5.5


def test_a_graceful_shutdown_sends_every_item():
    result = run(scenario(**{**SLOW, "items": 6}))
    assert (result.counts.produced, result.counts.never_sent, result.counts.handled) == (6, 0, 6)


def test_the_summary_shows_the_never_sent_items_beside_the_ledger():
    set_language("en")
    text = render(summary(run(scenario(**SLOW, shutdown={"mode": "immediate", "at": 5.5}))), width=100)
    assert "✓ 3 = 3 produced: every item accounted for" in text
    assert "never sent                    3  due when the producer stopped" in text
    assert "3 more items were due by the time the producer stopped (its queue.put() raised QueueShutDown)" in " ".join(text.split())
    assert "1 item met a shut-down queue" in text and "2 items were abandoned by the immediate shutdown" in text
    assert "6 items were due: 3 produced (the ledger above) + 3 never sent" in text


def test_after_a_shutdown_the_run_ends_at_the_producers_next_due_item_and_says_so():
    set_language("en")
    # A fast worker (0.25 s): nothing waits. The shutdown at 5.5 finds the producer asleep until
    # item 6 is due at t=6; then its put raises QueueShutDown. Items 0..5 are handled.
    fast = scenario(
        items=20,
        producer={"rate": 1.0, "arrivals": "constant"},
        workers={"count": 1, "service": {"distribution": "constant", "mean": 0.25}},
        shutdown={"mode": "immediate", "at": 5.5},
    )
    result = run(fast)
    assert (result.counts.handled, result.counts.rejected_at_shutdown, result.counts.never_sent) == (6, 1, 0)
    assert (result.shutdown_at, result.duration) == (5.5, 6.0)
    assert result.throughput == pytest.approx(6 / 6.0)  # over the whole run, the 0.5 s tail included
    assert (
        "After the shutdown at 5.50 s the run went on until the producer's next item was due, at 6.00 s: "
        "its queue.put() raised QueueShutDown, as asyncio's does. Throughput and the time-average qsize "
        "are over the whole run, those last 500 ms included."
    ) in observations(result)


def test_with_nothing_handled_the_json_latency_is_null_not_zero():
    # Item 0's 10 s call is cut by the shutdown at 0.5: nothing is handled. It was taken from
    # the queue the instant it arrived, so its queue wait is measured: 0.
    result = run(scenario(**{**SLOW, "items": 1}, shutdown={"mode": "immediate", "at": 0.5}))
    data = result.to_json()
    assert data["latency"] == {"mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    assert data["queue_wait"] == {"mean": 0.0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}


def test_a_floating_point_residue_below_zero_is_clamped_to_zero():
    waits = LatencyStats()
    waits.record(-2.4e-14)  # `now - arrival` when the clock's sum lands a hair before the arrival
    waits.record(0.0)
    distribution = Distribution.of(waits)
    assert (distribution.mean, distribution.p50, distribution.p99, distribution.max) == (0.0, 0.0, 0.0, 0.0)



def test_handbook_race_says_what_happened_in_a_run_that_lasted_no_time():
    # The printed example: a graceful shutdown before the producer starts. Its first put (item 0)
    # meets the shut-down queue, and the other five items of `rate = "unlimited"` were all due at
    # t = 0: never sent. The producer never blocked, and the run lasted 0 s, so it measured no rate.
    result = cli_runner().invoke(app, ["run", "handbook-race", "--no-live"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "• 1 item met a shut-down queue: queue.put() raised QueueShutDown." in text
    assert "5 more items were due by the time the producer stopped (its queue.put() raised QueueShutDown): it never offered them (never sent, of 6 due)." in text
    assert "never sent 5 due when the producer stopped" in text
    assert "blocked in queue.put()" not in text and "immediate shutdown" not in text and "1 items" not in text
    assert "13.333/s" in text and "0.000/s" not in text and "Little's law, Lq" not in text
    assert "The run lasted 0 s of simulated time: nothing was measured to set beside the formula" in text


def test_a_count_of_one_is_singular_in_english_and_the_same_in_korean():
    set_language("en")
    assert t_count("summary.says_rejected", 1) == "1 item met a shut-down queue: queue.put() raised QueueShutDown."
    assert t_count("summary.says_rejected", 2) == "2 items met a shut-down queue: queue.put() raised QueueShutDown."
    assert t_count("summary.says_never_sent", 1200, count="1,200", due="1,300").startswith("1,200 more items were due")
    set_language("ko")
    assert t_count("summary.says_rejected", 1) == t("summary.says_rejected", count=1)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_handbook_race_summary_golden(lang: str):
    from bpsim.loader import load_scenario
    from tests.golden import assert_golden

    set_language(lang)
    assert_golden(f"summary_handbook_race_{lang}_80", render(summary(run(load_scenario("handbook-race"))), width=80))
