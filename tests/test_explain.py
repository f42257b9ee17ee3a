"""`bpsim explain`: the catalogues are complete in both languages, the code is real Python, the
policy table agrees with the scenario parser, and every rendering fits its width."""

from __future__ import annotations

import ast
import io
import string
import tomllib
from importlib import resources

import pytest
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.text import Text

from bpsim.errors import BpsimError
from bpsim.explain import (
    ADAPTIVE_LIBRARIES,
    ADAPTIVE_NAMES,
    POLICY_NAMES,
    TOPIC_FIELDS,
    TOPICS,
    TRAPS,
    UnknownTopic,
    check_topic,
    closest_topic,
)
from bpsim.i18n import LANGUAGES, set_language, t
from bpsim.library import bundled_names
from bpsim.render.explain import policy_table, topic, topic_list
from bpsim.render.theme import theme
from bpsim.render.usl import usl_chart
from bpsim.scenario import Policy, parse_policy
from tests.golden import assert_golden


@pytest.fixture(autouse=True)
def _english_afterwards():
    yield
    set_language("en")


def render(renderable: RenderableType, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False, legacy_windows=False, theme=theme())
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def catalogue(lang: str, area: str) -> dict:
    return tomllib.loads((resources.files("bpsim") / "locale" / lang / f"{area}.toml").read_text("utf-8"))


def keys(table: dict, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in table.items():
        out |= keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return out


def without_docstrings(code: str) -> str:
    tree = ast.parse(code)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                body[0] = ast.Pass()
    return ast.dump(tree)


def assert_fits(text: str, width: int) -> None:
    too_wide = [line for line in text.splitlines() if cell_len(line) > width]
    assert not too_wide, f"wider than {width} cells: {too_wide}"


def fields(table: dict, prefix: str = "") -> dict[str, set[str]]:
    """Each message's {fields}, e.g. {"errors.set.not_a_table": {"key"}}."""
    out: dict[str, set[str]] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out |= fields(value, f"{prefix}{key}.")
        else:
            out[prefix + key] = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    return out


@pytest.mark.parametrize("area", ["explain", "policies", "errors", "output", "new", "limits", "trace", "code", "program"])
def test_english_and_korean_catalogues_have_the_same_keys(area: str) -> None:
    assert keys(catalogue("en", area)) == keys(catalogue("ko", area))


@pytest.mark.parametrize("area", ["explain", "policies", "errors", "output", "new", "limits", "trace", "code", "program"])
def test_every_korean_message_fills_in_the_same_fields_as_the_english_one(area: str) -> None:
    assert fields(catalogue("ko", area)) == fields(catalogue("en", area))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_topic_has_every_field_and_nothing_else(lang: str) -> None:
    topics = {name: fields for name, fields in catalogue(lang, "explain").items() if name != "ui"}
    assert list(topics) == list(TOPICS)  # the file reads in teaching order too
    for name, fields in topics.items():
        assert set(fields) == set(TOPIC_FIELDS), name
        assert all(fields[field].strip() for field in TOPIC_FIELDS), name
        assert "\n" not in fields["summary"], name


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", TOPICS)
def test_every_code_snippet_is_valid_python_that_fits_a_terminal(lang: str, name: str) -> None:
    set_language(lang)
    code = t(f"explain.{name}.code")
    compile(code, f"<explain {name} ({lang})>", "exec")
    assert 5 <= sum(bool(line.strip()) for line in code.splitlines()) <= 15
    assert_fits(code, 76)


@pytest.mark.parametrize("name", TOPICS)
def test_the_code_is_the_same_in_every_language_but_for_comments_and_docstrings(name: str) -> None:
    english, korean = (catalogue(lang, "explain")[name]["code"] for lang in ("en", "ko"))
    assert without_docstrings(english) == without_docstrings(korean)


@pytest.mark.parametrize("name", TOPICS)
def test_try_commands_are_the_same_in_every_language(name: str) -> None:
    english, korean = (catalogue(lang, "explain")[name]["try"] for lang in ("en", "ko"))
    assert english == korean
    assert all(line.startswith("bpsim ") for line in english.split("\n") if line)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", [*TOPICS, "policies"])
def test_every_topic_renders_within_80_columns(lang: str, name: str) -> None:
    set_language(lang)
    text = render(topic(name), 80)
    assert_fits(text, 80)
    if name != "policies":
        assert t(f"explain.{name}.code").splitlines()[1] in text  # not cropped or wrapped away


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_topic_list_names_every_topic_once(lang: str) -> None:
    set_language(lang)
    text = render(topic_list(), 80)
    assert_fits(text, 80)
    for name in [*TOPICS, "policies"]:
        assert sum(line.split()[:1] == [name] for line in text.splitlines()) == 1, name


def test_policy_table_in_english_at_width_100() -> None:
    text = render(policy_table(), 100)
    assert_fits(text, 100)
    assert_golden("explain_policies_en_100", text)


def test_block_topic_in_korean_at_width_80() -> None:
    set_language("ko")
    text = render(topic("block"), 80)
    assert_fits(text, 80)  # Hangul is two cells wide: Rich must wrap by cells, not characters
    assert_golden("explain_block_ko_80", text)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("drop_oldest", "drop-oldest"), ("Semaphore", "semaphore"), ("backpresure", "backpressure"), ("policy", "policies")],
)
def test_closest_topic_forgives_typos(typed: str, meant: str) -> None:
    assert closest_topic(typed) == meant


def test_an_unknown_topic_is_a_user_error_naming_the_closest_topic() -> None:
    with pytest.raises(UnknownTopic) as caught:
        check_topic("semaphor")
    assert isinstance(caught.value, BpsimError) and isinstance(caught.value, ValueError)
    assert "'semaphore'" in str(caught.value) and "little" in str(caught.value)
    assert closest_topic("zzz") is None
    with pytest.raises(UnknownTopic, match="choose one of: backpressure, block"):
        topic("zzz")


@pytest.mark.parametrize("row", POLICY_NAMES)
def test_every_name_in_the_table_that_bpsim_accepts_means_that_row(row: str) -> None:
    meant = Policy.DROP_OLDEST if row == "keep-latest" else Policy(row)
    for ecosystem, name in POLICY_NAMES[row].items():
        if name.code and name.code.replace("-", "").replace("_", "").isalnum():
            try:
                assert parse_policy(name.code) is meant, (ecosystem, name.code)
            except ValueError as error:
                assert name.code in TRAPS or "not a policy" in str(error), (ecosystem, name.code)


@pytest.mark.parametrize("trap", TRAPS)
def test_every_trap_is_refused_by_the_scenario_parser_as_ambiguous(trap: str) -> None:
    with pytest.raises(ValueError, match="ambiguous"):
        parse_policy(trap)


def test_at_width_100_no_identifier_in_the_policy_table_is_broken() -> None:
    text = render(policy_table(), 100)
    for row in POLICY_NAMES.values():
        for name in row.values():
            for line in name.code.splitlines():
                assert line in text, line


def test_the_adaptive_table_is_headed_by_bpsim_keys_and_no_identifier_in_it_is_broken() -> None:
    from typing import get_args

    from bpsim.scenario import AIMDConcurrency, Discipline, GradientConcurrency

    keys = {*get_args(AIMDConcurrency.model_fields["adaptive"].annotation)}
    keys |= {*get_args(GradientConcurrency.model_fields["adaptive"].annotation), *get_args(Discipline)}
    assert set(ADAPTIVE_NAMES) <= keys  # every column is something a scenario can say
    assert all(set(row) <= set(ADAPTIVE_LIBRARIES) for row in ADAPTIVE_NAMES.values())
    text = render(policy_table(), 100)
    for row in ADAPTIVE_NAMES.values():
        for name in row.values():
            for line in name.code.splitlines():
                assert line in text, line


# -- explain downstream: the USL curve ---------------------------------------------------------------


def test_downstream_topic_in_english_at_width_80_draws_the_usl_curve() -> None:
    text = render(topic("downstream"), 80)
    assert_fits(text, 80)
    assert_golden("explain_downstream_en_80", text)


def test_usl_chart_bars_are_as_long_as_x_of_n_and_the_knee_is_marked() -> None:
    # sigma = 0.02, kappa = 0.005: n* = sqrt(0.98 / 0.005) = 14, X(14) = 14 / 2.17 = 6.45, the
    # tallest bar (20 cells); X(40) = 40 / (1 + 0.78 + 7.8) = 4.175, 20 * 4.175 / 6.452 = 12.94
    # cells, 103.5 eighths, rounded up to 13 whole cells; X(1) = 1: 20 / 6.452 = 3.10 cells,
    # 24.8 eighths, 3 cells and one eighth.
    text = render(usl_chart(0.02, 0.005, (1, 14, 40), width=20), 80)
    lines = text.splitlines()
    assert lines[2] == "  n = 14   6.45  " + "█" * 20 + "  ← n* = 14.0: the peak"
    assert lines[3] == "  n = 40   4.18  " + "█" * 13
    assert lines[1] == "  n =  1   1.00  ███▏"


def test_usl_chart_draws_the_bars_past_the_knee_red() -> None:
    chart = usl_chart(0.02, 0.005, (8, 14, 20))
    bars = [line for line in chart.renderables if isinstance(line, Text) and "█" in line.plain]
    styles = [{str(span.style) for span in line.spans} for line in bars]
    assert styles == [{"bpsim.ok"}, {"bpsim.ok.strong", "bpsim.strong"}, {"bpsim.bad"}]


def test_without_coherency_the_chart_has_no_knee_and_nothing_red() -> None:
    chart = usl_chart(0.1, 0.0, (1, 10, 100))
    assert "n*" not in render(chart, 80)
    assert all("bpsim.bad" not in str(span.style) for line in chart.renderables for span in getattr(line, "spans", []))


@pytest.mark.parametrize("name", ["downstream"])
def test_every_scenario_a_topic_suggests_is_bundled(name: str) -> None:
    # Only downstream for now: the retries and breaker topics name lessons still to come.
    for line in t(f"explain.{name}.try").splitlines():
        words = line.split()
        if len(words) > 2 and words[1] in ("run", "compare", "theory"):
            assert words[2] in bundled_names(), line
