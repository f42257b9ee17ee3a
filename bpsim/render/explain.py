"""`bpsim explain`: the topic list, one topic's lesson, and the policy-name table.

Every sentence comes from the catalogues (`t("explain....")`, `t("policies....")`); the names of
topics, policies and other libraries' identifiers come from `bpsim.explain`. Nothing here
prints: each function returns a renderable for the caller's Console.
"""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from bpsim.explain import (
    ADAPTIVE_LIBRARIES,
    ADAPTIVE_NAMES,
    ECOSYSTEMS,
    POLICIES_TOPIC,
    POLICY_NAMES,
    TOPICS,
    TRAPS,
    USL_CALLS,
    USL_EXAMPLE,
    Name,
    check_topic,
    closest_topic,
)
from bpsim.i18n import t
from bpsim.render.theme import DEFAULT_THEME, code_colours
from bpsim.render.usl import usl_chart

__all__ = ["topic_list", "topic", "policy_table", "closest_topic"]


def topic_list() -> RenderableType:
    """A table of every topic with its one-line summary, and how to read one."""
    table = Table(box=box.SIMPLE_HEAD, title=t("explain.ui.list_title"), title_justify="left")
    table.add_column(t("explain.ui.topic"), style="bpsim.strong", no_wrap=True)
    table.add_column(t("explain.ui.summary"), overflow="fold")
    for name in TOPICS:
        table.add_row(name, t(f"explain.{name}.summary"))
    table.add_row(POLICIES_TOPIC, t("policies.summary"))
    return Group(table, Text(t("explain.ui.list_hint"), style="bpsim.muted"))


def topic(name: str, look: str = DEFAULT_THEME) -> RenderableType:
    """One topic's lesson: title, body, its asyncio code (coloured for theme `look`) and the bpsim
    commands to try.

    `bpsim explain policies` is the policy table. Raises `UnknownTopic` (a `BpsimError` and a
    `ValueError`) for any other name, suggesting the closest topic.
    """
    if check_topic(name) == POLICIES_TOPIC:
        return policy_table()
    key = f"explain.{name}"
    code = Syntax(
        t(f"{key}.code").strip("\n"), "python", theme=code_colours(look), line_numbers=False, word_wrap=False
    )
    commands = Text("\n".join(f"  $ {line}" for line in _lines(t(f"{key}.try"))))
    figure: list[RenderableType] = []
    if name == "downstream":
        figure = [Text(), usl_chart(USL_EXAMPLE["contention"], USL_EXAMPLE["coherency"], USL_CALLS)]
    return Group(
        _title(t(f"{key}.title")),
        Markdown(t(f"{key}.body")),
        *figure,
        Text(),
        Text(t("explain.ui.code"), style="bpsim.title"),
        code,
        Text(),
        Text(t("explain.ui.try"), style="bpsim.title"),
        commands,
    )


def policy_table() -> RenderableType:
    """bpsim's policies as other libraries name them, the names that mean opposite things, and
    the adaptive limits and queue disciplines as other libraries name them.

    Drawn with one row per library so that four policy columns fit 100 columns.
    """
    names = _names_table(POLICY_NAMES, ECOSYSTEMS, "policies.heading")

    traps = Table(box=box.SIMPLE_HEAD, padding=(0, 1))
    traps.add_column(t("policies.trap_name"), style="bpsim.strong", no_wrap=True)
    traps.add_column(t("policies.trap_one"), ratio=1, overflow="fold")
    traps.add_column(t("policies.trap_other"), ratio=1, overflow="fold")
    for trap, key in TRAPS.items():
        traps.add_row(trap, t(f"policies.trap.{key}.one"), t(f"policies.trap.{key}.other"))

    return Group(
        _title(t("policies.title")),
        Markdown(t("policies.intro")),
        Text(),
        names,
        Text(),
        Text(t("policies.keep_latest"), style="bpsim.muted"),
        Text(),
        _title(t("policies.traps_title")),
        traps,
        Text(t("policies.traps_footer"), style="bpsim.muted"),
        Text(),
        _title(t("policies.adaptive_title")),
        Markdown(t("policies.adaptive_intro")),
        Text(),
        _names_table(ADAPTIVE_NAMES, ADAPTIVE_LIBRARIES, "policies.adaptive_heading"),
    )


def _names_table(rows: dict[str, dict[str, Name]], libraries: dict[str, str], headings: str) -> Table:
    """One row per library, one column per bpsim name (headed by what it does), each cell that
    library's name for it; a library without one gets a dash."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0), expand=True)
    table.add_column(t("policies.library"), style="bpsim.strong")
    for name in rows:
        heading = Text.assemble((name, "bpsim.strong"), "\n", (t(f"{headings}.{name}"), "bpsim.muted"))
        table.add_column(heading, ratio=1, overflow="fold")
    for library, label in libraries.items():
        table.add_row(label, *(_cell(rows[name].get(library, Name(""))) for name in rows))
    return table


def _title(text: str) -> Rule:
    return Rule(Text(text, style="bpsim.title"), align="left", style="bpsim.muted")


def _cell(name: Name) -> Text:
    cell = Text(name.code or t("policies.none"))
    if name.note is not None:
        cell.append(f"\n{t(f'policies.note.{name.note}')}", style="bpsim.note")
    return cell


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]
