"""Message catalogues: every sentence bpsim shows a person, in English and Korean.

Text lives in `bpsim/locale/<lang>/*.toml` (one file per area: summary, dashboard, explain...),
never in the code. `t("summary.blocked", seconds=4.2)` formats the message of the current
language, falling back to English for a key not translated yet. Technical identifiers
(`queue.put`, policy names, keys) are the same in every language.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["LANGUAGES", "language_code", "detect_language", "set_language", "language", "t", "t_count"]

LANGUAGES = ("en", "ko")
LOCALE = Path(__file__).parent / "locale"
"""The catalogues' folder. bpsim installs as plain files (setuptools, not zipped), so a path
beside this module is enough; `importlib.resources` would add 3 ms to every start."""
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
def _area(lang: str, area: str) -> dict[str, str]:
    """The messages of one file, `locale/<lang>/<area>.toml`, keyed "area.name...".

    Read one area at a time, on first use: a command reads the few it shows (a summary needs no
    `explain.toml`, the largest), and `bpsim --help` reads none, nor imports a TOML parser."""
    import tomllib

    messages: dict[str, str] = {}
    path = LOCALE / lang / f"{area}.toml"
    if path.is_file():
        _flatten(area, tomllib.loads(path.read_text(encoding="utf-8")), messages)
    return messages


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        if isinstance(value, Mapping):
            _flatten(f"{prefix}.{key}", value, out)
        else:
            out[f"{prefix}.{key}"] = value


def t(key: str, /, **fields: object) -> str:
    """The message `key` in the current language, with `fields` formatted in."""
    area = key.partition(".")[0]
    template = _area(_current, area).get(key)
    if template is None:
        template = _area("en", area)[key]  # a missing English key is a bug: KeyError
    return template.format(**fields) if fields else template


def t_count(key: str, count: int, /, **fields: object) -> str:
    """The message `key` with `count` formatted in, or `KEY_one` where `count` is 1 and the
    catalogue has one: "1 item met ...", not "1 items met ...". (Every language has the same
    keys; Korean, which has no plural, says the same in both.) `fields` may hold `count` as
    shown ("1,204"); by default it is `count` itself."""
    one = f"{key}_one"
    if count == 1 and one in _area("en", key.partition(".")[0]):
        key = one
    return t(key, **({"count": count} | fields))
