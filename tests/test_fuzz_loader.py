"""Whatever a learner gives `bpsim run` as a scenario, the answer is a clear message, never a traceback.

The contract checked for every input below: either the file is a valid scenario, or `bpsim run
FILE` exits with code 2, prints no traceback, and its first line of error output starts with the
file name as typed. Inputs: random bytes, truncated and mutated bundled scenarios, a nasty value at
every key, an unknown key in every table, `--set` with the same values, and odd files (empty,
not UTF-8, a directory, unreadable). A valid mutant is loaded but not run: how long a valid
scenario may run is the resource limits' business, not the loader's.

Inputs that once broke the contract live in tests/data/nasty/ and are checked one by one; a
file whose first line is `# expect: TEXT` must be refused with TEXT in its first error line.

The generated inputs take most of the suite's time: they are marked `slow`, and CI runs them
on one Python only (`pytest -m slow` on 3.13, `pytest -m "not slow"` on the others).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomllib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bpsim.cli import app
from bpsim.errors import ScenarioError
from bpsim.loader import bundled_scenarios, load_scenario
from bpsim.scenario import MAX_RATE, MAX_SECONDS, MIN_RATE, MIN_SECONDS
from bpsim.theory import theory_for

NASTY = Path(__file__).parent / "data" / "nasty"

FUZZ = settings(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])

runner = CliRunner()

BUNDLED = {path.name: path.read_text(encoding="utf-8") for path in bundled_scenarios()}

# TOML values of every type, and numbers at every edge: nan and inf are valid TOML floats.
NASTY_VALUES = [
    '"text"',
    '""',
    "true",
    "[]",
    "[1, 2]",
    "{}",
    "{ x = 1 }",
    "1979-05-27",
    "0",
    "-1",
    "0.0",
    "-0.5",
    "9" * 30,
    "-" + "9" * 30,
    "1e308",
    "5e-324",
    "nan",
    "inf",
    "-inf",
]


# -- the contract ------------------------------------------------------------------------------


def loads_or_explains(path: Path) -> bool:
    """True if `path` is a valid scenario; False if the loader says clearly why not.

    Anything else the loader raises fails the test with that exception.
    """
    try:
        load_scenario(str(path))
    except ScenarioError as error:
        lines = error.lines()
        assert lines and lines[0].startswith(str(path)), lines
        return False
    return True


def cli_error(*args: str) -> str:
    """Run `bpsim ARGS`; assert it exits 2 without a traceback and return its first error line."""
    result = runner.invoke(app, list(args), catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr.splitlines()[0]


def assert_cli_explains(path: Path) -> None:
    """The file at `path` is valid, or `bpsim run PATH --no-live` explains it, naming the file first."""
    if path.is_file() and loads_or_explains(path):
        return  # valid: running it is not this module's business
    if path.name.startswith("deep-"):
        # Nested thousands deep, the file takes tomllib to the recursion limit. In this test
        # process, after the fuzz tests (3.13), something left behind then reports errors there
        # that Python prints as "Exception ignored in sys.unraisablehook" over the line; a user's
        # process holds nothing of the kind, so the file is checked as a user runs it.
        process = subprocess.run(
            [sys.executable, "-m", "bpsim", "run", str(path), "--no-live"],
            capture_output=True, text=True, timeout=60, env={**os.environ, "LANG": "C.UTF-8"},
        )  # fmt: skip
        assert process.returncode == 2 and "Traceback" not in process.stderr, process.stderr
        assert process.stderr.splitlines()[0].startswith(str(path)), process.stderr
        return
    assert cli_error("run", str(path), "--no-live").startswith(str(path))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file, rewritten by each example (hypothesis examples cannot use function fixtures)."""
    return tmp_path_factory.mktemp("fuzz") / "scenario.toml"


# -- TOML text from data, for values placed at every key -----------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are TOML basic-string escapes
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {toml_value(v)}" for key, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def toml_text(data: dict[str, Any], raw: dict[tuple[str, ...], str]) -> str:
    """A TOML document of `data`, with `raw[path]` written verbatim as the value at `path`."""

    def value_at(path: tuple[str, ...], value: Any) -> str:
        if path in raw:
            return raw[path]
        if isinstance(value, dict):
            return "{ " + ", ".join(f"{k} = {value_at((*path, k), v)}" for k, v in value.items()) + " }"
        return toml_value(value)

    top = [f"{key} = {value_at((key,), value)}" for key, value in data.items() if not isinstance(value, dict)]
    tables = [
        f"[{name}]\n" + "\n".join(f"{key} = {value_at((name, key), value)}" for key, value in table.items())
        for name, table in data.items()
        if isinstance(table, dict)
    ]
    return "\n".join(top) + "\n\n" + "\n\n".join(tables) + "\n"


def leaf_paths(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every key path holding a value or a table, depth first (lists count as values)."""
    for key, value in data.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from leaf_paths(value, (*prefix, key))


def table_paths(data: dict[str, Any], prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every table's key path, including tables inside lists such as ("producer", "bursts", 0)."""
    yield prefix
    for key, value in data.items():
        if isinstance(value, dict):
            yield from table_paths(value, (*prefix, key))
        elif isinstance(value, list):
            for index, element in enumerate(value):
                if isinstance(element, dict):
                    yield from table_paths(element, (*prefix, key, index))


# -- random and mutated files --------------------------------------------------------------------


@pytest.mark.slow
@settings(FUZZ, max_examples=120)
@given(st.binary(max_size=600))
def test_random_bytes_are_explained(scratch: Path, raw: bytes):
    scratch.write_bytes(raw)
    assert_cli_explains(scratch)


TOKENS = ["=", "[", "]", "[[", '"', "'", '"""', "{", "}", ",", ".", "\n", "#", "-", "nan", "inf", "1e999", "true", "\x00", "\xff"]


@st.composite
def mutants(draw: st.DrawFn) -> bytes:
    """A bundled scenario with a few spans deleted, duplicated or replaced by TOML tokens."""
    text = BUNDLED[draw(st.sampled_from(sorted(BUNDLED)))]
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 40)))
        kind = draw(st.sampled_from(["delete", "duplicate", "token"]))
        if kind == "delete":
            text = text[:start] + text[end:]
        elif kind == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        else:
            text = text[:start] + draw(st.sampled_from(TOKENS)) + text[end:]
    return text.encode("utf-8", errors="surrogateescape")


@pytest.mark.slow
@settings(FUZZ, max_examples=150)
@given(mutants())
def test_mutated_bundled_scenarios_are_explained(scratch: Path, raw: bytes):
    scratch.write_bytes(raw)
    assert_cli_explains(scratch)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_scenarios_truncated_anywhere_are_explained(tmp_path: Path, name: str):
    text = BUNDLED[name]
    path = tmp_path / name
    # Every line start, and the middle of every line: inside keys, values, strings and tables.
    cuts = {0, len(text) - 1}
    offset = 0
    for line in text.splitlines(keepends=True):
        cuts |= {offset, offset + len(line) // 2}
        offset += len(line)
    for cut in sorted(cuts):
        path.write_text(text[:cut], encoding="utf-8")
        assert_cli_explains(path)


# -- structured: every key, every table ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUNDLED))
@pytest.mark.parametrize("value", NASTY_VALUES)
def test_a_nasty_value_at_any_key_is_explained(tmp_path: Path, name: str, value: str):
    data = tomllib.loads(BUNDLED[name])
    path = tmp_path / name
    for key in leaf_paths(data):
        path.write_text(toml_text(data, {key: value}), encoding="utf-8")
        loads_or_explains(path)


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_an_unknown_key_in_any_table_is_named(tmp_path: Path, name: str):
    path = tmp_path / name
    for table in table_paths(tomllib.loads(BUNDLED[name])):
        data = tomllib.loads(BUNDLED[name])
        inner = data
        for part in table:
            inner = inner[part]
        inner["bogus"] = 1
        path.write_text(toml_text(data, {}), encoding="utf-8")
        first_line = cli_error("run", str(path), "--no-live")
        assert first_line.startswith(str(path))
        dotted = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in (*table, "bogus"))
        assert f"{dotted.lstrip('.')}: unknown key" in first_line


@pytest.mark.slow
@pytest.mark.parametrize("value", NASTY_VALUES)
def test_a_nasty_set_override_is_explained(value: str):
    for key in ("items", "seed", "queue.maxsize", "producer.rate", "workers.service.mean", "shutdown.at", "x.y"):
        override = f"{key}={value}"
        try:
            load_scenario("handbook", [override])
        except ScenarioError:
            assert cli_error("run", "handbook", "--no-live", "--set", override).startswith(f"--set {override}")


# -- odd files -----------------------------------------------------------------------------------


def test_an_empty_file_is_explained(tmp_path: Path):
    path = tmp_path / "empty.toml"
    path.write_bytes(b"")
    assert_cli_explains(path)


def test_a_file_that_is_not_utf8_is_explained_with_the_byte(tmp_path: Path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "café"\nitems = 3\n'.encode("latin-1"))
    result = runner.invoke(app, ["run", str(path), "--no-live"])
    assert result.exit_code == 2
    assert result.stderr == f"{path}:1:12: not UTF-8 text (byte 0xe9); save the file as UTF-8\n"


def test_a_directory_is_explained(tmp_path: Path):
    assert_cli_explains(tmp_path)


def test_a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer(tmp_path: Path):
    fifo = tmp_path / "scenario.toml"
    os.mkfifo(fifo)
    for command in ("run", "validate"):
        result = runner.invoke(app, [command, str(fifo), "--no-live"] if command == "run" else [command, str(fifo)])
        assert result.exit_code == 2
        assert result.output == f"{fifo}: is not a regular file (a FIFO, a device or a socket); give a scenario file (.toml)\n"


def test_a_file_given_through_a_pipe_is_read(tmp_path: Path):
    # `bpsim run <(sed ... burst.toml)`: /dev/fd/N is a pipe this process has open, not a FIFO.
    read_end, write_end = os.pipe()
    os.write(write_end, b"items = 3\n")
    os.close(write_end)
    try:
        assert load_scenario(f"/dev/fd/{read_end}").items == 3
    finally:
        os.close(read_end)


def test_a_path_through_a_regular_file_is_explained(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("not a folder", encoding="utf-8")
    assert_cli_explains(tmp_path / "notes.txt" / "scenario.toml")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_file_is_explained(tmp_path: Path):
    path = tmp_path / "secret.toml"
    path.write_text("items = 3\n", encoding="utf-8")
    path.chmod(0)
    assert_cli_explains(path)


def test_an_endless_file_is_refused_without_eating_memory():
    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (256 * 2**20, 256 * 2**20))

    completed = subprocess.run(
        [sys.executable, "-m", "bpsim", "run", "/dev/zero", "--no-live"],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit_memory,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith("/dev/zero")


# -- the corpus ----------------------------------------------------------------------------------


def corpus() -> list[Any]:
    params = []
    for path in sorted(NASTY.iterdir()):
        slow = path.stat().st_size > 50_000  # five thousand unknown keys: seconds of validation
        params.append(pytest.param(path, id=path.name, marks=[pytest.mark.slow] if slow else []))
    return params


@pytest.mark.parametrize("path", corpus())
def test_nasty_corpus_files_are_explained(path: Path):
    assert_cli_explains(path)
    # A file whose first line is `# expect: TEXT` must be refused with TEXT in its first line.
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8", errors="replace")
    if first.startswith("# expect: "):
        assert first.removeprefix("# expect: ") in cli_error("run", str(path), "--no-live")


@pytest.mark.parametrize("rate", [MIN_RATE, 3.5, MAX_RATE])
@pytest.mark.parametrize("mean", [MIN_SECONDS, 1.0, MAX_SECONDS])
@pytest.mark.parametrize("workers", [1, 4])
@pytest.mark.parametrize("maxsize", [0, 1, 1000])
def test_theory_at_the_corners_of_the_accepted_ranges_is_finite(rate: float, mean: float, workers: int, maxsize: int):
    # A rate of 1e308 or a mean of 5e-324 are refused by the loader; everything it accepts must
    # give theory numbers that JSON can hold (issue #17: ZeroDivisionError, math domain error).
    settings = [f"producer.rate={rate!r}", f'workers.service={{ distribution = "exponential", mean = {mean!r} }}']
    scenario = load_scenario("textbook", [*settings, f"workers.count={workers}", f"queue.maxsize={maxsize}"])
    json.dumps(dataclasses.asdict(theory_for(scenario)), allow_nan=False)


# -- hostile text (issue #17) ----------------------------------------------------------------------

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\u202e\x9b"
CONTROLS = "\x1b\x07\u202e\x9b"
SHOWN = "\\x1b]0;pwned\\x07\\x1b[2J\\u202e\\x9b"


def hostile_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.toml"
    words = {key: f"{key} {ESCAPES} :thumbs_down: :-1:" for key in ("name", "description", "lesson")}
    path.write_text(toml_text({**words, "items": 5}, {}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "{path}"],
        ["run", "{path}", "--no-live"],
        ["run", "{path}", "--no-live", "--set", f"bogus{ESCAPES}=1"],
        ["run", "{path}", "--no-live", "--set", f"queue.policy={ESCAPES}"],
        ["compare", "{path}", "--no-live", "--vary", f'name="{ESCAPES}",b'],
        ["sweep", "{path}", "--jobs", "1", "--param", f"queue.maxsize=1,{ESCAPES}"],
        ["theory", "{path}"],
    ],
    ids=["validate", "run", "set-key", "set-value", "compare-label", "sweep-value", "theory"],
)
def test_control_characters_from_a_file_or_an_option_never_reach_the_terminal(tmp_path: Path, args: list[str]):
    path = hostile_scenario(tmp_path)
    result = runner.invoke(app, [arg.replace("{path}", str(path)) for arg in args])
    output = result.stdout + result.stderr
    assert not any(char in output for char in CONTROLS), output
    if args[0] not in ("validate", "theory"):  # they show no scenario words
        assert SHOWN in output  # escaped, so the user sees what the file or option holds
    assert "👎" not in output  # Rich's emoji codes are off for user text


def test_an_emoji_code_in_an_option_stays_text():
    result = runner.invoke(app, ["sweep", "handbook", "--param", "queue.maxsize=1..10:-1"])
    assert result.exit_code == 2
    assert result.stderr.startswith("--param queue.maxsize=1..10:-1: a range goes up")
