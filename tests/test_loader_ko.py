"""Scenario errors under --lang ko: the same file:line:col and key, the words in Korean.

Identifiers (key names, policy names, TOML snippets) are never translated; tomllib's own
messages stay English, only our hints after them are translated.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bpsim.cli import app
from bpsim.errors import ScenarioError
from bpsim.i18n import set_language
from bpsim.loader import scenario_from_text

UNKNOWN_KEY = "duration = 10.0\n[queue]\npolcy = \"block\"\n"
NEGATIVE_RATE = "duration = 10.0\n[producer]\nrate = -5\n"
STRING_COUNT = 'duration = 10.0\n[workers]\ncount = "4"\n'
BARE_WORD = "items = 10\n[shutdown]\nmode = immediate\n"
DUPLICATE_KEY = "duration = 10.0\n[queue]\nmaxsize = 1\nmaxsize = 2\n"


def error_in(lang: str, text: str, overrides: tuple[str, ...] = ()) -> ScenarioError:
    set_language(lang)
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(text, "bad.toml", overrides)
    return caught.value


def lines_in(lang: str, text: str, overrides: tuple[str, ...] = ()) -> list[str]:
    return error_in(lang, text, overrides).lines()


def test_an_unknown_key_is_reported_in_korean_at_the_same_line_with_the_same_suggestion():
    assert lines_in("ko", UNKNOWN_KEY) == ["bad.toml:3: queue.polcy: 알 수 없는 키입니다. 혹시 'policy'?"]


def test_a_negative_rate_and_a_quoted_count_are_reported_in_korean_with_the_value_given():
    assert lines_in("ko", NEGATIVE_RATE) == [
        'bad.toml:3: producer.rate: 초당 item 수(양수) 또는 "unlimited"여야 합니다 (받은 값: -5.0)'
    ]
    assert lines_in("ko", STRING_COUNT) == ["bad.toml:3: workers.count: 정수여야 합니다 (받은 값: '4')"]


def test_tomllib_messages_stay_english_but_the_hint_and_its_toml_snippet_come_in_korean():
    assert lines_in("ko", BARE_WORD)[0] == 'bad.toml:3:8: Invalid value (문자열은 따옴표로 감싸야 합니다: mode = "immediate")'
    assert lines_in("ko", DUPLICATE_KEY)[0] == (
        "bad.toml:4:12: Cannot overwrite a value (한 테이블에서 같은 키는 한 번만 쓸 수 있습니다)"
    )


def test_a_bad_set_override_is_reported_in_korean_and_keeps_policy_names():
    assert lines_in("ko", UNKNOWN_KEY.replace("polcy", "policy"), ("queue.policy=sliding-bufer",)) == [
        "--set queue.policy=sliding-bufer: queue.policy: 'sliding-bufer'은(는) 정책이 아닙니다. "
        "block, drop-newest, drop-oldest 중에서 고르세요 (혹시 'sliding-buffer'?)"
    ]


@pytest.mark.parametrize("text", [UNKNOWN_KEY, NEGATIVE_RATE, STRING_COUNT, BARE_WORD, DUPLICATE_KEY])
def test_korean_and_english_point_at_the_same_place_and_key(text: str):
    def where(error: ScenarioError) -> list[tuple]:
        return [(p.source, p.line, p.column, p.key, p.context) for p in error.problems]

    english, korean = error_in("en", text), error_in("ko", text)
    assert where(korean) == where(english)
    assert korean.lines() != english.lines()


def test_english_errors_are_unchanged():
    assert lines_in("en", UNKNOWN_KEY) == ["bad.toml:3: queue.polcy: unknown key; did you mean 'policy'?"]
    assert lines_in("en", BARE_WORD)[0] == 'bad.toml:3:8: Invalid value (strings need quotes: mode = "immediate")'


def test_validate_with_lang_ko_speaks_korean_for_a_missing_file(tmp_path):
    result = CliRunner().invoke(app, ["--lang", "ko", "validate", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2
    assert result.output == (
        f"{tmp_path / 'missing.toml'}: 그런 파일도, 그런 이름의 내장 시나리오도 없습니다. "
        "목록은 `bpsim scenarios`로 볼 수 있습니다\n"
    )


@pytest.mark.parametrize(
    "command",
    [
        ["run", "burst", "--no-live"],
        ["theory", "burst"],
        ["compare", "burst", "--policy", "block", "--policy", "drop-oldest"],
        ["sweep", "burst", "--param", "queue.maxsize=1,2"],
        ["validate", "burst"],
    ],
)
def test_every_command_that_loads_a_scenario_reports_its_errors_in_korean(command: list[str]):
    result = CliRunner().invoke(app, ["--lang", "ko", *command, "--set", "workers.count=0"])
    assert result.exit_code == 2, result.output
    assert "workers.count: 1 이상이어야 합니다 (받은 값: 0)" in result.output


@pytest.mark.parametrize(
    "command, line",
    [
        (["sweep", "burst", "--param", "queue.maxsize=9..1"], "--param queue.maxsize=9..1: 범위는 올라가야 합니다"),
        (["sweep", "burst", "--param", "queue.maxsize"], "--param queue.maxsize: KEY=FROM..TO[:STEP] 또는"),
        (["sweep", "burst"], "--param KEY=FROM..TO (또는 KEY=a,b,c)를 한두 개 주세요"),
        (["compare", "burst", "--vary", "workers.count=4"], "--vary workers.count=4: 쉼표로 구분한 값을 둘 이상"),
        (["compare", "burst"], "비교할 것이 없습니다"),
    ],
)
def test_compare_and_sweep_option_errors_speak_korean_too(command: list[str], line: str):
    result = CliRunner().invoke(app, ["--lang", "ko", *command])
    assert result.exit_code == 2
    assert line in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
