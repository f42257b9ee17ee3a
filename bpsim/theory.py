"""Queueing theory next to the simulation: what the formulas predict for a scenario.

The formulas are plain functions of rates and sizes: `mmc` (Erlang C), `mmck`, `mg1`, `md1`, and
for a service that slows down under load the Universal Scalability Law (`usl`, `usl_knee`) and its
birth-death chain (`usl_chain`, `usl_service`, `closed_loop_throughput`). Every chain is solved by
`birth_death` in memory that grows with the number of servers, never with the queue's capacity:
the states past the last server form a geometric series, summed in closed form.

`theory_for` decides which formula, if any, describes a scenario and says why when none does (as
keys: the words are the renderer's). `simulated` picks the matching numbers out of a `RunResult`,
and `littles_law` checks Lq = lambda * Wq on a run.

Words: queueing theory says an arrival is *blocked* when it finds the system full and is lost. In
bpsim that item is *dropped* (the producer never waits under a drop policy); "blocked" is kept for
a producer waiting in `await queue.put`. `blocking_probability` is the textbook name, kept so the
formula can be looked up.

How a scenario maps onto a model: items arrive at `producer.rate`; the servers are the calls in
service at once, c = min(workers.count, downstream.concurrency, downstream.capacity); the system
holds the items in the queue plus the ones in workers' hands, so a bounded queue gives
K = maxsize + workers, and the queue a learner watches holds the items past the workers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from bpsim.outcomes import FULL_QUEUE
from bpsim.scenario import (
    AdaptiveConcurrency,
    ConstantService,
    ExponentialService,
    EmpiricalService,
    LognormalService,
    ParetoService,
    Policy,
    Scenario,
    UniformService,
    WeibullService,
)

if TYPE_CHECKING:
    from bpsim.engine import RunResult

__all__ = [
    "SteadyState",
    "NoSteadyState",
    "Stationary",
    "birth_death",
    "erlang_c",
    "mmc",
    "mmck",
    "mg1",
    "md1",
    "usl",
    "usl_knee",
    "usl_peak",
    "usl_chain",
    "usl_service",
    "closed_loop_throughput",
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
    mean_in_service: float
    """Items being served (calls in service), time-averaged."""
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


# -- birth-death chains in constant memory --------------------------------------------------------


class NoSteadyState(ValueError):
    """The chain has no stationary distribution: the number in the system grows without bound."""


def _log_geometric_sum(a: float, terms: float) -> float:
    """log of e^a + e^2a + ... + e^(terms*a), for `terms` >= 1 (math.inf when a < 0).

    In logarithms with expm1, so a billion terms of ratio 1.5 neither overflow nor lose digits.
    """
    if a == 0:
        return math.log(terms)
    if a < 0:  # r (1 - r^T) / (1 - r), r = e^a
        return a + math.log(-math.expm1(a * terms)) - math.log(-math.expm1(a))
    # r > 1: factor out the largest term, r^T (1 - r^-T) / (1 - r^-1)
    return a * terms + math.log(-math.expm1(-a * terms)) - math.log(-math.expm1(-a))


def _mean_geometric_index(a: float, terms: float) -> float:
    """E[j] when P(j) is proportional to e^(a j), j = 1..terms (math.inf only when a < 0)."""
    if math.isinf(terms):
        return -1 / math.expm1(a)  # 1 / (1 - r)
    if abs(a * terms) < 1e-4:
        # Nearly uniform: the closed form below cancels to noise. Mean of 1..T plus a times the
        # variance (the mean's derivative in a); the next term is of order (aT)^3 relative.
        return (terms + 1) / 2 + a * (terms * terms - 1) / 12
    if a > 0:  # count from the top: j' = T + 1 - j has ratio 1 / r
        return terms + 1 - _mean_geometric_index(-a, terms)
    spread = -a * terms
    # 1/(1-r) - T r^T / (1 - r^T); r^T underflows long before expm1 would overflow
    return -1 / math.expm1(a) - (terms / math.expm1(spread) if spread < 700 else 0.0)


@dataclass(frozen=True, slots=True)
class Stationary:
    """The stationary distribution p(n) of a birth-death chain with a geometric tail.

    p(0..m) are held one by one (`head`); beyond m the death rate no longer changes, so
    p(m + j) = p(m) r^j for j = 1..tail (r = birth / last death rate) and the tail is summed in
    closed form. Memory is O(m), whatever the capacity.
    """

    head: tuple[float, ...]
    """p(0), ..., p(m)."""
    log_last: float
    """log p(m), exact where p(m) itself underflows (a billion states past m hold the mass)."""
    log_ratio: float
    """log r, the tail's ratio p(n + 1) / p(n)."""
    tail: float
    """How many states lie beyond m: capacity - m, math.inf without a capacity, 0 for none."""
    log_top: float
    """log P(n = capacity); -inf without a capacity."""
    accepted: float
    """P(n < capacity), summed rather than taken as 1 - P(top): at a huge offered load P(top)
    rounds to 1.0 and 1 - P(top) to 0, which the throughput would then divide by."""

    @property
    def last(self) -> int:
        """m: the last state held one by one."""
        return len(self.head) - 1

    def _tail_from(self, s: int) -> tuple[float, float]:
        """P(n > s) and E[n - s | n > s], for s >= m."""
        terms = self.tail - (s - self.last)
        if terms <= 0:
            return 0.0, 0.0
        log_mass = self.log_last + self.log_ratio * (s - self.last)
        mass = math.exp(log_mass + _log_geometric_sum(self.log_ratio, terms))
        return mass, _mean_geometric_index(self.log_ratio, terms)

    def top(self) -> float:
        """P(n = capacity): the share of arrivals lost (0 without a capacity)."""
        return math.exp(self.log_top)

    def at_least(self, s: int) -> float:
        """P(n >= s)."""
        if s <= self.last:
            return math.fsum(self.head[s:]) + self._tail_from(self.last)[0]
        return self._tail_from(s - 1)[0]

    def mean_above(self, s: int) -> float:
        """E[max(n - s, 0)]: e.g. the mean number waiting when s items can be served."""
        if s <= self.last:
            mass, beyond = self._tail_from(self.last)
            held = math.fsum((n - s) * p for n, p in enumerate(self.head) if n > s)
            return held + mass * (self.last - s + beyond)
        mass, beyond = self._tail_from(s)
        return mass * beyond

    def mean_below(self, s: int) -> float:
        """E[min(n, s)] for s <= m: e.g. the mean number being served by s servers."""
        if s > self.last:
            raise ValueError(f"{s} is past the states held one by one ({self.last})")
        return math.fsum(n * p for n, p in enumerate(self.head[:s])) + s * self.at_least(s)

    def mean(self) -> float:
        """E[n]: the mean number in the system."""
        return self.mean_above(0)


def birth_death(birth_rate: float, death_rates: list[float], capacity: int | None = None) -> Stationary:
    """The stationary distribution of a birth-death chain, in memory O(len(death_rates)).

    Births arrive at `birth_rate` while n < `capacity` (None: no capacity). State n dies at
    death_rates[n - 1]; beyond the list the last death rate holds for every n, which makes the
    tail geometric and lets it be summed in closed form:

        p(n) = p(0) * prod_{k=1..n} birth / death(k)

    Raises NoSteadyState without a capacity when birth_rate >= the last death rate.
    """
    if not death_rates:
        raise ValueError("a birth-death chain needs at least one death rate")
    held = len(death_rates) if capacity is None else min(len(death_rates), capacity)
    # Logarithms scaled by the largest at the end: large m neither overflows nor underflows.
    logs = [0.0]
    for rate in death_rates[:held]:
        logs.append(logs[-1] + math.log(birth_rate / rate))
    log_ratio = math.log(birth_rate / death_rates[-1])
    tail = math.inf if capacity is None else float(capacity - held)
    if math.isinf(tail) and log_ratio >= 0:
        raise NoSteadyState(
            f"arrivals {birth_rate} >= departures {death_rates[-1]}: no steady state, the queue grows without limit"
        )
    climbing = 0 < tail < math.inf and log_ratio > 0
    if climbing:
        # Overload with a capacity: the top state weighs the most. Weigh every state against it,
        # so that the r^T of a billion states cancels in the formula rather than in floating
        # point, and P(top), the share lost, keeps its digits.
        ref = logs[-1] + log_ratio * tail
        log_tail = math.log(-math.expm1(-log_ratio * tail)) - math.log(-math.expm1(-log_ratio))
    else:
        ref = 0.0
        log_tail = logs[-1] + _log_geometric_sum(log_ratio, tail) if tail > 0 else -math.inf
    weights = [value - ref for value in logs]
    largest = max(max(weights), log_tail)
    log_total = largest + math.log(
        math.fsum(math.exp(value - largest) for value in weights) + math.exp(log_tail - largest)
    )
    log_last = weights[-1] - log_total
    head = tuple(math.exp(value - log_total) for value in weights)
    if math.isinf(tail):
        log_top, accepted = -math.inf, 1.0
    elif tail == 0:
        log_top, accepted = log_last, math.fsum(head[:-1])
    elif climbing:
        # Every state below the top: the head, and the T - 1 tail states under it (ratio 1/r).
        below = math.fsum(math.exp(value) for value in weights)
        if tail > 1:
            below += math.exp(_log_geometric_sum(-log_ratio, tail - 1))
        log_top, accepted = -log_total, math.exp(math.log(below) - log_total)
    else:
        log_top = log_last + log_ratio * tail
        accepted = 1 - math.exp(log_top)  # the top is the lightest tail state: no rounding to 0
    return Stationary(head, log_last, log_ratio, tail, log_top, accepted)


def _steady_state_of(
    chain: Stationary, arrival_rate: float, servers: int, *, waiting_from: int, rho: float
) -> SteadyState:
    """A chain's averages, for `servers` calls at once and a queue holding the items past
    `waiting_from` (the servers, or the workers when a semaphore or capacity is smaller)."""
    blocking = chain.top()
    throughput = arrival_rate * chain.accepted
    mean_in_system = chain.mean()
    mean_in_queue = chain.mean_above(waiting_from)
    return SteadyState(
        rho=rho,
        throughput=throughput,
        blocking_probability=blocking,
        # Admitted arrivals that find every server busy: all but those finding one free.
        wait_probability=max(0.0, 1 - math.fsum(chain.head[:servers]) / chain.accepted),
        mean_in_system=mean_in_system,
        mean_in_queue=mean_in_queue,
        mean_in_service=chain.mean_below(servers),
        mean_response=mean_in_system / throughput,
        mean_wait=mean_in_queue / throughput,
    )


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
        mean_in_service=arrival_rate / service_rate,
        mean_response=mean_response,
        mean_wait=mean_wait,
    )


def mmck(arrival_rate: float, service_rate: float, servers: int, capacity: int) -> SteadyState:
    """M/M/c/K: as M/M/c, but an arrival that finds `capacity` (K) items in the system is lost.

    Any utilisation is allowed. Constant memory in K: the states up to c are summed one by one,
    the rest (where every server is busy) as a geometric series (`birth_death`), so K = 10^9
    costs what K = 14 does. Raises ValueError when capacity < servers.
    """
    if capacity < servers:
        raise ValueError(f"capacity {capacity} is smaller than servers {servers}")
    chain = birth_death(arrival_rate, [k * service_rate for k in range(1, servers + 1)], capacity)
    return _steady_state_of(chain, arrival_rate, servers, waiting_from=servers, rho=arrival_rate / (servers * service_rate))


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
        mean_in_service=rho,
        mean_response=mean_response,
        mean_wait=mean_wait,
    )


def md1(arrival_rate: float, service_time: float) -> SteadyState:
    """M/D/1: every service takes exactly `service_time`; Lq = rho^2 / (2 (1 - rho))."""
    return mg1(arrival_rate, service_time, 0.0)


# -- a service that slows down under load (Universal Scalability Law) ------------------------------


def usl(calls: float, contention: float, coherency: float) -> float:
    """X(n) = n / (1 + sigma (n - 1) + kappa n (n - 1)): how fast n calls in service get their work
    done, relative to one call alone (Gunther's Universal Scalability Law)."""
    return calls / (1 + contention * (calls - 1) + coherency * calls * (calls - 1))


def usl_knee(contention: float, coherency: float) -> float | None:
    """n* = sqrt((1 - sigma) / kappa), where X(n) peaks; None when kappa = 0 (X never falls)."""
    return math.sqrt((1 - contention) / coherency) if coherency > 0 else None


def usl_peak(limit: int, contention: float, coherency: float) -> int:
    """The whole number of calls, at most `limit`, at which X(n) is largest."""
    knee = usl_knee(contention, coherency)
    if knee is None or knee >= limit:
        return limit
    low = max(1, math.floor(knee))
    return max((low, min(low + 1, limit)), key=lambda n: usl(n, contention, coherency))


def usl_chain(
    arrival_rate: float,
    service_rate: float,
    servers: int,
    contention: float = 0.0,
    coherency: float = 0.0,
    capacity: int | None = None,
    *,
    waiting_from: int | None = None,
) -> SteadyState:
    """Poisson arrivals into a processor-sharing service whose n calls complete at mu X(n).

    At most `servers` calls are in service (the rest wait, FIFO): a birth-death chain with birth
    lambda and death mu X(min(n, servers)), lost arrivals beyond `capacity` items in all (None: no
    loss). `waiting_from` is where the visible queue starts (the workers, when a semaphore or the
    service's capacity is smaller than the pool; default `servers`). With sigma = kappa = 0 this is
    M/M/c/K. Raises NoSteadyState without a capacity when lambda >= mu X(servers).
    """
    deaths = [service_rate * usl(k, contention, coherency) for k in range(1, servers + 1)]
    chain = birth_death(arrival_rate, deaths, capacity)
    rho = arrival_rate / deaths[-1]
    return _steady_state_of(chain, arrival_rate, servers, waiting_from=waiting_from or servers, rho=rho)


def usl_service(
    arrival_rate: float,
    service_rate: float,
    capacity: int | None,
    contention: float = 0.0,
    coherency: float = 0.0,
    room: int | None = None,
) -> SteadyState:
    """The service alone: Poisson arrivals, exponential work of mean 1/mu, no client limits.

    `capacity` calls at most in service (None: no limit), USL slow-down, and `room` calls at most
    in the whole service (None: none lost). Checks: capacity 1 and sigma = kappa = 0 is M/M/1,
    W = 1/(mu - lambda); no capacity and sigma = kappa = 0 is M/M/inf, W = 1/mu. Without a capacity
    and with kappa > 0 the service slows down without end as calls pile up: no steady state
    (NoSteadyState, congestion collapse).
    """
    if capacity is None and room is not None:
        capacity = room
    if capacity is not None:
        return usl_chain(arrival_rate, service_rate, capacity, contention, coherency, room)
    if coherency > 0:
        raise NoSteadyState(
            "coherency > 0 without a capacity: the more calls pile up, the slower each one goes;"
            " no steady state (congestion collapse)"
        )
    if contention > 0:
        raise ValueError("contention without a capacity has no geometric tail; give the service a capacity")
    offered = arrival_rate / service_rate  # M/M/inf: the number in service is Poisson(lambda / mu)
    return SteadyState(
        rho=0.0,
        throughput=arrival_rate,
        blocking_probability=0.0,
        wait_probability=0.0,
        mean_in_system=offered,
        mean_in_queue=0.0,
        mean_in_service=offered,
        mean_response=1 / service_rate,
        mean_wait=0.0,
    )


def closed_loop_throughput(service_rate: float, calls: int, contention: float, coherency: float) -> float:
    """Calls completed per second when `calls` are always in service (each client sends its next
    call when the last ends): mu X(n), whatever the distribution of the work."""
    return service_rate * usl(calls, contention, coherency)


# -- which formula describes a scenario ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Theory:
    """What queueing theory predicts for one scenario, or why it predicts nothing.

    Holds no words, only keys: `reason` and `note` are keys of `theory.reason` and `theory.note`
    in the catalogues (bpsim.render.theory says them), so the JSON is the same in every language.
    Predicted metrics are None where no formula gives them. `rho` is known for every scenario with
    a numeric rate (bursts ignored: it uses the base rate), applicable or not.
    """

    model: str | None
    """Kendall notation of the model used, e.g. "M/M/4/14", "M/M/2", "M/D/1", "M/M/8 + USL",
    "closed/5" (a closed loop of 5 calls always in service)."""
    applies: bool
    reason: str | None
    """Why no formula applies, as a key ("bursts", "collapse"...); None when one does."""
    rho: float | None
    """lambda over what the service completes at its limit of calls, mu X(c)."""
    unstable: bool = False
    """Utilisation >= 1 with an unbounded queue: the queue grows without limit."""
    throughput: float | None = None
    blocking_probability: float | None = None
    mean_in_system: float | None = None
    mean_in_queue: float | None = None
    mean_response: float | None = None
    mean_wait: float | None = None
    note: tuple[str, ...] = ()
    """Caveats worth reading next to the numbers, as keys ("finite_run", "deadline"...)."""
    mean_in_service: float | None = None
    """Calls in the service, time-averaged (in its hidden queue included)."""
    calls: int | None = None
    """c: the most calls in service at once, min(workers, semaphore, the service's capacity)."""
    knee: float | None = None
    """USL n* = sqrt((1 - sigma) / kappa): more calls than this lower the service's throughput."""
    peak_throughput: float | None = None
    """mu X(n) at the best whole n <= c: the most the service can complete per second."""
    deadline: float | None = None
    """shutdown.at, when the "deadline" note applies."""

    def to_json(self) -> dict[str, Any]:
        """The JSON `theory` object (docs/json.md): these fields, keys and numbers only."""
        return {name: list(value) if isinstance(value, tuple) else value for name, value in asdict(self).items()}


@dataclass(frozen=True, slots=True)
class _Service:
    """The service behind the call, as the formulas see it."""

    rate: float
    """mu: calls per second a lone call completes (1 / mean work)."""
    calls: int
    """c: the most calls in service at once."""
    contention: float
    coherency: float

    def completion_rate(self, calls: int) -> float:
        return self.rate * usl(calls, self.contention, self.coherency)

    @property
    def contended(self) -> bool:
        return self.contention > 0 or self.coherency > 0

    @property
    def knee(self) -> float | None:
        return usl_knee(self.contention, self.coherency)

    @property
    def peak_throughput(self) -> float:
        return self.completion_rate(usl_peak(self.calls, self.contention, self.coherency))


def _service(scenario: Scenario) -> _Service:
    downstream = scenario.downstream
    limits = [scenario.workers.count, downstream.most_in_flight, downstream.capacity]
    return _Service(
        rate=1 / scenario.workers.service.mean,
        calls=min(limit for limit in limits if limit is not None),
        contention=downstream.contention,
        coherency=downstream.coherency,
    )


def _not_modelled(scenario: Scenario, service: _Service) -> str | None:
    """The key of the first reason no formula describes this scenario, or None."""
    producer, queue, downstream = scenario.producer, scenario.queue, scenario.downstream
    work = scenario.workers.service
    bounded = queue.maxsize > 0
    checks = [
        ("bursts", bool(producer.bursts)),
        ("adaptive", isinstance(scenario.downstream.concurrency, AdaptiveConcurrency)),
        ("file_arrivals", producer.from_file is not None),
        ("producer_start", producer.start > 0),
        ("constant_arrivals", producer.arrivals == "constant" or (producer.after_put and producer.gaps == "constant")),
        # after-put: a put that waits delays every later arrival; puts that never wait keep Poisson.
        ("after_put", scenario.puts_delay_arrivals),
        ("downstream_timeout", downstream.timeout is not None),
        ("max_age", queue.max_age is not None),
        ("errors", downstream.errors > 0),
        ("rate_limit", downstream.rate_limit is not None),
        ("outages", bool(downstream.outages)),
        ("discipline", queue.discipline != "fifo"),
        # Unbounded, put never waits, so put_timeout never fires: no reason of its own.
        ("block_bounded", bounded and queue.policy is Policy.BLOCK),
        ("await_producer", not scenario.shutdown.await_producer),
        ("constant_service", isinstance(work, ConstantService) and (service.calls > 1 or bounded)),
        ("uniform_service", isinstance(work, UniformService) and (service.calls > 1 or bounded)),
        ("lognormal_service", isinstance(work, LognormalService) and (service.calls > 1 or bounded)),
        ("empirical_service", isinstance(work, EmpiricalService) and (service.calls > 1 or bounded)),
        ("weibull_service", isinstance(work, WeibullService) and (service.calls > 1 or bounded)),
        ("pareto_service", isinstance(work, ParetoService) and (service.calls > 1 or bounded or work.shape <= 2)),
    ]
    return next((key for key, failed in checks if failed), None)


def _kendall(scenario: Scenario, service: _Service) -> str:
    kind = {ExponentialService: "M", ConstantService: "D", UniformService: "G", LognormalService: "G", EmpiricalService: "G", ParetoService: "G", WeibullService: "G"}
    model = f"M/{kind[type(scenario.workers.service)]}/{service.calls}"
    maxsize = scenario.queue.maxsize
    if maxsize > 0:
        model += f"/{maxsize + scenario.workers.count}"
    return model + " + USL" if service.contended else model


def _steady_state(scenario: Scenario, arrival_rate: float, service: _Service) -> SteadyState:
    work = scenario.workers.service
    workers = scenario.workers.count
    maxsize = scenario.queue.maxsize
    match work:
        case ExponentialService():
            # Items in the system: queued, then in workers' hands, of which `calls` are in service.
            capacity = maxsize + workers if maxsize > 0 else None
            return usl_chain(
                arrival_rate, service.rate, service.calls, service.contention, service.coherency,
                capacity, waiting_from=workers,
            )
        case ConstantService(mean=mean):
            return md1(arrival_rate, mean)
        case UniformService(low=low, high=high):
            return mg1(arrival_rate, work.mean, (high - low) ** 2 / 12)
        case LognormalService() | EmpiricalService() | ParetoService() | WeibullService():
            return mg1(arrival_rate, work.mean, work.variance)
    raise AssertionError(f"no formula for {work!r}")  # pragma: no cover - _not_modelled guards


def _shape(service: _Service) -> dict[str, Any]:
    """The service's side of a Theory: its limit of calls and, when contended, its knee."""
    return {
        "calls": service.calls,
        "knee": service.knee,
        "peak_throughput": service.peak_throughput if service.contended else None,
    }


def _closed_loop(scenario: Scenario, service: _Service) -> Theory:
    """rate = "unlimited": every item is due at once, so c calls are always in service."""
    reason = _not_modelled(scenario, service)
    if reason in ("constant_arrivals", "constant_service", "uniform_service", "block_bounded"):
        reason = None  # no arrival process; mu X(c) holds for any work; the producer may wait
    if reason is None and scenario.queue.maxsize > 0 and scenario.queue.policy is not Policy.BLOCK:
        reason = "unlimited"  # a drop policy turns most of the batch away: no loop
    if reason is not None:
        return Theory(model=None, applies=False, reason=reason, rho=None, **_shape(service))
    throughput = service.completion_rate(service.calls)
    return Theory(
        model=f"closed/{service.calls}" + (" + USL" if service.contended else ""),
        applies=True,
        reason=None,
        rho=None,
        throughput=throughput,
        mean_in_service=float(service.calls),
        note=("closed_loop",),
        **_shape(service),
    )


def _mean_rate(times: tuple[float, ...]) -> float | Literal["unlimited"]:
    """Arrivals per second over a file's times (all at 0: at once, "unlimited")."""
    return len(times) / times[-1] if times[-1] > 0 else "unlimited"


def theory_for(scenario: Scenario) -> Theory:
    """The textbook prediction for `scenario`, when one applies.

    It applies to Poisson arrivals at a steady rate, exponential service (or constant or uniform
    service with one server and an unbounded queue: M/D/1, M/G/1), no bursts, timeouts, max_age,
    errors, rate limit or outages. The servers are the calls in service at once,
    c = min(workers, semaphore, the service's capacity), each completing at mu X(n)/n with n in
    service (USL; X(n) = n without contention). The chain counts items queued, in workers' hands
    and in service: an unbounded queue is M/M/c under any policy (the queue is never full);
    drop-newest with a bounded queue loses arrivals at K = maxsize + workers; drop-oldest has the
    same number in system, so the same losses, L and Lq, but W and Wq are left out; block with a
    bounded queue does not apply. `rate = "unlimited"` is a closed loop: throughput mu X(c).
    """
    service = _service(scenario)
    from_file = scenario.producer.from_file
    rate = scenario.producer.rate if from_file is None else _mean_rate(from_file.times)
    if rate == "unlimited":
        return _closed_loop(scenario, service)
    arrival_rate = float(rate)
    rho = arrival_rate / service.completion_rate(service.calls)
    reason = _not_modelled(scenario, service)
    if reason is not None:
        return Theory(model=None, applies=False, reason=reason, rho=rho, **_shape(service))
    model = _kendall(scenario, service)
    bounded = scenario.queue.maxsize > 0
    if not bounded and rho >= 1:
        # With kappa > 0 and more calls allowed than the knee, fewer calls would have kept up.
        collapse = arrival_rate < service.peak_throughput
        return Theory(
            model=model, applies=False, reason="collapse" if collapse else "unstable", rho=rho,
            unstable=True, **_shape(service),
        )
    state = _steady_state(scenario, arrival_rate, service)
    notes = ["finite_run"]
    if not bounded and rho > 0.9:
        notes.append("near_saturation")
    if scenario.shutdown.at is not None:
        notes.append("deadline")
    if rho >= 1 and arrival_rate < service.peak_throughput:
        notes.append("metastable")
    evicting = bounded and scenario.queue.policy is Policy.DROP_OLDEST
    if evicting:
        notes.append("drop_oldest")
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
        note=tuple(notes),
        mean_in_service=state.mean_in_service,
        deadline=scenario.shutdown.at,
        **_shape(service),
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
