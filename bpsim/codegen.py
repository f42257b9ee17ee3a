"""`bpsim code`: a scenario written out as the plain asyncio program it simulates.

The script is the handbook's shape (producer, bounded Queue, workers, Semaphore, asyncio.timeout,
a drop policy, shutdown, TaskGroup) with the scenario's numbers in it, and only the stdlib. It
makes the same random draws as bpsim (`workload.py`: one stream per purpose, seeded by a string,
drawn per item) and awaits in the same order as `pipeline.py` and `policies.py`, so on bpsim's
virtual clock it ends every item where `bpsim run` does. Each piece below writes one part of it
and leaves out what the scenario does not use: a script with no timeout has no `asyncio.timeout`.

What the pipeline does beyond the handbook's code (retries, breakers, the service model, adaptive
limits, other disciplines, data files) is not written: `unsupported` names the key instead.
"""

from __future__ import annotations

import shlex
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path

from bpsim.errors import BpsimError
from bpsim.i18n import t
from bpsim.loader import find_scenario, load_scenario
from bpsim.scenario import (
    AdaptiveConcurrency,
    ConstantService,
    EmpiricalService,
    ExponentialService,
    LognormalService,
    ParetoService,
    Policy,
    Scenario,
    UniformService,
    WeibullService,
    Z_99,
)
from bpsim.text import printable
from bpsim.workload import _segments, _work_at

__all__ = ["program", "script", "unsupported"]

def unsupported(scenario: Scenario) -> list[str]:
    """The keys of `scenario` the script cannot express (none: it can write all of it)."""
    downstream = scenario.downstream
    checks = (
        ("producer.arrivals", scenario.producer.from_file is not None),
        ("workers.service", isinstance(scenario.workers.service, EmpiricalService)),
        ("queue.discipline", scenario.queue.discipline not in ("fifo", "lifo")),
        ("downstream.concurrency", isinstance(downstream.concurrency, AdaptiveConcurrency)),
        ("downstream.capacity", downstream.capacity is not None),
        ("downstream.contention", downstream.contention > 0),
        ("downstream.coherency", downstream.coherency > 0),
        ("downstream.cancel_abandoned", downstream.cancel_abandoned),
        ("downstream.errors", downstream.errors > 0),
        ("downstream.rate_limit", downstream.rate_limit is not None),
        ("downstream.outages", bool(downstream.outages)),
        ("retry", scenario.retry is not None),
        ("breaker", scenario.breaker is not None),
        ("throttle", scenario.throttle is not None),
    )
    return [key for key, present in checks if present]


def script(scenario: Scenario, arguments: str) -> str:
    """The scenario as a runnable Python program. `arguments` are those of the `bpsim code` that
    asked for it (the scenario, its --set and --seed), named in the script's header."""
    assert not unsupported(scenario), unsupported(scenario)
    plan = _Plan(scenario)
    parts = [
        _header(scenario, _one_line(arguments)),
        _imports(plan),
        _constants(plan),
        _item_and_tally(plan),
        (_DRAWS if plan.draws else "") + _arrival_times(scenario),
        _service_times(scenario),
        _items(scenario),
        _producer(plan),
        _worker(plan),
        _handle(plan),
        _stop_now(plan) if plan.may_stop_now else None,
        _main(plan),
        _report(plan),
        'if __name__ == "__main__":\n    asyncio.run(main())\n',
    ]
    return "\n\n".join(part for part in parts if part is not None)


def program(name_or_path: str, overrides: Sequence[str] = (), seed: int | None = None) -> str:
    """What `bpsim code` writes for a scenario file (or bundled name), with --set and --seed.

    Raises ScenarioError for a scenario that does not load, BpsimError for one with a key the
    script cannot express (naming the file and the keys).
    """
    scenario = load_scenario(name_or_path, overrides, seed)
    keys = unsupported(scenario)
    if keys:
        source = name_or_path if Path(name_or_path).exists() else find_scenario(name_or_path).name
        raise BpsimError(t("code.unsupported", source=source, keys=", ".join(keys), name=shlex.quote(name_or_path)))
    arguments = [name_or_path, *(part for override in overrides for part in ("--set", override))]
    if seed is not None:
        arguments += ["--seed", str(seed)]
    return script(scenario, shlex.join(arguments))


def _one_line(text: str) -> str:
    """`text` safe inside a comment: control characters (a newline too) as escapes."""
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")


class _Plan:
    """What the scenario uses, decided once: each piece of the script asks here."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        queue, downstream, shutdown = scenario.queue, scenario.downstream, scenario.shutdown
        self.policy = queue.policy
        self.queue = "LifoQueue" if queue.discipline == "lifo" else "Queue"
        """The queue's class: asyncio.Queue, or with `discipline = "lifo"` LifoQueue (newest first)."""
        self.put_timeout = queue.put_timeout
        self.max_age = queue.max_age
        self.concurrency = downstream.concurrency if isinstance(downstream.concurrency, int) else None
        self.call_timeout = downstream.timeout
        self.after_put = scenario.producer.after_put
        self.deadline = shutdown.at
        self.may_stop_now = shutdown.at is not None
        """An immediate stop can come (at `shutdown.at`): queued items and calls are abandoned."""
        self.early_shutdown = shutdown.at is not None or not shutdown.await_producer
        """The queue may shut down while the producer still produces: its put meets QueueShutDown."""
        scheduled = scenario.producer.rate != "unlimited"
        self.draws = (scheduled and _poisson(scenario)) or not isinstance(scenario.workers.service, ConstantService)
        """Random numbers are drawn (else every arrival and every call's work is fixed: no SEED)."""

    @property
    def ends(self) -> list[str]:
        """The tally's keys this scenario can reach, in the order of bpsim's outcome table."""
        keys = ["produced"]
        if self.early_shutdown and not self.after_put:
            keys.append("never_sent")
        keys.append("handled")
        if self.scenario.slo is not None:
            keys.append("handled_on_time")
        if self.policy is Policy.DROP_NEWEST:
            keys.append("dropped queue-full")
        if self.policy is Policy.DROP_OLDEST:
            keys.append("dropped evicted")
        if self.max_age is not None:
            keys.append("dropped stale")
        if self.put_timeout is not None:
            keys.append("timed_out put")
        if self.call_timeout is not None:
            keys.append("timed_out downstream")
        if self.early_shutdown:
            keys.append("rejected_at_shutdown")
        if self.may_stop_now:
            keys += ["abandoned queued", "abandoned in-worker"]
        return keys


def _block(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


def _lines(*lines: str | None) -> str:
    """The lines that are not None, each ended by a newline."""
    return "".join(line + "\n" for line in lines if line is not None)


def _comment(text: str) -> Iterator[str]:
    """A user's text (a scenario's name or description) as comment lines: never as code."""
    for line in text.splitlines() or [""]:
        yield f"# {line}".rstrip()


def _header(scenario: Scenario, arguments: str) -> str:
    end = f"for {scenario.duration:g} s" if scenario.duration is not None else "until its items are done"
    return _lines(
        *_comment(scenario.name),
        *(_comment(scenario.description) if scenario.description else ()),
        "#",
        f"# Written by `bpsim code {arguments}`: the scenario as a plain asyncio program,",
        "# the handbook's producer, bounded queue, workers and semaphore with the scenario's numbers.",
        f"#   python3 FILE.py      runs it in real time (the producer produces {end})",
        "#   bpsim run FILE.py    runs it on bpsim's virtual clock, at once",
        "# On the virtual clock every item ends as it does in",
        f"#   bpsim run {arguments} --json -",
        '# and the counts printed at the end are that JSON\'s "items". Change anything and rerun.',
    )


def _imports(plan: _Plan) -> str:
    scenario = plan.scenario
    service = scenario.workers.service
    uses_math = isinstance(service, LognormalService | WeibullService)
    scheduled = scenario.producer.rate != "unlimited"
    uses_itertools = (scheduled and not _poisson(scenario)) or (plan.early_shutdown and not plan.after_put)
    return _lines(
        "import asyncio",
        "import itertools" if uses_itertools else None,
        "import math" if uses_math else None,
        "import random" if plan.draws else None,
        "import sys",
        "from collections import Counter",
        "from collections.abc import Iterator",
        "from dataclasses import dataclass",
        "from statistics import NormalDist" if isinstance(service, LognormalService) else None,
        "",
        "try:",
        f"    from asyncio import {plan.queue}, QueueShutDown  # Python 3.13 and newer: Queue.shutdown()",
        "except ImportError:  # 3.11 and 3.12: the same Queue, backported on PyPI (bpsim installs it)",
        "    try:",
        f"        from backports.asyncio.queues import {plan.queue}, QueueShutDown",
        "    except ImportError:",
        '        sys.exit("This script needs Python 3.13+ (Queue.shutdown), or: pip install backports.asyncio.queues")',
    )


def _constants(plan: _Plan) -> str:
    scenario = plan.scenario
    maxsize = scenario.queue.maxsize
    workers = scenario.workers.count
    limit = "no limit" if maxsize == 0 else f"a put waits while it holds {maxsize} items"
    if plan.policy is Policy.DROP_NEWEST:
        limit = "no limit" if maxsize == 0 else f"an item arriving when it holds {maxsize} is dropped"
    elif plan.policy is Policy.DROP_OLDEST:
        limit = "no limit" if maxsize == 0 else f"at {maxsize} items the oldest makes room for the newest"
    if plan.queue == "LifoQueue":
        limit += "; a worker gets the newest item first"
    shutdown_at = None
    if plan.deadline is not None:
        what = "stop at once, abandoning" if scenario.shutdown.mode == "immediate" else "the graceful shutdown's deadline: then stop at once, abandoning"
        shutdown_at = f"SHUTDOWN_AT = {plan.deadline!r}  # seconds: {what} what is left"
    return _lines(
        f"SEED = {scenario.seed}  # the same seed draws the same random numbers: the same run" if plan.draws else None,
        f"DURATION = {scenario.duration!r}  # seconds during which the producer produces" if scenario.duration is not None else None,
        f"ITEMS = {scenario.items}  # the producer produces this many items" if scenario.items is not None else None,
        f"MAXSIZE = {maxsize}  # asyncio.{plan.queue}(maxsize={maxsize}): {limit}",
        f"PUT_TIMEOUT = {plan.put_timeout!r}  # asyncio.timeout({plan.put_timeout!r}) on a put that waits for room" if plan.put_timeout is not None else None,
        f"MAX_AGE = {plan.max_age!r}  # a worker drops an item that has waited longer than this, unhandled" if plan.max_age is not None else None,
        f"WORKERS = {workers}  # worker tasks taking items from the queue",
        f"CONCURRENCY = {plan.concurrency}  # asyncio.Semaphore({plan.concurrency}): at most {plan.concurrency} downstream calls at once" if plan.concurrency is not None else None,
        f"CALL_TIMEOUT = {plan.call_timeout!r}  # asyncio.timeout({plan.call_timeout!r}) around each downstream call" if plan.call_timeout is not None else None,
        f"SLO = {scenario.slo!r}  # a handled item slower than this is late" if scenario.slo is not None else None,
        shutdown_at,
        'VERBOSE = "-v" in sys.argv[1:]  # print every step (see say())',
    )


def _item_and_tally(plan: _Plan) -> str:
    busy = None
    if plan.may_stop_now:
        busy = 'busy: set[str] = set()  # the workers holding an item: a stop at once cancels them'
    return _lines(
        "@dataclass",
        "class Item:",
        "    number: int",
        "    arrival: float  # when it is due, on the loop's clock (its latency counts from here)",
        "    work: float  # seconds its downstream call takes",
        "",
        "",
        "tally: Counter[str] = Counter()  # where every item ended, by bpsim's names: handled, dropped...",
        busy,
        "",
        "",
        "def say(*words: object) -> None:",
        '    """Print a step, as the handbook\'s example does, when asked: python3 FILE.py -v (or bpsim run FILE.py -- -v)."""',
        "    if VERBOSE:",
        "        print(*words)",
    )


def _poisson(scenario: Scenario) -> bool:
    """Whether the arrivals are random (a Poisson process, or after-put's exponential gaps)."""
    producer = scenario.producer
    return producer.arrivals == "poisson" or (producer.after_put and producer.gaps == "exponential")


_DRAWS = """\
# The traffic, drawn as bpsim draws it: one random stream per purpose (arrivals, service), each
# seeded by a string and drawn once per item in order. Item k gets the same arrival and the same
# work whatever else you change (the queue, the policy, the workers): comparisons are fair.
"""


def _arrival_times(scenario: Scenario) -> str:
    producer = scenario.producer
    start = producer.start
    header = "def arrival_times() -> Iterator[float]:"
    if producer.rate == "unlimited":
        return _lines(
            header,
            '    """Every item is ready at once (rate = "unlimited"): the producer puts them back to back."""',
            "    while True:",
            f"        yield {start!r}",
        )
    segments = _segments(producer)
    origin = _work_at(segments, start) if start else 0.0
    rate = segments[0].rate
    if _poisson(scenario):
        what = [f"A Poisson process of {rate:g} items/s: random, with exponential gaps. It is drawn as"]
        what.append("one of rate 1 (gaps of mean 1) and scaled to the rate" + (": a burst packs the same draws closer." if len(segments) > 1 else "."))
        opening = ['stream = random.Random(f"{SEED}/arrivals")', f"expected = {origin!r}  # items expected by now"]
        loop, step = "while True:", ["expected += stream.expovariate(1.0)"]
    else:
        what = [f"Evenly spaced, {rate:g} items/s: item k is due when k items are expected."]
        opening = []
        loop, step = "for count in itertools.count():", [f"expected = {origin!r} + count  # items expected by then"]
    if producer.after_put:
        what.append("The producer sleeps the gap between two of these after each put (closed loop).")
    if start:
        what.append(f"Nothing is due before {start:g} s.")
    if len(segments) == 1:
        mapping = [f"yield expected / {rate!r}"]
    else:
        rows = ", ".join(f"({s.start!r}, {s.rate!r}, {s.work!r})" for s in segments)
        opening.insert(0, f"rates = [{rows}]")
        opening.insert(0, "# (from second, items per second, items expected by then), burst by burst")
        mapping = [
            "since, rate, before = [row for row in rates if row[2] <= expected][-1]",
            "yield since + (expected - before) / rate",
        ]
    body = [*opening, loop, *(f"    {line}" for line in [*step, *mapping])]
    return _lines(
        header,
        '    """When each item is due, in seconds from the start.',
        "",
        *(f"    {line}" for line in what),
        '    """',
        *(f"    {line}" for line in body),
    )


def _service_times(scenario: Scenario) -> str:
    service = scenario.workers.service
    setup: list[str] = []
    match service:
        case ConstantService(mean=mean):
            return _lines(
                "def service_times() -> Iterator[float]:",
                f'    """Every call takes {mean:g} s: nothing to draw."""',
                "    while True:",
                f"        yield {mean!r}",
            )
        case ExponentialService(mean=mean):
            what, draw = f"exponential, mean {mean:g} s (most short, a few long)", f"stream.expovariate(1.0 / {mean!r})"
        case UniformService(low=low, high=high):
            what, draw = f"uniform from {low:g} to {high:g} s", f"stream.uniform({low!r}, {high!r})"
        case LognormalService(median=median, p99=p99):
            what = f"lognormal, median {median:g} s, 99% under {p99:g} s (a long tail)"
            setup = [
                f"mu = math.log({median!r})  # ln(time) is normal: half the calls take less than the median",
                f"sigma = math.log({p99!r} / {median!r}) / {Z_99!r}  # and 99% less than p99 (z = 2.326)",
                "normal = NormalDist()  # a uniform number per item, through the normal's quantile:",
            ]
            draw = "math.exp(mu + sigma * normal.inv_cdf(stream.random() or 5e-324))"
        case ParetoService(scale=scale, shape=shape):
            what = f"Pareto, at least {scale:g} s, tail index {shape:g} (a heavy tail; a uniform number per item, through the quantile)"
            draw = f"{scale!r} * (1.0 - stream.random()) ** (-1.0 / {shape!r})"
        case WeibullService(scale=scale, shape=shape):
            what = f"Weibull, scale {scale:g} s, shape {shape:g} (a uniform number per item, through the quantile)"
            draw = f"{scale!r} * (-math.log1p(-stream.random())) ** (1.0 / {shape!r})"
        case _:
            raise AssertionError(service)  # EmpiricalService: refused by `unsupported`
    return _lines(
        "def service_times() -> Iterator[float]:",
        f'    """How long each item\'s call takes: {what}."""',
        '    stream = random.Random(f"{SEED}/service")',
        *(f"    {line}" for line in setup),
        "    while True:",
        f"        yield {draw}",
    )


def _items(scenario: Scenario) -> str:
    if scenario.items is not None:
        until, stop = f"the first {scenario.items}", "if number == ITEMS:"
    else:
        until, stop = "all those due before DURATION", "if arrival >= DURATION:"
    return _block(
        f'''
        def items(start: float) -> Iterator[Item]:
            """The items the producer will produce, in order: {until}."""
            for number, (arrival, work) in enumerate(zip(arrival_times(), service_times())):
                {stop}
                    return
                yield Item(number, start + arrival, work)
        '''
    )


def _producer(plan: _Plan) -> str:
    body: list[str] = []
    if plan.after_put:
        body += [
            "# Closed loop: the gap before this item starts when the last put returned, so a put",
            "# that waited delays every later item.",
            "gap, previous = item.arrival - previous, item.arrival",
            "item.arrival = loop.time() + gap",
        ]
        if plan.scenario.duration is not None:
            body += ["if item.arrival >= start + DURATION:", "    break"]
    body += [
        "delay = item.arrival - loop.time()",
        "if delay > 0:",
        "    await asyncio.sleep(delay)  # not due yet",
        'tally["produced"] += 1',
        'say("produce", item.number, "qsize before:", queue.qsize())',
    ]
    put, handlers = _offer(plan)
    enqueued = 'say("enqueued", item.number, "qsize after:", queue.qsize())'
    if handlers:
        body += ["try:", *(f"    {line}" for line in put), *handlers, "else:", f"    {enqueued}"]
    else:
        body += [*put, enqueued]
    docstring = {
        Policy.BLOCK: "Put every item in the queue when it is due; while the queue is full, wait (backpressure).",
        Policy.DROP_NEWEST: "Offer every item to the queue when it is due; a full queue drops it (drop-newest).",
        Policy.DROP_OLDEST: "Put every item in the queue when it is due; a full queue evicts its oldest (drop-oldest).",
    }[plan.policy]
    return _lines(
        f"async def producer(queue: {plan.queue}[Item], start: float) -> None:",
        f'    """{docstring}"""',
        "    loop = asyncio.get_running_loop()",
        "    due = items(start)",
        "    previous = start" if plan.after_put else None,
        "    for item in due:",
        *(f"        {line}" for line in body),
    )


def _offer(plan: _Plan) -> tuple[list[str], list[str]]:
    """The lines that offer `item` to the queue, as the policy says, and the `except`s after them."""
    handlers: list[str] = []
    if plan.policy is Policy.BLOCK:
        if plan.put_timeout is not None:
            put = ["async with asyncio.timeout(PUT_TIMEOUT):", "    await queue.put(item)  # waits while the queue is full"]
            handlers += ["except TimeoutError:", '    tally["timed_out put"] += 1  # no room in time: it never entered the queue']
        else:
            put = ["await queue.put(item)  # waits while the queue is full: backpressure"]
    elif plan.policy is Policy.DROP_NEWEST:
        put = ["queue.put_nowait(item)  # never waits"]
        handlers += ["except asyncio.QueueFull:", '    tally["dropped queue-full"] += 1  # the arriving item is dropped']
    else:
        put = [
            "if queue.full():  # make room: evict the oldest queued item, it is stale now",
            "    queue.get_nowait()",
            "    queue.task_done()  # done with, as far as queue.join() is concerned",
            '    tally["dropped evicted"] += 1',
            "queue.put_nowait(item)",
        ]
    if plan.early_shutdown:
        handlers += [
            "except QueueShutDown:  # the queue shut down before the producer was done",
            '    tally["rejected_at_shutdown"] += 1',
        ]
        if not plan.after_put:
            handlers += [
                "    # and the items that came due while it waited in put() were never offered",
                '    tally["never_sent"] = sum(1 for _ in itertools.takewhile(lambda later: later.arrival <= loop.time(), due))',
            ]
        handlers.append("    return")
    return put, handlers


def _worker(plan: _Plan) -> str:
    limiter = ", limiter" if plan.concurrency is not None else ""
    parameter = ", limiter: asyncio.Semaphore" if plan.concurrency is not None else ""
    if plan.may_stop_now:
        inner = [
            "busy.add(name)",
            "try:",
            f"    await handle(name, item{limiter})",
            "except asyncio.CancelledError:",
            '    tally["abandoned in-worker"] += 1  # a stop at once cancelled its call',
            "    raise",
            "finally:",
            "    busy.discard(name)",
            "    queue.task_done()  # for queue.join(): this item is done with",
        ]
    else:
        inner = [
            "try:",
            f"    await handle(name, item{limiter})",
            "finally:",
            "    queue.task_done()  # for queue.join(): this item is done with",
        ]
    return _lines(
        f"async def worker(name: str, queue: {plan.queue}[Item]{parameter}) -> None:",
        '    """Take items from the queue and handle them, until the queue is shut down."""',
        "    try:",
        "        while True:",
        "            item = await queue.get()",
        *(f"            {line}" for line in inner),
        "    except QueueShutDown:  # shut down and empty: nothing more will come",
        '        say(name, "shutdown")',
    )


def _handle(plan: _Plan) -> str:
    body: list[str] = []
    if plan.max_age is not None:
        body += [
            "if loop.time() - item.arrival > MAX_AGE:",
            '    tally["dropped stale"] += 1  # it waited too long: nobody wants the answer now',
            "    return",
        ]
    call = ["await asyncio.sleep(item.work)  # the downstream call: an API, a database"]
    if plan.call_timeout is not None:
        call = [
            "try:",
            "    async with asyncio.timeout(CALL_TIMEOUT):",
            f"        {call[0]}",
            "except TimeoutError:",
            '    tally["timed_out downstream"] += 1  # given up: its answer came too late',
            "    return",
        ]
    if plan.concurrency is not None:
        body += ["async with limiter:  # wait for one of the CONCURRENCY slots", *(f"    {line}" for line in call)]
    else:
        body += call
    body += ['tally["handled"] += 1', 'say(name, "handled", item.number)']
    if plan.scenario.slo is not None:
        body += ["if loop.time() - item.arrival <= SLO:", '    tally["handled_on_time"] += 1']
    needs_loop = plan.max_age is not None or plan.scenario.slo is not None
    parts = [
        "drop it if it is stale, else " if plan.max_age is not None else "",
        "call downstream",
        " inside the semaphore" if plan.concurrency is not None else "",
        " and the timeout" if plan.call_timeout is not None else "",
    ]
    parameter = ", limiter: asyncio.Semaphore" if plan.concurrency is not None else ""
    return _lines(
        f"async def handle(name: str, item: Item{parameter}) -> None:",
        f'    """One item: {"".join(parts)}."""',
        "    loop = asyncio.get_running_loop()" if needs_loop else None,
        *(f"    {line}" for line in body),
    )


def _stop_now(plan: _Plan) -> str:
    return _block(
        f'''
        def stop_now(queue: {plan.queue}[Item], workers: dict[str, asyncio.Task[None]]) -> None:
            """Shut down at once: queued items are abandoned, calls in progress cancelled.

            queue.shutdown(immediate=True) empties the queue without a word, so take the items out
            first and count them.
            """
            while not queue.empty():
                queue.get_nowait()
                queue.task_done()
                tally["abandoned queued"] += 1
            queue.shutdown(immediate=True)  # every get() and put() waiting now raises QueueShutDown
            for name, task in workers.items():
                if name in busy:
                    task.cancel()
        '''
    )


def _main(plan: _Plan) -> str:
    shutdown = plan.scenario.shutdown
    limiter = ", limiter" if plan.concurrency is not None else ""
    if shutdown.await_producer:
        wait = [
            "await asyncio.shield(producing)  # at the deadline stop waiting, without cancelling it",
            "await queue.join()",
        ] if plan.deadline is not None else ["await producing  # every item offered", "await queue.join()  # every queued item done with"]
    else:
        wait = ["await queue.join()  # the handbook's race: nothing was put yet, so this returns at once"]
    if plan.deadline is None:
        stop = [
            "# Graceful: the producer is done and the queue drained; now the idle workers' get()",
            "# raises QueueShutDown and they return." if shutdown.await_producer else
            "# To fix the race, await the producer before queue.join().",
            *wait,
            "queue.shutdown()",
        ]
    elif shutdown.mode == "immediate":
        stop = [
            "try:  # until SHUTDOWN_AT, or until the queue is drained if that comes first",
            "    async with asyncio.timeout(SHUTDOWN_AT):",
            *(f"        {line}" for line in wait),
            "except TimeoutError:",
            "    pass",
            "stop_now(queue, workers)",
        ]
    else:
        stop = [
            "try:  # graceful, if the queue is drained by SHUTDOWN_AT",
            "    async with asyncio.timeout(SHUTDOWN_AT):",
            *(f"        {line}" for line in wait),
            "except TimeoutError:",
            "    stop_now(queue, workers)  # the deadline came first",
            "else:",
            "    queue.shutdown()  # the idle workers' get() raises QueueShutDown: they return",
        ]
    if plan.may_stop_now:
        start_workers = [
            "workers: dict[str, asyncio.Task[None]] = {}  # by name, for stop_now()",
            "for index in range(WORKERS):",
            '    name = f"worker-{index}"',
            f"    workers[name] = task_group.create_task(worker(name, queue{limiter}))",
        ]
    else:
        start_workers = [
            "for index in range(WORKERS):",
            f'    task_group.create_task(worker(f"worker-{{index}}", queue{limiter}))',
        ]
    return _lines(
        "async def main() -> None:",
        "    start = asyncio.get_running_loop().time()  # t = 0 (bpsim's clock starts at 0, a real one anywhere)",
        f"    queue: {plan.queue}[Item] = {plan.queue}(maxsize=MAXSIZE)",
        "    limiter = asyncio.Semaphore(CONCURRENCY)" if plan.concurrency is not None else None,
        "    async with asyncio.TaskGroup() as task_group:",
        "        producing = task_group.create_task(producer(queue, start))",
        *(f"        {line}" for line in [*start_workers, *stop]),
        "    report()",
    )


def _report(plan: _Plan) -> str:
    keys = ", ".join(f'"{key}"' for key in plan.ends)
    return _lines(
        "def report() -> None:",
        '    """Where every item ended, by the names of bpsim\'s JSON ("items", per reason)."""',
        '    print("Where the items ended:")',
        f"    for key in ({keys}):",
        '        print(f"  {key:<22} {tally[key]:>7}")',
    )
