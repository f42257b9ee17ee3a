"""`Queue`, `LifoQueue`, `PriorityQueue` and `QueueShutDown` with the semantics of Python 3.13 on every supported version.

`Queue.shutdown()` arrived in 3.13; on 3.11 and 3.12 the `backports.asyncio.queues` package gives
the same behaviour (same code, verified trace-identical). Import them from here, nowhere else.
`SimulationQueue` is the engine's: `Queue`, with 3.13's own `put_nowait` and `get_nowait` on
3.11 and 3.12 too (see there). A user's program gets `Queue`, so its tracebacks show the frames
of the backport, as they show asyncio's on 3.13, and none of bpsim's.
"""

import sys
from typing import TypeVar

if sys.version_info >= (3, 13):
    from asyncio import LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull, QueueShutDown

    SimulationQueue = Queue
else:  # pragma: no cover - exercised by the 3.11 CI run
    import heapq
    from asyncio import QueueEmpty, QueueFull

    from backports.asyncio.queues import Queue, QueueShutDown

    _T = TypeVar("_T")

    class SimulationQueue(Queue[_T]):
        """The backport, with 3.13's own `put_nowait` and `get_nowait`: the engine's FIFO queue.

        The backport wraps asyncio's methods in its shutdown check, a `super()` call more for
        every item put and taken (about 2% of a simulation step on 3.12); these are 3.13's
        methods, which do the same in one body: raise QueueShutDown, QueueFull or QueueEmpty,
        else put or take the item and wake the next waiter (tests/test_compat.py compares them).
        """

        def put_nowait(self, item: _T) -> None:
            if self._is_shutdown:
                raise QueueShutDown
            if self.full():
                raise QueueFull
            self._put(item)
            self._unfinished_tasks += 1
            self._finished.clear()
            self._wakeup_next(self._getters)

        def get_nowait(self) -> _T:
            if self.empty():
                if self._is_shutdown:
                    raise QueueShutDown
                raise QueueEmpty
            item = self._get()
            self._wakeup_next(self._putters)
            return item

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

__all__ = ["LifoQueue", "PriorityQueue", "Queue", "QueueEmpty", "QueueFull", "QueueShutDown", "SimulationQueue"]
