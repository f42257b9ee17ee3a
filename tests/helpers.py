"""Small builders for tests: scenarios from keyword tables, runs that record their events."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from bpsim.engine import RunResult, run
from bpsim.events import Event
from bpsim.scenario import Scenario


def scenario(**tables: Any) -> Scenario:
    """A scenario from top-level keys and tables, e.g. scenario(items=3, queue={"maxsize": 1})."""
    return Scenario.model_validate(tables)


def run_recording(s: Scenario) -> tuple[RunResult, list[Event]]:
    events: list[Event] = []
    result = run(s, [events.append])
    return result, events


def of_type(events: list[Event], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def cli_runner() -> CliRunner:
    """Typer's CliRunner, as the CLI tests use it: `result.stderr` apart, `result.output` both."""
    return CliRunner()


def problems_in(text: str, lang: str = "en") -> list[str]:
    """The one-line problems a scenario file `bad.toml` holding `text` is refused with, in `lang`."""
    from bpsim.errors import ScenarioError
    from bpsim.i18n import set_language
    from bpsim.loader import scenario_from_text

    set_language(lang)
    try:
        scenario_from_text(text, "bad.toml")
    except ScenarioError as error:
        return [str(problem) for problem in error.problems]
    finally:
        set_language("en")
    raise AssertionError("the scenario was accepted")
