"""The probes: a user program's queues, semaphores, timeouts and tasks, seen without changing it.

The programs are in tests/data/probes/: the handbook's example verbatim (`seed.py`), the same with
`queue.join()` after the producer (`fixed.py`), and `kinds.py` (every kind, every way of naming).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import runpy
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from bpsim import compat
from bpsim.clock import VirtualTimeLoop
from bpsim.probes import ProgramSnapshot, Probes, to_dict

PROGRAMS = Path(__file__).parent / "data" / "probes"


@dataclass
class Ran:
    stdout: str
    error: str
    """The program's uncaught exception as Python prints it ("" if none)."""
    snapshot: ProgramSnapshot | None


def run_program(name: str, monkeypatch: pytest.MonkeyPatch, *, probed: bool = True) -> Ran:
    """Run tests/data/probes/NAME on a VirtualTimeLoop as `bpsim run` does: asyncio.run's loop is
    virtual, and on 3.11 asyncio has the backport's queues and QueueShutDown. The snapshot is taken when the
    program's main coroutine ends (before asyncio.run's own clean-up tasks)."""
    probes = Probes() if probed else None
    snapshots: list[ProgramSnapshot] = []

    def run(main: object) -> object:
        factory = (lambda: probes.attach(VirtualTimeLoop())) if probes is not None else VirtualTimeLoop
        with asyncio.Runner(loop_factory=factory) as runner:
            try:
                return runner.run(main)  # type: ignore[arg-type]
            finally:
                if probes is not None:
                    snapshots.append(probes.snapshot())

    monkeypatch.setattr(asyncio, "run", run)
    if not hasattr(asyncio, "QueueShutDown"):  # 3.11, 3.12: the backport, as the runner gives it
        monkeypatch.setattr(asyncio, "QueueShutDown", compat.QueueShutDown, raising=False)
        for kind in ("Queue", "PriorityQueue", "LifoQueue"):
            monkeypatch.setattr(asyncio, kind, getattr(compat, kind))
    stdout, error = io.StringIO(), ""
    with contextlib.redirect_stdout(stdout), probes.installed() if probes is not None else contextlib.nullcontext():
        try:
            runpy.run_path(str(PROGRAMS / name), run_name="__main__")
        except BaseException as exc:  # noqa: BLE001 - the program's own exception is what we compare
            error = "".join(traceback.format_exception(exc))
    return Ran(stdout.getvalue(), error, snapshots[-1] if snapshots else None)


@pytest.mark.parametrize("name", ["seed.py", "fixed.py", "kinds.py"])
def test_the_program_prints_and_fails_exactly_as_without_probes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = run_program(name, monkeypatch, probed=False)
    probed = run_program(name, monkeypatch)
    assert probed.stdout == plain.stdout
    assert probed.error == plain.error
    assert "bpsim/probes.py" not in probed.error


def test_the_seed_traceback_goes_through_queue_put_and_put_nowait_only(monkeypatch: pytest.MonkeyPatch) -> None:
    ran = run_program("seed.py", monkeypatch)
    frames = [line.split(", in ")[-1] for line in ran.error.splitlines() if line.strip(" |").startswith("File ")]
    assert frames[frames.index("producer") :] == ["producer", "put", "put_nowait"]
    assert ran.error.splitlines()[-2].endswith("QueueShutDown")


def test_the_seed_example_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The handbook's example verbatim: main() reaches `await queue.join()` before the producer has
    # run at all, so the queue has no unfinished task, join() returns at once and main shuts the
    # queue down at t=0. The producer's first put raises QueueShutDown; the workers, waiting in
    # get(), end with "shutdown". Nothing was ever put: put 0, got 0, max qsize 0, never full.
    # Tasks: main and the producer failed (the producer's QueueShutDown, main's ExceptionGroup),
    # the 3 workers ended normally.
    snapshot = run_program("seed.py", monkeypatch).snapshot
    assert snapshot is not None
    (queue,) = snapshot.queues
    assert (queue.name, queue.kind, queue.created_at, queue.maxsize) == ("queue", "Queue", "seed.py:30", 2)
    assert (queue.put, queue.got, queue.max_qsize, queue.full_seconds, queue.putters_blocked_seconds) == (0, 0, 0, 0.0, 0.0)
    (limiter,) = snapshot.semaphores
    assert (limiter.name, limiter.size, limiter.max_held, limiter.max_waiters) == ("limiter", 2, 0, 0)
    assert snapshot.time == 0.0
    assert (snapshot.tasks.done, snapshot.tasks.failed, snapshot.tasks.created) == (3, 2, 5)


def test_the_fixed_example_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
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
    snapshot = run_program("fixed.py", monkeypatch).snapshot
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


def test_names_kinds_timeouts_and_task_states(monkeypatch: pytest.MonkeyPatch) -> None:
    ran = run_program("kinds.py", monkeypatch)
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
    # main is still running when asyncio.run returns? No: it has returned, so it is done.
    tasks = snapshot.tasks
    assert (tasks.done, tasks.cancelled, tasks.failed, tasks.running, tasks.waiting) == (1, 1, 1, 0, 0)


def test_asyncio_is_restored_after_the_run_also_after_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio.locks
    import asyncio.queues
    import asyncio.timeouts

    names = ["Queue", "PriorityQueue", "LifoQueue", "Semaphore", "BoundedSemaphore", "Timeout"]
    before = {(module.__name__, name): getattr(module, name, None) for module in (asyncio, asyncio.queues, asyncio.locks, asyncio.timeouts) for name in names}
    run_program("seed.py", monkeypatch)  # fails with an ExceptionGroup
    monkeypatch.undo()  # the 3.11 backport the runner puts in
    after = {(module.__name__, name): getattr(module, name, None) for module in (asyncio, asyncio.queues, asyncio.locks, asyncio.timeouts) for name in names}
    assert after == before
    assert asyncio.Queue.__module__ == "asyncio.queues"


def test_the_probed_classes_read_like_asyncio_s_own(monkeypatch: pytest.MonkeyPatch) -> None:
    probes = Probes()
    with probes.installed():
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=2)
        semaphore = asyncio.BoundedSemaphore(3)
        assert type(queue) is not compat.Queue
        assert isinstance(queue, compat.Queue) and isinstance(asyncio.LifoQueue(), asyncio.Queue)
        assert isinstance(semaphore, asyncio.Semaphore)
        assert type(queue).__name__ == "Queue" and repr(queue).startswith("<Queue at ")
        assert repr(semaphore).endswith("[unlocked, value:3]>")
        with pytest.raises(ValueError, match="released too many times"):
            semaphore.release()
    assert [q.name for q in probes.snapshot().queues] == ["queue", "test_probes.py:177"]  # the second is not assigned


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


def test_json_is_plain_numbers_and_names(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    snapshot = run_program("fixed.py", monkeypatch).snapshot
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
    """A moment of a busy program, by hand: every state a row can show."""
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
def test_summary_golden_of_the_fixed_example(lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from bpsim.i18n import set_language
    from bpsim.render.program import program_summary
    from tests.golden import assert_golden
    from tests.render import render

    snapshot = run_program("fixed.py", monkeypatch).snapshot
    assert snapshot is not None
    set_language(lang)
    text = render(program_summary(snapshot, "fixed.py"), width=80)
    assert_golden(f"program_summary_fixed_{lang}_80", text)
    if lang == "en":
        row = [line for line in text.splitlines() if line.startswith("queue ")][-1]  # under the header
        assert row.split() == ["queue", "2", "6", "6", "2", "150", "ms", "150", "ms"]
