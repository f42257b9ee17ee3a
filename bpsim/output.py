"""Writing result files: a complete file or none, and never a file the user did not name.

A regular file (new or existing) is written to a temporary file beside it, which is then renamed
over it, so a full disk or a crash never leaves a truncated file behind. Everything else a path
can name is written *into*, the way a shell's `>` does, never replaced: a device (`/dev/null`,
a terminal), a FIFO, `/dev/stdout`. Replacing them would be destructive: as root, renaming a
file over `/dev/null` turns the machine's /dev/null into a regular file.

* A symlink is written through: its target gets the new text, the link stays a link.
* An existing file keeps its permission bits (and, when we may, its owner); a new one gets
  0o666 minus the umask, as a shell's `>` would make it.
* `check_writable` finds the problems that can be found before a long run (a missing folder,
  a directory, the scenario file itself) so that they are reported before it, not after.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from bpsim.errors import OutputError
from bpsim.i18n import t
from bpsim.paths import open_file_link

__all__ = ["check_writable", "open_output", "strict_json", "write_text"]


def strict_json(data: Any) -> str:
    """`data` as the JSON text every `--json` writes: indented, one final newline, strictly JSON.

    Python writes an infinite or NaN float as `Infinity` / `NaN`, which no JSON parser accepts:
    here they become null, the JSON for "no value", and `allow_nan=False` makes sure no other
    path lets one through.
    """
    return json.dumps(finite(data), indent=2, allow_nan=False) + "\n"


def finite(data: Any) -> Any:
    """`data` with every infinite or NaN float replaced by None (and tuples by lists), as JSON has it."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [finite(value) for value in data]
    return data


def check_writable(destination: str, protected: Iterable[str | Path] = (), *, is_input: str = "output.is_input") -> None:
    """Raise OutputError now if `destination` could not be written later, or is one of `protected`.

    `protected` are the files the run reads (its scenario files): a result written over one
    would destroy the user's input (`is_input` names the message that says so). A regular file's folder is tested by creating (and removing)
    a temporary file in it, which is what `write_text` will do; a device or FIFO by its
    permission bits (opening a FIFO would wait for a reader).
    """
    if destination == "-":
        return
    status = _status(destination)
    if status is not None:
        for path in protected:
            try:
                other = os.stat(path)
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == (status.st_dev, status.st_ino):
                raise OutputError(t(is_input, path=destination))
        if stat.S_ISDIR(status.st_mode):
            raise OutputError(t("output.directory", path=destination))
    target = _regular_target(destination, status)
    if target is None:  # written into, later: it must be there, and writable
        if not os.access(destination, os.W_OK):
            raise OutputError(t("output.cannot_create", path=destination, reason=os.strerror(errno.EACCES)))
        return
    folder = Path(target).parent
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".bpsim-check."):
            pass
    except OSError as error:
        raise OutputError(t("output.cannot_create", path=destination, reason=_reason(error))) from None


def write_text(destination: str, text: str) -> None:
    """Write `text` to the file `destination`, or to stdout when it is "-".

    A regular file is replaced atomically (see the module's docstring); a device, FIFO or
    `/dev/stdout` is written into. Raises OutputError with the reason when the file cannot be
    written; an existing regular file is then unchanged.
    """
    if destination == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    status = _status(destination)
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise OutputError(t("output.directory", path=destination))
    target = _regular_target(destination, status)
    if target is None:
        _write_into(destination, text)
    else:
        _replace(target, text, status, shown=destination)


def _status(destination: str) -> os.stat_result | None:
    """What `destination` names, through any symlinks; None when nothing is there yet."""
    try:
        return os.stat(destination)
    except (FileNotFoundError, NotADirectoryError):
        return None  # a new file (or a dangling symlink); a bad folder is reported on creating it
    except OSError as error:
        raise OutputError(t("output.cannot_create", path=destination, reason=_reason(error))) from None


def _regular_target(destination: str, status: os.stat_result | None) -> str | None:
    """The path to replace atomically, or None when `destination` must be written into instead.

    A symlink's final target is replaced, not the link. /dev/stdout, /dev/fd/N and
    /proc/self/fd/N lead through /proc to a file the shell (or a parent) opened: renaming a new
    file over it would cut that file off from whoever writes to it next, so they are written into.
    """
    if status is not None and not stat.S_ISREG(status.st_mode):
        return None
    if not os.path.islink(destination):
        return destination
    if open_file_link(destination) is not None:
        return None
    return os.path.realpath(destination)  # a dangling link: create the file it points to, as `>` would


def _write_into(destination: str, text: str) -> None:
    link = open_file_link(destination)
    if link is not None and link[0] == os.getpid():
        # /dev/stdout, /dev/fd/N: our own descriptor, written in turn with what we print there.
        sys.stdout.flush()
        sys.stderr.flush()
        _write_fd(link[1], text, destination)
        return
    # O_APPEND, no O_CREAT, no O_TRUNC: into a device or FIFO it makes no difference, and what
    # is already in a file another process opened stays.
    try:
        handle = os.open(destination, os.O_WRONLY | os.O_APPEND)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        raise OutputError(t("output.not_written_into", path=destination, reason=_reason(error))) from None


def _write_fd(fd: int, text: str, destination: str) -> None:
    data = memoryview(text.encode("utf-8"))
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError as error:
        raise OutputError(t("output.not_written_into", path=destination, reason=_reason(error))) from None


def _replace(target: str, text: str, status: os.stat_result | None, shown: str) -> None:
    with _temporary_beside(target, status, shown) as file:
        file.write(text)


@contextlib.contextmanager
def _temporary_beside(target: str, status: os.stat_result | None, shown: str) -> Iterator[TextIO]:
    """A temporary file beside `target`, renamed over it when the block ends without an error."""
    path = Path(target)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise OutputError(t("output.cannot_create", path=shown, reason=_reason(error))) from None
    try:
        # mkstemp makes the file private (0o600): give it the mode the file had, or a new file's.
        os.fchmod(handle, stat.S_IMODE(status.st_mode) if status is not None else 0o666 & ~_umask())
        if status is not None and (status.st_uid, status.st_gid) != (os.geteuid(), os.getegid()):
            try:
                os.fchown(handle, status.st_uid, status.st_gid)  # root replacing a user's file
            except OSError:
                pass  # not allowed: the file becomes ours, as any editor's save would make it
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            yield file
        os.replace(temporary, path)
    except OSError as error:
        raise OutputError(t("output.not_written", path=shown, reason=_reason(error))) from None
    finally:
        # Gone already after a successful replace; otherwise (a full disk, Ctrl-C in the middle
        # of a write, a bug) removing it is what keeps the folder free of half-written files.
        Path(temporary).unlink(missing_ok=True)


@contextlib.contextmanager
def open_output(destination: str) -> Iterator[TextIO]:
    """`destination` open for writing in pieces (`--items`' rows, as items end), with
    `write_text`'s rules: a regular file appears complete when the block ends, or not at all
    (an error or Ctrl-C inside it leaves any existing file unchanged); a device, a FIFO or
    /dev/stdout is written into; "-" is stdout."""
    if destination == "-":
        try:
            yield sys.stdout
            sys.stdout.flush()
        except BrokenPipeError:
            raise  # the reader went away (`| head`): the CLI ends quietly
        except OSError as error:
            raise OutputError(t("output.not_written_into", path="stdout", reason=_reason(error))) from None
        return
    status = _status(destination)
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise OutputError(t("output.directory", path=destination))
    target = _regular_target(destination, status)
    if target is not None:
        with _temporary_beside(target, status, shown=destination) as file:
            yield file
        return
    link = open_file_link(destination)
    try:
        if link is not None and link[0] == os.getpid():  # /dev/stdout, /dev/fd/N: our own descriptor
            sys.stdout.flush()
            file = os.fdopen(link[1], "w", encoding="utf-8", newline="", closefd=False)
        else:
            file = os.fdopen(os.open(destination, os.O_WRONLY | os.O_APPEND), "w", encoding="utf-8", newline="")
        with file:
            yield file
    except OSError as error:
        raise OutputError(t("output.not_written_into", path=destination, reason=_reason(error))) from None


def _umask() -> int:
    # The only portable way to read the umask is to set it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
