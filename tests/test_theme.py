"""The named styles and the themes: every name in every theme, the projector themes, --theme."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pygments.token import Comment
from rich.console import Console
from rich.style import Style
from rich.syntax import ANSI_LIGHT, ANSISyntaxTheme
from typer.testing import CliRunner

from bpsim.cli import app
from bpsim.render.theme import THEME_NAMES, code_colours, theme
from tests.golden import assert_golden

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


# -- the themes for a projector ------------------------------------------------------------------


def contrast_ratio(colour: str, paper: str = "#ffffff") -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours: (L1 + 0.05) / (L2 + 0.05), L the relative luminance.

    By hand: black on white is (1 + 0.05) / (0 + 0.05) = 21; #b00000 has R = 176/255 = 0.690,
    linear ((0.690 + 0.055) / 1.055) ** 2.4 = 0.434, L = 0.2126 * 0.434 = 0.0923, so the
    ratio is 1.05 / 0.1423 = 7.38.
    """

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(colour), luminance(paper)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_ratio_formula_matches_the_hand_computed_values():
    assert contrast_ratio("#000000") == pytest.approx(21.0)
    assert contrast_ratio("#b00000") == pytest.approx(7.38, abs=0.01)
    assert contrast_ratio("#ffff00") == pytest.approx(1.07, abs=0.01)  # yellow on white: why not yellow


def _styles(name: str) -> dict[str, Style]:
    console = Console(theme=theme(name))
    return {style: console.get_style(style) for style in used_names() | {"bpsim.ok.strong", "bpsim.bad.strong"}}


@pytest.mark.parametrize("name", ["light", "contrast"])
def test_a_projector_theme_has_nothing_dim(name: str):
    # A washed-out projector loses dim text first: the routine events, the units, the key line.
    assert [style for style, value in _styles(name).items() if value.dim] == []


def test_the_light_theme_is_dark_ink_that_a_white_page_keeps():
    for style, value in _styles("light").items():
        for colour, paper in ((value.color, value.bgcolor), (value.bgcolor, value.color)):
            if colour is None:
                continue
            against = "#ffffff" if paper is None else paper.get_truecolor().hex
            # AA for large text is 3; the light theme keeps to AAA, 7, for text of any size
            assert contrast_ratio(colour.get_truecolor().hex, against) >= 7, style


@pytest.mark.parametrize("name", ["light", "contrast"])
def test_explain_code_in_a_projector_theme_has_no_dim_comments_and_on_white_only_dark_ink(name: str):
    colours = code_colours(name)
    assert isinstance(colours, ANSISyntaxTheme)
    styles = [colours.get_style_for_token(token) for token in ANSI_LIGHT]
    assert not any(style.dim for style in styles)
    assert colours.get_style_for_token(Comment) == Console(theme=theme(name)).get_style("bpsim.muted")
    if name == "light":
        inks = [style.color for style in styles if style.color is not None and style.color.name != "white"]
        assert inks and all(contrast_ratio(ink.get_truecolor().hex) >= 7 for ink in inks)


def test_explain_under_the_light_theme_prints_its_comments_in_grey_not_dim():
    from bpsim.render.explain import topic

    # truecolor, as every other colour test here: Rich keeps a style's codes for the first colour system it met
    console = Console(theme=theme("light"), force_terminal=True, color_system="truecolor", width=100)
    with console.capture() as captured:
        console.print(topic("backpressure", "light"))
    comment = next(line for line in captured.get().splitlines() if "# Unbounded" in line)
    assert "\x1b[2m" not in comment and "\x1b[38;2;71;71;71m" in comment  # grey #474747, not dim


def test_the_light_theme_dashboard_at_80_columns_in_colour():
    from tests.test_dashboard import frame_at, with_policy

    text = frame_at(with_policy("block"), 5.0, look="light")
    assert "\x1b[1;38;2;255;255;255;48;2;176;0;0m ■ BLOCKED" in text  # bold white on #b00000
    assert "\x1b[2m" not in text and "\x1b[2;" not in text  # nothing dim
    assert_golden("dashboard-burst-block-light-80", text)


def test_the_contrast_theme_dashboard_at_80_columns_in_colour():
    from tests.test_dashboard import frame_at, with_policy

    text = frame_at(with_policy("block"), 5.0, look="contrast")
    assert "\x1b[2m" not in text and "\x1b[2;" not in text
    assert_golden("dashboard-burst-block-contrast-80", text)


# -- --theme on the command line ------------------------------------------------------------------


def bpsim(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), prog_name="bpsim", env=env)


def test_the_svg_in_the_light_theme_is_drawn_on_white(tmp_path: Path):
    for look in ("dark", "light", "contrast"):
        assert bpsim("run", "handbook", "--no-live", "--theme", look, "--svg", str(tmp_path / f"{look}.svg")).exit_code == 0
    assert bpsim("run", "handbook", "--no-live", "--svg", str(tmp_path / "default.svg")).exit_code == 0
    pictures = {path.stem: path.read_text() for path in tmp_path.glob("*.svg")}
    assert pictures["default"] == pictures["dark"]  # the dark theme is the default, to the byte
    assert 'fill="#292929"' in pictures["dark"]  # Rich's own dark paper
    assert 'fill="#ffffff"' in pictures["light"] and 'fill="#292929"' not in pictures["light"]
    assert 'fill="#000000"' in pictures["contrast"]


def test_bpsim_theme_chooses_the_theme_where_no_option_does(tmp_path: Path):
    by_option = bpsim("compare", "handbook", "--policy", "block", "--policy", "drop-newest", "--theme", "light", "--svg", "-")
    by_env = bpsim("compare", "handbook", "--policy", "block", "--policy", "drop-newest", "--svg", "-", env={"BPSIM_THEME": "light"})
    assert by_option.exit_code == by_env.exit_code == 0
    assert by_option.stdout == by_env.stdout and 'fill="#ffffff"' in by_env.stdout
    # --theme wins over BPSIM_THEME
    dark = bpsim("compare", "handbook", "--policy", "block", "--theme", "dark", "--svg", "-", env={"BPSIM_THEME": "light"})
    assert 'fill="#ffffff"' not in dark.stdout


def test_an_unknown_theme_is_one_line_and_exit_2():
    result = bpsim("run", "handbook", "--no-live", "--theme", "sepia")
    assert result.exit_code == 2 and "'sepia' is not a theme; choose dark, light, contrast" in result.output
    result = bpsim("scenarios", env={"BPSIM_THEME": "sepia"})
    assert result.exit_code == 2
    assert result.output.strip() == "BPSIM_THEME='sepia' is not a theme bpsim has; use dark, light, contrast"
