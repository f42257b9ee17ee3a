"""Theory next to the simulation: the formula's prediction and the run's measurement, row by row."""

from __future__ import annotations

from collections.abc import Callable

from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bpsim.engine import RunResult
from bpsim.i18n import t
from bpsim.theory import LittleCheck, Theory, littles_law, simulated

__all__ = ["theory_table", "little_line", "reason_text", "note_text"]


def _ratio(value: float) -> str:
    return f"{value:.3f}"


def _share(value: float) -> str:
    return f"{value:.2%}"


def _rate(value: float) -> str:
    return f"{value:.3f}/s"


def _seconds(value: float) -> str:
    return f"{value:.3f} s"


def _cell(value: float | None, show: Callable[[float], str]) -> str:
    return t("theory.unknown") if value is None else show(value)


def little_line(check: LittleCheck) -> Text:
    """One line: lambda * Wq against the measured mean qsize, and whether they agree."""
    verdict = t("theory.holds") if check.holds else t("theory.off", error=check.relative_error)
    return Text(
        t(
            "theory.little",
            rate=check.arrival_rate,
            wait=check.mean_wait,
            predicted=check.predicted_in_queue,
            observed=check.observed_in_queue,
            verdict=verdict,
        )
    )


_ROWS = [
    ("rho", "rho", _ratio),
    ("blocking", "blocking_probability", _share),
    ("throughput", "throughput", _rate),
    ("in_system", "mean_in_system", _ratio),
    ("in_queue", "mean_in_queue", _ratio),
    ("in_service", "mean_in_service", _ratio),
    ("response", "mean_response", _seconds),
    ("wait", "mean_wait", _seconds),
]
"""(catalogue key, Theory and Simulated field, format), in the order the table shows them."""


def _closed_loop(theory: Theory) -> bool:
    return "closed_loop" in theory.note


def _shown(theory: Theory, name: str) -> bool:
    """A closed loop predicts throughput and calls in service only: show just those. Elsewhere
    calls in service teaches something only for a contended service (for a textbook queue it
    repeats throughput / mu); every other row is shown, a dash where no formula gives it."""
    if _closed_loop(theory):
        return getattr(theory, name) is not None
    if name == "mean_in_service":
        return theory.mean_in_service is not None and theory.peak_throughput is not None
    return True


def _title(theory: Theory) -> str:
    if _closed_loop(theory):
        return t("theory.title_closed", calls=theory.calls)
    return t("theory.title_model", model=theory.model) if theory.model else t("theory.title")


def _table(theory: Theory, result: RunResult | None) -> Table:
    title = _title(theory)
    # At least as wide as its title, which would otherwise wrap over a narrow (formula-only) table.
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", min_width=cell_len(title))
    table.add_column("")
    table.add_column(t("theory.formula"), justify="right")
    measured = simulated(result) if result is not None else None
    if measured is not None:
        table.add_column(t("theory.simulated"), justify="right")
    # Simulated has no rho and uses Theory's names for the rest; a missing value shows as a dash.
    for key, name, show in _ROWS:
        if not _shown(theory, name):
            continue
        cells = [t("theory." + key), _cell(getattr(theory, name), show)]
        if measured is not None:
            cells.append(_cell(getattr(measured, name, None), show))
        table.add_row(*cells)
    return table


def reason_text(theory: Theory) -> str:
    """Why no formula applies, in the current language."""
    return t("theory.reason." + (theory.reason or "unstable"))


def note_text(theory: Theory) -> str:
    """The caveats under the table, in the current language, one sentence each."""
    return "; ".join(t("theory.note." + key, at=theory.deadline) for key in theory.note)


def _knee_line(theory: Theory) -> Text | None:
    if theory.knee is None or theory.peak_throughput is None:
        return None
    return Text(
        t("theory.knee", knee=theory.knee, peak=theory.peak_throughput, calls=theory.calls), style="bpsim.muted"
    )


def theory_table(theory: Theory, result: RunResult | None = None) -> RenderableType:
    """The formula's predictions next to `result`'s measurements, with Little's law on the run.

    When no formula applies, one dimmed line says why instead of the table. Without a result,
    only the formula column is shown and there is no Little's-law line. A run that lasted no
    simulated time (a shutdown before the first item) measured no rate: its 0/s beside the
    formula's would teach nothing, so the formula stands alone with a line that says why.
    """
    parts: list[RenderableType] = []
    instant = result is not None and result.duration <= 0
    if instant:
        result = None
    if theory.applies:
        parts.append(_table(theory, result))
        if theory.note:
            parts.append(Text(note_text(theory), style="bpsim.muted"))
    elif theory.rho is not None:
        parts.append(Text(t("theory.no_formula_rho", rho=theory.rho, reason=reason_text(theory)), style="bpsim.muted"))
    else:
        parts.append(Text(t("theory.no_formula", reason=reason_text(theory)), style="bpsim.muted"))
    knee = _knee_line(theory)
    if knee is not None:
        parts.append(knee)
    if result is not None:
        parts.append(little_line(littles_law(result)))
    if instant:
        parts.append(Text(t("theory.instant_run"), style="bpsim.muted"))
    return Group(*parts)
