"""Guards that stop a run before it takes the machine down.

A run's work, memory and length are each bounded by one limit:

* `max_items`: items produced per variant. CPU time grows with items (about 20 µs each), so
  this also bounds how long a run takes on the wall clock.
* `max_queued`: items waiting in the queue at once. Only an unbounded queue (`maxsize = 0`)
  under overload gets near it; the other places an item can be (one in a blocked put, one per
  worker) are bounded by the scenario itself.
* `max_duration`: simulated seconds (unset by default: the clock jumps, so simulated time
  costs nothing by itself).

A run that hits a limit stops cleanly at that simulated instant, the way Ctrl-C stops it:
`Simulation.run()` raises `LimitReached`, whose `results` are the partial results, each with
`completed=False` and `stopped_by` naming the limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bpsim.errors import BpsimError
from bpsim.i18n import t
from bpsim.outcomes import OUTCOMES, UNFINISHED

if TYPE_CHECKING:
    from bpsim.engine import RunResult
    from bpsim.scenario import Scenario

__all__ = ["Limits", "NO_LIMITS", "DEFAULT_MAX_ITEMS", "DEFAULT_MAX_QUEUED", "LimitReached", "TooManyItems", "check_expected_items", "FLAGS"]

FLAGS = {"max_items": "--max-items", "max_queued": "--max-queued", "max_duration": "--max-duration"}
"""The command-line option that raises each limit (named in the message)."""


DEFAULT_MAX_ITEMS = 2_000_000
DEFAULT_MAX_QUEUED = 1_000_000


@dataclass(frozen=True, slots=True)
class Limits:
    """How far one run may go; None means no limit."""

    max_items: int | None = DEFAULT_MAX_ITEMS
    max_queued: int | None = DEFAULT_MAX_QUEUED
    max_duration: float | None = None

    def __post_init__(self) -> None:
        for name in FLAGS:
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive or None, not {value!r}")


NO_LIMITS = Limits(max_items=None, max_queued=None, max_duration=None)


class LimitReached(BpsimError):
    """A run hit one of its `Limits` and was stopped; `results` has what it did until then.

    Its exit code is 3, not 2: the scenario is fine, the run was longer than the guard allows."""

    exit_code = 3

    def __init__(self, limit: str, value: float, at: float) -> None:
        self.limit = limit
        """The `Limits` field that was hit: "max_items", "max_queued" or "max_duration"."""
        self.value = value
        self.at = at
        """The simulated second the run stopped at."""
        self.results: list[RunResult] = []
        """The partial results of every variant (set by `Simulation.run`)."""
        super().__init__(limit)

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        lines = [t(f"limits.{self.limit}", at=self.at, value=self.value, flag=FLAGS[self.limit])]
        for result in self.results:
            so_far = t("limits.so_far", counts=", ".join(_counts(result)))
            lines.append(f"{result.variant}: {so_far}" if result.variant is not None else so_far)
        lines.append(t("limits.raise", flag=FLAGS[self.limit], bigger=_bigger(self.value)))
        return lines


class TooManyItems(BpsimError):
    """A scenario means to produce more items than `max_items` allows: refused before it runs.

    A runaway scenario (1e9 items/s, a year of simulated time) once ran a minute or more, with
    nothing shown headless, before the limit stopped it. The exit code is a limit's."""

    exit_code = LimitReached.exit_code

    def __init__(self, expected: float, limit: int, variant: str | None = None) -> None:
        self.expected = expected
        self.limit = limit
        self.variant = variant
        super().__init__(expected, limit, variant)  # all of them: a sweep's worker pickles it

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        flag = FLAGS["max_items"]
        first = t("limits.expected_items", expected=self.expected, value=self.limit, flag=flag)
        bigger = 10 ** len(str(int(self.expected)))  # a round number above the expected count
        return [
            f"{self.variant}: {first}" if self.variant is not None else first,
            t("limits.raise_expected", flag=flag, bigger=bigger),
        ]


def check_expected_items(scenarios: Sequence[Scenario], limits: Limits, labels: Sequence[str | None]) -> None:
    """Raise TooManyItems, before a run, if a scenario means to produce more than `limits` allow.

    A closed loop whose puts wait (`Scenario.puts_delay_arrivals`) is not refused: its expected
    count is only an upper bound, and it may well produce far fewer. `max_items` still stops its
    run if it gets there."""
    if limits.max_items is None:
        return
    for scenario, label in zip(scenarios, labels):
        if scenario.expected_items > limits.max_items and not scenario.puts_delay_arrivals:
            raise TooManyItems(scenario.expected_items, limits.max_items, label)


def _counts(result: RunResult) -> list[str]:
    """`4 produced, 4 handled, 0 dropped, 0 timed out, 0 unfinished`: the ledger when the run stopped.

    Outcomes of the shutdown are left out unless some item ended there: the run stopped before it.
    """
    counts = result.counts
    parts = [(t("outcome.label.produced"), counts.produced)]
    for outcome in OUTCOMES:
        count = counts.of(outcome)
        if count or (outcome.tone != "shutdown" and outcome.listed(counts, result.scenario)):
            parts.append((t(outcome.words), count))
    parts.append((t(f"outcome.label.{UNFINISHED}"), counts.unfinished))
    return [t("limits.count", label=label, count=count) for label, count in parts]


def _bigger(value: float) -> str:
    """A round value ten times the limit, to suggest in the message."""
    bigger = value * 10
    return f"{int(bigger)}" if float(bigger).is_integer() else f"{bigger:g}"
