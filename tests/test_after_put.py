"""`producer.arrivals = "after-put"`: the handbook's closed-loop producer, `await queue.put(item)`
then `await asyncio.sleep(gap)`, so a put that waits delays every later arrival (#19)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bpsim.engine import run
from bpsim.events import ItemProduced
from bpsim.records import ItemRecorder
from bpsim.theory import theory_for
from tests.helpers import of_type, problems_in, run_recording, scenario


def rows_of(s) -> list[dict[str, str]]:
    out = io.StringIO()
    recorder = ItemRecorder(s, out)
    run(s, [recorder])
    recorder.close()
    return sorted(csv.DictReader(io.StringIO(out.getvalue())), key=lambda row: int(row["item"]))


def produced_at(s) -> list[float]:
    _, events = run_recording(s)
    return [e.at for e in of_type(events, ItemProduced)]


def test_with_block_a_waiting_put_delays_every_later_arrival_by_hand():
    # Gap 0.5 s (rate 2, constant gaps), one worker taking 2 s per item, maxsize 1, block.
    # item 0 arrives 0.0, taken at once (ends 2.0); item 1 arrives 0.5 and waits in the queue;
    # item 2 arrives 1.0, finds the queue full, its put returns at 2.0 (worker takes item 1);
    # item 3 arrives 2.0 + 0.5 = 2.5, its put returns at 4.0; item 4 arrives 4.5 (put returns 6.0);
    # item 5 arrives 6.5 (put returns 8.0). Open loop would have been 0, 0.5, 1.0, 1.5, 2.0, 2.5.
    s = scenario(
        items=6,
        producer={"rate": 2.0, "arrivals": "after-put", "gaps": "constant"},
        queue={"maxsize": 1, "policy": "block"},
        workers={"count": 1, "service": {"distribution": "constant", "mean": 2.0}},
    )
    rows = rows_of(s)
    assert [float(r["arrival"]) for r in rows] == pytest.approx([0.0, 0.5, 1.0, 2.5, 4.5, 6.5])
    assert [float(r["enqueued"]) for r in rows] == pytest.approx([0.0, 0.5, 2.0, 4.0, 6.0, 8.0])
    # latency counts from the arrival (when the producer offered the item): end - arrival
    assert [float(r["latency"]) for r in rows] == pytest.approx([2.0, 3.5, 5.0, 5.5, 5.5, 5.5])
    open_loop = scenario(**{**s.model_dump(), "producer": {"rate": 2.0, "arrivals": "constant"}})
    assert [float(r["arrival"]) for r in rows_of(open_loop)] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])


@pytest.mark.parametrize("policy", ["drop-newest", "drop-oldest"])
def test_with_a_drop_policy_no_put_waits_so_the_schedule_is_the_open_loop_one(policy: str):
    # Exponential gaps are the Poisson process's own draws (the "{seed}/arrivals" stream, item by
    # item), and a dropping put returns at once: every arrival and every count matches.
    tables = dict(
        seed=7, duration=20.0, queue={"maxsize": 3, "policy": policy},
        workers={"count": 1, "service": {"distribution": "exponential", "mean": 0.2}},
    )
    closed = scenario(**tables, producer={"rate": 8.0, "arrivals": "after-put"})
    opened = scenario(**tables, producer={"rate": 8.0, "arrivals": "poisson"})
    assert produced_at(closed) == pytest.approx(produced_at(opened), abs=1e-9)
    a, b = run(closed), run(opened)
    assert a.counts == b.counts and a.counts.ended["handled"] < a.counts.produced  # some were dropped
    assert theory_for(closed).applies and theory_for(closed).model == theory_for(opened).model


def test_with_block_and_room_the_schedule_is_the_open_loop_one_until_a_put_waits():
    tables = dict(
        seed=3, items=200, queue={"maxsize": 2, "policy": "block"},
        workers={"count": 1, "service": {"distribution": "exponential", "mean": 0.2}},
    )
    closed = produced_at(scenario(**tables, producer={"rate": 8.0, "arrivals": "after-put"}))
    opened = produced_at(scenario(**tables, producer={"rate": 8.0}))
    first_late = next(k for k, (c, o) in enumerate(zip(closed, opened)) if abs(c - o) > 1e-9)
    assert first_late > 0 and closed[:first_late] == pytest.approx(opened[:first_late], abs=1e-9)
    assert all(c >= o - 1e-9 for c, o in zip(closed, opened))  # a wait only ever delays
    assert closed[-1] > opened[-1] + 1.0


def test_duration_stops_the_producer_at_the_first_gap_ending_past_it_and_start_offsets_item_0():
    # Gap 1 s, service 3 s, maxsize 1, block, from start 0.5: arrivals 0.5, 1.5, 2.5 (put waits
    # until 3.5), 4.5 (until 6.5), 7.5 (until 9.5); the next would be 10.5 >= duration 10.
    s = scenario(
        duration=10.0,
        producer={"rate": 1.0, "arrivals": "after-put", "gaps": "constant", "start": 0.5},
        queue={"maxsize": 1, "policy": "block"},
        workers={"count": 1, "service": {"distribution": "constant", "mean": 3.0}},
    )
    assert produced_at(s) == pytest.approx([0.5, 1.5, 2.5, 4.5, 7.5])
    assert run(s).counts.never_sent == 0


def test_theory_stands_aside_when_arrivals_are_not_poisson():
    block = scenario(duration=10.0, producer={"arrivals": "after-put"}, queue={"maxsize": 5, "policy": "block"})
    assert theory_for(block).reason == "after_put"
    constant = scenario(duration=10.0, producer={"arrivals": "after-put", "gaps": "constant"})
    assert theory_for(constant).reason == "constant_arrivals"
    unbounded = scenario(duration=10.0, producer={"arrivals": "after-put"}, workers={"service": {"distribution": "exponential", "mean": 0.05}})
    assert theory_for(unbounded).applies  # no put waits: exactly the Poisson process


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[producer]\nrate = "unlimited"\narrivals = "after-put"\n', 'give a numeric rate and no bursts'),
        ('[producer]\narrivals = "after-put"\nbursts = [{ at = 1.0, duration = 1.0, rate = 50.0 }]\n', "no bursts"),
        ('[producer]\ngaps = "constant"\n', 'producer.gaps applies only with arrivals = "after-put"'),
        ('[producer]\narrivals = "after-put"\ngaps = "pareto"\n', "gaps"),
    ],
)
def test_combinations_that_make_no_sense_are_refused_in_one_line(text: str, says: str):
    (problem,) = problems_in("duration = 5.0\n" + text)
    assert says in problem and "\n" not in problem


def test_the_docs_numbers_a_closed_loop_sends_fewer_items_and_reports_lower_latency():
    # docs/scenarios.md: slow-downstream with 3 workers and room for 5, open loop against after-put.
    from bpsim.loader import load_scenario

    room = ("queue.maxsize=5", "workers.count=3")
    opened = run(load_scenario("slow-downstream", room))
    closed = run(load_scenario("slow-downstream", (*room, "producer.arrivals=after-put")))
    assert (opened.counts.produced, closed.counts.produced) == (491, 434)
    assert opened.latency.p99 == pytest.approx(2.01, abs=0.005)
    assert closed.latency.p99 == pytest.approx(0.866, abs=0.0005)


def compare_text(*args: str) -> str:
    from bpsim.cli import app
    from tests.helpers import cli_runner

    result = cli_runner().invoke(app, ["compare", *args, "--no-live"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_compare_table_shows_the_items_each_variant_produced_when_they_differ():
    # The docs' coordinated-omission numbers: 491 items sent open loop, 434 closed loop (above).
    text = compare_text("slow-downstream", "--vary", "producer.arrivals=poisson,after-put", "--set", "queue.maxsize=5", "--set", "workers.count=3")
    rows = {line.split("  ")[0]: line.split() for line in text.splitlines() if line[:1].isalpha()}
    assert rows["items produced"][-2:] == ["491", "434"]
    assert rows["handled"][-3:] == ["448", "*", "393"] and rows["timed out"][-3:] == ["43", "41", "*"]  # 448 + 43, 393 + 41
    assert "not a like-for-like comparison" in text  # the closed loop's puts waited: item k arrived later
    # Equal counts: no such row, the table as it was.
    assert "items produced" not in compare_text("burst", "--policy", "block", "--policy", "drop-oldest")


def test_poisson_against_after_put_pairs_item_k_when_no_put_waits():
    from bpsim.loader import load_scenario
    from bpsim.render.compare_live import varied_line

    # textbook drops when full (drop-newest), so no put ever waits: every arrival is where the
    # Poisson draws put it, in both variants, and every count and latency is the same.
    opened, closed = (load_scenario("textbook", [f"producer.arrivals={how}"]) for how in ("poisson", "after-put"))
    assert [r["arrival"] for r in rows_of(opened)] == [r["arrival"] for r in rows_of(closed)]
    text = compare_text("textbook", "--vary", "producer.arrivals=poisson,after-put")
    assert "not a like-for-like" not in text and "items produced" not in text
    assert "producer.arrivals differs, but after-put's gaps are the Poisson draws and no put waited" in " ".join(text.split())
    replicated = compare_text("textbook", "--vary", "producer.arrivals=poisson,after-put", "--replications", "2")
    assert "no difference shown at 95% in any metric" in replicated and "not a like-for-like" not in replicated
    # Live, before the end: whether a put will wait is not known yet, as for after-put alone.
    assert "differ in their traffic" not in varied_line([opened, closed], ["producer.arrivals"])
    # Constant against after-put: different draws, never paired.
    constant = load_scenario("textbook", ["producer.arrivals=constant"])
    assert "not a like-for-like" in compare_text("textbook", "--vary", "producer.arrivals=constant,after-put")
    assert "differ in their traffic" in varied_line([constant, closed], ["producer.arrivals"])


def test_a_put_timeout_bounds_the_wait_then_the_next_gap_starts():
    # As the first test, with put_timeout 0.2: item 2 arrives 1.0, gives up at 1.2; item 3 arrives
    # 1.7, gives up at 1.9; at 2.0 the worker takes item 1, so item 4 (2.4) finds room; item 5
    # arrives 2.9 behind item 4 and gives up at 3.1.
    s = scenario(
        items=6,
        producer={"rate": 2.0, "arrivals": "after-put", "gaps": "constant"},
        queue={"maxsize": 1, "policy": "block", "put_timeout": 0.2},
        workers={"count": 1, "service": {"distribution": "constant", "mean": 2.0}},
    )
    rows = rows_of(s)
    assert [float(r["arrival"]) for r in rows] == pytest.approx([0.0, 0.5, 1.0, 1.7, 2.4, 2.9])
    assert [r["outcome"] == "handled" for r in rows] == [True, True, False, False, True, False]


def test_expected_items_is_the_open_loop_count_and_only_an_upper_bound_when_puts_wait():
    # slow-downstream with room for 5 (the numbers above): 491 produced open loop, 434 closed.
    from bpsim.loader import load_scenario

    room = ("queue.maxsize=5", "workers.count=3")
    opened = load_scenario("slow-downstream", room)
    closed = load_scenario("slow-downstream", (*room, "producer.arrivals=after-put"))
    assert closed.expected_items == opened.expected_items  # rate x duration: what the draws schedule
    assert closed.puts_delay_arrivals and not opened.puts_delay_arrivals
    # docs/scenarios.md: 16/s for 30 s schedules 480 on average; this seed's open loop made 491, the closed one 434.
    assert closed.expected_items == 480 and (run(opened).counts.produced, run(closed).counts.produced) == (491, 434)
    dropping = load_scenario("slow-downstream", (*room, "producer.arrivals=after-put", "queue.policy=drop-newest"))
    assert not dropping.puts_delay_arrivals  # no put waits: the open-loop schedule exactly


# One worker at 1 item/s behind room for 5, offered 1000/s for 100 s: open loop that is 100,000
# items; the closed loop produces about 100 (one per second, as room opens) + 5 + 1.
FAST_CLOSED_LOOP = dict(
    seed=1, duration=100.0, producer={"rate": 1000.0, "arrivals": "after-put"}, queue={"maxsize": 5, "policy": "block"},
    workers={"count": 1, "service": {"distribution": "constant", "mean": 1.0}},
)


def test_max_items_does_not_refuse_a_closed_loop_for_its_open_loop_count(tmp_path):
    from bpsim.cli import app
    from tests.helpers import cli_runner

    s = scenario(**FAST_CLOSED_LOOP)
    assert s.expected_items == pytest.approx(100_000)
    path = tmp_path / "fast.toml"
    path.write_text(
        'seed = 1\nduration = 100\n[producer]\nrate = 1000\narrivals = "after-put"\n'
        '[queue]\nmaxsize = 5\n[workers]\ncount = 1\nservice = { distribution = "constant", mean = 1.0 }\n'
    )
    result = cli_runner().invoke(app, ["run", str(path), "--no-live", "--json", "-", "--max-items", "50000"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"]["produced"] == 106  # docs/scenarios.md
    # Open loop (or a dropping closed loop) really would make 100,000: refused before running.
    refused = cli_runner().invoke(app, ["run", str(path), "--no-live", "--max-items", "50000", "--set", "queue.policy=drop-newest"])
    assert refused.exit_code != 0 and "would produce about 100,000 items" in refused.stderr


def test_the_dashboards_length_estimate_caps_a_closed_loops_backlog_at_maxsize():
    from bpsim.render.live import expected_duration

    # 100 s of producing, then at most the 5 queued items at 1 item/s: 105 s, not 100,000 s.
    assert expected_duration(scenario(**FAST_CLOSED_LOOP)) == pytest.approx(105.0)
