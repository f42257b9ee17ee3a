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
