"""`bpsim run --cdf` and `bpsim compare --cdf`: the latency CDF as text bars.

Each row reads "this share of the handled items took at most this long": the bar grows to the
right and the last row (the longest latency) is always 100%. `run --cdf` draws one run's CDF at
the limits of its `latency_cdf`; `compare --cdf` draws every variant in a column of its own on
one shared latency axis (the limits of the slowest variant), so a variant whose bars fill up
sooner really is faster: each on its own axis, every CDF would end at the same last row.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from bpsim.engine import Distribution
from bpsim.i18n import t
from bpsim.render.format import fit, number, seconds
from bpsim.stats import CDF_POINTS, LatencyStats

__all__ = ["compared_cdfs", "latency_cdf"]

BAR_WIDTH = 40


def latency_cdf(latency: Distribution, bar_width: int = BAR_WIDTH) -> RenderableType:
    """The CDF of `latency` (a run's `RunResult.latency`): limit, bar, share and count per row."""
    if not latency.count or not latency.cdf:
        return Text(t("cdf.none"), style="bpsim.muted")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(justify="right", no_wrap=True, style="bpsim.muted")
    for limit, under in latency.cdf:
        share = under / latency.count
        filled = int(share * bar_width)  # floor: a full bar only at 100%
        grid.add_row(f"≤ {seconds(limit)}", _bar(share, bar_width), f"{share * 100:.1f}%", number(under))
    parts: list[RenderableType] = [Text(t("cdf.title", handled=number(latency.count)), style="bpsim.title"), grid]
    if not latency.exact:
        parts.append(Text(t("cdf.approximate"), style="bpsim.muted"))
    return Group(*parts)


def _bar(share: float, width: int) -> Text:
    filled = int(share * width)  # floor: a full bar only at 100%
    bar = Text("█" * filled, style="bpsim.chart.good")
    bar.append("·" * (width - filled), style="bpsim.muted")
    return bar


MIN_BAR = 4
"""Narrower than this a bar says nothing: the columns then show the shares alone."""
MAX_HEADER = 20
"""A variant's label wider than this is cut with an ellipsis rather than widen its column."""
_SHARE = len("100.0%")


class compared_cdfs:  # noqa: N801 - a renderable used like a function, as Rich's own `group`
    """`bpsim compare --cdf`: every variant's latency CDF in a column, on one shared latency axis.

    The rows are the limits of the slowest variant (its max / 20 ... its max), the same for all;
    each column's bar and share count that variant's handled items at or under the row's limit
    (exactly, from every latency recorded), and the last row reads "handled" with their count.
    The bars share the console's width, so three variants fit in 80 columns; more than fit side
    by side are drawn in several grids, one under the other, on the same axis.
    """

    def __init__(self, labels: Sequence[str], latencies: Sequence[LatencyStats]) -> None:
        self.labels = list(labels)
        self.latencies = list(latencies)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        title = Text(fit(t("cdf.compared_title"), width), style="bpsim.title")
        if not any(stats.count for stats in self.latencies):
            yield Text(fit(t("cdf.compared_none"), width), style="bpsim.muted")
            return
        top = max(0.0, *(stats.max for stats in self.latencies if stats.count))
        limits = [top * k / CDF_POINTS for k in range(1, CDF_POINTS)] + [top]
        label_width = max(cell_len(f"≤ {seconds(limit)}") for limit in limits)
        yield title
        yield Text(fit(t("cdf.compared_axis", points=CDF_POINTS, step=seconds(top / CDF_POINTS), top=seconds(top)), width), style="bpsim.muted")
        groups = self._groups(width - label_width)
        bar_width = min(BAR_WIDTH, (width - label_width) // len(groups[0]) - _SHARE - 2)  # the same in every grid
        for group in groups:
            yield self._grid(group, limits, label_width, bar_width)
        if not all(stats.exact for stats in self.latencies):
            yield Text(t("cdf.approximate"), style="bpsim.muted")

    def _groups(self, room: int) -> list[list[int]]:
        """The variants' indexes in runs of columns that fit in `room` cells side by side (many
        variants: several grids, one under the other, rather than columns cut short)."""
        groups: list[list[int]] = [[]]
        used = 0
        for index, label in enumerate(self.labels):
            need = 1 + max(_SHARE + 1, min(cell_len(label), MAX_HEADER))
            if groups[-1] and used + need > room:
                groups.append([])
                used = 0
            groups[-1].append(index)
            used += need
        return groups

    def _grid(self, group: list[int], limits: list[float], label_width: int, bar_width: int) -> Table:
        grid = Table.grid(padding=(0, 0, 0, 1))
        grid.show_header = True
        grid.add_column(justify="right", no_wrap=True, min_width=label_width)
        for index in group:
            grid.add_column(header=self.labels[index], justify="right", no_wrap=True, overflow="ellipsis")
        for limit in limits:
            grid.add_row(f"≤ {seconds(limit)}", *(self._cell(self.latencies[index], limit, bar_width) for index in group))
        counts = (Text(number(self.latencies[index].count), style="bpsim.muted") for index in group)
        grid.add_row(Text(t("cdf.compared_handled"), style="bpsim.muted"), *counts)
        return grid

    @staticmethod
    def _cell(stats: LatencyStats, limit: float, bar_width: int) -> Text:
        if not stats.count:
            return Text("–", style="bpsim.muted")
        share = stats.at_or_under(limit) / stats.count
        cell = _bar(share, bar_width) if bar_width >= MIN_BAR else Text()
        cell.append(f" {share * 100:5.1f}%")
        return cell
