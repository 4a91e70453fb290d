"""The one A1 helper (toolkit/a1.py): letters and numbers, references both ways, absolute ones."""

from __future__ import annotations

import pytest

from toolkit.a1 import a1, absolute_a1, col_letters, col_number, parse_ref


@pytest.mark.parametrize("col, letters", [(1, "A"), (26, "Z"), (27, "AA"), (52, "AZ"), (703, "AAA"), (16384, "XFD")])
def test_column_letters_both_ways(col, letters):
    assert col_letters(col) == letters and col_number(letters) == col


def test_references():
    assert a1(7, 2) == "B7" and absolute_a1(7, 2) == "$B$7"
    assert parse_ref("B7") == parse_ref("$B$7") == parse_ref(" b7 ") == (7, 2)
    assert parse_ref("表三!B7") is None and parse_ref("B0x") is None
    assert all(parse_ref(a1(r, c)) == (r, c) for r in (1, 9, 1048576) for c in (1, 28, 16384))
