"""The bundled scenario library: every scenario runs clean, and every lesson tells the truth.

Each lesson makes claims ("the queue keeps growing", "p99 stays under 0.2 s", "about 47 items
are abandoned"); the tests below check them on the engine's results, with the same `--set`
overrides the lesson suggests, so a change to the engine or the numbers that breaks a lesson
fails here.
"""

from __future__ import annotations

import re
from functools import cache

import pytest

from bpsim.engine import RunResult, run as run_engine
from bpsim.events import CallStarted, Event, ItemDequeued, ItemDropped, ItemEnqueued, ItemHandled, ItemRejected
from bpsim.events import ProducerBlocked, QueueJoined, ShutdownCalled
from bpsim.loader import bundled_scenarios, load_scenario
from bpsim.metrics import parse_metrics
from bpsim.outcomes import FailReason
from bpsim.theory import littles_law, theory_for
from tests.helpers import of_type, run_recording

NAMES = [path.stem for path in bundled_scenarios()]


@cache
def outcome(name: str, *overrides: str) -> tuple[RunResult, list[Event]]:
    """The run of a bundled scenario with `--set` overrides, and its events (run once per test session)."""
    return run_recording(load_scenario(name, overrides))


def result(name: str, *overrides: str) -> RunResult:
    return outcome(name, *overrides)[0]


def qsize_at(events: list[Event], times: list[float]) -> list[int]:
    """The queue's size just before each of `times`, from the events that report it."""
    changes = [(e.at, e.qsize) for e in events if isinstance(e, ItemEnqueued | ItemDequeued)]
    return [next((q for at, q in reversed(changes) if at < time), 0) for time in times]


def lesson_overrides(lesson: str) -> list[list[str]]:
    """The `--set` overrides each line of a lesson suggests, one list per line."""
    found = (re.findall(r"--set (\S+)", line) for line in lesson.splitlines())
    return [overrides for overrides in found if overrides]


# -- the whole library ---------------------------------------------------------------------------


def test_the_library_has_every_scenario_the_issue_asks_for():
    assert set(NAMES) >= {
        "burst",
        "handbook",
        "handbook-race",
        "unbounded",
        "slow-downstream",
        "webhooks",
        "api-fanout",
        "background-jobs",
        "ingest-burst",
        "realtime-latest",
        "graceful-vs-immediate",
        "congestion-collapse",
        "wasted-work",
        "rate-limited-api",
    }


@pytest.mark.parametrize("name", NAMES)
def test_every_bundled_scenario_runs_clean_and_accounts_for_every_item(name: str):
    run = result(name)
    counts = run.counts
    assert run.completed
    assert counts.in_progress == 0
    assert counts.finished == counts.produced > 0
    assert counts.produced <= 15_000  # small enough to run headless in well under a second


@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_has_a_one_line_description_and_a_lesson_in_both_languages(name: str):
    scenario = load_scenario(name)
    for words in (scenario.words("en"), scenario.words("ko")):
        assert words.name and words.lesson
        assert words.description and "\n" not in words.description
    assert scenario.ko.name and scenario.ko.description and scenario.ko.lesson
    assert "Try" in scenario.lesson and "해 보기" in scenario.ko.lesson


@pytest.mark.parametrize("name", NAMES)
def test_both_lessons_suggest_the_same_commands(name: str):
    scenario = load_scenario(name)
    english, korean = scenario.lesson, scenario.ko.lesson or ""
    assert lesson_overrides(english) == lesson_overrides(korean)
    commands = [line.strip() for line in english.splitlines() if line.strip().startswith("bpsim ")]
    assert commands == [line.strip() for line in korean.splitlines() if line.strip().startswith("bpsim ")]


@pytest.mark.parametrize("name", NAMES)
def test_every_override_a_lesson_suggests_is_valid(name: str):
    for overrides in lesson_overrides(load_scenario(name).lesson):
        load_scenario(name, overrides)


# -- each lesson's claims ------------------------------------------------------------------------


def test_burst_fills_the_bounded_queue_and_the_producer_waits_only_from_the_burst_on():
    run, events = outcome("burst")
    assert run.max_qsize == 30 and run.blocked_seconds > 5
    assert min(e.at for e in of_type(events, ProducerBlocked)) >= 10.0
    unbounded = result("burst", "queue.maxsize=0")
    assert unbounded.blocked_seconds == 0 and unbounded.max_qsize > 30


def test_handbook_waits_at_maxsize_2_and_calls_two_at_a_time():
    run = result("handbook")
    assert run.counts.handled == 6
    assert run.blocked_seconds > 0 and run.max_in_flight == 2


def test_handbook_race_rejects_the_first_put_after_join_returned_at_once():
    run, events = outcome("handbook-race")
    joined, shutdown, rejected = of_type(events, QueueJoined), of_type(events, ShutdownCalled), of_type(events, ItemRejected)
    assert joined[0].at == shutdown[0].at == 0.0
    assert [e.item for e in rejected] == [0]
    assert events.index(shutdown[0]) < events.index(rejected[0])
    assert (run.counts.produced, run.counts.handled, run.counts.rejected_at_shutdown) == (1, 0, 1)
    assert result("handbook-race", "shutdown.await_producer=true").counts.handled == 6


def test_unbounded_queue_keeps_growing_and_latency_climbs():
    run, events = outcome("unbounded")
    sizes = qsize_at(events, [15.0, 30.0, 45.0, 60.0])
    assert sizes == sorted(sizes) and len(set(sizes)) == 4, sizes
    assert sizes[-1] > 100
    handled = of_type(events, ItemHandled)
    early = [e.latency for e in handled if e.at < 10]
    late = [e.latency for e in handled if e.at > 60]
    assert sum(late) / len(late) > 10 * sum(early) / len(early)
    assert run.latency.p99 > 15


def test_unbounded_bounded_only_decides_who_pays_and_capacity_fixes_it():
    waits = result("unbounded", "queue.maxsize=20")
    assert waits.max_qsize == 20 and waits.blocked_seconds > 30 and waits.counts.dropped == 0
    drops = result("unbounded", "queue.maxsize=20", "queue.policy=drop-newest")
    assert drops.max_qsize == 20 and drops.latency.p99 < 5
    assert 1 / 8 < drops.counts.dropped / drops.counts.produced < 1 / 5  # "1 item in 6"
    assert result("unbounded", "workers.count=3", "downstream.concurrency=3").max_qsize < 20


def test_slow_downstream_caps_calls_at_the_semaphore_and_times_out_the_slowest():
    run, events = outcome("slow-downstream")
    assert max(e.in_flight for e in of_type(events, CallStarted)) == run.max_in_flight == 4
    assert 0.06 < run.counts.timed_out_downstream / run.counts.produced < 0.12  # "about 9 in 100"
    narrow = result("slow-downstream", "downstream.concurrency=2")
    assert narrow.max_qsize == 50 and narrow.blocked_seconds > 0
    assert result("slow-downstream", "downstream.timeout=2.0").counts.timed_out_downstream <= 1


def test_webhooks_reject_only_in_the_storm_and_accepted_deliveries_wait_seconds_at_most():
    run, events = outcome("webhooks")
    rejected = [e.at for e in of_type(events, ItemDropped)]
    assert rejected and 20.0 <= min(rejected) and max(rejected) <= 26.0
    assert run.max_qsize == 200 and run.latency.max < 5
    blocking = result("webhooks", "queue.policy=block")
    assert blocking.counts.dropped == 0 and blocking.blocked_seconds > 30 and blocking.latency.p99 > 10
    bigger = result("webhooks", "workers.count=12", "downstream.concurrency=12")
    assert bigger.counts.dropped < run.counts.dropped


def test_api_fanout_runs_at_concurrency_over_call_time_whatever_the_workers():
    run = result("api-fanout")
    assert run.max_in_flight == 5
    assert run.duration == pytest.approx(1000 / (5 / 0.2), rel=0.1)  # Little's law: about 40 s
    assert run.counts.timed_out_downstream > 0
    assert result("api-fanout", "workers.count=5").duration == pytest.approx(run.duration, rel=0.02)
    assert result("api-fanout", "downstream.concurrency=10").duration == pytest.approx(run.duration / 2, rel=0.1)


def test_background_jobs_lose_nothing_and_the_rush_backlog_drains():
    run, events = outcome("background-jobs")
    assert run.counts.handled == run.counts.produced and run.blocked_seconds == 0
    assert 80 <= run.max_qsize < 200
    at_end_of_rush, a_minute_later = qsize_at(events, [50.0, 110.0])
    assert at_end_of_rush > 50 and a_minute_later < 10
    assert 20 < run.queue_wait.max < 30
    assert result("background-jobs", "queue.maxsize=50").blocked_seconds > 30


def test_ingest_burst_queue_sized_for_the_burst_absorbs_it_without_loss():
    run, events = outcome("ingest-burst")
    assert run.counts.dropped == 0 and run.blocked_seconds == 0
    assert 900 < run.max_qsize < 1500
    assert qsize_at(events, [20.0]) < [50]  # drained about 7 s after the burst
    assert run.latency.max < 4
    small = result("ingest-burst", "queue.maxsize=300")
    assert 600 < small.counts.dropped_queue_full < 900  # "about 750"
    assert result("ingest-burst", "queue.maxsize=300", "queue.policy=block").counts.dropped == 0


def test_realtime_latest_drops_but_keeps_p99_low_where_block_falls_behind():
    run = result("realtime-latest")
    assert 0.15 < run.counts.dropped_evicted / run.counts.produced < 0.25  # "about 1 in 5"
    assert run.latency.p99 < 0.2
    blocking = result("realtime-latest", "queue.policy=block")
    assert blocking.counts.dropped == 0 and blocking.latency.p99 > 10
    stale = result("realtime-latest", "queue.policy=block", "queue.max_age=0.1")
    assert stale.counts.dropped_stale > 0 and stale.latency.p99 < 0.2


def test_graceful_shutdown_handles_every_queued_item():
    run = result("graceful-vs-immediate")
    assert run.counts.handled == run.counts.produced and run.counts.abandoned == 0
    assert 60 <= run.max_qsize <= 80 and 15 < run.duration < 20


def test_immediate_shutdown_abandons_queued_and_in_flight_items():
    run = result("graceful-vs-immediate", "shutdown.mode=immediate", "shutdown.at=12")
    counts = run.counts
    assert run.duration == 12.0
    assert 40 <= counts.abandoned_queued <= 55 and counts.abandoned_in_worker == 2
    assert counts.handled + counts.abandoned == counts.produced


def test_a_graceful_deadline_that_passes_stops_like_immediate():
    deadline = result("graceful-vs-immediate", "shutdown.at=12")
    immediate = result("graceful-vs-immediate", "shutdown.mode=immediate", "shutdown.at=12")
    assert deadline.counts == immediate.counts


def test_textbook_lands_near_its_formulas_and_each_suggestion_does_what_the_lesson_says():
    loaded = load_scenario("textbook")
    theory = theory_for(loaded)
    assert theory.applies and theory.model == "M/M/4/14"
    assert theory.blocking_probability == pytest.approx(0.0292, abs=5e-5)
    assert (round(theory.mean_in_queue, 2), round(theory.mean_response, 2)) == (2.54, 1.75)
    run = result("textbook")
    assert round(run.counts.dropped / run.counts.produced, 4) == 0.0289  # "2.89% dropped"
    assert round(run.latency.mean, 2) == 1.77
    assert littles_law(run).relative_error < 1e-9
    other_seed = run_engine(load_scenario("textbook", seed=2))
    assert round(other_seed.counts.dropped / other_seed.counts.produced, 3) == 0.041
    saturated = result("textbook", "producer.rate=3.9")
    assert round(saturated.counts.dropped / saturated.counts.produced, 3) == 0.066
    assert round(saturated.latency.mean, 2) == 2.08
    unbounded = result("textbook", "queue.maxsize=0")
    assert unbounded.counts.dropped == 0 and unbounded.queue_wait.mean > run.queue_wait.mean
    assert theory_for(unbounded.scenario).model == "M/M/4"


def test_congestion_collapse_never_recovers_without_a_semaphore():
    run, events = outcome("congestion-collapse")
    assert run.service is not None and run.service.max_in_service == 40
    # Past the burst (10-15 s) the queue stays full to the end: the burst ended, the collapse did not.
    assert min(qsize_at(events, [20.0, 30.0, 40.0, 50.0, 59.0])) > 250
    assert 300 < run.counts.dropped < 450  # "369 arrivals are dropped"
    # 40 calls in service complete mu X(40) = 10 * 40 / 9.58 = 41.8 calls/s, fewer than 50/s arrive.
    assert run.throughput < 45
    theory = theory_for(run.scenario)
    assert theory.knee == pytest.approx(14.0) and theory.reason == "bursts"
    assert theory.peak_throughput == pytest.approx(10 * 14 / 2.17)  # X(14) = 6.45: "64 calls/s"


def test_congestion_collapse_with_semaphore_at_the_knee_waits_in_the_queue_and_drains():
    run, events = outcome("congestion-collapse", "downstream.concurrency=14")
    assert run.counts.dropped == 0 and run.counts.handled == run.counts.produced
    assert 200 < run.max_qsize < 300  # "249 at most": the excess waits, visibly, in the queue
    assert qsize_at(events, [15.0])[0] > 200 and qsize_at(events, [30.0]) == [0]  # gone 15 s after
    assert run.throughput > 50  # the peak, 64.5/s, drains the backlog
    assert run.service is not None and run.service.max_in_service == 14


def test_congestion_collapse_needs_its_trigger_though_the_long_run_is_collapsed():
    calm = result("congestion-collapse", "producer.bursts=[]")
    assert calm.counts.dropped == 0 and calm.max_qsize <= 5 and calm.latency.p99 < 1
    # The chain's long run sits at the top (mu X(40) = 41.8/s < 50/s): 1 - 41.8/50 = 16% lost.
    # The 60 s from empty never get there: the healthy state is metastable.
    theory = theory_for(calm.scenario)
    assert theory.model == "M/M/40/340 + USL" and "metastable" in theory.note
    assert round(theory.blocking_probability, 2) == 0.16  # "16% dropped"
    fixed = theory_for(load_scenario("congestion-collapse", ["producer.bursts=[]", "downstream.concurrency=14"]))
    assert fixed.blocking_probability < 1e-6 and "metastable" not in fixed.note


def test_wasted_work_timeouts_free_the_worker_not_the_server():
    run = result("wasted-work")
    counts, service = run.counts, run.service
    assert service is not None
    assert 450 < counts.timed_out < 600 and counts.produced == 1077  # "513 of 1077"
    assert service.wasted_calls == counts.timed_out
    assert 120 < service.wasted_seconds < 150  # "135 s"
    assert parse_metrics("wasted")[0].value(run) == service.wasted_seconds  # a row of the compare table
    cured = result("wasted-work", "downstream.cancel_abandoned=true")
    assert cured.service is not None
    assert cured.counts.timed_out < counts.timed_out / 2 and cured.counts.handled > counts.handled * 1.5
    assert 120 < cured.counts.timed_out < 180 and 40 < cured.service.wasted_seconds < 60  # "152", "52 s"
    patient = result("wasted-work", "downstream.timeout=2")
    assert patient.service is not None and patient.service.wasted_seconds < 10


def test_rate_limited_api_cascades_429s_without_a_semaphore_and_none_with_little_s_law():
    run = result("rate-limited-api")
    assert (run.counts.handled, run.counts.failed) == (10, 390)  # the bucket's 10, then 429s
    assert run.counts.of(FailReason.RATE_LIMITED) == 390 and run.duration < 0.4  # "within a third of a second"
    sized = result("rate-limited-api", "downstream.concurrency=2")
    assert sized.counts.handled == 400 and sized.counts.failed == 0
    assert sized.duration == pytest.approx(400 / 8, rel=0.05)  # 2 calls of 0.25 s: 8 calls/s, 50 s
    one_too_many = result("rate-limited-api", "downstream.concurrency=3")
    assert one_too_many.counts.failed > 300


def test_every_bundled_lesson_names_its_moments_in_english_and_korean():
    from bpsim.engine import run
    from bpsim.loader import bundled_scenarios, load_scenario

    for path in bundled_scenarios():
        s = load_scenario(path)
        assert s.moments, f"{path.stem}: a lesson names at least one moment"
        assert s.ko.moments is not None and len(s.ko.moments) == len(s.moments), f"{path.stem}: every moment in Korean"
        times = [moment.at for moment in s.moments]
        assert times == sorted(times), f"{path.stem}: moments in order"
        assert times[-1] <= run(s).duration, f"{path.stem}: every moment comes before the run ends"
