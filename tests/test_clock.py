"""VirtualTimeLoop: virtual time, FIFO ties, stall detection, pacing."""

from __future__ import annotations

import asyncio
import time

import pytest

from bpsim.clock import MAX_SPEED_FRAME_SHARE, Pacing, VirtualTimeLoop
from bpsim.errors import Stalled


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
