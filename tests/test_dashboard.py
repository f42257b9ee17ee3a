"""The dashboard frame: golden renders at chosen moments, and it always fits the screen."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.style import Style

from bpsim.clock import Pacing
from bpsim.engine import Simulation
from bpsim.i18n import set_language
from bpsim.events import Event, ItemEnqueued, ProducerBlocked, ShutdownCalled
from bpsim.render.dashboard import Header, dashboard, event_line
from bpsim.render.live import expected_duration, final_dashboard, watch
from bpsim.render.theme import theme
from bpsim.render.trace import describe
from bpsim.scenario import Scenario
from tests.golden import assert_golden
from tests.helpers import scenario
from tests.render import render

BURST = dict(
    name="Burst",
    description="20 items/s with a 5x burst at 4 s",
    seed=7,
    duration=10.0,
    producer={"rate": 20.0, "bursts": [{"at": 4.0, "duration": 2.0, "rate": 100.0}]},
    queue={"maxsize": 12, "policy": "block"},
    workers={"count": 4, "service": {"distribution": "exponential", "mean": 0.12}},
    downstream={"concurrency": 3, "timeout": 1.0},
)


def frame_at(s: Scenario, at: float, width: int = 80, height: int = 23, look: str | None = None) -> str:
    """Run `s` and render the frame the clock would draw at the first jump to `at` or later.

    fps=inf makes the clock offer a frame at every jump, so the moment does not depend on the
    wall clock; the run then goes on to the end as usual.
    """
    simulation = Simulation([s])
    frames: list[str] = []

    def on_frame(shown_at: float) -> None:
        if not frames and shown_at >= at:
            snapshot = simulation.pipelines[0].snapshot()
            header = Header(s, snapshot.now, expected_duration(s), "running", speed=2.0)
            frame = dashboard(snapshot, recent.log, recent.trend(snapshot.now), header, width, height)
            frames.append(render(frame, width, look=look))

    # Paced (so the clock asks for a frame at every jump) but so fast that it never waits.
    simulation.pacing = Pacing(1e12, fps=float("inf"), on_frame=on_frame)
    recent = watch(simulation)
    simulation.run()
    return frames[0]


def final_frame(s: Scenario, width: int = 80, height: int = 23) -> str:
    simulation = Simulation([s])
    recent = watch(simulation)
    simulation.run()
    return render(final_dashboard(simulation, recent, width=width, height=height), width)


def with_policy(policy: str) -> Scenario:
    return scenario(**BURST | {"queue": {"maxsize": 12, "policy": policy}})


def assert_fits(text: str, width: int, height: int) -> None:
    lines = text.splitlines()
    assert len(lines) <= height
    assert max(len(line) for line in lines) <= width


def test_during_the_burst_the_blocked_producer_is_the_headline():
    text = frame_at(with_policy("block"), 5.0)
    assert "■ BLOCKED" in text and "FULL" in text and "behind" in text
    assert_golden("dashboard-burst-block", text)


@pytest.mark.parametrize("policy", ["drop-newest", "drop-oldest"])
def test_dropping_policies_during_the_burst(policy):
    text = frame_at(with_policy(policy), 5.5)
    assert "BLOCKED" not in text, "a dropping policy never makes the producer wait"
    assert "dropped" in text
    assert_golden(f"dashboard-burst-{policy}", text)


def test_before_the_burst_the_producer_is_on_schedule():
    text = frame_at(with_policy("block"), 2.0)
    assert "on schedule" in text
    assert_golden("dashboard-steady-block", text)


def test_an_unbounded_queue_shows_its_growth_instead_of_a_gauge():
    text = frame_at(scenario(**BURST | {"queue": {"maxsize": 0}}), 5.5)
    assert "unbounded" in text and "▲" in text
    assert_golden("dashboard-unbounded", text)


def test_after_an_immediate_shutdown_the_stopping_events_are_listed():
    s = scenario(**BURST | {"shutdown": {"mode": "immediate", "at": 5.0}})
    text = final_frame(s)
    # worker-3 held item 103 but was still waiting for the semaphore: no call was cut (issue #17).
    assert "shut down now" in text and "item 103 abandoned: worker-3 still waited for the semaphore" in text
    assert "✓ adds up" in text
    assert_golden("dashboard-after-shutdown", text)


def test_the_final_frame_of_a_graceful_run_has_every_worker_exited():
    text = final_frame(with_policy("block"), width=100, height=30)
    assert text.count("exited") == 4 and "■ finished" in text and "space" not in text
    assert_golden("dashboard-finished-100x30", text)


@pytest.mark.parametrize(("width", "height"), [(80, 23), (100, 29), (160, 45), (80, 16)])
def test_every_frame_fits_the_screen_without_wrapping(width, height):
    for policy in ("block", "drop-newest", "drop-oldest"):
        assert_fits(frame_at(with_policy(policy), 5.0, width, height), width, height)


def test_a_short_screen_loses_event_lines_first():
    tall = frame_at(with_policy("block"), 5.0, 80, 30)
    short = frame_at(with_policy("block"), 5.0, 80, 20)
    assert "produced" in short and "latency" in short and "■ BLOCKED" in short
    def log_lines(text: str) -> list[str]:
        return text.split("\nevents\n", 1)[1].splitlines()[:-1]  # without the key help

    assert 1 <= len(log_lines(short)) < len(log_lines(tall))
    assert "producer blocked ×" in log_lines(short)[-1]  # the blocking, not a routine step, stays


def test_notable_events_are_not_pushed_out_by_routine_ones():
    # During the burst every put blocks: the log keeps those lines even though dozens of
    # "enqueued" / "got" / "handled" lines came after them.
    text = frame_at(with_policy("block"), 5.0)
    log = text.split("events", 1)[1]
    assert "producer blocked" in log and "handled" not in log


def test_many_workers_are_counted_by_state():
    text = frame_at(scenario(**BURST | {"workers": {"count": 40}}), 5.0)
    assert "idle" in text and "calling" in text and " 39 " not in text.split("workers", 1)[1][:30]


def test_the_dashboard_speaks_korean():
    set_language("ko")
    text = frame_at(with_policy("block"), 5.0)
    assert "■ 차단됨" in text and "이벤트" in text
    assert_fits(text, 80, 23)


def _description_style(event: Event) -> Style:
    line = event_line(event)
    return line.get_style_at_offset(Console(theme=theme()), len(line.plain) - len(describe(event)))


def test_in_the_event_log_only_the_routine_steps_are_dimmed():
    # A projector washes out dim text: "producer blocked" must not look like "enqueued".
    assert _description_style(ItemEnqueued(1.0, 7, 3)).dim
    assert not _description_style(ProducerBlocked(1.0, 8, 30, 30)).dim
    shutdown = _description_style(ShutdownCalled(9.0, immediate=False))
    assert shutdown.bold and not shutdown.dim


def test_the_time_blocked_counts_the_put_still_waiting_and_drops_so_far_at_the_end():
    from bpsim.render.dashboard import blocked_at

    simulation = Simulation([with_policy("block")])
    seen: list[tuple[float, float]] = []

    def on_frame(shown_at: float) -> None:
        snapshot = simulation.pipelines[0].snapshot()
        if snapshot.producer.value == "blocked" and not seen:
            # Half a second on, still in the same put: blocked time and lag both move on with the clock.
            seen.append((blocked_at(snapshot, snapshot.now + 0.5), snapshot.blocked_seconds + 0.5))

    simulation.pacing = Pacing(1e12, fps=float("inf"), on_frame=on_frame)
    watch(simulation)
    simulation.run()
    assert seen and seen[0][0] == pytest.approx(seen[0][1])
    final = final_frame(with_policy("block"))
    assert "in queue.put()" in final and "so far" not in final, "the run is over: not 'so far'"


def test_counted_workers_read_as_counts_not_as_worker_numbers():
    text = frame_at(scenario(**BURST | {"workers": {"count": 40}}), 5.0)
    panel = text.split("workers · 40", 1)[1]
    assert "○×" in panel and "●×" in panel and "○ 5 idle" not in panel


def _chart_row(text: str, label: str) -> str:
    [row] = [line for line in text.splitlines() if line[36:].startswith(label)]
    return row[36:]


def test_the_chart_shows_p99_and_losses_per_slice_and_only_losses_that_can_happen():
    blocking = frame_at(scenario(**BURST | {"downstream": {"concurrency": 3}}), 5.0)
    assert "p99" in _chart_row(blocking, "p99")
    assert not any(label in blocking for label in ("dropped/s", "timeouts/s", "lost/s"))  # block, no timeout: nothing to lose
    dropping = frame_at(with_policy("drop-newest"), 5.0)  # drops, and BURST's calls have a timeout
    lost = _chart_row(dropping, "lost/s")
    # During the burst 100 items/s arrive and 3 calls of 0.12 s on average take 25/s: about 75/s
    # are dropped, a little more in the worst slice, never more than arrive (the label is the peak).
    assert 75 <= float(lost.split()[-1]) <= 100 and "█" in lost
    only_drops = frame_at(scenario(**BURST | {"queue": {"maxsize": 12, "policy": "drop-oldest"}, "downstream": {"concurrency": 3}}), 5.0)
    assert "dropped/s" in only_drops and "lost/s" not in only_drops


def test_compare_columns_share_one_scale_for_their_trends():
    from tests.test_compare_live import POLICIES
    from tests.test_compare_live import frame_at as compare_frame_at

    frame = compare_frame_at(POLICIES, 5.5, 80, 23)
    [p99] = [line for line in frame.splitlines() if "p99 trend" in line]
    columns = p99.split("││")
    # block's queue makes the slowest items of all: only its column reaches the top of the scale.
    assert "█" in columns[0] and not any("█" in column for column in columns[1:])
    [lost] = [line for line in frame.splitlines() if "lost trend" in line]
    assert lost.split("││")[0].replace("│", "").replace("lost trend", "").strip() == ""  # block drops nothing
