"""The traffic: item k's scheduled arrival time, its service time and its luck, from the seed alone.

Each purpose has its own random stream (`"{seed}/arrivals"`, `"{seed}/service"`, and with
`downstream.errors` set `"{seed}/errors"`), each drawn in item order, so item k gets the same
arrival, the same service time and the same luck under every policy, queue size or worker count:
comparisons differ only by what was varied (common random numbers).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from bpsim.scenario import ConstantService, ExponentialService, Producer, Scenario, UniformService

__all__ = ["Item", "items", "arrival_times", "service_times", "luck"]


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


def arrival_times(producer: Producer, seed: int) -> Iterator[float]:
    """Scheduled arrival times in order, forever.

    Arrivals are points of unit spacing ("constant", starting at 0) or of a unit-rate Poisson
    process ("poisson") mapped through the inverse of the cumulative rate, so a burst packs them
    closer together without changing the random draws.
    """
    if producer.rate == "unlimited":
        while True:
            yield 0.0
    segments = _segments(producer)
    stream = random.Random(f"{seed}/arrivals")
    poisson = producer.arrivals == "poisson"
    index = 0
    work = 0.0
    count = 0
    while True:
        if poisson:
            work += stream.expovariate(1.0)
        else:
            work = float(count)
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


def luck(seed: int, item: int, attempt: int) -> float:
    """Item `item`'s luck on a later `attempt` (1, 2, ...): a uniform in [0, 1) of its own.

    The first attempt's luck is drawn with the item (`Item.luck`). A retry's comes from a stream
    of its own, `"{seed}/errors/{item}/{attempt}"`, made only when it is needed: an item meets the
    same luck on its k-th attempt however many attempts other items made.
    """
    return random.Random(f"{seed}/errors/{item}/{attempt}").random()


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
