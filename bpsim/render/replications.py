"""`--replications N`: the compare table and the sweep table with mean ± 95% confidence interval."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bpsim.engine import RunResult
from bpsim.i18n import t
from bpsim.metrics import METRICS, Metric
from bpsim.render.comparison import sweep_chart, unshared_traffic
from bpsim.render.format import number
from bpsim.replications import Interval, Replicated
from bpsim.variants import Axis

__all__ = ["replicated_comparison", "replicated_sweep"]

_ARROWS = {"lower": "↓", "higher": "↑"}
_MAX_SEEDS_SHOWN = 4


_MAX_DECIMALS = 4


def decimals_for(half_width: float) -> int:
    """The decimals of an interval's mean and half-width: the half-width's two significant digits,
    never past the units (25.2 -> 0: `177 ± 25`; 1.16 -> 1: `12.0 ± 1.2`; 0.59 -> 2: `5.11 ± 0.59`).
    The mean says no more than the interval lets one know about it."""
    if not half_width > 0 or not math.isfinite(half_width):
        return -1  # no spread: the value's own digits
    return min(_MAX_DECIMALS, max(0, 1 - math.floor(math.log10(half_width))))


def _interval(metric: Metric, value: Interval, signed: bool = False) -> str:
    """`mean ± half-width`, both to the digits `decimals_for` gives, the unit said once at the end:
    `177 ± 25`, `10.84 ± 0.63 s`, `929 ± 596 ms`."""
    mean, half = value.mean, value.half_width
    sign = ("+" if mean > 0 else "−" if mean < 0 else "") if signed else ""
    mean = abs(mean) if signed else mean
    unit = ""
    if metric.unit == "seconds":
        in_ms = max(abs(mean), half) < 1.0
        mean, half, unit = (mean * 1000, half * 1000, " ms") if in_ms else (mean, half, " s")
    places = decimals_for(half)
    if places < 0:  # no spread: as a single value is shown (0 ms, 1.50 s, 3.81, 30)
        shown = (f"{mean:.0f}" if unit == " ms" else f"{mean:.2f}") if unit else number(mean)
        return f"{sign}{shown} ± 0{unit}"
    return f"{sign}{mean:,.{places}f} ± {half:,.{places}f}{unit}"


def _shown(summaries: Sequence[Replicated]) -> list[Metric]:
    """The metrics every variant has, less the rare ones (optional) that stayed 0 in every run."""
    return [
        metric
        for metric in METRICS
        if all(metric.name in s.metrics for s in summaries)
        and not (metric.optional and not any(metric.value(r) for s in summaries for r in s.results))
    ]


def _seeds(summaries: Sequence[Replicated]) -> str:
    seeds = summaries[0].seeds
    shown = ", ".join(map(str, seeds[:_MAX_SEEDS_SHOWN])) + (", …" if len(seeds) > _MAX_SEEDS_SHOWN else "")
    return t("replications.seeds", seeds=shown)


def replicated_comparison(summaries: Sequence[Replicated]) -> RenderableType:
    """One column per variant, one row per metric as mean ± h; then each variant against the first."""
    names = " / ".join(dict.fromkeys(s.results[0].scenario.name for s in summaries))
    metrics = _shown(summaries)
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bpsim.title")
    table.add_column("", no_wrap=True)
    table.add_column("", style="bpsim.muted", no_wrap=True)
    for summary in summaries:
        table.add_column(summary.variant.label, justify="right", overflow="fold")
    for metric in metrics:
        label = ("  " if metric.part_of else "") + t(metric.words_key)
        table.add_row(label, _ARROWS[metric.better], *(_interval(metric, s.metrics[metric.name]) for s in summaries))
    lines: list[RenderableType] = []
    for summary in summaries[1:]:
        assert summary.versus_first is not None
        # A reason's count is in the table under its outcome; a difference that is 0 in every
        # replication (max qsize 30 against 30) is no news: neither is listed.
        versus = {
            m.name: versus_first
            for m in metrics
            if m.part_of is None and (versus_first := summary.versus_first.get(m.name)) is not None
            and (versus_first.mean, versus_first.half_width) != (0.0, 0.0)
        }
        shown = [m for m in metrics if m.name in versus and not versus[m.name].includes_zero]
        hidden = [t(m.words_key) for m in metrics if m.name in versus and versus[m.name].includes_zero]
        if not shown:
            lines.append(Text(t("replications.none_shown", label=summary.variant.label)))
            continue
        parts = [f"{t(m.words_key)} {_interval(m, versus[m.name], signed=True)}" for m in shown]
        if hidden:
            parts.append(t("replications.not_shown", metrics=", ".join(hidden)))
        lines.append(Text(t("replications.differences", label=summary.variant.label, differences="; ".join(parts))))
    bullets = Table.grid(padding=(0, 1))
    bullets.add_column()
    bullets.add_column(overflow="fold")  # a wide (Korean) line is wrapped, never cut with …
    # Pairing by seed still holds, but common random numbers may not: then say why (replication 0's runs).
    waited = any(result.blocked_seconds > 0 for summary in summaries for result in summary.results)
    unshared = unshared_traffic([summary.results[0] for summary in summaries], waited)
    if unshared is not None:
        lines.append(Text(unshared))
    for line in lines:
        bullets.add_row("•", line)
    return Group(
        Text(t("replications.title", name=names, n=len(summaries[0].results)), style="bpsim.title"),
        Text(""),
        table,
        Text(""),
        Text(t("replications.versus", first=summaries[0].variant.label), style="bpsim.title"),
        bullets,
        Text(""),
        Text(_seeds(summaries), style="bpsim.muted"),
    )


def replicated_sweep(axes: Sequence[Axis], summaries: Sequence[Replicated], metrics: Sequence[Metric]) -> RenderableType:
    """One row per point of the grid, each metric as mean ± h; then the chart of the means."""
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bpsim.title")
    for axis in axes:
        table.add_column(axis.name)
    for metric in metrics:
        table.add_column(t(metric.words_key), justify="right")
    for summary in summaries:
        cells = [value for _, value in summary.variant.settings]
        table.add_row(
            *cells,
            *(_interval(m, summary.metrics[m.name]) if m.name in summary.metrics else "-" for m in metrics),
        )
    # The chart draws one value per run: here each point's mean, read through its first run.
    means = {id(s.results[0]): s.metrics for s in summaries}

    def mean_of(name: str) -> Callable[[RunResult], float | None]:
        return lambda result: means[id(result)][name].mean if name in means[id(result)] else None

    charted = [dataclasses.replace(m, value=mean_of(m.name)) for m in metrics]
    chart = sweep_chart(
        axes, [s.variant for s in summaries], [s.results[0] for s in summaries], charted, axis_words="replications.chart_axis"
    )
    title = Text(t("replications.title", name=summaries[0].results[0].scenario.name, n=len(summaries[0].results)), style="bpsim.title")
    return Group(title, Text(""), table, Text(""), chart, Text(""), Text(_seeds(summaries), style="bpsim.muted"))
