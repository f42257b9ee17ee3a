"""`slo = S`: a handled item whose latency exceeds S seconds is late; goodput counts the others.

Four items put at t=0 into an unbounded queue, one worker, 1 s calls: item k is handled at
t = k + 1, so the latencies are exactly 1, 2, 3 and 4 s and the run lasts 4 s.
"""

from __future__ import annotations

import pytest

from bpsim.engine import run
from bpsim.i18n import set_language
from bpsim.metrics import parse_metrics
from bpsim.render.summary import ledger_rows, summary
from tests.helpers import scenario
from tests.render import render
from tests.test_cli import bpsim
from tests.test_dashboard import final_frame

FOUR_IN_A_ROW = dict(
    items=4,
    producer={"rate": "unlimited"},
    workers={"count": 1, "service": {"distribution": "constant", "mean": 1.0}},
)


def test_items_slower_than_the_slo_are_late_and_goodput_counts_the_rest():
    result = run(scenario(**FOUR_IN_A_ROW, slo=2.5))
    # Latencies 1 and 2 s are within 2.5 s; 3 and 4 s are late. 2 on time in 4 s: 0.5/s.
    assert (result.counts.handled, result.counts.handled_on_time, result.counts.late) == (4, 2, 2)
    assert result.throughput == 1.0
    assert result.goodput == 0.5


def test_an_item_exactly_at_the_slo_is_on_time():
    result = run(scenario(**FOUR_IN_A_ROW, slo=2.0))  # "exceeds" is late: 2 s is not
    assert result.counts.handled_on_time == 2


def test_the_json_has_handled_on_time_and_goodput_only_with_an_slo():
    data = run(scenario(**FOUR_IN_A_ROW, slo=2.5)).to_json()
    assert (data["items"]["handled_on_time"], data["slo"], data["goodput"]) == (2, 2.5, 0.5)
    assert list(data)[-3:] == ["throughput", "slo", "goodput"]
    plain = run(scenario(**FOUR_IN_A_ROW)).to_json()
    assert "handled_on_time" not in plain["items"] and not {"slo", "goodput"} & set(plain)


def test_compare_metrics_on_time_and_goodput_exist_only_with_an_slo():
    on_time, goodput = parse_metrics("on-time,goodput")
    with_slo, without = run(scenario(**FOUR_IN_A_ROW, slo=2.5)), run(scenario(**FOUR_IN_A_ROW))
    assert (on_time.value(with_slo), goodput.value(with_slo)) == (2, 0.5)
    assert (on_time.value(without), goodput.value(without)) == (None, None)
    assert on_time.better == goodput.better == "higher"


def test_the_summary_shows_late_items_and_goodput_beside_throughput():
    set_language("en")
    result = run(scenario(**FOUR_IN_A_ROW, slo=2.5))
    assert ledger_rows(result.counts, result.scenario)[0] == ("handled", 4, "on time 2, late 2")
    text = render(summary(result), width=80)
    assert "throughput              1 items/s handled" in text
    assert "goodput                 0.50 items/s handled within the slo (2.50 s)" in text


def test_without_an_slo_the_summary_has_no_goodput():
    set_language("en")
    result = run(scenario(**FOUR_IN_A_ROW))
    assert "goodput" not in render(summary(result), width=80)
    assert ledger_rows(result.counts, result.scenario)[0] == ("handled", 4, "")


def test_the_dashboard_shows_goodput_beside_throughput_when_an_slo_is_set():
    set_language("en")
    frame = final_frame(scenario(**FOUR_IN_A_ROW, slo=2.5))
    assert "throughput  1/s  goodput  0.50/s ≤ 2.50 s" in frame
    assert "goodput" not in final_frame(scenario(**FOUR_IN_A_ROW))


def test_compare_shows_goodput_for_different_slos():
    result = bpsim("compare", "handbook", "--vary", "slo=0.2,1", "--no-live")
    assert result.exit_code == 0, result.output
    assert "goodput /s" in result.output and "handled on time" in result.output


@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_slo_that_is_not_a_positive_number_is_refused(value: str):
    result = bpsim("run", "handbook", "--set", f"slo={value}", "--no-live")
    assert result.exit_code == 2
    assert "slo" in result.output
