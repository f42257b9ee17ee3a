"""Small renderables the dashboard is built from: gauges, slots, bar charts, worker lines.

Each takes plain numbers and returns a `Text` (or lines of them) of a known width, so the
dashboard can lay them out without anything wrapping.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from bpsim.events import WorkerState
from bpsim.i18n import t

__all__ = ["fill_style", "gauge", "Gauge", "slots", "bars", "spark", "worker_line", "worker_glyphs", "WORKER_GLYPHS"]

_EIGHTHS = " ▁▂▃▄▅▆▇█"

WORKER_GLYPHS = {
    WorkerState.IDLE: ("○", "bpsim.muted"),
    WorkerState.WAITING: ("◐", "bpsim.warn.strong"),
    WorkerState.THROTTLED: ("◔", "bpsim.worker.throttled"),
    WorkerState.CALLING: ("●", "bpsim.ok.strong"),
    WorkerState.BACKING_OFF: ("◌", "bpsim.worker.backing_off"),
    # a stopped worker, not a failure: after a graceful shutdown every worker ends here
    WorkerState.EXITED: ("■", "bpsim.muted"),
}


def fill_style(value: int, limit: int) -> str:
    """Green while there is plenty of room, yellow from 60%, red when full."""
    if limit > 0 and value >= limit:
        return "bpsim.bad.strong"
    if limit > 0 and value >= 0.6 * limit:
        return "bpsim.warn"
    return "bpsim.ok"


def gauge(value: int, limit: int, width: int) -> Text:
    """A horizontal bar `width` cells wide, filled in proportion to value / limit (in eighths)."""
    width = max(width, 1)
    eighths = round(8 * width * min(value, limit) / limit) if limit > 0 else 0
    full, part = divmod(eighths, 8)
    bar = Text("█" * full, style=fill_style(value, limit))
    if part:
        bar.append(_EIGHTHS[part], style=fill_style(value, limit))
    bar.append("·" * (width - full - (1 if part else 0)), style="bpsim.muted")
    return bar


class Gauge:
    """A `gauge` as wide as the space it is given."""

    def __init__(self, value: int, limit: int) -> None:
        self.value = value
        self.limit = limit

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield gauge(self.value, self.limit, options.max_width)


def slots(used: int, limit: int, width: int) -> Text:
    """One ● per used slot and one ○ per free one (a semaphore's permits); a gauge if too many."""
    if limit > width:
        return gauge(used, limit, width)
    return Text("●" * used, style=fill_style(used, limit)) + Text("○" * (limit - used), style="bpsim.muted")


def bars(values: Sequence[int], top: int, height: int) -> list[Text]:
    """A bar chart `height` rows tall (top row first), one column per value; `top` fills it."""
    rows = []
    scale = 8 * height / top if top > 0 else 0.0
    levels = [round(value * scale) for value in values]
    for row in range(height - 1, -1, -1):
        base = 8 * row
        rows.append(Text("".join(_EIGHTHS[min(8, max(0, level - base))] for level in levels)))
    return rows


def spark(values: Sequence[float | None], top: float) -> Text:
    """One row of bars, one column per value, `top` filling it: unlike `bars`, any value above 0
    shows at least `▁` (one drop in a slice is seen), and None (nothing measured) stays blank."""
    cells = []
    for value in values:
        if value is None or value <= 0 or top <= 0:
            cells.append(" ")
        else:
            cells.append(_EIGHTHS[min(8, max(1, round(8 * value / top)))])
    return Text("".join(cells))


def worker_line(index: int, state: WorkerState) -> Text:
    """`● 0 calling`: a worker's glyph, number and what it is doing."""
    glyph, style = WORKER_GLYPHS[state]
    line = Text(f"{glyph} ", style=style)
    line.append(f"{index} ", style="bpsim.strong")
    line.append(t(f"dashboard.worker_{state.value}"), style=style if state is not WorkerState.IDLE else "bpsim.muted")
    return line


def worker_glyphs(states: Sequence[WorkerState], width: int) -> Text:
    """One glyph per worker (`●●◐○`), or `3/8 busy` when they do not fit in `width` cells."""
    if len(states) <= width:
        line = Text()
        for state in states:
            glyph, style = WORKER_GLYPHS[state]
            line.append(glyph, style=style)
        return line
    busy = sum(state not in (WorkerState.IDLE, WorkerState.EXITED) for state in states)
    return Text(t("dashboard.workers_busy", busy=busy, count=len(states)), style="bpsim.strong")
