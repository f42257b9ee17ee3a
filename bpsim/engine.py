"""Run scenarios on the virtual clock and collect their results.

`run(scenario)` runs one. `Simulation` runs several variants in one event loop, sharing one
clock, so a live view shows them in lockstep and an interrupted run still has partial results.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from bpsim import signals
from bpsim.clock import Pacing, VirtualTimeLoop
from bpsim.errors import Stalled
from bpsim.events import Counts, Observer, ProducerState, WorkerState
from bpsim.adaptive import LimitSummary
from bpsim.limits import LimitReached, Limits
from bpsim.outcomes import OUTCOMES, UNFINISHED
from bpsim.pipeline import Pipeline
from bpsim.resilience import BreakerCounts, RetryCounts
from bpsim.scenario import Scenario
from bpsim.service import ServiceTotals
from bpsim.stats import LatencyStats
from bpsim.warmup import Window, measured, open_window

if TYPE_CHECKING:
    import pandas  # type: ignore[import-untyped, unused-ignore]  # an optional extra, without stubs

__all__ = ["Distribution", "RunResult", "Simulation", "run"]


@dataclass(frozen=True, slots=True)
class Distribution:
    """Summary of a set of durations, in seconds."""

    count: int
    mean: float
    p50: float
    p95: float
    p99: float
    max: float
    exact: bool
    cdf: tuple[tuple[float, int], ...] = ()
    """(limit, durations <= limit) at 20 evenly spaced limits, max/20 ... max (LatencyStats.cdf)."""

    @classmethod
    def of(cls, stats: LatencyStats) -> Distribution:
        # A duration is `now - arrival` on the virtual clock, whose times are sums of floats: an
        # item taken the instant it arrived can wait -2e-14 s. No duration is below 0.
        return cls(
            count=stats.count,
            mean=max(0.0, stats.mean),
            p50=max(0.0, stats.percentile(50)),
            p95=max(0.0, stats.percentile(95)),
            p99=max(0.0, stats.percentile(99)),
            max=max(0.0, stats.max),
            exact=stats.exact,
            cdf=tuple(stats.cdf()),
        )

    def to_json(self) -> dict[str, float | None]:
        """mean, p50, p95, p99 and max; each null when nothing was measured (no item handled)."""
        if not self.count:
            return dict.fromkeys(("mean", "p50", "p95", "p99", "max"), None)
        return {"mean": self.mean, "p50": self.p50, "p95": self.p95, "p99": self.p99, "max": self.max}

    def cdf_json(self) -> list[dict[str, float | int]]:
        """The CDF as JSON: `{"le": limit, "count": durations <= limit, "share": count / all}`
        for each of the 20 limits; empty when nothing was measured."""
        return [{"le": limit, "count": under, "share": under / self.count} for limit, under in self.cdf]


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one run of one scenario did."""

    scenario: Scenario
    completed: bool
    """False when the run was interrupted (Ctrl-C) or stopped by a limit before the queue was
    shut down and drained."""
    duration: float
    """Simulated seconds from the start to the last thing that happened."""
    counts: Counts
    max_qsize: int
    mean_qsize: float
    blocked_seconds: float
    max_in_flight: int
    latency: Distribution
    queue_wait: Distribution
    entered_queue: int = 0
    """Items put in the queue."""
    time_in_queue: float = 0.0
    """Seconds those items spent in the queue, summed (until they left it, or until the end)."""
    variant: str | None = None
    stopped_by: str | None = None
    """The limit that stopped the run ("max_items", "max_queued", "max_duration"), if one did."""
    retry: RetryCounts | None = None
    """Calls made, retries and retries the budget refused; None without `[retry]`."""
    breaker: BreakerCounts | None = None
    """Times the breaker opened and calls it refused; None without `[breaker]`."""
    throttle_waited: float | None = None
    """Seconds workers waited for the throttle's tokens, summed; None without `[throttle]`."""
    shutdown_at: float | None = None
    """When `queue.shutdown()` was called. The run goes on after it until the producer's next
    put raises QueueShutDown: at once if it was blocked, else when its next item is due."""
    service: ServiceTotals | None = None
    """What the service behind the call did, when `[downstream]` models one."""
    limit: LimitSummary | None = None
    """How an adaptive concurrency limit moved (min, time-averaged mean, final)."""
    warmup: float | None = None
    """`--warmup S`: the simulated seconds left out of `measured`."""
    measured: RunResult | None = None
    """With a warm-up, this result as seen from `warmup` on (bpsim.warmup): what the metrics read."""

    @property
    def mean_time_in_queue(self) -> float:
        """Seconds an item that entered the queue spent in it, on average (0 if none entered)."""
        return max(0.0, self.time_in_queue / self.entered_queue) if self.entered_queue else 0.0

    @property
    def throughput(self) -> float:
        """Handled items per simulated second."""
        return self.counts.handled / self.duration if self.duration > 0 else 0.0

    @property
    def goodput(self) -> float | None:
        """Items handled within the scenario's `slo`, per simulated second; None without an slo."""
        on_time = self.counts.handled_on_time
        if on_time is None:
            return None
        return on_time / self.duration if self.duration > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """The documented JSON result (docs/json.md)."""
        scenario = self.scenario
        data: dict[str, Any] = {}
        if self.variant is not None:
            data["variant"] = self.variant
        data |= {
            "scenario": scenario.name,
            "seed": scenario.seed,
            "policy": scenario.queue.policy.value,
            "completed": self.completed,
            "stopped_by": self.stopped_by,
            "duration": self.duration,
            "items": items_json(self.counts),
            "queue": {
                "maxsize": scenario.queue.maxsize,
                "max_qsize": self.max_qsize,
                "mean_qsize": self.mean_qsize,
                "entered": self.entered_queue,
                "mean_time_in_queue": self.mean_time_in_queue,
            },
            "producer": {"blocked_seconds": self.blocked_seconds},
            "downstream": self._downstream_json(),
            "latency": self.latency.to_json(),
            "queue_wait": self.queue_wait.to_json(),
            "throughput": self.throughput,
        }
        if scenario.slo is not None:  # only with an slo: without one nothing is late
            data |= {"slo": scenario.slo, "goodput": self.goodput}
        # The client's resilience tables, each only when the scenario has it (so the JSON of a
        # scenario without them is what it always was).
        if self.retry is not None:
            data["retry"] = dataclasses.asdict(self.retry)
        if self.breaker is not None:
            data["breaker"] = dataclasses.asdict(self.breaker)
        if self.throttle_waited is not None:
            data["throttle"] = {"waited_seconds": self.throttle_waited}
        if self.measured is not None:  # only with --warmup: without it the JSON is as it was
            window = self.measured.to_json()
            data["warmup"] = {"seconds": self.warmup} | {
                key: window[key] for key in ("duration", "items", "producer", "latency", "queue_wait", "throughput")
            }
            data["warmup"]["queue"] = {"mean_qsize": window["queue"]["mean_qsize"]}
            if "goodput" in window:
                data["warmup"]["goodput"] = window["goodput"]
        return data

    def to_dict(self) -> dict[str, Any]:
        """What `bpsim run --json` writes, as a dict: `to_json()` plus `latency_cdf` (Distribution.cdf_json)
        and `theory` (what queueing theory predicts, or why no formula applies), with infinities and NaN as None."""
        from bpsim.output import finite
        from bpsim.theory import theory_for

        # `latency_cdf` is here rather than in to_json(), so a sweep's or compare's runs stay as they were.
        cdf = {"latency_cdf": self.latency.cdf_json()}
        return finite(self.to_json() | cdf | {"theory": theory_for(self.scenario).to_json()})

    def to_pandas(self) -> pandas.DataFrame:
        """One row: `variant`, then every metric (the columns of `bpsim sweep --csv`). Needs pandas."""
        from bpsim.api import data_frame
        from bpsim.metrics import metric_values

        return data_frame([{"variant": self.variant} | metric_values(self)])

    def _downstream_json(self) -> dict[str, Any]:
        downstream = self.scenario.downstream
        concurrency = downstream.concurrency
        data: dict[str, Any] = {
            "concurrency": concurrency.model_dump() if isinstance(concurrency, BaseModel) else concurrency,
            "max_in_flight": self.max_in_flight,
        }
        if self.limit is not None:  # only with an adaptive limit: without one, the JSON is as it was
            data["limit"] = {"min": self.limit.min, "mean": self.limit.mean, "final": self.limit.final}
        if self.service is not None:  # only with a service modelled: without, the JSON is as it was
            data |= {
                "capacity": downstream.capacity,
                "max_in_service": self.service.max_in_service,
                "wasted_calls": self.service.wasted_calls,
                "wasted_seconds": self.service.wasted_seconds,
            }
        return data


def items_json(counts: Counts) -> dict[str, Any]:
    """The JSON's `items`: produced and never sent, each outcome's total, unfinished, each
    outcome's count per reason, and with an slo the handled items within it."""
    items: dict[str, Any] = {"produced": counts.produced, "never_sent": counts.never_sent}
    items |= {outcome.name: counts.of(outcome) for outcome in OUTCOMES}
    items[UNFINISHED] = counts.unfinished
    for outcome in OUTCOMES:
        if outcome.breakdown is not None:
            items[outcome.breakdown] = {reason.value: counts.of(reason) for reason in outcome.reasons}
    if counts.handled_on_time is not None:
        items["handled_on_time"] = counts.handled_on_time
    return items


class Simulation:
    """Several scenario variants on one virtual clock (one loop, one TaskGroup).

    `limits` apply to each variant (items produced, items queued) and to the shared clock
    (simulated seconds); the first one hit stops every variant.
    """

    def __init__(
        self,
        scenarios: Sequence[Scenario],
        *,
        labels: Sequence[str] | None = None,
        pacing: Pacing | None = None,
        limits: Limits = Limits(),
        warmup: float | None = None,
    ) -> None:
        self.pipelines = [Pipeline(scenario, limits=limits) for scenario in scenarios]
        self.warmup = warmup
        """Simulated seconds to leave out of each result's `measured` (`--warmup`); None: none."""
        self._windows: list[Window | None] = [None] * len(self.pipelines)
        self.labels = list(labels) if labels is not None else None
        self.pacing = pacing
        self.limits = limits
        self.loop: VirtualTimeLoop | None = None
        self.completed = False
        self.stopped_by: LimitReached | None = None
        self._task: asyncio.Task[None] | None = None
        self._interrupted = False

    def restart(self) -> None:
        """Forget the run so far: new pipelines for the same scenarios and limits, back at t = 0.

        Runs are deterministic, so `run()` after this repeats the same run (a dashboard rewinds
        this way). Observers and histories belong to the old pipelines: subscribe them again.
        """
        self.pipelines = [Pipeline(pipeline.scenario, limits=self.limits) for pipeline in self.pipelines]
        self._windows = [None] * len(self.pipelines)
        self.loop = None
        self.completed = False
        self.stopped_by = None
        self._task = None
        self._interrupted = False

    def subscribe(self, observer: Observer, variant: int = 0) -> None:
        """Send every event of one variant to `observer`."""
        self.pipelines[variant].subscribe(observer)

    def run(self) -> list[RunResult]:
        """Run to the end and return every variant's result.

        KeyboardInterrupt (Ctrl-C) propagates; `results()` then has the partial run. A run that
        hits a limit raises `LimitReached`, carrying the partial results (also in `results()`).
        """
        with asyncio.Runner(loop_factory=self._new_loop) as runner, signals.stops(self._interrupt):
            try:
                runner.run(self._main())
            except asyncio.CancelledError:
                if not self._interrupted:
                    raise
                raise KeyboardInterrupt from None  # as asyncio.Runner's own Ctrl-C handler ends
            except Stalled as stalled:
                raise Stalled(f"{stalled}: {self._describe_waiting()}") from None
        if self._interrupted and not self.completed:
            raise KeyboardInterrupt  # the signal came before the run began
        if self.stopped_by is not None:
            self.stopped_by.results = self.results()
            raise self.stopped_by
        return self.results()

    def _new_loop(self) -> VirtualTimeLoop:
        self.loop = VirtualTimeLoop(self.pacing)
        return self.loop

    def _interrupt(self) -> None:
        """Ctrl-C or SIGTERM (bpsim.signals): stop at the current instant, keeping the results.

        Called from a signal handler, like asyncio.Runner's: cancelling the main task only
        schedules callbacks, which the loop runs next, before it moves the clock again.
        """
        self._interrupted = True
        if self._task is not None:
            self._task.cancel()

    async def _main(self) -> None:
        self._task = asyncio.current_task()
        if self._interrupted:
            return
        if self.warmup is not None:
            asyncio.get_running_loop().call_at(self.warmup, self._open_windows)
        try:
            async with asyncio.timeout_at(self.limits.max_duration):
                await self._run_pipelines()
        except TimeoutError:
            assert self.limits.max_duration is not None  # without a deadline, timeout_at never fires
            self.stopped_by = LimitReached("max_duration", self.limits.max_duration, self.now)
        if self.stopped_by is None:
            self.completed = True

    async def _run_pipelines(self) -> None:
        try:
            async with asyncio.TaskGroup() as task_group:
                for pipeline in self.pipelines:
                    task_group.create_task(pipeline.run())
        except* LimitReached as stopped:
            # A pipeline's producer raised it; the TaskGroups have cancelled everything else.
            self.stopped_by = _first_leaf(stopped)

    def _open_windows(self) -> None:
        """The warm-up is over: measure every variant still running from now on (bpsim.warmup)."""
        for index, pipeline in enumerate(self.pipelines):
            if pipeline.finished_at is None:
                self._windows[index] = open_window(pipeline.ledger, self.now)

    @property
    def now(self) -> float:
        return self.loop.time() if self.loop is not None else 0.0

    def _describe_waiting(self) -> str:
        parts = []
        for pipeline in self.pipelines:
            idle = pipeline.worker_states.count(WorkerState.IDLE)
            what = f"{idle} worker(s) wait in queue.get()"
            if pipeline.producer_state is ProducerState.BLOCKED:
                what = "the producer waits in queue.put() and " + what
            parts.append(what)
        return "; ".join(parts) + " (was queue.shutdown() ever called?)"

    def results(self) -> list[RunResult]:
        """Results so far: complete after `run()` returned, partial after an interruption."""
        return [self._result(index, pipeline) for index, pipeline in enumerate(self.pipelines)]

    def latency_stats(self, index: int) -> LatencyStats:
        """Variant `index`'s latencies, every one recorded (from the warm-up on, with one; empty
        for a variant that ended before it): `compare --cdf` counts them on one shared axis."""
        if self.warmup is None:
            return self.pipelines[index].ledger.latency
        window = self._windows[index]
        return window.latency if window is not None else LatencyStats()

    def _result(self, index: int, pipeline: Pipeline) -> RunResult:
        # A variant that finished before the others ends at its own time, so its duration,
        # averages and throughput are those of a run of it alone.
        end = pipeline.finished_at if pipeline.finished_at is not None else self.now
        result = RunResult(
            scenario=pipeline.scenario,
            completed=self.completed,
            duration=end,
            counts=pipeline.ledger.counts(),
            max_qsize=pipeline.ledger.max_qsize,
            mean_qsize=pipeline.ledger.mean_qsize(end),
            blocked_seconds=pipeline.ledger.blocked_so_far(end),
            max_in_flight=pipeline.ledger.max_in_flight,
            latency=Distribution.of(pipeline.ledger.latency),
            queue_wait=Distribution.of(pipeline.ledger.queue_wait),
            entered_queue=pipeline.ledger.entered_queue,
            time_in_queue=pipeline.ledger.time_in_queue(end),
            variant=self.labels[index] if self.labels is not None else None,
            stopped_by=self.stopped_by.limit if self.stopped_by is not None else None,
            shutdown_at=pipeline.shutdown_at,
            retry=dataclasses.replace(pipeline.retry_counts) if pipeline.scenario.retry is not None else None,
            breaker=pipeline.breaker.counts() if pipeline.breaker is not None else None,
            throttle_waited=pipeline.throttle.waited_seconds if pipeline.throttle is not None else None,
            service=pipeline.service.totals(end) if pipeline.service is not None else None,
            limit=pipeline.adaptive.summary(end) if pipeline.adaptive is not None else None,
        )
        if self.warmup is None:
            return result
        window = measured(result, self._windows[index], pipeline.ledger, end)
        return dataclasses.replace(result, warmup=self.warmup, measured=window)


def _first_leaf(group: BaseExceptionGroup[LimitReached]) -> LimitReached:
    # TaskGroups nest: the simulation's group holds the pipeline's group holds the exception.
    found: BaseException = group
    while isinstance(found, BaseExceptionGroup):
        found = found.exceptions[0]
    assert isinstance(found, LimitReached)
    return found


def run(
    scenario: Scenario,
    observers: Sequence[Observer] = (),
    pacing: Pacing | None = None,
    limits: Limits = Limits(),
    *,
    warmup: float | None = None,
) -> RunResult:
    """Run one scenario to the end and return its result (raises `LimitReached` at a limit).

    `warmup` is `--warmup S`: the result's `measured` is then the run from S on (bpsim.warmup)."""
    simulation = Simulation([scenario], pacing=pacing, limits=limits, warmup=warmup)
    for observer in observers:
        simulation.subscribe(observer)
    return simulation.run()[0]
