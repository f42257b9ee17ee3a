# Two workers on a bounded queue, logging to stderr (logging.info) and printing to stdout: under
# the live dashboard every line must stay on the screen, in order (tests/test_probes.py).
import asyncio, logging, sys
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
log = logging.getLogger("pipeline")

async def worker(name, q):
    while True:
        item = await q.get()
        await asyncio.sleep(0.2)
        log.info("%s handled %s", name, item)
        q.task_done()

async def main():
    q = asyncio.Queue(maxsize=3)
    workers = [asyncio.create_task(worker(f"w{i}", q)) for i in range(2)]
    for i in range(8):
        await q.put(i)
        log.info("queued %s", i)
    await q.join()
    for w in workers: w.cancel()
    print("all done")
    print("and one to stderr", file=sys.stderr)

asyncio.run(main())
