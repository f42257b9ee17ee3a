"""`bpsim sweep` stops at once on Ctrl-C or SIGTERM: workers ended, finished runs shown, 130 / 143."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(child) for child in found]


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc and pgrep to see the worker processes")
@pytest.mark.parametrize("sent, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_sweep_stops_its_workers_and_keeps_the_finished_runs(sent: signal.Signals, code: int):
    # 40 runs of 300 simulated seconds in 2 processes take about 10 s: long enough to interrupt.
    command = [sys.executable, "-m", "bpsim", "sweep", "burst", "--param", "queue.maxsize=1..40"]
    command += ["--set", "duration=300", "--metric", "p99", "--jobs", "2"]
    env = dict(os.environ, PYTHONPATH=str(ROOT), LANG="C.UTF-8")
    sweep = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while len(workers := children(sweep.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(workers) == 2, "the worker processes started"
        sweep.send_signal(sent)
        # Measured: about 0.5 s from the signal to the exit; 5 s leaves room for a loaded machine.
        out, err = sweep.communicate(timeout=5)
    finally:
        sweep.kill()
    assert sweep.returncode == code
    assert [line for line in err.splitlines() if line.strip()] == [err.strip()], "one line, no traceback"
    assert err.startswith("interrupted: ") and "of 40 runs finished" in err
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "no worker is left behind"
    assert "maxsize" in out or err.startswith("interrupted: 0 of 40")
