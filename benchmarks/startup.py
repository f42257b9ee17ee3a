"""How long `bpsim` takes to start: `--help`, `scenarios`, and `run` until its first frame.

    python benchmarks/startup.py [REPEAT]

Each command runs REPEAT times (default 15), interleaved with the baselines, and the best and
median wall times are shown, with the best CPU time (user + system, which moves less than wall
time on a loaded machine), beside `python -c pass`, `python -c "import typer"` and two-command
Typer apps with bpsim's settings: one showing its `--help`, one running a command (what any Typer
program pays; Typer 0.29 imports pydantic to run a command, even one without parameters).

The commands run as a user types them: the `bpsim` program beside this Python (else `python -m
bpsim`), from /tmp. bpsim's modules are compiled to bytecode first, as `pip install` leaves them:
with `PYTHONDONTWRITEBYTECODE` set and an editable install nothing would cache it, and every start
would compile bpsim's sources again (see the header line and docs/performance.md).

`run ... (first frame)` starts `bpsim run burst` in a pseudo-terminal and stops the clock at the
first byte of the dashboard (its CPU time until then is read from Linux's /proc/PID/schedstat).
The targets of issue #13: `--help` and `scenarios` within 1.5x of `import typer`, the first frame
under 0.3 s on a quiet machine. Prints a Markdown table; nothing is asserted (a shared machine's
load moves every figure).
"""

from __future__ import annotations

import compileall
import os
import pty
import select
import signal
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
app = typer.Typer(pretty_exceptions_enable=False, rich_markup_mode=None)
@app.command()
def hello() -> None:
    print("hello")
@app.command()
def other() -> None:
    print("other")
app()
"""

Timing = tuple[float, float | None]
"""Wall seconds, and CPU seconds (user + system) when they can be told apart."""


def timed(argv: list[str]) -> Timing:
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp")
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv)} failed")
    return wall, usage.ru_utime + usage.ru_stime


def first_frame(argv: list[str]) -> Timing:
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
        os.kill(pid, signal.SIGSTOP)  # hold it where it is, to read its CPU time so far
        return elapsed, cpu_so_far(pid)
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)


def cpu_so_far(pid: int) -> float | None:
    """The CPU time process `pid` has used, in seconds (Linux's scheduler statistics, in ns)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None  # not Linux: the table shows no CPU time for the first frame


def bpsim_program() -> list[str]:
    """The `bpsim` program installed beside this Python, as a user runs it; else `python -m bpsim`."""
    program = Path(PYTHON).parent / "bpsim"
    return [str(program)] if program.exists() else [PYTHON, "-m", "bpsim"]


def compile_bpsim() -> str:
    """Compile bpsim's modules to bytecode, as an installation does; say how they were found."""
    import bpsim

    package = Path(bpsim.__file__).parent
    cached = next(package.glob("__pycache__/cli.*.pyc"), None) is not None
    compileall.compile_dir(package, quiet=1)
    return "bytecode cached" if cached else "bytecode compiled first (it was not cached)"


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    bytecode = compile_bpsim()
    bpsim = bpsim_program()
    cases: dict[str, Callable[[], Timing]] = {
        "python -c pass": lambda: timed([PYTHON, "-c", "pass"]),
        'python -c "import typer"': lambda: timed([PYTHON, "-c", "import typer"]),
        "a two-command Typer app --help": lambda: timed([PYTHON, "-c", TYPER_APP, "--help"]),
        "a two-command Typer app, running one": lambda: timed([PYTHON, "-c", TYPER_APP, "hello"]),
        "bpsim --help": lambda: timed([*bpsim, "--help"]),
        "bpsim scenarios": lambda: timed([*bpsim, "scenarios"]),
        "bpsim run burst --no-live (whole run)": lambda: timed([*bpsim, "run", "burst", "--no-live"]),
        "bpsim run burst (first frame)": lambda: first_frame([*bpsim, "run", "burst"]),
    }
    walls: dict[str, list[float]] = {name: [] for name in cases}
    cpus: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, case in cases.items():
            wall, cpu = case()
            walls[name].append(wall)
            if cpu is not None:
                cpus[name].append(cpu)
    typer_wall, typer_cpu = min(walls['python -c "import typer"']), min(cpus['python -c "import typer"'])
    program = Path(bpsim[0]).name if len(bpsim) == 1 else "python -m bpsim"
    print(
        f"Start-up, best and median of {repeat} (Python {sys.version.split()[0]}, load {os.getloadavg()[0]:.2f}, "
        f"`{program}`, {bytecode})\n"
    )
    print("| command | best | median | best / import typer | best CPU | CPU / import typer |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, values in walls.items():
        best = min(values)
        cpu = f"{min(cpus[name]) * 1000:.0f} ms | {min(cpus[name]) / typer_cpu:.2f}x" if cpus[name] else "– | –"
        print(f"| `{name}` | {best * 1000:.0f} ms | {statistics.median(values) * 1000:.0f} ms | {best / typer_wall:.2f}x | {cpu} |")


if __name__ == "__main__":
    main()
