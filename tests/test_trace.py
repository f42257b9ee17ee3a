"""The trace says what happened in the handbook's words, and never what did not happen (issue #17)."""

from __future__ import annotations

from bpsim.engine import run
from bpsim.events import Event, ItemAbandoned, ShutdownCalled
from bpsim.render.trace import describe
from tests.helpers import scenario

# Two workers, a Semaphore(1), calls of 1 s, four items at t = 0: at t = 0.5 worker-0 is in its
# call and worker-1 holds item 1 but still waits at `async with limiter`.
TWO_WORKERS_ONE_PERMIT = dict(
    items=4,
    producer={"rate": "unlimited"},
    workers={"count": 2, "service": {"distribution": "constant", "mean": 1.0}},
    downstream={"concurrency": 1},
)


def recorded(**settings: object) -> list[Event]:
    events: list[Event] = []
    run(scenario(**settings), observers=[events.append])
    return events


def test_an_immediate_shutdown_at_a_time_is_not_a_deadline_that_passed():
    events = recorded(**TWO_WORKERS_ONE_PERMIT, shutdown={"mode": "immediate", "at": 0.5})
    (shutdown,) = [e for e in events if isinstance(e, ShutdownCalled)]
    assert (shutdown.immediate, shutdown.deadline_passed) == (True, False)
    assert describe(shutdown) == "immediate shutdown at 0.5 s, 2 queued items abandoned: queue.shutdown(immediate=True)"


def test_a_graceful_deadline_that_passes_still_says_so():
    events = recorded(**TWO_WORKERS_ONE_PERMIT, shutdown={"mode": "graceful", "at": 0.5})
    (shutdown,) = [e for e in events if isinstance(e, ShutdownCalled)]
    assert describe(shutdown).startswith("shutdown deadline passed: queue.shutdown(immediate=True)")


def test_an_item_still_waiting_for_the_semaphore_was_not_cancelled_mid_call():
    events = recorded(**TWO_WORKERS_ONE_PERMIT, shutdown={"mode": "immediate", "at": 0.5})
    in_workers = {e.worker: describe(e) for e in events if isinstance(e, ItemAbandoned) and e.worker is not None}
    assert in_workers == {
        "worker-0": "item 0 abandoned: worker-0 cancelled mid-call",
        "worker-1": "item 1 abandoned: worker-1 still waited for the semaphore (async with limiter), the call never started",
    }
