"""Writing result files atomically: a complete file or none, never half of one."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from bpsim.errors import OutputError
from bpsim.i18n import t

__all__ = ["write_text"]


def write_text(destination: str, text: str) -> None:
    """Write `text` to the file `destination`, or to stdout when it is "-".

    The text goes to a temporary file in the same folder, which is then renamed over the
    destination, so a full disk or a crash never leaves a truncated file behind.
    Raises OutputError with the reason when the file cannot be written.
    """
    if destination == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(destination)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise OutputError(t("output.cannot_create", path=destination, reason=_reason(error))) from None
    try:
        os.fchmod(handle, 0o644)  # mkstemp makes it private; a result file is for sharing
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except OSError as error:
        raise OutputError(t("output.not_written", path=destination, reason=_reason(error))) from None
    finally:
        # Gone already after a successful replace; otherwise (a full disk, Ctrl-C in the middle
        # of a write, a bug) removing it is what keeps the folder free of half-written files.
        Path(temporary).unlink(missing_ok=True)


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
