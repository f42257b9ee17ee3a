"""Run a user's asyncio program, unchanged, on bpsim's virtual clock: `bpsim run pipeline.py`.

The program runs as `python3 pipeline.py` would run it: as `__main__`, with `sys.argv` set and
its directory first on `sys.path`. For the run's duration only, `asyncio.run`, `asyncio.Runner`
and `asyncio.new_event_loop` make a `ProgramLoop` (a `VirtualTimeLoop`), and on Python 3.11 and
3.12 `asyncio.Queue`, `LifoQueue`, `PriorityQueue` and `QueueShutDown` are bpsim.compat's, which
have 3.13's `shutdown()`. A file that only defines `async def main()` has it run.

What virtual time cannot run stops the program with one clear line naming the user's line:
`time.sleep` and `input()` inside the event loop, threads (`to_thread`, `run_in_executor`), real
sockets, pipes, host name lookups and processes. Ctrl-C stops it at the loop's next step. A
program that can never go on (every task waits, no timer is pending) stops with the list of what
each task waits on (bpsim.waiting); one that never ends stops at `max_duration` simulated
seconds. An uncaught exception is the program's own: `ProgramResult` holds it, without bpsim's
frames in its traceback, for `print_uncaught` to report as Python does.

Observers (`ProgramObserver`) are told when the run starts, when it makes a loop, each line the
program prints (with its simulated time), when bpsim stops it and when it is over: the trace, the
probes and the dashboard are built on them. Pass a `Pacing` to run against the wall clock (a live
view); the program runs the same callbacks in the same order either way.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import contextvars
import functools
import heapq
import inspect
import os
import random
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from importlib.machinery import SourceFileLoader
from typing import Any, NoReturn, TextIO, TypeVar, TypeVarTuple, Unpack, cast

from bpsim import compat, signals
from bpsim.clock import Pacing, VirtualTimeLoop
from bpsim.errors import BpsimError, Stalled
from bpsim.i18n import t
from bpsim.limits import LimitReached
from bpsim.waiting import Waiting, user_frame, waiting, where

__all__ = [
    "DEFAULT_MAX_DURATION",
    "ProgramObserver",
    "Printed",
    "ProgramRun",
    "ProgramResult",
    "ProgramLoop",
    "ProgramError",
    "ProgramStalled",
    "run_program",
    "print_uncaught",
]

DEFAULT_MAX_DURATION = 3600.0
"""Simulated seconds a program may run unless told otherwise (`--max-duration`): one hour. A
program that never ends (`while True: await asyncio.sleep(1)`) would otherwise run forever."""

_CLEANUP_SECONDS = 60.0
"""Simulated seconds a program may take to clean up after Ctrl-C (its tasks are cancelled)."""

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")
_PACKAGE = os.path.join(os.path.dirname(os.path.realpath(__file__)), "")


class ProgramError(BpsimError):
    """The program did something virtual time cannot run, or cannot be run at all (exit code 2)."""


class ProgramStalled(Stalled):
    """Every task of the program waits and no timer is pending: it can never go on."""

    def __init__(self, path: str, at: float, tasks: list[Waiting]) -> None:
        self.path, self.at, self.tasks = path, at, tasks
        super().__init__(self.lines()[0])

    def lines(self) -> list[str]:
        lines = [t("program.stalled", path=where(self.path, None), at=self.at)]
        for task in self.tasks:
            key = "program.waits" if task.at is not None else "program.waits_nowhere"
            lines.append(t(key, task=task.task, at=task.at, function=task.function, awaits=task.awaits))
        if any(task.awaits == "Queue.get()" for task in self.tasks):
            lines.append(t("program.shutdown_hint"))
        return lines


class _Abort(SystemExit):
    """Ends the program at once from wherever it is: a task re-raises SystemExit out of the loop
    (any other exception would only end the task), and `except Exception` in the program cannot
    catch it. The reason is `ProgramRun.stopped_by`, which is kept even if the program catches this."""


@dataclass(frozen=True, slots=True)
class Printed:
    """A line the program printed, and the simulated second it began at."""

    at: float
    text: str


class ProgramObserver:
    """Watches a program's run; override what you need (every method does nothing here).

    Called in this order: `installed` once, after the runner has patched asyncio (compat's queues
    are in place; patch more here, e.g. `asyncio.Queue` to find the program's queues) and before
    the program's first line; `loop_created` for every event loop the program makes; `printed` for
    every line it writes to stdout; `stopped` if bpsim stops the program (a stall, --max-duration,
    a blocking call, Ctrl-C), at that instant, before asyncio's teardown cancels its tasks (what
    the program looked like when it stopped: `run.stopped_by` says why, None for Ctrl-C);
    `finished` once, with `run.result` set, before the runner restores asyncio (undo your patches
    here, in any case: also after an error or Ctrl-C).
    """

    def installed(self, run: ProgramRun) -> None:
        pass

    def loop_created(self, loop: ProgramLoop) -> None:
        pass

    def printed(self, line: Printed) -> None:
        pass

    def stopped(self, run: ProgramRun) -> None:
        pass

    def finished(self, run: ProgramRun) -> None:
        pass


@dataclass(slots=True)
class ProgramResult:
    """How a program ended. `exit_code` is what `python3 FILE.py` would exit with (or bpsim's:
    2 for what virtual time cannot run or a stall, 3 for --max-duration, 130 for Ctrl-C)."""

    path: str
    exit_code: int = 0
    ended_at: float = 0.0
    """The simulated second the program ended at (its last loop's clock)."""
    exception: BaseException | None = None
    """The uncaught exception, without bpsim's frames in its traceback (`print_uncaught` shows it)."""
    exit_message: str | None = None
    """`sys.exit("message")`: Python prints the message to stderr and exits with 1."""
    stopped_by: BpsimError | None = None
    """What bpsim stopped the program for (a blocking call, real I/O, a stall, max_duration)."""
    interrupted: bool = False
    """Ctrl-C (or SIGTERM) stopped it."""
    reader_gone: bool = False
    """stdout's reader went away (`bpsim run prog.py | head`): bpsim stopped it there, quietly."""
    ran_a_loop: bool = True
    """False: the program made no event loop at all (nothing ran on the virtual clock)."""
    exited: bool = False
    """The program ended with `sys.exit()` (or argparse's exit, say)."""
    printed: list[Printed] = field(default_factory=list)


class ProgramLoop(VirtualTimeLoop):
    """A `VirtualTimeLoop` that stops the program where virtual time cannot follow it.

    Every clock jump passes `_next_instant` (the run always has a `Pacing`, which takes the
    loop's slow path), where the jump past `max_duration` and the stall are caught. Real file
    descriptors (a socket's, a pipe's) may not be watched, nor threads started; the loop's own
    (its self-pipe, a live view's keyboard) are registered before the program starts.
    """

    def __init__(self, run: ProgramRun) -> None:
        self._run = run
        self._program_started = False
        super().__init__(run.pacing)
        self._program_started = True

    def _next_instant(self) -> list[Any]:
        run = self._run
        if run.interrupted and self._now > run.interrupted_at + _CLEANUP_SECONDS:
            raise _Abort()  # the program's clean-up after Ctrl-C goes on and on: stop it
        limit = run.max_duration
        if limit is not None and self._scheduled and self._scheduled[0][0] > limit:
            self._now = max(self._now, limit)
            run.stop(LimitReached("max_duration", limit, self._now))
        try:
            return super()._next_instant()
        except Stalled:
            thread = next((thread for thread in run.threads if thread.is_alive()), None)
            if thread is not None:  # it may still wake a task (call_soon_threadsafe), on the wall clock
                run.stop(ProgramError(t("program.thread_running", path=where(run.path, None), at=self._now, thread=thread.name)))
            run.stop(ProgramStalled(run.path, self._now, waiting(self)))

    # asyncio's own handles rather than the clock's faster ones (bpsim.clock, "handles"): a callback
    # that raises is then reported as under python3, `handle: <Handle bad() at prog.py:3>` with
    # asyncio's `Handle._run` frame, not the clock's. Timers keep the clock's FIFO ties.

    def call_soon(self, callback: Callable[[Unpack[_Ts]], object], *args: Unpack[_Ts], context: contextvars.Context | None = None) -> asyncio.Handle:
        return asyncio.BaseEventLoop.call_soon(self, callback, *args, context=context)

    def call_later(self, delay: float, callback: Callable[[Unpack[_Ts]], object], *args: Unpack[_Ts], context: contextvars.Context | None = None) -> asyncio.TimerHandle:
        return asyncio.BaseEventLoop.call_later(self, delay, callback, *args, context=context)

    def call_at(self, when: float, callback: Callable[[Unpack[_Ts]], object], *args: Unpack[_Ts], context: contextvars.Context | None = None) -> asyncio.TimerHandle:
        # BaseEventLoop.call_at, but for the clock's heap of (when, seq, timer): private names,
        # which bpsim.clock's PRIVATE_NAMES checks when the loop is made.
        if self.is_closed():
            raise RuntimeError("Event loop is closed")
        if self.get_debug():
            self._check_thread()  # type: ignore[attr-defined]
            self._check_callback(callback, "call_at")  # type: ignore[attr-defined]
        timer = asyncio.TimerHandle(when, callback, args, self, context)
        heapq.heappush(self._scheduled, (when, next(self._timer_seq), timer))
        timer._scheduled = True  # type: ignore[attr-defined]
        return timer

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        # After Ctrl-C, a stop (a blocking call in any task, a stall, --max-duration) or stdout's
        # reader going away (`| head`), asyncio's complaints about the tasks it cut short ("Task
        # exception was never retrieved: _Abort", "Task was destroyed but it is pending") are not
        # the program's: bpsim says why it stopped, in one line, or (reader gone) nothing.
        run = self._run
        if not run.interrupted and run.stopped_by is None and not run.reader_gone:
            super().call_exception_handler(context)

    # -- what virtual time cannot run ------------------------------------------------------------

    def _add_reader(self, fd: Any, callback: Callable[..., object], *args: Any) -> None:
        self._refuse_real_io(fd, "reading")
        super()._add_reader(fd, callback, *args)  # type: ignore[misc]

    def _add_writer(self, fd: Any, callback: Callable[..., object], *args: Any) -> None:
        self._refuse_real_io(fd, "writing")
        super()._add_writer(fd, callback, *args)  # type: ignore[misc]

    def _refuse_real_io(self, fd: Any, what: str) -> None:
        if self._program_started:
            self._run.refuse("program.real_io", call=f"{what} a socket or pipe, file descriptor {fd}")

    def run_in_executor(self, executor: Executor | None, func: Callable[[Unpack[_Ts]], _T], *args: Unpack[_Ts]) -> asyncio.Future[_T]:
        inner: Any = func
        if isinstance(inner, functools.partial):  # asyncio.to_thread's: partial(context.run, func, ...)
            inner = inner.args[0] if isinstance(getattr(inner.func, "__self__", None), contextvars.Context) else inner.func
        name = getattr(inner, "__qualname__", type(inner).__name__)
        module = getattr(inner, "__module__", None)
        if module not in (None, "__main__", "builtins"):
            name = f"{module}.{name}"
        self._run.refuse("program.thread", call=f"{name}()")

    async def getaddrinfo(self, host: Any, port: Any, **kwargs: Any) -> Any:
        self._run.refuse("program.real_io", call=f"looking up {host!r}")

    async def subprocess_exec(self, *args: Any, **kwargs: Any) -> Any:
        self._run.refuse("program.real_io", call="a subprocess")

    async def subprocess_shell(self, *args: Any, **kwargs: Any) -> Any:
        self._run.refuse("program.real_io", call="a subprocess")


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a stream without isatty, or closed
        return False


class _Output:
    """The program's `sys.stdout`: writes through to the real one (`echo`) and cuts lines for observers."""

    def __init__(
        self, target: TextIO, echo: bool, on_line: Callable[[float, str], None], now: Callable[[], float], on_reader_gone: Callable[[], None]
    ) -> None:
        self._target, self._echo, self._on_line, self._now = target, echo, on_line, now
        self._on_reader_gone = on_reader_gone
        self._pending: list[str] = []
        self._began_at = 0.0

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self._echo:
            try:
                self._target.write(text)
            except BrokenPipeError:  # `bpsim run prog.py | head`: nobody reads any more
                self._on_reader_gone()
        written = len(text)
        while text:
            if not self._pending:
                self._began_at = self._now()
            line, newline, text = text.partition("\n")
            self._pending.append(line)
            if newline:
                done, self._pending = "".join(self._pending), []
                self._on_line(self._began_at, done)
        return written

    def end(self) -> None:
        """The program is over: its last line, if it did not end with a newline, is a line too.

        In a terminal that line is ended, so that what bpsim writes next (a stop's line on stderr,
        the summary) starts a line of its own; piped, stdout stays byte for byte python3's."""
        if self._pending and any(self._pending):
            self._on_line(self._began_at, "".join(self._pending))
            if self._echo and _is_terminal(self._target):
                with contextlib.suppress(OSError, ValueError):
                    self._target.write("\n")
                    self._target.flush()
        self._pending = []

    def flush(self) -> None:
        try:
            self._target.flush()
        except BrokenPipeError:
            self._on_reader_gone()

    def writable(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno, buffer...
        return getattr(self._target, name)


class ProgramRun:
    """One run of a program file; `run()` runs it (once) and returns its `ProgramResult`."""

    def __init__(
        self,
        path: str,
        args: Sequence[str] = (),
        *,
        observers: Sequence[ProgramObserver] = (),
        pacing: Pacing | None = None,
        max_duration: float | None = DEFAULT_MAX_DURATION,
        echo: bool = True,
        seed: int | None = None,
    ) -> None:
        self.path = path
        self.seed = seed
        self.argv = [path, *args]
        self.observers = list(observers)
        self.pacing = pacing if pacing is not None else Pacing(None)
        self.max_duration = max_duration
        self.echo = echo
        self.loops: list[ProgramLoop] = []
        self.stopped_by: BpsimError | None = None
        self.interrupted = False
        self.interrupted_at = 0.0
        """The simulated second Ctrl-C (or SIGTERM) came at."""
        self._outer_sigint: Any = None
        self.reader_gone = False
        """stdout's reader went away (`| head`): the program was stopped there."""
        self.result: ProgramResult | None = None
        self._current: ProgramLoop | None = None
        """The loop `asyncio.get_event_loop()` made current (None: it was not called)."""
        self._printed: list[Printed] = []
        self.threads: list[threading.Thread] = []
        """The threads the program started before its event loop (inside it, a thread is refused)."""

    @property
    def now(self) -> float:
        """The simulated time of the program's latest loop (0 before it made one)."""
        return self.loops[-1].time() if self.loops else 0.0

    # -- stopping ------------------------------------------------------------------------------

    def stop(self, reason: BpsimError) -> NoReturn:
        """End the program at once for `reason` (the first reason is the one reported)."""
        if self.stopped_by is None and not self.interrupted:
            self.stopped_by = reason
            self._tell_stopped()
        raise _Abort()

    def _tell_stopped(self) -> None:
        for observer in self.observers:
            observer.stopped(self)

    def refuse(self, key: str, **fields: object) -> NoReturn:
        """Stop for something virtual time cannot run, named at the user's line that did it."""
        frame = user_frame(sys._getframe(1))
        place = where(frame.f_code.co_filename, frame.f_lineno) if frame is not None else where(self.path, None)
        self.stop(ProgramError(t(key, where=place, **fields)))

    def _interrupt(self) -> None:
        """Ctrl-C or SIGTERM: stop the program, as cleanly as `asyncio.run` would.

        Called in a signal handler (bpsim.signals), between two bytecodes of whatever runs. While
        a loop runs, the stop waits for the loop's next step, where no callback is half done (a
        KeyboardInterrupt raised here could land between taking a task's wake-up off the ready
        queue and running it, and the task would never finish); then asyncio's Runner cancels the
        tasks and they clean up. Outside a loop it is Python's own KeyboardInterrupt.
        """
        self.interrupted = True
        loop = self.loops[-1] if self.loops else None
        if loop is None or not loop.is_running():
            raise KeyboardInterrupt
        self.interrupted_at = loop.time()
        abort = loop.call_soon_threadsafe(self._abort)

        def interrupt_again(signum: int, frame: object) -> None:
            abort.cancel()  # the Runner's clean-up must not meet it
            raise KeyboardInterrupt

        # A coroutine that never awaits (`while True: pass`) never lets the loop take that step:
        # as under asyncio.run, a second Ctrl-C raises KeyboardInterrupt wherever it lands.
        self._outer_sigint = signal.signal(signal.SIGINT, interrupt_again)

    def _reader_gone(self) -> NoReturn:
        """stdout's reader went away: the program's output has nowhere to go, so it stops, quietly."""
        self.reader_gone = True
        raise _Abort()

    def _abort(self) -> NoReturn:
        self._tell_stopped()
        raise _Abort()

    # -- running -------------------------------------------------------------------------------

    def new_loop(self) -> ProgramLoop:
        if self.interrupted:
            raise _Abort()  # the program went on after Ctrl-C (it caught KeyboardInterrupt): not with a new loop
        loop = ProgramLoop(self)
        self.loops.append(loop)
        for observer in self.observers:
            observer.loop_created(loop)
        return loop

    def _get_event_loop(self) -> asyncio.AbstractEventLoop:
        """`asyncio.get_event_loop()` outside a running loop (an old pattern, deprecated in 3.12 and an
        error in 3.14): a virtual loop, made current, and the same one again until it is closed."""
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            pass
        if self._current is None or self._current.is_closed():
            self._current = self.new_loop()
            asyncio.set_event_loop(self._current)
        return self._current

    def _printed_line(self, at: float, text: str) -> None:
        line = Printed(at, text)
        self._printed.append(line)
        for observer in self.observers:
            observer.printed(line)

    def run(self) -> ProgramResult:
        code = _compile(self.path)
        result = ProgramResult(self.path)
        output = _Output(sys.stdout, self.echo, self._printed_line, lambda: self.now, self._reader_gone)
        with self._patched(output), signals.stops(self._interrupt):
            installed: list[ProgramObserver] = []
            try:
                for observer in self.observers:
                    observer.installed(self)
                    installed.append(observer)
                self._execute(code, result)
            finally:
                output.end()
                result.ended_at, result.ran_a_loop, result.printed = self.now, bool(self.loops), self._printed
                self.result = result
                for observer in reversed(installed):
                    observer.finished(self)
                if self._outer_sigint is not None:
                    signal.signal(signal.SIGINT, self._outer_sigint)
                if self._current is not None:
                    asyncio.set_event_loop(None)
                for loop in self.loops:  # one a stop left open (its Runner's teardown was cut short)
                    if not loop.is_closed() and not loop.is_running():
                        loop.close()
        return result

    def _execute(self, code: types.CodeType, result: ProgramResult) -> None:
        module = types.ModuleType("__main__")
        module.__dict__.update(
            __file__=code.co_filename, __cached__=None, __loader__=SourceFileLoader("__main__", code.co_filename)
        )
        previous_main = sys.modules.get("__main__")
        sys.modules["__main__"] = module
        if self.seed is not None:
            random.seed(self.seed)  # the program's `random` draws the same numbers on every run
        try:
            exec(code, module.__dict__)
            main = module.__dict__.get("main")
            if not self.loops and inspect.iscoroutinefunction(main):
                asyncio.run(main())
        except _Abort:
            pass
        except SystemExit as done:
            result.exited = True
            if done.code is None or isinstance(done.code, int):
                result.exit_code = done.code or 0
            else:
                result.exit_code, result.exit_message = 1, str(done.code)
        except KeyboardInterrupt:
            self.interrupted = True
        except BaseException as error:  # the program's own: reported as Python reports it
            result.exception, result.exit_code = _without_bpsim(error), 1
        finally:
            if previous_main is not None:
                sys.modules["__main__"] = previous_main
        result.reader_gone = self.reader_gone
        if self.interrupted:
            result.interrupted, result.exit_code = True, 128 + signal.SIGINT
        elif self.stopped_by is not None:
            result.stopped_by, result.exit_code, result.exception = self.stopped_by, self.stopped_by.exit_code, None

    @contextlib.contextmanager
    def _patched(self, output: _Output) -> Iterator[None]:
        """asyncio, time.sleep and the interpreter's state as the program should find them; all restored after."""
        with contextlib.ExitStack() as undo:
            replacements: list[tuple[object, str, object]] = [
                (asyncio, "run", self._asyncio_run(asyncio.run)),
                (asyncio, "Runner", self._runner_class(asyncio.Runner)),
                (asyncio, "new_event_loop", self.new_loop),
                (asyncio, "get_event_loop", self._get_event_loop),
                (time, "sleep", self._time_sleep(time.sleep)),
                (builtins, "input", self._input(builtins.input)),
                (threading.Thread, "start", self._thread_start(threading.Thread.start)),
                (sys, "argv", self.argv),
                (sys, "path", [os.path.dirname(os.path.abspath(self.path)), *sys.path]),
                (sys, "stdout", output),
            ]
            if sys.version_info < (3, 13):  # pragma: no cover - exercised by the 3.11 CI run
                replacements += [
                    (asyncio, name, getattr(compat, name)) for name in ("Queue", "LifoQueue", "PriorityQueue", "QueueShutDown")
                ]
            for owner, name, value in replacements:
                undo.enter_context(_replaced(owner, name, value))
            yield

    def _asyncio_run(self, original: Callable[..., Any]) -> Callable[..., Any]:
        new_loop = self.new_loop

        if sys.version_info >= (3, 12):

            def run(main: Coroutine[Any, Any, _T], *, debug: bool | None = None, loop_factory: object = None) -> _T:
                # asyncio's own `run`, so that a traceback shows the frames `python3` would.
                return cast(_T, original(main, debug=debug, loop_factory=new_loop))

        else:  # pragma: no cover - exercised by the 3.11 CI run

            def run(main: Coroutine[Any, Any, _T], *, debug: bool | None = None) -> _T:
                if asyncio._get_running_loop() is not None:
                    raise RuntimeError("asyncio.run() cannot be called from a running event loop")
                with asyncio.Runner(debug=debug, loop_factory=new_loop) as runner:
                    return runner.run(main)

        return run

    def _runner_class(self, original: type[asyncio.Runner]) -> type[asyncio.Runner]:
        new_loop = self.new_loop

        class Runner(original):  # type: ignore[valid-type, misc]
            __doc__ = original.__doc__

            def __init__(self, *, debug: bool | None = None, loop_factory: object = None) -> None:
                super().__init__(debug=debug, loop_factory=new_loop)

        return Runner

    def _time_sleep(self, original: Callable[[float], None]) -> Callable[[float], None]:
        @functools.wraps(original)
        def sleep(seconds: float) -> None:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return original(seconds)  # outside the event loop it blocks nothing but the program
            self.refuse("program.time_sleep", seconds=f"{seconds!r}")

        return sleep


    def _quiet_after_stop(self, thread: threading.Thread) -> None:
        """A thread still running when bpsim stopped the program fails on the closed loop ("Event loop
        is closed"): that is bpsim's doing, said in its one line, so its traceback is not printed."""
        invoke = getattr(thread, "_invoke_excepthook", None)  # Thread's own: threading.excepthook, for this thread
        if invoke is None:  # pragma: no cover - a Python without it prints the traceback
            return

        def quiet(failed: threading.Thread) -> None:
            if self.stopped_by is None and not self.interrupted:
                invoke(failed)

        thread._invoke_excepthook = quiet  # type: ignore[attr-defined]

    def _thread_start(self, original: Callable[[threading.Thread], None]) -> Callable[[threading.Thread], None]:
        run = self

        @functools.wraps(original)
        def start(self: threading.Thread) -> None:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                run.threads.append(self)
                run._quiet_after_stop(self)
                return original(self)
            target = getattr(self, "_target", None)  # Thread's own field: what the thread would run
            name = getattr(target, "__qualname__", None) or type(self).__name__
            run.refuse("program.thread", call=f"threading.Thread({name}).start()")

        return start

    def _input(self, original: Callable[[object], str]) -> Callable[[object], str]:
        @functools.wraps(original)
        def input(prompt: object = "") -> str:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return original(prompt)  # before asyncio.run(): a question, nothing to block
            self.refuse("program.input")

        return input


def run_program(
    path: str,
    args: Sequence[str] = (),
    *,
    observers: Sequence[ProgramObserver] = (),
    pacing: Pacing | None = None,
    max_duration: float | None = DEFAULT_MAX_DURATION,
    echo: bool = True,
    seed: int | None = None,
) -> ProgramResult:
    """Run the program file `path` with `sys.argv == [path, *args]` on the virtual clock.

    Raises `ProgramError` before running it if the file is missing or is not valid Python (one
    line: file:line and Python's own message). `echo=False` keeps its stdout from the real one
    (observers still get every line: `--trace` prints them stamped). `seed` seeds `random` before
    the program's first line. See `ProgramRun`.
    """
    run = ProgramRun(path, args, observers=observers, pacing=pacing, max_duration=max_duration, echo=echo, seed=seed)
    return run.run()


def print_uncaught(result: ProgramResult) -> None:
    """Report the program's uncaught exception, or its `sys.exit("message")`, as Python would."""
    if result.exception is not None:
        error = result.exception
        sys.excepthook(type(error), error, error.__traceback__)
    elif result.exit_message is not None:
        print(result.exit_message, file=sys.stderr)


def _compile(path: str) -> types.CodeType:
    if not os.path.exists(path):
        from bpsim.library import bundled_names

        stem = os.path.basename(path).removesuffix(".py")
        if stem in bundled_names():  # `bpsim run handbook.py`, meaning the scenario or its program
            raise ProgramError(t("program.missing_scenario_program", path=path, scenario=stem))
        raise ProgramError(t("program.missing", path=path))
    if not os.path.isfile(path):
        raise ProgramError(t("program.not_a_file", path=path))
    try:
        with open(path, "rb") as file:
            source = file.read()
    except OSError as error:
        raise ProgramError(t("program.unreadable", path=path, reason=error.strerror or error)) from None
    try:
        # Python 3.9+ runs a script under its absolute path (`__file__`, tracebacks).
        return compile(source, os.path.abspath(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None)
        column = getattr(error, "offset", None)
        place = where(path, line) + (f":{column}" if line is not None and column else "")
        message = getattr(error, "msg", None) or str(error)
        raise ProgramError(t("program.syntax", where=place, kind=type(error).__name__, message=message)) from None


@contextlib.contextmanager
def _replaced(owner: object, name: str, value: object) -> Iterator[None]:
    missing = object()
    before = getattr(owner, name, missing)
    setattr(owner, name, value)
    try:
        yield
    finally:
        if before is missing:
            delattr(owner, name)
        else:
            setattr(owner, name, before)


def _without_bpsim(error: BaseException) -> BaseException:
    """`error` with bpsim's own frames taken out of its traceback (and its causes' and group members')."""
    seen: set[int] = set()

    def strip(exc: BaseException | None) -> None:
        if exc is None or id(exc) in seen:
            return
        seen.add(id(exc))
        kept = []
        entry = exc.__traceback__
        while entry is not None:
            if not os.path.realpath(entry.tb_frame.f_code.co_filename).startswith(_PACKAGE):
                kept.append(entry)
            entry = entry.tb_next
        rebuilt: types.TracebackType | None = None
        for entry in reversed(kept):
            rebuilt = types.TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
        exc.__traceback__ = rebuilt
        strip(exc.__cause__)
        strip(exc.__context__)
        for member in getattr(exc, "exceptions", ()):
            strip(member)

    strip(error)
    return error
