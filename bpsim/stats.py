"""Latency statistics with bounded memory: exact for ordinary runs, within 1% for huge ones.

The first `EXACT_LIMIT` values are kept, so percentiles of a classroom run are values that really
occurred. Past the limit a histogram of log-spaced buckets (each 2% wide) takes over, filled from
the kept values once and then value by value: memory stays bounded whatever the number of items,
and a percentile is then off by at most 1%.
"""

from __future__ import annotations

import bisect
import math
from array import array

__all__ = ["LatencyStats", "EXACT_LIMIT", "CDF_POINTS"]

EXACT_LIMIT = 200_000
CDF_POINTS = 20  # the latency CDF's limits: max/20, 2·max/20 ... max
_GROWTH = 1.02
_LOG_GROWTH = math.log(_GROWTH)
_SMALLEST = 1e-6  # seconds; anything shorter shares bucket 0


class LatencyStats:
    """Count, mean, min, max and nearest-rank percentiles of non-negative durations (seconds)."""

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.min = math.inf
        self.max = 0.0
        self._exact = array("d")
        self._sorted: list[float] = []
        self._buckets: dict[int, int] = {}

    def record(self, value: float) -> None:
        self.count += 1
        self.total += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        if self.count <= EXACT_LIMIT:
            self._exact.append(value)  # the histogram is not needed yet: recording stays cheap
            return
        if self.count == EXACT_LIMIT + 1:
            for kept in self._exact:
                self._count_in_bucket(kept)
            self._exact, self._sorted = array("d"), []  # no longer used: give the memory back
        self._count_in_bucket(value)

    def _count_in_bucket(self, value: float) -> None:
        bucket = 0 if value <= _SMALLEST else 1 + int(math.log(value / _SMALLEST) / _LOG_GROWTH)
        self._buckets[bucket] = self._buckets.get(bucket, 0) + 1

    @property
    def exact(self) -> bool:
        """True while percentiles are exact (at most EXACT_LIMIT values recorded)."""
        return self.count <= EXACT_LIMIT

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def percentile(self, p: float) -> float:
        """The nearest-rank p-th percentile (0 < p <= 100); 0.0 when nothing was recorded."""
        if not self.count:
            return 0.0
        rank = max(1, math.ceil(p / 100 * self.count))
        if self.exact:
            if len(self._sorted) != self.count:
                # Only the values recorded since the last call are new: sort them and merge them
                # in (sorting two sorted runs is a linear merge). A dashboard asks on every frame.
                self._sorted += sorted(self._exact[len(self._sorted) :])
                self._sorted.sort()
            return self._sorted[rank - 1]
        seen = 0
        for bucket in sorted(self._buckets):
            seen += self._buckets[bucket]
            if seen >= rank:
                if bucket == 0:
                    return self.min
                middle = _SMALLEST * _GROWTH ** (bucket - 0.5)
                return min(max(middle, self.min), self.max)
        return self.max  # pragma: no cover - the loop always reaches rank

    def at_or_under(self, limit: float) -> int:
        """How many recorded values are <= `limit`: exact while `exact`, else counted by bucket
        (a bucket counts when its upper edge is <= limit; the last one, holding max, at max)."""
        if not self.count:
            return 0
        if limit >= self.max:
            return self.count
        if self.exact:
            self.percentile(100)  # brings the sorted copy up to date
            return bisect.bisect_right(self._sorted, limit)
        under = 0
        for bucket in sorted(self._buckets):
            upper = _SMALLEST if bucket == 0 else _SMALLEST * _GROWTH**bucket
            if upper > limit:
                break
            under += self._buckets[bucket]
        return under

    def cdf(self, points: int = CDF_POINTS) -> list[tuple[float, int]]:
        """(limit, values <= limit) at `points` evenly spaced limits, max/points ... max (the last
        is max itself, so it counts every value); empty when nothing was recorded."""
        if not self.count:
            return []
        top = max(0.0, self.max)
        limits = [top * k / points for k in range(1, points)] + [top]
        return [(limit, self.at_or_under(limit)) for limit in limits]
