"""Side-by-side results: the `bpsim compare` table with its trade-offs, the sweep table and chart."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bpsim.engine import RunResult
from bpsim.i18n import t
from bpsim.metrics import METRICS, Metric, best
from bpsim.render.format import WRAPS, number, scenario_name, seconds
from bpsim.variants import Axis, Variant, arrivals_follow_puts, open_or_after_put_alone, traffic_differences

__all__ = ["comparison", "tradeoffs", "sweep_table", "sweep_chart"]

BEST = "*"
_BARS = "▁▂▃▄▅▆▇█"
_MAX_TRADEOFFS = 4
_ARROWS = {"lower": "↓", "higher": "↑"}


def comparison(variants: Sequence[Variant], results: Sequence[RunResult]) -> RenderableType:
    """The comparison of finished (or interrupted) runs: the table, trade-offs, and fairness note."""
    names = list(dict.fromkeys(scenario_name(result.scenario) for result in results))
    parts: list[RenderableType] = [Text(t("compare.title", name=" / ".join(names)), style="bpsim.title")]
    if not all(result.completed for result in results):
        parts.append(Text(t("compare.interrupted"), style="bpsim.bad.strong"))
    parts += [Text(""), _table(variants, results), Text(t("compare.legend", best=BEST), style="bpsim.muted"), Text("")]
    parts.append(_bullets(tradeoffs(variants, results) + _notes(variants, results)))
    return Group(*parts)


def _bullets(lines: Sequence[str]) -> Table:
    # A grid, so a wrapped sentence stays indented under its own bullet.
    grid = Table.grid(padding=(0, 1))
    grid.add_column()
    grid.add_column(overflow=WRAPS)
    for line in lines:
        grid.add_row("•", line)
    return grid


def _table(variants: Sequence[Variant], results: Sequence[RunResult]) -> Table:
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bpsim.title")
    table.add_column("", no_wrap=True)
    table.add_column("", style="bpsim.muted", no_wrap=True)
    for variant in variants:
        table.add_column(variant.label, justify="right", overflow="fold")
    produced = [result.counts.produced for result in results]
    if len(set(produced)) > 1:
        # Where the variants sent different numbers of items (a closed loop held back, a
        # shutdown came sooner), every other row counts from a different total: show it first.
        # No arrow and no best: more items is neither better nor worse, only a different load.
        table.add_row(t("compare.produced"), "", *(Text(number(count) + "  ") for count in produced))
    for metric in METRICS:
        values = [metric.value(result) for result in results]
        if metric.optional and not any(values):
            continue
        marked = best(metric, values)
        cells = [_cell(metric, value, index in marked) for index, value in enumerate(values)]
        # The by-reason rows ("dropped-evicted") sit under their total, indented.
        indent = "  " if metric.part_of is not None else ""
        table.add_row(indent + t(metric.words_key), _ARROWS[metric.better], *cells)
    return table


def _cell(metric: Metric, value: float | None, is_best: bool) -> Text:
    # Every cell ends in two characters, the mark or blanks, so the numbers stay aligned.
    if is_best:
        return Text.assemble((_format(metric, value), "bpsim.ok.strong"), f" {BEST}")
    return Text(_format(metric, value) + "  ")


def _format(metric: Metric, value: float | None) -> str:
    if value is None:
        return "-"
    return seconds(value) if metric.unit == "seconds" else number(value)


def tradeoffs(variants: Sequence[Variant], results: Sequence[RunResult]) -> list[str]:
    """Up to four sentences, one per variant, on what each paid for its latency.

    With more than four variants, those with the lowest p99, the fewest drops, the least
    blocking and the most handled items speak, in the variants' order.
    """
    chosen = list(range(len(results)))
    if len(chosen) > _MAX_TRADEOFFS:
        p99 = [r.latency.p99 if r.latency.count else float("inf") for r in results]
        extremes = (
            min(chosen, key=p99.__getitem__),
            min(chosen, key=lambda i: results[i].counts.dropped),
            min(chosen, key=lambda i: results[i].blocked_seconds),
            max(chosen, key=lambda i: results[i].counts.handled),
        )
        chosen = sorted(set(extremes))
    return [_tradeoff(variants[index].label, results[index]) for index in chosen]


def _tradeoff(label: str, result: RunResult) -> str:
    counts = result.counts
    p99 = seconds(result.latency.p99) if result.latency.count else "-"
    blocked = seconds(result.blocked_seconds)
    if counts.dropped:
        reasons = ", ".join(
            f"{number(value)} {t(metric.words_key)}"
            for metric in METRICS
            if metric.part_of == "dropped" and (value := metric.value(result))
        )
        key = "compare.says_dropped_and_blocked" if result.blocked_seconds else "compare.says_dropped"
        line = t(key, label=label, p99=p99, dropped=number(counts.dropped), reasons=reasons, blocked=blocked)
    elif result.blocked_seconds:
        line = t("compare.says_blocked", label=label, p99=p99, blocked=blocked)
    else:
        line = t("compare.says_free", label=label, p99=p99, max_qsize=number(result.max_qsize))
    if counts.timed_out:
        line += t("compare.says_timed_out", count=number(counts.timed_out))
    return line


def _notes(variants: Sequence[Variant], results: Sequence[RunResult]) -> list[str]:
    notes = []
    removed = [v for v in variants if v.put_timeout_removed is not None]
    if removed:
        labels = ", ".join(v.label for v in removed)
        notes.append(t("compare.put_timeout_removed", timeout=seconds(removed[0].put_timeout_removed or 0), labels=labels))
    notes.append(traffic_note(results))
    return notes


def traffic_note(results: Sequence[RunResult]) -> str:
    """Whether item k met the same traffic in every variant (common random numbers), plainly."""
    seed = results[0].scenario.seed
    unshared = unshared_traffic(results)
    if unshared is not None:
        return unshared
    if traffic_differences([result.scenario for result in results]):  # poisson against after-put, no put waited
        return t("compare.same_traffic_after_put", seed=seed)
    return t("compare.same_traffic", seed=seed)


def unshared_traffic(results: Sequence[RunResult], waited: bool | None = None) -> str | None:
    """Why item k did not meet the same traffic in every variant; None when it did.

    It did not when a traffic key differs, nor when the arrivals follow the puts and a put waited
    in some variant: there every later item arrived later, and a difference is partly the
    traffic's. Puts that never waited leave every arrival where the draws put it, so "poisson"
    against "after-put" alone still pairs item k then (`open_or_after_put_alone`). `waited`: whether
    a put waited in any run (replications: in any replication); by default, in `results`."""
    scenarios = [result.scenario for result in results]
    if waited is None:
        waited = any(result.blocked_seconds > 0 for result in results)
    differences = traffic_differences(scenarios)
    if differences and (waited or not open_or_after_put_alone(scenarios)):
        return t("compare.different_traffic", keys=", ".join(differences))
    closed = arrivals_follow_puts(scenarios)
    if closed is not None and waited:
        return t("compare.arrivals_follow_puts", seed=scenarios[0].seed, how=t(f"compare.follow.{closed}"))
    return None


def sweep_table(axes: Sequence[Axis], variants: Sequence[Variant], results: Sequence[RunResult], metrics: Sequence[Metric]) -> Table:
    """One row per run: the value of each axis, then the chosen metrics."""
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bpsim.title")
    for axis in axes:
        table.add_column(axis.name)
    for metric in metrics:
        table.add_column(t(metric.words_key), justify="right")
    for variant, result in zip(variants, results):
        cells = [value for _, value in variant.settings]
        table.add_row(*cells, *(_format(metric, metric.value(result)) for metric in metrics))
    return table


def sweep_chart(
    axes: Sequence[Axis],
    variants: Sequence[Variant],
    results: Sequence[RunResult],
    metrics: Sequence[Metric],
    axis_words: str = "compare.chart_axis",
) -> RenderableType:
    """Per metric, one bar line per combination of the other axes, along the axis with the most values.

    Bars are scaled from the metric's lowest to its highest value over the whole sweep, so
    lines can be compared with each other; a run without a value (no latency) is a blank.
    """
    along = max(reversed(range(len(axes))), key=lambda index: len(axes[index].values))
    series: dict[str, list[RunResult]] = {}
    for variant, result in zip(variants, results):
        others = [axis.label(value) for index, (axis, (_, value)) in enumerate(zip(axes, variant.settings)) if index != along]
        series.setdefault(" ".join(others), []).append(result)
    parts: list[RenderableType] = []
    for metric in metrics:
        values = {name: [metric.value(r) for r in runs] for name, runs in series.items()}
        known = [v for line in values.values() for v in line if v is not None]
        low, high = (min(known), max(known)) if known else (0.0, 0.0)
        heading = Text(t(metric.words_key), style="bpsim.title")
        heading.append(
            "  " + t("compare.chart_range", better=t(f"compare.{metric.better}"), low=_format(metric, low), high=_format(metric, high)),
            style="bpsim.muted",
        )
        grid = Table.grid(padding=(0, 2))
        grid.add_column()
        grid.add_column(no_wrap=True)
        for name, line in values.items():
            grid.add_row(name, _bars(line, low, high))
        parts += [heading, grid, Text("")]
    x = axes[along]
    parts.append(Text(t(axis_words, name=x.name, first=x.values[0], last=x.values[-1]), style="bpsim.muted"))
    return Group(*parts)


def _bars(values: Sequence[float | None], low: float, high: float) -> str:
    span = high - low
    top = len(_BARS) - 1
    return "".join(
        " " if v is None else _BARS[round((v - low) / span * top) if span else 0] for v in values
    )
