"""Text from a user (a scenario file, an option) made safe to show on a terminal.

A scenario's name once retitled and cleared the terminal: escape sequences (ESC [2J, ESC ]0;...)
and other control characters in a file or an option went out raw, even through `bpsim validate`.
`printable` shows them as escapes instead (`\\x1b[2J`), as Python's repr does, so the user sees
what is in the file. It is applied where such text enters bpsim: the scenario's words
(`scenario.UserText`), every error line (`errors`), variant labels (`variants`).
"""

from __future__ import annotations

import re

__all__ = ["printable"]

# C0 controls but newline and tab, DEL, C1 controls, and the Unicode controls that reorder or
# hide text (bidirectional overrides and isolates: "Trojan source"; line and paragraph breaks).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with every control character but newline and tab written as an escape (\\x1b)."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
