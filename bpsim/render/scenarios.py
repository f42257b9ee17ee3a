"""The list of bundled scenarios (`bpsim scenarios`): the name to run, and what each one shows."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bpsim.i18n import t

__all__ = ["scenario_list"]


def scenario_list(scenarios: Sequence[tuple[str, str]]) -> RenderableType:
    """One row per (name, description): the name to type and what the scenario shows."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bpsim.info.strong", no_wrap=True)
    table.add_column(overflow="fold")  # Hangul lines must wrap, never end in an ellipsis
    for name, description in scenarios:
        table.add_row(name, description)
    return Group(Text(t("scenarios.heading"), style="bpsim.title"), Text(""), table, Text(""), Text(t("scenarios.hint"), style="bpsim.muted"))
