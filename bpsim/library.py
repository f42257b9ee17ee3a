"""The bundled scenarios, found and described without validating them.

`bpsim scenarios` and shell completion only need each scenario's name and description, so they
read them with `tomllib` and never import pydantic (the test suite validates every bundled file).
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

__all__ = ["bundled_folder", "bundled_scenarios", "bundled_names", "description"]


def bundled_folder() -> Path:
    # bpsim installs as plain files (setuptools, not zipped), so the package folder is a real path.
    return Path(str(resources.files("bpsim") / "scenarios"))


def bundled_scenarios() -> list[Path]:
    """The scenarios shipped inside the bpsim package, sorted by name."""
    folder = bundled_folder()
    return sorted(folder.glob("*.toml"), key=lambda p: p.name) if folder.is_dir() else []


def bundled_names() -> list[str]:
    """What `bpsim run NAME` accepts for the bundled scenarios: "burst", "webhooks"..."""
    return [path.stem for path in bundled_scenarios()]


def description(path: Path, lang: str) -> str:
    """The scenario's description in `lang` (its `[ko]` table), else in English."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    translated = data.get(lang, {}) if lang != "en" else {}
    return str(translated.get("description") or data.get("description", ""))
