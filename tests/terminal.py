"""Run `bpsim` in a pseudo-terminal (80x24) with pexpect, then check the terminal was restored."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent


def spawn_bpsim(args: str) -> Any:
    """`python -m bpsim ARGS` in a fresh 80x24 terminal; afterwards it prints `EXIT=<code>` and the
    terminal's icanon / echo settings (see `terminal_is_sane`)."""
    import pexpect

    # `trap : INT`: Ctrl-C (child.sendintr()) reaches bpsim, and the shell survives to report.
    command = (
        f"trap : INT; {sys.executable} -m bpsim {args}; echo EXIT=$?; "
        "stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), TERM="xterm-256color", LANG="C.UTF-8")
    for variable in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "LC_ALL", "LC_MESSAGES"):
        env.pop(variable, None)
    return pexpect.spawn("/bin/sh", ["-c", command], cwd=ROOT, env=env, dimensions=(24, 80), encoding="utf-8", timeout=20)


def exit_code_and_sane_terminal(child: Any) -> tuple[str, bool]:
    """Wait for the end; the exit code, and whether line mode and echo are back on."""
    import pexpect

    child.expect(r"EXIT=(\d+)")
    code = child.match.group(1)
    child.expect(pexpect.EOF)
    settings = child.before.split()
    return code, "icanon" in settings and "echo" in settings


def screen_lines(output: str) -> list[str]:
    """What a terminal shows after `output`, scrollback included, one string per line.

    Enough of a terminal for Rich's Live: text, CR, LF, cursor up (CSI n A), erase line (CSI 2K,
    CSI K); other escape sequences (colours, cursor visibility) change no text. A redraw that
    wipes lines it did not draw shows here as those lines missing, as on a real screen."""
    import re

    lines: list[list[str]] = [[]]
    row = column = 0
    for token in re.finditer(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b[()][0-9A-Za-z]|\r|\n|[^\x1b\r\n]", output):
        text = token.group(0)
        if text == "\r":
            column = 0
        elif text == "\n":
            row += 1
            column = 0
            while len(lines) <= row:
                lines.append([])
        elif token.group(2) == "A":
            row = max(0, row - int(token.group(1) or 1))
        elif token.group(2) == "K":
            if token.group(1) == "2":
                lines[row] = []
            else:
                del lines[row][column:]
        elif not text.startswith("\x1b"):
            line = lines[row]
            line.extend(" " * (column - len(line)))
            line[column : column + 1] = [text]
            column += 1
    return ["".join(line).rstrip() for line in lines]
