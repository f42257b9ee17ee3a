"""TOML -> Scenario: find the file, apply --set overrides and --seed, report every problem at once.

Every mistake a user can make in a scenario, from a missing file to a negative rate, becomes a
`Problem` that points at a file line (or at the `--set` that caused it), and all of them are
raised together in one `ScenarioError`. Nothing here raises anything else for bad input.
"""

from __future__ import annotations

import copy
import datetime
import difflib
import functools
import re
import shlex
import unicodedata
import tomllib
from collections.abc import Sequence
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from bpsim.errors import Problem, ScenarioError
from bpsim.i18n import t
from bpsim.library import bundled_scenarios
from bpsim.paths import open_file_link
from bpsim.scenario import Scenario

__all__ = ["find_scenario", "bundled_scenarios", "load_scenario", "scenario_problems", "scenario_from_text"]

KeyPath = tuple[str | int, ...]
SetPath = tuple[str, ...]  # a --set key: names only, no list indices
"""A key path as the user wrote it: ("producer", "bursts", 0, "rate")."""

_KEY = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_ARRAY_HEADER = re.compile(rf"\s*\[\[\s*({_DOTTED})\s*\]\]")
_TABLE_HEADER = re.compile(rf"\s*\[\s*({_DOTTED})\s*\]")
_KEY_LINE = re.compile(rf"\s*({_DOTTED})\s*=\s*(.*)")
_TOML_WHERE = re.compile(r" \(at (?:line (\d+), column (\d+)|end of document)\)$")

# tomllib's message (English in every language) -> our hint after it, errors.toml.<key>.
_SYNTAX_HINTS = {
    "Cannot overwrite a value": "duplicate_key",
    "Cannot declare": "duplicate_table",
    "Expected '=' after a key": "needs_equals",
}

# pydantic's error types we say in our words (errors.value.<type>, with the value the user gave as
# {shown}); other types keep pydantic's English, and our own (scenario.py) their translated message.
_SAID_SHORTER = frozenset({
    "greater_than", "greater_than_equal", "less_than", "less_than_equal", "int_type", "float_type",
    "finite_number", "string_type", "bool_type", "literal_error", "model_type", "model_attributes_type",
    "list_type", "missing",
})

# Unions that pydantic tries member by member report one error per member: say it once instead.
_UNION_MESSAGES: dict[KeyPath, str] = {
    ("producer", "rate"): "errors.value.rate",
    ("producer", "arrivals"): "errors.value.arrivals",
    ("downstream", "concurrency"): "errors.value.concurrency",
}


def find_scenario(name_or_path: str | Path) -> Path:
    """The scenario file meant by `name_or_path`: an existing path, else a bundled scenario's name.

    "burst" and "burst.toml" both find the bundled burst.toml from any directory. Raises
    ScenarioError with one Problem (and a did-you-mean among bundled names) if neither exists.
    """
    path = Path(name_or_path)
    if path.exists():
        return path
    wanted = str(name_or_path).removesuffix(".toml")
    by_name = {p.stem: p for p in bundled_scenarios()}
    if wanted in by_name:
        return by_name[wanted]
    close = difflib.get_close_matches(wanted, list(by_name), n=1)
    hint = t("errors.did_you_mean", name=close[0]) if close else ""
    raise ScenarioError([Problem(str(name_or_path), t("errors.file.not_found", hint=hint))])


def load_scenario(name_or_path: str | Path, overrides: Sequence[str] = (), seed: int | None = None) -> Scenario:
    """Read, parse, override (`--set KEY=VALUE`, then `seed`) and validate a scenario.

    Raises ScenarioError listing every problem found: file problems ordered by line, then
    problems caused by overrides in the order they were given.
    """
    path = find_scenario(name_or_path)
    # Name the file as the user typed it; a bundled scenario by its file name, not its install path.
    source = str(name_or_path) if Path(name_or_path).exists() else path.name
    return scenario_from_text(_read(path, source), source, overrides, seed, base=path.parent)


def scenario_problems(
    name_or_path: str | Path, overrides: Sequence[str] = (), seed: int | None = None
) -> list[Problem]:
    """Every problem `load_scenario` would raise, or [] if the scenario is valid."""
    try:
        load_scenario(name_or_path, overrides, seed)
    except ScenarioError as error:
        return error.problems
    return []


def scenario_from_text(
    text: str,
    source: str = "<string>",
    overrides: Sequence[str] = (),
    seed: int | None = None,
    base: Path | None = None,
) -> Scenario:
    """Like `load_scenario` for TOML `text`; `source` names it in problems. Data files
    (`arrivals = { file = ... }`) are read relative to `base`, else the working directory."""
    try:
        data = copy.deepcopy(_parsed(text))  # overrides are written into it
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError([_syntax_problem(error, text, source)]) from None
    except RecursionError:
        raise ScenarioError([Problem(source, t("errors.toml.too_deep"))]) from None
    except ValueError as error:
        if "digits" in str(error):  # Python's guard: "Exceeds the limit (4300 digits) ... sys.set_int_max_str_digits()"
            raise ScenarioError([Problem(source, t("errors.toml.huge_integer"))]) from None
        raise ScenarioError([Problem(source, t("errors.toml.unreadable", reason=error))]) from None
    set_problems: list[Problem] = []
    set_paths: dict[KeyPath, str] = {}
    for override in overrides:
        try:
            key, value = _parse_override(override)
            _assign(data, key, value)
        except ValueError as error:
            set_problems.append(Problem(f"--set {override}", str(error)))
        else:
            set_paths[key] = f"--set {override}"
    if seed is not None:
        data["seed"] = seed
    try:
        scenario = Scenario.model_validate(data, context={"base": base})
    except ValidationError as error:
        problems = _validation_problems(error, data, text, source, set_paths)
    else:
        problems = []
    in_file = sorted((p for p in problems if p.source == source), key=lambda p: p.line or 0)
    order = {f"--set {override}": index for index, override in enumerate(overrides)}
    from_set = sorted(set_problems + [p for p in problems if p.source != source], key=lambda p: order[p.source])
    problems = in_file + from_set
    if problems:
        raise ScenarioError(problems)
    return scenario


@functools.lru_cache(maxsize=4)
def _parsed(text: str) -> dict[str, Any]:
    # A sweep or a comparison loads one file once per variant (50 times for `--param
    # queue.maxsize=1..50`): parsing it once makes building the variants 3 times faster.
    return tomllib.loads(text)


_MAX_BYTES = 1_000_000


def _read(path: Path, source: str) -> str:
    if path.is_dir():
        raise ScenarioError([Problem(source, t("errors.file.directory"))])
    # `bpsim run` runs a .py file as a program (cli.py tells them apart by the name, as here);
    # every other command reads scenarios, and Python read as TOML fails on its first line.
    if source.endswith(".py"):
        raise ScenarioError([Problem(source, t("errors.file.python", command=shlex.join(["bpsim", "run", source])))])
    # A FIFO would wait forever for a writer, a device never ends: only regular files, and the
    # files we already have open (`bpsim run /dev/stdin < x.toml`, `bpsim run <(sed ... x.toml)`).
    if not path.is_file() and open_file_link(str(path)) is None:
        raise ScenarioError([Problem(source, t("errors.file.not_regular"))])
    try:
        with path.open("rb") as file:
            raw = file.read(_MAX_BYTES + 1)  # never more: /dev/zero must not eat the memory
    except OSError as error:
        raise ScenarioError([Problem(source, t("errors.file.unreadable", reason=error.strerror))]) from None
    if len(raw) > _MAX_BYTES:
        raise ScenarioError([Problem(source, t("errors.file.too_large"))])
    try:
        return raw.decode("utf-8-sig")  # -sig: a byte-order mark some editors write is not text
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line, column = before.count(b"\n") + 1, error.start - (before.rfind(b"\n") + 1) + 1
        message = t("errors.file.not_utf8", byte=raw[error.start])
        raise ScenarioError([Problem(source, message, line, column)]) from None


def _syntax_problem(error: tomllib.TOMLDecodeError, text: str, source: str) -> Problem:
    # tomllib only has lineno/colno from 3.14; before that the position is in the message.
    message = getattr(error, "msg", str(error))
    line: int | None = getattr(error, "lineno", None)
    column: int | None = getattr(error, "colno", None)
    where = _TOML_WHERE.search(message)
    if where is not None:
        message = message[: where.start()]
        if where.group(1) is not None:
            line, column = int(where.group(1)), int(where.group(2))
    lines = text.splitlines() or [""]
    if line is None or column is None:  # "at end of document": point just after the last character
        line, column = len(lines), len(lines[-1]) + 1
    context = lines[line - 1] if line <= len(lines) else ""
    hint = next((t(f"errors.toml.{h}") for start, h in _SYNTAX_HINTS.items() if message.startswith(start)), None)
    odd = context[column - 1 : column]
    if odd and not odd.isascii():  # a Cyrillic а in `mаxsize` looks right and is not a key character
        hint = t("errors.toml.not_ascii", char=odd, code=f"U+{ord(odd):04X}", name=unicodedata.name(odd, "?"))
    if message == "Invalid value" and context[column - 1 : column].isalpha():
        hint = _quotes_hint(context, column)  # a bare word; not an unclosed [ or a stray =
    return Problem(source, f"{message} {hint}" if hint else message, line, column, context=context)


def _quotes_hint(line: str, column: int) -> str:
    """'(strings need quotes: mode = "immediate")' for the bare word at `column` of `line`."""
    word = re.match(r"[^\s#,\]}]+", line[column - 1 :])
    quoted = f'"{word.group() if word else ""}"'
    key_line = _KEY_LINE.match(line)
    if key_line is not None and key_line.start(2) + 1 == column:  # the word is the whole value
        quoted = f"{key_line.group(1)} = {quoted}"
    return t("errors.toml.needs_quotes", quoted=quoted)


def _parse_override(override: str) -> tuple[SetPath, Any]:
    key, equals, value = override.partition("=")
    parts = tuple(part.strip() for part in key.split("."))
    if not equals or not all(parts):
        raise ValueError(t("errors.set.usage"))
    if any(quote in key for quote in "\"'"):
        parts = _quoted_key(key)
    for text in (value, _BARE_WORD.sub(_quoted, value)):
        try:
            return parts, tomllib.loads(f"v = {text}")["v"]
        except (tomllib.TOMLDecodeError, RecursionError):
            pass
        except ValueError:  # Python's guard against ints of thousands of digits (not TOML's error)
            raise ValueError(t("errors.toml.huge_integer")) from None
    return parts, value.strip()  # unquoted words: --set queue.policy=drop-oldest


# A bare word as a value inside an inline table: --set 'queue={maxsize=5, policy=drop-oldest}'.
_BARE_WORD = re.compile(r"(=\s*)([A-Za-z_][A-Za-z0-9_.-]*)(?=\s*[,}])")


def _quoted(match: re.Match[str]) -> str:
    word = match.group(2)
    return match.group(0) if word in ("true", "false", "inf", "nan") else f'{match.group(1)}"{word}"'


def _quoted_key(key: str) -> SetPath:
    """A --set key written with TOML quotes: `"queue"."maxsize"` is queue.maxsize, while
    `"queue.maxsize"` is a single key with a dot in its name, which no scenario has."""
    try:
        table = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        raise ValueError(t("errors.set.usage")) from None
    parts: list[str] = []
    while isinstance(table, dict):
        ((name, table),) = table.items()
        parts.append(name)
    if any("." in part for part in parts):
        unquoted = ".".join(parts)
        raise ValueError(t("errors.set.quoted_dots", key=key.strip(), unquoted=unquoted))
    return tuple(parts)


def _assign(data: dict[str, Any], key: SetPath, value: Any) -> None:
    table = data
    for depth, part in enumerate(key[:-1], start=1):
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise ValueError(t("errors.set.not_a_table", key=".".join(map(str, key[:depth]))))
    table[key[-1]] = value


def _validation_problems(
    error: ValidationError, data: dict[str, Any], text: str, source: str, set_paths: dict[KeyPath, str]
) -> list[Problem]:
    lines = _key_lines(text)
    problems: list[Problem] = []
    unions_said: set[KeyPath] = set()
    for detail in error.errors(include_url=False):
        path, is_union_member = _user_path(detail["loc"], data)
        if detail["type"] in ("union_tag_not_found", "union_tag_invalid") and not _present(path, data):
            detail, path = _nested_tag(detail, path[:-1])
        if is_union_member:
            if path in unions_said:
                continue
            unions_said.add(path)
        message = _message(detail, path, is_union_member)
        key = _dotted(path) if path else None
        culprit = _culprit(path, set_paths, lines, message)
        if culprit is not None:
            problems.append(Problem(culprit, message, key=key))
        else:
            problems.append(Problem(source, message, _line_of(path, lines), key=key))
    return problems


def _culprit(path: KeyPath, set_paths: dict[KeyPath, str], lines: dict[KeyPath, int], message: str) -> str | None:
    """The `--set` a problem at `path` comes from: one that set `path` or a table around it, or,
    for a table the file does not have, one that created it, or one that set a key of the table
    at `path` that the table's own rule names (`--set items=5` beside a file's `duration`)."""
    for key, override in set_paths.items():
        if path[: len(key)] == key or (path and path not in lines and key[: len(path)] == path):
            return override
    for key, override in set_paths.items():
        if key[:-1] == path and re.search(rf"`{re.escape(str(key[-1]))}`", message):
            return override
    return None


def _user_path(loc: tuple[str | int, ...], data: Any) -> tuple[KeyPath, bool]:
    """`loc` without the union-member tags pydantic inserts, and whether a trailing tag was dropped.

    Tags are recognised by not being in the data: ("workers", "service", "exponential", "mean")
    -> ("workers", "service", "mean"). A last key missing from a table is a missing field, kept.
    """
    path: list[str | int] = []
    dropped_last = False
    for index, part in enumerate(loc):
        is_last = index == len(loc) - 1
        if isinstance(data, dict) and (part in data or is_last):
            path.append(part)
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int):
            path.append(part)
            data = data[part]
        else:
            dropped_last = is_last
    return tuple(path), dropped_last


def _present(path: KeyPath, data: Any) -> bool:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def _nested_tag(detail: Any, path: KeyPath) -> tuple[Any, KeyPath]:
    """A tag error of a tagged union inside another union (`downstream.concurrency`: a count, or a
    table whose `adaptive` picks the model), whose `loc` ends in the outer union's label for the
    table, not a key: the problem is at the table, or at its tag key for an unknown value
    ("downstream.concurrency.adaptive: must be 'aimd' or 'gradient', not 'vegas'")."""
    if detail["type"] == "union_tag_not_found":
        return detail, path
    tag = detail["ctx"]["discriminator"].strip("'")
    expected = " or ".join(", ".join(repr(value) for value in _tags(path, tag)).rsplit(", ", 1))
    return {**detail, "type": "literal_error", "ctx": {"expected": expected}, "input": detail["ctx"]["tag"]}, (*path, tag)


def _message(detail: Any, path: KeyPath, is_union_member: bool) -> str:
    kind, ctx, shown = detail["type"], detail.get("ctx", {}), _show(detail["input"])
    if is_union_member:
        return t(_UNION_MESSAGES.get(path, "errors.value.wrong_type"), shown=shown)
    if kind == "extra_forbidden":
        names = list(dict.fromkeys(f for m in _members(path[:-1], detail["loc"]) for f in m.model_fields))
        close = difflib.get_close_matches(str(path[-1]), names, n=1) or _deeper_key(path)
        if close:
            return t("errors.value.unknown_key_close", name=close[0])
        return t("errors.value.unknown_key", names=", ".join(names))
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        tag = ctx["discriminator"].strip("'")
        choices = f" {t('errors.or')} ".join(", ".join(_tags(path, tag)).rsplit(", ", 1))
        if kind == "union_tag_not_found":
            return t("errors.value.tag_missing", table=path[-1], tag=tag, choices=choices)
        return t("errors.value.tag_invalid", value=_show(ctx["tag"]), tag=tag, choices=choices)
    if kind == "literal_error":  # pydantic joins the choices with an English " or "
        ctx = {**ctx, "expected": ctx["expected"].replace(" or ", f" {t('errors.or')} ")}
    return t(f"errors.value.{kind}", shown=shown, **ctx) if kind in _SAID_SHORTER else detail["msg"]


def _deeper_key(path: KeyPath) -> list[str]:
    """A key of a table inside the one at `path[:-1]` that `path[-1]` is close to: "maxsize" at the
    top level -> ["queue.maxsize"] (the user forgot the table). At most one: else nothing."""
    prefix = _dotted(path[:-1]) + "." if len(path) > 1 else ""
    inside = [key.removeprefix(prefix) for key in key_paths() if key.startswith(prefix)]
    leaves = {key: key.rsplit(".", 1)[-1] for key in inside if "." in key}
    close = difflib.get_close_matches(str(path[-1]), list(set(leaves.values())), n=1, cutoff=0.8)
    found = [key for key, leaf in leaves.items() if close and leaf == close[0]]
    return found if len(found) == 1 else []


_SHOWN_CHARACTERS = 40


def _show(value: Any) -> str:
    """A value as the user would recognise it in TOML, cut short when it is long."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return t("errors.shown.table")
    if isinstance(value, list):
        return t("errors.shown.list")
    if isinstance(value, datetime.date | datetime.time):  # TOML dates, not datetime.date(1979, 5, 27)
        return t("errors.shown.date", value=value.isoformat())
    shown = repr(value)
    return shown if len(shown) <= _SHOWN_CHARACTERS else f"{shown[: _SHOWN_CHARACTERS - 1]}…"


def _models_at(path: KeyPath) -> list[type[BaseModel]]:
    """The models a table at `path` may be validated by (several for a union such as `service`)."""
    models: list[type[BaseModel]] = [Scenario]
    for part in path:
        if isinstance(part, str):
            fields = [m.model_fields[part] for m in models if part in m.model_fields]
            models = [m for f in fields for m in _models_in(f.annotation)]
    return models


def _members(path: KeyPath, loc: tuple[str | int, ...]) -> list[type[BaseModel]]:
    """The models at `path`, narrowed to the union member pydantic tried, named by a tag in `loc`
    (`adaptive = "gradient"`: gradient's keys, not AIMD's too)."""
    models = _models_at(path)
    labels = {str(part) for part in loc}
    tried = [
        m for m in models
        if any(str(value) in labels for f in m.model_fields.values() if get_origin(f.annotation) is Literal for value in get_args(f.annotation))
    ]
    return tried or models


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) is Annotated:  # a tagged union's members: Annotated[Model, Tag(...)]
        return _models_in(get_args(annotation)[0])
    if get_origin(annotation) in (list, Union, UnionType):
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    return []


def _tags(path: KeyPath, tag: str) -> list[str]:
    """The values of `tag` the union at `path` accepts, e.g. ["constant", "exponential", "uniform"]."""
    return [value for m in _models_at(path) for value in get_args(m.model_fields[tag].annotation)]


def _dotted(path: KeyPath) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _key_lines(text: str) -> dict[KeyPath, int]:
    """Where each table and key first appears in `text` (1-based): one pass, no TOML parsing.

    Good enough for valid TOML: inline tables and arrays belong to their key's line, and lines
    inside multi-line strings are skipped.
    """
    lines: dict[KeyPath, int] = {}
    table: KeyPath = ()
    arrays: dict[KeyPath, int] = {}  # [[array]] headers seen so far, for the index of the next one
    in_string: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string is not None:
            in_string = None if in_string in line else in_string
            continue
        if match := _ARRAY_HEADER.match(line):
            array = _split_key(match[1])
            arrays[array] = arrays.get(array, -1) + 1
            table = key = (*array, arrays[array])
        elif match := _TABLE_HEADER.match(line):
            table = key = _split_key(match[1])
        elif match := _KEY_LINE.match(line):
            key = (*table, *_split_key(match[1]))
            in_string = next((q for q in ('"""', "'''") if match[2].count(q) % 2), None)
        else:
            continue
        for depth in range(1, len(key) + 1):
            lines.setdefault(key[:depth], number)
    return lines


def _split_key(dotted: str) -> KeyPath:
    return tuple(part.strip().strip("\"'") for part in re.findall(_KEY, dotted))


def _line_of(path: KeyPath, lines: dict[KeyPath, int]) -> int:
    """The line of `path`, else of its closest enclosing table or key; line 1 for the whole file."""
    for depth in range(len(path), 0, -1):
        if path[:depth] in lines:
            return lines[path[:depth]]
    return 1


def key_paths() -> list[str]:
    """Every dotted key a scenario may set ("queue.maxsize", "producer.rate"...), for `--set`
    completion and for suggesting "queue.maxsize" when someone writes "maxsize"."""
    paths: list[str] = []

    def walk(models: list[type[BaseModel]], prefix: str) -> None:
        for name in dict.fromkeys(f for m in models for f in m.model_fields):
            fields = [m.model_fields[name] for m in models if name in m.model_fields]
            inner = [m for f in fields for m in _models_in(f.annotation)]
            if inner and not any(get_origin(f.annotation) is list for f in fields):
                walk(inner, f"{prefix}{name}.")
            else:
                paths.append(prefix + name)

    walk([Scenario], "")
    return paths
