"""bpsim.compat's SimulationQueue, the engine's, behaves as the Queue it stands for, step by step
(3.13's; on 3.11 and 3.12 the backport's, whose `put_nowait` and `get_nowait` it replaces with
3.13's own)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from bpsim import compat
from bpsim.clock import VirtualTimeLoop

if sys.version_info >= (3, 13):
    from asyncio import Queue as Reference
else:
    from backports.asyncio.queues import Queue as Reference

assert compat.Queue is Reference  # what a user's program gets, and the reference here


def queue_program(queue_type: type, log: list[tuple[float, str]]):
    """Producers and consumers that wait, time out, are cancelled, find the queue full or empty,
    and meet a graceful and then an immediate shutdown: every step and every exception logged."""

    def note(what: str) -> None:
        log.append((asyncio.get_running_loop().time(), what))

    async def consumer(name: str, queue) -> None:
        while True:
            try:
                item = await queue.get()
            except compat.QueueShutDown:
                note(f"{name} shut down")
                return
            note(f"{name} got {item}")
            await asyncio.sleep(0.25 * (item % 3))
            queue.task_done()

    async def producer(name: str, queue, start: int) -> None:
        for item in range(start, start + 6):
            try:
                queue.put_nowait(item)
                note(f"{name} put_nowait {item}")
            except compat.QueueFull:
                note(f"{name} full at {item}")
                try:
                    async with asyncio.timeout(0.3):
                        await queue.put(item)
                    note(f"{name} put {item} after waiting")
                except TimeoutError:
                    note(f"{name} gave up {item}")
            except compat.QueueShutDown:
                note(f"{name} shut out at {item}")
                return
            await asyncio.sleep(0.25 * (item % 2))

    async def main() -> None:
        queue = queue_type(2)
        try:
            queue.get_nowait()
        except compat.QueueEmpty:
            note("empty")
        lonely = asyncio.create_task(queue.get())  # a waiting getter, cancelled: the next one is woken
        await asyncio.sleep(0)
        lonely.cancel()
        consumers = [asyncio.create_task(consumer(f"c{n}", queue)) for n in range(2)]
        await asyncio.gather(producer("p0", queue, 0), producer("p1", queue, 100))
        await queue.join()
        note(f"joined, qsize {queue.qsize()}")
        queue.shutdown()
        await asyncio.gather(*consumers)
        for call in (lambda: queue.put_nowait(1), queue.get_nowait):
            try:
                call()
            except compat.QueueShutDown:
                note("shut down: nowait refused")
        second = queue_type(3)
        for item in range(3):
            second.put_nowait(item)
        blocked = asyncio.create_task(second.put(3))
        taker = asyncio.create_task(consumer("c9", second))
        await asyncio.sleep(0.1)
        second.shutdown(immediate=True)
        await asyncio.gather(blocked, taker, return_exceptions=True)
        note(f"immediate: qsize {second.qsize()}, put {blocked.exception()!r}")

    return main


def traced(queue_type: type) -> list[tuple[float, str]]:
    log: list[tuple[float, str]] = []
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        runner.run(queue_program(queue_type, log)())
    return log


def test_the_engines_queue_takes_the_same_steps_as_the_queue_it_stands_for():
    reference = traced(Reference)
    assert len(reference) > 30
    for expected in ("empty", "full at", "gave up", "after waiting", "shut down", "nowait refused"):
        assert any(expected in what for _, what in reference), expected
    assert traced(compat.SimulationQueue) == reference


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="3.13's Queue is asyncio's own")
def test_on_311_and_312_only_the_two_nowait_methods_are_bpsims():
    own = {name for name in vars(compat.SimulationQueue) if not name.startswith("__")}
    assert own == {"put_nowait", "get_nowait"}
    assert issubclass(compat.SimulationQueue, Reference)
