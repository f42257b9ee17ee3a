"""Durations and counts as a person reads them on the dashboard and in the summary."""

from __future__ import annotations

import pytest

from bpsim.render.format import fit, number, seconds


@pytest.mark.parametrize(
    "value, shown",
    [
        (0.0, "0 ms"),
        (0.0123, "12 ms"),
        (0.0002, "0.20 ms"),
        (1.25, "1.25 s"),
        (99.994, "99.99 s"),
        (200.0, "3 m 20 s"),
        (179.6, "3 m 00 s"),  # rounded before splitting: never "2 m 60 s"
        (3599.4, "59 m 59 s"),
        (3600.0, "1 h 00 m"),
        (100_000.0, "27 h 46 m"),  # a long run reads in hours, not "1666 m 40 s"
    ],
)
def test_a_duration_is_shown_in_the_unit_a_person_reads_best(value: float, shown: str):
    assert seconds(value) == shown


@pytest.mark.parametrize("value, shown", [(833, "833"), (12_160, "12,160"), (27.588, "27.6"), (1.234, "1.23")])
def test_a_number_has_thousands_separators_and_no_needless_decimals(value: float, shown: str):
    assert number(value) == shown


@pytest.mark.parametrize(
    "text, width, shown",
    [
        ("short", 8, "short"),
        ("Contended — a burst into a contended service", 30, "Contended — a burst into a …"),  # not "contende…"
        ("큐가 가득 찼다면", 9, "큐가 …"),  # 5 + 2 cells; never `큐 …`, which reads as another word
        ("Supercalifragilistic", 8, "Superca…"),  # one word wider than the room: cut where it must be
    ],
)
def test_fit_cuts_after_a_whole_word(text: str, width: int, shown: str):
    assert fit(text, width) == shown
