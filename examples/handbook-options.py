"""The handbook's fixed example (examples/handbook.py) with its numbers as options.

    bpsim run examples/handbook-options.py -- --maxsize 1 --workers 1
    python3 examples/handbook-options.py --maxsize 1 --workers 1

tests/data/programs/capture.py runs it with several options under the real CPython 3.13 (the
expected output), tests/test_program.py under `bpsim run`: they print the same.
"""

import argparse
import asyncio


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=6)
    parser.add_argument("--maxsize", type=int, default=2)
    parser.add_argument("--limit", type=int, default=2, help="the semaphore's size")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--work", type=float, default=0.15, help="seconds per item")
    parser.add_argument("--spread", type=float, default=0.0, help="item k takes work + k * spread")
    parser.add_argument("--gap", type=float, default=0.0, help="the producer sleeps this long after each put")
    parser.add_argument("--put-timeout", type=float, default=None, help="give up an enqueue after this long")
    return parser.parse_args()


async def producer(queue: asyncio.Queue[int], items: int, gap: float, put_timeout: float | None) -> None:
    for item in range(items):
        print("produce", item, "qsize before:", queue.qsize())
        try:
            async with asyncio.timeout(put_timeout):
                await queue.put(item)
        except TimeoutError:
            print("dropped", item, "after waiting", put_timeout)
            continue
        print("enqueued", item, "qsize after:", queue.qsize())
        if gap:
            await asyncio.sleep(gap)


async def worker(name: str, queue: asyncio.Queue[int], limiter: asyncio.Semaphore, work: float, spread: float) -> None:
    try:
        while True:
            item = await queue.get()
            try:
                async with limiter:
                    await asyncio.sleep(work + item * spread)
                    print(name, "handled", item)
            finally:
                queue.task_done()
    except asyncio.QueueShutDown:
        print(name, "shutdown")


async def main() -> None:
    given = options()
    queue: asyncio.Queue[int] = asyncio.Queue(maxsize=given.maxsize)
    limiter = asyncio.Semaphore(given.limit)

    async with asyncio.TaskGroup() as task_group:
        producing = task_group.create_task(producer(queue, given.items, given.gap, given.put_timeout))
        for index in range(given.workers):
            task_group.create_task(worker(f"worker-{index}", queue, limiter, given.work, given.spread))

        await producing
        await queue.join()
        queue.shutdown()


asyncio.run(main())
