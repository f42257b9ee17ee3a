"""`--items`: one CSV row per item, streamed as items end (bpsim/records.py, issue #19)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

from bpsim.cli import app
from bpsim.engine import run
from bpsim.events import ItemProduced
from bpsim.loader import load_scenario
from bpsim.records import COLUMNS, ItemRecorder
from bpsim.workload import items
from tests.helpers import cli_runner, scenario


def recorded(s) -> tuple[list[dict[str, str]], object]:
    out = io.StringIO()
    recorder = ItemRecorder(s, out)
    result = run(s, [recorder])
    recorder.close()
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert recorder.rows == len(rows)
    return rows, result


def test_every_item_has_one_row_whose_outcome_adds_up_to_the_ledger():
    loaded = load_scenario("retry-storm")  # handled, dropped (queue-full) and timed out after 3 attempts
    rows, result = recorded(loaded)
    counts = result.counts
    assert len(rows) == counts.produced == len({row["item"] for row in rows})
    by_outcome = Counter(row["outcome"] for row in rows)
    assert by_outcome == {"handled": counts.handled, "dropped": counts.dropped, "timed_out": counts.timed_out}
    assert Counter(row["reason"] for row in rows if row["outcome"] == "dropped") == {"queue-full": counts.dropped}
    timed_out = [row for row in rows if row["outcome"] == "timed_out"]
    assert {row["reason"] for row in timed_out} == {"downstream"}
    assert {row["attempts"] for row in timed_out} == {"3"}  # [retry] attempts = 3
    # Rows come as items end: the `end` column never goes back in time.
    ends = [float(row["end"]) for row in rows]
    assert ends == sorted(ends)


def test_the_times_are_each_items_own_steps():
    # One worker, calls of 1 s, three items at t = 0, 0.5, 1.0 (constant arrivals at 2 per second):
    # item 0 runs 0 -> 1, item 1 waits until 1 and runs to 2, item 2 waits until 2 and runs to 3.
    s = scenario(
        items=3,
        producer={"rate": 2.0, "arrivals": "constant"},
        workers={"count": 1, "service": {"distribution": "constant", "mean": 1.0}},
    )
    rows, _ = recorded(s)
    assert [row["item"] for row in rows] == ["0", "1", "2"]
    table = [[float(row[c]) for c in ("arrival", "enqueued", "taken", "call_start", "end", "latency")] for row in rows]
    assert table == [
        [0.0, 0.0, 0.0, 0.0, 1.0, 1.0],
        [0.5, 0.5, 1.0, 1.0, 2.0, 1.5],
        [1.0, 1.0, 2.0, 2.0, 3.0, 2.0],
    ]
    assert {(row["outcome"], row["reason"], row["attempts"], row["worker"]) for row in rows} == {
        ("handled", "", "1", "worker-0")
    }


def test_the_arrival_column_is_the_scheduled_arrival_even_when_the_put_waited():
    # maxsize 1 and block: the producer is stuck in put, so items enter the queue late.
    loaded = load_scenario("burst")
    rows, result = recorded(loaded)
    assert result.blocked_seconds > 0
    scheduled = {item.number: item.arrival for item in items(loaded)}
    assert all(float(row["arrival"]) == scheduled[int(row["item"])] for row in rows)
    assert any(float(row["enqueued"]) > float(row["arrival"]) for row in rows)


def test_items_still_in_the_system_at_the_end_are_written_last_as_unfinished():
    s = scenario(
        items=3,
        producer={"rate": "unlimited"},
        workers={"count": 1, "service": {"distribution": "constant", "mean": 1.0}},
        shutdown={"mode": "immediate", "at": 1.5},
    )
    rows, result = recorded(s)
    assert [(row["item"], row["outcome"], row["reason"]) for row in rows] == [
        ("0", "handled", ""),
        ("2", "abandoned", "queued"),
        ("1", "abandoned", "in-worker"),
    ]
    out = io.StringIO()
    recorder = ItemRecorder(s, out)
    recorder(ItemProduced(0.0, 0, 0))  # produced, and then the run stopped (Ctrl-C, a limit)
    recorder.close()
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert (row["item"], row["outcome"], row["end"]) == ("0", "unfinished", "")


def test_cli_items_writes_the_csv_and_leaves_the_json_as_it_was(tmp_path: Path):
    runner = cli_runner()
    plain = runner.invoke(app, ["run", "burst", "--json", "-"])
    path = tmp_path / "items.csv"
    with_items = runner.invoke(app, ["run", "burst", "--json", "-", "--items", str(path)])
    assert plain.exit_code == with_items.exit_code == 0
    assert json.loads(plain.stdout) == json.loads(with_items.stdout)
    rows = list(csv.reader(path.open()))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) - 1 == json.loads(plain.stdout)["items"]["produced"]


def test_cli_items_to_stdout(tmp_path: Path):
    result = cli_runner().invoke(app, ["run", "handbook", "--items", "-"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert all(line[0].isdigit() for line in lines[1:])  # no summary mixed in


def test_cli_refuses_items_that_would_mix_or_destroy(tmp_path: Path):
    runner = cli_runner()
    cases = {
        ("--items", "-", "--json", "-"): "--json - and --items - would both write to stdout",
        ("--items", "-", "--trace"): "--trace and --items - would both write to stdout",
        ("--items", "scenarios/burst.toml"): "is the scenario file this command reads",
        ("--items", str(tmp_path)): "is a directory",
        ("--items", str(tmp_path / "a"), "--json", str(tmp_path / "a")): "--json and --items name the same file",
        ("--items", str(tmp_path / "missing" / "a.csv")): "cannot write here",
    }
    for options, message in cases.items():
        result = runner.invoke(app, ["run", "scenarios/burst.toml", *options])
        assert result.exit_code == 2, options
        assert message in result.stderr, (options, result.stderr)
    assert list(tmp_path.iterdir()) == []


def test_a_write_that_fails_midway_keeps_the_old_file(tmp_path: Path, monkeypatch):
    path = tmp_path / "items.csv"
    path.write_text("precious\n")
    real_writer = csv.writer

    class FillsUp:
        """A disk that is full after the header and five rows."""

        def __init__(self, *args, **kwargs):
            self.writer, self.left = real_writer(*args, **kwargs), 6

        def writerow(self, row):
            self.left -= 1
            if self.left < 0:
                raise OSError(28, "No space left on device")
            self.writer.writerow(row)

    monkeypatch.setattr("bpsim.records.csv.writer", FillsUp)
    result = cli_runner().invoke(app, ["run", "burst", "--items", str(path)])
    assert result.exit_code == 2
    assert "could not be written (No space left on device); nothing was saved" in result.stderr
    assert path.read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir()] == ["items.csv"]  # no temporary file left


def test_a_device_that_refuses_writes_is_reported():
    result = cli_runner().invoke(app, ["run", "handbook", "--items", "/dev/full"])
    assert result.exit_code == 2
    assert "/dev/full: could not be written into (No space left on device)" in result.stderr
