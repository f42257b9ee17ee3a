"""Result files are written whole or not at all, and a failure says which file and why.

Permissions cannot be relied on (CI runs as root, which writes anywhere), so an unwritable place
is a path under a regular file, and a full disk is simulated by making the write or the rename
raise ENOSPC.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bpsim.errors import OutputError
from bpsim.output import check_writable, write_text


def files_in(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_the_file_is_written_whole_and_readable_by_others(tmp_path: Path, umask_022: None):
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
    with pytest.raises(OutputError, match=r"out: is a directory; give a file name, e.g. .*out/result.json"):
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


# Devices, FIFOs and links are written into or through, never replaced (issue #17: as root,
# `--json /dev/null` once turned the machine's /dev/null into a regular file).


def test_dev_null_is_written_into_and_stays_a_character_device():
    before = os.stat("/dev/null")
    write_text("/dev/null", '{"handled": 6}\n')
    check_writable("/dev/null")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev, stat.S_IMODE(after.st_mode)) == (
        before.st_ino,
        before.st_rdev,
        stat.S_IMODE(before.st_mode),
    )


def test_a_fifo_is_written_into_not_replaced(tmp_path: Path):
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    check_writable(str(fifo))  # checks the permission bits; opening would wait for the reader
    write_text(str(fifo), "through the pipe\n")
    reader.join(timeout=10)
    assert received == ["through the pipe\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert files_in(tmp_path) == ["results.fifo"]


def test_a_symlink_is_written_through_to_its_target(tmp_path: Path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "result.json"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    write_text(str(link), "new\n")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8") == "new\n"
    assert files_in(tmp_path / "real") == ["result.json"]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path):
    link = tmp_path / "latest.json"
    link.symlink_to(tmp_path / "made.json")
    write_text(str(link), "new\n")
    assert link.is_symlink()
    assert (tmp_path / "made.json").read_text(encoding="utf-8") == "new\n"


def test_an_existing_files_mode_is_kept(tmp_path: Path, umask_022: None):
    destination = tmp_path / "result.json"
    destination.write_text("old\n", encoding="utf-8")
    destination.chmod(0o600)
    write_text(str(destination), "new\n")
    assert stat.S_IMODE(destination.stat().st_mode) == 0o600
    destination.chmod(0o664)
    write_text(str(destination), "newer\n")
    assert stat.S_IMODE(destination.stat().st_mode) == 0o664


def test_a_new_file_respects_the_umask(tmp_path: Path):
    previous = os.umask(0o077)
    try:
        write_text(str(tmp_path / "private.json"), "{}\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600


def test_the_scenario_file_itself_is_refused_before_anything_is_written(tmp_path: Path):
    scenario = tmp_path / "mine.toml"
    scenario.write_text("items = 3\n", encoding="utf-8")
    link = tmp_path / "alias.toml"
    link.symlink_to(scenario)
    for given in (scenario, link):
        with pytest.raises(OutputError, match="is the scenario file this command reads"):
            check_writable(str(given), protected=[scenario])
    assert scenario.read_text(encoding="utf-8") == "items = 3\n"


@pytest.mark.parametrize("where", ["no-such-folder/result.json", "notes.txt/result.json", "out"])
def test_an_unwritable_path_is_found_before_the_run(tmp_path: Path, where: str):
    (tmp_path / "notes.txt").write_text("a file, not a folder", encoding="utf-8")
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputError, match="cannot write here|is a directory"):
        check_writable(str(tmp_path / where))
    assert files_in(tmp_path) == ["notes.txt", "out"]


def test_a_writable_path_passes_the_check_and_leaves_nothing_behind(tmp_path: Path):
    check_writable(str(tmp_path / "result.json"))
    assert files_in(tmp_path) == []


def test_the_cli_refuses_to_write_over_its_scenario_before_running(tmp_path: Path):
    from typer.testing import CliRunner

    from bpsim.cli import app

    scenario = tmp_path / "mine.toml"
    scenario.write_text("items = 3\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(scenario), "--no-live", "--json", str(scenario)])
    assert result.exit_code == 2
    assert "is the scenario file this command reads" in result.output
    assert "handled" not in result.output  # refused before the run: no summary
    assert scenario.read_text(encoding="utf-8") == "items = 3\n"


def test_json_to_dev_stdout_redirected_to_a_file_adds_to_what_the_shell_opened(tmp_path: Path):
    import subprocess
    import sys

    out = tmp_path / "out.txt"
    with out.open("w") as stdout:
        stdout.write("before\n")
        stdout.flush()
        command = [sys.executable, "-m", "bpsim", "run", "burst", "--no-live", "--json", "/dev/stdout"]
        subprocess.run(command, stdout=stdout, check=True, cwd=tmp_path)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("before\n{")
    assert '"scenario": "Burst traffic"' in text
    assert files_in(tmp_path) == ["out.txt"]


def test_json_text_writes_non_finite_numbers_as_null():
    import json

    from bpsim.output import strict_json

    text = strict_json({"latency": {"mean": float("nan"), "max": float("inf")}, "rows": [1.5, float("-inf")]})
    assert json.loads(text) == {"latency": {"mean": None, "max": None}, "rows": [1.5, None]}
    assert "NaN" not in text and "Infinity" not in text
    assert text.endswith("}\n")
