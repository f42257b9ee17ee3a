"""The `bpsim` command and `python -m bpsim`: the command line, quiet on an early Ctrl-C.

Ctrl-C and SIGTERM are handled from the first line (bpsim.signals): while Rich, Typer and
pydantic load (the first half second) one exits 130 / 143 without a traceback, and once the
command has been interrupted, a second signal in the milliseconds before the process ends
cannot kill it after its summary was printed.
"""

import sys

from bpsim.signals import handle_signals


def main() -> None:
    """Load the command line and run it."""
    with handle_signals(then_exit=True) as interruption:
        try:
            from bpsim.cli import app
        except KeyboardInterrupt:
            sys.exit(interruption.exit_code)  # nothing has run: nothing to show
        app(prog_name="bpsim")


if __name__ == "__main__":
    main()
