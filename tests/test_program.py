"""`bpsim run FILE.py`: a user's asyncio program, unchanged, on the virtual clock (bpsim/program.py).

The handbook's example and its variants are compared with what the real CPython 3.13 printed
for them (tests/data/programs/expected.json, made by tests/data/programs/capture.py):

* stdout: identical, on every Python;
* the exit code: identical, on every Python;
* stderr (the seed example's uncaught ExceptionGroup): on 3.13 identical, character for
  character, once the repository's path is written <root> and the standard library's <stdlib>.
  On 3.11 and 3.12 the standard library's own frames differ (other line numbers, no
  `asyncio.run` frame on 3.11, the backported QueueShutDown), so there the user's frames, the
  group's line and the exception's name are compared. On every Python no frame of bpsim's shows.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from bpsim.cli import app
from bpsim.clock import Pacing, VirtualTimeLoop
from bpsim.program import Printed, ProgramLoop, ProgramObserver, ProgramRun, run_program
from bpsim.signals import handle_signals
from tests.helpers import cli_runner

ROOT = Path(__file__).parent.parent
PROGRAMS = Path(__file__).parent / "data" / "programs"
EXPECTED = json.loads((PROGRAMS / "expected.json").read_text(encoding="utf-8"))
CASES = [name for name in EXPECTED if not name.startswith("_")]
STDLIB = str(Path(asyncio.__file__).parent.parent)


def bpsim(*args: str):
    return cli_runner().invoke(app, list(args), prog_name="bpsim")


def normalised(text: str) -> str:
    return text.replace(str(ROOT.resolve()), "<root>").replace(STDLIB, "<stdlib>")


def program(tmp_path: Path, source: str, name: str = "prog.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return str(path)


# -- the same output as CPython's --------------------------------------------------------------------


@pytest.mark.parametrize("watched", [False, True], ids=["alone", "probes-watching"])
@pytest.mark.parametrize("case", CASES)
def test_prints_what_cpython_prints(case, watched, monkeypatch, tmp_path):
    # "probes-watching": with --json the probes (bpsim.probes) watch the program's queues,
    # semaphores, timeouts and tasks; the program must not notice.
    expected = EXPECTED[case]
    monkeypatch.chdir(ROOT)
    file, *args = expected["argv"]
    watching = ["--json", str(tmp_path / "seen.json")] if watched else []
    result = bpsim("run", file, *watching, *(["--", *args] if args else []))
    assert result.stdout == expected["stdout"]
    assert result.exit_code == expected["exit_code"]
    assert "/bpsim/" not in result.stderr  # no frame of bpsim's own
    if sys.version_info[:2] == (3, 13):
        assert normalised(result.stderr) == expected["stderr"]
    else:
        assert user_part(normalised(result.stderr)) == user_part(expected["stderr"])


def user_part(stderr: str) -> list[str]:
    """The lines of a traceback that do not depend on the Python version: the user's frames
    (with their source lines), the group's line, and the exception's name without its module."""
    lines = stderr.splitlines()
    kept = []
    for index, line in enumerate(lines):
        if '"<root>/' in line and "site-packages" not in line:
            kept += [line, lines[index + 1].strip()]
        elif "ExceptionGroup:" in line or "QueueShutDown" in line.split(".")[-1]:
            kept.append(line.rpartition(".")[2] if "QueueShutDown" in line else line)
    return kept


def test_the_seed_example_fails_as_the_handbook_prints_it(monkeypatch):
    # The race: join() returns before the producer has put anything (nothing is unfinished
    # yet), shutdown() follows, and the producer's first put raises QueueShutDown.
    monkeypatch.chdir(ROOT)
    result = bpsim("run", "examples/handbook-race.py")
    assert result.stdout.splitlines() == ["produce 0 qsize before: 0", "worker-0 shutdown", "worker-1 shutdown", "worker-2 shutdown"]
    assert "ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)" in result.stderr
    assert result.stderr.rstrip().splitlines()[-2].strip().endswith("QueueShutDown")
    assert result.exit_code == 1


def test_the_fixed_example_takes_its_simulated_time_at_once():
    # 6 items of 0.15 s through 2 permits: 3 rounds, 0.45 s; the producer is done by then.
    result = run_program(str(ROOT / "examples" / "handbook.py"), echo=False)
    assert result.exit_code == 0
    assert result.ended_at == pytest.approx(0.45)
    handled = [(line.at, line.text) for line in result.printed if "handled" in line.text]
    assert [round(at, 3) for at, _ in handled] == [0.15, 0.15, 0.3, 0.3, 0.45, 0.45]


def test_trace_stamps_each_printed_line_with_its_simulated_second(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = bpsim("run", "examples/handbook.py", "--trace")
    lines = result.stdout.splitlines()
    assert lines[0] == "0.000 produce 0 qsize before: 0"
    assert "0.150 worker-0 handled 0" in lines
    assert lines[-1] == "0.450 worker-2 shutdown"
    # The stamps are added, nothing else: without them it is the program's own output.
    assert [line.partition(" ")[2] for line in lines] == EXPECTED["fixed"]["stdout"].splitlines()
    assert result.exit_code == 0


def test_the_program_runs_as_python_would_run_it(tmp_path):
    path = program(
        tmp_path,
        """\
        import asyncio, os, sys
        import helper  # beside the program: its folder is first on sys.path

        async def main():
            await asyncio.sleep(2.5)
            print(__name__, sys.argv[1:], os.path.basename(sys.argv[0]), helper.VALUE)
            print(asyncio.get_running_loop().time())

        if __name__ == "__main__":
            asyncio.run(main())
        """,
    )
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    result = bpsim("run", path, "--", "-x", "--flag")
    assert result.stdout.splitlines() == ["__main__ ['-x', '--flag'] prog.py 42", "2.5"]
    assert result.exit_code == 0


def test_asyncio_runner_and_a_loop_factory_get_the_virtual_clock_too(tmp_path):
    path = program(
        tmp_path,
        """\
        import asyncio

        async def main():
            await asyncio.sleep(60)
            return asyncio.get_running_loop().time()

        with asyncio.Runner() as runner:
            print(runner.run(main()))
        if hasattr(asyncio, "EventLoop"):  # 3.13: asyncio.run(..., loop_factory=) is 3.12+
            print(asyncio.run(main(), loop_factory=asyncio.EventLoop))
        else:
            print(asyncio.run(main()))
        """,
    )
    assert bpsim("run", path).stdout == "60.0\n60.0\n"


def test_a_file_that_only_defines_main_has_it_run(tmp_path):
    path = program(tmp_path, "import asyncio\nasync def main():\n    await asyncio.sleep(1)\n    print('ran')\n")
    assert bpsim("run", path).stdout == "ran\n"


def test_a_file_without_an_event_loop_runs_with_a_note(tmp_path):
    result = bpsim("run", program(tmp_path, "print('hello')\n"))
    assert result.stdout == "hello\n"
    assert "started no event loop" in result.stderr
    assert result.exit_code == 0


def test_a_failing_callback_is_reported_as_python_reports_it(tmp_path, caplog):
    path = program(
        tmp_path,
        """\
        import asyncio

        def bad():
            raise ValueError("in a callback")

        async def main():
            asyncio.get_running_loop().call_later(0.1, bad)
            await asyncio.sleep(0.2)
            print("done")

        asyncio.run(main())
        """,
    )
    result = bpsim("run", path)
    assert result.stdout == "done\n"
    # asyncio logs it (to stderr under python3; pytest catches asyncio's log records).
    [record] = [record for record in caplog.records if record.name == "asyncio"]
    assert record.getMessage().splitlines() == [f"Exception in callback bad() at {path}:3", f"handle: <TimerHandle when=0.1 bad() at {path}:3>"]
    assert record.exc_info is not None
    traceback = logging.Formatter().formatException(record.exc_info).splitlines()
    assert f'{Path(asyncio.__file__).parent / "events.py"}", line' in traceback[1]  # asyncio's Handle._run, not bpsim's
    assert traceback[-1] == "ValueError: in a callback" and "/bpsim/" not in "\n".join(traceback)


@pytest.mark.parametrize(("code", "exit_code", "stderr"), [("3", 3, ""), ("'bye'", 1, "bye\n"), ("None", 0, "")])
def test_sys_exit_ends_the_program_as_in_python(tmp_path, code, exit_code, stderr):
    path = program(tmp_path, f"import asyncio, sys\nasync def main():\n    await asyncio.sleep(1)\n    sys.exit({code})\nasyncio.run(main())\n")
    # A real process, as a user runs it: Click 8.2.0's CliRunner (the floor) loses the message
    # that bpsim prints to stderr just before it exits.
    process = subprocess.run(
        [sys.executable, "-m", "bpsim", "run", path], capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"},
    )  # fmt: skip
    assert (process.returncode, process.stderr) == (exit_code, stderr)


def test_queue_shutdown_is_there_on_every_python_and_only_for_the_run(tmp_path):
    path = program(
        tmp_path,
        """\
        import asyncio
        async def main():
            queue = asyncio.Queue()
            queue.shutdown()
            try:
                await queue.get()
            except asyncio.QueueShutDown:
                print("shut down")
        asyncio.run(main())
        """,
    )
    before = (asyncio.run, asyncio.Runner, asyncio.new_event_loop, asyncio.Queue, time.sleep, sys.argv, sys.stdout)
    assert bpsim("run", path).stdout == "shut down\n"
    assert run_program(path, echo=False).exit_code == 0
    assert (asyncio.run, asyncio.Runner, asyncio.new_event_loop, asyncio.Queue, time.sleep, sys.argv, sys.stdout) == before
    assert hasattr(asyncio, "QueueShutDown") == (sys.version_info >= (3, 13))


# -- what virtual time cannot run ---------------------------------------------------------------------


def test_time_sleep_in_the_loop_stops_the_program_at_its_line(tmp_path):
    path = program(
        tmp_path,
        """\
        import asyncio, time

        async def main():
            print("before")
            try:
                time.sleep(0.5)
            except Exception:
                print("caught")  # bpsim's stop is no Exception: the program cannot swallow it
            print("after")

        asyncio.run(main())
        """,
    )
    result = bpsim("run", path)
    assert result.stdout == "before\n"
    assert result.stderr.splitlines() == [
        f"{path}:6: time.sleep(0.5) blocks the whole event loop, so nothing else can run, on a virtual "
        "clock or a real one; write await asyncio.sleep(0.5)"
    ]
    assert result.exit_code == 2


def test_time_sleep_outside_the_loop_just_sleeps(tmp_path):
    path = program(tmp_path, "import asyncio, time\ntime.sleep(0.001)\nasync def main():\n    print('ok')\nasyncio.run(main())\n")
    assert bpsim("run", path).stdout == "ok\n"


REFUSED = {
    "input": ("name = input('name? ')", "input() waits for a person, on the wall clock"),
    "thread": ("await asyncio.to_thread(sorted, [2, 1])", "sorted() would run in a thread, on the wall clock"),
    "threading": ("threading.Thread(target=print).start()", "threading.Thread(print).start() would run in a thread, on the wall clock"),
    "host-lookup": ("await asyncio.open_connection('example.invalid', 80)", "the program waits on real I/O (looking up 'example.invalid')"),
}


@pytest.mark.parametrize("what", REFUSED)
def test_what_virtual_time_cannot_run_stops_the_program_at_its_line(tmp_path, what):
    line, message = REFUSED[what]
    path = program(tmp_path, f"import asyncio, threading\nasync def main():\n    {line}\nasyncio.run(main())\n")
    result = bpsim("run", path)
    assert result.stderr.startswith(f"{path}:3: {message}")
    assert result.exit_code == 2


@pytest.mark.parametrize("what", ["time-sleep", "thread", "real-io"])
def test_a_refusal_in_a_task_other_than_main_is_the_one_line_too(tmp_path, what, caplog):
    # The stop ends the child task with bpsim's own exit, which its TaskGroup re-raises in main():
    # asyncio's "Task exception was never retrieved" about it is bpsim's noise, not the program's.
    line, message = {
        "time-sleep": ("time.sleep(0.2)", "time.sleep(0.2) blocks the whole event loop"),
        "thread": ("await asyncio.to_thread(sorted, [2, 1])", "sorted() would run in a thread"),
        "real-io": ("await asyncio.open_connection('127.0.0.1', 9)", "the program waits on real I/O"),
    }[what]
    path = program(
        tmp_path,
        f"""\
        import asyncio, time

        async def w():
            await asyncio.sleep(0.1)
            {line}

        async def main():
            async with asyncio.TaskGroup() as tg:
                tg.create_task(w())
                tg.create_task(w())

        asyncio.run(main())
        """,
    )
    result = bpsim("run", path)
    gc.collect()  # asyncio says "never retrieved" when a task is collected, maybe after the run
    assert not [record for record in caplog.records if record.name == "asyncio"]
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"{path}:5: {message}")
    assert result.exit_code == 2


def test_real_io_stops_the_program_instead_of_hanging(tmp_path):
    path = program(
        tmp_path,
        """\
        import asyncio, socket

        async def main():
            mine, theirs = socket.socketpair()
            mine.setblocking(False)
            try:
                await asyncio.get_running_loop().sock_recv(mine, 1)  # nobody ever writes
            finally:
                mine.close()
                theirs.close()

        asyncio.run(main())
        """,
    )
    result = bpsim("run", path)
    assert result.stderr.startswith(f"{path}:7: the program waits on real I/O (reading a socket or pipe")
    assert result.exit_code == 2


def test_the_old_get_event_loop_pattern_runs_on_the_virtual_clock_too(tmp_path):
    path = program(
        tmp_path,
        """\
        import asyncio

        async def main():
            await asyncio.sleep(5)
            print(asyncio.get_running_loop().time())

        asyncio.get_event_loop().run_until_complete(main())
        loop = asyncio.new_event_loop()
        loop.run_until_complete(main())
        loop.close()
        """,
    )
    assert bpsim("run", path).stdout == "5.0\n5.0\n"


def test_a_stall_says_what_each_task_waits_on(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = bpsim("run", "examples/forgot-shutdown.py")
    assert result.stdout.splitlines()[-1] == "all items handled"
    # The main task's name counts the tasks this process has made ("Task-1" in a fresh one).
    stderr = re.sub(r"Task-\d+", "Task-1", result.stderr)
    assert stderr.splitlines() == [
        "examples/forgot-shutdown.py: stalled at 0.300 s: every task waits and no timer is pending, so the program can never go on",
        "  Task-1 waits at examples/forgot-shutdown.py:19 in main: await TaskGroup.__aexit__()",
        "  worker-0 waits at examples/forgot-shutdown.py:11 in worker: await Queue.get()",
        "  worker-1 waits at examples/forgot-shutdown.py:11 in worker: await Queue.get()",
        "  (a task waiting in Queue.get() waits for an item or for queue.shutdown(): was it called?)",
    ]
    assert result.exit_code == 2


def test_a_stall_while_a_thread_runs_says_the_thread_not_never(tmp_path, capfd):
    # A thread started before the loop may still wake a task (call_soon_threadsafe), on the wall
    # clock: "can never go on" would be wrong, and its "Event loop is closed" afterwards is bpsim's.
    path = program(
        tmp_path,
        """\
        import asyncio, queue, threading, time

        handoff = queue.Queue()

        def background():
            loop, future = handoff.get()
            time.sleep(0.05)
            loop.call_soon_threadsafe(future.set_result, 7)

        threading.Thread(target=background, name="helper").start()

        async def main():
            future = asyncio.get_running_loop().create_future()
            handoff.put((asyncio.get_running_loop(), future))
            print("got", await future)

        asyncio.run(main())
        """,
    )
    result = bpsim("run", path)
    for thread in threading.enumerate():
        if thread.name == "helper":
            thread.join()
    assert result.stderr.splitlines() == [
        f"{path}: stalled at 0.000 s: every task waits, and a thread the program started (helper) is still running, "
        "on the wall clock, which virtual time cannot wait for; stand in for its work with await asyncio.sleep(seconds) in a task"
    ]
    assert result.exit_code == 2
    assert "Event loop is closed" not in capfd.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "piped"])
def test_a_last_line_without_newline_is_ended_in_a_terminal_only(tmp_path, monkeypatch, terminal):
    # In a terminal what bpsim writes next (a stall's line on stderr, the summary) must not be
    # glued onto it; piped, stdout stays byte for byte what python3 writes.
    path = program(tmp_path, "import asyncio\nasync def main():\n    print('x', end='')\n    await asyncio.Event().wait()\nasyncio.run(main())\n")
    stdout = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    result = ProgramRun(path).run()
    assert stdout.getvalue() == ("x\n" if terminal else "x")
    assert [line.text for line in result.printed] == ["x"] and result.exit_code == 2


def test_a_program_that_never_ends_stops_at_max_duration(tmp_path):
    path = program(tmp_path, "import asyncio\nasync def main():\n    while True:\n        await asyncio.sleep(1)\nasyncio.run(main())\n")
    result = bpsim("run", path, "--max-duration", "10.5")
    assert result.stderr.splitlines() == [
        "stopped at 10.500 s, the longest simulated time allowed (--max-duration)",
        "to go further, raise the limit, e.g. --max-duration 105",
    ]
    assert result.exit_code == 3
    # Without the option, one simulated hour.
    assert bpsim("run", path).stderr.startswith("stopped at 3,600.000 s")


# -- the command line -------------------------------------------------------------------------------


def test_run_help_mentions_programs():
    result = bpsim("run", "--help")
    assert "FILE.py" in result.stdout and "your-code" in result.stdout


def test_a_missing_program_is_one_line(tmp_path):
    result = bpsim("run", str(tmp_path / "nope.py"))
    assert result.stderr == f"{tmp_path / 'nope.py'}: no such file; give the path of a Python program: bpsim run FILE.py\n"
    assert result.exit_code == 2


def test_a_missing_program_named_like_a_scenario_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = bpsim("run", "handbook.py")
    assert result.stderr == (
        "handbook.py: no such file; handbook is a bundled scenario: run it with bpsim run handbook, "
        "or write it as a program with bpsim code handbook -o handbook.py\n"
    )
    assert result.exit_code == 2


def test_a_syntax_error_is_pythons_own_line(tmp_path):
    path = program(tmp_path, "import asyncio\nasync def main(:\n    pass\n")
    result = bpsim("run", path)
    assert result.stderr == f"{path}:2:16: SyntaxError: invalid syntax\n"
    assert result.exit_code == 2


def test_options_for_scenarios_are_refused_for_a_program(tmp_path):
    result = bpsim("run", program(tmp_path, "print(1)\n"), "--svg", "out.svg")
    assert result.stderr.startswith("--svg is for scenarios;")
    assert result.exit_code == 2
    assert not (tmp_path / "out.svg").exists()


@pytest.mark.parametrize("option", [["--warmup", "3"], ["--no-hold"], ["--set", "queue.maxsize=1"], ["--cdf"], ["--items", "x.csv"]])
def test_every_scenario_only_option_is_refused_alike(tmp_path, option):
    path = program(tmp_path, "print(1)\n")
    result = bpsim("run", path, *option)
    assert result.stderr.splitlines() == [
        f"{option[0]} is for scenarios; {path} is a program, whose output is its own (bpsim run FILE.py takes "
        "--trace, --speed, --seed, --max-duration, --json, --no-live, --theme; the program's own options go after --)"
    ]
    assert result.exit_code == 2 and result.stdout == ""


def test_json_over_the_program_itself_is_refused_as_the_program_file(tmp_path):
    path = program(tmp_path, "print(1)\n")
    result = bpsim("run", path, "--json", path)
    assert result.stderr.startswith(f"{path}: is the program file this command runs;")
    assert result.exit_code == 2
    assert Path(path).read_text(encoding="utf-8") == "print(1)\n"


def test_the_programs_own_option_before_dashes_says_where_to_put_it(tmp_path):
    path = program(tmp_path, "import sys\nprint(sys.argv[1:])\n")
    result = bpsim("run", path, "-v")
    assert result.stderr.splitlines() == [
        f"-v is not an option of bpsim run; if it is {path}'s own, write it after --: bpsim run {path} -- -v"
    ]
    assert result.exit_code == 2
    assert bpsim("run", path, "--", "-v").stdout == "['-v']\n"
    assert "Possible options: --seed, --set, --speed" in bpsim("run", path, "--speeed", "3").stderr  # a typo of bpsim's


def test_arguments_are_refused_for_a_scenario():
    result = bpsim("run", "handbook", "--", "--items", "3")
    assert result.stderr.startswith("handbook is a scenario, which takes no arguments")
    assert result.exit_code == 2


def test_seed_makes_random_draw_the_same_numbers(tmp_path):
    path = program(tmp_path, "import asyncio, random\nasync def main():\n    print(random.random())\nasyncio.run(main())\n")
    first, second = bpsim("run", path, "--seed", "7").stdout, bpsim("run", path, "--seed", "7").stdout
    assert first == second and first != bpsim("run", path, "--seed", "8").stdout


def test_ctrl_c_stops_the_program_cleanly(tmp_path):
    path = program(tmp_path, "import asyncio\nasync def main():\n    for i in range(100):\n        print(i)\n        await asyncio.sleep(1)\nasyncio.run(main())\n")

    class CtrlCAtThree(ProgramObserver):
        def printed(self, line: Printed) -> None:
            if line.text == "3":
                signal.raise_signal(signal.SIGINT)

    with handle_signals() as interruption:
        result = run_program(path, observers=[CtrlCAtThree()], echo=False)
    assert interruption.received == signal.SIGINT
    assert result.interrupted and result.exit_code == 130
    assert result.ended_at == 3.0
    assert [line.text for line in result.printed] == ["0", "1", "2", "3"]


@pytest.mark.parametrize(("sent", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_a_busy_program_in_a_real_process(tmp_path, sent, exit_code):
    # A program that never waits on a timer long enough to end (a million simulated hours of
    # 1 ms sleeps) runs flat out: Ctrl-C must still stop it, in one line, without a traceback.
    path = program(tmp_path, "import asyncio\nasync def main():\n    print('started', flush=True)\n    while True:\n        await asyncio.sleep(0.001)\nasyncio.run(main())\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "bpsim", "run", path, "--max-duration", "1e9"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"},
    )  # fmt: skip
    try:
        assert process.stdout is not None and process.stdout.readline() == "started\n"
        process.send_signal(sent)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == exit_code, err
    assert re.fullmatch(r"interrupted at [\d,]+\.\d{3} s \(simulated\)\n", err), err


PRINTS_IN_MAIN = "import asyncio\nasync def main():\n    for i in range(10**6):\n        print('line', i)\n        await asyncio.sleep(0.01)\nasyncio.run(main())\n"
# The handbook's shape: the lines come from a task of a TaskGroup, whose _Abort asyncio would
# report as "Task exception was never retrieved" with bpsim's frames (`bpsim run examples/handbook.py | head`).
PRINTS_IN_A_TASK = PRINTS_IN_MAIN.replace("async def main():", "async def lines():").replace(
    "asyncio.run(main())", "async def main():\n    async with asyncio.TaskGroup() as group:\n        group.create_task(lines())\nasyncio.run(main())"
)


@pytest.mark.parametrize("source", [PRINTS_IN_MAIN, PRINTS_IN_A_TASK], ids=["main", "task"])
@pytest.mark.parametrize("trace", [False, True], ids=["output", "trace"])
def test_a_reader_that_goes_away_stops_the_program_quietly(tmp_path, trace, source):
    # `bpsim run prog.py | head -1`: exit 141 (128 + SIGPIPE), as for a scenario's trace, no traceback.
    path = program(tmp_path, source)
    process = subprocess.Popen(
        [sys.executable, "-m", "bpsim", "run", path, *(["--trace"] if trace else [])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"},
    )  # fmt: skip
    try:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline().endswith("line 0\n")
        process.stdout.close()
        err = process.stderr.read()
        process.wait(timeout=30)
    finally:
        process.kill()
    assert (process.returncode, err) == (141, "")


def test_a_second_ctrl_c_stops_a_coroutine_that_never_awaits(tmp_path):
    path = program(tmp_path, "import asyncio\nasync def main():\n    print('started', flush=True)\n    while True:\n        pass\nasyncio.run(main())\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "bpsim", "run", path],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"},
    )  # fmt: skip
    try:
        assert process.stdout is not None and process.stdout.readline() == "started\n"
        process.send_signal(signal.SIGINT)  # the loop never gets to take its next step...
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)  # ...so the second one interrupts the coroutine itself
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert (process.returncode, err) == (130, "interrupted at 0.000 s (simulated)\n")


def test_sigterm_stops_the_program_with_143(tmp_path):
    path = program(
        tmp_path,
        """\
        import asyncio, os, signal

        async def main():
            await asyncio.sleep(2)
            print("killing")
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.sleep(1)
            print("never")

        asyncio.run(main())
        """,
    )
    result = bpsim("run", path)
    assert result.stdout == "killing\n"
    assert result.stderr == "interrupted at 2.000 s (simulated)\n"
    assert result.exit_code == 143


def test_a_program_that_exits_before_any_loop_gets_no_note(tmp_path):
    result = bpsim("run", program(tmp_path, "import sys\nprint('usage: prog.py N')\nsys.exit(0)\n"))
    assert (result.stdout, result.stderr, result.exit_code) == ("usage: prog.py N\n", "", 0)


# -- the hook for observers and pacing ------------------------------------------------------------------


def test_observers_see_the_run_in_order(tmp_path):
    path = program(tmp_path, "import asyncio\nasync def main():\n    print('a', end='')\n    await asyncio.sleep(1)\n    print('b')\n    await asyncio.sleep(1)\n    print('c')\nasyncio.run(main())\n")
    calls: list[object] = []

    class Recorder(ProgramObserver):
        def installed(self, run: ProgramRun) -> None:
            calls.append(("installed", asyncio.run.__module__ == "bpsim.program", hasattr(asyncio, "QueueShutDown")))

        def loop_created(self, loop: ProgramLoop) -> None:
            calls.append(("loop", isinstance(loop, VirtualTimeLoop)))

        def printed(self, line: Printed) -> None:
            calls.append(line)

        def finished(self, run: ProgramRun) -> None:
            assert run.result is not None
            calls.append(("finished", run.result.exit_code, run.now))

    run_program(path, observers=[Recorder()], echo=False)
    # A line is stamped with the second it began at ("a" at 0, its end at 1).
    assert calls == [("installed", True, True), ("loop", True), Printed(0.0, "ab"), Printed(2.0, "c"), ("finished", 0, 2.0)]


def test_observers_see_a_stopped_program_before_its_tasks_are_cancelled():
    seen: list[object] = []

    class Recorder(ProgramObserver):
        def stopped(self, run: ProgramRun) -> None:
            tasks = asyncio.all_tasks(run.loops[-1])
            seen.append((type(run.stopped_by).__name__, run.now, sorted(task.get_name() for task in tasks if not task.cancelling())))

        def finished(self, run: ProgramRun) -> None:
            seen.append(("finished", asyncio.all_tasks(run.loops[-1]) == set()))

    result = run_program(str(ROOT / "examples" / "forgot-shutdown.py"), observers=[Recorder()], echo=False)
    assert result.exit_code == 2
    main_task = next(name for name in seen[0][2] if name.startswith("Task-"))
    assert seen == [("ProgramStalled", 0.3, [main_task, "worker-0", "worker-1"]), ("finished", True)]


def test_a_paced_run_prints_what_a_headless_run_prints():
    frames: list[float] = []
    pacing = Pacing(1000.0, on_frame=frames.append)  # 0.45 simulated s in 0.45 ms of wall time
    paced = run_program(str(ROOT / "examples" / "handbook.py"), pacing=pacing, echo=False)
    headless = run_program(str(ROOT / "examples" / "handbook.py"), echo=False)
    assert paced.printed == headless.printed
    assert frames  # the pacing drew its frames


def test_the_private_names_the_runner_overrides_exist():
    # ProgramLoop overrides these of VirtualTimeLoop / asyncio's selector loop.
    for name in ("_next_instant", "_add_reader", "_add_writer", "run_in_executor", "subprocess_exec", "subprocess_shell"):
        assert callable(getattr(VirtualTimeLoop, name)), name


# -- what `bpsim explain your-code` claims -----------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_lessons_code_runs_as_its_comments_say(tmp_path, lang):
    from bpsim.i18n import set_language, t

    set_language(lang)
    path = program(tmp_path, t("explain.your-code.code"))
    result = bpsim("--lang", lang, "run", path)
    assert result.stdout == "t = 0.5\n"  # "the virtual clock jumps 0.5 s"
    assert result.stderr.startswith(f"{path}:10: time.sleep(0.5)")  # "stops here"
    assert result.exit_code == 2


def test_messages_speak_korean(tmp_path):
    path = program(tmp_path, "import asyncio\nasync def main():\n    await asyncio.Event().wait()\nasyncio.run(main())\n")
    result = bpsim("--lang", "ko", "run", path)
    lines = re.sub(r"Task-\d+", "Task-1", result.stderr).splitlines()
    assert lines == [
        f"{path}: 0.000초에 멈춤: 모든 task가 기다리고 대기 중인 타이머가 없어서 프로그램이 더는 진행할 수 없습니다",
        f"  Task-1: {path}:3 (main)에서 기다림: await Event.wait()",
    ]
