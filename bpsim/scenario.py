"""The scenario model: what a TOML scenario file may say, with its defaults and ranges.

Every model is frozen and forbids unknown keys, so a typo is an error, never a silent default.
The key names are bpsim's public interface (docs/scenarios.md); `loader.py` turns a TOML
file into these models and maps validation errors back to file lines.
"""

from __future__ import annotations

import bisect
import difflib
import math
import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from bpsim.i18n import t
from bpsim.text import printable

__all__ = [
    "Policy",
    "parse_policy",
    "policy_suggestion",
    "Burst",
    "Producer",
    "CoDelSettings",
    "QueueSettings",
    "ConstantService",
    "ExponentialService",
    "UniformService",
    "LognormalService",
    "Service",
    "Workers",
    "RateLimit",
    "Outage",
    "AdaptiveConcurrency",
    "AIMDConcurrency",
    "GradientConcurrency",
    "Downstream",
    "Shutdown",
    "Failure",
    "BackoffSettings",
    "BudgetSettings",
    "Retry",
    "Breaker",
    "ThrottleSettings",
    "Moment",
    "Translation",
    "Scenario",
]


class Policy(StrEnum):
    """What the producer does when the queue is full."""

    BLOCK = "block"
    """The producer waits for room: `await queue.put(item)`."""
    DROP_NEWEST = "drop-newest"
    """The arriving item is discarded, queued items are kept: `put_nowait` raising `QueueFull`."""
    DROP_OLDEST = "drop-oldest"
    """The oldest queued item is evicted to admit the arriving one."""


# Names other ecosystems use for the same behaviour, as they spell them. Case and separators do
# not matter (`BLOCK`, `Drop_Head`, `dropOldest` are accepted) except where they carry meaning:
# see AMBIGUOUS_POLICY_NAMES.
POLICY_ALIASES: dict[str, Policy] = {
    # wait for room
    "backpressure": Policy.BLOCK,  # Akka
    "SUSPEND": Policy.BLOCK,  # Kotlin
    "Wait": Policy.BLOCK,  # .NET BoundedChannelFullMode
    # discard the arriving item
    "reject": Policy.DROP_NEWEST,
    "reject-publish": Policy.DROP_NEWEST,  # RabbitMQ
    "dropNew": Policy.DROP_NEWEST,  # Akka
    "drop-incoming": Policy.DROP_NEWEST,
    "drop_newest": Policy.DROP_NEWEST,  # Vector
    "DropWrite": Policy.DROP_NEWEST,  # .NET
    "onBackpressureDrop": Policy.DROP_NEWEST,  # RxJava / Reactor
    "dropping-buffer": Policy.DROP_NEWEST,  # Clojure core.async
    # evict the oldest queued item
    "dropHead": Policy.DROP_OLDEST,  # Akka, RabbitMQ (drop-head)
    "DROP_OLDEST": Policy.DROP_OLDEST,  # Kotlin, RxJava, Reactor, .NET (DropOldest), Vector
    "drop-old": Policy.DROP_OLDEST,
    "sliding": Policy.DROP_OLDEST,
    "sliding-buffer": Policy.DROP_OLDEST,  # Clojure core.async
}

# Names that mean opposite things in different libraries, however they are spelled: refuse them
# and say why (the why is in the errors catalogue, errors.policy.why.<key>). Only bpsim's own
# lowercase `drop-newest` and Vector's `drop_newest` pass, exactly as written: `DropNewest` is
# .NET's, and .NET's evicts the newest *queued* item.
AMBIGUOUS_POLICY_NAMES: dict[str, str] = {"droplatest": "drop_latest", "dropnewest": "dropnewest", "droptail": "droptail"}

# Words whose meaning a suggestion must keep: "drop-old" must never be answered with drop-newest.
# None: the word means different things in different libraries, so no suggestion is safe.
_MEANINGS: dict[str, Policy | None] = {
    "old": Policy.DROP_OLDEST,
    "head": Policy.DROP_OLDEST,
    "slid": Policy.DROP_OLDEST,
    "new": Policy.DROP_NEWEST,
    "incoming": Policy.DROP_NEWEST,
    "reject": Policy.DROP_NEWEST,
    "write": Policy.DROP_NEWEST,
    "newest": None,  # .NET's DropNewest evicts the newest queued item; bpsim's drop-newest, the arriving one
    "latest": None,
    "tail": None,
    "recent": None,
    "block": Policy.BLOCK,
    "wait": Policy.BLOCK,
    "suspend": Policy.BLOCK,
}


def _folded(name: str) -> str:
    """`name` without case or separators: "Drop_Head", "drop-head" and "dropHead" -> "drophead"."""
    return re.sub(r"[-_\s]", "", name).lower()


def _all_names() -> dict[str, Policy]:
    return {**{p.value: p for p in Policy}, **POLICY_ALIASES}


_FOLDED: dict[str, Policy] = {_folded(name): policy for name, policy in _all_names().items()}
"""Every name, folded, with its policy: what suggestions are chosen from."""
_SPELLING: dict[str, str] = {_folded(name): name for name in [*POLICY_ALIASES, *(p.value for p in Policy)]}
"""How to write each folded name in a suggestion: bpsim's own spelling where it has one."""
_ACCEPTED: dict[str, Policy] = {name: p for name, p in _FOLDED.items() if name not in AMBIGUOUS_POLICY_NAMES}
"""What a folded name may be: all but the ambiguous ones ("dropnewest" passes only as written)."""


def parse_policy(name: str) -> Policy:
    """Return the policy called `name` (a bpsim name or an unambiguous alias, in any case).

    Raises ValueError with a message a user can act on for an ambiguous or unknown name; its
    did-you-mean never names a policy that does something other than what `name` says.
    """
    exact = _all_names().get(name)
    if exact is not None:
        return exact
    folded = _folded(name)
    if folded in AMBIGUOUS_POLICY_NAMES:
        why = t(f"errors.policy.why.{AMBIGUOUS_POLICY_NAMES[folded]}")
        raise ValueError(t("errors.policy.ambiguous", name=name, why=why))
    if folded in _ACCEPTED:
        return _ACCEPTED[folded]
    close = policy_suggestion(name)
    hint = t("errors.did_you_mean", name=close) if close is not None else ""
    raise ValueError(t("errors.policy.unknown", name=name, hint=hint))


def policy_suggestion(name: str) -> str | None:
    """The name a misspelt `name` surely meant ("dropp-oldest" -> "drop-oldest"), or None when
    the close names disagree or `name` says something else ("drop-newst" is never drop-oldest)."""
    folded = _folded(name)
    meant = {policy for word, policy in _MEANINGS.items() if word in folded}
    if len(meant) > 1 or None in meant:
        return None  # "drop-old-or-new", "latest": no name is safe
    names = [n for n, policy in _FOLDED.items() if not meant or policy in meant]
    close = difflib.get_close_matches(folded, names, n=3, cutoff=0.7)
    if len({_FOLDED[c] for c in close}) != 1:
        return None
    return _SPELLING[close[0]]


def _error(kind: str, **context: object) -> PydanticCustomError:
    """A validation error of type `kind` whose message is errors.scenario.<kind> in the current
    language; pydantic fills the `context` values into it."""
    return PydanticCustomError(kind, t(f"errors.scenario.{kind}"), context)


class _Model(BaseModel):
    # strict: "5" is not a number and 5.0 is not a count. Floats still accept integers.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)



# The scale a scenario may have. Simulated seconds below the virtual clock's resolution (1 ns)
# cannot be told apart, and above about 31 years sums of them head for infinity (a service mean
# of 1e308 made the clock reach inf and spin); a rate's gaps are seconds too. With every time and
# rate inside these bounds every product the engine and the theory compute stays finite.
MIN_SECONDS, MAX_SECONDS = 1e-9, 1e9
MIN_RATE, MAX_RATE = 1e-9, 1e9  # a gap between arrivals is within the same range of seconds


def _seconds_in_range(seconds: float) -> float:
    if seconds != 0 and not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise _error("seconds_range", value=f"{seconds:g}", low=f"{MIN_SECONDS:g}", high=f"{MAX_SECONDS:g}")
    return seconds


def _rate_in_range(rate: float) -> float:
    if not MIN_RATE <= rate <= MAX_RATE:
        raise _error("rate_range", value=f"{rate:g}", low=f"{MIN_RATE:g}", high=f"{MAX_RATE:g}")
    return rate


UserText = Annotated[str, AfterValidator(printable)]
"""Words shown on the terminal (name, description, lesson): control characters become escapes."""

Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False), AfterValidator(_seconds_in_range)]
"""A time from 0 (the start), else between MIN_SECONDS and MAX_SECONDS."""
PositiveSeconds = Annotated[float, Field(gt=0, allow_inf_nan=False), AfterValidator(_seconds_in_range)]
Rate = Annotated[float, Field(gt=0, allow_inf_nan=False), AfterValidator(_rate_in_range)]
"""Items per second, between MIN_RATE and MAX_RATE."""


class Burst(_Model):
    """A time window in which the producer's rate changes."""

    at: Seconds = Field(description="start of the burst, seconds")
    duration: PositiveSeconds = Field(description="length of the burst, seconds")
    rate: Rate = Field(description="items per second during the burst")


class NumbersPath(str):
    """A data file's path (absolute, so a sweep's worker finds it from anywhere), with its numbers."""

    numbers: tuple[float, ...] = ()
    shown: str = ""
    """The path as the user's messages show it (relative to the working directory when inside it)."""
    lines: list[int] = []
    """The file line of each number, while the validator checks them."""


def _numbers_from(file: str, column: str | None, info: ValidationInfo) -> NumbersPath:
    """Read `file` (relative to the scenario file's folder, `context["base"]`) into a NumbersPath."""
    from bpsim.datafiles import DataFileError, read_numbers

    base = (info.context or {}).get("base")
    path = Path(file).expanduser()
    if not path.is_absolute():
        path = Path(base or ".") / path
    path = Path(os.path.abspath(path))
    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    try:
        numbers, lines = read_numbers(path, shown, column)
    except DataFileError as error:
        raise PydanticCustomError("data_file", "{problem}", {"problem": str(error)}) from None
    loaded = NumbersPath(path)
    loaded.numbers, loaded.shown, loaded.lines = tuple(numbers), shown, lines
    return loaded


def _data_error(where: str, message: str) -> PydanticCustomError:
    return PydanticCustomError("data_file", "{problem}", {"problem": f"{where}: {message}"})


class ArrivalsFile(_Model):
    """Arrivals from production: one arrival time, or one gap before each arrival, per line."""

    values: Literal["times", "gaps"] = Field(
        default="times", description="times: seconds since the start; gaps: the wait before each item"
    )
    column: str | None = Field(default=None, description="the CSV header's (or JSON object's) column to read")
    file: str = Field(description="a CSV (one number per line) or JSON lines file, relative to the scenario")

    @field_validator("file")
    @classmethod
    def _read(cls, file: str, info: ValidationInfo) -> str:
        loaded = _numbers_from(file, info.data.get("column"), info)
        numbers = loaded.numbers
        if info.data.get("values", "times") == "gaps":
            times, now = [], 0.0
            for gap in numbers:
                now += gap
                times.append(now)
            numbers = tuple(times)
        else:
            for index, (before, after) in enumerate(zip(numbers, numbers[1:]), start=1):
                if after < before:
                    where = f"{loaded.shown}:{loaded.lines[index]}"
                    raise _data_error(where, t("errors.data.unsorted", after=f"{after:g}", before=f"{before:g}"))
        if numbers[-1] > MAX_SECONDS:
            raise _data_error(
                loaded.shown, t("errors.data.epoch", last=f"{numbers[-1]:g}", limit=f"{MAX_SECONDS:g}")
            )
        loaded.numbers, loaded.lines = numbers, []
        return loaded

    @property
    def times(self) -> tuple[float, ...]:
        """The arrival times, in order, seconds from the start of the run."""
        return self.file.numbers if isinstance(self.file, NumbersPath) else ()


Arrivals = Annotated[
    Annotated[Literal["constant", "poisson", "after-put"], Tag("name")] | Annotated[ArrivalsFile, Tag("table")],
    Discriminator(lambda value: "table" if isinstance(value, dict | ArrivalsFile) else "name"),
]


class Producer(_Model):
    """How items arrive."""

    rate: float | Literal["unlimited"] = Field(
        default=10.0, description='items per second, or "unlimited" (put back-to-back)'
    )
    arrivals: Arrivals = "poisson"
    """"poisson"/"constant": due on the clock (open loop); "after-put": the producer sleeps a gap
    after each put returns (closed loop, the handbook's code), so a put that waits delays the rest."""
    gaps: Literal["exponential", "constant"] = Field(
        default="exponential", description='with arrivals = "after-put": the gaps\' distribution, mean 1/rate'
    )
    bursts: list[Burst] = []
    start: Seconds = Field(default=0.0, description="the first arrival's earliest time: nothing is due before it")

    @field_validator("rate")
    @classmethod
    def _positive_rate(cls, rate: float | str) -> float | str:
        if isinstance(rate, float | int) and not (rate > 0 and math.isfinite(rate)):
            raise _error("positive_rate", rate=rate)
        return _rate_in_range(rate) if isinstance(rate, float | int) else rate

    @model_validator(mode="after")
    def _bursts_do_not_overlap(self) -> Producer:
        ordered = sorted(self.bursts, key=lambda b: b.at)
        for before, after in zip(ordered, ordered[1:]):
            if after.at < before.at + before.duration:
                raise _error("overlapping_bursts", a=before.at, b=after.at)
        if self.rate == "unlimited" and self.bursts:
            raise _error("unlimited_with_bursts")
        # A rate other than the default is a mistake; the default comes back in a dump (sweeps).
        rate_given = self.rate != Producer.model_fields["rate"].default
        if isinstance(self.arrivals, ArrivalsFile) and (rate_given or self.bursts):
            raise _error("file_arrivals_alone")
        if self.arrivals == "after-put" and (self.rate == "unlimited" or self.bursts):
            raise _error("after_put_needs_rate")
        if self.gaps != "exponential" and self.arrivals != "after-put":
            raise _error("gaps_need_after_put")
        return self

    @property
    def after_put(self) -> bool:
        """The producer sleeps a gap after each put (closed loop) instead of keeping to a schedule."""
        return self.arrivals == "after-put"

    @property
    def from_file(self) -> ArrivalsFile | None:
        """The arrivals' file, when they come from one (`arrivals = { file = ... }`)."""
        return self.arrivals if isinstance(self.arrivals, ArrivalsFile) else None


class CoDelSettings(_Model):
    """CoDel's two numbers (RFC 8289): the wait it aims for, and how long a wait above it may last."""

    target: PositiveSeconds = Field(default=0.005, description="the queue wait CoDel aims for, seconds")
    interval: PositiveSeconds = Field(
        default=0.1, description="how long the wait may stay above target before CoDel drops, seconds"
    )


Discipline = Literal["fifo", "lifo", "codel", "adaptive-lifo"]


class QueueSettings(_Model):
    """The `asyncio.Queue` and what happens when it is full."""

    maxsize: int = Field(default=0, ge=0, description="0 = unbounded, exactly like asyncio.Queue")
    policy: Policy = Policy.BLOCK
    put_timeout: PositiveSeconds | None = None
    max_age: PositiveSeconds | None = None
    discipline: Discipline = Field(
        default="fifo", description="which item a worker gets: oldest, newest, CoDel's, adaptive LIFO's (disciplines.py)"
    )
    codel: CoDelSettings | None = Field(default=None, description="target and interval for codel and adaptive-lifo")

    @property
    def codel_settings(self) -> CoDelSettings:
        """`codel`, or RFC 8289's defaults (5 ms, 100 ms)."""
        return self.codel if self.codel is not None else CoDelSettings()

    @model_validator(mode="after")
    def _discipline_fits(self) -> QueueSettings:
        # A codel table with fifo or lifo is allowed (unused): `--vary queue.discipline=fifo,codel`.
        if self.policy is Policy.DROP_OLDEST and self.discipline in ("lifo", "adaptive-lifo"):
            raise _error("drop_oldest_lifo", discipline=self.discipline)
        return self

    @field_validator("policy", mode="before")
    @classmethod
    def _policy_by_any_name(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return parse_policy(value)
            except ValueError as error:
                raise PydanticCustomError("policy", str(error)) from None
        if not isinstance(value, Policy):  # `policy = 3`: pydantic would say "an instance of Policy"
            shown = ("true" if value else "false") if isinstance(value, bool) else repr(value)
            raise PydanticCustomError("policy", t("errors.policy.not_a_name", shown=shown))
        return value

    @model_validator(mode="after")
    def _put_timeout_needs_block(self) -> QueueSettings:
        if self.put_timeout is not None and self.policy is not Policy.BLOCK:
            raise _error("put_timeout_policy", policy=self.policy.value)
        return self


class ConstantService(_Model):
    distribution: Literal["constant"]
    mean: PositiveSeconds


class ExponentialService(_Model):
    distribution: Literal["exponential"]
    mean: PositiveSeconds


class UniformService(_Model):
    distribution: Literal["uniform"]
    low: Seconds
    high: PositiveSeconds

    @model_validator(mode="after")
    def _low_below_high(self) -> UniformService:
        if self.low >= self.high:
            raise _error("uniform_range", low=self.low, high=self.high)
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


Z_99 = 2.3263478740408408
"""The standard normal's 99th percentile, Phi^-1(0.99) (statistics.NormalDist().inv_cdf(0.99))."""


class LognormalService(_Model):
    """Latencies as engineers quote them: the median and the 99th percentile.

    ln(time) is normal with mu = ln(median) and sigma = ln(p99 / median) / Z_99, so that half the
    calls take less than `median` and 99% less than `p99`: a long right tail, as real calls have.
    """

    distribution: Literal["lognormal"]
    median: PositiveSeconds
    p99: PositiveSeconds

    @model_validator(mode="after")
    def _p99_above_median(self) -> LognormalService:
        if self.p99 <= self.median:
            raise _error("lognormal_range", median=self.median, p99=self.p99)
        return self

    @property
    def mu(self) -> float:
        return math.log(self.median)

    @property
    def sigma(self) -> float:
        return math.log(self.p99 / self.median) / Z_99

    @property
    def mean(self) -> float:
        """exp(mu + sigma^2 / 2): above the median, by the weight of the tail."""
        return math.exp(self.mu + self.sigma**2 / 2)

    @property
    def variance(self) -> float:
        """(exp(sigma^2) - 1) exp(2 mu + sigma^2)."""
        return math.expm1(self.sigma**2) * math.exp(2 * self.mu + self.sigma**2)


class ParetoService(_Model):
    """A heavy tail: P(time > x) = (scale / x)^shape for x >= scale.

    `scale` is the shortest call; the smaller `shape`, the heavier the tail. shape > 1 keeps the
    mean finite, scale * shape / (shape - 1); the variance is finite only for shape > 2.
    """

    distribution: Literal["pareto"]
    scale: PositiveSeconds = Field(description="the shortest call, seconds")
    shape: float = Field(gt=1, le=100, allow_inf_nan=False, description="the tail index alpha, > 1")

    @property
    def mean(self) -> float:
        return self.scale * self.shape / (self.shape - 1)

    @property
    def variance(self) -> float:
        """scale^2 shape / ((shape - 1)^2 (shape - 2)); infinite for shape <= 2."""
        if self.shape <= 2:
            return math.inf
        return self.scale**2 * self.shape / ((self.shape - 1) ** 2 * (self.shape - 2))

    def at(self, u: float) -> float:
        """The quantile: scale (1 - u)^(-1 / shape)."""
        return self.scale * (1.0 - u) ** (-1.0 / self.shape)


class WeibullService(_Model):
    """P(time > x) = exp(-(x / scale)^shape): shape < 1 a heavy tail, 1 exponential, > 1 a light one."""

    distribution: Literal["weibull"]
    scale: PositiveSeconds = Field(description="the 63rd percentile, seconds")
    shape: float = Field(ge=0.1, le=100, allow_inf_nan=False, description="k: below 1, a heavier tail")

    @property
    def mean(self) -> float:
        """scale Gamma(1 + 1/shape)."""
        return self.scale * math.gamma(1 + 1 / self.shape)

    @property
    def variance(self) -> float:
        """scale^2 (Gamma(1 + 2/shape) - Gamma(1 + 1/shape)^2)."""
        return self.scale**2 * (math.gamma(1 + 2 / self.shape) - math.gamma(1 + 1 / self.shape) ** 2)

    def at(self, u: float) -> float:
        """The quantile: scale (-ln(1 - u))^(1 / shape)."""
        return self.scale * (-math.log1p(-u)) ** (1.0 / self.shape)


class EmpiricalService(_Model):
    """Service times measured in production, one per line: item k's time is drawn from them.

    Sampled by item with the service stream, like every distribution: u in [0, 1) picks the
    sorted sample at index floor(u n), the empirical distribution's quantile at u.
    """

    distribution: Literal["empirical"]
    column: str | None = Field(default=None, description="the CSV header's (or JSON object's) column to read")
    file: str = Field(description="a CSV (one number per line) or JSON lines file, relative to the scenario")

    @field_validator("file")
    @classmethod
    def _read(cls, file: str, info: ValidationInfo) -> str:
        loaded = _numbers_from(file, info.data.get("column"), info)
        too_long = max(loaded.numbers)
        if too_long > MAX_SECONDS:
            raise _data_error(loaded.shown, f"a service time of {too_long:g} s is past {MAX_SECONDS:g}")
        if too_long == 0:
            raise _data_error(loaded.shown, "every service time is 0; give times in seconds")
        loaded.numbers, loaded.lines = tuple(sorted(loaded.numbers)), []
        return loaded

    @property
    def samples(self) -> tuple[float, ...]:
        """The service times, sorted."""
        return self.file.numbers if isinstance(self.file, NumbersPath) else ()

    @property
    def mean(self) -> float:
        return math.fsum(self.samples) / len(self.samples)

    @property
    def variance(self) -> float:
        mean = self.mean
        return math.fsum((x - mean) ** 2 for x in self.samples) / len(self.samples)

    def at(self, u: float) -> float:
        """The sample at cumulative probability `u` in [0, 1)."""
        samples = self.samples
        return samples[min(int(u * len(samples)), len(samples) - 1)]


Service = Annotated[
    ConstantService | ExponentialService | UniformService | LognormalService | ParetoService | WeibullService | EmpiricalService,
    Field(discriminator="distribution"),
]


class Workers(_Model):
    """The worker tasks and how long the downstream call takes for each item."""

    count: int = Field(default=1, ge=1, le=10_000)
    service: Service = ConstantService(distribution="constant", mean=0.1)

    @model_validator(mode="before")
    @classmethod
    def _file_is_empirical(cls, data: object) -> object:
        """`service = { file = "latencies.csv" }` says `distribution = "empirical"` without saying it."""
        if isinstance(data, dict) and isinstance(service := data.get("service"), dict):
            if "file" in service and "distribution" not in service:
                return {**data, "service": {"distribution": "empirical", **service}}
        return data


class RateLimit(_Model):
    """The service's token bucket: `rate` calls per second, `burst` at once; the rest get a 429."""

    rate: Rate = Field(description="tokens (calls) per second")
    burst: float | None = Field(
        default=None, ge=1, le=MAX_RATE, allow_inf_nan=False, description="the bucket's depth; default: one second's worth"
    )

    @property
    def depth(self) -> float:
        """The bucket's depth: `burst`, or one second's worth of tokens (at least one)."""
        return self.burst if self.burst is not None else max(1.0, self.rate)


class Outage(_Model):
    """A window in which the service is down."""

    at: Seconds = Field(description="start of the outage, seconds")
    duration: PositiveSeconds = Field(description="length of the outage, seconds")
    mode: Literal["fail", "hang"] = Field(
        default="fail", description='"fail": refused at once; "hang": no answer until the outage ends'
    )


class AdaptiveConcurrency(_Model):
    """A concurrency limit that adapts (bpsim/adaptive.py, docs/adaptive.md): what every algorithm
    has, a range `min`..`max` and a start, `initial`. The table's `adaptive` names the algorithm."""

    adaptive: str = Field(description='the algorithm: "aimd" or "gradient"')
    min: int = Field(default=1, ge=1, le=1_000_000, description="the limit never goes below this")
    max: int | None = Field(default=None, ge=1, le=1_000_000, description="the limit never goes above this; default: no cap")
    initial: int | None = Field(default=None, ge=1, le=1_000_000, description="the limit at the start; default: min")

    # Field validators, not a model validator: the error then names the key (min, max, initial).
    @field_validator("max")
    @classmethod
    def _max_not_below_min(cls, most: int | None, info: ValidationInfo) -> int | None:
        least = info.data.get("min")
        if most is not None and least is not None and least > most:
            raise _error("adaptive_min_max", min=least, max=most)
        return most

    @field_validator("initial")
    @classmethod
    def _initial_between_min_and_max(cls, initial: int | None, info: ValidationInfo) -> int | None:
        least, most = info.data.get("min"), info.data.get("max")
        if initial is not None and least is not None and not least <= initial <= (most or initial):
            raise _error("adaptive_initial", initial=initial, min=least, max=most or "-")
        return initial

    @property
    def start(self) -> int:
        """The limit at the start: `initial`, or `min` without one."""
        return self.initial if self.initial is not None else self.min


class AIMDConcurrency(AdaptiveConcurrency):
    """AIMD, as TCP and Netflix's concurrency-limits `AIMDLimit` do. It starts at `initial`, grows
    by `increase` after each window of successful calls that used the whole limit, and shrinks to
    ⌊limit × decrease⌋ on a timeout, a failure or a call slower than `latency_limit`."""

    adaptive: Literal["aimd"] = Field(description='the algorithm: "aimd"')
    increase: int = Field(default=1, ge=1, le=1_000_000, description="added after each full window of successes")
    decrease: float = Field(default=0.9, gt=0, lt=1, allow_inf_nan=False, description="the factor on a bad call")
    latency_limit: PositiveSeconds | None = Field(
        default=None, description="a successful call slower than this counts as a bad one"
    )


class GradientConcurrency(AdaptiveConcurrency):
    """Netflix concurrency-limits' `Gradient2Limit`: after each call, the limit moves toward
    limit × gradient + `queue_size`, where gradient = clamp(`tolerance` × long-term latency /
    this call's latency, 0.5, 1), by the share `smoothing` of the way."""

    adaptive: Literal["gradient"] = Field(description='the algorithm: "gradient"')
    smoothing: float = Field(default=0.2, gt=0, le=1, allow_inf_nan=False, description="how far the limit moves toward the new estimate")
    tolerance: float = Field(default=1.5, ge=1, le=1_000, allow_inf_nan=False, description="latency growth accepted before the limit shrinks")
    queue_size: float = Field(default=4.0, ge=0, le=1_000_000, allow_inf_nan=False, description="the allowance added to the estimate")
    long_window: int = Field(default=600, ge=1, le=1_000_000, description="calls the long-term latency average spans")


Concurrency = Annotated[
    Annotated[int, Field(ge=1), Tag("count")]
    | Annotated[AIMDConcurrency | GradientConcurrency, Field(discriminator="adaptive"), Tag("table")],
    Discriminator(lambda value: "table" if isinstance(value, dict | AdaptiveConcurrency) else "count"),
]
"""`downstream.concurrency`: a fixed Semaphore's size, or a table for an adaptive limit. (Told apart
by their shape, so an error speaks of the one the user wrote.)"""


class Downstream(_Model):
    """The downstream call (`async with limiter:` and `asyncio.timeout` around it) and the service
    behind it (bpsim/service.py, docs/downstream.md). Without the service keys the call simply
    takes the item's service time, as an ideal server would."""

    concurrency: Concurrency | None = Field(
        default=None, description="asyncio.Semaphore size, or an adaptive limit (a table); none = no limit"
    )
    timeout: PositiveSeconds | None = None
    capacity: int | None = Field(
        default=None, le=1_000_000, description="calls the service works on at once; none = no limit"
    )
    # σ is a share, 0 to 1. κ = 1 already has two calls together do less than one alone
    # (X(2) = 2/3), so 1 bounds it too, which keeps 1 + σ(n−1) + κ·n(n−1) far from overflowing.
    contention: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False, description="USL σ: the serialised share")
    coherency: float = Field(
        default=0.0, ge=0, le=1, allow_inf_nan=False, description="USL κ: the cost of keeping calls consistent"
    )
    cancel_abandoned: bool = Field(default=False, description="the service drops a call once its client has left")
    errors: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False, description="share of calls that fail (500)")
    rate_limit: RateLimit | None = None
    outages: list[Outage] = []

    @property
    def most_in_flight(self) -> int | None:
        """The most calls the client lets run at once: the semaphore's size, an adaptive limit's
        `max`, or None for no limit."""
        concurrency = self.concurrency
        return concurrency.max if isinstance(concurrency, AdaptiveConcurrency) else concurrency

    @field_validator("capacity")
    @classmethod
    def _capacity_at_least_one(cls, capacity: int | None) -> int | None:
        if capacity is not None and capacity < 1:
            raise _error("capacity", capacity=capacity)
        return capacity

    @field_validator("outages")
    @classmethod
    def _outages_do_not_overlap(cls, outages: list[Outage]) -> list[Outage]:
        ordered = sorted(outages, key=lambda o: o.at)
        for before, after in zip(ordered, ordered[1:]):
            if after.at < before.at + before.duration:
                raise _error("overlapping_outages", a=before.at, b=after.at)
        return outages


class Shutdown(_Model):
    """How the run ends."""

    mode: Literal["graceful", "immediate"] = "graceful"
    at: PositiveSeconds | None = None
    await_producer: bool = Field(
        default=True,
        description="await the producer before queue.join(); false reproduces the handbook's race",
    )

    @model_validator(mode="after")
    def _immediate_needs_at(self) -> Shutdown:
        if self.mode == "immediate" and self.at is None:
            raise _error("immediate_needs_at")
        return self


# The failures a client may retry (`retry.on`): the reasons an attempt can fail, as the JSON spells them.
Failure = Literal["timeout", "error", "rate-limited", "outage"]
FAILURES: tuple[Failure, ...] = ("timeout", "error", "rate-limited", "outage")


class BackoffSettings(_Model):
    """The sleep before each retry (bpsim/resilience.py, `Backoff`, has the formulas)."""

    initial: PositiveSeconds = Field(default=0.1, description="the first retry's sleep before jitter")
    multiplier: float = Field(default=2.0, ge=1, le=10, allow_inf_nan=False)
    max: PositiveSeconds = Field(default=10.0, description="no sleep is longer")
    jitter: Literal["none", "full", "equal", "decorrelated"] = "full"

    @model_validator(mode="after")
    def _max_not_below_initial(self) -> BackoffSettings:
        if self.max < self.initial:
            raise _error("backoff_max", max=self.max, initial=self.initial)
        return self


class BudgetSettings(_Model):
    """Retries at most `ratio` of the first attempts of the last `window` seconds, plus
    `min_per_second` per second (Finagle's defaults: 20% and 10 per second over 10 s)."""

    ratio: float = Field(default=0.2, ge=0, le=100, allow_inf_nan=False)
    min_per_second: float = Field(default=10.0, ge=0, le=MAX_RATE, allow_inf_nan=False)
    window: PositiveSeconds = 10.0


class Retry(_Model):
    """The worker tries an item's call again after a failure, as client code does."""

    attempts: int = Field(default=3, ge=1, le=100, description="calls per item in all, the first included")
    backoff: BackoffSettings = BackoffSettings()
    budget: BudgetSettings | None = None
    on: list[Failure] = Field(default=list(FAILURES), description="the failures that are retried")

    @field_validator("on")
    @classmethod
    def _retries_something(cls, on: list[Failure]) -> list[Failure]:
        if not on:
            raise _error("retry_on_empty")
        return on


class Breaker(_Model):
    """A circuit breaker in front of the call: closed, open (fail at once), half-open (probes)."""

    failures: int = Field(default=5, ge=1, le=1_000_000, description="failures within `window` that open it")
    window: PositiveSeconds = 10.0
    cooldown: PositiveSeconds = Field(default=5.0, description="open this long, then half-open")
    probes: int = Field(default=1, ge=1, le=1_000_000, description="trial calls let through half-open")


class ThrottleSettings(_Model):
    """A token bucket the client waits on before each call (aiolimiter's `AsyncLimiter`)."""

    rate: Rate = Field(description="calls per second, sustained")
    burst: int = Field(default=1, ge=1, le=1_000_000, description="calls that may go at once after a pause")


class Moment(_Model):
    """A moment a lesson names (`[[moments]]`): the live dashboard shows `say` when the clock
    reaches `at`, and pauses there under `--stops`."""

    at: Seconds = Field(description="the simulated second the moment comes at")
    say: UserText = Field(min_length=1, description="one line: what to look at now")


class Translation(_Model):
    """A scenario's words in another language (the `[ko]` table); what is missing stays English."""

    name: UserText | None = None
    description: UserText | None = None
    lesson: UserText | None = None
    moments: list[UserText] | None = Field(
        default=None, description="each moment's `say`, in the order of `[[moments]]`"
    )


class Scenario(_Model):
    """A whole scenario file."""

    name: UserText = "Untitled scenario"
    description: UserText = ""
    lesson: UserText = ""
    moments: list[Moment] = []
    ko: Translation = Translation()
    seed: int = 0
    duration: PositiveSeconds | None = None
    items: int | None = Field(default=None, ge=1)
    speed: PositiveSeconds | None = Field(
        default=None, description="the live dashboard's default speed (simulated seconds per wall second)"
    )
    slo: PositiveSeconds | None = Field(
        default=None, description="a latency objective: a handled item whose latency exceeds it is late"
    )
    producer: Producer = Producer()
    queue: QueueSettings = QueueSettings()
    workers: Workers = Workers()
    downstream: Downstream = Downstream()
    shutdown: Shutdown = Shutdown()
    retry: Retry | None = None
    breaker: Breaker | None = None
    throttle: ThrottleSettings | None = None

    @model_validator(mode="after")
    def _one_way_to_stop_producing(self) -> Scenario:
        # Arrivals from a file end with the file: `duration` or `items` may stop them sooner.
        if self.duration is not None and self.items is not None:
            raise _error("duration_or_items")
        if self.duration is None and self.items is None and self.producer.from_file is None:
            raise _error("duration_or_items")
        if self.duration is not None and self.producer.start >= self.duration:
            raise _error("start_after_duration", start=self.producer.start, duration=self.duration)
        if self.producer.rate == "unlimited" and self.items is None:
            raise _error("unlimited_needs_items")
        if self.ko.moments is not None and len(self.ko.moments) != len(self.moments):
            raise _error("moments_translated", moments=len(self.moments), translated=len(self.ko.moments))
        return self

    @property
    def policy(self) -> Policy:
        return self.queue.policy

    @property
    def puts_delay_arrivals(self) -> bool:
        """Whether a put that waits delays every later arrival: `arrivals = "after-put"` (a closed
        loop) with block on a bounded queue. Other puts never wait, so after-put keeps its draws' times."""
        return self.producer.after_put and self.queue.maxsize > 0 and self.queue.policy is Policy.BLOCK

    @property
    def expected_items(self) -> float:
        """How many items the producer means to produce: `items`, or rate x duration plus the
        bursts' extra, up to a `shutdown.at` that comes first (an average, for Poisson arrivals).

        With `puts_delay_arrivals` that is the open-loop count, and only an upper bound: each
        wait in put pushes every later arrival back, so the closed loop produces fewer, as many
        fewer as the workers hold it back (how many is what the run finds out)."""
        from_file, start = self.producer.from_file, self.producer.start
        if from_file is not None:  # the file's arrivals before the end, at most `items` of them
            end = min(self.duration or math.inf, self.shutdown.at or math.inf)
            due = bisect.bisect_left(from_file.times, end - start)
            return float(min(due, self.items) if self.items is not None else due)
        if self.items is not None:
            return float(self.items)
        assert self.duration is not None and self.producer.rate != "unlimited"  # the validator's rule
        end = min(self.duration, self.shutdown.at) if self.shutdown.at is not None else self.duration
        return self._work_until(end) - self._work_until(min(start, end)) if start else self._work_until(end)

    def _work_until(self, end: float) -> float:
        """Arrivals expected from 0 to `end`: rate x end plus the bursts' extra."""
        assert self.producer.rate != "unlimited"
        expected = self.producer.rate * end
        for burst in self.producer.bursts:
            overlap = min(burst.at + burst.duration, end) - burst.at
            expected += max(overlap, 0.0) * (burst.rate - self.producer.rate)
        return expected

    def words(self, lang: str) -> Translation:
        """The name, description, lesson and moments to show in `lang` ("en" or "ko"), each one
        falling back to the English text when the scenario has no translation of it."""
        own = self.ko if lang == "ko" else Translation()
        return Translation(
            name=own.name or self.name,
            description=own.description or self.description,
            lesson=own.lesson or self.lesson,
            moments=own.moments or [moment.say for moment in self.moments],
        )
