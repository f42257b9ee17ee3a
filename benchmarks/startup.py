"""How long `bpsim` takes to start: `--help`, `scenarios`, and `run` until its first frame.

    python benchmarks/startup.py [REPEAT]

Each command runs REPEAT times (default 15), interleaved with the baselines, and the best and
median wall times are shown beside `python -c pass`, `python -c "import typer"` and a one-command
Typer app's `--help` (what any Typer program pays: Typer builds its parameters through pydantic).
`run ... (first frame)` starts `bpsim run burst` in a pseudo-terminal and stops the clock at the
first byte of the dashboard. The targets of issue #13: `--help` and `scenarios` within 1.5x of
`import typer`, the first frame under 0.3 s on a quiet machine. Prints a Markdown table; nothing is
asserted (a shared machine's load moves every figure).
"""

from __future__ import annotations

import os
import pty
import select
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).parent.parent
PYTHON = sys.executable
TYPER_APP = """
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "world") -> None:
    print(name)
app()
"""


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp", check=True)
    return time.perf_counter() - start


def first_frame(argv: list[str]) -> float:
    """Seconds until `argv`, in a pseudo-terminal, writes its first byte; then it is stopped."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: become bpsim
        os.chdir("/tmp")
        os.execv(argv[0], argv)
    try:
        ready, _, _ = select.select([fd], [], [], 30)
        elapsed = time.perf_counter() - start
        if not ready:
            raise RuntimeError("no frame within 30 s")
        return elapsed
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    bpsim = [PYTHON, "-m", "bpsim"]
    cases: dict[str, Callable[[], float]] = {
        "python -c pass": lambda: timed([PYTHON, "-c", "pass"]),
        'python -c "import typer"': lambda: timed([PYTHON, "-c", "import typer"]),
        "a one-command Typer app --help": lambda: timed([PYTHON, "-c", TYPER_APP, "--help"]),
        "bpsim --help": lambda: timed([*bpsim, "--help"]),
        "bpsim scenarios": lambda: timed([*bpsim, "scenarios"]),
        "bpsim run burst --no-live (whole run)": lambda: timed([*bpsim, "run", "burst", "--no-live"]),
        "bpsim run burst (first frame)": lambda: first_frame([*bpsim, "run", "burst"]),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, case in cases.items():
            times[name].append(case())
    typer_best = min(times['python -c "import typer"'])
    print(f"Start-up, best and median of {repeat} (Python {sys.version.split()[0]}, load {os.getloadavg()[0]:.2f})\n")
    print("| command | best | median | best / import typer |")
    print("| --- | ---: | ---: | ---: |")
    for name, values in times.items():
        best = min(values)
        print(f"| `{name}` | {best * 1000:.0f} ms | {statistics.median(values) * 1000:.0f} ms | {best / typer_best:.2f}x |")


if __name__ == "__main__":
    main()
