"""Every `bpsim ...` command in the README's and docs/'s code blocks runs, with the exit code shown.

A command is a line of a fenced code block that starts with `bpsim ` (or `$ bpsim `). It must exit
0, or with the code its trailing comment names (`bpsim run x.toml --set queue.maxsize=-1   # exit 2`).
What follows `|` or `>` is the shell's business and is left out. A block that only illustrates
(a file the reader has yet to write) is skipped when the line before its fence is
`<!-- not run: the reason -->`. Commands run in-process through CliRunner, headless, in an empty
folder where `scenarios/` and `examples/` are the repository's; sweeps are marked `slow`.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bpsim.cli import app
from tests.helpers import cli_runner

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<before>[^\n]*)\n[ \t]*```[\w-]*\n(?P<body>.*?)^[ \t]*```", re.M | re.S)
EXIT = re.compile(r"#\s*exit (\d+)\b")


def documented_commands() -> list[tuple[str, str, int]]:
    """(where, command, expected exit code) for every command of every page."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for block in FENCE.finditer(text):
            if block["before"].strip().startswith("<!-- not run:"):
                continue
            first_line = text.count("\n", 0, block.start("body")) + 1
            for offset, line in enumerate(block["body"].splitlines()):
                command = line.strip().removeprefix("$ ")
                if command.startswith("bpsim "):
                    expected = EXIT.search(command)
                    where = f"{page.relative_to(ROOT)}:{first_line + offset}"
                    found.append((where, command, int(expected[1]) if expected else 0))
    return found


COMMANDS = documented_commands()
# A sweep runs its scenario tens of times (seconds): with the slow tests, on one Python only.
CASES = [
    pytest.param(*case, id=case[0], marks=[pytest.mark.slow] if case[1].startswith("bpsim sweep") else [])
    for case in COMMANDS
]


def arguments(command: str) -> list[str]:
    """The arguments after `bpsim`, without comments and without the shell's pipes and redirects."""
    words = shlex.split(command, comments=True)
    for stop in ("|", ">", "2>", "&&", ";"):
        if stop in words:
            words = words[: words.index(stop)]
    return words[1:]


def test_the_pages_have_commands():
    assert len(COMMANDS) >= 10
    assert any(where.startswith("README.md") for where, _, _ in COMMANDS)


@pytest.mark.parametrize(("where", "command", "expected"), CASES)
def test_documented_command_runs(where, command, expected, tmp_path, monkeypatch):
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    (tmp_path / "examples").symlink_to(ROOT / "examples")  # the programs docs/your-code.md runs
    monkeypatch.chdir(tmp_path)
    result = cli_runner().invoke(app, arguments(command), prog_name="bpsim")
    assert result.exit_code == expected, f"{where}: {command}\n{result.output}"
