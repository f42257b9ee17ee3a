"""`Queue` and `QueueShutDown` with the semantics of Python 3.13 on every supported version.

`Queue.shutdown()` arrived in 3.13; on 3.11 and 3.12 the `backports.asyncio.queues` package gives
the same behaviour (same code, verified trace-identical). Import them from here, nowhere else.
"""

import sys

if sys.version_info >= (3, 13):
    from asyncio import Queue, QueueEmpty, QueueFull, QueueShutDown
else:  # pragma: no cover - exercised by the 3.11 CI run
    from asyncio import QueueEmpty, QueueFull

    from backports.asyncio.queues import Queue, QueueShutDown

__all__ = ["Queue", "QueueEmpty", "QueueFull", "QueueShutDown"]
