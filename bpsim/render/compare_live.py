"""Variants side by side: one frame of a `bpsim compare` running live, as a renderable that fits.

`side_by_side(snapshots, labels, recents, header, varied, width, height)` is pure, like
`dashboard`: the same inputs draw the same frame. Under a two-line header (what is compared,
what was varied, the shared clock, speed and status) each variant gets a column:

    producer  its state, BLOCKED on red, and how far behind it is
    queue     qsize / maxsize and a gauge (an unbounded queue: how fast it grows)
    workers   one glyph per worker; in flight x / limit
    ledger    handled, dropped, timed out; how long the producer was blocked
    latency   p50 and p99
    trends    p99 and the items lost (dropped + timed out) per slice of time, on one scale in
              every column: when the latency and the losses came, not only how many
    events    the variant's latest notable events, as many as there is room for

Columns narrow as variants are added (labels give way before values); a column's lines go in
a fixed order of importance when the screen is short (events first, the producer and the queue
last). Variants that do not fit even then are counted on one line instead of drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bpsim.events import ProducerState, Snapshot
from bpsim.i18n import t
from bpsim.render.dashboard import (
    Header,
    Trend,
    blocked_at,
    event_line,
    footer_line,
    growth,
    header_lines,
    producer_state,
    queue_count,
)
from bpsim.render.format import number, seconds
from bpsim.render.widgets import gauge, slots, spark, worker_glyphs
from bpsim.scenario import Scenario
from bpsim.variants import arrivals_follow_puts, open_or_after_put_alone, traffic_differences

if TYPE_CHECKING:
    from bpsim.render.live import Recent

__all__ = ["side_by_side", "varied_line", "MIN_COLUMN"]

MIN_COLUMN = 16
"""The narrowest column (border and padding included): 12 cells inside."""

_MIN_LINES = 6  # below this a column says too little: show fewer columns instead
_HEADER_ROWS = 2


def varied_line(scenarios: Sequence[Scenario], keys: Sequence[str]) -> str:
    """What differs between the columns, and whether their traffic is the same (common random numbers)."""
    varied = t("compare_live.varied", keys=", ".join(keys) if keys else t("compare_live.files"))
    differences = traffic_differences(scenarios)
    if differences and not open_or_after_put_alone(scenarios):
        return f"{varied} · {t('compare_live.different_traffic', keys=', '.join(differences))}"
    if arrivals_follow_puts(scenarios) is not None:  # known only at the end: whether a put will wait
        return f"{varied} · {t('compare_live.follow_puts', seed=scenarios[0].seed)}"
    return f"{varied} · {t('compare_live.same_traffic', seed=scenarios[0].seed)}"


def side_by_side(
    snapshots: Sequence[Snapshot],
    labels: Sequence[str],
    recents: Sequence[Recent],
    header: Header,
    varied: str,
    width: int = 80,
    height: int = 24,
) -> RenderableType:
    """One frame of every variant, at most `width` columns and `height` lines."""
    count = len(snapshots)
    most = max(1, min(count, width // MIN_COLUMN))
    last = footer_line(header)
    footer = last is not None and height > _HEADER_ROWS + _MIN_LINES + 3
    room = height - _HEADER_ROWS - footer
    # As many rows of columns as fit with a useful number of lines each; the rest are counted.
    rows = max(1, min(math.ceil(count / most), room // (_MIN_LINES + 2)))
    shown = min(count, rows * most)
    per_row = math.ceil(shown / rows)  # balanced rows: 5 variants are 3 + 2, not 4 + 1
    if shown < count:
        room -= 1
    lines = max(1, room // rows - 2)
    column_width = width // per_row
    trends = [recent.trend(header.shown_at) for recent in recents[:shown]]
    scales = _Scales(
        max([value for trend in trends for value in trend.p99 if value is not None] + [0.0]),
        max([lost for trend in trends for lost in _lost(trend)] + [0]),
        max([n for trend in trends for n in trend.retries] + [0]),
    )
    parts: list[RenderableType] = [header_lines(header, varied, width)]
    for start in range(0, shown, per_row):
        grid = Table.grid()
        for _ in range(min(per_row, shown - start)):
            grid.add_column(width=column_width, no_wrap=True)
        grid.add_row(
            *(
                _column(snapshots[index], labels[index], recents[index], trends[index], scales, header.shown_at, lines, column_width)
                for index in range(start, min(start + per_row, shown))
            )
        )
        parts.append(grid)
    if shown < count:
        parts.append(Text(t("compare_live.more", count=count - shown), style="bpsim.warn", no_wrap=True, overflow="ellipsis"))
    if last is not None and footer:
        parts.append(last)
    return Group(*parts)


@dataclass(frozen=True, slots=True)
class _Scales:
    """The tops of the trend lines, shared by every column so that their bars compare."""

    p99: float
    lost: float
    retries: float


def _column(
    snapshot: Snapshot, label: str, recent: Recent, trend: Trend, scales: _Scales, shown_at: float, rows: int, width: int
) -> Panel:
    inner = width - 4  # border and padding on each side
    lines = _fit(_lines(snapshot, trend, scales, shown_at, inner), rows)
    events = rows - len(lines)
    # Notable events only (the README says so): a column has room for few, and none to spare.
    lines += [event_line(line, ".2f") for line in recent.log.pick(events, routine=False)]
    lines += [Text("")] * (rows - len(lines))
    for line in lines:
        line.no_wrap = True
        line.overflow = "ellipsis"
    blocked = snapshot.producer is ProducerState.BLOCKED
    title = Text(label, style="bpsim.title")
    title.truncate(max(1, width - 6), overflow="ellipsis")
    return Panel(
        Group(*lines),
        title=title,
        title_align="left",
        border_style="bpsim.bad" if blocked else "bpsim.border",
        box=box.ROUNDED,
        padding=(0, 1),
        width=width,
        height=rows + 2,
    )


def _lines(snapshot: Snapshot, trend: Trend, scales: _Scales, shown_at: float, width: int) -> list[tuple[int, Text]]:
    """The column's lines, top to bottom, each with its rank: 1 is the last to give way."""
    counts = snapshot.counts
    badge, detail = producer_state(snapshot, shown_at)
    if snapshot.producer is not ProducerState.BLOCKED:
        detail = Text(t("dashboard.produced_count", count=number(counts.produced)), style="bpsim.muted")
    maxsize = snapshot.maxsize
    fill = gauge(snapshot.qsize, maxsize, width) if maxsize > 0 else growth(trend)
    flights = Text(t("dashboard.in_flight_count", count=snapshot.in_flight), style="bpsim.strong")
    if snapshot.concurrency is not None:
        flights = slots(snapshot.in_flight, snapshot.concurrency, max(1, width - 17))
        flights.append(" " + t("dashboard.in_flight_of", count=snapshot.in_flight, limit=snapshot.concurrency), style="bpsim.strong")
    latency = counts.handled > 0
    can_fail = snapshot.service is not None or snapshot.breaker is not None
    count = queue_count(snapshot)
    workers = worker_glyphs(snapshot.workers, max(1, width - Text(t("compare_live.workers")).cell_len - 1))
    lines: list[tuple[int, Text | None]] = [
        (1, _pair(t("dashboard.producer"), badge, width, room=badge.cell_len, bare=True)),
        (2, detail),
        (1, _pair(t("dashboard.queue"), count, width, room=count.cell_len, bare=True)),
        (2, fill),
        (5, _pair(t("compare_live.workers"), workers, width, room=workers.cell_len)),
        (3, _pair(t("dashboard.in_flight"), flights, width, room=4)),
        (1, _pair(t("outcome.short.handled"), _count(counts.handled, "bpsim.ok"), width, room=4)),
        (2, _pair(t("outcome.short.dropped"), _count(counts.dropped, "bpsim.warn"), width, room=4)),
        (4, _pair(t("outcome.short.timed_out"), _count(counts.timed_out, "bpsim.warn"), width, room=4)),
        # With a service behind the call (or a breaker in front of it) calls can fail.
        (2, _pair(t("outcome.short.failed"), _count(counts.failed, "bpsim.bad"), width, room=4) if can_fail else None),
        (6, _pair(t("dashboard.blocked"), Text(seconds(blocked_at(snapshot, shown_at))), width)),
        (4, _pair(f"{t('dashboard.latency')} p50", Text(seconds(snapshot.latency_p50) if latency else "-"), width, "p50")),
        (2, _pair(f"{t('dashboard.latency')} p99", Text(seconds(snapshot.latency_p99) if latency else "-", style="bpsim.strong"), width, "p99")),
        (3, _trend_line(t("compare_live.trend_p99"), list(trend.p99), scales.p99, "bpsim.bad", width)),
        (4, _trend_line(t("compare_live.trend_lost"), _lost(trend), scales.lost, "bpsim.warn", width)),
    ]
    return [(rank, line) for rank, line in lines + _client_lines(snapshot, trend, scales, width) if line is not None]


def _client_lines(snapshot: Snapshot, trend: Trend, scales: _Scales, width: int) -> list[tuple[int, Text | None]]:
    """Retries sent and their trend with `[retry]`, the breaker's state with `[breaker]`."""
    lines: list[tuple[int, Text | None]] = []
    if snapshot.retries is not None:
        lines.append((2, _pair(t("compare_live.retries"), _count(snapshot.retries, "bpsim.warn"), width, room=4)))
        lines.append((3, _trend_line(t("compare_live.trend_retries"), list(trend.retries), scales.retries, "bpsim.chart.retries", width)))
    if snapshot.breaker is not None:
        state = Text(t(f"dashboard.breaker_{snapshot.breaker.replace('-', '_')}"))
        state.stylize({"open": "bpsim.bad", "half-open": "bpsim.warn"}.get(snapshot.breaker, "bpsim.muted"))
        lines.append((3, _pair(t("dashboard.chart_breaker"), state, width, room=4)))
    return lines


def _lost(trend: Trend) -> list[int]:
    """Items lost in each slice: dropped, timed out or failed."""
    failed = list(trend.failed) + [0] * (len(trend.dropped) - len(trend.failed))
    return [d + o + f for d, o, f in zip(trend.dropped, trend.timed_out, failed)]


def _trend_line(label: str, values: Sequence[float | None], top: float, style: str, width: int) -> Text | None:
    """`p99 trend  ▁▂▅█▃`: the last slices that fit after the label, on the shared scale `top`."""
    room = width - Text(label).cell_len - 1
    if room < 4:
        return None
    row = spark(values[-room:], top)
    row.stylize(style)
    return _pair(label, row, width, room=4)


def _fit(ranked: list[tuple[int, Text]], rows: int) -> list[Text]:
    """The `rows` most important lines, in their own order."""
    keep = sorted(sorted(range(len(ranked)), key=lambda index: ranked[index][0])[:rows])
    return [ranked[index][1] for index in keep]


def _pair(label: str, value: Text, width: int, short: str | None = None, *, room: int = 6, bare: bool = False) -> Text | None:
    """`label      value` in exactly `width` cells, the value on the right.

    The label (or its `short` form) is shown if it leaves `room` cells for the value: a fixed
    number, so every column makes the same choice and rows stay aligned. Otherwise a `bare`
    value (one that speaks for itself, like `■ BLOCKED`) is shown alone and any other line is
    left out (None): a number without its name, or a cut name ("pro…"), says nothing.
    """
    fitting = [text for text in (label, short) if text is not None and Text(text).cell_len < width - room]
    if not fitting:
        if not bare:
            return None
        line = value.copy()
        line.truncate(width, overflow="ellipsis")
        line.align("right", width)
        return line
    line = Text(fitting[0], style="bpsim.strong")
    line.truncate(max(line.cell_len, width - value.cell_len - 1), pad=True)
    line.append(" ")
    line.append_text(value)
    line.truncate(width, overflow="ellipsis")
    return line


def _count(value: int, style: str) -> Text:
    return Text(number(value), style=style if value else "bpsim.muted")
