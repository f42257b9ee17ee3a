"""Paths that name a file this process already has open: /dev/stdin, /dev/stdout, /dev/fd/N.

On Linux these are symlinks through /proc/self/fd/N, which the kernel resolves to the open file
itself (a pipe, a terminal, a file the shell opened). Reading or writing them is reading or
writing that descriptor; they are never to be replaced, and a pipe behind one is no FIFO that
would wait for a writer.
"""

from __future__ import annotations

import os

__all__ = ["open_file_link"]


def open_file_link(path: str) -> tuple[int, int] | None:
    """(pid, fd) when following the symlinks of `path` leads through /proc/PID/fd/FD, else None.

    /dev/stdout is /proc/self/fd/1, and /proc/self is /proc/PID: (our pid, 1).
    """
    for _ in range(40):  # the kernel's own limit on links followed
        folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
        parts = folder.split("/")
        name = os.path.basename(path)
        if len(parts) == 4 and parts[:2] == ["", "proc"] and parts[2].isdigit() and parts[3] == "fd" and name.isdigit():
            return int(parts[2]), int(name)
        path = os.path.join(folder, name)
        if not os.path.islink(path):
            return None
        path = os.path.join(folder, os.readlink(path))
    return None
