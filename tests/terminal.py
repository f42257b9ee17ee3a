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
