"""Start-up: what `bpsim --help` and `bpsim scenarios` import, and what they read (what `import
bpsim` imports: tests/test_api.py).

Time itself is measured in `benchmarks/startup.py`, never asserted: a shared machine's load moves
every figure. What makes the time is asserted instead: the modules a command imports (each heavy
one costs 5 to 60 ms) beyond those Typer imports for any app.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bpsim.library import bundled_scenarios, description

ROOT = Path(__file__).parent.parent

SHOW_MODULES = "import sys; print(' '.join(sys.modules), file=sys.stderr)"

TYPER_APP = """
import sys, typer
app = typer.Typer(pretty_exceptions_enable=False, rich_markup_mode=None)
@app.command()
def hello() -> None: pass
@app.command()
def other() -> None: pass
try: app(sys.argv[1:], prog_name="hello")
except SystemExit: pass
"""
"""A two-command Typer app with bpsim's settings: whatever it imports is Typer's business (Typer
0.29 imports pydantic to run any command; other versions import rich or click)."""


def modules(code: str, *args: str) -> set[str]:
    """The modules a fresh interpreter has imported after `code` runs with `args` as its argv."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{SHOW_MODULES}", *args], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(done.stderr.split())


def bpsim_modules(*args: str, typer_args: tuple[str, ...]) -> set[str]:
    """The modules `bpsim ARGS` imports (through the `bpsim` program's entry point) beyond those
    of the Typer app run with `typer_args`."""
    code = "import sys\nfrom bpsim.__main__ import main\ntry: main()\nexcept SystemExit: pass"
    return modules(code, *args) - modules(TYPER_APP, *typer_args)


def heavy(loaded: set[str]) -> list[str]:
    """The modules among `loaded` that a listing or a help page must not pay for."""
    packages = ("rich", "pydantic", "pydantic_core", "asyncio", "tomllib", "json")
    engine = ("bpsim.engine", "bpsim.pipeline", "bpsim.clock", "bpsim.scenario", "bpsim.loader", "bpsim.render")
    return sorted(
        name
        for name in loaded
        if name.split(".")[0] in packages or name.startswith(engine) or name in ("termios", "importlib.resources")
    )


def test_help_imports_nothing_heavy():
    assert heavy(bpsim_modules("--help", typer_args=("--help",))) == []


def test_a_command_s_help_imports_nothing_heavy():
    assert heavy(bpsim_modules("run", "--help", typer_args=("hello", "--help"))) == []


def test_scenarios_imports_only_rich_s_table_and_a_toml_parser():
    loaded = heavy(bpsim_modules("scenarios", typer_args=("hello",)))
    assert not [name for name in loaded if name.startswith(("rich.markdown", "rich.syntax", "rich.live", "pygments"))]
    assert not [name for name in loaded if name.startswith(("pydantic", "asyncio", "bpsim.engine", "bpsim.scenario"))]
    renderers = {name for name in loaded if name.startswith("bpsim.")}
    assert renderers <= {"bpsim.render", "bpsim.render.scenarios", "bpsim.render.theme"}, "the list's renderer and styles only"


def test_a_headless_run_needs_neither_termios_nor_a_file_writer():
    # termios exists on POSIX only: the live view's keys need it, a headless run must not (Windows).
    loaded = bpsim_modules("run", "handbook", "--no-live", typer_args=("hello",))
    assert not {"termios", "bpsim.output", "bpsim.render.live"} & loaded


# -- reading a description without reading the whole file -----------------------------------------------


def whole_file_description(path: Path, lang: str) -> str:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    translated = data.get(lang, {}) if lang != "en" else {}
    return str(translated.get("description") or data.get("description", ""))


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_bundled_description_reads_as_the_whole_file_says(lang: str):
    for path in bundled_scenarios():
        assert description(path, lang) == whole_file_description(path, lang), path.name


TRICKY = {
    "a lesson holding a table header and a description line": '''name = "x"
lesson = """
[ko]
description = "not this one"
"""
description = "the real one"
[ko]
lesson = "..."
description = "진짜"
''',
    "a multi-line description": '''description = """two
lines"""
[ko]
description = """두
줄"""
''',
    "a line that closes a multi-line string": '''lesson = """
description = """
description = "after the lesson"
''',
    "no Korean table": 'description = "only English"\n',
    "a Korean table without a description": 'description = "English"\n[ko]\nname = "이름"\n',
    "a description in an inline table": 'ko = { description = "인라인" }\ndescription = "English"\n',
}


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", TRICKY)
def test_a_description_is_read_exactly_even_from_a_tricky_file(tmp_path: Path, name: str, lang: str):
    path = tmp_path / "tricky.toml"
    path.write_text(TRICKY[name], encoding="utf-8")
    assert description(path, lang) == whole_file_description(path, lang)
