"""Variants of a scenario, for `bpsim compare` and `bpsim sweep`: what changes, and nothing else.

An `Axis` is one thing varied: a scenario key and the values it takes (`--policy block
--policy drop-oldest` is the axis `queue.policy`; `--vary queue.maxsize=2,10,0` another). Every
combination of the axes' values, for every scenario file given, is one `Variant` with a short
label (`block`, `maxsize=10`, `burst`). Values are written and parsed exactly like `--set`, and
every variant goes through the loader, so a bad value is reported like a bad `--set`.

Variants keep the base scenario's seed, so item k arrives at the same time and needs the same
service time in each (common random numbers) unless the traffic itself is what was varied;
`traffic_differences` says which keys, and `arrivals_follow_puts` when the arrivals wait for the
producer's puts (then a variant whose put waits sends every later item later).
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bpsim.errors import BpsimError, Problem, ScenarioError
from bpsim.i18n import t
from bpsim.loader import load_scenario
from bpsim.scenario import Policy, Producer, Scenario, parse_policy
from bpsim.text import printable

__all__ = [
    "Axis",
    "Variant",
    "MAX_COMPARED",
    "compare_variants", "policy_axis", "parse_vary", "split_assignment", "split_values", "build_variants", "shares_traffic",
    "traffic_differences", "arrivals_follow_puts", "open_or_after_put_alone"]

POLICY_KEY = "queue.policy"

MAX_COMPARED = 16
"""The most variants `bpsim compare` runs side by side: more columns than fit a screen are unreadable."""


@dataclass(frozen=True, slots=True)
class Axis:
    """One thing varied: a dotted scenario key and the values it takes, as `--set` would write them."""

    key: str
    values: tuple[str, ...]
    option: str
    """How the user asked for it ("--vary queue.maxsize=2,10,0"): where its problems are reported."""

    @property
    def name(self) -> str:
        """The key's last part, used in labels and column headings: "maxsize"."""
        return "policy" if self.key == POLICY_KEY else self.key.rsplit(".", 1)[-1]

    def label(self, value: str) -> str:
        """A value's part of a variant label: the policy name itself, else "maxsize=10"."""
        return printable(value if self.key == POLICY_KEY else f"{self.name}={value}")


@dataclass(frozen=True, slots=True)
class Variant:
    """One scenario to run, the label it is shown under and the axis values that made it."""

    label: str
    scenario: Scenario
    settings: tuple[tuple[str, str], ...] = ()
    """(axis key, value) pairs, one per axis, in the axes' order."""
    put_timeout_removed: float | None = None
    """The base scenario's put_timeout, when this variant's policy never waits in put."""


def policy_axis(names: Sequence[str], option: str = "--policy") -> Axis:
    """The axis `queue.policy` over `names` (bpsim names or aliases), each spelled as bpsim spells it.

    Raises ScenarioError with one problem per name that is not a policy.
    """
    values: list[str] = []
    problems: list[Problem] = []
    for name in names:
        try:
            values.append(parse_policy(name).value)
        except ValueError as error:
            problems.append(Problem(f"{option} {name}", str(error)))
    if problems:
        raise ScenarioError(problems)
    return Axis(POLICY_KEY, tuple(dict.fromkeys(values)), f"{option} {','.join(names)}")


def parse_vary(text: str, option: str = "--vary") -> Axis:
    """The axis written `KEY=V1,V2,...` (`queue.policy=...` is the policy axis).

    Raises ScenarioError with one problem when the syntax is wrong or fewer than two values are given.
    """
    where = f"{option} {text}"
    key, values = split_assignment(text, option, t("errors.vary.usage", option=option))
    items = split_values(values)
    if len(items) < 2 or not all(items):
        raise ScenarioError([Problem(where, t("errors.vary.two_values", option=option, key=key))])
    if key == POLICY_KEY:
        return policy_axis(items, option)
    return Axis(key, tuple(items), where)


def split_assignment(text: str, option: str, usage: str) -> tuple[str, str]:
    """`KEY=VALUES` split into the dotted key and the text of its values.

    Raises ScenarioError with one problem, `usage`, when there is no `=` or a part of the key is empty.
    """
    key, equals, values = text.partition("=")
    if not equals or not all(part.strip() for part in key.split(".")):
        raise ScenarioError([Problem(f"{option} {text}", usage)])
    return key.strip(), values


def split_values(text: str) -> list[str]:
    """`text` split at commas outside quotes, [lists] and {tables}: "1,[2,3],'a,b'" -> 3 values."""
    values: list[str] = []
    depth = 0
    quote: str | None = None
    current = ""
    for char in text:
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            values.append(current.strip())
            current = ""
            continue
        current += char
    values.append(current.strip())
    return values


def compare_variants(
    sources: Sequence[str],
    policies: Sequence[str] = (),
    vary: Sequence[str] = (),
    overrides: Sequence[str] = (),
    seed: int | None = None,
) -> list[Variant]:
    """The variants `bpsim compare` runs: every file, times every `--policy`, times each `--vary`.

    Raises BpsimError when that makes fewer than two variants, ScenarioError for bad options or values.
    """
    axes = ([policy_axis(policies)] if policies else []) + [parse_vary(text) for text in vary]
    variants = build_variants(sources, axes, overrides, seed, most=MAX_COMPARED)
    if len(variants) < 2:
        raise BpsimError(t("errors.compare.nothing"))
    return variants


def build_variants(
    sources: Sequence[str],
    axes: Sequence[Axis] = (),
    overrides: Sequence[str] = (),
    seed: int | None = None,
    most: int | None = None,
) -> list[Variant]:
    """Every combination of the axes' values for every scenario in `sources`, in a fixed order.

    The order is source first, then the axes as given, the last one changing fastest. A policy
    other than block drops the scenario's put_timeout (it only applies to block), and the variant
    says so. Raises ScenarioError with every problem in every variant at once, or, before loading
    any, with one problem naming the options when they make more than `most` variants.
    """
    count = len(sources) * math.prod(len(axis.values) for axis in axes)
    if most is not None and count > most:
        options = " ".join(axis.option for axis in axes) or " ".join(sources)
        raise ScenarioError([Problem(options, t("errors.variants.too_many", count=count, most=most))])
    variants: list[Variant] = []
    problems: list[Problem] = []
    for source in sources:
        for values in itertools.product(*(axis.values for axis in axes)):
            settings = tuple(zip((axis.key for axis in axes), values))
            try:
                scenario, removed = _variant_scenario(source, axes, values, overrides, seed)
            except ScenarioError as error:
                problems += [p for p in error.problems if str(p) not in map(str, problems)]
                continue
            parts = [_file_label(source)] if len(sources) > 1 else []
            parts += [axis.label(value) for axis, value in zip(axes, values)]
            variants.append(Variant(" ".join(parts), scenario, settings, removed))
    if problems:
        raise ScenarioError(problems)
    return variants


def shares_traffic(scenarios: Sequence[Scenario]) -> bool:
    """Whether item k is due at the same time and needs the same service time in every scenario."""
    return not traffic_differences(scenarios)


def traffic_differences(scenarios: Sequence[Scenario]) -> list[str]:
    """The keys of the traffic whose values are not the same in every scenario, in a fixed order:
    `["producer.arrivals"]` for poisson against after-put, `[]` when the traffic is shared."""
    keys = ["seed", "duration", "items", *(f"producer.{name}" for name in Producer.model_fields), "workers.service"]
    return [key for key in keys if any(_at(key, s) != _at(key, scenarios[0]) for s in scenarios)]


def _at(key: str, scenario: Scenario) -> object:
    return operator.attrgetter(key)(scenario)


def open_or_after_put_alone(scenarios: Sequence[Scenario]) -> bool:
    """Whether the traffic differs only in `producer.arrivals`, "poisson" in some scenarios and
    "after-put" in others. After-put's gaps are the Poisson process's own draws, so while no put
    waits, every item arrives at the same instant in both: common random numbers still hold."""
    return traffic_differences(scenarios) == ["producer.arrivals"] and all(
        s.producer.arrivals in ("poisson", "after-put") for s in scenarios
    )


def arrivals_follow_puts(scenarios: Sequence[Scenario]) -> str | None:
    """How the producer's arrivals wait for its puts, if they do in any scenario: "after-put"
    (`arrivals = "after-put"`: a gap after each put returns) or "unlimited" (`rate = "unlimited"`:
    the next put as soon as one returns); else None.

    Then item k's draws are shared but not its arrival: a variant whose put waits sends it later."""
    for scenario in scenarios:
        if scenario.producer.after_put:
            return "after-put"
        if scenario.producer.rate == "unlimited":
            return "unlimited"
    return None


def _variant_scenario(
    source: str, axes: Sequence[Axis], values: Sequence[str], overrides: Sequence[str], seed: int | None
) -> tuple[Scenario, float | None]:
    sets = {f"{axis.key}={value}": axis.option for axis, value in zip(axes, values) if axis.key != POLICY_KEY}
    try:
        scenario = load_scenario(source, [*overrides, *sets], seed)
    except ScenarioError as error:
        # A problem caused by a varied value is the --vary's (or --param's), not a --set's.
        raise ScenarioError(
            [_replace_source(p, sets.get(p.source.removeprefix("--set "), p.source)) for p in error.problems]
        ) from None
    policies = [value for axis, value in zip(axes, values) if axis.key == POLICY_KEY]
    return _with_policy(scenario, Policy(policies[-1])) if policies else (scenario, None)


def _with_policy(scenario: Scenario, policy: Policy) -> tuple[Scenario, float | None]:
    data = scenario.model_dump(mode="json")
    removed = scenario.queue.put_timeout if policy is not Policy.BLOCK else None
    data["queue"]["policy"] = policy.value
    if removed is not None:
        data["queue"]["put_timeout"] = None
    return Scenario.model_validate(data), removed


def _replace_source(problem: Problem, source: str) -> Problem:
    return Problem(source, problem.message, problem.line, problem.column, problem.key, problem.context)


def _file_label(source: str) -> str:
    return printable(Path(source).name.removesuffix(".toml"))
