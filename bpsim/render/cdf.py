"""`bpsim run --cdf` (and `compare --cdf`, per variant): the latency CDF as text bars, one row per limit of `latency_cdf`.

Each row reads "this share of the handled items took at most this long": the bar grows to the
right and the last row (the longest latency) is always 100%.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bpsim.engine import Distribution
from bpsim.i18n import t
from bpsim.render.format import number, seconds

__all__ = ["latency_cdf"]

BAR_WIDTH = 40


def latency_cdf(latency: Distribution, bar_width: int = BAR_WIDTH, label: str | None = None) -> RenderableType:
    """The CDF of `latency` (a run's `RunResult.latency`): limit, bar, share and count per row.

    `label` names the variant (`bpsim compare --cdf` draws one CDF per variant)."""
    if not latency.count or not latency.cdf:
        return Text(t("cdf.none") if label is None else t("cdf.none_variant", label=label), style="bpsim.muted")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(justify="right", no_wrap=True, style="bpsim.muted")
    for limit, under in latency.cdf:
        share = under / latency.count
        filled = int(share * bar_width)  # floor: a full bar only at 100%
        bar = Text("█" * filled, style="bpsim.chart.good")
        bar.append("·" * (bar_width - filled), style="bpsim.muted")
        grid.add_row(f"≤ {seconds(limit)}", bar, f"{share * 100:.1f}%", number(under))
    title = t("cdf.title", handled=number(latency.count)) if label is None else t("cdf.title_variant", label=label, handled=number(latency.count))
    parts: list[RenderableType] = [Text(title, style="bpsim.title"), grid]
    if not latency.exact:
        parts.append(Text(t("cdf.approximate"), style="bpsim.muted"))
    return Group(*parts)
