"""The named styles: every name a renderer uses is defined by every theme."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.console import Console

from bpsim.render.theme import THEME_NAMES, theme

RENDER = Path(__file__).parent.parent / "bpsim" / "render"
_NAME = re.compile(r'"(bpsim\.[a-z_.]+)"')


def used_names() -> set[str]:
    names = set()
    for path in RENDER.glob("*.py"):
        if path.name != "theme.py":
            names |= set(_NAME.findall(path.read_text(encoding="utf-8")))
    return names


def test_the_renderers_use_named_styles_only():
    # A colour written in a renderer would not follow --theme: the name says what it means.
    colour = re.compile(r'(style|border_style|header_style)="[^"b]|stylize\("[^b]|"(bold|dim|red|green|yellow|cyan|blue|magenta|white)[ "]')
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in RENDER.glob("*.py")
        if path.name != "theme.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if colour.search(line)
    ]
    assert offenders == []


@pytest.mark.parametrize("name", THEME_NAMES)
def test_every_style_name_a_renderer_uses_is_in_the_theme(name: str):
    names = used_names()
    assert len(names) > 20  # the scan found the renderers' names
    # usl.py builds `{style}.strong` from bpsim.ok and bpsim.bad
    names |= {"bpsim.ok.strong", "bpsim.bad.strong"}
    console = Console(theme=theme(name))
    for style in sorted(names):
        console.get_style(style)  # raises MissingStyle for a name the theme lacks
