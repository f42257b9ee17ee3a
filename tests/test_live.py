"""The live view: pacing steps, keys, identical results, terminal restore, exports."""

from __future__ import annotations

import io
import os
import signal
import termios

import pytest
from rich.console import Console

from bpsim.clock import SPEEDS, Pacing
from bpsim.engine import Simulation, run
from bpsim.render.export import export
from bpsim.i18n import set_language
from bpsim.render.live import LiveView, demo_speed, expected_duration, final_dashboard, watch
from bpsim.render.theme import theme
from tests.helpers import scenario
from tests.render import render
from tests.test_dashboard import BURST

SMALL = BURST | {"duration": 3.0}


def terminal_console() -> Console:
    return Console(
        file=io.StringIO(), width=80, height=24, force_terminal=True, force_interactive=True, color_system=None, theme=theme()
    )


# -- pacing arithmetic -------------------------------------------------------------------------------


def test_plus_and_minus_step_through_the_speeds_and_max():
    pacing = Pacing(2.0)
    pacing.faster()
    assert pacing.speed == 5.0
    pacing.slower()
    pacing.slower()
    assert pacing.speed == 1.0
    pacing.set_speed(3.0)  # between two steps: the next step up or down
    pacing.faster()
    assert pacing.speed == 5.0
    pacing.set_speed(SPEEDS[-1])
    pacing.faster()
    assert pacing.speed is None, "beyond the fastest step comes max"
    pacing.faster()
    assert pacing.speed is None
    pacing.slower()
    assert pacing.speed == SPEEDS[-1]
    pacing.set_speed(SPEEDS[0])
    pacing.slower()
    assert pacing.speed == SPEEDS[0], "never slower than the slowest step"


def test_the_default_speed_makes_a_demo_of_about_twenty_wall_seconds():
    # 30 simulated seconds: speed 2 gives 15 s of wall time (speed 1 would give 30 s).
    assert demo_speed(scenario(duration=30.0)) == 2.0
    # The handbook: 6 items of 0.15 s, two at a time: ~0.45 s, shown at 0.02 -> 22.5 s.
    handbook = scenario(
        items=6,
        producer={"rate": "unlimited"},
        queue={"maxsize": 2},
        workers={"count": 3, "service": {"distribution": "constant", "mean": 0.15}},
        downstream={"concurrency": 2},
    )
    assert expected_duration(handbook) == pytest.approx(0.45)
    assert demo_speed(handbook) == 0.02
    # An immediate shutdown ends the run early.
    assert expected_duration(scenario(duration=30.0, shutdown={"mode": "immediate", "at": 4.0})) == 4.0


def test_a_scenario_may_set_its_own_demo_speed():
    assert demo_speed(scenario(duration=30.0, speed=0.5)) == 0.5


# -- keys ----------------------------------------------------------------------------------------------


def watched_view(**kwargs) -> tuple[LiveView, Simulation]:
    view = LiveView(terminal_console(), **kwargs)
    simulation = Simulation([scenario(**SMALL)], pacing=view.pacing)
    view.watch(simulation)
    return view, simulation


def test_space_pauses_and_resumes_and_s_steps_only_while_paused():
    view, _ = watched_view(speed=1.0)
    view.press("s")
    assert not view.pacing._step_pending, "s does nothing while running"
    view.press(" ")
    assert view.pacing.paused
    view.press("s")
    assert view.pacing._step_pending
    view.press(" ")
    assert not view.pacing.paused


def test_plus_and_minus_change_the_speed_and_other_keys_are_ignored():
    view, _ = watched_view(speed=1.0)
    view.press("+")
    assert view.pacing.speed == 2.0
    view.press("-")
    view.press("-")
    assert view.pacing.speed == 0.5
    view.press("x")
    assert view.pacing.speed == 0.5 and not view.pacing.paused


def test_q_stops_the_run_the_way_ctrl_c_does(monkeypatch):
    raised: list[int] = []
    monkeypatch.setattr(signal, "raise_signal", raised.append)
    view, _ = watched_view(speed=1.0)
    view.press("q")
    assert raised == [signal.SIGINT] and view.quit_requested


# -- results -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("speed", [None, 200.0])
def test_a_live_run_with_keys_pressed_gives_the_headless_result(speed):
    headless = run(scenario(**SMALL)).to_json()
    read_end, write_end = os.pipe()
    os.write(write_end, b"+- s ++-")  # faster, slower, pause, step, resume, faster twice, slower
    os.close(write_end)
    try:
        view, simulation = watched_view(speed=speed, keys_fd=read_end)
        with view:
            result = view.run(simulation)[0]
    finally:
        os.close(read_end)
    assert result.to_json() == headless
    # At max speed a run this short draws only its final frame; paced, frames come while it runs.
    assert view.frames >= (1 if speed is None else 2)
    assert "■ finished" in view.console.file.getvalue().rsplit("Burst —", 1)[1], "the final frame is drawn"


def test_the_final_frame_says_stopped_after_an_interruption():
    view, _ = watched_view(speed=None)
    with pytest.raises(KeyboardInterrupt), view:
        raise KeyboardInterrupt
    assert "■ stopped" in view.console.file.getvalue()


def test_only_frames_of_a_running_simulation_show_the_keys():
    view, _ = watched_view(speed=None)
    assert "q quit" in render(view.frame(), width=80)
    assert "q quit" not in render(view.frame("finished"), width=80)
    assert "q quit" not in render(view.frame("stopped"), width=80)


# -- the terminal --------------------------------------------------------------------------------------


def test_the_terminal_is_restored_even_after_an_exception():
    leader, follower = os.openpty()
    try:
        before = termios.tcgetattr(follower)
        view, _ = watched_view(speed=None, keys_fd=follower)
        with pytest.raises(RuntimeError), view:
            during = termios.tcgetattr(follower)
            assert not during[3] & termios.ICANON and not during[3] & termios.ECHO, "cbreak, no echo"
            raise RuntimeError("a bug in a renderer")
        assert termios.tcgetattr(follower) == before
        assert "\x1b[?25h" in view.console.file.getvalue(), "the cursor is shown again"
    finally:
        os.close(leader)
        os.close(follower)


# -- export --------------------------------------------------------------------------------------------


def exported(kind: str) -> str:
    simulation = Simulation([scenario(**SMALL)])
    recent = watch(simulation)
    simulation.run()
    return export(final_dashboard(simulation, recent, width=100, height=30), kind, width=100, title="t")


@pytest.mark.parametrize("kind", ["svg", "html"])
def test_an_export_is_byte_identical_for_the_same_scenario_and_seed(kind):
    first = exported(kind)
    assert first == exported(kind)
    assert "finished" in first and "pause/resume" not in first, "a still picture has no key help"


def test_the_chart_has_one_bin_per_step_of_simulated_time_up_to_now():
    simulation = Simulation([scenario(**SMALL)])
    recent = watch(simulation)
    simulation.run()
    trend = recent.trend(simulation.now + 1.0)
    assert trend.seconds_per_bin == 0.05  # 3 s / 60 bins
    assert len(trend.qsize) == int((simulation.now + 1.0) / 0.05) + 1
    result = simulation.results()[0]
    assert max(trend.qsize) == result.max_qsize and max(trend.in_flight) == result.max_in_flight
    assert trend.qsize[-1] == 0 and trend.in_flight[-1] == 0


def test_a_held_final_frame_ends_with_how_to_go_on_instead_of_the_keys():
    view, _ = watched_view(speed=None)
    view._hint = "press any key for the summary"
    text = render(view.frame("finished"), width=80)
    assert text.rstrip().splitlines()[-1].strip() == "press any key for the summary"
    assert "q quit" not in text


def test_without_a_terminal_to_read_keys_from_nothing_is_held():
    # keys from a pipe (not a terminal): the view must not wait for a key at the end
    read_end, write_end = os.pipe()
    os.close(write_end)
    try:
        view, simulation = watched_view(speed=None, keys_fd=read_end)
        with view:
            simulation.run()
    finally:
        os.close(read_end)
    assert "press any key" not in view.console.file.getvalue()


# -- stops and rewinds ---------------------------------------------------------------------------------


def scripted_view(s, stops, on_pause) -> tuple[LiveView, Simulation, list[float]]:
    """A view that pauses at `stops`; at every frame drawn while paused, `on_pause(view, shown_at)`
    acts like a teacher at the keyboard. Returns the view, its simulation, and the times shown
    when paused (once per pause). Paced (so every stop is checked), but never waiting."""
    view = LiveView(terminal_console(), speed=1e12, fps=float("inf"), stops=stops)
    simulation = Simulation([s], pacing=view.pacing)
    view.watch(simulation)
    paused_at: list[float] = []

    def on_frame(shown_at: float) -> None:
        view.draw(shown_at)
        if view.pacing.paused:
            paused_at.append(shown_at)
            on_pause(view, shown_at)

    view.pacing.on_frame = on_frame
    return view, simulation, paused_at


def resume(view: LiveView, shown_at: float) -> None:
    view.press(" ")


def test_pause_at_pauses_the_clock_at_that_simulated_time_and_shows_it():
    view, simulation, paused_at = scripted_view(scenario(**SMALL), [2.5, 1.0], resume)
    with view:
        result = view.run(simulation)[0]
    assert paused_at == [1.0, 2.5]
    assert result.to_json() == run(scenario(**SMALL)).to_json()


def test_b_rewinds_five_seconds_and_pauses_there_and_the_results_stay_the_same():
    s = scenario(**BURST)  # 10 s of producing
    pressed: list[float] = []

    def teacher(view: LiveView, shown_at: float) -> None:
        if shown_at == 8.0 and not pressed:
            pressed.append(shown_at)
            view.press("b")  # back to 3.0: run again from the start at full speed, pause there
        else:
            view.press(" ")

    view, simulation, paused_at = scripted_view(s, [8.0], teacher)
    with view:
        result = view.run(simulation)[0]
    # The stop at 8 s comes again after the rewind: it is still ahead of 3 s.
    assert paused_at == [8.0, 3.0, 8.0] and view.rewinds == 1
    assert result.to_json() == run(s).to_json()
    assert simulation.completed


def test_rewinding_near_the_start_goes_back_to_zero():
    pressed: list[float] = []

    def teacher(view: LiveView, shown_at: float) -> None:
        if not pressed:
            pressed.append(shown_at)
            view.press("b")
        else:
            view.press(" ")

    view, simulation, paused_at = scripted_view(scenario(**SMALL), [2.0], teacher)
    with view:
        result = view.run(simulation)[0]
    assert paused_at == [2.0, 0.0, 2.0]
    assert result.to_json() == run(scenario(**SMALL)).to_json()


# -- the lesson while it runs ----------------------------------------------------------------------------

LESSON = SMALL | {
    "lesson": "Watch the queue. Then more.",
    "moments": [{"at": 1.0, "say": "Now the queue fills."}, {"at": 2.0, "say": "Now it drains."}],
    "ko": {"moments": ["이제 큐가 찹니다.", "이제 비워집니다."]},
}


def lesson_lines(view: LiveView, shown_at: float) -> list[str]:
    view._shown_at = shown_at
    return [line for line in render(view.frame(), width=80).splitlines() if line.startswith("▸")]


def test_the_lesson_line_shows_what_to_watch_then_each_moment_as_it_comes():
    view = LiveView(terminal_console(), speed=2.0)
    view.watch(Simulation([scenario(**LESSON)], pacing=view.pacing))
    assert lesson_lines(view, 0.5) == ["▸ Watch the queue."], "before the first moment: the lesson's first sentence"
    assert lesson_lines(view, 1.5) == ["▸ Now the queue fills."]
    assert lesson_lines(view, 2.0) == ["▸ Now it drains."]
    assert view._lesson(2.0)["flash"] and view._lesson(7.0)["flash"], "highlighted for 3 wall s = 6 simulated s at speed 2"
    assert not view._lesson(8.5)["flash"]
    set_language("ko")
    assert lesson_lines(view, 1.5) == ["▸ 이제 큐가 찹니다."]


def test_stops_pause_at_every_moment():
    view, simulation, paused_at = scripted_view(scenario(**LESSON), [], resume)
    view.pause_at_moments = True
    view.watch(simulation)
    with view:
        result = view.run(simulation)[0]
    assert paused_at == [1.0, 2.0]
    assert result.to_json() == run(scenario(**LESSON)).to_json()


def test_a_scenario_without_a_lesson_has_no_lesson_line():
    view = LiveView(terminal_console(), speed=2.0)
    view.watch(Simulation([scenario(**SMALL)], pacing=view.pacing))
    assert lesson_lines(view, 1.0) == []


def test_a_long_lesson_line_wraps_once_and_the_frame_still_fits():
    from bpsim.loader import bundled_scenarios, load_scenario

    for path in bundled_scenarios():
        s = load_scenario(path)
        for lang in ("en", "ko"):
            set_language(lang)
            view = LiveView(terminal_console(), speed=2.0)
            view.watch(Simulation([s], pacing=view.pacing))
            for moment in s.moments:
                view._shown_at = moment.at
                text = render(view.frame(), width=80)
                lines = text.splitlines()
                assert len(lines) <= 23 and max(len(line) for line in lines) <= 80, (path.stem, lang)
                said = " ".join(line.strip() for line in lines[2:4]).removeprefix("▸ ")
                assert said.startswith(s.words(lang).moments[s.moments.index(moment)][:20]), (path.stem, lang)


def test_a_graceful_run_that_must_drain_its_backlog_is_expected_to_last_longer():
    from bpsim.loader import load_scenario

    s = load_scenario("graceful-vs-immediate")
    # 16 items/s for 10 s = 160 items; 2 workers of 0.2 s handle 10/s, 100 in 10 s: 60 are left,
    # drained in 6 s more. The run ends at about 18 s (exponential service); the default speed is
    # then 1, about 18 s of wall time, not ×0.5 (36 s) as 10 s would give.
    assert expected_duration(s) == pytest.approx(16.0)
    assert demo_speed(s) == 1.0
    assert expected_duration(scenario(**BURST)) == pytest.approx(14.4)  # 360 arrivals, 25/s: 10 s + 4.4 s
