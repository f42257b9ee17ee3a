"""Still pictures of a renderable: SVG for slides and the README, HTML for the web."""

from __future__ import annotations

import io
from typing import Literal

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
        return console.export_svg(title=title, theme=paper(look))  # None: Rich's own paper
    return console.export_html(inline_styles=True, theme=paper(look))
