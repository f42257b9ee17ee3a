"""Ctrl-C and SIGTERM stop a run promptly, keep its partial results, and exit 130 / 143."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bpsim.engine import Simulation
from bpsim.events import Event, ItemHandled
from bpsim.signals import handle_signals, interrupted, signals_held, stops
from tests.helpers import scenario

ROOT = Path(__file__).parent.parent

STOP_WITHIN_SECONDS = 1.0
"""The promise to a learner: the run stops and the summary is printed within a second."""


def test_sigterm_inside_the_block_interrupts_like_ctrl_c_and_says_143():
    with pytest.raises(KeyboardInterrupt), handle_signals() as interruption:
        os.kill(os.getpid(), signal.SIGTERM)
    assert interruption.signal is signal.SIGTERM
    assert interruption.exit_code == 143


def test_without_sigterm_the_exit_code_is_ctrl_c_s():
    with handle_signals() as interruption:
        pass
    assert interruption.exit_code == 130


def test_the_previous_sigterm_handler_is_restored():
    before = signal.getsignal(signal.SIGTERM)
    with handle_signals():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_held_signals_are_noted_then_raised_again_for_the_previous_handlers():
    reached_the_end = False
    with pytest.raises(KeyboardInterrupt), handle_signals() as interruption:
        with signals_held(signal.SIGINT, signal.SIGTERM) as interrupted:
            assert not interrupted()
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGINT)
            assert interrupted(), "noted, nothing raised inside the block"
            reached_the_end = True
    assert reached_the_end
    assert interruption.exit_code == 143, "the first signal noted is the one raised again"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_signal_stays_ignored_while_held(monkeypatch):
    monkeypatch.setattr(signal, "getsignal", lambda signum: signal.SIG_IGN)  # a background job
    installed: list[int] = []
    monkeypatch.setattr(signal, "signal", lambda signum, handler: installed.append(signum))
    with signals_held(signal.SIGINT) as interrupted:
        assert not interrupted()
    assert installed == []


def test_sigterm_during_a_simulation_keeps_the_partial_results():
    simulation = Simulation([scenario(items=1000, workers={"count": 2})])

    def terminate_at_item_10(event: Event) -> None:
        if isinstance(event, ItemHandled) and event.item == 10:
            os.kill(os.getpid(), signal.SIGTERM)

    simulation.subscribe(terminate_at_item_10)
    with pytest.raises(KeyboardInterrupt), handle_signals() as interruption:
        simulation.run()
    result = simulation.results()[0]
    assert interruption.exit_code == 143
    assert not result.completed
    assert 11 <= result.counts.handled < 1000


def started_long_run() -> subprocess.Popen[str]:
    """`bpsim run burst` for 100,000 s (about 2.7 million items: a minute of work), once started.

    --trace tells us when the simulation (and so the signal handling) has started: its first
    line is the first event."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bpsim", "run", "burst", "--no-live", "--trace", "--set", "duration=100000", "--max-items", "10000000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"},
    )
    assert process.stdout is not None
    process.stdout.readline()
    return process


@pytest.mark.parametrize(("sent", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_long_headless_run_stops_within_a_second_with_its_summary(sent: signal.Signals, exit_code: int):
    process = started_long_run()
    try:
        sent_at = time.monotonic()
        process.send_signal(sent)
        out, err = process.communicate(timeout=30)
        stopped_after = time.monotonic() - sent_at
    finally:
        process.kill()
    assert process.returncode == exit_code, err
    assert stopped_after < STOP_WITHIN_SECONDS
    assert "every item accounted for" in out
    assert "INTERRUPTED" in out
    assert "Traceback" not in err


# -- two signals, early signals, late signals (issue #17) ---------------------------------------


def test_during_a_run_the_first_signal_stops_it_and_the_ones_after_it_are_ignored():
    stopped: list[int] = []
    with handle_signals() as interruption, stops(lambda: stopped.append(1)):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)  # once a KeyboardInterrupt inside the event loop
        os.kill(os.getpid(), signal.SIGTERM)
    assert stopped == [1]
    assert interruption.received is signal.SIGINT and interruption.exit_code == 130


def test_after_a_run_a_signal_is_only_noted_so_the_summary_can_be_printed():
    with handle_signals() as interruption:
        with stops(lambda: None):
            pass  # a run that ended
        os.kill(os.getpid(), signal.SIGTERM)  # no KeyboardInterrupt: the summary comes next
        assert interrupted()
    assert interruption.exit_code == 143


def test_without_handle_signals_a_run_keeps_asyncios_own_ctrl_c():
    with stops(lambda: pytest.fail("no handle_signals block: nothing to stop")):
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not interrupted()


@pytest.mark.parametrize("shown_by", ["summary", "theory_table"])
def test_a_signal_while_the_summary_is_made_still_prints_it_and_exits_130(monkeypatch, shown_by: str):
    from typer.testing import CliRunner

    import bpsim.cli
    import bpsim.render.summary
    import bpsim.render.theory

    home = bpsim.render.summary if shown_by == "summary" else bpsim.render.theory
    real = getattr(home, shown_by)

    def interrupted_first(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)  # once: nothing printed at all, exit 130
        return real(*args, **kwargs)

    monkeypatch.setattr(home, shown_by, interrupted_first)
    command = "run" if shown_by == "summary" else "theory"
    result = CliRunner().invoke(bpsim.cli.app, [command, "textbook", "--set", "duration=50.0"])
    assert result.exit_code == 130
    assert ("every item accounted for" if command == "run" else "Little's law") in result.output


def test_ctrl_c_while_the_command_line_loads_exits_130_without_a_traceback():
    # Deterministic: the SIGINT is raised while bpsim.cli loads Typer (the first half second).
    code = (
        "import builtins, signal\n"
        "real = builtins.__import__\n"
        "def hooked(name, *args, **kwargs):\n"
        "    if name == 'typer.core':\n"
        "        signal.raise_signal(signal.SIGINT)\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = hooked\n"
        "import sys; sys.argv = ['bpsim', 'run', 'burst', '--no-live']\n"
        "from bpsim.__main__ import main; main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 130
    assert done.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize("gap", [0.0, 0.01, 0.05])
@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_two_signals_in_quick_succession_still_give_the_summary(gap: float, second: signal.Signals):
    # Once: a false "every task waits and no timer is pending" (exit 2), a KeyboardInterrupt
    # traceback, or exit 130 with nothing printed, depending on where the second one landed.
    process = started_long_run()
    try:
        process.send_signal(signal.SIGINT)
        time.sleep(gap)
        process.send_signal(second)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    # Both may arrive before the process looks: then Python runs SIGINT's handler first, or
    # SIGTERM's; either way the first one handled names the exit code.
    assert process.returncode in (130, 143), err
    assert "Traceback" not in err and "timer is pending" not in err
    assert "every item accounted for" in out and "INTERRUPTED" in out
