"""The progress bar of `bpsim sweep`: on stderr, and only when stderr is a real terminal."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from bpsim.i18n import t

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["sweep_progress"]


@contextlib.contextmanager
def sweep_progress(total: int, console: Console | None = None) -> Iterator[Callable[[], None]]:
    """Yield a function to call once per finished run; it moves a bar, or does nothing when piped."""
    if console is None and not sys.stderr.isatty():
        # Piped: no bar, and no Rich to import before the runs start (a sweep's serial part).
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = console or Console(stderr=True, emoji=False)
    # FORCE_COLOR makes Rich call a file a terminal; a bar redrawn into a log file helps nobody.
    if not (console.is_terminal and console.file.isatty()):
        yield lambda: None
        return
    columns = (TextColumn(t("compare.progress")), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("", total=total)
        yield lambda: progress.advance(task)
