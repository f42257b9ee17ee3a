"""`bpsim code`: a scenario written out as the plain asyncio program it simulates.

The script is the handbook's shape (producer, bounded Queue, workers, Semaphore, asyncio.timeout,
a drop policy, shutdown, TaskGroup) with the scenario's numbers in it, and only the stdlib. It
makes the same random draws as bpsim (`workload.py`: one stream per purpose, seeded by a string,
drawn per item) and awaits in the same order as `pipeline.py` and `policies.py`, so on bpsim's
virtual clock it ends every item where `bpsim run` does. Each piece below writes one part of it
and leaves out what the scenario does not use: a script with no timeout has no `asyncio.timeout`.

The script's words (comments, docstrings, its messages) are `code.script.*` in the current
language's code.toml, so `--lang ko` writes the same code with Korean comments. What the pipeline
does beyond the handbook's code (retries, breakers, the throttle, the service model, adaptive
limits, CoDel and adaptive LIFO, data files) is not written: `unsupported` names the keys instead.
"""

from __future__ import annotations

import json
import shlex
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path

from bpsim.errors import BpsimError
from bpsim.i18n import language, t
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
from bpsim.workload import _segments, _work_at  # the engine's own rate table: the script's numbers are its floats

__all__ = ["program", "script", "unsupported"]

def unsupported(scenario: Scenario) -> list[str]:
    """The keys of `scenario` the script cannot express (none: it can write all of it).

    A key the script writes for some values (fifo and lifo, not codel) is named with its value."""
    downstream = scenario.downstream
    checks = (
        ("producer.arrivals", scenario.producer.from_file is not None),
        ("workers.service", isinstance(scenario.workers.service, EmpiricalService)),
        (f'queue.discipline = "{scenario.queue.discipline}"', scenario.queue.discipline not in ("fifo", "lifo")),
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
        (_lines(*_comment(_w("draws"))) if plan.draws else "") + _arrival_times(scenario),
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


def _w(key: str, **fields: object) -> str:
    """One of the script's sentences in the current language: `code.script.<key>` (code.toml)."""
    return t(f"code.script.{key}", **fields)


def _quoted(text: str) -> str:
    """`text` as a Python string literal in double quotes (JSON's escapes are Python's too)."""
    return json.dumps(text, ensure_ascii=False)


def _block(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


def _lines(*lines: str | None) -> str:
    """The lines that are not None, each ended by a newline."""
    return "".join(line + "\n" for line in lines if line is not None)


def _comment(text: str) -> Iterator[str]:
    """Text as comment lines (a user's too, a scenario's name or description: never as code)."""
    for line in text.splitlines() or [""]:
        yield f"# {line}".rstrip()


def _docstring(text: str) -> list[str]:
    """A docstring's lines, unindented: one line, or a summary, a blank line and the rest."""
    lines = text.splitlines()
    if len(lines) == 1:
        return [f'"""{text}"""']
    return [f'"""{lines[0]}', *lines[1:], '"""']


def _header(scenario: Scenario, arguments: str) -> str:
    end = _w("end_duration", seconds=f"{scenario.duration:g}") if scenario.duration is not None else _w("end_items")
    words = scenario.words(language())  # the [ko] table's name and description, with --lang ko
    assert words.name is not None and words.description is not None
    return _lines(
        *_comment(words.name),
        *(_comment(words.description) if words.description else ()),
        "#",
        f"# {_w('written', arguments=arguments)}",
        f"# {_w('shape')}",
        f"#   {_w('python', end=end)}",
        f"#   {_w('bpsim')}",
        f"# {_w('same')}",
        f"#   bpsim run {arguments} --json -",
        f"# {_w('counts')}",
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
        f"    from asyncio import {plan.queue}, QueueShutDown  # {_w('import_new')}",
        f"except ImportError:  # {_w('import_backport')}",
        "    try:",
        f"        from backports.asyncio.queues import {plan.queue}, QueueShutDown",
        "    except ImportError:",
        f"        sys.exit({_quoted(_w('import_missing'))})",
    )


def _constants(plan: _Plan) -> str:
    scenario = plan.scenario
    maxsize = scenario.queue.maxsize
    workers = scenario.workers.count
    policy = plan.policy.value.replace("-", "_")
    limit = _w("maxsize_unbounded") if maxsize == 0 else _w(f"maxsize_{policy}", maxsize=maxsize)
    if plan.queue == "LifoQueue":
        limit += _w("lifo")
    shutdown_at = None
    if plan.deadline is not None:
        what = _w("shutdown_immediate" if scenario.shutdown.mode == "immediate" else "shutdown_deadline")
        shutdown_at = f"SHUTDOWN_AT = {plan.deadline!r}  # {what}"
    return _lines(
        f"SEED = {scenario.seed}  # {_w('seed')}" if plan.draws else None,
        f"DURATION = {scenario.duration!r}  # {_w('duration')}" if scenario.duration is not None else None,
        f"ITEMS = {scenario.items}  # {_w('items')}" if scenario.items is not None else None,
        f"MAXSIZE = {maxsize}  # asyncio.{plan.queue}(maxsize={maxsize}): {limit}",
        f"PUT_TIMEOUT = {plan.put_timeout!r}  # {_w('put_timeout', seconds=repr(plan.put_timeout))}" if plan.put_timeout is not None else None,
        f"MAX_AGE = {plan.max_age!r}  # {_w('max_age')}" if plan.max_age is not None else None,
        f"WORKERS = {workers}  # {_w('workers')}",
        f"CONCURRENCY = {plan.concurrency}  # {_w('concurrency', n=plan.concurrency)}" if plan.concurrency is not None else None,
        f"CALL_TIMEOUT = {plan.call_timeout!r}  # {_w('call_timeout', seconds=repr(plan.call_timeout))}" if plan.call_timeout is not None else None,
        f"SLO = {scenario.slo!r}  # {_w('slo')}" if scenario.slo is not None else None,
        shutdown_at,
        f'VERBOSE = "-v" in sys.argv[1:]  # {_w("verbose")}',
    )


def _item_and_tally(plan: _Plan) -> str:
    busy = None
    if plan.may_stop_now:
        busy = f"busy: set[str] = set()  # {_w('busy')}"
    return _lines(
        "@dataclass",
        "class Item:",
        "    number: int",
        f"    arrival: float  # {_w('item_arrival')}",
        f"    work: float  # {_w('item_work')}",
        "",
        "",
        f"tally: Counter[str] = Counter()  # {_w('tally')}",
        busy,
        "",
        "",
        "def say(*words: object) -> None:",
        f'    """{_w("say")}"""',
        "    if VERBOSE:",
        "        print(*words)",
    )


def _poisson(scenario: Scenario) -> bool:
    """Whether the arrivals are random (a Poisson process, or after-put's exponential gaps)."""
    producer = scenario.producer
    return producer.arrivals == "poisson" or (producer.after_put and producer.gaps == "exponential")


def _arrival_times(scenario: Scenario) -> str:
    producer = scenario.producer
    start = producer.start
    header = "def arrival_times() -> Iterator[float]:"
    if producer.rate == "unlimited":
        return _lines(
            header,
            f'    """{_w("arrivals_unlimited")}"""',
            "    while True:",
            f"        yield {start!r}",
        )
    segments = _segments(producer)
    origin = _work_at(segments, start) if start else 0.0
    rate = segments[0].rate
    if _poisson(scenario):
        what = _w("arrivals_poisson_bursts" if len(segments) > 1 else "arrivals_poisson", rate=f"{rate:g}").splitlines()
        opening = ['stream = random.Random(f"{SEED}/arrivals")', f"expected = {origin!r}  # {_w('expected_now')}"]
        loop, step = "while True:", ["expected += stream.expovariate(1.0)"]
    else:
        what = [_w("arrivals_constant", rate=f"{rate:g}")]
        opening = []
        loop, step = "for count in itertools.count():", [f"expected = {origin!r} + count  # {_w('expected_then')}"]
    if producer.after_put:
        what.append(_w("arrivals_after_put"))
    if start:
        what.append(_w("arrivals_start", start=f"{start:g}"))
    if len(segments) == 1:
        mapping = [f"yield expected / {rate!r}"]
    else:
        rows = ", ".join(f"({s.start!r}, {s.rate!r}, {s.work!r})" for s in segments)
        opening.insert(0, f"rates = [{rows}]")
        opening.insert(0, f"# {_w('rates')}")
        mapping = [
            "since, rate, before = [row for row in rates if row[2] <= expected][-1]",
            "yield since + (expected - before) / rate",
        ]
    body = [*opening, loop, *(f"    {line}" for line in [*step, *mapping])]
    return _lines(
        header,
        *(f"    {line}".rstrip() for line in _docstring("\n".join([_w("arrivals"), "", *what]))),
        *(f"    {line}" for line in body),
    )


def _service_times(scenario: Scenario) -> str:
    service = scenario.workers.service
    setup: list[str] = []
    match service:
        case ConstantService(mean=mean):
            return _lines(
                "def service_times() -> Iterator[float]:",
                f'    """{_w("service_constant", mean=f"{mean:g}")}"""',
                "    while True:",
                f"        yield {mean!r}",
            )
        case ExponentialService(mean=mean):
            what, draw = _w("service_exponential", mean=f"{mean:g}"), f"stream.expovariate(1.0 / {mean!r})"
        case UniformService(low=low, high=high):
            what, draw = _w("service_uniform", low=f"{low:g}", high=f"{high:g}"), f"stream.uniform({low!r}, {high!r})"
        case LognormalService(median=median, p99=p99):
            what = _w("service_lognormal", median=f"{median:g}", p99=f"{p99:g}")
            setup = [
                f"mu = math.log({median!r})  # {_w('lognormal_mu')}",
                f"sigma = math.log({p99!r} / {median!r}) / {Z_99!r}  # {_w('lognormal_sigma')}",
                f"normal = NormalDist()  # {_w('lognormal_normal')}",
            ]
            draw = "math.exp(mu + sigma * normal.inv_cdf(stream.random() or 5e-324))"
        case ParetoService(scale=scale, shape=shape):
            what = _w("service_pareto", scale=f"{scale:g}", shape=f"{shape:g}")
            draw = f"{scale!r} * (1.0 - stream.random()) ** (-1.0 / {shape!r})"
        case WeibullService(scale=scale, shape=shape):
            what = _w("service_weibull", scale=f"{scale:g}", shape=f"{shape:g}")
            draw = f"{scale!r} * (-math.log1p(-stream.random())) ** (1.0 / {shape!r})"
        case _:
            raise AssertionError(service)  # EmpiricalService: refused by `unsupported`
    return _lines(
        "def service_times() -> Iterator[float]:",
        f'    """{_w("service", what=what)}"""',
        '    stream = random.Random(f"{SEED}/service")',
        *(f"    {line}" for line in setup),
        "    while True:",
        f"        yield {draw}",
    )


def _items(scenario: Scenario) -> str:
    if scenario.items is not None:
        docstring, stop = _w("items_count", items=scenario.items), "if number == ITEMS:"
    else:
        docstring, stop = _w("items_duration"), "if arrival >= DURATION:"
    return _block(
        f'''
        def items(start: float) -> Iterator[Item]:
            """{docstring}"""
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
            *_comment(_w("closed_loop")),
            "gap, previous = item.arrival - previous, item.arrival",
            "item.arrival = loop.time() + gap",
        ]
        if plan.scenario.duration is not None:
            body += ["if item.arrival >= start + DURATION:", "    break"]
    body += [
        "delay = item.arrival - loop.time()",
        "if delay > 0:",
        f"    await asyncio.sleep(delay)  # {_w('not_due')}",
        'tally["produced"] += 1',
        'say("produce", item.number, "qsize before:", queue.qsize())',
    ]
    put, handlers = _offer(plan)
    enqueued = 'say("enqueued", item.number, "qsize after:", queue.qsize())'
    if handlers:
        body += ["try:", *(f"    {line}" for line in put), *handlers, "else:", f"    {enqueued}"]
    else:
        body += [*put, enqueued]
    docstring = _w(f"producer_{plan.policy.value.replace('-', '_')}")
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
            put = ["async with asyncio.timeout(PUT_TIMEOUT):", f"    await queue.put(item)  # {_w('put_waits')}"]
            handlers += ["except TimeoutError:", f'    tally["timed_out put"] += 1  # {_w("put_timed_out")}']
        else:
            put = [f"await queue.put(item)  # {_w('put_waits')}"]
    elif plan.policy is Policy.DROP_NEWEST:
        put = [f"queue.put_nowait(item)  # {_w('put_nowait')}"]
        handlers += ["except asyncio.QueueFull:", f'    tally["dropped queue-full"] += 1  # {_w("dropped_newest")}']
    else:
        put = [
            f"if queue.full():  # {_w('evict')}",
            "    queue.get_nowait()",
            f"    queue.task_done()  # {_w('evicted_done')}",
            '    tally["dropped evicted"] += 1',
            "queue.put_nowait(item)",
        ]
    if plan.early_shutdown:
        handlers += [
            f"except QueueShutDown:  # {_w('rejected')}",
            '    tally["rejected_at_shutdown"] += 1',
        ]
        if not plan.after_put:
            handlers += [
                f"    # {_w('never_sent')}",
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
            f'    tally["abandoned in-worker"] += 1  # {_w("abandoned_in_worker")}',
            "    raise",
            "finally:",
            "    busy.discard(name)",
            f"    queue.task_done()  # {_w('task_done')}",
        ]
    else:
        inner = [
            "try:",
            f"    await handle(name, item{limiter})",
            "finally:",
            f"    queue.task_done()  # {_w('task_done')}",
        ]
    return _lines(
        f"async def worker(name: str, queue: {plan.queue}[Item]{parameter}) -> None:",
        f'    """{_w("worker")}"""',
        "    try:",
        "        while True:",
        "            item = await queue.get()",
        *(f"            {line}" for line in inner),
        f"    except QueueShutDown:  # {_w('shut_down')}",
        '        say(name, "shutdown")',
    )


def _handle(plan: _Plan) -> str:
    body: list[str] = []
    if plan.max_age is not None:
        body += [
            "if loop.time() - item.arrival > MAX_AGE:",
            f'    tally["dropped stale"] += 1  # {_w("stale")}',
            "    return",
        ]
    call = [f"await asyncio.sleep(item.work)  # {_w('call')}"]
    if plan.call_timeout is not None:
        call = [
            "try:",
            "    async with asyncio.timeout(CALL_TIMEOUT):",
            f"        {call[0]}",
            "except TimeoutError:",
            f'    tally["timed_out downstream"] += 1  # {_w("call_timed_out")}',
            "    return",
        ]
    if plan.concurrency is not None:
        body += [f"async with limiter:  # {_w('limiter')}", *(f"    {line}" for line in call)]
    else:
        body += call
    body += ['tally["handled"] += 1', 'say(name, "handled", item.number)']
    if plan.scenario.slo is not None:
        body += ["if loop.time() - item.arrival <= SLO:", '    tally["handled_on_time"] += 1']
    needs_loop = plan.max_age is not None or plan.scenario.slo is not None
    inside = {(True, True): "both", (True, False): "semaphore", (False, True): "timeout"}.get(
        (plan.concurrency is not None, plan.call_timeout is not None)
    )
    docstring = _w(
        "handle",
        stale=_w("handle_stale") if plan.max_age is not None else "",
        inside=_w(f"handle_inside_{inside}") if inside is not None else "",
    )
    parameter = ", limiter: asyncio.Semaphore" if plan.concurrency is not None else ""
    return _lines(
        f"async def handle(name: str, item: Item{parameter}) -> None:",
        f'    """{docstring}"""',
        "    loop = asyncio.get_running_loop()" if needs_loop else None,
        *(f"    {line}" for line in body),
    )


def _stop_now(plan: _Plan) -> str:
    return _lines(
        f"def stop_now(queue: {plan.queue}[Item], workers: dict[str, asyncio.Task[None]]) -> None:",
        *(f"    {line}".rstrip() for line in _docstring(_w("stop_now"))),
        "    while not queue.empty():",
        "        queue.get_nowait()",
        "        queue.task_done()",
        '        tally["abandoned queued"] += 1',
        f"    queue.shutdown(immediate=True)  # {_w('wakes_all')}",
        "    for name, task in workers.items():",
        "        if name in busy:",
        "            task.cancel()",
    )


def _main(plan: _Plan) -> str:
    shutdown = plan.scenario.shutdown
    limiter = ", limiter" if plan.concurrency is not None else ""
    if shutdown.await_producer:
        wait = [
            f"await asyncio.shield(producing)  # {_w('shield')}",
            "await queue.join()",
        ] if plan.deadline is not None else [f"await producing  # {_w('offered')}", f"await queue.join()  # {_w('drained')}"]
    else:
        wait = [f"await queue.join()  # {_w('race')}"]
    if plan.deadline is None:
        stop = [
            *_comment(_w("graceful" if shutdown.await_producer else "fix_race")),
            *wait,
            "queue.shutdown()",
        ]
    elif shutdown.mode == "immediate":
        stop = [
            f"try:  # {_w('until')}",
            "    async with asyncio.timeout(SHUTDOWN_AT):",
            *(f"        {line}" for line in wait),
            "except TimeoutError:",
            "    pass",
            "stop_now(queue, workers)",
        ]
    else:
        stop = [
            f"try:  # {_w('graceful_by')}",
            "    async with asyncio.timeout(SHUTDOWN_AT):",
            *(f"        {line}" for line in wait),
            "except TimeoutError:",
            f"    stop_now(queue, workers)  # {_w('deadline_first')}",
            "else:",
            f"    queue.shutdown()  # {_w('workers_return')}",
        ]
    if plan.may_stop_now:
        start_workers = [
            f"workers: dict[str, asyncio.Task[None]] = {{}}  # {_w('by_name')}",
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
        f"    start = asyncio.get_running_loop().time()  # {_w('start')}",
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
        f'    """{_w("report")}"""',
        f"    print({_quoted(_w('report_title'))})",
        f"    for key in ({keys}):",
        '        print(f"  {key:<22} {tally[key]:>7}")',
    )
