"""The Universal Scalability Law drawn in the terminal: X(n) as one bar per number of calls.

Bars rise while more calls get more work done, peak at the knee n*, and fall past it (drawn red:
there, more concurrency means less throughput). The numbers come from `bpsim.theory.usl`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.text import Text

from bpsim.i18n import t
from bpsim.theory import usl, usl_knee, usl_peak

__all__ = ["usl_chart"]

_EIGHTHS = " ▏▎▍▌▋▊▉"


def _bar(fraction: float, width: int) -> str:
    """A left-aligned bar `fraction` of `width` cells long, in eighths of a cell."""
    eighths = round(8 * width * max(0.0, min(fraction, 1.0)))
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def usl_chart(contention: float, coherency: float, calls: Sequence[int], width: int = 40) -> RenderableType:
    """X(n) for each n in `calls`, as bars `width` cells long at the tallest; the knee is marked.

    Past the knee the bars are red: the service completes less work with more calls in service.
    """
    heights = [usl(n, contention, coherency) for n in calls]
    tallest = max(heights)
    knee = usl_knee(contention, coherency)
    peak = usl_peak(max(calls), contention, coherency)
    label = max(len(str(n)) for n in calls)
    lines = [Text(t("explain.ui.usl_title", contention=contention, coherency=coherency), style="bpsim.title")]
    for n, height in zip(calls, heights):
        style = "bpsim.bad" if knee is not None and n > knee else "bpsim.ok"
        line = Text(f"  n = {n:>{label}}  {height:5.2f}  ")
        line.append(_bar(height / tallest, width), style=f"{style}.strong" if n == peak else style)
        if n == peak and knee is not None:
            line.append("  " + t("explain.ui.usl_knee", knee=knee), style="bpsim.strong")
        lines.append(line)
    lines.append(Text(t("explain.ui.usl_footer"), style="bpsim.muted"))
    return Group(*lines)
