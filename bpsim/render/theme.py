"""The colours of every picture, by meaning: renderers say `bpsim.bad`, a theme says what it looks like.

Renderers never name a colour. They name what a piece of text *is* (a title, a number to worry
about, a queue that is full) and the console's Rich `Theme` decides how it is drawn, so a new
look for a projector is one table here, not an edit in every panel.

    bpsim.title / bpsim.strong   headings and panel titles / numbers and labels that matter
    bpsim.muted / bpsim.note     secondary text (units, hints, the key line) / footnotes
    bpsim.ok / warn / bad        healthy, worth a look, in trouble (each with a `.strong` variant)
    bpsim.alarm                  the badge nobody may miss: BLOCKED, FULL, an outage
    bpsim.flash                  a moment just reached, a paused run
    bpsim.shutdown(.strong)      Queue.shutdown and what it ended
    bpsim.info(.strong)          neutral facts: the queue's kind, the lesson line, names
    bpsim.border                 the panels' frames (bpsim.bad when the panel is the problem)
    bpsim.worker.*               the worker states without a colour of their own above
    bpsim.chart.*                one style per chart series

The dark theme is bpsim's look since the start: it is the terminal's own background, and every
style in it is exactly the inline style it replaced.
"""

from __future__ import annotations

from rich.theme import Theme

__all__ = ["DEFAULT_THEME", "THEME_NAMES", "theme"]

DEFAULT_THEME = "dark"

_DARK = {
    "bpsim.title": "bold",
    "bpsim.strong": "bold",
    "bpsim.muted": "dim",
    "bpsim.note": "dim italic",
    "bpsim.ok": "green",
    "bpsim.ok.strong": "bold green",
    "bpsim.warn": "yellow",
    "bpsim.warn.strong": "bold yellow",
    "bpsim.bad": "red",
    "bpsim.bad.strong": "bold red",
    "bpsim.alarm": "bold white on red",
    "bpsim.flash": "bold black on yellow",
    "bpsim.shutdown": "magenta",
    "bpsim.shutdown.strong": "bold magenta",
    "bpsim.info": "cyan",
    "bpsim.info.strong": "bold cyan",
    "bpsim.border": "blue",
    "bpsim.worker.throttled": "bold blue",
    "bpsim.worker.backing_off": "bold magenta",
    "bpsim.chart.queue": "cyan",
    "bpsim.chart.in_flight": "green",
    "bpsim.chart.limit": "yellow",
    "bpsim.chart.answers": "white",
    "bpsim.chart.good": "green",
    "bpsim.chart.first_attempts": "white",
    "bpsim.chart.retries": "magenta",
}

_THEMES = {"dark": _DARK}

THEME_NAMES = tuple(_THEMES)


def theme(name: str = DEFAULT_THEME) -> Theme:
    """The Rich theme called `name` (one of THEME_NAMES), to give a Console: `Console(theme=theme())`."""
    return Theme(_THEMES[name])
