"""The teaching commands through Typer's CliRunner: scenarios, validate, new, run NAME, and the
summary's lesson in English and Korean (golden renders at 80 columns)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from bpsim.cli import app
from bpsim.engine import run
from bpsim.i18n import set_language
from bpsim.loader import bundled_scenarios, load_scenario
from bpsim.render.summary import lesson_text, summary
from tests.golden import assert_golden
from tests.render import render

runner = CliRunner()


def bpsim(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, prog_name="bpsim")


# -- bpsim scenarios -----------------------------------------------------------------------------


def test_scenarios_lists_every_bundled_scenario_by_the_name_to_run():
    result = bpsim("scenarios")
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.splitlines() if line[:1].isalpha() and "  " in line]
    assert listed == [path.stem for path in bundled_scenarios()]
    assert "bpsim run NAME" in result.output
    assert "A steady stream with a 5x burst" in result.output


def test_scenarios_speak_korean_with_lang_ko():
    result = bpsim("--lang", "ko", "scenarios")
    assert result.exit_code == 0
    assert "내장 시나리오" in result.output
    assert "일정한 흐름에 5배 burst가 온다" in result.output
    assert "…" not in result.output  # Hangul wraps; it is never cut short


# -- bpsim validate ------------------------------------------------------------------------------

GOOD = 'name = "Good"\nduration = 5.0\n[queue]\nmaxsize = 10\n'
BAD = 'duration = 5.0\n[queue]\npolcy = "block"\n[producer]\nrate = -5.0\n'


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("good.toml").write_text(GOOD)
    Path("bad.toml").write_text(BAD)


@pytest.mark.usefixtures("files")
def test_validate_a_good_file_prints_a_check_mark():
    result = bpsim("validate", "good.toml")
    assert (result.exit_code, result.output) == (0, "✓ good.toml: valid\n")


@pytest.mark.usefixtures("files")
def test_validate_reports_every_problem_on_its_own_line_and_exits_2():
    result = bpsim("validate", "bad.toml", "good.toml")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "bad.toml:3: queue.polcy: unknown key; did you mean 'policy'?",
        'bad.toml:5: producer.rate: must be a positive number of items per second or "unlimited", not -5.0',
        "✓ good.toml: valid",
    ]


@pytest.mark.usefixtures("files")
def test_validate_applies_set_overrides_and_knows_bundled_names():
    result = bpsim("validate", "good.toml", "burst", "--set", "queue.maxsize=-1")
    assert result.exit_code == 2
    assert result.output.count("--set queue.maxsize=-1: queue.maxsize: must be 0 or more, not -1") == 2
    assert bpsim("validate", "burst", "unbounded").exit_code == 0


def test_validate_says_which_file_is_missing(tmp_path: Path):
    result = bpsim("validate", str(tmp_path / "nowhere.toml"))
    assert result.exit_code == 2
    assert "nowhere.toml: no such file or bundled scenario" in result.output


# -- bpsim new -----------------------------------------------------------------------------------


def test_new_yes_writes_a_commented_scenario_that_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    result = bpsim("new", "--yes")
    assert result.exit_code == 0, result.output
    assert "✓ Wrote scenario.toml (kind: webhooks)." in result.output
    text = Path("scenario.toml").read_text()
    assert "maxsize = 200               # asyncio.Queue(maxsize); 0 is unbounded" in text
    scenario = load_scenario("scenario.toml")
    webhooks = load_scenario("webhooks")
    assert scenario.producer == webhooks.producer and scenario.queue == webhooks.queue
    assert run(scenario).counts.dropped > 0


def test_new_refuses_to_overwrite_without_force(tmp_path: Path):
    path = tmp_path / "mine.toml"
    path.write_text("# my own notes\n")
    refused = bpsim("new", str(path), "--yes")
    assert refused.exit_code == 2
    assert "already exists; pass --force to overwrite it" in refused.output
    assert path.read_text() == "# my own notes\n"
    assert bpsim("new", str(path), "--yes", "--force").exit_code == 0
    load_scenario(path)


def test_new_asks_questions_and_writes_the_answers(tmp_path: Path):
    path = tmp_path / "fanout.toml"
    # kind, rate, burst?, maxsize, workers, concurrency, call time, policy
    answers = "api-fanout\n30\nn\n10\n4\n2\n0.1\ndrop-newest\n"
    result = bpsim("new", str(path), input=answers)
    assert result.exit_code == 0, result.output
    scenario = load_scenario(path)
    assert (scenario.producer.rate, scenario.producer.bursts) == (30.0, [])
    assert (scenario.queue.maxsize, scenario.queue.policy.value) == (10, "drop-newest")
    assert (scenario.workers.count, scenario.workers.service.mean, scenario.downstream.concurrency) == (4, 0.1, 2)
    assert scenario.items == 1000  # a fan-out is a batch: it counts items, like the bundled one


def test_new_asks_again_after_an_answer_it_cannot_use(tmp_path: Path):
    path = tmp_path / "jobs.toml"
    # an unknown kind, then a valid one; a negative rate, then Enter for the default; a burst at 20/s
    answers = "cron\nbackground-jobs\n-3\n\ny\n20\n\n\n0\n\n\n"
    result = bpsim("new", str(path), input=answers)
    assert result.exit_code == 0, result.output
    assert "choose one of: webhooks, api-fanout, background-jobs, ingest-burst, realtime-latest" in result.output
    assert "enter a number of items per second greater than 0, or unlimited" in result.output
    scenario = load_scenario(path)
    assert scenario.producer.rate == 3.0 and scenario.producer.bursts[0].rate == 20.0
    assert scenario.downstream.concurrency is None  # 0 = no limit: the key is left out


def test_new_writes_korean_comments_with_lang_ko_and_can_print_to_stdout():
    result = bpsim("--lang", "ko", "new", "-", "--yes", "--kind", "realtime-latest")
    assert result.exit_code == 0
    assert "# 난수 seed: 같은 seed는 같은 실행을 만든다" in result.stdout
    data = tomllib.loads(result.stdout)
    assert data["queue"]["policy"] == "drop-oldest" and data["name"] == "나의 realtime-latest 시나리오"


# -- bpsim run NAME ------------------------------------------------------------------------------


def test_run_finds_a_bundled_scenario_by_name_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    result = bpsim("run", "unbounded", "--no-live")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Unbounded queue — maxsize = 0")
    assert "bpsim compare unbounded --vary queue.maxsize=0,20" in result.output


def test_run_in_korean_shows_the_korean_lesson():
    result = bpsim("--lang", "ko", "run", "graceful-vs-immediate", "--no-live")
    assert result.exit_code == 0
    assert result.output.startswith("Graceful shutdown과 즉시 shutdown — ")
    assert "배울 점" in result.output and "해 보기: --set shutdown.mode=immediate" in result.output


# -- the lesson in the summary -------------------------------------------------------------------


def test_lesson_text_joins_paragraph_lines_and_keeps_suggestions_on_their_own_lines():
    lesson = """
Watch the queue:
it fills up.

A new paragraph
keeps going.
Try: --set queue.maxsize=0, or
     --set queue.policy=drop-oldest
- a list item
  continued
bpsim compare burst --vary queue.maxsize=2,10
"""
    assert lesson_text(lesson).splitlines() == [
        "Watch the queue: it fills up.",
        "",
        "A new paragraph keeps going.",
        "Try: --set queue.maxsize=0, or",
        "     --set queue.policy=drop-oldest",
        "- a list item continued",
        "bpsim compare burst --vary queue.maxsize=2,10",
    ]


def test_lesson_text_keeps_korean_suggestions_on_their_own_lines():
    assert lesson_text("큐를 보세요.\n가득 찹니다.\n해 보기: --set queue.maxsize=0").splitlines() == [
        "큐를 보세요. 가득 찹니다.",
        "해 보기: --set queue.maxsize=0",
    ]


@pytest.mark.parametrize(
    ("name", "lang"), [("handbook", "en"), ("handbook", "ko"), ("realtime-latest", "en"), ("realtime-latest", "ko")]
)
def test_summary_golden_at_80_columns(name: str, lang: str):
    set_language(lang)
    text = render(summary(run(load_scenario(name))), width=80)
    assert max(cell_len(line) for line in text.splitlines()) <= 80  # wide Hangul cells counted as two
    assert_golden(f"summary_{name}_{lang}_80", text)


# -- bpsim new with a stdin that is not a person (issues #13, #17) --------------------------------


def test_new_to_stdout_puts_only_the_scenario_there_and_the_questions_on_stderr(tmp_path: Path):
    import subprocess
    import sys

    target = tmp_path / "my.toml"
    with target.open("w") as stdout:
        done = subprocess.run(
            [sys.executable, "-m", "bpsim", "new", "-"], input="\n" * 9, stdout=stdout, stderr=subprocess.PIPE,
            text=True, cwd=tmp_path, check=True,
        )
    text = target.read_text(encoding="utf-8")
    assert "What kind of system?" in done.stderr and "What kind of system?" not in text
    assert text.splitlines()[1] == "# Run it: bpsim run my.toml    Check it after editing: bpsim validate my.toml"
    assert load_scenario(target).name == "My webhooks scenario"


@pytest.mark.parametrize(
    "stdin, message",
    [
        ("", "stdin ended before every question was answered"),  # once "Aborted!", exit code 1
        ("\0" * 100_000, "an answer longer than 200 characters"),  # /dev/zero: once 2.5 GB read
        ("cron\n" * 50, "5 answers in a row were not valid"),
    ],
    ids=["empty", "endless-line", "endless-wrong-answers"],
)
def test_new_with_a_stdin_that_cannot_answer_gives_one_line_and_exit_code_2(tmp_path: Path, stdin: str, message: str):
    path = tmp_path / "x.toml"
    result = bpsim("new", str(path), input=stdin)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith(message)
    assert not path.exists()
