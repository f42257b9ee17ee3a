"""Still pictures of a renderable: SVG for slides and the README, HTML for the web."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from typing import Literal

from rich.cells import cell_len
from rich.console import Console, RenderableType

from bpsim.render.theme import DEFAULT_THEME, paper, theme

__all__ = ["export"]


def export(
    renderable: RenderableType, kind: Literal["svg", "html"], *, width: int, title: str, look: str = DEFAULT_THEME
) -> str:
    """The renderable drawn once at `width` columns, as an SVG or HTML document, in theme `look`.

    It is drawn into a console of its own (the live one would record every frame), with a fixed
    colour system, so the same renderable always gives the same bytes.
    """
    console = Console(
        record=True,
        file=io.StringIO(),
        width=width,
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
        emoji=False,  # user text such as a variant label `rate=1:-1:` stays text
        theme=theme(look),
    )
    console.print(renderable)
    if kind == "svg":
        return pinned_to_cells(console.export_svg(title=title, theme=paper(look)))  # None: Rich's own paper
    return console.export_html(inline_styles=True, theme=paper(look))


# -- an SVG that renders the same everywhere ---------------------------------------------------------

CELL = 20 * 0.61
"""The width of one terminal cell in Rich's SVG: its font size (20) times its aspect ratio (0.61)."""

# One run of text in one style, as Rich writes it: at its first cell, `textLength` long.
_RUN = re.compile(
    r'<text class="(?P<cls>[^"]+)" x="(?P<x>[^"]+)" y="(?P<y>[^"]+)" textLength="[^"]+" '
    r'clip-path="(?P<clip>[^"]+)">(?P<text>[^<]*)</text>'
)


def pinned_to_cells(svg: str) -> str:
    """Rich's SVG with every word, and every drawing character, pinned to its own cell.

    Rich writes a run of text as one `<text>` at its first cell, its spaces as no-break spaces,
    and leaves the rest to `textLength`. Not every renderer follows: rsvg-convert (librsvg 2.54)
    drops a run's leading spaces, so `latency` + `  p50 ` reads `latencyp50`, and the chart
    rows that begin with blank columns slide left; neither rsvg nor cairosvg honours
    `textLength`, so a run is as wide as the font makes it, not as its cells are; and Rich
    measures `textLength` in characters, so a Korean word is squeezed into half its cells.

    Here each word (the characters between spaces) is its own `<text>` at the x of its first
    cell, `textLength` its cells (a Hangul character is two), and each box-drawing, block or
    shape character (the panels' frames, gauges, charts) is one on its own: no spaces are left
    to collapse, and no font's widths add up past a word. (A Korean font's glyph is narrower
    than two cells: a renderer that ignores textLength draws the word a little short, never
    over the next one.)
    """

    def pinned(match: re.Match[str]) -> str:
        start = float(match["x"]) / CELL
        return "".join(
            f'<text class="{match["cls"]}" x="{_number((start + cell) * CELL)}" y="{match["y"]}" '
            f'textLength="{_number(cell_len(piece) * CELL)}" clip-path="{match["clip"]}">{html.escape(piece)}</text>'
            for cell, piece in _pieces(html.unescape(match["text"]))
        )

    return _FONT_FACE.sub("", _RUN.sub(pinned, svg)).replace(_RICH_FONT, "font-family: monospace;")


# Rich asks for Fira Code, from a web font: a picture shown as an <img> (a README, a slide)
# never loads one, and cairosvg reads only the first name of the list, then falls back to a
# proportional font. `monospace` is what every renderer finds.
_RICH_FONT = "font-family: Fira Code, monospace;"
_FONT_FACE = re.compile(r"\n *@font-face \{[^}]*\}")


def _pieces(text: str) -> Iterator[tuple[int, str]]:
    """(cell offset, piece): the words of `text`, and its drawing characters one by one."""
    cell, word, word_cell = 0, "", 0
    for char in text:
        alone = char.isspace() or "\u2500" <= char <= "\u25ff"
        if alone and word:
            yield word_cell, word
            word = ""
        if not alone:
            word_cell = word_cell if word else cell
            word += char
        elif not char.isspace():
            yield cell, char
        cell += cell_len(char)
    if word:
        yield word_cell, word


def _number(value: float) -> str:
    return format(round(value, 4), "g")  # as Rich writes its numbers: 524.6, not 524.6000000000001
