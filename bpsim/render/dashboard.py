"""The live dashboard: one frame of a running pipeline, as a renderable that fits the screen.

`dashboard(snapshot, events, trend, header, width, height)` is pure: the same inputs draw the
same frame, which is what the golden tests and `--svg` rely on. Top to bottom:

    header     scenario, setup line, simulated time, speed, running / paused / finished
    pipeline   producer -> queue -> workers -> downstream, each a panel
    figures    the item ledger (with its check) beside a qsize / in-flight chart and latencies
    events     the last few events in plain words, shutdown events highlighted
    keys       what the keys do (only while it runs)

Everything is cut to `width` and `height`: when the screen is short, event lines go first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.cells import cell_len
from rich.text import Text

from bpsim.eventlog import ROUTINE, Entry, EventLog
from bpsim.events import (
    Counts,
    Event,
    ProducerState,
    ServiceState,
    Snapshot,
    WorkerState,
)
from bpsim.i18n import language, t
from bpsim.outcomes import OUTCOMES, UNFINISHED
from bpsim.render.format import fit, number, seconds
from bpsim.render.summary import reason_parts, setup_line
from bpsim.render.trace import describe, describe_entry, is_shutdown_event
from bpsim.render.widgets import WORKER_GLYPHS, Gauge, bars, slots, spark, worker_line
from bpsim.scenario import Policy, Scenario

__all__ = [
    "Header",
    "Trend",
    "dashboard",
    "header_lines",
    "footer_line",
    "lesson_lines",
    "blocked_at",
    "producer_state",
    "queue_count",
    "growth",
    "event_line",
    "ledger_rows",
    "speed_label",
]

Status = Literal["running", "paused", "finished", "stopped"]

_FIXED_ROWS = 2 + 2 + 1  # header, panel borders, events rule; the figures are as tall as the ledger
_PANEL_ROWS = 4  # the fewest lines inside a pipeline panel
_MAX_WORKER_ROWS = 10


@dataclass(frozen=True, slots=True)
class Header:
    """What the dashboard shows besides the snapshot: the scenario and the state of the run."""

    scenario: Scenario
    shown_at: float
    """The simulated time to show (between two events it moves on with the wall clock)."""
    expected: float | None
    """About how long the scenario runs, in simulated seconds; None if unknown."""
    status: Status
    speed: float | None = None
    """Simulated seconds per wall second; None is "max"."""
    behind: float = 0.0
    """Wall seconds the clock is behind its schedule."""
    controls: bool = True
    """Show the speed, lag and key help (off for exports: they do not depend on the keyboard)."""
    title: str | None = None
    """Shown instead of the scenario's name and description (several scenarios side by side)."""
    hint: str | None = None
    """A line in place of the key help when there are no keys to show (`press any key for the summary`)."""
    lesson: str | None = None
    """One line under the header: what to watch, or the moment of the lesson just reached."""
    flash: bool = False
    """Highlight the lesson line: a moment has just come."""


@dataclass(frozen=True, slots=True)
class Trend:
    """qsize and in-flight per bin of simulated time, oldest first: the chart's data."""

    seconds_per_bin: float
    qsize: Sequence[int]
    in_flight: Sequence[int]
    handled: Sequence[int] = ()
    """Items handled in each bin."""
    late: Sequence[int] = ()
    """Of those, the ones slower than the scenario's slo."""
    failed: Sequence[int] = ()
    """Items whose call the service failed, in each bin (with a service modelled)."""
    first_attempts: Sequence[int] = ()
    """Calls made in each bin that were an item's first (with `[retry]`)."""
    retries: Sequence[int] = ()
    """Calls made in each bin that were retries (with `[retry]`)."""
    breaker: Sequence[int] = ()
    """The circuit breaker's worst state in each bin, as `history.BREAKER_LEVELS` (with `[breaker]`)."""
    limit: Sequence[int] = ()
    """An adaptive concurrency limit's size in each bin (empty without one)."""
    dropped: Sequence[int] = ()
    """Items dropped in each bin (any reason)."""
    timed_out: Sequence[int] = ()
    """Items timed out in each bin (in queue.put() or in the call)."""
    p99: Sequence[float | None] = ()
    """The p99 latency of the items handled in each bin; None for a bin where none was."""


def speed_label(speed: float | None) -> str:
    """`speed ×10`, or `speed max` (None: as fast as it goes), as a live header shows it."""
    return t("dashboard.speed_max") if speed is None else t("dashboard.speed", speed=number(speed))


def dashboard(
    snapshot: Snapshot,
    log: EventLog,
    trend: Trend,
    header: Header,
    width: int = 80,
    height: int = 24,
) -> RenderableType:
    """One frame, at most `width` columns and `height` lines."""
    workers = len(snapshot.workers)
    ledger = ledger_rows(snapshot.counts, header.scenario)
    # The figures are as tall as the taller of the ledger (its rows, produced, the check) and the chart.
    fixed = _FIXED_ROWS + max(len(ledger) + 2, _chart_rows(snapshot, trend, header.scenario))
    lesson = lesson_lines(header.lesson, header.flash, width) if header.lesson is not None else []
    fixed += len(lesson)  # the lesson's lines under the header
    panel_rows = max(_PANEL_ROWS, min(workers, _MAX_WORKER_ROWS, (height - fixed - 4) // 2))
    last = footer_line(header)
    footer = last is not None and height > fixed + panel_rows + 1  # the key help goes last
    log_rows = max(0, height - fixed - panel_rows - footer)
    parts: list[RenderableType] = [
        _header(header, width),
        *lesson,
        _pipeline(snapshot, trend, header, panel_rows, width),
        _figures(snapshot, ledger, trend, width, header),
    ]
    if log_rows:
        parts.append(_event_log(log, log_rows, width))
    if last is not None and footer:
        parts.append(last)
    return Group(*parts)


def lesson_lines(lesson: str, flash: bool, width: int, most: int = 2) -> list[Text]:
    """`▸ Watch the queue gauge during the burst …`, wrapped at spaces into at most `most` lines
    of `width` cells (the last one cut after a whole word, with …); highlighted when a moment has
    just come."""
    lines = [""]
    for word in ["▸", *lesson.split()]:
        joined = f"{lines[-1]} {word}" if lines[-1] else word
        if cell_len(joined) <= width or len(lines) == most or not lines[-1].strip():
            lines[-1] = joined
        else:
            lines.append(f"  {word}")
    text = lines[-1].lstrip(" ")
    indent = lines[-1][: len(lines[-1]) - len(text)]
    lines[-1] = indent + fit(text, width - len(indent))
    style = "bpsim.flash" if flash else "bpsim.info.strong"
    return [Text(line, style=style, no_wrap=True, overflow="ellipsis") for line in lines]


def footer_line(header: Header) -> Text | None:
    """The last line: the key help while the run can be controlled, else the header's hint, if any."""
    if header.controls:
        return Text(t("dashboard.keys"), style="bpsim.muted", no_wrap=True, overflow="ellipsis")
    if header.hint is not None:
        return Text(header.hint, style="bpsim.warn.strong", no_wrap=True, overflow="ellipsis")
    return None


# -- header --------------------------------------------------------------------------------------


def _header(header: Header, width: int) -> RenderableType:
    return header_lines(header, setup_line(header.scenario), width)


def header_lines(header: Header, subtitle: str, width: int) -> RenderableType:
    """Two lines, `width` cells wide: the title with the clock, speed and status on its right,
    then a dim `subtitle`."""
    if header.title is not None:
        name, description = header.title, None
    else:
        words = header.scenario.words(language())
        name, description = words.name or "", words.description
    clock = Text(t("dashboard.time", now=seconds(header.shown_at)), style="bpsim.strong")
    if header.expected is not None and header.shown_at < header.expected:
        clock.append(t("dashboard.time_of", total=seconds(header.expected)))
    right = Text.assemble(clock, "  ")
    if header.controls:
        right.append(speed_label(header.speed) + "  ")
        if header.behind > 0.25:
            right.append(t("dashboard.behind", seconds=seconds(header.behind)) + "  ", style="bpsim.warn")
    right.append_text(_status(header.status))
    # Fitted here, beside the clock, at a word: Rich's ellipsis would cut inside one.
    title = Text(fit(f"{name} — {description}" if description else name, width - right.cell_len - 1))
    title.stylize("bpsim.title", 0, len(name))
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    grid.add_column(no_wrap=True, justify="right")
    grid.add_row(title, right)
    return Group(grid, Text(subtitle, style="bpsim.muted", no_wrap=True, overflow="ellipsis"))


def _status(status: Status) -> Text:
    styles = {"running": "bpsim.ok.strong", "paused": "bpsim.flash", "finished": "bpsim.strong", "stopped": "bpsim.bad.strong"}
    return Text(t(f"dashboard.status_{status}"), style=styles[status])


# -- pipeline --------------------------------------------------------------------------------------


_PANEL_WIDTHS = (18, 20, 20, 16)  # producer, queue, workers, downstream: all fits at 80 columns
_ARROW = 2


def _pipeline(snapshot: Snapshot, trend: Trend, header: Header, rows: int, width: int) -> RenderableType:
    grid = Table.grid()
    arrow = Text("\n" * (rows // 2 + 1) + "━▶", style="bpsim.strong")
    # Wider screens share the extra columns: the queue gauge gets half, the others the rest.
    extra = max(0, width - sum(_PANEL_WIDTHS) - 3 * _ARROW)
    shares = (extra // 6, extra - 3 * (extra // 6), extra // 6, extra // 6)
    for index, (panel_width, share) in enumerate(zip(_PANEL_WIDTHS, shares)):
        if index:
            grid.add_column(width=_ARROW, no_wrap=True)
        grid.add_column(width=panel_width + share, no_wrap=True)
    grid.add_row(
        _producer(snapshot, header.shown_at, rows),
        arrow,
        _queue(snapshot, trend, header.scenario, rows),
        arrow,
        _workers(snapshot.workers, rows),
        arrow,
        _downstream(snapshot, trend, rows),
    )
    return grid


def _panel(shown: Sequence[RenderableType], rows: int, title: str, style: str = "") -> Panel:
    lines = [*shown[:rows], *[Text("")] * (rows - len(shown))]
    for line in lines:
        if isinstance(line, Text):
            line.no_wrap = True
            line.overflow = "ellipsis"
    return Panel(
        Group(*lines),
        title=Text(title, style="bpsim.title"),
        title_align="left",
        border_style=style or "bpsim.border",
        box=box.ROUNDED,
        padding=(0, 1),
        height=rows + 2,
    )


def producer_state(snapshot: Snapshot, shown_at: float) -> tuple[Text, Text]:
    """The producer's state as a badge (BLOCKED on red) and a detail line (how far behind, ...)."""
    state = snapshot.producer
    if state is ProducerState.BLOCKED:
        # Still blocked at the time shown, so still falling behind since the snapshot was taken.
        lag = snapshot.producer_lag + max(0.0, shown_at - snapshot.now)
        return (
            Text(t("dashboard.producer_blocked"), style="bpsim.alarm"),
            Text(t("dashboard.producer_behind", seconds=seconds(lag)), style="bpsim.bad.strong"),
        )
    if state is ProducerState.WAITING:
        return Text(t("dashboard.producer_producing"), style="bpsim.ok.strong"), Text(t("dashboard.on_schedule"))
    if state is ProducerState.DONE:
        return Text(t("dashboard.producer_done"), style="bpsim.strong"), Text("")
    return Text(t("dashboard.producer_stopped"), style="bpsim.shutdown.strong"), Text("QueueShutDown")


def _producer(snapshot: Snapshot, shown_at: float, rows: int) -> Panel:
    produced = Text(t("dashboard.produced_count", count=number(snapshot.counts.produced)))
    badge, detail = producer_state(snapshot, shown_at)
    if snapshot.producer is ProducerState.BLOCKED:
        lines = [badge, Text(t("dashboard.producer_in_put")), detail, produced]
        return _panel(lines, rows, t("dashboard.producer"), "bpsim.bad")
    return _panel([badge, detail, produced], rows, t("dashboard.producer"))


def _queue(snapshot: Snapshot, trend: Trend, scenario: Scenario, rows: int) -> Panel:
    qsize, maxsize = snapshot.qsize, snapshot.maxsize
    title = t("dashboard.queue")
    style = "bpsim.bad" if 0 < maxsize <= qsize else ""
    count = queue_count(snapshot)
    lines: list[RenderableType] = [Gauge(qsize, maxsize), count] if maxsize > 0 else [count, growth(trend)]
    discipline = scenario.queue.discipline
    kind = scenario.queue.policy.value if discipline == "fifo" else f"{scenario.queue.policy.value} · {discipline}"
    lines.append(Text(kind, style="bpsim.info.strong"))
    lines.append(Text(t("dashboard.queue_max", max=snapshot.max_qsize), style="bpsim.muted"))
    if snapshot.shutdown is not None:
        # The most important line once it happens: it replaces the last one if there is no room.
        lines.insert(rows - 1, Text(t(f"dashboard.shutdown_{snapshot.shutdown}"), style="bpsim.shutdown.strong"))
        style = "bpsim.shutdown"
    return _panel(lines, rows, title, style)


def queue_count(snapshot: Snapshot) -> Text:
    """`7 / 12`, `12 / 12 FULL` (on red) or `40 · unbounded`."""
    qsize, maxsize = snapshot.qsize, snapshot.maxsize
    if maxsize == 0:
        return Text(t("dashboard.qsize_unbounded", qsize=qsize), style="bpsim.strong")
    count = Text(t("dashboard.qsize_of", qsize=qsize, maxsize=maxsize), style="bpsim.strong")
    if qsize >= maxsize:
        count.append(" ")
        count.append(t("dashboard.full"), style="bpsim.alarm")
    return count


def growth(trend: Trend) -> Text:
    """For an unbounded queue: how fast it grew over the last few bins of the chart."""
    window = min(len(trend.qsize) - 1, 8)
    rate = (trend.qsize[-1] - trend.qsize[-1 - window]) / (window * trend.seconds_per_bin) if window else 0.0
    if rate > 0:
        return Text(t("dashboard.growing", rate=number(round(rate, 1))), style="bpsim.bad.strong")
    if rate < 0:
        return Text(t("dashboard.shrinking", rate=number(round(-rate, 1))), style="bpsim.ok")
    return Text(t("dashboard.steady"), style="bpsim.muted")


# Worker states listed (with their count) only while some worker is in them: the others always are.
_OCCASIONAL = (WorkerState.THROTTLED, WorkerState.BACKING_OFF, WorkerState.EXITED)


def _workers(states: Sequence[WorkerState], rows: int) -> Panel:
    title = t("dashboard.workers", count=len(states))
    if len(states) <= rows:
        return _panel([worker_line(index, state) for index, state in enumerate(states)], rows, title)
    lines = []
    for state in WorkerState:  # too many to list: count them by state
        glyph, style = WORKER_GLYPHS[state]
        if state not in _OCCASIONAL or state in states:
            # `○×5 idle`, not `○ 5 idle`: in the list of workers one by one, that is worker 5
            lines.append(Text(f"{glyph}×{states.count(state)} {t(f'dashboard.worker_{state.value}')}", style=style))
    return _panel(lines, rows, title)


def _downstream(snapshot: Snapshot, trend: Trend, rows: int) -> Panel:
    if snapshot.service is not None:
        return _service(snapshot.service, snapshot, trend, rows)
    limit = snapshot.concurrency
    in_flight = snapshot.in_flight
    if limit is None:
        lines = [
            Text(t("dashboard.in_flight_count", count=in_flight), style="bpsim.strong"),
            Text(t("dashboard.in_flight")),
            Text(t("dashboard.no_limit"), style="bpsim.muted"),
        ]
    else:
        used = slots(in_flight, limit, 10)
        used.append(" " + t("dashboard.in_flight_of", count=in_flight, limit=limit), style="bpsim.strong")
        kind = t(f"dashboard.adaptive_limit_{snapshot.adaptive}", limit=limit) if snapshot.adaptive else f"Semaphore({limit})"
        lines = [used, Text(t("dashboard.in_flight")), Text(kind, style="bpsim.muted")]
    return _panel(lines, rows, t("dashboard.downstream"))


def _service(service: ServiceState, snapshot: Snapshot, trend: Trend, rows: int) -> Panel:
    """The service's side of the call: in service / capacity, the queue inside it the client
    cannot see, the work done for clients that left, failures per second, and the client's calls."""
    capacity = service.capacity
    if capacity is None:
        serving = Text(t("dashboard.service_serving", count=service.in_service), style="bpsim.strong")
    else:
        style = "bpsim.bad.strong" if service.in_service >= capacity else "bpsim.strong"
        serving = Text(t("dashboard.service_serving_of", count=service.in_service, capacity=capacity), style=style)
    waiting = Text(t("dashboard.service_waiting", count=service.waiting), style="bpsim.bad.strong" if service.waiting else "bpsim.muted")
    wasted = Text(
        t("dashboard.service_wasted", seconds=short_seconds(service.wasted_seconds)),
        style="bpsim.warn.strong" if service.wasted_seconds else "bpsim.muted",
    )
    if service.outage is not None:
        failures = Text(t("dashboard.service_outage", mode=service.outage), style="bpsim.alarm")
    else:
        rate = recent_rate(trend.failed, trend.seconds_per_bin)
        failures = Text(t("dashboard.service_failed", rate=number(round(rate, 1))), style="bpsim.bad.strong" if rate else "bpsim.muted")
    limit = snapshot.concurrency
    calls = t("dashboard.in_flight_of", count=snapshot.in_flight, limit=limit) if limit else str(snapshot.in_flight)
    client = Text(f"{calls} {t('dashboard.in_flight')}", style="bpsim.muted")
    return _panel([serving, waiting, wasted, failures, client], rows, t("dashboard.downstream"), "bpsim.bad" if service.outage else "")


def short_seconds(value: float) -> str:
    """`0.4 s`, `84 s`, `3 m 20 s`: seconds in a narrow box."""
    if value < 10:
        return f"{value:.1f} s"
    return f"{value:.0f} s" if value < 100 else seconds(value)


def recent_rate(counts: Sequence[int], seconds_per_bin: float, window: int = 8) -> float:
    """Per second over the last `window` bins (fewer at the start): e.g. failures per second."""
    recent = counts[-window:]
    return sum(recent) / (len(recent) * seconds_per_bin) if recent else 0.0


# -- figures: ledger, chart, latency ---------------------------------------------------------------


_LedgerRow = tuple[str, int, str, str]


def _figures(snapshot: Snapshot, ledger: list[_LedgerRow], trend: Trend, width: int, header: Header) -> RenderableType:
    grid = Table.grid(expand=True, padding=(0, 2))
    grid.add_column(width=34, no_wrap=True)
    grid.add_column(ratio=1, no_wrap=True)
    grid.add_row(_ledger(ledger, snapshot.counts), _chart(snapshot, trend, max(10, width - 36), header))
    return grid


_TONES = {"good": "bpsim.ok", "loss": "bpsim.warn", "shutdown": "bpsim.shutdown"}


def ledger_rows(counts: Counts, scenario: Scenario) -> list[_LedgerRow]:
    """(label, count, detail, style): the summary's rows in short words, and unfinished, always."""
    rows = [
        (t(outcome.short_words), counts.of(outcome), reason_parts(counts, outcome), _TONES[outcome.tone])
        for outcome in OUTCOMES
        if outcome.listed(counts, scenario)
    ]
    rows.append((t(f"outcome.short.{UNFINISHED}"), counts.unfinished, "", "bpsim.info"))
    return rows


def _ledger(rows: list[_LedgerRow], counts: Counts) -> RenderableType:
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(justify="right", min_width=6, no_wrap=True)
    table.add_column(style="bpsim.muted", no_wrap=True, overflow="ellipsis", max_width=14)
    table.add_row(Text(t("outcome.label.produced"), style="bpsim.strong"), Text(number(counts.produced), style="bpsim.strong"), "")
    for label, value, detail, style in rows:
        table.add_row(f"  {label}", Text(number(value), style=style if value else "bpsim.muted"), detail)
    total = counts.finished + counts.unfinished
    ok = total == counts.produced
    check = Text(
        t("dashboard.check_ok" if ok else "dashboard.check_bad", total=number(total), produced=number(counts.produced)),
        style="bpsim.ok" if ok else "bpsim.bad.strong",
        no_wrap=True,
        overflow="ellipsis",
    )
    return Group(table, check)


def _chart(snapshot: Snapshot, trend: Trend, width: int, header: Header) -> RenderableType:
    scenario = header.scenario
    label_width = 11
    columns = max(4, min(len(trend.qsize), width - label_width - 8))
    qsizes = list(trend.qsize[-columns:])
    flights = list(trend.in_flight[-columns:])
    q_top = snapshot.maxsize or max(qsizes + [snapshot.max_qsize, 1])
    limits = list(trend.limit[-columns:])
    # An adaptive limit shares in-flight's scale, so the two rows can be read against each other.
    f_top = max(limits + flights + [1]) if limits else snapshot.concurrency or max(flights + [1])
    table = Table.grid(padding=(0, 1))
    table.add_column(width=label_width - 1, no_wrap=True, overflow="ellipsis")
    table.add_column(width=columns, no_wrap=True)
    table.add_column(no_wrap=True, style="bpsim.muted")
    q_rows = bars(qsizes, q_top, 2)
    q_rows[0].stylize("bpsim.chart.queue")
    q_rows[1].stylize("bpsim.chart.queue")
    table.add_row(Text(t("dashboard.chart_qsize"), style="bpsim.strong"), q_rows[0], str(q_top))
    table.add_row("", q_rows[1], "0")
    f_row = bars(flights, f_top, 1)[0]
    f_row.stylize("bpsim.chart.in_flight")
    table.add_row(Text(t("dashboard.chart_in_flight"), style="bpsim.strong"), f_row, str(f_top))
    if limits:
        l_row = bars(limits, f_top, 1)[0]
        l_row.stylize("bpsim.chart.limit")
        table.add_row(Text(t("dashboard.chart_limit"), style="bpsim.strong"), l_row, str(f_top))
    if snapshot.service is not None:
        _answer_rows(table, trend, columns)
    if snapshot.retries is not None:
        _retry_rows(table, trend, columns)
    if snapshot.breaker is not None:
        _breaker_row(table, trend, columns, snapshot.breaker)
    losses = loss_kinds(scenario, trend)
    if losses:
        _loss_row(table, trend, columns, losses)
    _p99_row(table, trend, columns)
    span = Text(" " * label_width + t("dashboard.chart_span", seconds=seconds(columns * trend.seconds_per_bin)), style="bpsim.muted")
    latency = Text(t("dashboard.latency"), style="bpsim.strong")
    if snapshot.counts.handled:
        for name, value in (("p50", snapshot.latency_p50), ("p95", snapshot.latency_p95), ("p99", snapshot.latency_p99)):
            latency.append(f"  {name} ", style="bpsim.muted")
            latency.append(seconds(value))
    else:
        latency.append("  -", style="bpsim.muted")
    blocked = Text(t("dashboard.blocked"), style="bpsim.strong")
    ended = header.status in ("finished", "stopped")
    blocked.append("  " + t("dashboard.blocked_total" if ended else "dashboard.blocked_value", seconds=seconds(blocked_at(snapshot, header.shown_at))))
    # With an slo, goodput beside throughput: how much of the work counts.
    lines = [span, *([] if scenario.slo is None else [_rates(snapshot, scenario.slo)]), latency, blocked]
    for line in lines:
        line.no_wrap = True
        line.overflow = "ellipsis"
    return Group(table, *lines)


def _extra_chart_rows(snapshot: Snapshot, trend: Trend, scenario: Scenario) -> int:
    """The chart rows beyond qsize and in-flight: the service's answers (2), the retries against
    the first attempts (2), the breaker's state (1), the items lost (1, if they can be) and p99 (1)."""
    rows = 2 * (snapshot.service is not None) + 2 * (snapshot.retries is not None) + (snapshot.breaker is not None)
    return rows + bool(loss_kinds(scenario, trend)) + 1


def blocked_at(snapshot: Snapshot, shown_at: float | None) -> float:
    """The producer's time blocked in queue.put() at the time shown, counting a put still waiting:
    it moves on with the clock, like `… behind` in the producer's box."""
    if shown_at is not None and snapshot.producer is ProducerState.BLOCKED:
        return snapshot.blocked_seconds + max(0.0, shown_at - snapshot.now)
    return snapshot.blocked_seconds


def _chart_rows(snapshot: Snapshot, trend: Trend, scenario: Scenario) -> int:
    """The lines `_chart` draws: qsize (2), in-flight and an adaptive limit, the extra rows (the
    service's, the retries', the breaker's, losses and p99), then the span, the rates line (with
    an slo), latency and blocked."""
    return 3 + bool(trend.limit) + _extra_chart_rows(snapshot, trend, scenario) + 3 + (scenario.slo is not None)


def loss_kinds(scenario: Scenario, trend: Trend) -> tuple[str, ...]:
    """What the chart's loss row counts: "dropped" if the scenario can drop items (a dropping
    policy, max_age, CoDel), "timed_out" if they can time out (put_timeout, a call timeout), or
    whichever already happened. Decided by the scenario, so the frame's layout does not jump."""
    queue = scenario.queue
    can_drop = queue.policy is not Policy.BLOCK or queue.max_age is not None or queue.discipline == "codel"
    can_time_out = queue.put_timeout is not None or scenario.downstream.timeout is not None
    kinds = []
    if can_drop or any(trend.dropped):
        kinds.append("dropped")
    if can_time_out or any(trend.timed_out):
        kinds.append("timed_out")
    return tuple(kinds)


def _loss_row(table: Table, trend: Trend, columns: int, kinds: tuple[str, ...]) -> None:
    """Items dropped and timed out per slice: when the losses came, and how many per second."""
    length = len(trend.qsize[-columns:])
    dropped = _aligned(trend.dropped, length) if "dropped" in kinds else [0] * length
    timed_out = _aligned(trend.timed_out, length) if "timed_out" in kinds else [0] * length
    lost = [d + o for d, o in zip(dropped, timed_out)]
    top = max(lost, default=0)
    row = spark(lost, top)
    row.stylize("bpsim.warn")
    label = t("dashboard.chart_lost") if len(kinds) == 2 else t(f"dashboard.chart_{kinds[0]}")
    table.add_row(Text(label, style="bpsim.strong"), row, number(round(top / trend.seconds_per_bin, 1)))


def _p99_row(table: Table, trend: Trend, columns: int) -> None:
    """The p99 latency of the items handled in each slice (blank where none was): the summary's
    one p99 says how bad it got, this row says when."""
    length = len(trend.qsize[-columns:])
    recent: list[float | None] = list(trend.p99[-length:]) if length else []
    p99s = [None] * (length - len(recent)) + recent
    top = max([value for value in p99s if value is not None] + [0.0])
    row = spark(p99s, top)
    row.stylize("bpsim.bad")
    table.add_row(Text(t("dashboard.chart_p99"), style="bpsim.strong"), row, seconds(top) if top else "-")


def _rates(snapshot: Snapshot, slo: float) -> Text:
    """`throughput 9.2/s  goodput 8.1/s ≤ 500 ms`: handled items per second, and those on time."""
    elapsed = snapshot.now
    counts = snapshot.counts
    throughput = counts.handled / elapsed if elapsed > 0 else 0.0
    goodput = (counts.handled_on_time or 0) / elapsed if elapsed > 0 else 0.0
    line = Text(t("dashboard.throughput"), style="bpsim.strong")
    line.append("  " + t("dashboard.rate", rate=number(throughput)))
    line.append("  " + t("dashboard.goodput"), style="bpsim.strong")
    line.append("  " + t("dashboard.goodput_value", rate=number(goodput), slo=seconds(slo)))
    return line


def _answer_rows(table: Table, trend: Trend, columns: int) -> None:
    """Throughput against goodput: answers per second (handled or failed) and the good ones
    (handled, and on time if there is an slo), on one scale: the gap between the rows is the
    failures and the late answers."""
    handled = list(trend.handled[-columns:])
    failed = _aligned(trend.failed, len(handled))
    late = _aligned(trend.late, len(handled))
    answers = [h + f for h, f in zip(handled, failed)]
    good = [h - lost for h, lost in zip(handled, late)]
    per_second = 1 / trend.seconds_per_bin
    top = max(answers + [1])
    a_row = bars(answers, top, 1)[0]
    a_row.stylize("bpsim.chart.answers")
    g_row = bars(good, top, 1)[0]
    g_row.stylize("bpsim.chart.good")
    label = number(round(top * per_second, 1))
    table.add_row(Text(t("dashboard.chart_answers"), style="bpsim.strong"), a_row, label)
    table.add_row(Text(t("dashboard.chart_good"), style="bpsim.strong"), g_row, label)


def _aligned(counts: Sequence[int], length: int) -> list[int]:
    """The last `length` of `counts`, zeros in front where it is shorter (it began later)."""
    tail = list(counts[-length:]) if length else []
    return [0] * (length - len(tail)) + tail


def _retry_rows(table: Table, trend: Trend, columns: int) -> None:
    """First attempts per second against retries per second, on one scale: a retry storm is the
    second row outgrowing the first."""
    length = len(trend.qsize[-columns:])  # the chart's width so far: the rows line up with qsize's
    first, retries = _aligned(trend.first_attempts, length), _aligned(trend.retries, length)
    top = max(first + retries + [1])
    label = number(round(top / trend.seconds_per_bin, 1))
    f_row = bars(first, top, 1)[0]
    f_row.stylize("bpsim.chart.first_attempts")
    r_row = bars(retries, top, 1)[0]
    r_row.stylize("bpsim.chart.retries")
    table.add_row(Text(t("dashboard.chart_first_attempts"), style="bpsim.strong"), f_row, label)
    table.add_row(Text(t("dashboard.chart_retries"), style="bpsim.strong"), r_row, label)


_BREAKER_GLYPHS = ((" ", ""), ("▄", "bpsim.warn"), ("█", "bpsim.bad"))  # closed, half-open, open


def _breaker_row(table: Table, trend: Trend, columns: int, state: str) -> None:
    """The circuit breaker over time: blank while closed, half a block half-open, a block open."""
    row = Text()
    for level in _aligned(trend.breaker, len(trend.qsize[-columns:])):
        glyph, style = _BREAKER_GLYPHS[level]
        row.append(glyph, style=style)
    style = {"open": "bpsim.bad.strong", "half-open": "bpsim.warn.strong"}.get(state, "bpsim.muted")
    table.add_row(Text(t("dashboard.chart_breaker"), style="bpsim.strong"), row, Text(t(f"dashboard.breaker_{state.replace('-', '_')}"), style=style))


# -- event log -------------------------------------------------------------------------------------


def _event_log(log: EventLog, rows: int, width: int) -> RenderableType:
    lines: list[RenderableType] = [Text(t("dashboard.events"), style="bpsim.title", no_wrap=True)]
    lines += [event_line(line) for line in log.pick(rows - 1)]
    return Group(*lines)


def event_line(line: Entry | Event, time_format: str = "9.3f") -> Text:
    """`    4.250  <what happened>`: shutdown events highlighted, the routine steps dimmed; never
    wraps. A log entry of many events shows when the first happened."""
    event = line.first if isinstance(line, Entry) else line
    words = describe_entry(line) if isinstance(line, Entry) else describe(line)
    style = "bpsim.shutdown.strong" if is_shutdown_event(event) else "bpsim.muted" if isinstance(event, ROUTINE) else ""
    # The time alone is dim: a style given to Text() would be the base of every span after it.
    text = Text.assemble((f"{event.at:{time_format}}  ", "bpsim.muted"), (words, style))
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text
