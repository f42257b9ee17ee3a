"""What the package says about itself: one version, its licence, its floors, its types."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from typer.testing import CliRunner

import bpsim
from bpsim.cli import app

ROOT = Path(__file__).parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_version_is_written_once_and_reported_everywhere():
    assert PROJECT["dynamic"] == ["version"] and "version" not in PROJECT
    assert importlib.metadata.version("bpsim") == bpsim.__version__
    assert CliRunner().invoke(app, ["--version"]).output == f"bpsim {bpsim.__version__}\n"


def test_the_licence_file_is_the_one_the_metadata_names():
    assert PROJECT["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_the_package_says_it_is_typed():
    assert (Path(bpsim.__file__).parent / "py.typed").exists()


def test_the_floors_ci_installs_are_the_floors_pyproject_declares_for_python_3_11():
    declared: dict[str, str] = {}
    for requirement in PROJECT["dependencies"]:
        spec, _, marker = requirement.partition(";")
        if marker and not re.fullmatch(r"\s*python_version\s*<\s*'3\.1[2-9]'\s*", marker):
            continue  # applies to newer Pythons only
        name, floor = re.fullmatch(r"\s*([\w.]+)\s*>=\s*([\w.]+)\s*", spec).groups()  # type: ignore[union-attr]
        declared[name] = floor
    lines = (ROOT / ".ci" / "floors.txt").read_text(encoding="utf-8").splitlines()
    pinned = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    assert {name: version for name, version in pinned.items() if name in declared} == {
        name: floor if floor.count(".") == 2 else f"{floor}.0" for name, floor in declared.items()
    }
    assert set(pinned) - set(declared) == {"click"}, "click only as typer's dependency (see floors.txt)"


def test_import_bpsim_is_cheap_and_still_the_engines_api():
    assert set(bpsim.__all__) <= set(dir(bpsim))
    assert bpsim.run.__module__ == "bpsim.api" and bpsim.Policy.BLOCK.value == "block"  # it calls bpsim.engine.run
