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

Three themes (`--theme`, or BPSIM_THEME):

    dark       bpsim's look since the start, for the terminal's own (dark) background: every
               style in it is exactly the inline style it replaced
    light      dark ink for a light background, as a projector shows best: no dim text (a
               washed-out projector loses it first), no yellow, cyan or white on white
    contrast   for a dark background, with nothing faint: bold bright colours, alarms on a
               solid background, secondary text in plain white instead of dim

A picture (`--svg`, `--html`) has no terminal behind it, so each theme also names the paper it
is drawn on: the dark theme keeps Rich's own, light draws on white, contrast on black.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Rich is imported when a theme is made: the CLI checks a name without it
    from rich.syntax import SyntaxTheme
    from rich.terminal_theme import TerminalTheme
    from rich.theme import Theme

__all__ = ["DEFAULT_THEME", "THEME_NAMES", "code_colours", "paper", "theme"]

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

# Dark ink for white paper: each has a WCAG contrast ratio of at least 7 against white, the
# "enhanced" level (tests/test_theme.py computes them), where yellow on white has 1.07.
_INK = {"ok": "#006100", "warn": "#8a4500", "bad": "#b00000", "shutdown": "#7a007a", "info": "#003f8a", "grey": "#474747"}

_LIGHT = {
    "bpsim.title": "bold",
    "bpsim.strong": "bold",
    "bpsim.muted": _INK["grey"],
    "bpsim.note": f"italic {_INK['grey']}",
    **{f"bpsim.{name}": _INK[name] for name in ("ok", "warn", "bad", "shutdown", "info")},
    **{f"bpsim.{name}.strong": f"bold {_INK[name]}" for name in ("ok", "warn", "bad", "shutdown", "info")},
    "bpsim.alarm": "bold #ffffff on #b00000",
    "bpsim.flash": "bold #000000 on #ffd54a",
    "bpsim.border": _INK["info"],
    "bpsim.worker.throttled": f"bold {_INK['info']}",
    "bpsim.worker.backing_off": f"bold {_INK['shutdown']}",
    "bpsim.chart.queue": _INK["info"],
    "bpsim.chart.in_flight": _INK["ok"],
    "bpsim.chart.limit": _INK["warn"],
    "bpsim.chart.answers": _INK["grey"],
    "bpsim.chart.good": _INK["ok"],
    "bpsim.chart.first_attempts": _INK["grey"],
    "bpsim.chart.retries": _INK["shutdown"],
    # Rich's own styles that `explain` meets (Markdown), in colours a white page keeps
    "markdown.code": f"bold {_INK['info']}",
    "markdown.code_block": _INK["info"],
    "markdown.list": _INK["info"],
    "markdown.item.number": _INK["info"],
    "markdown.block_quote": _INK["shutdown"],
    "markdown.hr": _INK["grey"],
    "markdown.link": _INK["info"],
    "markdown.link_url": f"underline {_INK['info']}",
    "repr.number": f"bold {_INK['info']}",
}

_CONTRAST = {
    "bpsim.title": "bold bright_white",
    "bpsim.strong": "bold bright_white",
    "bpsim.muted": "white",
    "bpsim.note": "italic white",
    "bpsim.ok": "bold bright_green",
    "bpsim.ok.strong": "bold bright_green",
    "bpsim.warn": "bold bright_yellow",
    "bpsim.warn.strong": "bold bright_yellow",
    "bpsim.bad": "bold bright_red",
    "bpsim.bad.strong": "bold bright_red",
    "bpsim.alarm": "bold bright_white on red",
    "bpsim.flash": "bold black on bright_yellow",
    "bpsim.shutdown": "bold bright_magenta",
    "bpsim.shutdown.strong": "bold bright_magenta",
    "bpsim.info": "bold bright_cyan",
    "bpsim.info.strong": "bold bright_cyan",
    "bpsim.border": "bright_white",
    "bpsim.worker.throttled": "bold bright_blue",
    "bpsim.worker.backing_off": "bold bright_magenta",
    "bpsim.chart.queue": "bright_cyan",
    "bpsim.chart.in_flight": "bright_green",
    "bpsim.chart.limit": "bright_yellow",
    "bpsim.chart.answers": "bright_white",
    "bpsim.chart.good": "bright_green",
    "bpsim.chart.first_attempts": "bright_white",
    "bpsim.chart.retries": "bright_magenta",
    "markdown.hr": "white",
    "markdown.h6": "white",
}

_THEMES = {"dark": _DARK, "light": _LIGHT, "contrast": _CONTRAST}

# The paper of a picture: background, text, then the 8 normal and 8 bright ANSI colours.
_Colour = tuple[int, int, int]
_PAPER: dict[str, tuple[_Colour, _Colour, list[_Colour], list[_Colour]] | None] = {
    "dark": None,
    "light": (
        (255, 255, 255),
        (0, 0, 0),
        [(0, 0, 0), (176, 0, 0), (0, 97, 0), (138, 69, 0), (0, 63, 138), (122, 0, 122), (0, 95, 95), (71, 71, 71)],
        [(71, 71, 71), (176, 0, 0), (0, 97, 0), (138, 69, 0), (0, 63, 138), (122, 0, 122), (0, 95, 95), (0, 0, 0)],
    ),
    "contrast": (
        (0, 0, 0),
        (255, 255, 255),
        [(0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (59, 120, 255), (205, 0, 205), (0, 205, 205), (229, 229, 229)],
        [(127, 127, 127), (255, 85, 85), (85, 255, 85), (255, 255, 85), (110, 160, 255), (255, 85, 255), (85, 255, 255), (255, 255, 255)],
    ),
}

THEME_NAMES = tuple(_THEMES)


def theme(name: str = DEFAULT_THEME) -> Theme:
    """The Rich theme called `name` (one of THEME_NAMES), to give a Console: `Console(theme=theme())`."""
    from rich.theme import Theme

    return Theme(_THEMES[name])


# Rich's ANSI code colours on white paper: each colour becomes the ink of the same meaning above.
_CODE_INK = {"yellow": "warn", "green": "ok", "red": "bad", "bright_red": "bad", "magenta": "shutdown"}
_CODE_INK |= dict.fromkeys(("cyan", "blue", "bright_blue"), "info")


def code_colours(name: str = DEFAULT_THEME) -> str | SyntaxTheme:
    """The colours of Python code (`bpsim explain`) in theme `name`: Rich's ANSI ones for dark;
    for light and contrast the same with comments in the theme's muted text instead of dim
    (nothing faint), and on white the theme's dark inks instead of yellow, cyan and green."""
    if name == "dark":
        return "ansi_dark"
    from rich.style import Style
    from rich.syntax import ANSI_DARK, ANSI_LIGHT, ANSISyntaxTheme

    muted = Style.parse(_THEMES[name]["bpsim.muted"])
    styles = ANSI_LIGHT if name == "light" else ANSI_DARK
    coloured = {}
    for token, style in styles.items():
        colour = style.color.name if style.color is not None else ""
        if name == "light" and colour in _CODE_INK:
            style += Style(color=_INK[_CODE_INK[colour]])
        coloured[token] = muted if style.dim else style
    return ANSISyntaxTheme(coloured)


def paper(name: str = DEFAULT_THEME) -> TerminalTheme | None:
    """The colours a picture in theme `name` is drawn on (None: Rich's own, the dark theme's)."""
    from rich.terminal_theme import TerminalTheme

    colours = _PAPER[name]
    return None if colours is None else TerminalTheme(*colours)
