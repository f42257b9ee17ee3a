"""The service's side on the dashboard: its box, the answers chart and the event log (goldens at 80 columns)."""

from __future__ import annotations

from bpsim.i18n import set_language
from bpsim.scenario import Scenario
from tests.golden import assert_golden
from tests.helpers import scenario
from tests.test_dashboard import assert_fits, frame_at, final_frame

# A burst into a contended service with room for 6 calls, no semaphore, 1 s timeouts.
CONTENDED = dict(
    name="Contended",
    description="a burst into a contended service",
    seed=5,
    duration=12.0,
    producer={"rate": 6.0, "bursts": [{"at": 4.0, "duration": 3.0, "rate": 24.0}]},
    queue={"maxsize": 20, "policy": "block"},
    workers={"count": 10, "service": {"distribution": "exponential", "mean": 0.4}},
    downstream={"timeout": 1.0, "capacity": 6, "contention": 0.05, "coherency": 0.02, "errors": 0.1},
)


def contended(**downstream: object) -> Scenario:
    return scenario(**CONTENDED | {"downstream": CONTENDED["downstream"] | downstream})


def test_during_the_burst_the_box_shows_the_hidden_queue_and_the_wasted_work():
    text = frame_at(contended(), 6.5)
    assert "6/6 busy" in text and "waiting" in text and "wasted" in text
    assert "answers/s" in text and "good/s" in text
    assert "for nobody" in text
    assert_fits(text, 80, 23)
    assert_golden("dashboard-service-contended", text)


def test_an_outage_is_shown_on_the_box():
    s = contended(outages=[{"at": 5.0, "duration": 2.0, "mode": "fail"}])
    text = frame_at(s, 5.5)
    assert "OUTAGE fail" in text and "failed: the service is down" in text
    assert_golden("dashboard-service-outage", text)


def test_the_final_frame_with_a_service_in_korean():
    set_language("ko")
    try:
        text = final_frame(contended(cancel_abandoned=True))
    finally:
        set_language("en")
    assert "처리" in text and "낭비" in text
    assert_fits(text, 80, 23)
    assert_golden("dashboard-service-final-ko", text)


def test_with_an_slo_the_good_row_counts_only_the_answers_on_time():
    # slo 0.3 s: most handled items of the burst are late, so good/s falls below answers/s.
    text = frame_at(scenario(**CONTENDED | {"slo": 0.3}), 6.5)
    answers = next(line for line in text.splitlines() if "answers/s" in line)
    good = next(line for line in text.splitlines() if "good/s" in line)
    bars = lambda line: line.split("/s", 1)[1]  # noqa: E731  the bars after the label
    assert sum(ch in "▁▂▃▄▅▆▇█" for ch in bars(good)) < sum(ch in "▁▂▃▄▅▆▇█" for ch in bars(answers))
    assert "goodput" in text
    assert_fits(text, 80, 23)
    assert_golden("dashboard-service-slo", text)
