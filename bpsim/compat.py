"""`Queue`, `LifoQueue`, `PriorityQueue` and `QueueShutDown` with the semantics of Python 3.13 on every supported version.

`Queue.shutdown()` arrived in 3.13; on 3.11 and 3.12 the `backports.asyncio.queues` package gives
the same behaviour (same code, verified trace-identical). Import them from here, nowhere else.
"""

import sys
from typing import TypeVar

if sys.version_info >= (3, 13):
    from asyncio import LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull, QueueShutDown
else:  # pragma: no cover - exercised by the 3.11 CI run
    import heapq
    from asyncio import QueueEmpty, QueueFull

    from backports.asyncio.queues import Queue, QueueShutDown

    _T = TypeVar("_T")

    class LifoQueue(Queue[_T]):
        """asyncio's LifoQueue (3.13's code), over the backported Queue: newest first, same shutdown."""

        def _init(self, maxsize: int) -> None:
            self._queue: list[_T] = []

        def _put(self, item: _T) -> None:
            self._queue.append(item)

        def _get(self) -> _T:
            return self._queue.pop()

    class PriorityQueue(Queue[_T]):
        """asyncio's PriorityQueue (3.13's code), over the backported Queue: lowest first, same shutdown."""

        def _init(self, maxsize: int) -> None:
            self._queue: list[_T] = []

        def _put(self, item: _T) -> None:
            heapq.heappush(self._queue, item)  # type: ignore[type-var]

        def _get(self) -> _T:
            return heapq.heappop(self._queue)  # type: ignore[type-var]

__all__ = ["LifoQueue", "PriorityQueue", "Queue", "QueueEmpty", "QueueFull", "QueueShutDown"]
