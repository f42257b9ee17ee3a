"""The end-of-run summary: the item ledger, queue and producer, latency, and what it means."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bpsim.engine import RunResult
from bpsim.outcomes import FAILED, OUTCOMES, UNFINISHED, Counts, Outcome, reason_words
from bpsim.i18n import language, t, t_count
from bpsim.render.format import WRAPS, nonzero_parts, number, seconds
from bpsim.render.theory import theory_table
from bpsim.scenario import AdaptiveConcurrency, Scenario
from bpsim.theory import theory_for

__all__ = ["summary", "ledger_rows", "reason_parts", "on_time_parts", "observations", "setup_line", "lesson_text"]


def setup_line(scenario: Scenario) -> str:
    """The scenario's shape in one line: policy, queue size, workers, limit, seed."""
    maxsize = scenario.queue.maxsize
    queue = t("summary.unbounded") if maxsize == 0 else str(maxsize)
    return t(
        "summary.setup",
        policy=_policy(scenario),
        maxsize=queue,
        workers=scenario.workers.count,
        concurrency=_concurrency(scenario),
        seed=scenario.seed,
    )


def _policy(scenario: Scenario) -> str:
    """`block`, or with a queue discipline other than fifo `block, codel`."""
    discipline = scenario.queue.discipline
    policy = scenario.queue.policy.value
    return policy if discipline == "fifo" else f"{policy}, {discipline}"


def _concurrency(scenario: Scenario) -> str | int:
    """`10`, `no limit`, or an adaptive limit's range: `aimd 1..20`."""
    limit = scenario.downstream.concurrency
    if isinstance(limit, AdaptiveConcurrency):
        most = min(limit.max or scenario.workers.count, scenario.workers.count)
        return t("summary.adaptive", algorithm=limit.adaptive, least=limit.min, most=most)
    return t("summary.no_limit") if limit is None else limit


def ledger_rows(counts: Counts, scenario: Scenario) -> list[tuple[str, int, str]]:
    """(label, count, detail) for every end state `scenario` can reach, in the table's order.

    Unfinished items are listed once there are some (after a stop).
    """
    rows = [
        (t(outcome.words), counts.of(outcome), reason_parts(counts, outcome))
        for outcome in OUTCOMES
        if outcome.listed(counts, scenario)
    ]
    if counts.handled_on_time is not None:  # an slo: the handled row says how many were late
        rows[0] = (rows[0][0], rows[0][1], on_time_parts(counts))
    if counts.unfinished:
        rows.append((t(f"outcome.label.{UNFINISHED}"), counts.unfinished, t("summary.unfinished_detail")))
    return rows


def on_time_parts(counts: Counts) -> str:
    """`on time 230, late 12`: the handled items within the slo and beyond it."""
    return t("summary.on_time_parts", on_time=number(counts.handled_on_time or 0), late=number(counts.late))


def reason_parts(counts: Counts, outcome: Outcome) -> str:
    """`queue-full 3, stale 1`: the outcome's count per reason, the reasons that are not zero."""
    return nonzero_parts(*((t(reason_words(reason)), counts.of(reason)) for reason in outcome.reasons))


def _ledger(counts: Counts, scenario: Scenario) -> RenderableType:
    table = Table.grid(padding=(0, 2))
    table.add_column(min_width=22)
    table.add_column(justify="right", min_width=7)
    table.add_column(style="bpsim.muted", overflow=WRAPS)
    table.add_row(Text(t("outcome.label.produced"), style="bpsim.strong"), Text(number(counts.produced), style="bpsim.strong"), "")
    for label, count, detail in ledger_rows(counts, scenario):
        table.add_row(f"  {label}", number(count), detail)
    total = counts.finished + counts.unfinished
    ok = total == counts.produced
    check = Text(
        t("summary.check_ok" if ok else "summary.check_bad", total=number(total), produced=number(counts.produced)),
        style="bpsim.ok" if ok else "bpsim.bad.strong",
    )
    if not counts.never_sent:
        return Group(table, check)
    # Beside the ledger, not in it: these items were never produced, so no state is theirs.
    never_sent = Table.grid(padding=(0, 2))
    never_sent.add_column(min_width=22)
    never_sent.add_column(justify="right", min_width=7)
    never_sent.add_column(style="bpsim.muted", overflow=WRAPS)
    never_sent.add_row(t("summary.never_sent"), number(counts.never_sent), t("summary.never_sent_detail"))
    covers = Text(t("summary.covers", due=number(counts.due), produced=number(counts.produced), never_sent=number(counts.never_sent)), style="bpsim.muted")
    return Group(table, check, never_sent, covers)


def _figures(result: RunResult) -> RenderableType:
    table = Table.grid(padding=(0, 2))
    table.add_column(min_width=22)
    table.add_column(overflow=WRAPS)
    table.add_row(t("summary.qsize"), t("summary.qsize_value", max=result.max_qsize, mean=result.mean_qsize))
    table.add_row(t("summary.blocked"), seconds(result.blocked_seconds))
    table.add_row(t("summary.in_flight"), t("summary.in_flight_value", max=result.max_in_flight))
    if result.limit is not None:
        limit = result.limit
        table.add_row(t("summary.limit"), t("summary.limit_value", min=limit.min, mean=number(limit.mean), final=limit.final))
    table.add_row(t("summary.throughput"), t("summary.throughput_value", rate=number(result.throughput)))
    if result.goodput is not None:
        slo = seconds(result.scenario.slo or 0.0)
        table.add_row(t("summary.goodput"), t("summary.goodput_value", rate=number(result.goodput), slo=slo))
    if result.retry is not None:
        retry = result.retry
        value = t("summary.retries_value", retries=number(retry.retries), attempts=number(retry.attempts))
        if result.scenario.retry is not None and result.scenario.retry.budget is not None:
            value += t("summary.retries_refused", refused=number(retry.refused_by_budget))
        table.add_row(t("summary.retries"), value)
    if result.breaker is not None:
        breaker = result.breaker
        table.add_row(t("summary.breaker"), t("summary.breaker_value", opened=breaker.opened, refused=number(breaker.refused)))
    if result.throttle_waited is not None:
        table.add_row(t("summary.throttle"), t("summary.throttle_value", seconds=seconds(result.throttle_waited)))
    return Group(table, Text(""), _latencies(result))


def _latencies(result: RunResult) -> Table:
    table = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False)
    approx = "" if result.latency.exact else " ±1%"
    table.add_column(t("summary.seconds") + approx, min_width=21, style="")
    for heading in ("mean", "p50", "p95", "p99", "max"):
        table.add_column(heading, justify="right", min_width=8)
    for label, distribution in ((t("summary.latency"), result.latency), (t("summary.queue_wait"), result.queue_wait)):
        if distribution.count:
            values = (distribution.mean, distribution.p50, distribution.p95, distribution.p99, distribution.max)
            table.add_row(label, *(seconds(v) for v in values))
        else:
            table.add_row(label, *("-",) * 5)
    return table


def observations(result: RunResult) -> list[str]:
    """Two or three plain-language sentences on what happened, most important first."""
    counts = result.counts
    scenario = result.scenario
    lines = []
    if not result.completed:
        lines.append(t("summary.says_interrupted", unfinished=counts.unfinished))
    if result.blocked_seconds > 0:
        lines.append(t("summary.says_blocked", seconds=seconds(result.blocked_seconds)))
    if counts.dropped_queue_full:
        lines.append(t_count("summary.says_queue_full", counts.dropped_queue_full))
    if counts.dropped_evicted:
        lines.append(t_count("summary.says_evicted", counts.dropped_evicted))
    if counts.dropped_stale:
        lines.append(t_count("summary.says_stale", counts.dropped_stale, max_age=scenario.queue.max_age))
    if counts.timed_out_put:
        lines.append(t_count("summary.says_put_timeout", counts.timed_out_put, timeout=scenario.queue.put_timeout))
    if counts.timed_out_downstream:
        lines.append(
            t_count("summary.says_call_timeout", counts.timed_out_downstream, timeout=scenario.downstream.timeout)
        )
    if result.service is not None and result.service.wasted_calls:
        wasted = result.service
        lines.append(t("summary.says_wasted", count=wasted.wasted_calls, seconds=seconds(wasted.wasted_seconds)))
    if counts.failed:
        lines.append(t_count("summary.says_failed", counts.failed, reasons=reason_parts(counts, FAILED)))
    lines += _resilience_says(result)
    # "Long" is relative to the work itself, and at least a second that a person would notice.
    waited_long = result.queue_wait.count and result.queue_wait.p99 > max(1.0, 10 * scenario.workers.service.mean)
    if scenario.queue.maxsize == 0 and result.max_qsize > 10 * scenario.workers.count:
        lines.append(t("summary.says_unbounded", max=result.max_qsize))
    elif waited_long:
        lines.append(t("summary.says_backlog", p99=seconds(result.queue_wait.p99), max=result.max_qsize))
    if counts.rejected_at_shutdown:
        lines.append(t_count("summary.says_rejected", counts.rejected_at_shutdown))
        tail = result.duration - result.shutdown_at if result.shutdown_at is not None else 0.0
        if tail > 0:
            at, end = seconds(result.shutdown_at or 0.0), seconds(result.duration)
            lines.append(t("summary.says_tail", at=at, end=end, tail=seconds(tail)))
    if counts.never_sent:
        lines.append(t_count("summary.says_never_sent", counts.never_sent, count=number(counts.never_sent), due=number(counts.due)))
    if counts.abandoned:
        lines.append(t_count("summary.says_abandoned", counts.abandoned))
    if not lines and counts.handled == counts.produced:
        lines.append(t("summary.says_all_handled"))
    return lines


def _resilience_says(result: RunResult) -> list[str]:
    """What the retries, the breaker and the throttle did, when the scenario has them."""
    lines = []
    if result.retry is not None and result.retry.retries:
        retry = result.retry
        lines.append(t("summary.says_retries", retries=number(retry.retries), share=retry.retries / retry.attempts))
    if result.retry is not None and result.retry.refused_by_budget:
        lines.append(t("summary.says_budget", refused=number(result.retry.refused_by_budget)))
    if result.breaker is not None and result.breaker.opened:
        lines.append(t("summary.says_breaker", opened=result.breaker.opened, refused=number(result.breaker.refused)))
    if result.throttle_waited:
        lines.append(t("summary.says_throttle", seconds=seconds(result.throttle_waited)))
    return lines


# Lines a lesson keeps to themselves: suggestions to try and commands to type.
_OWN_LINE = ("Try", "해 보기", "-", "bpsim ")


def lesson_text(lesson: str) -> str:
    """`lesson` with the lines of each paragraph joined by spaces, so the terminal wraps them.

    TOML multi-line strings keep their hard line breaks; a paragraph ends at a blank line. A line
    starting with "Try" ("해 보기"), "-" or "bpsim " stays on its own line, indentation and all.
    """
    lines: list[str] = []
    for line in lesson.strip().splitlines():
        text = line.strip()
        if not text:
            if lines[-1]:
                lines.append("")
        elif lines and lines[-1] and not text.startswith(_OWN_LINE):
            lines[-1] += " " + text
        else:
            lines.append(line.rstrip())
    return "\n".join(lines)


def summary(result: RunResult) -> RenderableType:
    """The whole summary of one run; the scenario's words in the current language."""
    scenario = result.scenario
    words = scenario.words(language())
    title = Text(words.name or "", style="bpsim.title")
    if words.description:
        title.append(f" — {words.description}", style="")
    status = t("summary.status_done") if result.completed else t("summary.status_interrupted")
    header = Text(setup_line(scenario) + "\n" + t("summary.header", duration=seconds(result.duration), status=status))
    header.stylize("bpsim.muted")
    says = Text("\n".join(f"• {line}" for line in observations(result)))
    parts: list[RenderableType] = [title, header, Text(""), _ledger(result.counts, scenario), Text(""), _figures(result)]
    parts += [Text(""), says]
    theory = theory_for(scenario)
    if theory.applies:
        parts += [Text(""), theory_table(theory, result)]
    if words.lesson:
        parts += [Text(""), Text(t("summary.lesson"), style="bpsim.title"), Text(lesson_text(words.lesson))]
    return Group(*parts)
