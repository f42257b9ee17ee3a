"""Replications: every variant on N seeds, each metric as a mean with a 95% confidence interval.

One seeded run says what happened to one sample of traffic; a second seed can say otherwise.
`--replications N` runs each variant on N seeds and reports, per metric, the mean and the
half-width h of its 95% confidence interval (Student t, as for any small sample of independent
runs): the true mean over seeds lies in mean ± h for 95% of such samples.

The seeds: replication 0 is the scenario's own seed (so it is the run `bpsim compare` makes
without replications), replication k >= 1 is `replication_seed(seed, k)`, a hash of the seed and
k. Variants with the same seed share replication k's seed, so common random numbers still pair
them: the difference against the first variant is taken replication by replication (a paired
interval), which is far narrower than the difference of two independent intervals.
"""

from __future__ import annotations

import functools
import hashlib
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bpsim.engine import RunResult
from bpsim.metrics import METRICS
from bpsim.variants import Variant

__all__ = [
    "CONFIDENCE",
    "MIN_REPLICATIONS",
    "Interval",
    "Replicated",
    "interval",
    "replicate",
    "replicated_json",
    "replication_seed",
    "replication_variants",
    "summarize",
    "t_quantile",
]

CONFIDENCE = 0.95
MIN_REPLICATIONS = 2
"""An interval needs a spread, and one run has none."""


def replication_seed(seed: int, index: int) -> int:
    """The seed of replication `index` of a scenario whose seed is `seed`.

    Replication 0 keeps `seed`. Replication k >= 1 takes the first 6 bytes of
    sha256("{seed}/replication/{k}"), read little-endian: below 2**48, so JSON readers that hold
    numbers as doubles read it exactly. Different k give unrelated streams (no replication of
    seed 7 is replication 0 of seed 8, as seed + k would make it).
    """
    if index == 0:
        return seed
    digest = hashlib.sha256(f"{seed}/replication/{index}".encode()).digest()
    return int.from_bytes(digest[:6], "little")


def _t_cdf_two_sided(t: float, df: int) -> float:
    """P(|T| < t) for Student's t with `df` degrees of freedom, exactly (Abramowitz & Stegun 26.7.3-4).

    With theta = atan(t / sqrt(df)), c = cos^2 theta: for odd df, (2/pi)(theta + sin theta cos
    theta (1 + 2/3 c + 2*4/(3*5) c^2 + ...)), df - 1 terms in all; for even df, sin theta (1 +
    1/2 c + 1*3/(2*4) c^2 + ...), df / 2 terms. A finite sum, so no special function is needed.
    """
    theta = math.atan(t / math.sqrt(df))
    c = math.cos(theta) ** 2
    if df % 2:
        total, term = 0.0, 1.0
        for k in range(1, (df - 1) // 2 + 1):
            total += term
            term *= c * (2 * k) / (2 * k + 1)
        return (2 / math.pi) * (theta + math.sin(theta) * math.cos(theta) * total) if df > 1 else 2 * theta / math.pi
    total, term = 0.0, 1.0
    for k in range(1, df // 2 + 1):
        total += term
        term *= c * (2 * k - 1) / (2 * k)
    return math.sin(theta) * total


@functools.lru_cache(maxsize=256)
def t_quantile(df: int, confidence: float = CONFIDENCE) -> float:
    """The t with P(|T| < t) = `confidence` for `df` degrees of freedom, by bisection on the exact CDF.

    Checked against the printed tables (two-sided 95%): df 1 -> 12.706, 2 -> 4.303, 4 -> 2.776,
    9 -> 2.262, 19 -> 2.093, 29 -> 2.045, 99 -> 1.984; it tends to the normal's 1.960.
    """
    if df < 1:
        raise ValueError(f"degrees of freedom must be 1 or more, not {df}")
    low, high = 0.0, 1.0
    while _t_cdf_two_sided(high, df) < confidence:
        high *= 2
    for _ in range(64):  # from [0, 16] (df >= 2), 64 halvings are below the float's resolution
        middle = (low + high) / 2
        if _t_cdf_two_sided(middle, df) < confidence:
            low = middle
        else:
            high = middle
    return high


@dataclass(frozen=True, slots=True)
class Interval:
    """A sample's mean and the half-width of its 95% confidence interval: mean ± half_width."""

    mean: float
    half_width: float

    @property
    def includes_zero(self) -> bool:
        """Whether 0 lies in the interval: a difference that is not shown at 95%."""
        return abs(self.mean) <= self.half_width

    def to_json(self) -> dict[str, float]:
        return {"mean": self.mean, "half_width": self.half_width}


def interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """The mean of `values` ± t(n - 1) s / sqrt(n), s the sample standard deviation. Needs n >= 2."""
    n = len(values)
    if n < MIN_REPLICATIONS:
        raise ValueError(f"a confidence interval needs {MIN_REPLICATIONS} or more values, not {n}")
    mean = statistics.fmean(values)
    spread = statistics.stdev(values, mean)
    return Interval(mean, t_quantile(n - 1, confidence) * spread / math.sqrt(n))


@dataclass(frozen=True, slots=True)
class Replicated:
    """One variant over its replications: the runs, and each metric as an interval."""

    variant: Variant
    seeds: list[int]
    results: list[RunResult]
    """One per seed; `results[0]` is the run with the scenario's own seed."""
    metrics: dict[str, Interval]
    """By metric name, for the metrics every replication has (no latency when nothing was handled)."""
    versus_first: dict[str, Interval] | None
    """This variant minus the first, replication by replication; None for the first (and in sweeps)."""

    def to_json(self) -> dict[str, object]:
        """The JSON's `replications` object."""
        data: dict[str, object] = {
            "n": len(self.results),
            "seeds": self.seeds,
            "metrics": {name: value.to_json() for name, value in self.metrics.items()},
        }
        if self.versus_first is not None:
            data["versus_first"] = {name: value.to_json() for name, value in self.versus_first.items()}
        return data


def replicated_json(summary: Replicated) -> dict[str, object]:
    """`bpsim compare --replications`' object for one variant: the `bpsim run --json` object of
    its first replication (the scenario's own seed, so the object without replications) plus
    `replications`."""
    return summary.results[0].to_dict() | {"replications": summary.to_json()}


def replication_variants(variants: Sequence[Variant], replications: int) -> list[Variant]:
    """Every variant on every replication's seed: variant by variant, replications in order."""
    return [
        Variant(
            variant.label,
            variant.scenario.model_copy(update={"seed": replication_seed(variant.scenario.seed, index)}),
            variant.settings,
            variant.put_timeout_removed,
        )
        for variant in variants
        for index in range(replications)
    ]


def summarize(
    variants: Sequence[Variant], replications: int, results: Sequence[RunResult], *, paired: bool
) -> list[Replicated]:
    """The intervals of every variant from the runs `replication_variants` made, in that order.

    `paired`: also each variant's difference against the first (compare; a sweep has no first).
    """
    groups = [list(results[i * replications : (i + 1) * replications]) for i in range(len(variants))]
    values = [_metric_values(group) for group in groups]
    summaries = []
    for index, (variant, group) in enumerate(zip(variants, groups)):
        versus_first = None
        if paired and index > 0:
            versus_first = {
                name: interval([mine - theirs for mine, theirs in zip(column, values[0][name])])
                for name, column in values[index].items()
                if name in values[0]
            }
        summaries.append(
            Replicated(
                variant,
                [result.scenario.seed for result in group],
                group,
                {name: interval(column) for name, column in values[index].items()},
                versus_first,
            )
        )
    return summaries


def _metric_values(group: Sequence[RunResult]) -> dict[str, list[float]]:
    """Each metric's value in every run of `group`, for the metrics that have one in every run."""
    columns: dict[str, list[float]] = {}
    for metric in METRICS:
        column = [metric.value(result) for result in group]
        if all(value is not None for value in column):
            columns[metric.name] = [float(value) for value in column if value is not None]
    return columns


def replicate(
    variants: Sequence[Variant],
    replications: int,
    *,
    paired: bool,
    jobs: int | None = None,
    on_done: Callable[[], None] | None = None,
    warmup: float | None = None,
) -> list[Replicated]:
    """Run every variant on `replications` seeds over `jobs` processes and summarize them.

    The runs are independent and deterministic, so the intervals are the same for any `jobs`.
    Raises SweepInterrupted (from `run_sweep`) on Ctrl-C.
    """
    from bpsim.errors import BpsimError
    from bpsim.i18n import t
    from bpsim.sweeps import MAX_RUNS, run_sweep

    if replications < MIN_REPLICATIONS:
        raise ValueError(f"a confidence interval needs {MIN_REPLICATIONS} or more replications, not {replications}")
    if len(variants) * replications > MAX_RUNS:  # refused before any is built, as a sweep's grid is
        raise BpsimError(
            t("errors.replications.too_many", variants=len(variants), n=replications, runs=len(variants) * replications, most=MAX_RUNS)
        )
    runs = replication_variants(variants, replications)
    return summarize(variants, replications, run_sweep(runs, jobs, on_done, warmup), paired=paired)
