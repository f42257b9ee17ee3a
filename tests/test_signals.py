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
from bpsim.signals import handle_signals, signals_held
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


@pytest.mark.parametrize(("sent", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_long_headless_run_stops_within_a_second_with_its_summary(sent: signal.Signals, exit_code: int):
    # burst.toml for 100,000 s is about 2 million items: a minute of work. --trace tells us when
    # the simulation (and so the signal handling) has started: its first line is the first event.
    process = subprocess.Popen(
        [sys.executable, "-m", "bpsim", "run", "burst", "--no-live", "--trace", "--set", "duration=100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"},
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
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
