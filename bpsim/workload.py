"""The traffic: item k's scheduled arrival time, its service time and its luck, from the seed alone.

Each purpose has its own random stream (`"{seed}/arrivals"`, `"{seed}/service"`, and with
`downstream.errors` set `"{seed}/errors"`), each drawn in item order, so item k gets the same
arrival, the same service time and the same luck under every policy, queue size or worker count:
comparisons differ only by what was varied (common random numbers). A retry's draws (its jitter,
work and luck) cannot come from streams drawn in order; `Draws` addresses them by item and attempt.
"""

from __future__ import annotations

import hashlib
import math
import random
from statistics import NormalDist
from collections.abc import Iterator
from dataclasses import dataclass

from bpsim.scenario import (
    ConstantService,
    EmpiricalService,
    ExponentialService,
    LognormalService,
    ParetoService,
    Producer,
    Scenario,
    Service,
    UniformService,
    WeibullService,
)

_NORMAL = NormalDist()

__all__ = ["Item", "items", "arrival_times", "service_times", "service_time_at", "Draws"]


class Item:
    """One piece of work: its number, when it was due to arrive, how long its call takes (its
    work, when the service is alone with it) and its luck (its first call fails if luck < errors)."""

    __slots__ = ("number", "arrival", "service", "luck")

    def __init__(self, number: int, arrival: float, service: float, luck: float = 1.0) -> None:
        self.number = number
        self.arrival = arrival
        self.service = service
        self.luck = luck

    def __repr__(self) -> str:
        return f"Item({self.number}, arrival={self.arrival:.6f}, service={self.service:.6f})"


@dataclass(frozen=True, slots=True)
class _Segment:
    start: float  # virtual seconds
    rate: float  # items per second from `start` on
    work: float  # cumulative expected arrivals at `start` (the integral of the rate)


def _segments(producer: Producer) -> list[_Segment]:
    """The producer's rate as a piecewise-constant function of time, with its running integral."""
    base = float(producer.rate)  # "unlimited" is handled before we get here
    changes: list[tuple[float, float]] = [(0.0, base)]
    for burst in sorted(producer.bursts, key=lambda b: b.at):
        if burst.at == changes[-1][0]:
            changes[-1] = (burst.at, burst.rate)
        else:
            changes.append((burst.at, burst.rate))
        changes.append((burst.at + burst.duration, base))
    segments = [_Segment(0.0, changes[0][1], 0.0)]
    for start, rate in changes[1:]:
        previous = segments[-1]
        segments.append(_Segment(start, rate, previous.work + (start - previous.start) * previous.rate))
    return segments


def _work_at(segments: list[_Segment], time: float) -> float:
    """The integral of the rate from 0 to `time`."""
    segment = next(s for s in reversed(segments) if s.start <= time)
    return segment.work + (time - segment.start) * segment.rate


def arrival_times(producer: Producer, seed: int) -> Iterator[float]:
    """Scheduled arrival times in order, forever (or, from a file, until its last line).

    Arrivals are points of unit spacing ("constant", starting at 0) or of a unit-rate Poisson
    process ("poisson") mapped through the inverse of the cumulative rate, so a burst packs them
    closer together without changing the random draws. With `producer.start` the process begins
    there: the first constant arrival is at `start`, bursts keep their times. With
    `arrivals = "after-put"` these are the times the producer would keep if no put waited: the
    pipeline takes the gaps between them (exponential or constant, as `producer.gaps` says).
    """
    start = producer.start
    if producer.from_file is not None:  # the file's times, then no more: production ends with the file
        yield from (time + start for time in producer.from_file.times) if start else producer.from_file.times
        return
    if producer.rate == "unlimited":
        while True:
            yield start
    segments = _segments(producer)
    stream = random.Random(f"{seed}/arrivals")
    poisson = producer.arrivals == "poisson" or (producer.after_put and producer.gaps == "exponential")
    index = 0
    # Nothing arrives before `start`: the unit process begins at the work the rate has done by then.
    origin = _work_at(segments, start) if start else 0.0
    work = origin
    count = 0
    while True:
        if poisson:
            work += stream.expovariate(1.0)
        else:
            work = origin + count
            count += 1
        while index + 1 < len(segments) and work >= segments[index + 1].work:
            index += 1
        segment = segments[index]
        yield segment.start + (work - segment.work) / segment.rate


def service_times(scenario: Scenario) -> Iterator[float]:
    """Service times of items 0, 1, 2, ... in order, forever."""
    service = scenario.workers.service
    stream = random.Random(f"{scenario.seed}/service")
    match service:
        case ConstantService(mean=mean):
            while True:
                yield mean
        case ExponentialService(mean=mean):
            rate = 1.0 / mean
            while True:
                yield stream.expovariate(rate)
        case UniformService(low=low, high=high):
            while True:
                yield stream.uniform(low, high)
        case LognormalService():
            while True:  # one uniform per item, as the others draw: item k's time is the same everywhere
                yield _lognormal_at(service, stream.random())
        case EmpiricalService() | ParetoService() | WeibullService():
            while True:  # a uniform per item too, mapped through the quantile
                yield service.at(stream.random())


_MASK = (1 << 64) - 1


class Draws:
    """Uniform numbers in [0, 1) addressed by (item, attempt), one independent family per purpose.

    A stream drawn in order (`random.Random`) cannot serve retries: how many draws item 7's
    retries get depends on what happened before them. Here the number is a hash of its address
    (SplitMix64, the generator Java's `SplittableRandom` uses), so it is the same in every run:
    a retry's jitter (`"jitter"`), work (`"retry-service"`) and luck (`"errors"`, attempt ≥ 1).
    """

    def __init__(self, seed: int, purpose: str) -> None:
        digest = hashlib.sha256(f"{seed}/{purpose}".encode()).digest()
        self._key = int.from_bytes(digest[:8], "little")

    def uniform(self, item: int, attempt: int) -> float:
        index = (item << 20) | attempt  # attempts are capped far below 2**20 (scenario.Retry)
        z = (self._key + (index + 1) * 0x9E3779B97F4A7C15) & _MASK
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB & _MASK
        return ((z ^ (z >> 31)) >> 11) / (1 << 53)


def service_time_at(service: Service, u: float) -> float:
    """The service time with cumulative probability `u` in [0, 1): a retry's call draws its own
    (`resilience.Draws`), so a retry is not bound to repeat the first attempt's luck."""
    match service:
        case ConstantService(mean=mean):
            return mean
        case ExponentialService(mean=mean):
            return -mean * math.log1p(-u)
        case UniformService(low=low, high=high):
            return low + u * (high - low)
        case LognormalService():
            return _lognormal_at(service, u)
        case EmpiricalService() | ParetoService() | WeibullService():
            return service.at(u)
    raise AssertionError(service)


def _lognormal_at(service: LognormalService, u: float) -> float:
    """exp(mu + sigma z), z the standard normal's quantile at `u` (u = 0, once in 2^53, is nudged
    to the smallest float above it: the normal's quantile needs 0 < u < 1)."""
    return math.exp(service.mu + service.sigma * _NORMAL.inv_cdf(u or 5e-324))


def items(scenario: Scenario) -> Iterator[Item]:
    """The items the producer will produce, in order: `items` of them, or all due before `duration`."""
    arrivals = arrival_times(scenario.producer, scenario.seed)
    services = service_times(scenario)
    limit = scenario.items
    end = scenario.duration
    # With no errors nothing is drawn: every item's luck is 1.0, which never fails.
    draw_luck = random.Random(f"{scenario.seed}/errors").random if scenario.downstream.errors > 0 else None
    number = 0
    for arrival, service in zip(arrivals, services):
        if (limit is not None and number >= limit) or (end is not None and arrival >= end):
            return
        if draw_luck is None:
            yield Item(number, arrival, service)
        else:
            yield Item(number, arrival, service, draw_luck())
        number += 1
