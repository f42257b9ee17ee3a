"""VirtualTimeLoop: virtual time, FIFO ties, stall detection, pacing, the stock order of callbacks."""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import platform
import random
import selectors
import time

import pytest

from bpsim.clock import MAX_SPEED_FRAME_SHARE, PRIVATE_NAMES, Pacing, VirtualTimeLoop, missing_private_names
from bpsim.errors import Stalled, UnsupportedPython


def run_on_virtual_time(coroutine_function, pacing: Pacing | None = None):
    with asyncio.Runner(loop_factory=lambda: VirtualTimeLoop(pacing)) as runner:
        return runner.run(coroutine_function())


def test_sleep_advances_virtual_time_without_waiting():
    async def main():
        await asyncio.sleep(3600)
        return asyncio.get_running_loop().time()

    assert run_on_virtual_time(main) == 3600.0


def test_timers_due_at_the_same_instant_fire_in_scheduling_order():
    order: list[int] = []

    async def sleeper(number: int, decoy: float) -> None:
        await asyncio.sleep(decoy)  # decoys reshape the heap, as other timers do in a real run
        await asyncio.sleep(1.0 - decoy)
        order.append(number)

    async def main():
        async with asyncio.TaskGroup() as group:
            for number in range(10):
                group.create_task(sleeper(number, decoy=0.0))
            for number in range(10, 20):
                group.create_task(sleeper(number, decoy=0.5))

    run_on_virtual_time(main)
    assert order == list(range(20))


def test_a_call_that_takes_exactly_the_timeout_counts_as_timed_out():
    async def main():
        try:
            async with asyncio.timeout(2.0):
                await asyncio.sleep(2.0)
        except TimeoutError:
            return "timed out"
        return "finished"

    assert run_on_virtual_time(main) == "timed out"


def test_waiting_forever_raises_stalled_instead_of_hanging():
    async def main():
        await asyncio.sleep(0.3)
        await asyncio.get_running_loop().create_future()  # nobody will ever set it

    with pytest.raises(Stalled, match=r"^t=0\.300000: every task waits and no timer is pending"):
        run_on_virtual_time(main)


def test_clock_resolution_is_set_explicitly():
    loop = VirtualTimeLoop()
    try:
        assert loop._clock_resolution == 1e-9
    finally:
        loop.close()


def test_a_paced_run_executes_the_same_steps_as_an_unpaced_one():
    def trace(pacing: Pacing | None) -> list[tuple[float, int]]:
        log: list[tuple[float, int]] = []

        async def ticker(number: int) -> None:
            for _ in range(5):
                await asyncio.sleep(0.01 * (number + 1))
                log.append((asyncio.get_running_loop().time(), number))

        async def main():
            async with asyncio.TaskGroup() as group:
                for number in range(3):
                    group.create_task(ticker(number))

        run_on_virtual_time(main, pacing)
        return log

    frames: list[float] = []
    paced = trace(Pacing(speed=10.0, fps=50, on_frame=frames.append))
    assert paced == trace(None)
    assert frames, "a paced run draws frames while it waits"
    assert frames == sorted(frames), "frames show time moving forward"


def test_pacing_maps_virtual_seconds_to_wall_seconds_by_speed():
    async def main():
        await asyncio.sleep(1.0)

    wall_start = time.monotonic()
    run_on_virtual_time(main, Pacing(speed=10.0))
    # 1 virtual second at speed 10 takes about 0.1 wall seconds; never less.
    assert time.monotonic() - wall_start >= 0.1


def test_the_clock_polls_real_file_descriptors_only_now_and_then(monkeypatch):
    # A system call per clock jump (or per iteration) would cost more than the step it precedes.
    import selectors

    polls: list[float | None] = []
    real_select = selectors.DefaultSelector.select

    def counting_select(self, timeout=None):
        polls.append(timeout)
        return real_select(self, timeout)

    monkeypatch.setattr(selectors.DefaultSelector, "select", counting_select)

    async def main():
        for _ in range(1000):
            await asyncio.sleep(0.5)
            await asyncio.sleep(0)  # work ready at the same instant

    run_on_virtual_time(main)
    assert 0 < len(polls) <= 1000 // 256 + 2
    assert set(polls) == {0}, "a poll never blocks"


def test_debug_mode_runs_the_same_steps_with_asyncios_own_handles():
    # Outside debug mode the loop builds lighter handles; debug mode must keep asyncio's checks.
    def order(debug: bool) -> list[tuple[float, int]]:
        log: list[tuple[float, int]] = []

        async def sleeper(number: int) -> None:
            for delay in (0.5, 0.25, 0.0, 1.0):
                await asyncio.sleep(delay)
                log.append((asyncio.get_running_loop().time(), number))

        async def main() -> None:
            asyncio.get_running_loop().set_debug(debug)
            async with asyncio.TaskGroup() as group:
                for number in range(4):
                    group.create_task(sleeper(number))

        run_on_virtual_time(main)
        return log

    assert order(debug=True) == order(debug=False)


def test_timeouts_that_were_not_needed_do_not_pile_up_in_the_timer_heap():
    heap_sizes: list[int] = []

    async def main():
        loop = asyncio.get_running_loop()
        for _ in range(2000):
            async with asyncio.timeout(60.0):  # never fires: cancelled on the way out
                await asyncio.sleep(0.01)
            heap_sizes.append(len(loop._scheduled))

    run_on_virtual_time(main)
    assert max(heap_sizes) < 250


def frames_drawn(monkeypatch, speed: float | None, frame_seconds: float) -> list[float]:
    """Wall times of the frames a Pacing draws when asked every millisecond for 2 wall seconds."""
    wall = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: wall[0])
    drawn: list[float] = []

    def draw(shown_at: float) -> None:
        drawn.append(wall[0])
        wall[0] += frame_seconds

    pacing = Pacing(speed, fps=10.0, on_frame=draw)
    while wall[0] < 2.0:
        pacing.frame(0.0)
        wall[0] += 0.001
    return drawn


def test_at_max_speed_drawing_takes_at_most_its_share_of_the_run(monkeypatch):
    drawn = frames_drawn(monkeypatch, speed=None, frame_seconds=0.010)
    assert len(drawn) * 0.010 <= MAX_SPEED_FRAME_SHARE * 2.0 + 0.010
    assert min(b - a for a, b in zip(drawn, drawn[1:])) >= 0.010 / MAX_SPEED_FRAME_SHARE


def test_cheap_frames_still_come_at_the_frame_rate_at_max_speed_the_first_after_half_a_second(monkeypatch):
    drawn = frames_drawn(monkeypatch, speed=None, frame_seconds=0.001)
    assert drawn[0] == pytest.approx(0.5) and len(drawn) == 15  # a shorter run draws only its final frame


def test_paced_frames_come_at_the_frame_rate_whatever_they_cost(monkeypatch):
    assert len(frames_drawn(monkeypatch, speed=10.0, frame_seconds=0.010)) == 20


# -- the fast paths keep the stock loop's order of callbacks ----------------------------------------
#
# Outside debug mode VirtualTimeLoop builds and runs its handles itself, sets a fired sleep's future
# in place, answers get_debug and create_future in C and runs many instants per `_run_once`. The
# reference below is the stock loop itself (asyncio's `_run_once`, handles and `call_later`) on a
# virtual clock: its selector jumps the clock to the next timer instead of waiting, and its timers
# tie first-scheduled first, which is the one difference VirtualTimeLoop means to make.


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self, loop: StockLoopOnVirtualTime) -> None:
        super().__init__()
        self.loop = loop

    def select(self, timeout=None):
        if timeout is None:
            raise Stalled("the reference loop stalled")
        if timeout > 0:
            self.loop.now = max(self.loop.now, self.loop._scheduled[0]._when)
        return super().select(0)


class _FifoTimer(asyncio.TimerHandle):
    __slots__ = ("seq",)

    def __lt__(self, other):
        return (self._when, self.seq) < (other._when, other.seq)


class StockLoopOnVirtualTime(asyncio.SelectorEventLoop):
    """asyncio's own loop, untouched but for its clock and its ties: the order to keep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.seq = itertools.count()
        super().__init__(selector=_JumpingSelector(self))
        self._clock_resolution = 1e-9

    def time(self) -> float:
        return self.now

    def call_at(self, when, callback, *args, context=None):
        self._check_closed()
        timer = _FifoTimer(when, callback, args, self, context)
        timer.seq = next(self.seq)
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer


def busy_program(log: list[tuple[float, str]]):
    """Tasks, timers, queues, semaphores, timeouts, cancellations and plain callbacks, interleaved.

    Delays are multiples of 0.25 s, so many things happen at the same instant: sleeps ending,
    deadlines passing, plain timers and `call_later(0)` firing, and callbacks scheduling more.
    """
    rng = random.Random(3)
    who: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="main")

    def note(what: str) -> None:
        log.append((asyncio.get_running_loop().time(), what))

    def callback(name: str, depth: int) -> None:
        note(f"callback {name} in {who.get()}'s context")  # a copy of its scheduler's context
        if depth:
            loop = asyncio.get_running_loop()
            loop.call_soon(callback, f"{name}'", depth - 1)
            loop.call_later(0, callback, f"{name}^", depth - 1)

    def fails() -> None:
        note("fails")
        raise ValueError("a callback's own bug")

    async def sleeper(name: str) -> None:
        loop = asyncio.get_running_loop()
        who.set(name)
        for step in range(8):
            await asyncio.sleep(rng.randrange(3) / 4)  # its timer has no copy of this context
            note(f"{name} step {step} in {who.get()}'s context")
            loop.call_soon(callback, f"{name}.{step}", step % 3)
            loop.call_later(rng.randrange(3) / 4, callback, f"{name}.{step} later", 1)

    async def consumer(name: str, queue: asyncio.Queue[int], limit: asyncio.Semaphore) -> None:
        while True:
            item = await queue.get()
            async with limit:
                try:
                    async with asyncio.timeout(rng.randrange(1, 4) / 4):
                        await asyncio.sleep(rng.randrange(4) / 4)
                    note(f"{name} done {item}")
                except TimeoutError:
                    note(f"{name} timed out {item}")
            queue.task_done()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda loop, context: note(f"handler: {context['message'].split(' at ')[0]}"))
        queue: asyncio.Queue[int] = asyncio.Queue(3)
        limit = asyncio.Semaphore(2)
        consumers = [asyncio.create_task(consumer(f"c{n}", queue, limit)) for n in range(3)]
        sleepers = [asyncio.create_task(sleeper(f"s{n}")) for n in range(4)]
        loop.call_soon(fails)
        loop.call_later(0.5, callback, "timer", 2)
        doomed = asyncio.create_task(asyncio.sleep(10))
        loop.call_later(1.0, doomed.cancel)
        for item in range(20):
            await queue.put(item)
            note(f"put {item}")
            await asyncio.sleep(rng.randrange(2) / 4)
        await queue.join()
        await asyncio.gather(*sleepers)
        for task in (*consumers, doomed):
            task.cancel()
        await asyncio.gather(*consumers, doomed, return_exceptions=True)
        note("end")

    return main


def traced(loop_factory, debug: bool = False) -> list[tuple[float, str]]:
    log: list[tuple[float, str]] = []
    with asyncio.Runner(loop_factory=loop_factory, debug=debug) as runner:
        runner.run(busy_program(log)())
    return log


def test_the_fast_paths_run_every_callback_in_the_stock_loops_order():
    reference = traced(StockLoopOnVirtualTime)
    assert len(reference) > 250 and any(what.startswith("handler: Exception in callback") for _, what in reference)
    assert any("timed out" in what for _, what in reference) and any("done" in what for _, what in reference)
    assert traced(VirtualTimeLoop) == reference
    assert traced(VirtualTimeLoop, debug=True) == reference  # debug mode: the stock handles


def test_a_failing_callback_is_reported_as_the_stock_loop_reports_it():
    def fails(number: int) -> None:
        raise ValueError(number)

    def report(loop_class) -> tuple[str, object, bool]:
        loop = loop_class()
        seen: list[dict] = []
        loop.set_exception_handler(lambda loop, context: seen.append(context))
        handle = loop.call_soon(fails, 7)
        loop.call_soon(loop.stop)
        loop.run_forever()
        loop.close()
        (context,) = seen
        return context["message"], context["exception"].args, context["handle"] is handle

    assert report(VirtualTimeLoop) == report(asyncio.SelectorEventLoop)


def test_a_sleep_cancelled_at_the_instant_it_ends_stays_cancelled():
    # The fired timer sets the sleep's future "unless cancelled", as futures._set_result_unless_cancelled.
    def outcome(debug: bool) -> tuple[str, list]:
        errors: list = []

        async def main():
            loop = asyncio.get_running_loop()
            loop.set_exception_handler(lambda loop, context: errors.append(context))
            sleeper = asyncio.create_task(asyncio.sleep(1.0))
            # Due with the sleep's timer and scheduled before it (the task has not started yet), so
            # it cancels the sleep's future just before the timer fires.
            loop.call_at(1.0, sleeper.cancel)
            try:
                await sleeper
            except asyncio.CancelledError:
                return "cancelled"
            return "finished"

        with asyncio.Runner(loop_factory=VirtualTimeLoop, debug=debug) as runner:
            return runner.run(main()), errors

    assert outcome(debug=False) == outcome(debug=True) == ("cancelled", [])


def test_stop_returns_from_run_forever_where_the_stock_loop_does():
    def run(loop_class) -> list[tuple[float, str]]:
        loop = loop_class()
        log: list[tuple[float, str]] = []
        for when in (3.0, 5.0, 7.0):
            loop.call_at(when, lambda when=when: log.append((loop.time(), f"timer {when}")))
        loop.call_at(5.0, loop.stop)
        loop.call_at(5.0, lambda: loop.call_soon(log.append, (loop.time(), "soon after stop")))
        loop.run_forever()
        log.append((loop.time(), "returned"))
        loop.call_soon(loop.stop)
        loop.run_forever()
        log.append((loop.time(), "returned again"))
        loop.close()
        return log

    assert run(VirtualTimeLoop) == run(StockLoopOnVirtualTime)


def test_a_run_of_many_instants_returns_to_run_forever_only_to_stop(monkeypatch):
    iterations = []
    real_run_once = VirtualTimeLoop._run_once
    monkeypatch.setattr(VirtualTimeLoop, "_run_once", lambda self: iterations.append(1) or real_run_once(self))

    async def main():
        for _ in range(1000):
            await asyncio.sleep(0.5)
        return asyncio.get_running_loop().time()

    assert run_on_virtual_time(main) == 500.0
    assert len(iterations) < 10  # the stock loop would take over 2000 iterations


def test_get_debug_and_create_future_answer_as_the_stock_methods_do():
    loop = VirtualTimeLoop()
    try:
        assert loop.get_debug() is False
        future = loop.create_future()
        assert type(future) is asyncio.Future and future.get_loop() is loop
        assert future._source_traceback is None
        loop.set_debug(True)
        assert loop.get_debug() is True
        assert loop.create_future()._source_traceback  # the C Future asked get_debug()
        loop.set_debug(False)
        assert loop.get_debug() is False and loop.create_future()._source_traceback is None
    finally:
        loop.close()


def test_a_sleep_keeps_its_tasks_context_though_its_timer_does_not_copy_it():
    seen = []
    name: contextvars.ContextVar[str] = contextvars.ContextVar("name", default="none")

    async def sleeper(who: str) -> None:
        name.set(who)
        await asyncio.sleep(1.0)
        seen.append((asyncio.get_running_loop().time(), name.get()))
        asyncio.get_running_loop().call_later(0.5, lambda: seen.append(("later", name.get())))
        await asyncio.sleep(1.0)

    async def main() -> None:
        await asyncio.gather(sleeper("a"), sleeper("b"))

    run_on_virtual_time(main)
    assert seen == [(1.0, "a"), (1.0, "b"), ("later", "a"), ("later", "b")]


def test_handles_built_without_init_have_every_field_a_handle_has():
    loop = VirtualTimeLoop()
    try:
        context = contextvars.copy_context()
        soon = loop.call_soon(print, "x", context=context)
        later = loop.call_later(2.0, print, "y")
        at = loop.call_at(3.0, print, "z")
        for handle, stock in ((soon, asyncio.Handle), (later, asyncio.TimerHandle), (at, asyncio.TimerHandle)):
            assert isinstance(handle, stock)
            assert all(hasattr(handle, name) for name in PRIVATE_NAMES["asyncio.Handle"])
            assert "print" in repr(handle) and not handle.cancelled()
        assert soon._context is context and later.when() == 2.0 and at.when() == 3.0
        at.cancel()
        assert at.cancelled() and loop._timer_cancelled_count == 1
    finally:
        loop.close()


# -- the private asyncio names -----------------------------------------------------------------------


def test_every_private_name_the_clock_relies_on_exists_on_this_python():
    loop = VirtualTimeLoop()
    try:
        assert missing_private_names(loop) == []
    finally:
        loop.close()


def test_a_missing_private_name_fails_loudly_naming_the_python_version(monkeypatch):
    monkeypatch.delattr(asyncio.futures, "_set_result_unless_cancelled")
    with pytest.raises(UnsupportedPython) as raised:
        VirtualTimeLoop()
    message = str(raised.value)
    assert f"Python {platform.python_version()}" in message
    assert "asyncio.futures._set_result_unless_cancelled" in message


def test_a_run_forever_that_no_longer_calls_run_once_fails_loudly(monkeypatch):
    def run_forever(self):  # a future asyncio that iterates some other way
        while not self._stopping:
            self._iterate()

    monkeypatch.setattr(asyncio.BaseEventLoop, "run_forever", run_forever)
    with pytest.raises(UnsupportedPython, match="run_forever calling _run_once"):
        VirtualTimeLoop()
