"""What happens when an arriving item meets a full queue.

Each policy is the few lines of asyncio a learner would write. They report what happened to the
`Pipeline` passed in (`blocked`, `dropped`, `timed_out`...) and return True if the item is now in
the queue. All of them raise `QueueShutDown` if the queue was shut down. The producer asks a
policy only when the queue is full: with room, every policy does the same (`put_nowait`, which
for `block` is `await queue.put(item)` minus a yield), and the producer does it itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bpsim.compat import QueueFull, QueueShutDown
from bpsim.events import DropReason, TimeoutPlace
from bpsim.scenario import Policy

if TYPE_CHECKING:
    from bpsim.pipeline import Pipeline
    from bpsim.workload import Item

__all__ = ["admit_function"]

Admit = Callable[["Pipeline", "Item"], Awaitable[bool]]


async def block(pipeline: Pipeline, item: Item) -> bool:
    """Wait for room (`await queue.put`), giving up after `put_timeout` if one is set."""
    queue = pipeline.queue
    pipeline.producer_blocked(item)
    # A CancelledError (the whole run was stopped) is not caught: the producer stays blocked in
    # the final frame and the summary, as it was at the stop.
    try:
        async with asyncio.timeout(pipeline.put_timeout):
            await queue.put(item)
    except TimeoutError:
        pipeline.producer_gave_up()
        pipeline.timed_out(item, TimeoutPlace.PUT)
        return False
    except QueueShutDown:
        pipeline.producer_gave_up()  # the producer counts the item as rejected
        raise
    pipeline.producer_unblocked(item)
    return True


async def drop_newest(pipeline: Pipeline, item: Item) -> bool:
    """Discard the arriving item if the queue is full (`put_nowait` raising `QueueFull`)."""
    try:
        pipeline.queue.put_nowait(item)
    except QueueFull:
        pipeline.dropped(item, DropReason.QUEUE_FULL)
        return False
    return True


async def drop_oldest(pipeline: Pipeline, item: Item) -> bool:
    """Evict the oldest queued item to make room for the arriving one."""
    queue = pipeline.queue
    if queue.full():
        oldest = queue.get_nowait()
        queue.task_done()
        pipeline.dropped(oldest, DropReason.EVICTED, admitted=item)
    queue.put_nowait(item)
    return True


_POLICIES: dict[Policy, Admit] = {
    Policy.BLOCK: block,
    Policy.DROP_NEWEST: drop_newest,
    Policy.DROP_OLDEST: drop_oldest,
}


def admit_function(policy: Policy) -> Admit:
    return _POLICIES[policy]
