"""Numbers from production: arrival times or gaps, and measured latencies, one per line of a file.

A file is plain text, one number per line (a CSV of one column), or a CSV with a header when a
`column` is named, or JSON lines (`.jsonl`, `.ndjson`): a number per line, or an object from which
`column` is read. Blank lines and lines starting with `#` are skipped. Every problem names the
file and the line, and says what to fix (`DataFileError`); the scenario's validators turn it into
the usual one-line error.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from bpsim.i18n import t

__all__ = ["DataFileError", "read_numbers", "MAX_BYTES"]

MAX_BYTES = 200_000_000
"""A bigger file is refused: it would not fit the machine's memory once read as floats."""


class DataFileError(ValueError):
    """A data file that cannot be used: `where` is "file" or "file:line"."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")


def read_numbers(path: Path, shown: str, column: str | None = None) -> tuple[list[float], list[int]]:
    """The numbers in `path` (shown to the user as `shown`), in file order (at least one), and the
    line each is on.

    Every number is finite and not negative; what they mean (times, gaps, seconds) is the
    caller's to check, with `DataFileError(f"{shown}:{line}", ...)` for the line it names.
    """
    lines = _lines(path, shown)
    json_lines = path.suffix.lower() in (".jsonl", ".ndjson")
    numbers: list[float] = []
    found_on: list[int] = []
    header: list[str] | None = None
    for number, text in lines:
        where = f"{shown}:{number}"
        if json_lines:
            value = _from_json(text, column, where)
        else:
            cells = next(csv.reader([text]))
            if column is not None and header is None:
                header = [cell.strip() for cell in cells]
                if column not in header:
                    raise DataFileError(where, t("errors.data.no_column", column=column, header=", ".join(header)))
                continue
            cell = cells[header.index(column)] if header is not None and column is not None else text
            if header is not None and len(cells) != len(header):
                raise DataFileError(where, t("errors.data.cells", cells=len(cells), header=len(header)))
            value = _number(cell.strip(), where, column)
        numbers.append(value)
        found_on.append(number)
    if not numbers:
        raise DataFileError(shown, t("errors.data.empty"))
    return numbers, found_on


def _lines(path: Path, shown: str) -> list[tuple[int, str]]:
    """(line number, text) of every line that is not blank or a `#` comment."""
    try:
        if path.is_dir():
            raise DataFileError(shown, t("errors.data.directory"))
        if path.stat().st_size > MAX_BYTES:
            raise DataFileError(shown, t("errors.data.too_large", mb=MAX_BYTES // 1_000_000))
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataFileError(shown, t("errors.data.not_found")) from None
    except OSError as error:
        raise DataFileError(shown, t("errors.data.unreadable", reason=error.strerror)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataFileError(f"{shown}:{line}", t("errors.data.not_utf8")) from None
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _from_json(text: str, column: str | None, where: str) -> float:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataFileError(where, t("errors.data.not_json", reason=error.msg)) from None
    if isinstance(value, dict):
        if column is None:
            raise DataFileError(where, t("errors.data.object_needs_column"))
        if column not in value:
            raise DataFileError(where, t("errors.data.no_key", column=column))
        value = value[column]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataFileError(where, t("errors.data.not_a_number", shown=json.dumps(value)[:40]))
    return _checked(float(value), where)


def _number(cell: str, where: str, column: str | None) -> float:
    try:
        value = float(cell)
    except ValueError:
        hint = "" if column is not None else t("errors.data.header_hint")
        raise DataFileError(where, t("errors.data.not_a_number", shown=repr(cell[:40])) + hint) from None
    return _checked(value, where)


def _checked(value: float, where: str) -> float:
    if not math.isfinite(value):
        raise DataFileError(where, t("errors.data.not_finite", shown=value))
    if value < 0:
        raise DataFileError(where, t("errors.data.negative", shown=f"{value:g}"))
    return value
