"""Small formatting helpers shared by every renderer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from rich.cells import cell_len, set_cell_size

from bpsim.i18n import language

if TYPE_CHECKING:
    from bpsim.scenario import Scenario

WRAPS: Literal["fold"] = "fold"
"""The overflow of a table column whose text wraps onto more lines (`add_column(overflow=WRAPS)`).

Not Rich's default, "ellipsis": Rich (15.0) keeps a wrapped line's last space when the line is
as wide as the column in cells but not in characters, as Korean is (two cells a character),
and then cuts that one-cell overflow with an ellipsis over the line's last word: `차이는`
came out as `차이 …`. "fold" cuts the space instead, and only folds a word wider than the column.
"""


def fit(text: str, width: int) -> str:
    """`text` in at most `width` cells: if it is longer, cut after its last whole word that fits, with ` …`.

    Never inside a word: a word cut short can read as another one (Korean `큐가`, "the queue
    (does)", cut to `큐`, "queue"). A first word wider than `width` alone is cut where it must.
    """
    if cell_len(text) <= width:
        return text
    kept = ""
    for word in text.split(" "):
        longer = f"{kept} {word}" if kept else word
        if cell_len(longer) + 2 > width:
            break
        kept = longer
    return f"{kept} …" if kept.strip() else set_cell_size(text, max(width - 1, 0)) + "…"


def scenario_name(scenario: Scenario) -> str:
    """The scenario's name in the current language: its `[ko] name` under --lang ko, if it has one."""
    return scenario.words(language()).name or scenario.name


def seconds(value: float) -> str:
    """A duration in the unit a person reads best: 12 ms, 1.25 s, 3 m 20 s, 27 h 46 m."""
    if value < 1.0:
        return f"{value * 1000:.0f} ms" if value >= 0.0005 or value == 0 else f"{value * 1000:.2f} ms"
    if value < 100:
        return f"{value:.2f} s"
    minutes, rest = divmod(round(value), 60)  # rounded first: 179.6 s is 3 m 00 s, not 2 m 60 s
    if minutes < 60:
        return f"{minutes} m {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} m"


def number(value: float) -> str:
    """A count or rate with thousands separators and no needless decimals."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


def nonzero_parts(*parts: tuple[str, int]) -> str:
    """`queue-full 3, stale 1`: the named parts of a count that are not zero."""
    return ", ".join(f"{name} {value}" for name, value in parts if value)
