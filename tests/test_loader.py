"""The loader: scenario files and --set overrides in, a Scenario or every problem at once out."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bpsim import library, loader
from bpsim.errors import Problem, ScenarioError
from bpsim.loader import (
    bundled_scenarios,
    find_scenario,
    load_scenario,
    scenario_from_text,
    scenario_problems,
)
from bpsim.scenario import ExponentialService, Policy

VALID = """\
duration = 10.0
seed = 3

[queue]
maxsize = 5

[workers]
service = { distribution = "exponential", mean = 0.1 }
"""


def lines_for(text: str, overrides: list[str] | None = None, source: str = "s.toml") -> list[str]:
    """What the CLI prints for `text`: one line per problem (plus source line and caret)."""
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(text, source, overrides or [])
    return caught.value.lines()


@pytest.fixture
def bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bundled-scenarios folder holding burst.toml and handbook.toml."""
    folder = tmp_path / "bundled"
    folder.mkdir()
    (folder / "handbook.toml").write_text("items = 3\n", encoding="utf-8")
    (folder / "burst.toml").write_text(VALID, encoding="utf-8")
    monkeypatch.setattr(library, "bundled_folder", lambda: folder)
    return folder


# TOML syntax errors


def test_unquoted_string_is_a_syntax_error_with_a_caret_and_a_hint() -> None:
    text = 'duration = 1.0\n[queue]\npolicy = block\n'
    assert lines_for(text) == [
        's.toml:3:10: Invalid value (strings need quotes: policy = "block")',
        "    policy = block",
        "             ^",
    ]


def test_the_quotes_hint_quotes_the_word_as_written_under_its_own_key() -> None:
    assert lines_for("[shutdown]\nmode = immediate  # later\n")[0].endswith('(strings need quotes: mode = "immediate")')
    assert lines_for("items = 3\nname = Burst\n")[0].endswith('(strings need quotes: name = "Burst")')
    assert lines_for("tags = [fast, slow]\n")[0].endswith('(strings need quotes: "fast")')


def test_syntax_error_at_end_of_document_points_after_the_last_line() -> None:
    assert lines_for('duration = 1.0\nrate = [1,\n') == [
        "s.toml:2:11: Invalid value",
        "    rate = [1,",
        "              ^",
    ]


def test_repeated_table_is_one_syntax_problem_with_a_hint() -> None:
    assert lines_for("[queue]\n[queue]\n")[0] == (
        "s.toml:2:7: Cannot declare ('queue',) twice (each [table] may appear only once)"
    )


def test_syntax_position_comes_from_lineno_and_colno_when_tomllib_has_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class NewStyleError(tomllib.TOMLDecodeError):  # Python 3.14's error: position as attributes
        def __init__(self) -> None:
            self.msg, self.lineno, self.colno = "Invalid value", 2, 5

    def raise_new_style(text: str) -> None:
        raise NewStyleError()

    monkeypatch.setattr(loader.tomllib, "loads", raise_new_style)
    assert lines_for("a = 1\nb = x\n")[0] == 's.toml:2:5: Invalid value (strings need quotes: b = "x")'


# Validation errors, mapped to file lines


def test_unknown_key_suggests_the_closest_name() -> None:
    assert lines_for('duration = 1.0\n\n[queue]\npolcy = "block"\n') == [
        "s.toml:4: queue.polcy: unknown key; did you mean 'policy'?"
    ]


def test_unknown_key_without_a_close_name_lists_the_keys_of_its_table() -> None:
    assert lines_for("duration = 1.0\n[queue]\ncolour = 3\n") == [
        "s.toml:3: queue.colour: unknown key; use maxsize, policy, put_timeout, max_age, discipline, codel"
    ]


def test_number_out_of_range_says_the_limit_and_the_value() -> None:
    assert lines_for("duration = 1.0\n[queue]\nmaxsize = -5\n[downstream]\ntimeout = -5\n") == [
        "s.toml:3: queue.maxsize: must be 0 or more, not -5",
        "s.toml:5: downstream.timeout: must be greater than 0, not -5",
    ]


def test_quoted_count_asks_for_a_whole_number() -> None:
    assert lines_for('duration = 1.0\n[workers]\ncount = "3"\n') == [
        "s.toml:3: workers.count: must be a whole number, not '3'"
    ]


def test_integer_is_accepted_where_a_number_of_seconds_is_expected() -> None:
    assert scenario_from_text("duration = 10\n").duration == 10


def test_service_key_path_leaves_out_the_distribution_tag() -> None:
    text = 'duration = 1.0\n[workers]\nservice = { distribution = "exponential", mean = -1, meen = 1 }\n'
    assert lines_for(text) == [
        "s.toml:3: workers.service.mean: must be greater than 0, not -1",
        "s.toml:3: workers.service.meen: unknown key; did you mean 'mean'?",
    ]


def test_service_without_distribution_lists_the_distributions() -> None:
    assert lines_for("duration = 1.0\n[workers.service]\nmean = 0.1\n") == [
        "s.toml:2: workers.service: service needs `distribution`: constant, exponential, uniform, lognormal, pareto, weibull or empirical"
    ]


def test_unknown_distribution_lists_the_distributions() -> None:
    assert lines_for('duration = 1.0\n[workers]\nservice = { distribution = "gauss", mean = 1.0 }\n') == [
        "s.toml:3: workers.service: 'gauss' is not a distribution; choose constant, exponential, uniform, lognormal, pareto, weibull or empirical"
    ]


def test_rate_that_is_neither_a_number_nor_unlimited_is_one_problem() -> None:
    assert lines_for('duration = 1.0\n[producer]\nrate = "fast"\n') == [
        's.toml:3: producer.rate: must be a positive number of items per second or "unlimited", not \'fast\''
    ]


def test_burst_in_an_inline_array_maps_to_the_bursts_line() -> None:
    text = "duration = 1.0\n[producer]\nbursts = [\n  { at = 1.0, duration = 2.0, rate = -1.0 },\n]\n"
    assert lines_for(text) == ["s.toml:3: producer.bursts[0].rate: must be greater than 0, not -1.0"]


def test_burst_in_an_array_of_tables_maps_to_its_own_line() -> None:
    text = """\
duration = 1.0
[[producer.bursts]]
at = 1.0
duration = 1.0
rate = 5.0
[[producer.bursts]]
at = 3.0
duration = 1.0
rate = 0
"""
    assert lines_for(text) == ["s.toml:9: producer.bursts[1].rate: must be greater than 0, not 0"]


def test_whole_table_problem_points_at_its_header() -> None:
    text = 'duration = 1.0\n\n[queue]\nmaxsize = 1\npolicy = "drop-oldest"\nput_timeout = 1.0\n'
    assert lines_for(text) == [
        's.toml:3: queue: put_timeout only applies to policy = "block" (drop-oldest never waits in put); '
        "remove put_timeout or use block"
    ]


def test_empty_file_is_valid_toml_but_needs_duration_or_items() -> None:
    assert lines_for("") == [
        "s.toml:1: set exactly one of `duration` (seconds of producing) or `items` (how many to produce)"
    ]


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = """\
duration = 10.0
[workers]
count = 0
[queue]
maxsize = -1
policy = "yolo"
[shutdown]
mode = "fast"
"""
    assert lines_for(text) == [
        "s.toml:3: workers.count: must be 1 or more, not 0",
        "s.toml:5: queue.maxsize: must be 0 or more, not -1",
        "s.toml:6: queue.policy: 'yolo' is not a policy; choose block, drop-newest or drop-oldest",
        "s.toml:8: shutdown.mode: must be 'graceful' or 'immediate', not 'fast'",
    ]


def test_lines_inside_a_multiline_string_are_not_taken_for_keys() -> None:
    text = 'lesson = """\nqueue = 1\n"""\nduration = 1.0\n[queue]\nmaxsize = -1\n'
    assert lines_for(text) == ["s.toml:6: queue.maxsize: must be 0 or more, not -1"]


# --set overrides and --seed


@pytest.mark.parametrize(
    ("override", "read", "expected"),
    [
        ("queue.maxsize=50", lambda s: s.queue.maxsize, 50),
        ("producer.rate=40", lambda s: s.producer.rate, 40),
        ("queue.policy=drop-oldest", lambda s: s.queue.policy, Policy.DROP_OLDEST),
        ('queue.policy="drop-oldest"', lambda s: s.queue.policy, Policy.DROP_OLDEST),
        ("shutdown.at=5.0", lambda s: s.shutdown.at, 5.0),
        ("workers.service.mean=0.2", lambda s: s.workers.service.mean, 0.2),
        ("producer.bursts=[{at=1.0,duration=2.0,rate=100.0}]", lambda s: s.producer.bursts[0].rate, 100.0),
    ],
)
def test_set_replaces_one_key(override: str, read, expected: object) -> None:
    assert read(scenario_from_text(VALID, overrides=[override])) == expected


def test_set_creates_missing_tables_and_applies_in_order() -> None:
    overrides = [
        'workers.service={distribution="exponential", mean=0.5}',
        "shutdown.mode=immediate",
        "shutdown.at=3",
    ]
    scenario = scenario_from_text("items = 5\n", overrides=overrides)
    assert scenario.workers.service == ExponentialService(distribution="exponential", mean=0.5)
    assert (scenario.shutdown.mode, scenario.shutdown.at) == ("immediate", 3)


@pytest.mark.parametrize("override", ["queue.maxsize", "=5", "queue..maxsize=5", " =5"])
def test_malformed_set_names_itself_as_the_source(override: str) -> None:
    assert lines_for(VALID, [override]) == [f"--set {override}: expected KEY=VALUE, e.g. --set queue.maxsize=50"]


def test_set_below_a_plain_value_is_refused() -> None:
    assert lines_for(VALID, ["queue.maxsize.x=1"]) == [
        "--set queue.maxsize.x=1: queue.maxsize is a value, not a table"
    ]


def test_invalid_set_value_names_the_set_instead_of_a_file_line() -> None:
    assert lines_for(VALID, ["queue.maxsize=-1", "queue.polcy=block"]) == [
        "--set queue.maxsize=-1: queue.maxsize: must be 0 or more, not -1",
        "--set queue.polcy=block: queue.polcy: unknown key; did you mean 'policy'?",
    ]


def test_problem_in_a_table_only_a_set_created_names_that_set() -> None:
    assert lines_for(VALID, ["shutdown.mode=immediate"]) == [
        '--set shutdown.mode=immediate: shutdown: mode = "immediate" needs `at`: the simulated second to stop at'
    ]


def test_file_problems_come_first_then_set_problems_in_the_order_given() -> None:
    assert lines_for("duration = 1.0\n[queue]\nmaxsize = -2\n", ["workers.count=0", "oops"]) == [
        "s.toml:3: queue.maxsize: must be 0 or more, not -2",
        "--set workers.count=0: workers.count: must be 1 or more, not 0",
        "--set oops: expected KEY=VALUE, e.g. --set queue.maxsize=50",
    ]


def test_seed_replaces_the_files_seed() -> None:
    assert scenario_from_text(VALID).seed == 3
    assert scenario_from_text(VALID, seed=99).seed == 99


# Finding and reading files


def test_existing_path_wins_over_a_bundled_name(
    bundled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("burst").write_text("items = 1\n", encoding="utf-8")
    assert find_scenario("burst") == Path("burst")


def test_bundled_scenario_is_found_by_name_from_any_directory(
    bundled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_scenario("burst") == bundled / "burst.toml"
    assert find_scenario("burst.toml") == bundled / "burst.toml"
    assert load_scenario("burst", seed=5).seed == 5


def test_bundled_scenarios_are_sorted_by_name(bundled: Path) -> None:
    assert bundled_scenarios() == [bundled / "burst.toml", bundled / "handbook.toml"]


def test_bundled_scenarios_live_in_the_package() -> None:
    assert library.bundled_folder() == Path(loader.__file__).parent / "scenarios"


def test_unknown_name_suggests_a_bundled_scenario(bundled: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        find_scenario("brust")
    assert caught.value.lines() == [
        "brust: no such file or bundled scenario; run `bpsim scenarios` to list them (did you mean 'burst'?)"
    ]


def test_problems_name_a_file_as_the_user_gave_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("mine.toml").write_text("items = 0\n", encoding="utf-8")
    assert scenario_problems("mine.toml") == [
        Problem("mine.toml", "must be 1 or more, not 0", line=1, key="items")
    ]


def test_problems_in_a_bundled_scenario_name_its_file_name(bundled: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (bundled / "broken.toml").write_text("items = 0\n", encoding="utf-8")
    assert [str(p) for p in scenario_problems("broken")] == ["broken.toml:1: items: must be 1 or more, not 0"]


def test_valid_scenario_has_no_problems(tmp_path: Path) -> None:
    (tmp_path / "ok.toml").write_text(VALID, encoding="utf-8")
    assert scenario_problems(tmp_path / "ok.toml") == []
    assert load_scenario(tmp_path / "ok.toml", ["queue.maxsize=7"]).queue.maxsize == 7


def test_directory_is_not_a_scenario(tmp_path: Path) -> None:
    assert [str(p) for p in scenario_problems(tmp_path)] == [
        f"{tmp_path}: is a directory; give a scenario file (.toml)"
    ]


def test_unreadable_file_is_one_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.toml"
    path.write_text(VALID, encoding="utf-8")

    def refuse(self: Path, mode: str = "r") -> bytes:  # chmod is no use when the tests run as root
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    assert [str(p) for p in scenario_problems(path)] == [f"{path}: cannot read the file: Permission denied"]


def test_non_utf8_file_points_at_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('items = 3\nname = "café"\n'.encode("latin-1"))
    assert [str(p) for p in scenario_problems(path)] == [
        f"{path}:2:12: not UTF-8 text (byte 0xe9); save the file as UTF-8"
    ]


def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbfitems = 2\n")
    assert load_scenario(path).items == 2


# -- messages a newcomer can act on (issue #17) ---------------------------------------------------


@pytest.mark.parametrize(
    "override, line",
    [
        # The table's own rule names the key that --set added: blame the option, not burst.toml:1.
        ("items=5", "--set items=5: set exactly one of `duration`"),
        ('"queue.maxsize"=3', '--set "queue.maxsize"=3: the quotes make "queue.maxsize" one key name with a dot in it'),
        ("queue.policy=3", '--set queue.policy=3: queue.policy: must be a policy name in quotes: "block"'),
        ("items=" + "9" * 5000, "holds a number with thousands of digits"),
    ],
    ids=["items-beside-duration", "quoted-dotted-key", "policy-number", "5000-digits"],
)
def test_a_bad_set_gets_a_line_that_names_it_and_says_what_to_do(override: str, line: str):
    with pytest.raises(ScenarioError) as raised:
        load_scenario("burst", [override])
    [message] = raised.value.lines()
    assert line in message and "sys.set_int_max_str_digits" not in message
    assert len(message) < 300  # a 5000-digit value is not echoed in full


def test_a_quoted_key_path_is_a_key_path():
    assert load_scenario("burst", ['"queue"."maxsize"=3']).queue.maxsize == 3


def test_a_seed_that_is_not_a_number_is_said_in_our_words():
    from typer.testing import CliRunner

    from bpsim.cli import app

    result = CliRunner().invoke(app, ["run", "burst", "--seed", "abc"])
    assert result.exit_code == 2
    assert "'abc' is not a seed; give a whole number, e.g. --seed 7" in result.stderr
    assert "Input should be" not in result.stderr
