"""Message catalogues: every sentence bpsim shows a person, in English and Korean.

Text lives in `bpsim/locale/<lang>/*.toml` (one file per area: summary, dashboard, explain...),
never in the code. `t("summary.blocked", seconds=4.2)` formats the message of the current
language, falling back to English for a key not translated yet. Technical identifiers
(`queue.put`, policy names, keys) are the same in every language.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["LANGUAGES", "language_code", "detect_language", "set_language", "language", "t"]

LANGUAGES = ("en", "ko")
_current = "en"


def language_code(value: str) -> str | None:
    """The language a tag or locale names, if bpsim speaks it: "ko", "KO", "ko-KR", "ko_KR.UTF-8"
    -> "ko"; "fr_FR" or "C" -> None."""
    code = re.split(r"[-_.@]", value.strip(), maxsplit=1)[0].lower()
    return code if code in LANGUAGES else None


def detect_language(environ: Mapping[str, str] = os.environ) -> str:
    """The language the environment asks for: BPSIM_LANG, else the locale (LC_ALL, LC_MESSAGES,
    LANG, the first one set), else English. Raises ValueError for a BPSIM_LANG bpsim does not
    speak: a setting made for bpsim alone should not be ignored in silence."""
    wanted = environ.get("BPSIM_LANG", "")
    if wanted:
        code = language_code(wanted)
        if code is None:
            raise ValueError(f"BPSIM_LANG={wanted!r} is not a language bpsim speaks; use {' or '.join(LANGUAGES)}")
        return code
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable, "")
        if value:
            return language_code(value) or "en"
    return "en"


def set_language(lang: str) -> None:
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose {' or '.join(LANGUAGES)}")
    _current = lang


def language() -> str:
    return _current


@cache
def _catalogue(lang: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    folder = resources.files("bpsim") / "locale" / lang
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            area = entry.name.removesuffix(".toml")
            _flatten(area, tomllib.loads(entry.read_text(encoding="utf-8")), messages)
    return messages


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        if isinstance(value, Mapping):
            _flatten(f"{prefix}.{key}", value, out)
        else:
            out[f"{prefix}.{key}"] = value


def t(key: str, /, **fields: object) -> str:
    """The message `key` in the current language, with `fields` formatted in."""
    template = _catalogue(_current).get(key)
    if template is None:
        template = _catalogue("en")[key]  # a missing English key is a bug: KeyError
    return template.format(**fields) if fields else template
