"""Result files are written whole or not at all, and a failure says which file and why.

Permissions cannot be relied on (CI runs as root, which writes anywhere), so an unwritable place
is a path under a regular file, and a full disk is simulated by making the write or the rename
raise ENOSPC.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from bpsim.errors import OutputError
from bpsim.output import write_text


def files_in(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


def test_the_file_is_written_whole_and_readable_by_others(tmp_path: Path):
    destination = tmp_path / "result.json"
    write_text(str(destination), '{"handled": 6}\n')
    assert destination.read_text(encoding="utf-8") == '{"handled": 6}\n'
    assert destination.stat().st_mode & 0o777 == 0o644
    assert files_in(tmp_path) == ["result.json"]


def test_an_existing_file_is_replaced(tmp_path: Path):
    destination = tmp_path / "result.json"
    destination.write_text("old\n", encoding="utf-8")
    write_text(str(destination), "new\n")
    assert destination.read_text(encoding="utf-8") == "new\n"
    assert files_in(tmp_path) == ["result.json"]


def test_dash_means_standard_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    write_text("-", "to the terminal\n")
    assert capsys.readouterr().out == "to the terminal\n"


def test_a_missing_folder_is_reported_with_the_path(tmp_path: Path):
    destination = tmp_path / "no-such-folder" / "result.json"
    with pytest.raises(OutputError) as raised:
        write_text(str(destination), "{}")
    assert str(raised.value) == (
        f"{destination}: cannot write here (No such file or directory); choose another path"
    )
    assert files_in(tmp_path) == []


def test_a_path_under_a_regular_file_is_reported_with_the_path(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("a file, not a folder", encoding="utf-8")
    destination = tmp_path / "notes.txt" / "result.json"
    with pytest.raises(OutputError, match=r"notes\.txt/result\.json: cannot write here \(Not a directory\)"):
        write_text(str(destination), "{}")
    assert files_in(tmp_path) == ["notes.txt"]


def test_a_folder_given_as_the_file_is_refused_and_left_clean(tmp_path: Path):
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputError, match=r"out: could not be written \(Is a directory\); nothing was saved"):
        write_text(str(tmp_path / "out"), "{}")
    assert files_in(tmp_path) == ["out"]
    assert files_in(tmp_path / "out") == []


def disk_full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("failing", ["write", "replace"])
def test_a_full_disk_keeps_the_old_file_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
):
    destination = tmp_path / "result.json"
    destination.write_text("old\n", encoding="utf-8")
    if failing == "replace":
        monkeypatch.setattr(os, "replace", disk_full)
    else:
        real_fdopen = os.fdopen

        def fdopen_on_a_full_disk(*args: object, **kwargs: object):
            file = real_fdopen(*args, **kwargs)
            monkeypatch.setattr(file, "write", disk_full)
            return file

        monkeypatch.setattr(os, "fdopen", fdopen_on_a_full_disk)
    with pytest.raises(OutputError) as raised:
        write_text(str(destination), "new and much longer\n")
    assert str(raised.value) == (
        f"{destination}: could not be written (No space left on device); "
        "nothing was saved and any existing file is unchanged"
    )
    assert destination.read_text(encoding="utf-8") == "old\n"
    assert files_in(tmp_path) == ["result.json"]


def test_an_interruption_mid_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_text(str(tmp_path / "result.json"), "{}")
    assert files_in(tmp_path) == []
