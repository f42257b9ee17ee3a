"""The table of outcomes: every view of where items ended is built from `bpsim.outcomes.OUTCOMES`.

A run whose calls fail (nothing in a scenario makes them fail yet: the service behind the call
will) is simulated by a pipeline whose odd items fail, so the `failed` row is checked end to end.
"""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from bpsim.engine import RunResult, Simulation
from bpsim.events import Event, ItemFailed
from bpsim.i18n import set_language, t
from bpsim.limits import LimitReached
from bpsim.metrics import METRICS, parse_metrics
from bpsim.outcomes import KEYS, OUTCOMES, Counts, DropReason, FailReason, TimeoutPlace, reason_words
from bpsim.pipeline import Pipeline
from bpsim.render.summary import ledger_rows, observations
from bpsim.render.trace import describe
from bpsim.workload import Item
from tests.helpers import run_recording, scenario

# Four items at t = 0, 1, 2, 3; one worker; each call takes 0.5 s, so nothing ever waits.
FOUR = scenario(
    items=4,
    producer={"rate": 1.0, "arrivals": "constant"},
    workers={"count": 1, "service": {"distribution": "constant", "mean": 0.5}},
)


class OddItemsFail(Pipeline):
    """Items 1 and 3 fail with a 500 when their call is done: what `[downstream] errors` will do."""

    async def handle(self, index: int, name: str, item: Item) -> None:
        if item.number % 2:
            await self.call_downstream(item)
            self.failed(item, FailReason.ERROR, name)
            return
        await super().handle(index, name, item)


def run_failing() -> tuple[RunResult, list[Event]]:
    simulation = Simulation([FOUR])
    simulation.pipelines = [OddItemsFail(FOUR)]
    events: list[Event] = []
    simulation.subscribe(events.append)
    return simulation.run()[0], events


def test_a_failed_call_ends_its_item_as_failed_with_its_reason():
    result, events = run_failing()
    counts = result.counts
    assert (counts.produced, counts.handled, counts.failed, counts.failed_error) == (4, 2, 2, 2)
    assert counts.unfinished == 0  # 2 handled + 2 failed = 4 produced
    failed = [e for e in events if isinstance(e, ItemFailed)]
    # Item 1 arrives at t=1 and its call ends at 1.5; item 3 at 3.5.
    assert [(e.at, e.item, e.reason, e.worker) for e in failed] == [
        (1.5, 1, FailReason.ERROR, "worker-0"),
        (3.5, 3, FailReason.ERROR, "worker-0"),
    ]
    assert describe(failed[0]) == "item 1 failed: the service answered with an error (worker-0)"


def test_failed_items_are_in_the_json_with_their_reasons():
    items = run_failing()[0].to_json()["items"]
    assert items["failed"] == 2
    assert items["failed_by_reason"] == {"error": 2, "rate-limited": 0, "outage": 0, "circuit-open": 0}


def test_failed_items_are_in_the_summary_and_compare_metrics():
    set_language("en")
    result = run_failing()[0]
    rows = {label: (count, detail) for label, count, detail in ledger_rows(result.counts, result.scenario)}
    assert rows["failed"] == (2, "error 2")
    assert "2 downstream calls failed (error 2): their items are lost unless something retries them." in observations(result)
    failed, by_error = parse_metrics("failed,failed-error")
    assert (failed.value(result), by_error.value(result), failed.better) == (2, 2, "lower")


def test_a_scenario_that_cannot_fail_has_no_failed_row_in_its_summary():
    set_language("en")
    result, _ = run_recording(FOUR)
    labels = [label for label, _, _ in ledger_rows(result.counts, result.scenario)]
    assert labels == ["handled", "dropped", "timed out", "rejected at shutdown", "abandoned at shutdown"]


def test_the_json_items_keep_every_earlier_key_in_its_order_and_add_the_new_ones():
    items = run_recording(FOUR)[0].to_json()["items"]
    earlier = [
        "produced",
        "handled",
        "dropped",
        "timed_out",
        "rejected_at_shutdown",
        "abandoned",
        "unfinished",
        "dropped_by_reason",
        "timed_out_by_place",
        "abandoned_by_place",
    ]
    assert [key for key in items if key in earlier] == earlier
    assert items["dropped_by_reason"] == {"queue-full": 0, "evicted": 0, "stale": 0, "codel": 0}  # codel: added beside
    assert items["timed_out_by_place"] == {"put": 0, "downstream": 0}
    assert items["abandoned_by_place"] == {"queued": 0, "in-worker": 0}
    assert (items["failed"], items["failed_by_reason"]) == (0, dict.fromkeys(FailReason, 0))


def test_each_outcome_is_named_after_itself_everywhere():
    dropped = next(outcome for outcome in OUTCOMES if outcome.name == "dropped")
    assert dropped.json_path == "items.dropped"
    assert (dropped.breakdown, dropped.metric, dropped.words) == ("dropped_by_reason", "dropped", "outcome.label.dropped")
    assert dropped.field(DropReason.QUEUE_FULL) == "dropped_queue_full"
    assert dropped.reason_metric(DropReason.QUEUE_FULL) == "dropped-queue-full"
    assert reason_words(DropReason.QUEUE_FULL) == "outcome.reason.queue-full"


def test_counts_read_every_outcome_and_reason_by_its_table_name():
    counts = Counts(produced=9, ended={"handled": 4, DropReason.STALE: 2, TimeoutPlace.PUT: 1, FailReason.OUTAGE: 1})
    assert (counts.handled, counts.dropped, counts.dropped_stale, counts.dropped_evicted) == (4, 2, 2, 0)
    assert (counts.timed_out, counts.timed_out_put, counts.failed_outage, counts.abandoned) == (1, 1, 1, 0)
    assert (counts.finished, counts.unfinished) == (8, 1)
    with pytest.raises(AttributeError):
        counts.dropped_sideways  # noqa: B018 - not in the table


def test_every_outcome_and_reason_has_words_in_english_and_korean():
    for lang in ("en", "ko"):
        set_language(lang)
        for outcome in OUTCOMES:
            assert t(outcome.words) and t(outcome.short_words)
            for reason in outcome.reasons:
                assert t(reason_words(reason))
    set_language("en")
    english, korean = (catalogue(lang, "outcome") for lang in ("en", "ko"))
    assert english.keys() == korean.keys()
    assert all(english[area].keys() == korean[area].keys() for area in english)


def test_every_reason_is_a_key_of_the_ledger_and_a_value_of_its_json_breakdown():
    assert len(KEYS) == len(set(KEYS)) == 1 + 4 + 2 + 4 + 1 + 2  # handled, then each outcome's reasons
    names = {metric.name for metric in METRICS}
    assert {"handled", "dropped", "timed-out", "failed", "rejected", "abandoned", "unfinished"} <= names
    assert {"dropped-queue-full", "failed-rate-limited", "failed-circuit-open"} <= names


def test_the_limit_message_lists_the_ledger_from_the_table_in_both_languages():
    result = run_recording(FOUR)[0]
    stopped = LimitReached("max_items", 4, 3.0)
    stopped.results = [result]
    set_language("ko")
    try:
        assert "그때까지: 생산 4, 처리 4, 버림 0, timeout 0, 미완료 0" in str(stopped)
    finally:
        set_language("en")
    assert "until then: 4 produced, 4 handled, 0 dropped, 0 timed out, 0 unfinished" in str(stopped)


def test_the_json_holds_no_translated_text():
    set_language("ko")
    try:
        korean = run_recording(FOUR)[0].to_json()
    finally:
        set_language("en")
    assert korean == run_recording(FOUR)[0].to_json()


def catalogue(lang: str, area: str) -> dict:
    return tomllib.loads((resources.files("bpsim") / "locale" / lang / f"{area}.toml").read_text("utf-8"))
