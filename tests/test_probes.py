"""The probes: a user program's queues, semaphores, timeouts and tasks, seen without changing it.

The programs: the handbook's example verbatim (examples/handbook-race.py, "seed.py" here), the
same with `queue.join()` after the producer (examples/handbook.py, "fixed.py"), and
tests/data/probes/kinds.py (every kind, every way of naming). They run as `bpsim run` runs them.
"""

from __future__ import annotations

import asyncio
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from bpsim import compat
from bpsim.clock import VirtualTimeLoop
from bpsim.probes import ProgramSnapshot, Probes, to_dict

ROOT = Path(__file__).parent.parent
PROGRAMS = {
    "seed.py": ROOT / "examples" / "handbook-race.py",  # the handbook's example, verbatim
    "fixed.py": ROOT / "examples" / "handbook.py",  # the same with `await producing` before join()
    "kinds.py": Path(__file__).parent / "data" / "probes" / "kinds.py",
    "toplevel.py": Path(__file__).parent / "data" / "probes" / "toplevel.py",
}


@dataclass
class Ran:
    stdout: str
    error: str
    """The program's uncaught exception as Python prints it ("" if none)."""
    snapshot: ProgramSnapshot | None


def run_program(name: str, *, probed: bool = True) -> Ran:
    """Run a program as `bpsim run` does (bpsim.program), with the probes watching (or not)."""
    from bpsim.probes import ProbesObserver
    from bpsim.program import run_program as run

    observer = ProbesObserver() if probed else None
    result = run(str(PROGRAMS[name]), observers=[observer] if observer is not None else [], echo=False)
    error = "".join(traceback.format_exception(result.exception)) if result.exception is not None else ""
    stdout = "".join(f"{line.text}\n" for line in result.printed)
    return Ran(stdout, error, observer.final if observer is not None else None)


@pytest.mark.parametrize("name", ["seed.py", "fixed.py", "kinds.py", "toplevel.py"])
def test_the_program_prints_and_fails_exactly_as_without_probes(name: str) -> None:
    plain = run_program(name, probed=False)
    probed = run_program(name)
    assert probed.stdout == plain.stdout
    assert probed.error == plain.error
    assert "bpsim/probes.py" not in probed.error


def test_the_seed_traceback_goes_through_queue_put_and_put_nowait_only() -> None:
    ran = run_program("seed.py")
    frames = [line.split(", in ")[-1] for line in ran.error.splitlines() if line.strip(" |").startswith("File ")]
    if sys.version_info >= (3, 13):  # on 3.11 and 3.12 the queue is the runner's backport (as unprobed)
        assert frames[frames.index("producer") :] == ["producer", "put", "put_nowait"]
        assert "asyncio/queues.py" in ran.error
    assert ran.error.splitlines()[-2].endswith("QueueShutDown")


def test_the_seed_example_numbers() -> None:
    # The handbook's example verbatim: main() reaches `await queue.join()` before the producer has
    # run at all, so the queue has no unfinished task, join() returns at once and main shuts the
    # queue down at t=0. The producer's first put raises QueueShutDown; the workers, waiting in
    # get(), end with "shutdown". Nothing was ever put: put 0, got 0, max qsize 0, never full.
    # Tasks: main and the producer failed (the producer's QueueShutDown, main's ExceptionGroup),
    # the 3 workers ended normally.
    snapshot = run_program("seed.py").snapshot
    assert snapshot is not None
    (queue,) = snapshot.queues
    assert (queue.name, queue.kind, queue.created_at, queue.maxsize) == ("queue", "Queue", "handbook-race.py:30", 2)
    assert (queue.put, queue.got, queue.max_qsize, queue.full_seconds, queue.putters_blocked_seconds) == (0, 0, 0, 0.0, 0.0)
    (limiter,) = snapshot.semaphores
    assert (limiter.name, limiter.size, limiter.max_held, limiter.max_waiters) == ("limiter", 2, 0, 0)
    assert snapshot.time == 0.0
    assert (snapshot.tasks.done, snapshot.tasks.failed, snapshot.tasks.created) == (3, 2, 5)


def test_the_fixed_example_numbers() -> None:
    # `await producing` before `queue.join()`. Worked by hand (maxsize 2, Semaphore(2), 3 workers,
    # each item 0.15 s inside the semaphore):
    #   t=0     the producer puts 0, 1 (qsize 2) and waits to put 2. worker-0 gets 0, worker-1
    #           gets 1 (both take a permit); worker-2 waits in get(). The producer puts 2 (which
    #           goes straight to worker-2, who waits for a permit) and 3 and 4 (qsize 2), then
    #           waits to put 5: the queue is full from t=0.
    #   t=0.15  worker-0 and worker-1 finish 0 and 1, get 3 and 4 (qsize 0), the producer puts 5
    #           (qsize 1) and ends. worker-2 (waited 0.15 s) and worker-0 take the permits,
    #           worker-1 waits for one.
    #   t=0.30  worker-2 and worker-0 finish 2 and 3; worker-2 gets 5 (qsize 0); worker-1 (waited
    #           0.15 s) and worker-2 take the permits; worker-0 waits in get().
    #   t=0.45  worker-1 and worker-2 finish 4 and 5; join() returns, shutdown() ends the workers.
    # So: put 6, got 6, max qsize 2, full 0 .. 0.15 = 0.15 s, the producer blocked 0.15 s in all
    # (its two earlier waits at t=0 lasted 0 s); mean qsize (2 * 0.15 + 1 * 0.15) / 0.45 = 1.
    # The semaphore: held at most 2; one task waits at a time (most waiters 1); waits 0.15 + 0.15
    # = 0.3 s. Tasks: main, the producer and 3 workers, all done.
    snapshot = run_program("fixed.py").snapshot
    assert snapshot is not None
    (queue,) = snapshot.queues
    assert (queue.put, queue.got, queue.discarded, queue.max_qsize, queue.qsize) == (6, 6, 0, 2, 0)
    assert queue.full_seconds == pytest.approx(0.15)
    assert queue.putters_blocked_seconds == pytest.approx(0.15)
    assert queue.most_blocked_putters == 1
    assert queue.mean_qsize == pytest.approx(1.0)
    assert (queue.blocked_putters, queue.waiting_getters) == (0, 0)  # the workers' getters left at shutdown
    (limiter,) = snapshot.semaphores
    assert (limiter.max_held, limiter.max_waiters, limiter.held, limiter.waiters) == (2, 1, 0, 0)
    assert limiter.wait_seconds == pytest.approx(0.3)
    assert snapshot.time == pytest.approx(0.45)
    assert (snapshot.tasks.done, snapshot.tasks.created) == (5, 5)


def test_names_kinds_timeouts_and_task_states() -> None:
    ran = run_program("kinds.py")
    snapshot = ran.snapshot
    assert snapshot is not None
    assert [(q.name, q.kind) for q in snapshot.queues] == [
        ("urgent", "PriorityQueue"),
        ("later", "LifoQueue"),  # a call over two lines, the second of a tuple assignment
        ("self.inbox", "Queue"),
        ("self.inbox#2", "Queue"),
        ("kinds.py:24", "Queue"),  # in a list: named by where it was made
        ("kinds.py:24#2", "Queue"),
    ]
    assert [q.put for q in snapshot.queues] == [1, 1, 1, 0, 0, 1]
    assert snapshot.queues[2].full_seconds == pytest.approx(8.0)  # maxsize 1, full from t=0 to the end (8 s)
    (gate,) = snapshot.semaphores
    assert (gate.name, gate.kind, gate.size, gate.max_held, gate.held) == ("gate", "BoundedSemaphore", 1, 1, 0)
    # 3 attempts of 1, 2 and 3 s time out (6 s); a 5 s scope around a 1 s sleep does not.
    assert [(t.name, t.entered, t.fired, t.active) for t in snapshot.timeouts] == [("deadline", 3, 3, 0), ("kinds.py:37", 1, 0, 0)]
    assert snapshot.timeouts_fired == 3
    assert ran.stdout.splitlines()[-1] == "done at 8.0"
    # main() has returned (done); the sleeper was cancelled, `fails` raised.
    tasks = snapshot.tasks
    assert (tasks.done, tasks.cancelled, tasks.failed, tasks.running, tasks.waiting) == (1, 1, 1, 0, 0)


def test_objects_made_before_the_loop_are_timed_by_it() -> None:
    ran = run_program("toplevel.py")
    assert ran.stdout == "only\n" and ran.snapshot is not None
    (queue,) = ran.snapshot.queues
    (limiter,) = ran.snapshot.semaphores
    assert (queue.name, queue.full_seconds, ran.snapshot.time) == ("queue", 4.0, 4.0)
    assert (limiter.name, limiter.wait_seconds, limiter.max_waiters) == ("limiter", 2.0, 1)


def test_asyncio_is_restored_after_the_run_also_after_a_failure() -> None:
    import asyncio.locks
    import asyncio.queues
    import asyncio.timeouts

    names = ["Queue", "PriorityQueue", "LifoQueue", "Semaphore", "BoundedSemaphore", "Timeout"]
    before = {(module.__name__, name): getattr(module, name, None) for module in (asyncio, asyncio.queues, asyncio.locks, asyncio.timeouts) for name in names}
    run_program("seed.py")  # fails with an ExceptionGroup
    after = {(module.__name__, name): getattr(module, name, None) for module in (asyncio, asyncio.queues, asyncio.locks, asyncio.timeouts) for name in names}
    assert after == before
    assert asyncio.Queue.__module__ == "asyncio.queues"


def test_the_probed_classes_read_like_asyncio_s_own() -> None:
    probes = Probes()
    with probes.installed():
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=2)
        semaphore = asyncio.BoundedSemaphore(3)
        assert type(queue) is not compat.Queue
        line = sys._getframe().f_lineno + 1
        assert isinstance(queue, compat.Queue) and isinstance(asyncio.LifoQueue(), asyncio.Queue)
        assert isinstance(semaphore, asyncio.Semaphore)
        assert type(queue).__name__ == "Queue" and repr(queue).startswith("<Queue at ")
        assert repr(semaphore).endswith("[unlocked, value:3]>")
        with pytest.raises(ValueError, match="released too many times"):
            semaphore.release()
    assert [q.name for q in probes.snapshot().queues] == ["queue", f"test_probes.py:{line}"]  # the second is not assigned


def test_a_queue_that_is_shut_down_immediately_discards_its_items() -> None:
    probes = Probes()

    async def main() -> None:
        backlog = asyncio.Queue()
        for item in range(4):
            backlog.put_nowait(item)
        await backlog.get()
        backlog.shutdown(immediate=True)

    with probes.installed(), asyncio.Runner(loop_factory=lambda: probes.attach(VirtualTimeLoop())) as runner:
        runner.run(main())
        (backlog,) = probes.snapshot().queues
    assert (backlog.name, backlog.put, backlog.got, backlog.discarded, backlog.qsize) == ("backlog", 4, 1, 3, 0)


def test_json_is_plain_numbers_and_names() -> None:
    import json

    snapshot = run_program("fixed.py").snapshot
    assert snapshot is not None
    data = json.loads(json.dumps(to_dict(snapshot)))
    assert data["queues"][0]["name"] == "queue" and data["queues"][0]["put"] == 6
    assert set(data) == {"time", "queues", "semaphores", "timeouts", "tasks"}
    assert data["tasks"] == {"running": 0, "waiting": 0, "done": 5, "cancelled": 0, "failed": 0, "created": 5}


def test_live_snapshots_see_blocked_putters_and_waiters() -> None:
    probes = Probes()
    seen: list[ProgramSnapshot] = []

    async def main() -> None:
        jobs = asyncio.Queue(maxsize=1)
        slots = asyncio.Semaphore(1)

        async def put_two() -> None:
            await jobs.put(1)
            await jobs.put(2)

        async def hold() -> None:
            async with slots:
                await asyncio.sleep(1)

        async with asyncio.TaskGroup() as group:
            group.create_task(put_two())
            group.create_task(hold())
            group.create_task(hold())
            await asyncio.sleep(0.5)
            seen.append(probes.snapshot())
            await jobs.get()
            await jobs.get()

    with probes.installed(), asyncio.Runner(loop_factory=lambda: probes.attach(VirtualTimeLoop())) as runner:
        runner.run(main())
        seen.append(probes.snapshot())
    middle, end = seen
    assert (middle.queues[0].qsize, middle.queues[0].blocked_putters) == (1, 1)
    assert (middle.semaphores[0].held, middle.semaphores[0].waiters) == (1, 1)
    # at t=0.5: main is running (it takes the snapshot), put_two and both hold()s wait
    assert (middle.tasks.running, middle.tasks.waiting) == (1, 3)
    assert end.queues[0].putters_blocked_seconds == pytest.approx(0.5)
    assert end.semaphores[0].wait_seconds == pytest.approx(1.0)
    assert end.time == pytest.approx(2.0)


# -- the dashboard and the summary ------------------------------------------------------------------


def _busy_moment() -> ProgramSnapshot:
    """A moment of a busy program, made by hand: every state a row can show."""
    from bpsim.probes import QueueStats, SemaphoreStats, TaskCounts, TimeoutStats

    def queue(name: str, maxsize: int, qsize: int, putters: int = 0, getters: int = 0, max_qsize: int = 0) -> QueueStats:
        return QueueStats(name, "Queue", "pipeline.py:31", maxsize, qsize, putters, getters, 40, 38, 0, max_qsize or qsize, 1.5, 2.25, 3.5, putters)

    return ProgramSnapshot(
        time=12.5,
        queues=(
            queue("queue", 2, 2, putters=1),
            queue("self.inbox", 10, 3),
            queue("events", 0, 7, max_qsize=14),
            queue("kinds.py:24#2", 5, 0, getters=3),
            queue("a_name_much_longer_than_sixteen_cells", 4, 4, putters=12),
        ),
        semaphores=(SemaphoreStats("limiter", "Semaphore", "pipeline.py:32", 3, 3, 2, 3, 4, 1.75), SemaphoreStats("db", "BoundedSemaphore", "db.py:5", 40, 12, 0, 40, 9, 0.0)),
        timeouts=(TimeoutStats("deadline", "pipeline.py:40", 9, 2, 1),),
        tasks=TaskCounts(running=1, waiting=6, done=30, cancelled=2, failed=1),
    )


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_dashboard_golden(lang: str) -> None:
    from bpsim.i18n import set_language
    from bpsim.render.program import program_dashboard
    from tests.golden import assert_golden
    from tests.render import render

    set_language(lang)
    text = render(program_dashboard(_busy_moment(), "pipeline.py"), width=80)
    assert_golden(f"program_dashboard_{lang}_80", text)
    assert max(len(line) for line in text.splitlines()) <= 80


def test_dashboard_colours_golden() -> None:
    # FULL on the alarm style, blocked putters in bpsim.bad.strong, waiters in warn: named styles only.
    from bpsim.render.program import program_dashboard
    from tests.golden import assert_golden
    from tests.render import render

    assert_golden("program_dashboard_light_80", render(program_dashboard(_busy_moment(), "pipeline.py"), width=80, look="light"))


def test_dashboard_keeps_to_its_height_with_many_queues() -> None:
    from dataclasses import replace

    from bpsim.render.program import program_dashboard
    from tests.render import render

    many = replace(_busy_moment(), queues=_busy_moment().queues * 10)
    lines = render(program_dashboard(many, "pipeline.py", height=24), width=80).splitlines()
    assert len(lines) <= 24
    assert any("… 4" in line and "more" in line for line in lines)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_summary_golden_of_the_fixed_example(lang: str) -> None:
    from bpsim.i18n import set_language
    from bpsim.render.program import program_summary
    from tests.golden import assert_golden
    from tests.render import render

    snapshot = run_program("fixed.py").snapshot
    assert snapshot is not None
    set_language(lang)
    text = render(program_summary(snapshot, "fixed.py"), width=80)
    assert_golden(f"program_summary_fixed_{lang}_80", text)
    if lang == "en":
        row = [line for line in text.splitlines() if line.startswith("queue ")][-1]  # under the header
        assert row.split() == ["queue", "2", "6", "6", "2", "150", "ms", "150", "ms"]


# -- bpsim run FILE.py: the summary, --json, the live dashboard ------------------------------------

EXAMPLES = Path(__file__).parent.parent / "examples"


def _bpsim(*args: str) -> object:
    from bpsim.cli import app
    from tests.helpers import cli_runner

    return cli_runner().invoke(app, list(args))


def test_piped_the_program_s_stdout_is_its_own_and_nothing_else() -> None:
    plain = _bpsim("run", str(EXAMPLES / "handbook.py"))
    assert plain.exit_code == 0  # type: ignore[attr-defined]
    assert "What bpsim saw" not in plain.output  # type: ignore[attr-defined]
    assert plain.stdout.splitlines()[-1] == "worker-2 shutdown"  # type: ignore[attr-defined]


def test_json_gives_what_the_probes_saw_and_the_printed_lines(tmp_path: Path) -> None:
    import json

    out = tmp_path / "run.json"
    to_file = _bpsim("run", str(EXAMPLES / "handbook.py"), "--json", str(out))
    to_stdout = _bpsim("run", str(EXAMPLES / "handbook.py"), "--json", "-")
    plain = _bpsim("run", str(EXAMPLES / "handbook.py"))
    assert to_file.stdout == plain.stdout  # type: ignore[attr-defined]  # --json FILE: stdout unchanged
    data = json.loads(to_stdout.stdout)  # type: ignore[attr-defined]  # --json -: the JSON alone
    assert data == json.loads(out.read_text())
    assert [line["text"] for line in data["printed"]] == plain.stdout.splitlines()  # type: ignore[attr-defined]
    (queue,) = data["queues"]
    assert (queue["name"], queue["maxsize"], queue["put"], queue["got"], queue["max_qsize"]) == ("queue", 2, 6, 6, 2)
    assert queue["full_seconds"] == pytest.approx(0.15) and queue["putters_blocked_seconds"] == pytest.approx(0.15)
    assert (data["exit_code"], data["tasks"]["done"]) == (0, 5)


def test_json_of_the_race_keeps_the_exit_code_and_the_traceback_on_stderr() -> None:
    import json

    ran = _bpsim("run", str(EXAMPLES / "handbook-race.py"), "--json", "-")
    assert ran.exit_code == 1  # type: ignore[attr-defined]
    data = json.loads(ran.stdout)  # type: ignore[attr-defined]
    assert (data["exit_code"], data["queues"][0]["put"], data["tasks"]["failed"]) == (1, 0, 2)
    assert "QueueShutDown" in ran.stderr  # type: ignore[attr-defined]


def test_json_may_not_overwrite_the_program_nor_share_stdout(tmp_path: Path) -> None:
    program = tmp_path / "mine.py"
    program.write_text((EXAMPLES / "handbook.py").read_text())
    before = program.read_text()
    refused = _bpsim("run", str(program), "--json", str(program))
    assert refused.exit_code == 2 and program.read_text() == before  # type: ignore[attr-defined]
    assert _bpsim("run", str(program), "--json", "-", "--trace").exit_code == 2  # type: ignore[attr-defined]


def test_on_a_terminal_the_summary_follows_the_program_s_output(monkeypatch: pytest.MonkeyPatch) -> None:
    from bpsim import cli

    plain = _bpsim("run", str(EXAMPLES / "handbook.py"))
    monkeypatch.setattr(cli, "_interactive", lambda console: True)
    shown = _bpsim("run", str(EXAMPLES / "handbook.py"), "--no-live")
    assert shown.stdout.startswith(plain.stdout)  # type: ignore[attr-defined]
    summary = shown.stdout[len(plain.stdout) :].splitlines()  # type: ignore[attr-defined]
    assert summary[1] == "What bpsim saw in handbook.py (t = 450 ms)"
    assert [line.split() for line in summary if line.startswith("queue ")][-1] == ["queue", "2", "6", "6", "2", "150", "ms", "150", "ms"]


def test_a_scenario_run_is_unchanged_by_the_probes() -> None:
    import asyncio

    before = asyncio.Queue
    ran = _bpsim("run", "burst", "--no-live", "--json", "-")
    assert ran.exit_code == 0 and '"queues"' not in ran.stdout  # type: ignore[attr-defined]
    assert asyncio.Queue is before


def test_live_dashboard_in_a_terminal() -> None:
    from tests.terminal import exit_code_and_sane_terminal, spawn_bpsim

    child = spawn_bpsim("run examples/handbook.py --speed 10")
    child.expect("worker-0 handled 0")  # the program's lines, above the dashboard
    child.expect("■ finished")
    child.expect(r"What bpsim saw in handbook\.py \(t = 450 ms\)")
    code, sane = exit_code_and_sane_terminal(child)
    assert code == "0" and sane


def test_a_program_s_own_queue_subclass_runs_as_it_would_without_probes() -> None:
    # A subclass that keeps its own storage and never calls Queue._init: not seen, but unharmed.
    probes = Probes()

    class Stack(asyncio.Queue):  # type: ignore[type-arg]
        def _init(self, maxsize: int) -> None:
            self._queue = []

    async def main() -> list[int]:
        mine = asyncio.Queue()

        class Mailbox(asyncio.Queue):  # type: ignore[type-arg]  # made during the run: subclasses the probed one
            def __init__(self) -> None:
                super().__init__(maxsize=1)

        box = Mailbox()
        await box.put(1)
        await mine.put(2)
        return [box.qsize(), mine.qsize(), (await box.get()) + (await mine.get())]

    with probes.installed(), asyncio.Runner(loop_factory=lambda: probes.attach(VirtualTimeLoop())) as runner:
        assert runner.run(main()) == [1, 1, 3]
        Stack().put_nowait(1)  # a subclass made before the run: asyncio's own Queue, untouched
    names = [(queue.name, queue.kind, queue.put, queue.got) for queue in probes.snapshot().queues]
    # Mailbox's own __init__ is skipped: it is named where it was made, `box = Mailbox()`
    assert names == [("mine", "Queue", 1, 1), ("box", "Mailbox", 1, 1)]


def test_ctrl_c_under_the_live_dashboard_still_prints_the_summary() -> None:
    from tests.terminal import exit_code_and_sane_terminal, spawn_bpsim

    child = spawn_bpsim("run examples/handbook.py --speed 0.05")  # 0.45 simulated s take 9 s
    child.expect("enqueued 4 qsize after: 2")  # t=0: the producer now waits to put item 5
    child.sendintr()
    child.expect("■ interrupted")  # the final frame says how the run ended
    child.expect(r"What bpsim saw in handbook\.py \(t = 0 ms\)")
    # as it was at Ctrl-C (not after asyncio.run cancelled them): main, the producer and the 3 workers wait
    child.expect("tasks: 5 created · 0 done · 0 cancelled · 0 failed · 5 still pending")
    code, sane = exit_code_and_sane_terminal(child)
    assert code == "130" and sane


def test_a_stalled_program_is_summarised_at_the_stop() -> None:
    import json

    ran = _bpsim("run", str(EXAMPLES / "forgot-shutdown.py"), "--json", "-")
    assert ran.exit_code == 2  # type: ignore[attr-defined]  # the stall, reported on stderr
    data = json.loads(ran.stdout)  # type: ignore[attr-defined]
    # 4 items put and got by t=0.3; at the stall main waits in join() and both workers in get()
    # (asyncio.run's clean-up, which then cancels them, is bpsim's, not the program's)
    assert (data["time"], data["queues"][0]["put"], data["queues"][0]["got"]) == (pytest.approx(0.3), 4, 4)
    assert data["tasks"] == {"running": 0, "waiting": 3, "done": 0, "cancelled": 0, "failed": 0, "created": 3}


def _probe_source(tmp_path: Path, source: str, **options: object) -> tuple[ProgramSnapshot, object]:
    from bpsim.probes import ProbesObserver
    from bpsim.program import run_program as run

    program = tmp_path / "prog.py"
    program.write_text(source)
    observer = ProbesObserver()
    result = run(str(program), observers=[observer], echo=False, **options)  # type: ignore[arg-type]
    assert observer.final is not None
    return observer.final, result


def test_tasks_main_cancels_just_before_it_returns_are_counted(tmp_path: Path) -> None:
    # They end in main's last step, before their own done callbacks run: still counted, cancelled.
    source = """import asyncio
async def w(): await asyncio.sleep(1)
async def main():
    ts = [asyncio.create_task(w()) for i in range(2)]
    await asyncio.sleep(0.1)
    for t in ts: t.cancel()
asyncio.run(main())
"""
    final, _ = _probe_source(tmp_path, source)
    assert (final.tasks.created, final.tasks.done, final.tasks.cancelled) == (3, 1, 2)


def test_a_program_stopped_at_max_duration_is_summarised_as_it_was(tmp_path: Path) -> None:
    source = """import asyncio
async def tick():
    while True: await asyncio.sleep(1)
async def main():
    await asyncio.gather(tick(), tick())
asyncio.run(main())
"""
    final, result = _probe_source(tmp_path, source, max_duration=5.0)
    assert result.stopped_by is not None  # type: ignore[attr-defined]
    # main waits in gather(), both ticks in sleep(): none cancelled, as at the stop
    assert (final.time, final.tasks.waiting, final.tasks.cancelled) == (5.0, 3, 0)


def test_every_line_the_program_writes_stays_above_the_live_dashboard() -> None:
    import pexpect

    from tests.terminal import screen_lines, spawn_bpsim

    program = Path(__file__).parent / "data" / "probes" / "logging_workers.py"
    child = spawn_bpsim(f"run {program} --speed 10")  # 0.8 simulated s in 80 ms, redrawn between lines
    child.expect(pexpect.EOF)
    screen = screen_lines(child.before)
    # python3 prints these (logging and print(file=sys.stderr) to stderr, "all done" to stdout)
    handled = [f"INFO w{i % 2} handled {i}" for i in range(8)]
    expected = [f"INFO queued {i}" for i in range(5)] + handled[:2] + ["INFO queued 5", "INFO queued 6"]
    expected += handled[2:4] + ["INFO queued 7"] + handled[4:] + ["all done", "and one to stderr"]
    written = [line for line in screen if line.startswith(("INFO", "all done", "and one"))]
    assert written == expected
    # the frame drawn under each line shows the line's moment: item i is handled at 0.2 s × (i // 2 + 1)
    for i in range(8):
        after = child.before[child.before.index(handled[i]) :]
        assert re.search(r"t = (\d+) ms", after).group(1) == str(200 * (i // 2 + 1))  # type: ignore[union-attr]
    # one dashboard (the final frame) and no stranded pieces of earlier ones
    assert sum("╭─ queues" in line for line in screen) == 1
    assert sum("logging_workers.py " in line and ("▶" in line or "■" in line) for line in screen) == 1


def test_keys_in_the_program_s_dashboard_pause_and_quit() -> None:
    from tests.terminal import exit_code_and_sane_terminal, spawn_bpsim

    child = spawn_bpsim("run examples/handbook.py --speed 0.05")  # 0.45 simulated s take 9 s
    child.expect("enqueued 4 qsize after: 2")
    child.send(" ")
    child.expect("⏸ paused")
    child.send("+")  # one step up from ×0.05, shown in the header
    child.expect("speed ×0.10")
    child.send(" ")
    child.expect("▶ running")
    child.send("q")  # as for a scenario: the program stops, the summary follows, exit code 0
    child.expect("■ stopped")
    child.expect(r"What bpsim saw in handbook\.py")
    code, sane = exit_code_and_sane_terminal(child)
    assert code == "0" and sane
    assert "interrupted at" not in child.before
