"""The errors bpsim reports to its users, all caught once in `cli.py` (exit code 2).

Our exception hierarchy::

    BpsimError                 a user's mistake: one clear line per problem, exit code 2
    ├── ScenarioError          a scenario file or --set override is wrong (every problem at once)
    ├── OutputError            a result file (--json, --csv, --svg) could not be written
    ├── WarmupTooLong          --warmup / warmup=S leaves nothing to measure (also a ValueError)
    ├── LimitReached           a run hit --max-items / --max-queued / --max-duration (exit code 3)
    ├── Stalled                every task waits and no timer is pending: the run can never end
    └── UnsupportedPython      this Python's asyncio lacks a private name the virtual clock needs

Anything else is a bug in bpsim and stays a loud traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BpsimError", "Problem", "ScenarioError", "OutputError", "Stalled", "UnsupportedPython", "WarmupTooLong"]


class BpsimError(Exception):
    """A problem the user can fix; `lines()` says what and where, one line each."""

    exit_code = 2

    def lines(self) -> list[str]:
        return [str(self)]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a scenario: where it is and what to do about it."""

    source: str
    """The file name (or "--set") the problem is in."""
    message: str
    line: int | None = None
    column: int | None = None
    key: str | None = None
    """The dotted key path, e.g. "queue.policy"."""
    context: str | None = None
    """For syntax errors: the offending source line, shown under the message with a caret."""

    def __str__(self) -> str:
        # An option is its own source (a --set of a 5000-digit number): name it, but not in full.
        long_option = self.source.startswith("--") and len(self.source) > 200
        where = f"{self.source[:79]}…" if long_option else self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        what = f"{self.key}: {self.message}" if self.key else self.message
        return f"{where}: {what}"


class ScenarioError(BpsimError):
    """One or more problems in a scenario; the message lists all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def lines(self) -> list[str]:
        out: list[str] = []
        for problem in self.problems:
            out.append(str(problem))
            if problem.context is not None:
                out.append(f"    {problem.context}")
                if problem.column is not None:
                    out.append("    " + " " * (problem.column - 1) + "^")
        return out


class OutputError(BpsimError):
    """A result file could not be written; nothing half-written is left behind."""


class WarmupTooLong(BpsimError, ValueError):
    """A warm-up as long as a run's production or longer (or not a number of seconds >= 0):
    nothing would be left to measure. A ValueError too, since it is a bad argument in Python."""


class Stalled(BpsimError):
    """Every task waits and no timer is pending: the simulation can never move again."""


class UnsupportedPython(BpsimError):
    """This Python's asyncio lacks a private name the virtual clock relies on (bpsim.clock)."""

    exit_code = 1  # not the user's mistake: nothing in the scenario can fix it
