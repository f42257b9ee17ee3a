"""The pipeline: the handbook's producer, queue, workers and semaphore, as plain asyncio.

Read `Pipeline.run`, `producer` and `worker` side by side with the handbook example: they are
the same code, plus one line wherever something worth counting or showing happens. Those lines
update the `Ledger` and, when someone is listening, emit an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable, Iterator

from bpsim import policies
from bpsim.adaptive import AdaptiveLimit, adaptive_limit
from bpsim.compat import Queue, QueueShutDown
from bpsim.disciplines import CoDel, TimedQueue, make_queue
from bpsim.events import (
    AbandonPlace,
    BreakerChanged,
    CallStarted,
    DropReason,
    FailReason,
    ItemAbandoned,
    ItemDequeued,
    ItemDropped,
    ItemEnqueued,
    ItemFailed,
    ItemHandled,
    ItemProduced,
    ItemRejected,
    ItemTimedOut,
    Observer,
    ProducerBlocked,
    ProducerFinished,
    ProducerState,
    ProducerUnblocked,
    QueueJoined,
    RetryRefused,
    RetryScheduled,
    ServiceState,
    ShutdownCalled,
    Snapshot,
    TimeoutPlace,
    WorkerExited,
    WorkerState,
    WorkWasted,
)
from bpsim.history import BREAKER_LEVELS, Bins, History, RawEvent
from bpsim.ledger import Ledger
from bpsim.limits import Limits, LimitReached
from bpsim.outcomes import REJECTED_AT_SHUTDOWN
from bpsim.resilience import Backoff, BreakerState, CircuitBreaker, Jitter, RetryBudget, RetryCounts, Throttle
from bpsim.scenario import AdaptiveConcurrency, BackoffSettings, Scenario
from bpsim.service import CallFailed, Service, models_a_service
from bpsim.workload import Draws, Item, items, service_time_at

__all__ = ["Pipeline"]

# The worker states written for every item, read from the enum once: on Python 3.11 reading a
# member (`WorkerState.IDLE`) costs a descriptor call, about as much as one of the item's records.
_IDLE, _WAITING, _CALLING = WorkerState.IDLE, WorkerState.WAITING, WorkerState.CALLING


def _nobody(raw: RawEvent) -> None:
    """Where the rare events go while nobody listens (the hot path checks `watched` first)."""


class Pipeline:
    """One scenario's producer, queue, workers and downstream, running on the current loop."""

    def __init__(self, scenario: Scenario, limits: Limits = Limits()) -> None:
        self.scenario = scenario
        self.limits = limits
        self.ledger = Ledger(scenario.slo)
        self.slo = scenario.slo if scenario.slo is not None else math.inf
        """A handled item slower than this is late; without an slo none is."""
        self.observers: list[Observer] = []
        self.history: History | None = None
        self.watched = False
        """Someone wants the events (observers or a history). The hot path checks this before it
        even computes an event's fields, so a headless run pays nothing for events."""
        self._emit: Callable[[RawEvent], None] = _nobody
        """Where events go, as raw tuples `(event_type, at, *fields)`: building the event object
        is left to whoever needs one (a history keeps hundreds and shows a dozen)."""
        self._step: Callable[[RawEvent], None] = _nobody
        """Where the routine steps go (produce, enqueued, got, calls, handled: several per item),
        the same way as the other events, except into a dashboard's history (see `_listen`)."""
        self.queue: Queue[Item] = make_queue(scenario.queue)
        self.codel = CoDel(scenario.queue.codel_settings) if scenario.queue.discipline == "codel" else None
        """CoDel's state, with `discipline = "codel"`: it drops items as workers take them."""
        concurrency = scenario.downstream.concurrency
        self.adaptive: AdaptiveLimit | None = None
        """The limit, when it adapts (adaptive.py): the limiter itself."""
        # No limit is a context manager that does nothing, so the worker reads the same either way.
        self.limiter: asyncio.Semaphore | AdaptiveLimit | contextlib.nullcontext[None]
        if isinstance(concurrency, AdaptiveConcurrency):
            self.limiter = self.adaptive = adaptive_limit(concurrency, self._limit_changed)
        elif concurrency is not None:
            self.limiter = asyncio.Semaphore(concurrency)
        else:
            self.limiter = contextlib.nullcontext()
        self.put_timeout = scenario.queue.put_timeout
        self.call_timeout = scenario.downstream.timeout
        self.service: Service | None = None
        """The service behind the call (service.py), when `[downstream]` models one; made in `run`.
        Without it the call is an ideal delay: `await asyncio.sleep(item.service)`."""
        self.max_age = scenario.queue.max_age
        self._resilience(scenario)
        self._admit = policies.admit_function(scenario.queue.policy)
        self.producer_state = ProducerState.WAITING
        self._next_due = 0.0
        self.worker_states = [WorkerState.IDLE] * scenario.workers.count
        self.in_flight = 0
        self.shutdown_mode: str | None = None
        self.shutdown_at: float | None = None
        """When `queue.shutdown()` was called."""
        self._stopping_now = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.finished_at: float | None = None
        """When `run` returned: this pipeline's own end, earlier than the clock's when it shares one."""

    def _resilience(self, scenario: Scenario) -> None:
        """The client's retry policy, breaker and throttle (resilience.py), as the scenario says."""
        retry = scenario.retry
        self.attempts = retry.attempts if retry is not None else 1
        self.retry_on = frozenset(retry.on) if retry is not None else frozenset()
        backoff = retry.backoff if retry is not None else BackoffSettings()
        self.backoff = Backoff(backoff.initial, backoff.multiplier, backoff.max, Jitter(backoff.jitter))
        budget = retry.budget if retry is not None else None
        self.budget = RetryBudget(budget.ratio, budget.min_per_second, budget.window) if budget is not None else None
        self._jitter = Draws(scenario.seed, "jitter")
        self._service_draws = Draws(scenario.seed, "retry-service")
        self._luck = Draws(scenario.seed, "errors")  # a retry's luck; the first attempt's is the item's
        self.retry_counts = RetryCounts()
        settings = scenario.breaker
        self.breaker = (
            CircuitBreaker(settings.failures, settings.window, settings.cooldown, settings.probes)
            if settings is not None
            else None
        )
        if self.breaker is not None:
            self.breaker.on_change = self._breaker_changed
        throttle = scenario.throttle
        self.throttle = Throttle(throttle.rate, throttle.burst) if throttle is not None else None

    # -- the handbook's code -------------------------------------------------------------------

    async def run(self) -> None:
        """Run producer and workers in a TaskGroup until the queue is shut down and drained."""
        self._loop = asyncio.get_running_loop()
        if models_a_service(self.scenario.downstream):
            self.service = Service(self.scenario.downstream, self._loop)
            if self.watched:
                self.service.on_wasted = self._wasted
        try:
            async with asyncio.TaskGroup() as task_group:
                producer = task_group.create_task(self.producer())
                workers = [
                    task_group.create_task(self.worker(index)) for index in range(self.scenario.workers.count)
                ]
                await self.stop(producer, workers)
            self.finished_at = self.now
        finally:
            if self.service is not None:
                self.service.close()  # calls nobody awaits must not keep the run going

    async def producer(self) -> None:
        """Put every item in the queue when it is due, as the policy says."""
        loop = asyncio.get_running_loop()
        queue = self.queue
        # bpsim's guards (limits.py), not the handbook's: they stop a run that would eat the machine.
        max_items, max_queued = self.limits.max_items, self.limits.max_queued or math.inf
        due = items(self.scenario)
        # arrivals = "after-put" (closed loop): the gap before an item starts when the last put
        # returned, `await queue.put(item); await asyncio.sleep(gap)`, so a wait delays the rest.
        after_put, scheduled, end = self.scenario.producer.after_put, 0.0, self.scenario.duration
        for item in due:
            if after_put:
                gap, scheduled = item.arrival - scheduled, item.arrival
                item.arrival = loop.time() + gap
                if end is not None and item.arrival >= end:
                    break
            self._next_due = item.arrival
            if (delay := item.arrival - loop.time()) > 0:
                await asyncio.sleep(delay)
            if item.number == max_items:
                raise LimitReached("max_items", max_items, loop.time())
            self.ledger.produced += 1
            if self.watched:
                self._step((ItemProduced, loop.time(), item.number, queue.qsize()))
            try:
                if queue.full():
                    admitted = await self._admit(self, item)
                else:  # room: every policy puts the item in (`put_nowait`), so none is asked
                    queue.put_nowait(item)
                    admitted = True
            except QueueShutDown:
                self.rejected(item)
                # after-put: the next item's gap had not begun, so none was due
                self.ledger.never_sent = 0 if after_put else self._never_sent(due, loop.time())
                self.producer_state = ProducerState.STOPPED
                self._emit((ProducerFinished, self.now, self.ledger.produced, True))
                return
            if admitted:
                now, qsize = loop.time(), queue.qsize()
                self.ledger.enqueued(now, qsize)
                if self.watched:
                    self._step((ItemEnqueued, now, item.number, qsize))
                if qsize > max_queued:
                    raise LimitReached("max_queued", max_queued, now)
        self.producer_state = ProducerState.DONE
        self._emit((ProducerFinished, self.now, self.ledger.produced, False))

    def _never_sent(self, later: Iterator[Item], now: float) -> int:
        """How many of the `later` items were due by `now`: the producer, stuck in a put when the
        queue shut down, never got to offer them. (After a put that was not stuck, none is due.)"""
        count = 0
        for item in later:
            if item.arrival > now or item.number == self.limits.max_items:
                break
            count += 1
        return count

    async def worker(self, index: int) -> None:
        """Take items from the queue and call downstream, until the queue is shut down."""
        name = f"worker-{index}"
        queue = self.queue
        try:
            while True:
                self.worker_states[index] = _IDLE
                item = await queue.get()
                try:
                    await self.handle(index, name, item)
                except asyncio.CancelledError:
                    self._abandon_in_worker(index, item)
                    raise
                finally:
                    queue.task_done()
        except QueueShutDown:
            self.worker_states[index] = WorkerState.EXITED
            self._emit((WorkerExited, self.now, name, "QueueShutDown"))
        except asyncio.CancelledError:
            self.worker_states[index] = WorkerState.EXITED
            self._emit((WorkerExited, self.now, name, "cancelled"))
            raise

    async def handle(self, index: int, name: str, item: Item) -> None:
        """One item: skip it if stale, else call downstream inside the semaphore and timeout.

        With a `[retry]` table the call sits in the client's retry loop: after a failure worth
        retrying, sleep (the backoff, outside `async with limiter:`, so a sleeping worker holds
        no slot) and call again, taking the semaphore and the timeout anew. An open breaker fails
        the call at once; a spent budget refuses the retry. Either way the item ends with its
        last failure. Without `[retry]` the loop runs once: the handbook's single call. (One
        coroutine, not two: a call level per item costs as much as all of the loop's checks.)
        """
        loop = asyncio.get_running_loop()  # `loop.time()` is a call less than `self.now`, per item
        now = loop.time()
        qsize = self.queue.qsize()
        self.ledger.dequeued(now, qsize)
        self.ledger.queue_wait.record(now - item.arrival)
        if self.watched:
            self._step((ItemDequeued, now, item.number, name, qsize))
        if self.max_age is not None and now - item.arrival > self.max_age:
            self.dropped(item, DropReason.STALE)
            return
        if self.codel is not None and self._codel_drops(now, qsize):
            self.dropped(item, DropReason.CODEL)
            return
        breaker, budget = self.breaker, self.budget
        call_timeout, ideal = self.call_timeout, self.service is None
        if budget is not None:
            budget.requested(loop.time())
        attempt, sleep = 0, 0.0
        while True:  # not `for attempt in range(...)`: the range costs more than the rest of the loop
            ticket = None
            if breaker is not None:
                ticket = breaker.admit(loop.time())
                if ticket is None:  # open: the call fails at once, without reaching the service
                    self._failed(item, "circuit-open", name)
                    return
            failure: str | None = None
            self.worker_states[index] = _WAITING
            async with self.limiter:
                if self.throttle is not None:
                    self.worker_states[index] = WorkerState.THROTTLED
                    await self.throttle.acquire()
                    if self.adaptive is not None:  # it judges the downstream's answer, not our wait for a token
                        self.adaptive.started()
                self.worker_states[index] = _CALLING
                # The call's counters, here rather than in a method: a Python call per item each
                # costs about 0.5% of the run (so do the two below), and only a watcher needs more.
                self.in_flight += 1
                self.retry_counts.attempts += 1
                if attempt:
                    self.retry_counts.retries += 1
                if self.in_flight > self.ledger.max_in_flight:
                    self.ledger.max_in_flight = self.in_flight
                if self.watched:
                    self._call_started(name, item, attempt)
                try:
                    # Made before the timeout is entered (a coroutine does nothing until awaited);
                    # an ideal downstream's first call is `call_downstream`'s sleep, without its call.
                    call: Awaitable[None]
                    if ideal and not attempt:
                        call = asyncio.sleep(item.service)
                    else:
                        call = self.call_downstream(item if not attempt else self._retried(item, attempt), attempt)
                    # Without a timeout, no `async with` at all: one that does nothing (a nullcontext,
                    # `asyncio.timeout(None)`) costs two coroutines, 3% of a run on 3.11.
                    if call_timeout is None:
                        await call
                    else:
                        async with asyncio.timeout(call_timeout):
                            await call
                except TimeoutError:
                    failure = "timeout"
                    self._call_dropped()
                except CallFailed as failed:  # a 500, a 429 or an outage
                    failure = failed.reason
                    self._call_dropped()
                finally:
                    self.in_flight -= 1
                    if self.history is not None:
                        self.history.in_flight.changed(loop.time(), self.in_flight)
            if breaker is not None and ticket is not None:
                if failure is None:
                    breaker.succeeded(ticket, loop.time())
                else:
                    breaker.failed(ticket, loop.time())
            if failure is None:  # handled: counted here, for the same reason as the call above
                now = loop.time()
                latency = now - item.arrival
                ledger = self.ledger
                ledger.handled += 1
                ledger.latency.record(latency)
                if latency > self.slo:
                    ledger.late += 1
                if self.watched:
                    self._handled(name, item, now, latency)
                return
            # The call failed: retry it, if the policy and the budget allow, after the backoff.
            attempt += 1
            if attempt == self.attempts or failure not in self.retry_on:
                break
            if budget is not None and not budget.try_retry(loop.time()):
                self.retry_counts.refused_by_budget += 1
                self._emit((RetryRefused, loop.time(), item.number, name, attempt, failure))
                break
            sleep = self.backoff.sleep(attempt - 1, sleep, self._jitter.uniform(item.number, attempt))
            if self.watched:
                self._emit((RetryScheduled, loop.time(), item.number, name, attempt, failure, sleep))
            self.worker_states[index] = WorkerState.BACKING_OFF
            await asyncio.sleep(sleep)
        self._failed(item, failure, name)

    def call_downstream(self, item: Item, attempt: int = 0) -> Awaitable[None]:
        """One downstream call (an API, a database) for `item`, to await; it raises `CallFailed(reason)`.

        With no service modelled it takes the item's service time, whatever else is going on
        (`handle` awaits that sleep itself for an item's first call).
        Otherwise the service does the item's work as its load allows (service.py). `attempt`
        (0 for the first call) picks the item's luck; a retry's `item` carries that attempt's own work.
        It returns the awaitable rather than awaiting it: as a coroutine of its own it would be one
        more frame for every step of every call (about 0.7% of a headless run's instructions).
        """
        service = self.service
        if service is None:
            return asyncio.sleep(item.service)
        chance = item.luck if attempt == 0 else self._luck.uniform(item.number, attempt)
        return service.call(item.service, chance, item.number)

    async def stop(self, producer: asyncio.Task[None], workers: list[asyncio.Task[None]]) -> None:
        """Shut the queue down the way the scenario says.

        graceful: wait for the producer, then `queue.join()`, then `queue.shutdown()`: workers
        finish every queued item and exit on QueueShutDown. With a deadline (`at`) that passes
        first, or in immediate mode at `at`, stop now instead: queued items are abandoned, the
        workers' current calls are cancelled, and `queue.shutdown(immediate=True)` wakes everyone.
        """
        settings = self.scenario.shutdown
        try:
            async with asyncio.timeout_at(settings.at):
                if settings.await_producer:
                    # shield: when the deadline passes, stop waiting for the producer, but do not
                    # cancel it; its pending put must end in QueueShutDown, so the item is counted.
                    await asyncio.shield(producer)
                await self.queue.join()
                self._emit((QueueJoined, self.now))
            immediate, deadline_passed = settings.mode == "immediate", False
        except TimeoutError:
            # In immediate mode `at` is when to stop, not a deadline that passed (trace wording).
            immediate, deadline_passed = True, settings.mode != "immediate"
        if immediate:
            self._stop_now(workers, deadline_passed)
        else:
            self.shutdown_mode, self.shutdown_at = "graceful", self.now
            self._emit((ShutdownCalled, self.now, False, False, self.queue.qsize()))
            self.queue.shutdown()

    def _stop_now(self, workers: list[asyncio.Task[None]], deadline_passed: bool) -> None:
        # shutdown(immediate=True) discards queued items silently: take them out first, so
        # each one is counted. No await in between, so nothing can sneak in.
        self._stopping_now = True
        self.shutdown_mode, self.shutdown_at = "immediate", self.now
        self._emit((ShutdownCalled, self.now, True, deadline_passed, self.queue.qsize()))
        while not self.queue.empty():
            item = self.queue.get_nowait()
            self.queue.task_done()
            self.ledger.ended[AbandonPlace.QUEUED] += 1
            self.ledger.left_queue(self.now)
            self._emit((ItemAbandoned, self.now, item.number, AbandonPlace.QUEUED))
        self.ledger.qsize_changed(self.now, 0)
        self.queue.shutdown(immediate=True)
        for index, worker in enumerate(workers):
            if self.worker_states[index] not in (WorkerState.IDLE, WorkerState.EXITED):
                worker.cancel()

    # -- bookkeeping, called from the code above and from policies.py --------------------------

    @property
    def now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def producer_blocked(self, item: Item) -> None:
        self.producer_state = ProducerState.BLOCKED
        self.ledger.producer_blocked(self.now)
        if self.watched:
            self._emit((ProducerBlocked, self.now, item.number, self.queue.qsize(), self.queue.maxsize))

    def producer_unblocked(self, item: Item) -> None:
        """`item` got into the queue after a blocked put."""
        self.producer_state = ProducerState.WAITING
        waited = self.ledger.producer_unblocked(self.now)
        if self.watched:
            self._emit((ProducerUnblocked, self.now, item.number, waited))

    def producer_gave_up(self) -> None:
        """A blocked put ended without the item: it timed out, or the queue was shut down.

        No event of its own: the item's fate (timed out, rejected) is the event that follows.
        """
        self.producer_state = ProducerState.WAITING
        self.ledger.producer_unblocked(self.now)

    def dropped(self, item: Item, reason: DropReason, admitted: Item | None = None) -> None:
        self.ledger.ended[reason] += 1
        if reason is DropReason.EVICTED:
            self.ledger.left_queue(self.now)
        if self.watched:
            admitted_number = admitted.number if admitted is not None else None
            now = self.now
            self._emit((ItemDropped, now, item.number, reason, admitted_number, now - item.arrival))

    def _failed(self, item: Item, failure: str, worker: str) -> None:
        """The item's last attempt failed (or the breaker refused it): it ends with that failure."""
        if failure == "timeout":  # a timeout that exhausted its attempts stays timed out
            self.timed_out(item, TimeoutPlace.DOWNSTREAM, worker)
        else:
            self.failed(item, FailReason(failure), worker)

    def _breaker_changed(self, state: BreakerState, now: float) -> None:
        if self.history is not None:
            self.history.breaker.changed(now, BREAKER_LEVELS[state.value])
        self._emit((BreakerChanged, now, state.value))

    def _retried(self, item: Item, attempt: int) -> Item:
        """Item `item` as its `attempt`-th call sees it: the same item with that call's own work."""
        u = self._service_draws.uniform(item.number, attempt)
        return Item(item.number, item.arrival, service_time_at(self.scenario.workers.service, u))

    def timed_out(self, item: Item, place: TimeoutPlace, worker: str | None = None) -> None:
        self.ledger.ended[place] += 1
        if place is TimeoutPlace.DOWNSTREAM and self.service is not None:
            # What the service does with the call its client just left (service.Left).
            self._emit((ItemTimedOut, self.now, item.number, place, worker, self.call_timeout, self.service.last_left))
        else:
            self._emit((ItemTimedOut, self.now, item.number, place, worker))

    def failed(self, item: Item, reason: FailReason, worker: str | None = None) -> None:
        """The item's downstream call failed, or was refused, for `reason`: it ends as failed."""
        self.ledger.failed(reason)
        if self.watched:
            now = self.now
            if self.history is not None:
                self.history.failed.changed(now, self.ledger.counts().failed)
            self._emit((ItemFailed, now, item.number, reason, worker))

    def _codel_drops(self, now: float, qsize: int) -> bool:
        """Whether CoDel drops the item just taken from the queue (`qsize` left in it)."""
        assert self.codel is not None and isinstance(self.queue, TimedQueue)
        return self.codel.drop(now - self.queue.entered_at, now, qsize == 0)

    def _call_dropped(self) -> None:
        """The call just timed out or failed: an adaptive limit counts it as a bad one."""
        if self.adaptive is not None:
            self.adaptive.dropped()

    def _limit_changed(self, now: float, limit: int) -> None:
        if self.history is not None and self.history.limit is not None:
            self.history.limit.changed(now, limit)

    def _wasted(self, number: int, seconds: float, finished: bool) -> None:
        """The service is done with a call nobody awaits: `seconds` of work for nothing."""
        self._emit((WorkWasted, self.now, number, seconds, finished))

    def rejected(self, item: Item) -> None:
        self.ledger.end(REJECTED_AT_SHUTDOWN.name)
        self._emit((ItemRejected, self.now, item.number))

    def _abandon_in_worker(self, index: int, item: Item) -> None:
        # Cancelled by an immediate shutdown: the item is abandoned. Cancelled because the whole
        # run was interrupted (Ctrl-C): the item simply never finished.
        if self._stopping_now:
            self.ledger.ended[AbandonPlace.IN_WORKER] += 1
            name = f"worker-{index}"
            if self.service is not None and self.worker_states[index] is WorkerState.CALLING:
                # The cancellation came through the service's call: what became of it there.
                self._emit((ItemAbandoned, self.now, item.number, AbandonPlace.IN_WORKER, name, self.service.last_left))
            else:
                in_call = self.worker_states[index] is not WorkerState.WAITING  # not still at the semaphore
                self._emit((ItemAbandoned, self.now, item.number, AbandonPlace.IN_WORKER, name, None, in_call))

    def _call_started(self, name: str, item: Item, attempt: int) -> None:
        """A call started (`handle` counted it): tell the watchers."""
        now = self.now
        if self.history is not None:
            self.history.in_flight.changed(now, self.in_flight)
            if attempt:
                self.history.retries.changed(now, self.retry_counts.retries)
            else:
                self.history.first_attempts.changed(now, self.retry_counts.attempts - self.retry_counts.retries)
        self._step((CallStarted, now, item.number, name, self.in_flight))

    def _handled(self, name: str, item: Item, now: float, latency: float) -> None:
        """An item was handled (`handle` counted it): tell the watchers."""
        if self.history is not None:
            self.history.handled_one(now, self.ledger.handled, latency)
            if latency > self.slo:
                self.history.late.changed(now, self.ledger.late)
        self._step((ItemHandled, now, item.number, name, latency))

    def subscribe(self, observer: Observer) -> None:
        """Send every event to `observer` from now on."""
        self.observers.append(observer)
        self._listen()

    def keep_history(self, history: History) -> None:
        """Keep every event, and qsize and in-flight whenever they change, in `history`."""
        self.history = history
        self.ledger.qsize_bins = history.qsize
        if self.adaptive is not None:
            history.limit = Bins(history.seconds_per_bin, history.bins)
            history.limit.changed(0.0, self.adaptive.limit)
        self._listen()

    def _listen(self) -> None:
        self.watched = True
        # A dashboard keeps a history and has no observers: the routine steps go straight into
        # its event log's ring, a call into C rather than a Python function, several times per
        # item; the rarer events go through History.record, which groups them for the log.
        if self.history is not None and not self.observers:
            self._emit = self.history.record
            self._step = self.history.log.keep_routine
        else:
            self._emit = self._step = self._send

    def _send(self, raw: RawEvent) -> None:
        """Keep `raw` in the history, if any, and send its event object to the observers."""
        if self.history is not None:
            self.history.record(raw)
        event = raw[0](*raw[1:])
        for observer in self.observers:
            observer(event)

    def snapshot(self) -> Snapshot:
        """The pipeline's state now, for a dashboard frame."""
        now = self.now if self._loop is not None else 0.0
        ledger = self.ledger
        lag = max(0.0, now - self._next_due) if self.producer_state is ProducerState.BLOCKED else 0.0
        return Snapshot(
            now=now,
            qsize=self.queue.qsize(),
            maxsize=self.queue.maxsize,
            max_qsize=ledger.max_qsize,
            mean_qsize=ledger.mean_qsize(now),
            producer=self.producer_state,
            producer_lag=lag,
            blocked_seconds=ledger.blocked_so_far(now),
            workers=tuple(self.worker_states),
            in_flight=self.in_flight,
            concurrency=self._concurrency_now(),
            counts=ledger.counts(),
            latency_p50=ledger.latency.percentile(50),
            latency_p95=ledger.latency.percentile(95),
            latency_p99=ledger.latency.percentile(99),
            latency_max=ledger.latency.max,
            shutdown=self.shutdown_mode,
            breaker=self.breaker.looks(now).value if self.breaker is not None else None,
            retries=self.retry_counts.retries if self.scenario.retry is not None else None,
            service=self._service_state(now),
            adaptive=self.adaptive.name if self.adaptive is not None else None,
        )

    def _concurrency_now(self) -> int | None:
        """The limit on calls in flight now: the semaphore's size, or an adaptive limit's now."""
        if self.adaptive is not None:
            return self.adaptive.limit
        concurrency = self.scenario.downstream.concurrency
        return concurrency if isinstance(concurrency, int) else None

    def _service_state(self, now: float) -> ServiceState | None:
        service = self.service
        if service is None:
            return None
        outage = service.outage_at(now) if service.outages else None
        return ServiceState(
            in_service=service.in_service,
            capacity=service.capacity,
            waiting=len(service.waiting),
            wasted_calls=service.wasted_calls_at(now),
            wasted_seconds=service.wasted_seconds(now),
            outage=outage.mode if outage is not None else None,
        )
