"""Render a Rich renderable to text at a fixed width: the golden-test view.

Plain text with no colour, or, given a theme's name (`look`), with its colours as 24-bit ANSI
codes: `cat` such a golden file in a terminal to see it.
"""

from __future__ import annotations

import io

from rich.console import Console, RenderableType

from bpsim.render.theme import theme


def render(renderable: RenderableType, width: int = 80, *, look: str | None = None) -> str:
    console = Console(
        file=io.StringIO(),
        width=width,
        color_system=None if look is None else "truecolor",
        force_terminal=look is not None,
        legacy_windows=False,
        theme=theme() if look is None else theme(look),
    )
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def svg_lines(svg: str) -> list[str]:
    """The text of an exported SVG picture, line by line: each run put back at its cell."""
    import html
    import re

    from rich.cells import cell_len

    from bpsim.render.export import CELL

    rows: dict[float, list[tuple[int, str]]] = {}
    for x, y, text in re.findall(r'<text class="[^"]*-r\d+" x="([^"]+)" y="([^"]+)"[^>]*>([^<]*)</text>', svg):
        rows.setdefault(float(y), []).append((round(float(x) / CELL), html.unescape(text)))
    lines = []
    for _, placed in sorted(rows.items()):
        line = ""
        for cell, text in sorted(placed):
            line += " " * (cell - cell_len(line)) + text
        lines.append(line)
    return lines
