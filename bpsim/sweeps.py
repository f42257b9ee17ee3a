"""`bpsim sweep`: run a scenario over a grid of values, spread over processes.

`--param queue.maxsize=1..50` (a range, `1..50:5` with a step) or `--param producer.rate=10,20,40`
(a list) is an `Axis`; one or two of them, times an optional policy axis, make the grid (see
`variants.build_variants`). Each run is independent and deterministic, so running them in
several processes gives exactly the results, in exactly the order, of running them in one.
"""

from __future__ import annotations

import csv
import io
import os
import re
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from bpsim.engine import RunResult, Simulation
from bpsim.errors import BpsimError, Problem, ScenarioError
from bpsim.i18n import t
from bpsim import output
from bpsim.limits import Limits, check_expected_items
from bpsim.metrics import METRICS, metric_values
from bpsim.scenario import Scenario
from bpsim import signals
from bpsim.signals import signals_held
if TYPE_CHECKING:
    from bpsim.replications import Replicated
from bpsim.variants import Axis, Variant, build_variants, parse_vary, policy_axis, split_assignment

__all__ = [
    "MAX_PARAMS",
    "MAX_RUNS",
    "SweepInterrupted",
    "sweep_variants",
    "parse_param",
    "run_sweep",
    "rows",
    "csv_text",
    "json_text",
    "json_runs",
    "csv_of",
    "replicated_rows",
    "replicated_json_runs",
]

MAX_PARAMS = 2
MAX_RUNS = 10_000
"""The most runs one sweep makes (as many as one --param may have values)."""
_RANGE = re.compile(r"^\s*([^.:]+(?:\.\d+)?)\s*\.\.\s*([^:]+?)\s*(?::\s*(.+?))?\s*$")


def sweep_variants(
    source: str,
    params: Sequence[str],
    policies: Sequence[str] = (),
    overrides: Sequence[str] = (),
    seed: int | None = None,
) -> tuple[list[Axis], list[Variant]]:
    """The axes and the runs of `bpsim sweep`: every `--policy` (outermost), times each `--param`.

    Raises BpsimError unless one or two params are given, ScenarioError for bad options or values.
    """
    if not 1 <= len(params) <= MAX_PARAMS:
        raise BpsimError(t("errors.param.count"))
    axes = ([policy_axis(policies)] if policies else []) + [parse_param(text) for text in params]
    return axes, build_variants([source], axes, overrides, seed, most=MAX_RUNS)


def parse_param(text: str, option: str = "--param") -> Axis:
    """The axis written `KEY=FROM..TO`, `KEY=FROM..TO:STEP` (both ends included) or `KEY=a,b,c`.

    A range of whole numbers stays whole (`1..50` is 1, 2, ..., 50); a decimal range is computed
    exactly (`0.1..0.3:0.1` is 0.1, 0.2, 0.3). Raises ScenarioError with one problem on bad syntax.
    """
    key, values = split_assignment(text, option, t("errors.param.usage", option=option))
    match = _RANGE.match(values)
    if match is None:
        return parse_vary(text, option)
    start, stop, step = match.groups()
    return Axis(key, _expand(start, stop, step, where=f"{option} {text}"), f"{option} {text}")


def _expand(start: str, stop: str, step: str | None, where: str) -> tuple[str, ...]:
    try:
        low, high = Decimal(start), Decimal(stop)
        by = Decimal(step) if step is not None else Decimal(1)
    except InvalidOperation:
        raise ScenarioError([Problem(where, t("errors.param.numbers"))]) from None
    if not all(bound.is_finite() for bound in (low, high, by)):  # nan and inf are Decimals too
        raise ScenarioError([Problem(where, t("errors.param.numbers"))])
    if by <= 0 or high < low:
        raise ScenarioError([Problem(where, t("errors.param.goes_up"))])
    count = int((high - low) / by) + 1
    if count > MAX_RUNS:
        shown = str(count) if count < 10**6 else f"{Decimal(count):.1e}"
        raise ScenarioError([Problem(where, t("errors.param.too_many", count=shown))])
    return tuple(str(low + index * by) for index in range(count))


_exiting: ProcessPoolExecutor | None = None
"""The last sweep's pool, whose workers may still be exiting (`_run_in_workers`)."""

_Payload = tuple[dict[str, Any], str, float | None]
"""What a worker needs for one run: the scenario as a plain dict, its label and the warm-up."""

# How often a sweep looks whether Ctrl-C or SIGTERM arrived while it waits for its workers.
_POLL_SECONDS = 0.1


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, see `bpsim.signals`) stopped a sweep; `finished` maps run index -> result."""

    def __init__(self, finished: dict[int, RunResult]) -> None:
        super().__init__()
        self.finished = finished


def run_sweep(
    variants: Sequence[Variant],
    jobs: int | None = None,
    on_done: Callable[[], None] | None = None,
    warmup: float | None = None,
) -> list[RunResult]:
    """Run every variant headless; results in the variants' order whatever `jobs` is.

    `jobs` processes (default: one per core; 1 runs here, in this process). Scenarios travel to
    the workers as plain dicts. `on_done` is called once per finished run, for a progress bar;
    `warmup` is `--warmup` (bpsim.warmup).
    On KeyboardInterrupt the worker processes are stopped at once and SweepInterrupted is
    raised with the runs that had finished.
    """
    # Refused here, at once, rather than by the first worker to start such a run.
    check_expected_items([v.scenario for v in variants], Limits(), [v.label for v in variants])
    jobs = jobs or os.cpu_count() or 1
    payloads = [(variant.scenario.model_dump(mode="json"), variant.label, warmup) for variant in variants]
    done = on_done or (lambda: None)
    if jobs == 1 or len(payloads) < 2:
        results: list[RunResult] = []
        try:
            for payload in payloads:
                if signals.interrupted():  # a signal between two runs is only noted (bpsim.signals)
                    raise KeyboardInterrupt
                results.append(_run_one(payload))
                done()
        except KeyboardInterrupt:
            raise SweepInterrupted(dict(enumerate(results))) from None
        return results
    return _run_in_workers(payloads, min(jobs, len(payloads)), done)


def _run_in_workers(payloads: Sequence[_Payload], workers: int, done: Callable[[], None]) -> list[RunResult]:
    """Run `payloads` in `workers` worker processes, this one only waiting for them.

    This process does not take a share of the runs: measured, it starved its workers. The
    pool's own threads, which hand each worker its next run and take its results, need the GIL,
    and a run here holds it but for a moment every 5 ms: on 2 cores one worker beside this
    process's runs sat idle 40% of the time (docs/performance.md). Waiting, this process
    leaves them the GIL, and every worker always has its next run ready.
    """
    global _exiting
    if _exiting is not None:  # the last sweep's workers are gone before this one forks (a thread
        _exiting.shutdown()  # of its pool's, still running, would be forked beside: 3.12 warns)
        _exiting = None
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_leave_interrupts_to_the_parent)
    futures: list[Future[RunResult]] = []
    try:
        # Ctrl-C must not land inside the pool's own code (its locks would stay taken and the
        # exit would hang): while the pool is in use, a signal is a flag polled here.
        with signals_held(signal.SIGINT, signal.SIGTERM) as interrupted:
            futures = [pool.submit(_run_one, payload) for payload in payloads]
            waiting = set(futures)
            while waiting and not interrupted():
                finished, waiting = wait(waiting, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()  # the first failure stops the sweep
                    done()
            if interrupted():
                _stop(pool)  # before the signal is raised again, on leaving the block
    except KeyboardInterrupt:
        raise SweepInterrupted(_finished(futures)) from None
    except BaseException:
        _stop(pool)
        raise
    # Every run is in: the workers exit (up to 10 ms each) while this process goes on to show the
    # results; the interpreter's exit waits for them (concurrent.futures joins its pools), and so
    # does the next sweep.
    pool.shutdown(wait=False)
    _exiting = pool
    return [future.result() for future in futures]


def _finished(futures: Sequence[Future[RunResult]]) -> dict[int, RunResult]:
    """The runs that ended with a result, by index."""
    return {i: f.result() for i, f in enumerate(futures) if f.done() and not f.cancelled() and f.exception() is None}


def _leave_interrupts_to_the_parent() -> None:
    # Ctrl-C reaches every process in the terminal's foreground group; the parent stops the
    # workers itself, so they must not die with a traceback each. A forked worker also inherits
    # the CLI's SIGTERM handler (bpsim.signals), which would turn a SIGTERM sent to the whole
    # process group into a KeyboardInterrupt inside a run: SIGTERM must simply end it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel the queued runs and end the running ones now, rather than wait for them."""
    # The executor has no public way to end running work before Python 3.14 (terminate_workers).
    for process in list((pool._processes or {}).values()):
        # SIGKILL, not SIGTERM: a worker forked a moment ago has not run its initializer yet
        # and still has the parent's handlers, which only note SIGTERM (`signals_held`).
        process.kill()
    # The pool's own thread sees its workers die, fails their runs and reaps them; waiting for it
    # here, rather than joining the workers beside it, leaves one waiter per worker (two raced,
    # and the loser could see a reaped worker as still alive).
    pool.shutdown(wait=True, cancel_futures=True)


def _run_one(payload: _Payload) -> RunResult:
    data, label, warmup = payload
    return Simulation([Scenario.model_validate(data)], labels=[label], warmup=warmup).run()[0]


def rows(variants: Sequence[Variant], results: Sequence[RunResult]) -> list[dict[str, Any]]:
    """One flat row per run: the label, the value of each varied key, then every metric."""
    return [_point(variant, result) | metric_values(result) for variant, result in zip(variants, results)]


def _point(variant: Variant, result: RunResult) -> dict[str, Any]:
    """The label and the value of each varied key (typed as in JSON)."""
    data = result.scenario.model_dump(mode="json")
    return {"variant": variant.label} | {key: _lookup(data, key, value) for key, value in variant.settings}


def replicated_rows(summaries: Sequence[Replicated]) -> list[dict[str, Any]]:
    """With --replications: per point, the label, each varied key, `replications` (N), then every
    metric's `NAME.mean` and `NAME.half_width` (empty when a replication has no value)."""
    table = []
    for summary in summaries:
        row = _point(summary.variant, summary.results[0]) | {"replications": len(summary.results)}
        for metric in METRICS:
            value = summary.metrics.get(metric.name)
            row[f"{metric.name}.mean"] = value.mean if value is not None else None
            row[f"{metric.name}.half_width"] = value.half_width if value is not None else None
        table.append(row)
    return table


def csv_text(variants: Sequence[Variant], results: Sequence[RunResult]) -> str:
    """The rows as CSV with a header line; a missing value (no latency) is an empty cell."""
    return csv_of(rows(variants, results))


def csv_of(table: Sequence[dict[str, Any]]) -> str:
    """Rows as CSV with a header line; None is an empty cell."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table[0]) if table else ["variant"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    return out.getvalue()


def json_text(variants: Sequence[Variant], results: Sequence[RunResult]) -> str:
    """A JSON list: per run, `bpsim run --json`'s object plus `params`, the varied keys' values."""
    return output.strict_json(json_runs(variants, results))


def replicated_json_runs(summaries: Sequence[Replicated]) -> list[dict[str, Any]]:
    """With --replications: per point, `json_runs`' object of its first replication (the
    scenario's own seed) plus `replications` (docs/json.md)."""
    first = json_runs([s.variant for s in summaries], [s.results[0] for s in summaries])
    return [run | {"replications": summary.to_json()} for run, summary in zip(first, summaries)]


def json_runs(variants: Sequence[Variant], results: Sequence[RunResult]) -> list[dict[str, Any]]:
    """What `json_text` writes, as Python objects (infinities not yet made null)."""
    runs = []
    for variant, result in zip(variants, results):
        data = result.scenario.model_dump(mode="json")
        params = {key: _lookup(data, key, value) for key, value in variant.settings}
        runs.append({"params": params} | result.to_json())
    return runs


def _lookup(data: Any, key: str, fallback: str) -> Any:
    """The scenario's value at dotted `key` (typed as in JSON), or `fallback` if there is none."""
    for part in key.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return fallback
    return data
