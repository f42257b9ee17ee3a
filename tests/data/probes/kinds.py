"""Every kind of object the probes find, and every way a program names one (tests/test_probes.py)."""
import asyncio


class Mailbox:
    def __init__(self) -> None:
        self.inbox = asyncio.Queue(maxsize=1)


async def slow() -> None:
    await asyncio.sleep(10)


async def fails() -> None:
    await asyncio.sleep(0.5)
    raise ValueError("downstream said no")


async def main() -> None:
    urgent, later = asyncio.PriorityQueue(), asyncio.LifoQueue(
        maxsize=3
    )
    boxes = [Mailbox(), Mailbox()]
    pool = [asyncio.Queue() for _ in range(2)]
    gate = asyncio.BoundedSemaphore(1)
    await urgent.put((1, "a"))
    await later.put("b")
    await boxes[0].inbox.put("c")
    await pool[1].put("d")
    for attempt in range(3):
        try:
            async with asyncio.timeout(1 + attempt) as deadline:
                async with gate:
                    await slow()
        except TimeoutError:
            print("attempt", attempt, "timed out")
    async with asyncio.timeout(5):
        await asyncio.sleep(1)
    sleeper = asyncio.create_task(slow())
    failing = asyncio.create_task(fails())
    await asyncio.sleep(1)
    sleeper.cancel()
    await asyncio.gather(sleeper, failing, return_exceptions=True)
    print("done at", asyncio.get_running_loop().time())


asyncio.run(main())
