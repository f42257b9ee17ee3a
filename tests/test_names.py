"""Names a newcomer guesses: policies and topics in any case, never a suggestion of the opposite."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bpsim.cli import app
from bpsim.explain import UnknownTopic, check_topic
from bpsim.loader import load_scenario
from bpsim.scenario import POLICY_ALIASES, Policy, parse_policy, policy_suggestion


def bpsim(*args: str):
    return CliRunner().invoke(app, list(args), prog_name="bpsim")


@pytest.mark.parametrize(
    ("name", "policy"),
    [
        ("Block", Policy.BLOCK),
        ("BLOCK", Policy.BLOCK),
        ("WAIT", Policy.BLOCK),  # .NET's Wait
        ("suspend", Policy.BLOCK),  # Kotlin's SUSPEND
        ("dropOldest", Policy.DROP_OLDEST),
        ("DropOldest", Policy.DROP_OLDEST),  # .NET
        ("drop-old", Policy.DROP_OLDEST),
        ("Drop_Head", Policy.DROP_OLDEST),
        ("drop-newest", Policy.DROP_NEWEST),
        ("drop_newest", Policy.DROP_NEWEST),  # Vector
        ("drop-new", Policy.DROP_NEWEST),
        ("DROPWRITE", Policy.DROP_NEWEST),  # .NET's DropWrite
    ],
)
def test_case_and_separators_do_not_matter_where_no_library_gives_them_meaning(name, policy):
    assert parse_policy(name) is policy


@pytest.mark.parametrize("name", ["DROP_NEWEST", "DropNewest", "Drop-Newest", "dropNewest", "DROP_LATEST", "drop-latest", "dropTail"])
def test_names_that_mean_opposite_things_somewhere_are_refused_with_the_reason(name):
    with pytest.raises(ValueError, match="is ambiguous") as refused:
        parse_policy(name)
    assert "did you mean" not in str(refused.value)


def test_drop_newest_in_capitals_is_explained_never_answered_with_drop_oldest():
    result = bpsim("run", "burst", "--set", "queue.policy=DROP_NEWEST")
    assert result.exit_code == 2
    assert "DROP_OLDEST" not in result.output and "did you mean" not in result.output
    assert ".NET's DropNewest evicts the newest queued item" in result.output


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("dropp-oldest", Policy.DROP_OLDEST),
        ("drop-newst", Policy.DROP_NEWEST),
        ("blok", Policy.BLOCK),
        ("oldest", Policy.DROP_OLDEST),
    ],
)
def test_a_typo_gets_the_policy_its_words_say(typo, meant):
    assert policy_suggestion(typo) == meant.value
    with pytest.raises(ValueError, match=f"did you mean '{meant.value}'"):
        parse_policy(typo)


@pytest.mark.parametrize("word", ["drop", "newest", "latest", "keep-latest", "drop-old-new", "xyz"])
def test_no_suggestion_when_the_word_could_mean_either(word):
    assert policy_suggestion(word) is None


def test_no_word_about_old_ever_gets_a_newest_suggestion_and_back():
    # Every alias with one letter dropped: the suggestion, if any, keeps the word's direction.
    for name, policy in POLICY_ALIASES.items():
        for cut in range(len(name)):
            typo = name[:cut] + name[cut + 1 :]
            suggestion = policy_suggestion(typo)
            suggested = parse_policy(suggestion) if suggestion is not None else None
            if "old" in typo.lower() or "head" in typo.lower():
                assert suggested in (None, Policy.DROP_OLDEST), typo
            if "new" in typo.lower():
                assert suggested in (None, Policy.DROP_NEWEST), typo


@pytest.mark.parametrize(
    ("name", "topic"),
    [("Semaphore", "semaphore"), ("max_age", "max-age"), ("PUT_TIMEOUT", "put-timeout"), ("dropHead", "drop-oldest"), ("wait", "block")],
)
def test_explain_topics_in_any_spelling_and_policy_names_of_any_library(name, topic):
    assert check_topic(name) == topic
    assert bpsim("explain", name).exit_code == 0


def test_explain_refuses_an_ambiguous_policy_name_and_points_at_the_table():
    with pytest.raises(UnknownTopic, match="bpsim explain policies"):
        check_topic("DropNewest")


def test_a_table_forgotten_in_set_is_suggested():
    result = bpsim("validate", "burst", "--set", "maxsize=50")
    assert result.exit_code == 2
    assert result.output.strip() == "--set maxsize=50: maxsize: unknown key; did you mean 'queue.maxsize'?"


def test_inline_tables_in_set_take_bare_words():
    loaded = load_scenario("burst", ["queue={maxsize=5, policy=drop-oldest}", "shutdown={mode=immediate, at=5}"])
    assert (loaded.queue.maxsize, loaded.queue.policy) == (5, Policy.DROP_OLDEST)
    assert loaded.shutdown.mode == "immediate"
