"""Queueing theory next to the simulation: what the textbook formulas predict for a scenario.

The formulas (`mmc`, `mmck`, `mg1`, `md1`) are plain functions of rates and sizes. `theory_for`
decides which one, if any, describes a scenario and says why when none does. `simulated` picks the
matching numbers out of a `RunResult`, and `littles_law` checks Lq = lambda * Wq on a run.

Words: queueing theory says an arrival is *blocked* when it finds the system full and is lost. In
bpsim that item is *dropped* (the producer never waits under a drop policy); "blocked" is kept for
a producer waiting in `await queue.put`. `blocking_probability` is the textbook name, kept so the
formula can be looked up.

How a scenario maps onto a model: items arrive at `producer.rate`; the servers are the downstream
calls that can run at once, c = min(workers.count, downstream.concurrency); the system holds the
items in the queue plus the ones in workers' hands, so a bounded queue gives K = maxsize + c.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bpsim.i18n import t
from bpsim.outcomes import FULL_QUEUE
from bpsim.scenario import ConstantService, ExponentialService, Policy, Scenario, UniformService

if TYPE_CHECKING:
    from bpsim.engine import RunResult

__all__ = [
    "SteadyState",
    "erlang_c",
    "mmc",
    "mmck",
    "mg1",
    "md1",
    "Theory",
    "theory_for",
    "Simulated",
    "simulated",
    "LittleCheck",
    "littles_law",
]

# -- the formulas ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SteadyState:
    """Long-run averages of a queueing model. Times are in seconds, rates in items per second."""

    rho: float
    """Offered utilisation lambda / (c * mu); above 1 the servers cannot keep up with arrivals."""
    throughput: float
    """Items served per second: lambda, less the lost ones in a finite system."""
    blocking_probability: float
    """Share of arrivals that find the system full and are lost (0 with an unbounded queue)."""
    wait_probability: float
    """Share of admitted arrivals that find every server busy and wait."""
    mean_in_system: float
    """L: items waiting or being served, time-averaged."""
    mean_in_queue: float
    """Lq: items waiting, time-averaged."""
    mean_response: float
    """W: arrival to end of service, for items served."""
    mean_wait: float
    """Wq: arrival to start of service, for items served."""


def _require_stable(rho: float) -> None:
    if rho >= 1:
        raise ValueError(f"utilisation {rho} >= 1: an unbounded queue has no steady state")


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Erlang's C formula: the probability that an arrival to an M/M/c queue has to wait.

    Computed through Erlang B's recursion, which stays finite for thousands of servers where
    a^c / c! would overflow. Raises ValueError when utilisation >= 1.
    """
    offered = arrival_rate / service_rate
    _require_stable(offered / servers)
    erlang_b = 1.0
    for k in range(1, servers + 1):
        erlang_b = offered * erlang_b / (k + offered * erlang_b)
    return servers * erlang_b / (servers - offered * (1 - erlang_b))


def mmc(arrival_rate: float, service_rate: float, servers: int) -> SteadyState:
    """M/M/c: Poisson arrivals, exponential service, c servers, unbounded FIFO queue.

    Raises ValueError when utilisation >= 1 (no steady state).
    """
    rho = arrival_rate / (servers * service_rate)
    wait = erlang_c(arrival_rate, service_rate, servers)
    mean_wait = wait / (servers * service_rate - arrival_rate)
    mean_response = mean_wait + 1 / service_rate
    return SteadyState(
        rho=rho,
        throughput=arrival_rate,
        blocking_probability=0.0,
        wait_probability=wait,
        mean_in_system=arrival_rate * mean_response,
        mean_in_queue=arrival_rate * mean_wait,
        mean_response=mean_response,
        mean_wait=mean_wait,
    )


def mmck(arrival_rate: float, service_rate: float, servers: int, capacity: int) -> SteadyState:
    """M/M/c/K: as M/M/c, but an arrival that finds `capacity` (K) items in the system is lost.

    Any utilisation is allowed. The stationary distribution is summed state by state, so the cost
    grows with K. Raises ValueError when capacity < servers.
    """
    if capacity < servers:
        raise ValueError(f"capacity {capacity} is smaller than servers {servers}")
    offered = arrival_rate / service_rate
    # p_n is proportional to offered^n / (n! for n <= c, c! c^(n-c) beyond). Built as logarithms
    # and scaled by the largest, so large c or K neither overflow nor underflow to all zeros.
    logs = [0.0]
    for n in range(1, capacity + 1):
        logs.append(logs[-1] + math.log(offered / min(n, servers)))
    top = max(logs)
    weights = [math.exp(value - top) for value in logs]
    total = math.fsum(weights)
    p = [weight / total for weight in weights]
    blocking = p[capacity]
    # Summed rather than 1 - blocking: at a huge offered load blocking rounds to 1.0 and
    # 1 - blocking to 0, a division by zero below (issue #17); the sum keeps its tiny value.
    accepted = math.fsum(p[:capacity])
    throughput = arrival_rate * accepted
    mean_in_system = math.fsum(n * p_n for n, p_n in enumerate(p))
    mean_in_queue = math.fsum((n - servers) * p[n] for n in range(servers + 1, capacity + 1))
    return SteadyState(
        rho=offered / servers,
        throughput=throughput,
        blocking_probability=blocking,
        wait_probability=math.fsum(p[servers:capacity]) / accepted,
        mean_in_system=mean_in_system,
        mean_in_queue=mean_in_queue,
        mean_response=mean_in_system / throughput,
        mean_wait=mean_in_queue / throughput,
    )


def mg1(arrival_rate: float, service_mean: float, service_variance: float) -> SteadyState:
    """M/G/1 by the Pollaczek-Khinchine formula: Lq = lambda^2 E[S^2] / (2 (1 - rho)).

    Any service distribution with this mean and variance; one server, unbounded FIFO queue.
    Raises ValueError when utilisation >= 1.
    """
    rho = arrival_rate * service_mean
    _require_stable(rho)
    mean_in_queue = arrival_rate**2 * (service_variance + service_mean**2) / (2 * (1 - rho))
    mean_wait = mean_in_queue / arrival_rate
    mean_response = mean_wait + service_mean
    return SteadyState(
        rho=rho,
        throughput=arrival_rate,
        blocking_probability=0.0,
        wait_probability=rho,
        mean_in_system=arrival_rate * mean_response,
        mean_in_queue=mean_in_queue,
        mean_response=mean_response,
        mean_wait=mean_wait,
    )


def md1(arrival_rate: float, service_time: float) -> SteadyState:
    """M/D/1: every service takes exactly `service_time`; Lq = rho^2 / (2 (1 - rho))."""
    return mg1(arrival_rate, service_time, 0.0)


# -- which formula describes a scenario ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Theory:
    """What queueing theory predicts for one scenario, or why it predicts nothing.

    Predicted metrics are None where no formula gives them. `rho` is known for every scenario with
    a numeric rate (bursts ignored: it uses the base rate), applicable or not.
    """

    model: str | None
    """Kendall notation of the model used, e.g. "M/M/4/14", "M/M/2", "M/D/1"."""
    applies: bool
    reason: str | None
    """One line saying why no formula applies (None when one does)."""
    rho: float | None
    unstable: bool = False
    """Utilisation >= 1 with an unbounded queue: the queue grows without limit."""
    throughput: float | None = None
    blocking_probability: float | None = None
    mean_in_system: float | None = None
    mean_in_queue: float | None = None
    mean_response: float | None = None
    mean_wait: float | None = None
    note: str | None = None
    """Caveats worth reading next to the numbers: the finite run, what is left out and why."""


def _servers(scenario: Scenario) -> int:
    concurrency = scenario.downstream.concurrency
    workers = scenario.workers.count
    return workers if concurrency is None else min(workers, concurrency)


def _not_modelled(scenario: Scenario, servers: int) -> str | None:
    """The key of the first reason no formula describes this scenario, or None."""
    producer, queue, service = scenario.producer, scenario.queue, scenario.workers.service
    bounded = queue.maxsize > 0
    checks = [
        ("bursts", bool(producer.bursts)),
        ("constant_arrivals", producer.arrivals == "constant"),
        ("downstream_timeout", scenario.downstream.timeout is not None),
        ("max_age", queue.max_age is not None),
        # Unbounded, put never waits, so put_timeout never fires: no reason of its own.
        ("block_bounded", bounded and queue.policy is Policy.BLOCK),
        ("semaphore", servers < scenario.workers.count),
        ("await_producer", not scenario.shutdown.await_producer),
        ("constant_service", isinstance(service, ConstantService) and (servers > 1 or bounded)),
        ("uniform_service", isinstance(service, UniformService) and (servers > 1 or bounded)),
    ]
    return next((key for key, failed in checks if failed), None)


def _kendall(scenario: Scenario, servers: int) -> str:
    service = {ExponentialService: "M", ConstantService: "D", UniformService: "G"}
    model = f"M/{service[type(scenario.workers.service)]}/{servers}"
    maxsize = scenario.queue.maxsize
    return f"{model}/{maxsize + servers}" if maxsize > 0 else model


def _steady_state(scenario: Scenario, arrival_rate: float, servers: int) -> SteadyState:
    service = scenario.workers.service
    maxsize = scenario.queue.maxsize
    match service:
        case ExponentialService(mean=mean) if maxsize > 0:
            return mmck(arrival_rate, 1 / mean, servers, maxsize + servers)
        case ExponentialService(mean=mean):
            return mmc(arrival_rate, 1 / mean, servers)
        case ConstantService(mean=mean):
            return md1(arrival_rate, mean)
        case UniformService(low=low, high=high):
            return mg1(arrival_rate, service.mean, (high - low) ** 2 / 12)
    raise AssertionError(f"no formula for {service!r}")  # pragma: no cover - _not_modelled guards


def theory_for(scenario: Scenario) -> Theory:
    """The textbook prediction for `scenario`, when one applies.

    It applies to Poisson arrivals at a steady rate, exponential service (or constant or uniform
    service with one server and an unbounded queue: M/D/1, M/G/1), no bursts, timeouts or max_age,
    and a semaphore no smaller than the worker pool. Then an unbounded queue is M/M/c under any
    policy (the queue is never full); drop-newest with a bounded queue is M/M/c/K with
    K = maxsize + c; drop-oldest has the same number in system, so the same losses, L and Lq, but
    W and Wq are left out; block with a bounded queue does not apply.
    """
    rate = scenario.producer.rate
    if rate == "unlimited":
        return Theory(model=None, applies=False, reason=t("theory.reason.unlimited"), rho=None)
    servers = _servers(scenario)
    arrival_rate = float(rate)
    rho = arrival_rate * scenario.workers.service.mean / servers
    reason = _not_modelled(scenario, servers)
    if reason is not None:
        return Theory(model=None, applies=False, reason=t("theory.reason." + reason), rho=rho)
    model = _kendall(scenario, servers)
    bounded = scenario.queue.maxsize > 0
    if not bounded and rho >= 1:
        return Theory(
            model=model, applies=False, reason=t("theory.reason.unstable"), rho=rho, unstable=True
        )
    state = _steady_state(scenario, arrival_rate, servers)
    notes = [t("theory.note.finite_run")]
    if not bounded and rho > 0.9:
        notes.append(t("theory.note.near_saturation"))
    if scenario.shutdown.at is not None:
        notes.append(t("theory.note.deadline", at=scenario.shutdown.at))
    evicting = bounded and scenario.queue.policy is Policy.DROP_OLDEST
    if evicting:
        notes.append(t("theory.note.drop_oldest"))
    return Theory(
        model=model,
        applies=True,
        reason=None,
        rho=rho,
        throughput=state.throughput,
        blocking_probability=state.blocking_probability,
        mean_in_system=state.mean_in_system,
        mean_in_queue=state.mean_in_queue,
        mean_response=None if evicting else state.mean_response,
        mean_wait=None if evicting else state.mean_wait,
        note="; ".join(notes),
    )


# -- the same quantities, measured -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Simulated:
    """The run's counterparts of `Theory`'s predictions; None where the run does not record one."""

    throughput: float
    blocking_probability: float | None
    """Items lost to a full queue (dropped as queue-full or evicted) per item produced."""
    mean_in_system: float | None
    """Not recorded: the ledger averages the queue only, not the items in workers' hands."""
    mean_in_queue: float
    mean_response: float | None
    mean_wait: float | None


def simulated(result: RunResult) -> Simulated:
    """Pick the numbers of `result` that `Theory` predicts, under the same names."""
    counts = result.counts
    lost = sum(counts.of(reason) for reason in FULL_QUEUE)
    return Simulated(
        throughput=result.throughput,
        blocking_probability=lost / counts.produced if counts.produced else None,
        mean_in_system=None,
        mean_in_queue=result.mean_qsize,
        mean_response=result.latency.mean if result.latency.count else None,
        mean_wait=result.queue_wait.mean if result.queue_wait.count else None,
    )


@dataclass(frozen=True, slots=True)
class LittleCheck:
    """Little's law on the queue alone, Lq = lambda * Wq, checked on one run."""

    arrival_rate: float
    """lambda: items that entered the queue, per simulated second."""
    mean_wait: float
    """Wq: the mean time those items spent in the queue (until a worker took them, they were
    evicted or abandoned, or the run ended), seconds."""
    predicted_in_queue: float
    """lambda * Wq."""
    observed_in_queue: float
    """The time-averaged qsize the ledger measured."""
    relative_error: float
    holds: bool
    """relative_error <= the tolerance asked for."""


def littles_law(result: RunResult, tolerance: float = 1e-6) -> LittleCheck:
    """Check Lq = lambda * Wq on `result`, with lambda and Wq counted item by item.

    The queue form is checked because the run records the time-averaged qsize but not the number in
    the whole system. Over any stretch of time, the area under qsize is the sum of the times the
    items spent in the queue within it, so the law holds on every run, whatever the policy, up to
    rounding: the two sides are counted separately (qsize over time; each item's entering and
    leaving), so a failure means the engine lost track of an item. Wq here is time *in the queue*;
    the summary's "queue wait" is measured from the item's scheduled arrival and so also includes
    time the producer spent blocked in `put()`.
    """
    arrival_rate = result.entered_queue / result.duration if result.duration > 0 else 0.0
    mean_wait = result.mean_time_in_queue
    predicted = arrival_rate * mean_wait
    observed = result.mean_qsize
    scale = max(abs(predicted), abs(observed))
    relative_error = abs(predicted - observed) / scale if scale > 0 else 0.0
    return LittleCheck(
        arrival_rate=arrival_rate,
        mean_wait=mean_wait,
        predicted_in_queue=predicted,
        observed_in_queue=observed,
        relative_error=relative_error,
        holds=relative_error <= tolerance,
    )
