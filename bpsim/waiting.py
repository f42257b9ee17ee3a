"""Where a user's code stands: which of its lines a task is at, and what that line awaits.

A stalled program ("every task waits and no timer is pending") is explained task by task:
`worker-0 waits at pipeline.py:18 in worker: await Queue.get()`. A task's coroutine is a chain
of coroutines (`cr_await`): the user's own, then asyncio's (`Queue.get`, `Semaphore.acquire`,
`TaskGroup.__aexit__`), ending in the Future that is not done. The user's innermost frame is the
line to show; asyncio's outermost coroutine is what it awaits, in the words the user wrote.
"""

from __future__ import annotations

import asyncio
import os
import sys
import sysconfig
from dataclasses import dataclass
from types import FrameType

__all__ = ["Waiting", "waiting", "is_user_file", "user_frame", "where"]

_NOT_USER = tuple(
    os.path.join(os.path.realpath(path), "")
    for path in {
        os.path.dirname(__file__),  # bpsim
        *(sysconfig.get_paths()[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")),
        os.path.dirname(os.path.dirname(asyncio.__file__)),  # the stdlib a venv's Python comes from
    }
)


def is_user_file(filename: str) -> bool:
    """Whether `filename` is the user's code: not bpsim, not the standard library, not an installed package."""
    if filename.startswith("<"):
        return False
    return not os.path.realpath(filename).startswith(_NOT_USER)


def where(filename: str, lineno: int | None) -> str:
    """`pipeline.py:18`: the file as the user would name it (relative to the current directory when inside it)."""
    shown = filename
    with_cwd = os.path.relpath(filename) if os.path.isabs(filename) else filename
    if not with_cwd.startswith(os.pardir):
        shown = with_cwd
    return f"{shown}:{lineno}" if lineno is not None else shown


def user_frame(frame: FrameType | None = None) -> FrameType | None:
    """The innermost frame of the user's code on the current stack (from `frame` outwards)."""
    frame = frame if frame is not None else sys._getframe(1)
    while frame is not None and not is_user_file(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


@dataclass(frozen=True, slots=True)
class Waiting:
    """What one pending task waits on."""

    task: str
    """The task's name (`asyncio.Task.get_name()`)."""
    at: str | None
    """`pipeline.py:18`: the user's line the task is suspended at (None: not in user code)."""
    function: str | None
    """The user's function that line is in (`worker`)."""
    awaits: str
    """What that line awaits: `Queue.get()`, `Semaphore.acquire()`, `a Future`, `task worker-1`."""


def waiting(loop: asyncio.AbstractEventLoop) -> list[Waiting]:
    """What every pending task of `loop` waits on, in the order the tasks were created."""
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    return [_waiting(task) for task in sorted(tasks, key=_creation_order)]


def _creation_order(task: asyncio.Task[object]) -> tuple[int, str]:
    # Default names are "Task-N", N counting up: the best order available (a set has none);
    # named tasks come after them, by name.
    name = task.get_name()
    number = name.removeprefix("Task-")
    return (int(number), "") if name.startswith("Task-") and number.isdigit() else (sys.maxsize, name)


def _waiting(task: asyncio.Task[object]) -> Waiting:
    at: str | None = None
    function: str | None = None
    awaits: str | None = None
    awaited: object = task.get_coro()
    while True:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None) or getattr(awaited, "ag_frame", None)
        if frame is None:
            break
        if is_user_file(frame.f_code.co_filename):
            at, function, awaits = where(frame.f_code.co_filename, frame.f_lineno), frame.f_code.co_name, None
        elif awaits is None:
            awaits = f"{_method_name(frame)}()"
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None) or getattr(awaited, "ag_await", None)
    if awaits is None:
        # A coroutine awaiting a Future holds the Future's iterator (C: `FutureIter`), not the
        # Future; the task keeps the Future it waits for, under a private name (3.11-3.14).
        awaits = _future_words(getattr(task, "_fut_waiter", None))
    return Waiting(task.get_name(), at, function, awaits)


def _method_name(frame: FrameType) -> str:
    """`Queue.get`: the method by the class of the object it was called on, as the user wrote
    it (on 3.11 the backported Queue's `get` is defined in a mixin)."""
    owner = frame.f_locals.get("self")
    name = frame.f_code.co_name
    return f"{type(owner).__name__}.{name}" if owner is not None and "." in frame.f_code.co_qualname else frame.f_code.co_qualname


def _future_words(awaited: object) -> str:
    if isinstance(awaited, asyncio.Task):
        return f"task {awaited.get_name()}"
    if type(awaited) is asyncio.Future:
        return "a Future"
    if type(awaited).__name__ == "_GatheringFuture":
        return "asyncio.gather()"
    if isinstance(awaited, asyncio.Future):
        return f"a {type(awaited).__name__.lstrip('_')}"
    return "something that is not a Future" if awaited is not None else "nothing"
