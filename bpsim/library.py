"""The bundled scenarios, found and described without validating them.

`bpsim scenarios` and shell completion only need each scenario's name and description, so they
read them with `tomllib` and never import pydantic (the test suite validates every bundled file).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["bundled_folder", "bundled_scenarios", "bundled_names", "description"]

_DESCRIPTION = re.compile(r"^description\s*=.*$", re.MULTILINE)


def bundled_folder() -> Path:
    # bpsim installs as plain files (setuptools, not zipped), so the package folder is a real path
    # (and `importlib.resources` would add 3 ms to `bpsim scenarios`).
    return Path(__file__).parent / "scenarios"


def bundled_scenarios() -> list[Path]:
    """The scenarios shipped inside the bpsim package, sorted by name."""
    folder = bundled_folder()
    return sorted(folder.glob("*.toml"), key=lambda p: p.name) if folder.is_dir() else []


def bundled_names() -> list[str]:
    """What `bpsim run NAME` accepts for the bundled scenarios: "burst", "webhooks"..."""
    return [path.stem for path in bundled_scenarios()]


def description(path: Path, lang: str) -> str:
    """The scenario's description in `lang` (its `[ko]` table), else in English."""
    text = path.read_text(encoding="utf-8")
    data = _head(text, lang if lang != "en" else None)
    translated = data.get(lang, {}) if lang != "en" else {}
    return str(translated.get("description") or data.get("description", ""))


def _head(text: str, table: str | None) -> dict[str, Any]:
    """The file read only as far as its `description` (the one in `[table]` if given), else all.

    A description is near the top; the lessons and moments after it are most of the file, so this
    reads the bundled files in a third of the time. It is exact: the beginning of a file, cut at
    the end of a line, that parses and defines the key holds the values the whole file holds
    (TOML never redefines a key); a cut inside a multi-line string or array does not parse."""
    start = 0
    if table is not None:
        header = re.search(rf"^\[{re.escape(table)}\][ \t]*(#.*)?$", text, re.MULTILINE)
        start = header.end() if header else len(text)
    found = _DESCRIPTION.search(text, start)
    if found is not None:
        try:
            head = tomllib.loads(text[: found.end()])
        except tomllib.TOMLDecodeError:
            pass
        else:
            where = head.get(table, {}) if table is not None else head
            if isinstance(where, dict) and "description" in where:
                return head
    return tomllib.loads(text)
