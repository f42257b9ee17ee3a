"""Probes: what a user's asyncio program does with its queues, semaphores, timeouts and tasks.

While `Probes` is installed, `asyncio.Queue` (and `PriorityQueue`, `LifoQueue`),
`asyncio.Semaphore`, `asyncio.BoundedSemaphore` and the `Timeout` behind `asyncio.timeout` are
same-named subclasses of asyncio's own classes that record what happens to them, in the loop's
(virtual) time, exactly: every change is timed when it happens, nothing is sampled.

The program's output and tracebacks must stay CPython's, so no public method is wrapped (a
wrapper would be a frame in every traceback through `Queue.put`). The subclasses use only:

* a queue's storage hooks `_init`, `_put`, `_get`, which asyncio documents for subclasses; and its
  `_putters` / `_getters` deques, replaced by `WaitLine`s, deques that time each waiter;
* a semaphore's `_value` (a property here: held = size - value) and `_waiters` (a `WaitLine`);
* a timeout's `_state` (a property: entered, fired when it becomes "expiring");
* tasks through `loop.set_task_factory` (the public hook) and a done callback.

Each object is named by the variable it was assigned to, else by where it was created
(`bpsim.sourcenames`); a name used twice gets `#2`, `#3`. `snapshot()` gives the numbers at any
moment (the live dashboard), the same at the end (the summary), and `to_dict` their JSON.
"""

from __future__ import annotations

import asyncio
import asyncio.locks
import asyncio.queues
import asyncio.tasks
import asyncio.timeouts
import collections
import os
import sys
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from operator import attrgetter
from types import GenericAlias, ModuleType
from typing import Any, Protocol

from bpsim import compat, sourcenames
from bpsim.program import ProgramLoop, ProgramObserver, ProgramResult, ProgramRun

__all__ = [
    "Probes",
    "ProbesObserver",
    "ProgramSnapshot",
    "QueueStats",
    "SemaphoreStats",
    "TaskCounts",
    "TimeoutStats",
    "WaitLine",
    "program_json",
    "to_dict",
]

_Clock = Callable[[], float]


class Clocked(Protocol):
    """What times a change: `now()`, which the probes point at a loop's clock once it exists
    (a queue made at a module's top level, before `asyncio.run`, is timed by the loop too)."""

    now: _Clock


class WaitLine(collections.deque[Any]):
    """A deque of waiters' futures that times each one from `append` until it leaves.

    asyncio adds a waiter with `append` and takes it out with `popleft` (woken in turn) or
    `remove` (woken or cancelled); no other deque method changes these deques. A semaphore's
    waiter stays in its deque after it was given the permit, until its task runs again (in the
    same instant): `waiting` leaves those out.
    """

    def __init__(self, clock: Clocked) -> None:
        super().__init__()
        self._clock = clock
        self._since: dict[Any, float] = {}
        self.waited = 0.0
        """Seconds waited by the waiters that have left (the ones still here: `waited_until`)."""
        self.most = 0
        """The most waiters at once (`waiting`)."""

    @property
    def waiting(self) -> int:
        """The waiters not yet woken. They are woken first come, first served, so the woken ones
        lead the line (a cancelled one elsewhere leaves it at once): scanning stops at the first
        waiter still waiting, which keeps this O(1) for a long line."""
        woken = 0
        for waiter in self:
            if not waiter.done():
                break
            woken += 1
        return len(self) - woken

    def append(self, waiter: Any) -> None:
        super().append(waiter)
        self._since[waiter] = self._clock.now()
        self.most = max(self.most, self.waiting)

    def popleft(self) -> Any:
        waiter = super().popleft()
        self._left(waiter)
        return waiter

    def remove(self, waiter: Any) -> None:
        super().remove(waiter)
        self._left(waiter)

    def _left(self, waiter: Any) -> None:
        since = self._since.pop(waiter, None)
        if since is not None:
            self.waited += self._clock.now() - since

    def waited_until(self, now: float) -> float:
        """Seconds waited by every waiter so far, counting the ones still waiting up to `now`."""
        return self.waited + sum(now - since for since in self._since.values())


# -- what is recorded, per object ---------------------------------------------------------------


class _QueueProbe:
    def __init__(self, site: sourcenames.Site | None, kind: str, maxsize: int, clock: Clocked) -> None:
        self.site, self.kind, self.maxsize, self.clock = site, kind, maxsize, clock
        self.name = ""
        self.putters, self.getters = WaitLine(clock), WaitLine(clock)
        self.qsize = self.put = self.got = self.discarded = self.max_qsize = 0
        self._since = clock.now()
        self._area = 0.0  # the integral of qsize over time
        self._full = 0.0  # seconds with qsize >= maxsize (a bounded queue)

    def _advance(self, now: float) -> None:
        elapsed = now - self._since
        self._area += self.qsize * elapsed
        if 0 < self.maxsize <= self.qsize:
            self._full += elapsed
        self._since = now

    def resized(self, qsize: int) -> None:
        self._advance(self.clock.now())
        self.qsize = qsize
        self.max_qsize = max(self.max_qsize, qsize)

    def stats(self, now: float, start: float) -> QueueStats:
        self._advance(now)
        span = now - start
        return QueueStats(
            name=self.name,
            kind=self.kind,
            created_at=_where(self.site),
            maxsize=self.maxsize,
            qsize=self.qsize,
            blocked_putters=self.putters.waiting,
            waiting_getters=self.getters.waiting,
            put=self.put,
            got=self.got,
            discarded=self.discarded,
            max_qsize=self.max_qsize,
            mean_qsize=self._area / span if span > 0 else float(self.qsize),
            full_seconds=self._full,
            putters_blocked_seconds=self.putters.waited_until(now),
            most_blocked_putters=self.putters.most,
        )


class _SemaphoreProbe:
    def __init__(self, site: sourcenames.Site | None, kind: str, size: int, clock: Clocked) -> None:
        self.site, self.kind, self.size = site, kind, size
        self.name = ""
        self.waiters = WaitLine(clock)
        self.value = size
        self.max_held = 0

    def changed(self, value: int) -> None:
        self.value = value
        self.max_held = max(self.max_held, self.size - value)

    def stats(self, now: float) -> SemaphoreStats:
        return SemaphoreStats(
            name=self.name,
            kind=self.kind,
            created_at=_where(self.site),
            size=self.size,
            held=max(0, self.size - self.value),
            waiters=self.waiters.waiting,
            max_held=self.max_held,
            max_waiters=self.waiters.most,
            wait_seconds=self.waiters.waited_until(now),
        )


class _TimeoutProbe:
    """One `asyncio.timeout(...)` in the source: every scope it made, entered and fired."""

    def __init__(self, site: sourcenames.Site) -> None:
        self.site = site
        self.name = ""
        self.entered = self.fired = self.active = 0

    def stats(self) -> TimeoutStats:
        return TimeoutStats(name=self.name, created_at=_where(self.site), entered=self.entered, fired=self.fired, active=self.active)


def _state(task: asyncio.Task[Any]) -> str:
    """A task's state, as `TaskCounts` names it."""
    if not task.done():
        # `_fut_waiter` is the future a task waits on (None: it is ready to run).
        return "running" if getattr(task, "_fut_waiter", None) is None else "waiting"
    if task.cancelled():
        return "cancelled"
    # `_exception`, not `exception()`: asking marks the exception as seen, and asyncio would no
    # longer log "Task exception was never retrieved" for it, which the program's output has.
    return "failed" if getattr(task, "_exception", None) is not None else "done"


def _where(site: sourcenames.Site | None) -> str:
    return site.where if site is not None else "asyncio"


# -- what a snapshot says -----------------------------------------------------------------------


@dataclass(frozen=True)
class QueueStats:
    """One queue at one moment: its state now (qsize ... waiting_getters) and its history so far."""

    name: str
    kind: str
    created_at: str
    maxsize: int
    qsize: int
    blocked_putters: int
    waiting_getters: int
    put: int
    got: int
    discarded: int
    """Items `shutdown(immediate=True)` threw away (they were put, never got)."""
    max_qsize: int
    mean_qsize: float
    full_seconds: float
    putters_blocked_seconds: float
    """Seconds spent waiting in `put` by all putters together (two blocked for 1 s: 2 s)."""
    most_blocked_putters: int


@dataclass(frozen=True)
class SemaphoreStats:
    name: str
    kind: str
    created_at: str
    size: int
    held: int
    waiters: int
    max_held: int
    max_waiters: int
    wait_seconds: float
    """Seconds spent waiting in `acquire` by all waiters together."""


@dataclass(frozen=True)
class TimeoutStats:
    name: str
    created_at: str
    entered: int
    fired: int
    """Scopes whose deadline came while they were entered (each cancels its task: TimeoutError)."""
    active: int


@dataclass(frozen=True)
class TaskCounts:
    """Tasks by state: running (ready to run), waiting (on a future), done, cancelled, failed."""

    running: int = 0
    waiting: int = 0
    done: int = 0
    cancelled: int = 0
    failed: int = 0

    @property
    def created(self) -> int:
        return self.running + self.waiting + self.done + self.cancelled + self.failed


@dataclass(frozen=True)
class ProgramSnapshot:
    """Everything the probes know at virtual time `time`: the dashboard's frame, or the summary."""

    time: float
    queues: tuple[QueueStats, ...]
    semaphores: tuple[SemaphoreStats, ...]
    timeouts: tuple[TimeoutStats, ...]
    tasks: TaskCounts

    @property
    def timeouts_fired(self) -> int:
        return sum(timeout.fired for timeout in self.timeouts)


def to_dict(snapshot: ProgramSnapshot) -> dict[str, Any]:
    """The probes' JSON (`bpsim run FILE.py --json`): plain numbers and names, no translated text.

    Times are the clock's floats, unrounded, as a scenario's JSON has them: `bpsim code`'s
    round trip compares a program's `ended_at` with its scenario's `duration` exactly."""
    return {
        "time": snapshot.time,
        "queues": [asdict(queue) for queue in snapshot.queues],
        "semaphores": [asdict(semaphore) for semaphore in snapshot.semaphores],
        "timeouts": [asdict(timeout) for timeout in snapshot.timeouts],
        "tasks": {**asdict(snapshot.tasks), "created": snapshot.tasks.created},
    }


def program_json(result: ProgramResult, snapshot: ProgramSnapshot) -> dict[str, Any]:
    """`bpsim run FILE.py --json`: how the program ended, what the probes saw at its end
    (`to_dict`), and every line it printed with the simulated second it began at."""
    return {
        "program": result.path,
        "exit_code": result.exit_code,
        "ended_at": result.ended_at,
        **to_dict(snapshot),
        "printed": [{"at": line.at, "text": line.text} for line in result.printed],
    }


# -- the session ---------------------------------------------------------------------------------

_ASYNCIO_DIR = os.path.dirname(asyncio.__file__)
_OURS = (os.path.abspath(__file__), os.path.abspath(compat.__file__))


def _library(filename: str) -> bool:
    """A frame of asyncio, its backport or these probes: not where the user created something."""
    return filename.startswith(_ASYNCIO_DIR) or filename in _OURS or f"{os.sep}backports{os.sep}" in filename


class Probes:
    """Install for the length of a user program's run; `attach` the loop it runs on.

        probes = Probes()
        with probes.installed():
            asyncio.run(main(), loop_factory=lambda: probes.attach(VirtualTimeLoop()))
        probes.snapshot()

    Everything is put back when the `with` ends, also after an exception.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self.now: _Clock = self._no_loop
        """The time everything is timed by: the attached loop's `time` (0 before there is one)."""
        self._start = 0.0
        self._queues: list[_QueueProbe] = []
        self._semaphores: list[_SemaphoreProbe] = []
        self._timeouts: dict[tuple[str, int, str | None], _TimeoutProbe] = {}
        self._names: collections.Counter[str] = collections.Counter()
        self._ended = collections.Counter[str]()
        self._patched: list[tuple[ModuleType, str, object]] = []
        self._task_factory: Any = None
        self._main: asyncio.Task[Any] | None = None
        self._tasks: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
        """The program's tasks not yet counted as ended (weakly: a task the program drops is
        destroyed as it would be without bpsim, "Task was destroyed but it is pending")."""
        self.final: ProgramSnapshot | None = None
        """The program's end: the snapshot taken when the loop's first task (asyncio.run's main())
        ended, before asyncio.run cancels what is left, or when `stop` was called; None until then."""
        self._stopped = False

    # -- time and names

    @staticmethod
    def _no_loop() -> float:
        return 0.0

    def _named(self, site: sourcenames.Site | None, fallback: str) -> str:
        name = site.name if site is not None else fallback
        self._names[name] += 1
        count = self._names[name]
        return name if count == 1 else f"{name}#{count}"

    # -- installing

    @contextmanager
    def installed(self) -> Iterator[Probes]:
        """Swap asyncio's classes for the probed ones until the block ends."""
        self.install()
        try:
            yield self
        finally:
            self.restore()

    def install(self) -> None:
        queue = _queue_class(self, _queue_base("Queue"))
        semaphore = _semaphore_class(self)
        classes: dict[str, type] = {
            "Queue": queue,
            "PriorityQueue": _like("PriorityQueue", _queue_base("PriorityQueue"), (queue,), {}),
            "LifoQueue": _like("LifoQueue", _queue_base("LifoQueue"), (queue,), {}),
            "Semaphore": semaphore,
            "BoundedSemaphore": _like("BoundedSemaphore", asyncio.locks.BoundedSemaphore, (semaphore,), {}),
        }
        classes["Timeout"] = _timeout_class(self)
        homes = {"Timeout": asyncio.timeouts, "Semaphore": asyncio.locks, "BoundedSemaphore": asyncio.locks}
        for name, probed in classes.items():
            # asyncio.timeout() makes asyncio.timeouts.Timeout: the module's name is the one that counts
            for module in (asyncio, homes.get(name, asyncio.queues)):
                self._patched.append((module, name, getattr(module, name)))
                setattr(module, name, probed)

    def restore(self) -> None:
        """Put asyncio's own classes (and the loop's task factory) back."""
        while self._patched:
            module, name, original = self._patched.pop()
            setattr(module, name, original)
        if self._loop is not None and not self._loop.is_closed() and self._loop.get_task_factory() == self._new_task:
            self._loop.set_task_factory(self._task_factory)
        sourcenames.forget()

    def attach(self, loop: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
        """Time everything by `loop`'s clock and count the tasks created on it; returns `loop`."""
        self._loop = loop
        self.now = loop.time  # the loop's own method: one call per change timed
        self._start = loop.time()
        self._main = None
        self._task_factory = loop.get_task_factory()
        loop.set_task_factory(self._new_task)
        return loop

    # -- tasks

    def _new_task(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        task = asyncio.tasks.Task(coro, loop=loop, **kwargs)
        code = getattr(coro, "cr_code", None)
        if code is not None and code.co_filename.startswith(_ASYNCIO_DIR):
            return task  # asyncio.run's own clean-up (shutdown_asyncgens ...): not the program's
        if self._main is None:
            self._main = task  # asyncio.run's main(): the program's end is when it ends
        # Registered first, so it runs before the program's own callbacks on this task (a task
        # group's, an awaiter's) and keeps the task alive no longer than they do.
        task.add_done_callback(self._task_ended)
        self._tasks.add(task)
        return task

    def _task_ended(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._ended[_state(task)] += 1
        if task is self._main and not self._stopped:
            self.final = self.snapshot()

    def stop(self) -> None:
        """The program is stopped now (a stall, Ctrl-C, a refused call, --max-duration): `final` is
        this moment, as it was, not what asyncio.run's clean-up (cancelling every task) makes of it."""
        if not self._stopped:
            self._stopped = True
            self.final = self.snapshot()

    def _task_counts(self) -> TaskCounts:
        # A task that has ended but whose done callbacks have not run yet (main() cancels two
        # tasks and returns: they end in the same step as main, before `_task_ended` hears of
        # them) is counted by its state here, so that no task is ever missing from the counts.
        counts = self._ended.copy()
        for task in self._tasks:
            counts[_state(task)] += 1
        return TaskCounts(counts["running"], counts["waiting"], counts["done"], counts["cancelled"], counts["failed"])

    # -- the objects' hooks

    def queue_created(self, queue: object, maxsize: int) -> _QueueProbe:
        site = sourcenames.creation_site(_library, queue)
        kind = type(queue).__name__
        probe = _QueueProbe(site, kind, maxsize, self)
        probe.name = self._named(site, kind)
        self._queues.append(probe)
        return probe

    def semaphore_created(self, semaphore: object, size: int) -> _SemaphoreProbe:
        site = sourcenames.creation_site(_library, semaphore)
        kind = type(semaphore).__name__
        probe = _SemaphoreProbe(site, kind, size, self)
        probe.name = self._named(site, kind)
        self._semaphores.append(probe)
        return probe

    def timeout_created(self) -> _TimeoutProbe | None:
        """The probe of the `asyncio.timeout(...)` line creating a Timeout (None: asyncio's own,
        such as `wait_for`'s on 3.12+, so that the count is the same on every Python)."""
        site = sourcenames.creation_site(lambda name: name in _OURS or name == asyncio.timeouts.__file__)
        if site is None or _library(site.filename):
            return None
        key = (site.filename, site.line, site.variable)
        if key not in self._timeouts:
            self._timeouts[key] = _TimeoutProbe(site)
            self._timeouts[key].name = self._named(site, "timeout")
        return self._timeouts[key]

    # -- reading

    def snapshot(self) -> ProgramSnapshot:
        now = self.now()
        return ProgramSnapshot(
            time=now - self._start,
            queues=tuple(probe.stats(now, self._start) for probe in self._queues),
            semaphores=tuple(probe.stats(now) for probe in self._semaphores),
            timeouts=tuple(probe.stats() for probe in self._timeouts.values()),
            tasks=self._task_counts(),
        )


# -- the probed classes ---------------------------------------------------------------------------
#
# Each is made per session (the session is a class attribute) with asyncio's class's own name,
# module and docstring, so that repr(), type(x).__name__ and isinstance read as they would
# without bpsim. Only private hooks are defined: no frame is added to any public method.


def _like(name: str, base: type, extra: tuple[type, ...], body: dict[str, Any]) -> type:
    body |= {"__module__": base.__module__, "__qualname__": name, "__doc__": base.__doc__}
    return type(name, (*extra, base), body)


def _queue_base(name: str) -> type:
    """The class the probed one subclasses: asyncio's as the program would find it (the runner's,
    with `shutdown()` on 3.11 and 3.12), else bpsim.compat's."""
    current: type = getattr(asyncio, name)
    return current if hasattr(current, "shutdown") else getattr(compat, name)


def _queue_class(probes: Probes, base: type) -> type:
    """The probed Queue. The probed PriorityQueue and LifoQueue subclass it and asyncio's own
    (`_like(name, base, (queue,), {})`), so these hooks call down to their storage."""
    queue: Any  # made below, from these hooks

    def _init(self: Any, maxsize: int) -> None:
        super(queue, self)._init(maxsize)
        probe = probes.queue_created(self, maxsize)
        self._bpsim_probe, self._putters, self._getters = probe, probe.putters, probe.getters

    def _put(self: Any, item: Any) -> None:
        super(queue, self)._put(item)
        probe = self.__dict__.get("_bpsim_probe")
        if probe is not None:  # None: a subclass's own `_init` did not call this one (not seen)
            probe.put += 1
            probe.resized(self.qsize())

    def _get(self: Any) -> Any:
        item = super(queue, self)._get()
        probe = self.__dict__.get("_bpsim_probe")
        if probe is None:
            return item
        # `shutdown(immediate=True)` empties the queue through `_get`: those items were not got
        if self._is_shutdown and _called_from("shutdown"):
            probe.discarded += 1
        else:
            probe.got += 1
        probe.resized(self.qsize())
        return item

    # `asyncio.Queue[int]` as asyncio's Queue has it (on 3.11 the backport is a typing.Generic,
    # whose subscript a subclass made by type() would refuse)
    hooks = {"_init": _init, "_put": _put, "_get": _get, "__class_getitem__": classmethod(GenericAlias)}
    queue = _like("Queue", base, (), hooks)
    return queue


def _called_from(function: str) -> bool:
    """Whether the caller's caller is a function called `function`."""
    return sys._getframe(2).f_code.co_name == function


def _semaphore_class(probes: Probes) -> type:
    """The probed Semaphore (the probed BoundedSemaphore subclasses it and asyncio's own)."""

    def set_value(self: Any, value: int) -> None:
        self.__dict__["_bpsim_value"] = value
        probe = self.__dict__.get("_bpsim_probe")
        if probe is None:
            # `Semaphore.__init__` sets `_waiters = None` and then `_value`: the size is known now,
            # and acquire() will use the timed deque instead of making its own.
            probe = self.__dict__["_bpsim_probe"] = probes.semaphore_created(self, value)
            self.__dict__["_waiters"] = probe.waiters
        probe.changed(value)

    # Read in C (`attrgetter`): a semaphore reads `_value` several times per acquire and release.
    return _like("Semaphore", asyncio.locks.Semaphore, (), {"_value": property(attrgetter("_bpsim_value"), set_value)})


def _timeout_class(probes: Probes) -> type:
    states = asyncio.timeouts._State  # type: ignore[attr-defined]  # typeshed leaves it out

    def set_state(self: Any, state: Any) -> None:
        self.__dict__["_bpsim_state"] = state
        if state is states.CREATED:
            self.__dict__["_bpsim_probe"] = probes.timeout_created()
        probe = self.__dict__.get("_bpsim_probe")
        if probe is None:
            return
        if state is states.ENTERED:
            probe.entered += 1
            probe.active += 1
        elif state is states.EXPIRING:
            probe.fired += 1
        elif state in (states.EXITED, states.EXPIRED):
            probe.active -= 1

    return _like("Timeout", asyncio.timeouts.Timeout, (), {"_state": property(attrgetter("_bpsim_state"), set_state)})


# -- watching a program run (`bpsim run FILE.py`) ------------------------------------------------


class ProbesObserver(ProgramObserver):
    """Probes for the length of a `bpsim.program` run: installed after the runner's own patches,
    attached to each loop the program makes, restored before the runner restores asyncio.

    `snapshot()` reads them during the run (the dashboard); `final` is the program's end.
    """

    def __init__(self) -> None:
        self.probes = Probes()
        self.final: ProgramSnapshot | None = None

    def installed(self, run: ProgramRun) -> None:
        self.probes.install()

    def loop_created(self, loop: ProgramLoop) -> None:
        self.probes.attach(loop)

    def snapshot(self) -> ProgramSnapshot:
        return self.probes.snapshot()

    def stopped(self, run: ProgramRun) -> None:
        self.probes.stop()  # the summary is the program as it was at the stop

    def finished(self, run: ProgramRun) -> None:
        self.final = self.probes.final or self.probes.snapshot()
        self.probes.restore()
