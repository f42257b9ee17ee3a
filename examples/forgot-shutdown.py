"""The handbook's workers, without queue.shutdown(): they wait in queue.get() forever.

python3 would hang here until Ctrl-C; bpsim run says which task waits where.
"""

import asyncio


async def worker(name: str, queue: asyncio.Queue[int]) -> None:
    while True:
        item = await queue.get()
        await asyncio.sleep(0.15)
        print(name, "handled", item)
        queue.task_done()


async def main() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue(maxsize=2)
    async with asyncio.TaskGroup() as task_group:
        for index in range(2):
            task_group.create_task(worker(f"worker-{index}", queue), name=f"worker-{index}")
        for item in range(4):
            await queue.put(item)
        await queue.join()
        print("all items handled")
        # queue.shutdown() is missing: the workers never learn there is no more work.


asyncio.run(main())
