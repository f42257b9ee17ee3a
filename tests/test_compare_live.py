"""`bpsim compare` live: every variant side by side on one clock, fitting the screen, same results."""

from __future__ import annotations

import io
import os

import pytest
from rich.console import Console

from bpsim.clock import Pacing
from bpsim.engine import Simulation
from bpsim.render.compare_live import side_by_side, varied_line
from bpsim.render.dashboard import Header
from bpsim.render.live import CompareView, expected_duration, watch
from bpsim.render.theme import theme
from bpsim.scenario import Scenario
from tests.golden import assert_golden
from tests.helpers import scenario
from tests.render import render
from tests.terminal import exit_code_and_sane_terminal, spawn_bpsim
from tests.test_dashboard import BURST

POLICIES = ["block", "drop-newest", "drop-oldest"]


def variants(policies: list[str], **changes: object) -> list[Scenario]:
    return [scenario(**BURST | {"queue": {"maxsize": 12, "policy": policy}} | changes) for policy in policies]


def frame_at(policies: list[str], at: float, width: int, height: int) -> str:
    """Run the variants together and render the side-by-side frame at the first jump to `at` or later."""
    return frame_of(variants(policies), policies, at, width, height, ["queue.policy"], "Comparing: Burst")


def frame_of(
    scenarios: list[Scenario], labels: list[str], at: float, width: int, height: int, keys: list[str], title: str
) -> str:
    """The side-by-side frame of `scenarios` run together, at the first jump to `at` or later."""
    simulation = Simulation(scenarios, labels=labels)
    recents = [watch(simulation, index) for index in range(len(scenarios))]
    frames: list[str] = []

    def on_frame(shown_at: float) -> None:
        if not frames and shown_at >= at:
            snapshots = [pipeline.snapshot() for pipeline in simulation.pipelines]
            header = Header(scenarios[0], snapshots[0].now, expected_duration(scenarios[0]), "running", speed=2.0, title=title)
            varied = varied_line(scenarios, keys)
            frames.append(render(side_by_side(snapshots, labels, recents, header, varied, width, height), width))

    # Paced (so the clock asks for a frame at every jump) but so fast that it never waits.
    simulation.pacing = Pacing(1e12, fps=float("inf"), on_frame=on_frame)
    simulation.run()
    return frames[0]


@pytest.mark.parametrize("width", [80, 120])
def test_three_policies_during_the_burst(width: int):
    # At 5.5 s, mid-burst: block's producer is BLOCKED and behind, drop-newest and drop-oldest
    # keep producing and have dropped (queue-full, evicted) instead.
    frame = frame_at(POLICIES, 5.5, width, 23)
    assert_golden(f"compare-live-burst-{width}", frame)
    assert "BLOCKED" in frame and frame.count("producing") == 2


@pytest.mark.parametrize(
    "count, width, height", [(2, 80, 23), (3, 80, 23), (3, 80, 12), (5, 80, 23), (9, 80, 23), (12, 60, 16), (3, 40, 23)]
)
def test_every_frame_fits_the_screen_without_wrapping(count: int, width: int, height: int):
    policies = (POLICIES * 4)[:count]
    lines = frame_at(policies, 5.5, width, height).splitlines()
    assert len(lines) <= height
    assert max(len(line) for line in lines) <= width


def test_narrow_columns_make_the_same_choices_so_metrics_line_up():
    # Five columns of 16 at 80: labels that do not fit go in every column at once.
    lines = frame_at((POLICIES * 2)[:5], 5.5, 80, 23).splitlines()
    for label in ("handled", "dropped", "p99"):
        [row] = [line for line in lines if label in line]
        assert row.count(label) == 5


def test_variants_that_do_not_fit_are_counted_not_drawn():
    # 80 columns hold five of 16; 23 lines hold two rows of them: 10 of the 12 are drawn.
    frame = frame_at(POLICIES * 4, 5.5, 80, 23)
    assert "+2 more not shown" in frame


def test_the_varied_line_says_whether_the_traffic_is_shared():
    assert "same arrivals" in varied_line(variants(POLICIES), ["queue.policy"])
    different = [scenario(**BURST), scenario(**BURST | {"seed": 8})]
    assert "differ" in varied_line(different, [])


# -- the live view -------------------------------------------------------------------------------------


@pytest.mark.parametrize("speed", [None, 500.0])
def test_a_live_compare_with_keys_pressed_gives_the_headless_results(speed: float | None):
    scenarios = variants(POLICIES, duration=3.0)
    headless = [result.to_json() for result in Simulation(scenarios, labels=POLICIES).run()]
    read_end, write_end = os.pipe()
    os.write(write_end, b"+- s ++-")  # faster, slower, pause, step, resume, faster twice, slower
    os.close(write_end)
    console = Console(file=io.StringIO(), width=80, height=24, force_terminal=True, force_interactive=True, color_system=None, theme=theme())
    try:
        view = CompareView(console, varied=varied_line(scenarios, ["queue.policy"]), speed=speed, keys_fd=read_end)
        simulation = Simulation(scenarios, labels=POLICIES, pacing=view.pacing)
        view.watch(simulation)
        with view:
            results = simulation.run()
    finally:
        os.close(read_end)
    assert [result.to_json() for result in results] == headless
    last = console.file.getvalue().rsplit("Comparing: Burst", 1)[1]
    assert "■ finished" in last and all(policy in last for policy in POLICIES)


def test_compare_in_a_terminal_draws_every_variant_and_quits_on_q():
    pytest.importorskip("pexpect")
    child = spawn_bpsim("compare burst --policy block --policy drop-oldest --speed 50")
    try:
        child.expect("block")
        child.expect("drop-oldest")
        child.expect("▶ running")
        child.send("q")
        child.expect("Comparison")  # the table is printed after the last frame
        code, sane = exit_code_and_sane_terminal(child)
        assert code == "0", "q is a normal way to end a demo"
        assert sane, "line mode and echo are back"
    finally:
        child.close(force=True)
