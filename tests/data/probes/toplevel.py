"""Objects made at the module's top level, before asyncio.run makes the loop (tests/test_probes.py)."""
import asyncio

queue = asyncio.Queue(maxsize=1)
limiter = asyncio.Semaphore(1)


async def hold() -> None:
    async with limiter:
        await asyncio.sleep(2)


async def main() -> None:
    await queue.put("only")  # full from t=0 ...
    await asyncio.gather(hold(), hold())  # ... through 2 s + 2 s: the second hold() waits 2 s
    print(await queue.get())  # ... until t=4


asyncio.run(main())
