"""One row per item, streamed to a CSV file as items end: `bpsim run ... --items items.csv`.

An observer, so a run without `--items` pays nothing for it: it follows each item through the
events (produced, enqueued, taken, call started, ended) and writes its row the moment the item
ends, then forgets it. Memory is bounded by the items in the system, never by the run's length.
Rows come in the order items end; items still in the system when the run stops (Ctrl-C, a limit,
the end of `duration` with no shutdown) are written last, as `unfinished`.

The scheduled arrival is not in any event (the producer may put an item late, after a blocked
put): the recorder draws the schedule again from the seed (`workload.items`), which gives the
same times the pipeline's producer got, item by item.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from typing import TextIO

from bpsim.events import (
    CallStarted,
    Event,
    ItemAbandoned,
    ItemDequeued,
    ItemDropped,
    ItemEnqueued,
    ItemFailed,
    ItemHandled,
    ItemProduced,
    ItemRejected,
    ItemTimedOut,
)
from bpsim.outcomes import OUTCOMES, REJECTED_AT_SHUTDOWN, UNFINISHED
from bpsim.scenario import Scenario
from bpsim.workload import Item, items

__all__ = ["COLUMNS", "ItemRecorder"]

COLUMNS = (
    "item",
    "arrival",
    "enqueued",
    "taken",
    "call_start",
    "end",
    "outcome",
    "reason",
    "attempts",
    "worker",
    "latency",
)
"""The CSV's header (docs/commands.md describes each column)."""

_OUTCOME_OF = {key: outcome.name for outcome in OUTCOMES for key in outcome.keys}
"""The outcome an end key (a reason, or an outcome without reasons) belongs to."""


class _Record:
    __slots__ = ("arrival", "enqueued", "taken", "call_start", "attempts", "worker")

    def __init__(self, arrival: float) -> None:
        self.arrival = arrival
        self.enqueued: float | None = None
        self.taken: float | None = None
        self.call_start: float | None = None
        self.attempts = 0
        self.worker: str | None = None


class ItemRecorder:
    """Writes each item's row to `file` as it ends; `close()` writes the unfinished ones.

    When a write fails (the reader of a pipe went away, the disk is full) it stops writing, keeps
    the error in `error` and calls `on_error`: the CLI stops the run there and reports it.
    """

    def __init__(self, scenario: Scenario, file: TextIO, on_error: Callable[[], None] | None = None) -> None:
        self._schedule: Iterator[Item] = items(scenario)
        self._after_put = scenario.producer.after_put
        self._open: dict[int, _Record] = {}
        self._writer = csv.writer(file, lineterminator="\n")
        self.on_error = on_error
        self.error: OSError | None = None
        self.rows = 0
        """Rows written so far, header not counted."""
        self._write_row(COLUMNS)

    def __call__(self, event: Event) -> None:
        if self.error is not None:
            return
        match event:
            case ItemProduced(at=at, item=number):
                # after-put: no schedule to draw again, the item arrives when the producer makes it
                self._open[number] = _Record(at if self._after_put else self._arrival(number))
            case ItemEnqueued(at=at, item=number):
                self._open[number].enqueued = at
            case ItemDequeued(at=at, item=number, worker=worker):
                record = self._open[number]
                record.taken, record.worker = at, worker
            case CallStarted(at=at, item=number):
                record = self._open[number]
                record.attempts += 1
                if record.call_start is None:
                    record.call_start = at
            case ItemHandled(at=at, item=number, latency=latency):
                self._end(number, at, "handled", latency)
            case ItemDropped(at=at, item=number, reason=reason):
                self._end(number, at, reason)
            case ItemTimedOut(at=at, item=number, place=place):
                self._end(number, at, place)
            case ItemFailed(at=at, item=number, reason=reason):
                self._end(number, at, reason)
            case ItemAbandoned(at=at, item=number, place=place):
                self._end(number, at, place)
            case ItemRejected(at=at, item=number):
                self._end(number, at, REJECTED_AT_SHUTDOWN.name)

    def close(self) -> None:
        """Write the items that never ended (in item order), as `unfinished`."""
        for number in sorted(self._open):
            self._write(number, self._open[number], None, UNFINISHED, "", None)
        self._open.clear()

    def _arrival(self, number: int) -> float:
        # Items are produced in order, so the schedule is read exactly once, in step with them.
        item = next(self._schedule)
        assert item.number == number, (item.number, number)
        return item.arrival

    def _end(self, number: int, at: float, key: str, latency: float | None = None) -> None:
        outcome = _OUTCOME_OF.get(key, key)
        reason = key if key != outcome else ""
        self._write(number, self._open.pop(number), at, outcome, reason, latency)

    def _write(
        self, number: int, record: _Record, end: float | None, outcome: str, reason: str, latency: float | None
    ) -> None:
        self._write_row(
            (
                number,
                record.arrival,
                _blank(record.enqueued),
                _blank(record.taken),
                _blank(record.call_start),
                _blank(end),
                outcome,
                reason,
                record.attempts,
                record.worker or "",
                _blank(latency),
            )
        )
        self.rows += 1

    def _write_row(self, row: tuple[object, ...]) -> None:
        if self.error is not None:
            return
        try:
            self._writer.writerow(row)
        except OSError as error:
            self.error = error
            if self.on_error is not None:
                self.on_error()


def _blank(value: float | None) -> float | str:
    """A time, or an empty cell for a step the item never reached."""
    return "" if value is None else value
