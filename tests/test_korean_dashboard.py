"""Korean on the screen: the scenario's `[ko] name` in every title, and wrapped Hangul kept whole."""

from __future__ import annotations

import io
import re

import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from bpsim.cli import app
from bpsim.engine import Simulation
from bpsim.i18n import set_language
from bpsim.loader import load_scenario
from bpsim.render.compare_live import varied_line
from bpsim.render.comparison import comparison
from bpsim.render.dashboard import Header, dashboard, lesson_lines
from bpsim.render.live import CompareView, expected_duration, watch, what_to_watch
from bpsim.render.summary import summary
from bpsim.render.theme import theme
from bpsim.variants import compare_variants
from tests.golden import assert_golden
from tests.render import render, svg_lines

# A Hangul syllable, then an ellipsis: a word Rich cut short (the lesson strip's last line may
# end so on purpose; the comparison and the summary, which wrap, never).
CUT_WORD = re.compile(r"[\uac00-\ud7a3] ?…")


@pytest.fixture(autouse=True)
def _korean():
    set_language("ko")
    yield
    set_language("en")


def _compare_burst():
    variants = compare_variants(["burst"], ["block", "drop-newest", "drop-oldest"])
    results = Simulation([v.scenario for v in variants], labels=[v.label for v in variants]).run()
    return variants, results


@pytest.mark.parametrize("width", [80, 100])
def test_the_comparison_speaks_korean_and_wraps_without_losing_a_word(width: int):
    text = render(comparison(*_compare_burst()), width)
    assert text.startswith("비교: Burst 트래픽")  # the [ko] name, not "Burst traffic"
    # At 100 columns the fairness note's `차이는` came out as `차이 …` (Rich's ellipsis over a
    # trailing space counted in cells): every word is there, in order, on some line.
    assert "차이는" in text and not CUT_WORD.search(text)
    assert_golden(f"compare_burst_ko_{width}", text)


@pytest.mark.parametrize("width", range(60, 131))
def test_no_width_cuts_a_korean_word_in_the_comparison_or_the_summary(width: int):
    variants, results = _compare_burst()
    for renderable in (comparison(variants, results), summary(results[0])):
        text = render(renderable, width)
        assert not CUT_WORD.search(text), next(line for line in text.splitlines() if CUT_WORD.search(line))


@pytest.mark.parametrize("width, height", [(80, 23), (100, 29)])
def test_the_live_header_shows_the_korean_name_cut_at_a_word(width: int, height: int):
    scenario = load_scenario("burst", [], None)
    simulation = Simulation([scenario])
    recent = watch(simulation)
    simulation.run()
    snapshot = simulation.pipelines[0].snapshot()
    lesson = what_to_watch(scenario.words("ko").lesson or "")
    header = Header(scenario, snapshot.now, expected_duration(scenario), "running", speed=2.0, lesson=lesson)
    text = render(dashboard(snapshot, recent.log, recent.trend(snapshot.now), header, width, height), width)
    title = text.splitlines()[0].split(" t = ")[0].rstrip()
    assert title.startswith("Burst 트래픽 — 일정한 흐름에 5배 burst가 온다.")
    assert "Burst traffic" not in text
    # Cut beside the clock after a whole word: `큐가` ("the queue") used to be cut to `큐 …`
    # ("queue …"), another word.
    words = scenario.words("ko")
    full = f"{words.name} — {words.description}"
    shown = title.removesuffix(" …")
    assert title.endswith(" …") and full.startswith(shown) and full[len(shown)] == " "
    assert_golden(f"dashboard-burst-ko-{width}", text)


def test_the_live_compare_title_is_the_korean_name():
    scenarios = [v.scenario for v in compare_variants(["burst"], ["block", "drop-oldest"])]
    console = Console(file=io.StringIO(), width=100, height=30, force_terminal=True, color_system=None, theme=theme())
    view = CompareView(console, varied=varied_line(scenarios, ["queue.policy"]), speed=None, keys_fd=None)
    simulation = Simulation(scenarios, labels=["block", "drop-oldest"])
    view.watch(simulation)
    simulation.run()
    first = render(view.frame("finished"), 100).splitlines()[0]
    assert first.startswith("비교: Burst 트래픽")


def test_the_svg_of_a_korean_run_is_titled_with_the_korean_name():
    result = CliRunner().invoke(app, ["run", "burst", "--lang", "ko", "--svg", "-"], prog_name="bpsim")
    assert result.exit_code == 0
    svg = result.stdout
    assert "bpsim&#160;·&#160;Burst&#160;트래픽</text>" in svg  # the window title drawn above the picture
    header = svg_lines(svg)[0]  # and the dashboard's header
    assert header.startswith("Burst 트래픽 — 일정한 흐름에") and "Burst traffic" not in svg


@pytest.mark.parametrize("width", [80, 100])
def test_the_lesson_strip_ends_after_a_whole_word(width: int):
    scenario = load_scenario("burst", [], None)
    lesson = " ".join((scenario.words("ko").lesson or "").split())
    lines = [line.plain for line in lesson_lines(lesson, False, width)]
    assert len(lines) == 2 and lines[-1].endswith(" …")
    shown = " ".join(line.strip() for line in lines).removeprefix("▸ ").removesuffix(" …")
    assert lesson.startswith(shown)  # whole words, in order, none cut short
    assert max(cell_len(line) for line in lines) <= width
