"""Writing result files atomically: a complete file or none, never half of one."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from bpsim.errors import OutputError

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
    folder = path.parent
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise OutputError(f"{destination}: cannot write here ({error.strerror}); choose another path") from None
    try:
        os.fchmod(handle, 0o644)  # mkstemp makes it private; a result file is for sharing
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"{destination}: could not be written ({error.strerror}); nothing was saved") from None
