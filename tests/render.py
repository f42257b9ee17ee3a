"""Render a Rich renderable to plain text at a fixed width, with no colour: the golden-test view."""

from __future__ import annotations

import io

from rich.console import Console, RenderableType

from bpsim.render.theme import theme


def render(renderable: RenderableType, width: int = 80) -> str:
    console = Console(
        file=io.StringIO(), width=width, color_system=None, force_terminal=False, legacy_windows=False, theme=theme()
    )
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]
