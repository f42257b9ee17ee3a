"""The name a user's program gave an object: the variable its creating call was assigned to.

`queue: asyncio.Queue[int] = asyncio.Queue(maxsize=2)` names its queue `queue`,
`self.inbox = asyncio.Queue()` names it `self.inbox`, `async with asyncio.timeout(1) as scope`
names the scope `scope`. An object created anywhere else (in a list, as an argument) is named by
where it was created: `pipeline.py:31`.

The creating call is found exactly, not guessed from the line: the caller's frame says which
instruction is running (`f_lasti`), the code object says which columns of the source that
instruction came from (`co_positions`, Python 3.11+), and the call expression with those columns
is looked up in the file's syntax tree. Parsed files are cached for the run (`forget` drops them).
"""

from __future__ import annotations

import ast
import itertools
import linecache
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType, FrameType

__all__ = ["Site", "creation_site", "forget"]


@dataclass(frozen=True)
class Site:
    """Where an object was created: `file:line`, and the variable it was assigned to (if any)."""

    filename: str
    line: int
    variable: str | None

    @property
    def where(self) -> str:
        return f"{os.path.basename(self.filename)}:{self.line}"

    @property
    def name(self) -> str:
        return self.variable or self.where


_Span = tuple[int, int, int, int]
_trees: dict[str, dict[_Span, str]] = {}
"""Per file: the span of each call that is assigned to a name, and that name."""
_sites: dict[tuple[CodeType, int], Site] = {}
"""The site of each creating instruction seen: (code, instruction) -> Site."""


def creation_site(skip: Callable[[str], bool], made: object = None, depth: int = 1) -> Site | None:
    """The site of the first calling frame (from `depth` frames up) whose file `skip` does not
    skip, and that is not the `__init__` of `made` (a program's own subclass: `box = Mailbox()`
    names the Mailbox `box`, not the `super().__init__()` line inside it).

    None when every frame is skipped (the object was created by library code only).
    """
    frame: FrameType | None = sys._getframe(depth + 1)
    while frame is not None and (skip(frame.f_code.co_filename) or _initialising(frame, made)):
        frame = frame.f_back
    if frame is None:
        return None
    key = (frame.f_code, frame.f_lasti)
    site = _sites.get(key)
    if site is None:  # the first object made by this call (a loop makes many)
        filename = frame.f_code.co_filename
        span = _instruction_span(frame)
        variable = _names(filename, frame).get(span) if span is not None else None
        site = _sites[key] = Site(filename, frame.f_lineno, variable)
    return site


def _initialising(frame: FrameType, made: object) -> bool:
    if made is None or frame.f_code.co_name != "__init__" or not frame.f_code.co_varnames:
        return False
    return frame.f_locals.get(frame.f_code.co_varnames[0]) is made


def forget() -> None:
    """Drop the parsed files (at the end of a run: the next one may have edited them)."""
    _trees.clear()
    _sites.clear()


def _instruction_span(frame: FrameType) -> _Span | None:
    """The source columns of the instruction `frame` is running: the call being made."""
    position = next(itertools.islice(frame.f_code.co_positions(), frame.f_lasti // 2, None), None)
    if position is None or None in position:
        return None
    line, end_line, column, end_column = position
    return line or 0, end_line or 0, column or 0, end_column or 0


def _names(filename: str, frame: FrameType) -> dict[_Span, str]:
    if filename not in _trees:
        source = "".join(linecache.getlines(filename, frame.f_globals))
        try:
            tree = ast.parse(source, filename)
        except (SyntaxError, ValueError):
            tree = ast.Module(body=[], type_ignores=[])
        _trees[filename] = _assigned_calls(tree)
    return _trees[filename]


def _assigned_calls(tree: ast.AST) -> dict[_Span, str]:
    """Every call in `tree` whose value is given a name, by the call's span."""
    names: dict[_Span, str] = {}

    def name(call: ast.expr, target: ast.expr | None) -> None:
        if isinstance(call, ast.Call) and isinstance(target, ast.Name | ast.Attribute | ast.Subscript):
            names[(call.lineno, call.end_lineno or call.lineno, call.col_offset, call.end_col_offset or 0)] = ast.unparse(target)

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(node.value, ast.Tuple) and isinstance(target, ast.Tuple) and len(node.value.elts) == len(target.elts):
                for value, element in zip(node.value.elts, target.elts):  # a, b = Queue(), Queue()
                    name(value, element)
            else:
                name(node.value, target)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            name(node.value, node.target)
        elif isinstance(node, ast.NamedExpr):
            name(node.value, node.target)
        elif isinstance(node, ast.withitem):
            name(node.context_expr, node.optional_vars)
        elif isinstance(node, ast.keyword) and node.arg is not None:  # Worker(inbox=Queue())
            name(node.value, ast.Name(node.arg))
    return names
