"""`bpsim run` with the dashboard: in a pseudo-terminal, piped, and with exports."""

from __future__ import annotations

from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")
pytest.importorskip("bpsim.loader", reason="bpsim run needs the scenario loader")

from typer.testing import CliRunner  # noqa: E402

from bpsim.cli import app  # noqa: E402
from tests.render import svg_lines  # noqa: E402
from tests.terminal import exit_code_and_sane_terminal, spawn_bpsim  # noqa: E402

ROOT = Path(__file__).parent.parent
BURST = str(ROOT / "scenarios" / "burst.toml")


def invoke(*args: str):
    return CliRunner().invoke(app, ["run", BURST, *args], prog_name="bpsim")


def test_piped_there_is_no_dashboard_and_no_escape_codes():
    result = invoke("--speed", "1")
    assert result.exit_code == 0
    assert "\x1b" not in result.output and "▶ running" not in result.output
    assert "Lesson" in result.output


@pytest.mark.parametrize("speed", ["0", "-2", "fast", "inf"])
def test_a_speed_must_be_a_positive_number_or_max(speed):
    result = invoke("--speed", speed)
    assert result.exit_code == 2
    assert "is not a speed" in result.output


def test_svg_and_html_exports_are_written_and_identical_run_to_run(tmp_path):
    for name in ("a", "b"):
        assert invoke("--no-live", "--svg", str(tmp_path / f"{name}.svg"), "--html", str(tmp_path / f"{name}.html")).exit_code == 0
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()
    assert "■ finished" in "\n".join(svg_lines((tmp_path / "a.svg").read_text()))


def test_the_dashboard_draws_pauses_quits_and_restores_the_terminal():
    child = spawn_bpsim("run scenarios/burst.toml --speed 1")
    try:
        child.expect("producer")  # the pipeline is drawn
        child.expect("▶ running")
        child.send(" ")
        child.expect("PAUSED")
        child.send("q")
        child.expect("Lesson")  # the summary is printed after the last frame
        code, sane = exit_code_and_sane_terminal(child)
        assert code == "0", "q is a normal way to end a demo"
        assert sane, "line mode and echo are back"
    finally:
        child.close(force=True)


def test_keys_are_read_only_in_the_terminals_foreground(monkeypatch):
    # In the background (`timeout bpsim run ...`, `bpsim run ... &`) changing the terminal's
    # modes would get the process stopped (SIGTTOU): the dashboard then draws without keys.
    from bpsim import cli

    class Terminal:
        def isatty(self) -> bool:
            return True

        def fileno(self) -> int:
            return 0

    monkeypatch.setattr(cli.sys, "stdin", Terminal())
    monkeypatch.setattr(cli.os, "getpgrp", lambda: 100)
    monkeypatch.setattr(cli.os, "tcgetpgrp", lambda fd: 100)
    assert cli._keys_fd() == 0
    monkeypatch.setattr(cli.os, "tcgetpgrp", lambda fd: 200)
    assert cli._keys_fd() is None


def test_a_finished_run_keeps_its_final_frame_until_a_key():
    # handbook-race ends at t = 0: without the hold its summary would scroll it away at once.
    child = spawn_bpsim("run handbook-race --speed 1")
    try:
        child.expect("■ finished")
        child.expect("press any key for the summary")
        with pytest.raises(pexpect.TIMEOUT):
            child.expect("Lesson", timeout=1.0)  # the frame stays: nothing else is printed
        child.send("x")
        child.expect("Lesson")
        code, sane = exit_code_and_sane_terminal(child)
        assert code == "0" and sane
    finally:
        child.close(force=True)


def test_no_hold_prints_the_summary_at_once():
    child = spawn_bpsim("run handbook-race --speed 1 --no-hold")
    try:
        child.expect("■ finished")
        child.expect("Lesson", timeout=5)
        code, sane = exit_code_and_sane_terminal(child)
        assert code == "0" and sane
    finally:
        child.close(force=True)


def test_ctrl_c_at_the_final_frame_prints_the_summary_too():
    child = spawn_bpsim("run handbook-race --speed 1")
    try:
        child.expect("press any key for the summary")
        child.sendintr()
        child.expect("Lesson")
        code, sane = exit_code_and_sane_terminal(child)
        assert code == "130", "Ctrl-C after a run is noted: the summary prints whole, then the exit code says so"
        assert sane
    finally:
        child.close(force=True)


def test_pause_at_then_b_rewinds_and_q_still_prints_the_summary():
    child = spawn_bpsim("run burst --speed max --pause-at 7")
    try:
        child.expect(r"t = 7\.00 s")
        child.expect("PAUSED")
        child.send("b")  # back 5 simulated seconds: run again to t = 2, paused there
        child.expect(r"t = 2\.00 s")
        child.expect("PAUSED")
        child.send(" ")  # resume at max speed: the stop at 7 s comes again
        child.expect(r"t = 7\.00 s")
        child.expect("PAUSED")
        child.send("q")
        child.expect("Lesson")
        code, sane = exit_code_and_sane_terminal(child)
        assert code == "0" and sane
    finally:
        child.close(force=True)


def test_pause_at_must_be_a_time_and_does_not_change_a_piped_run(tmp_path):
    assert invoke("--pause-at", "-1").exit_code == 2
    assert invoke("--pause-at", "soon").exit_code == 2
    plain, paused = tmp_path / "plain.json", tmp_path / "paused.json"
    assert invoke("--json", str(plain)).exit_code == 0
    assert invoke("--json", str(paused), "--pause-at", "3", "--pause-at", "12.5").exit_code == 0
    assert plain.read_bytes() == paused.read_bytes()


def test_stops_pause_at_each_moment_of_the_lesson_and_show_it():
    child = spawn_bpsim("run burst --speed max --stops")
    try:
        child.expect(r"t = 10\.00 s")
        child.expect("The burst begins")
        child.expect("PAUSED")
        child.send(" ")
        child.expect(r"t = 13\.00 s")
        child.expect("The burst ends")
        child.send("q")
        child.expect("Lesson")
        code, sane = exit_code_and_sane_terminal(child)
        assert code == "0" and sane
    finally:
        child.close(force=True)
