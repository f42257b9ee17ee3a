"""What bpsim saw in a user's program (`bpsim run FILE.py`): the live dashboard and the summary.

Both draw a `ProgramSnapshot` of the probes: one gauge per queue (qsize / maxsize, putters
blocked, getters waiting), one per semaphore (held / size, waiters), the tasks by state and the
timeouts fired; after the run, per queue and per semaphore what happened in all.
"""

from __future__ import annotations

from typing import Literal

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bpsim.i18n import t
from bpsim.probes import ProgramSnapshot, QueueStats, SemaphoreStats, TaskCounts
from bpsim.render.format import number, seconds
from bpsim.render.widgets import fill_style, gauge, slots

__all__ = ["program_dashboard", "program_summary"]

Status = Literal["running", "paused", "finished", "stopped", "interrupted"]

_NAME = 16  # cells for an object's name; longer names end in …
_GAUGE = 18
_COUNT = 14

_TASK_GLYPHS = {
    "running": ("●", "bpsim.ok.strong"),
    "waiting": ("◐", "bpsim.warn.strong"),
    "done": ("✓", "bpsim.strong"),
    "cancelled": ("✕", "bpsim.shutdown.strong"),
    "failed": ("✗", "bpsim.bad.strong"),
}


def program_dashboard(
    snapshot: ProgramSnapshot, program: str, status: Status = "running", width: int = 80, height: int = 24, speed: str | None = None
) -> RenderableType:
    """One frame, `width` columns wide and at most `height` lines: the title line (with `speed`,
    the live view's `speed ×10`, if given), a panel of queues, one of semaphores (each only if the
    program has one), the tasks and the timeouts."""
    parts: list[RenderableType] = [_title(program, snapshot.time, status, speed)]
    # Lines left for the panels' rows: title, tasks, timeouts, and each panel's two borders.
    panels = [kind for kind, rows in (("queues", snapshot.queues), ("semaphores", snapshot.semaphores)) if rows]
    room = max(1, height - 3 - 2 * len(panels))
    if "queues" in panels:
        rows = _fitted([_queue_row(queue) for queue in snapshot.queues], room // len(panels))
        parts.append(_panel(rows, t("probes.queues")))
        room -= len(rows)
    if "semaphores" in panels:
        parts.append(_panel(_fitted([_semaphore_row(semaphore) for semaphore in snapshot.semaphores], room), t("probes.semaphores")))
    if not panels:
        parts.append(Text(t("probes.nothing"), style="bpsim.muted"))
    parts.append(_tasks_line(snapshot.tasks))
    parts.append(_timeouts_line(snapshot))
    return Group(*parts)


def _title(program: str, time: float, status: Status, speed: str | None) -> Table:
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    grid.add_column(no_wrap=True, justify="right")
    right = Text(t("dashboard.time", now=seconds(time)) + "  ", style="bpsim.strong")
    if speed is not None:
        right.append(speed + "  ", style="")
    styles = {"running": "bpsim.ok.strong", "paused": "bpsim.warn.strong", "interrupted": "bpsim.bad.strong"}
    right.append(t(f"probes.status_{status}"), style=styles.get(status, "bpsim.strong"))
    grid.add_row(Text(program, style="bpsim.title"), right)
    return grid


def _fitted(rows: list[Text], room: int) -> list[Text]:
    """`rows`, or as many as fit in `room` lines with `… 3 more` as the last one."""
    if len(rows) <= room:
        return rows
    shown = max(room - 1, 0)
    return [*rows[:shown], Text(t("probes.more", count=len(rows) - shown), style="bpsim.muted")]


def _panel(rows: list[Text], title: str) -> Panel:
    return Panel(
        Group(*rows),
        title=Text(title, style="bpsim.title"),
        title_align="left",
        border_style="bpsim.border",
        box=box.ROUNDED,
        padding=(0, 1),
    )


def _name(name: str) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(name, style="bpsim.info.strong")
    text.truncate(_NAME, overflow="ellipsis", pad=True)
    return text


def _queue_row(queue: QueueStats) -> Text:
    """`queue            ██████████████████ 2 / 2 FULL     1 in put() · 0 in get()`"""
    row = _name(queue.name)
    row.append(" ")
    if queue.maxsize > 0:
        row.append_text(gauge(queue.qsize, queue.maxsize, _GAUGE))
        count = Text(t("probes.qsize_of", qsize=queue.qsize, maxsize=queue.maxsize), style="bpsim.strong")
        if queue.qsize >= queue.maxsize:
            count.append(" ")
            count.append(t("probes.full"), style="bpsim.alarm")
    else:
        # No limit to fill: the gauge is scaled to the most the queue has held so far, in the
        # queue's neutral colour (a full bar here is no alarm).
        bar = gauge(queue.qsize, max(queue.max_qsize, 1), _GAUGE)
        bar.stylize("bpsim.chart.queue")
        row.append_text(bar)
        count = Text(t("probes.qsize_unbounded", qsize=queue.qsize), style="bpsim.strong")
    count.truncate(_COUNT, pad=True)
    row.append(" ")
    row.append_text(count)
    row.append(" ")
    row.append(t("probes.putters", count=queue.blocked_putters), style="bpsim.bad.strong" if queue.blocked_putters else "bpsim.muted")
    row.append(" · ", style="bpsim.muted")
    row.append(t("probes.getters", count=queue.waiting_getters), style="bpsim.strong" if queue.waiting_getters else "bpsim.muted")
    row.no_wrap, row.overflow = True, "ellipsis"
    return row


def _semaphore_row(semaphore: SemaphoreStats) -> Text:
    """`limiter          ●●○                2 / 3 held       1 waiting`"""
    row = _name(semaphore.name)
    row.append(" ")
    used = slots(semaphore.held, semaphore.size, _GAUGE)
    used.truncate(_GAUGE, pad=True)
    row.append_text(used)
    row.append(" ")
    held = Text(t("probes.held_of", held=semaphore.held, size=semaphore.size), style=fill_style(semaphore.held, semaphore.size))
    held.truncate(_COUNT + 2, pad=True)
    row.append_text(held)
    row.append(" ")
    row.append(t("probes.waiters", count=semaphore.waiters), style="bpsim.warn.strong" if semaphore.waiters else "bpsim.muted")
    row.no_wrap, row.overflow = True, "ellipsis"
    return row


def _tasks_line(tasks: TaskCounts) -> Text:
    """`tasks  ● running 1  ◐ waiting 3  ✓ done 2  ✕ cancelled 0  ✗ failed 0`"""
    line = Text(t("probes.tasks"), style="bpsim.title")
    for state, (glyph, style) in _TASK_GLYPHS.items():
        count = getattr(tasks, state)
        line.append(f"  {glyph} {t(f'probes.task_{state}')} {number(count)}", style=style if count else "bpsim.muted")
    line.no_wrap, line.overflow = True, "ellipsis"
    return line


def _timeouts_line(snapshot: ProgramSnapshot) -> Text:
    """`timeouts  3 fired of 5 entered`"""
    entered = sum(timeout.entered for timeout in snapshot.timeouts)
    fired = snapshot.timeouts_fired
    line = Text(t("probes.timeouts"), style="bpsim.title")
    line.append("  ")
    line.append(t("probes.timeouts_fired", fired=number(fired)), style="bpsim.bad.strong" if fired else "bpsim.muted")
    line.append(" " + t("probes.timeouts_entered", entered=number(entered)), style="bpsim.muted")
    return line


# -- the summary ----------------------------------------------------------------------------------


def program_summary(snapshot: ProgramSnapshot, program: str) -> RenderableType:
    """After the run: per queue items put and got, the most queued, how long it was full and how
    long putters waited; per semaphore the most held, the most waiting and the time waited; per
    timeout how often it was entered and fired; the tasks by how they ended."""
    parts: list[RenderableType] = [Text(t("probes.summary_title", program=program, time=seconds(snapshot.time)), style="bpsim.title")]
    if snapshot.queues:
        parts += [Text(""), _queues_table(snapshot.queues)]
        for queue in snapshot.queues:
            if queue.discarded:
                parts.append(Text(f"{queue.name}: " + t("probes.discarded", count=number(queue.discarded)), style="bpsim.shutdown"))
    if snapshot.semaphores:
        parts += [Text(""), _semaphores_table(snapshot.semaphores)]
    if snapshot.timeouts:
        table = _table("probes.col_timeout", "probes.col_entered", "probes.col_fired")
        for timeout in snapshot.timeouts:
            table.add_row(_name(timeout.name), number(timeout.entered), Text(number(timeout.fired), style="bpsim.bad.strong" if timeout.fired else ""))
        parts += [Text(""), table]
    if not (snapshot.queues or snapshot.semaphores or snapshot.timeouts):
        parts.append(Text(t("probes.nothing"), style="bpsim.muted"))
    tasks = snapshot.tasks
    pending = tasks.running + tasks.waiting
    parts.append(Text(""))
    parts.append(
        Text(
            t("probes.tasks_line", created=tasks.created, done=tasks.done, cancelled=tasks.cancelled, failed=tasks.failed, pending=pending),
            style="bpsim.muted",
        )
    )
    return Group(*parts)


def _table(*columns: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1), pad_edge=False, header_style="bpsim.title")
    for index, key in enumerate(columns):
        table.add_column(t(key), justify="left" if index == 0 else "right", no_wrap=index == 0)
    return table


def _queues_table(queues: tuple[QueueStats, ...]) -> Table:
    table = _table("probes.col_queue", "probes.col_size", "probes.col_put", "probes.col_got", "probes.col_max", "probes.col_full", "probes.col_blocked")
    for queue in queues:
        size = str(queue.maxsize) if queue.maxsize > 0 else t("probes.unbounded")
        got = Text(number(queue.got))
        if queue.discarded:
            got.append(f" (+{number(queue.discarded)})", style="bpsim.shutdown")
        full = Text(seconds(queue.full_seconds), style="bpsim.bad.strong" if queue.full_seconds else "bpsim.muted")
        blocked = Text(seconds(queue.putters_blocked_seconds), style="bpsim.bad.strong" if queue.putters_blocked_seconds else "bpsim.muted")
        table.add_row(_name(queue.name), size, number(queue.put), got, number(queue.max_qsize), full, blocked)
    return table


def _semaphores_table(semaphores: tuple[SemaphoreStats, ...]) -> Table:
    table = _table("probes.col_semaphore", "probes.col_size", "probes.col_max_held", "probes.col_waiters", "probes.col_wait")
    for semaphore in semaphores:
        wait = Text(seconds(semaphore.wait_seconds), style="bpsim.warn.strong" if semaphore.wait_seconds else "bpsim.muted")
        table.add_row(_name(semaphore.name), number(semaphore.size), number(semaphore.max_held), number(semaphore.max_waiters), wait)
    return table
