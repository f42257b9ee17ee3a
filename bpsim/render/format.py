"""Small formatting helpers shared by every renderer."""

from __future__ import annotations


def seconds(value: float) -> str:
    """A duration in the unit a person reads best: 12 ms, 1.25 s, 3 m 20 s, 27 h 46 m."""
    if value < 1.0:
        return f"{value * 1000:.0f} ms" if value >= 0.0005 or value == 0 else f"{value * 1000:.2f} ms"
    if value < 100:
        return f"{value:.2f} s"
    minutes, rest = divmod(round(value), 60)  # rounded first: 179.6 s is 3 m 00 s, not 2 m 60 s
    if minutes < 60:
        return f"{minutes} m {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} m"


def number(value: float) -> str:
    """A count or rate with thousands separators and no needless decimals."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


def nonzero_parts(*parts: tuple[str, int]) -> str:
    """`queue-full 3, stale 1`: the named parts of a count that are not zero."""
    return ", ".join(f"{name} {value}" for name, value in parts if value)
