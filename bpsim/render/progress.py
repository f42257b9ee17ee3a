"""The progress bar of `bpsim sweep`: on stderr, and only when stderr is a real terminal."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bpsim.i18n import t

__all__ = ["sweep_progress"]


@contextlib.contextmanager
def sweep_progress(total: int, console: Console | None = None) -> Iterator[Callable[[], None]]:
    """Yield a function to call once per finished run; it moves a bar, or does nothing when piped."""
    console = console or Console(stderr=True, emoji=False)
    # FORCE_COLOR makes Rich call a file a terminal; a bar redrawn into a log file helps nobody.
    if not (console.is_terminal and console.file.isatty()):
        yield lambda: None
        return
    columns = (TextColumn(t("compare.progress")), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("", total=total)
        yield lambda: progress.advance(task)
