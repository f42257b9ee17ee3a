"""The SVG export: every word at its own cell, so rsvg, cairosvg and browsers draw the same picture."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from rich.console import Group
from rich.text import Text
from typer.testing import CliRunner

from bpsim.cli import app
from bpsim.render.export import CELL, export

_TEXT = re.compile(r'<text class="[^"]*-r\d+" x="([^"]+)" y="([^"]+)" textLength="([^"]+)"[^>]*>([^<]*)</text>')


def runs(svg: str) -> list[tuple[int, float, str, float]]:
    """(cell, y, text, cells of textLength) of every text run in the picture's matrix."""
    return [(round(float(x) / CELL), float(y), text, round(float(length) / CELL, 6)) for x, y, length, text in _TEXT.findall(svg)]


def test_each_word_is_placed_at_its_own_cell():
    line = Text.assemble(("latency", "bold"), ("  p50 ", "dim"), ("712 ms", "bold"))
    svg = export(Group(line), "svg", width=30, title="t")
    # latency at 0; two spaces; p50 at 9; a space; 712 at 13; a space; ms at 17. Rich wrote one
    # run `&#160;&#160;p50&#160;` at cell 7, which rsvg drew at 7: `latencyp50`.
    assert [(cell, text) for cell, _, text, _ in runs(svg)] == [(0, "latency"), (9, "p50"), (13, "712"), (17, "ms")]
    assert "&#160;" not in "".join(text for _, _, text, _ in runs(svg))  # no space left to collapse
    assert all(abs(float(x) / CELL - round(float(x) / CELL)) < 1e-6 for x, *_ in _TEXT.findall(svg))


def test_korean_words_are_as_long_as_their_cells_and_drawing_characters_stand_alone():
    svg = export(Group(Text("Burst 트래픽 x"), Text("  █▁ ─│")), "svg", width=20, title="t")
    placed = [(cell, text, length) for cell, _, text, length in runs(svg)]
    # 트래픽 is six cells (Rich measured textLength in characters: 3)
    assert placed[:3] == [(0, "Burst", 5), (6, "트래픽", 6), (13, "x", 1)]
    assert placed[3:] == [(2, "█", 1), (3, "▁", 1), (5, "─", 1), (6, "│", 1)]


def test_the_picture_asks_for_a_font_every_renderer_has():
    svg = export(Text("x"), "svg", width=10, title="t")
    assert "font-family: monospace;" in svg
    assert "@font-face" not in svg and "Fira Code" not in svg  # cairosvg read only that first name


def bpsim_svg(*args: str) -> str:
    result = CliRunner().invoke(app, ["run", "burst", *args, "--svg", "-"], prog_name="bpsim")
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.skipif(
    shutil.which("rsvg-convert") is None,
    reason="rsvg-convert is not installed (Debian/Ubuntu: apt-get install librsvg2-bin): the SVG is not checked in rsvg",
)
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_rsvg_draws_every_run_where_its_cell_is(tmp_path: Path, lang: str):
    # rsvg-convert -f svg turns each <text> into one <path> of glyph outlines, in document order,
    # after the window's chrome (the frame, three buttons, the title). The ink of each path must
    # begin in the run's first cell: with Rich's runs it began up to 14 cells early (38 runs of
    # the burst dashboard started with collapsed spaces).
    picture = tmp_path / "burst.svg"
    picture.write_text(bpsim_svg("--lang", lang), encoding="utf-8")
    drawn = subprocess.run(["rsvg-convert", "-f", "svg", str(picture)], capture_output=True, check=True, text=True).stdout
    placed = runs(picture.read_text(encoding="utf-8"))
    paths = re.findall(r'<path style="[^"]*" d="([^"]*)"', drawn)
    assert len(paths) - len(placed) == 5  # the chrome; the rest are the runs, one path each
    offsets = []
    for (cell, *_), outline in zip(placed, paths[5:]):
        left = min(float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", outline)[0::2])
        offsets.append(left - (9 + cell * CELL))  # 9: the matrix's margin and padding
    assert all(-2 <= offset < CELL for offset in offsets), max(offsets, key=abs)
