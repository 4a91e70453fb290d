"""A1 references: column letters and numbers, and 1-based (row, col) to "B7" and back."""

from __future__ import annotations

import re
from functools import lru_cache

Pos = tuple[int, int]  # 1-based (row, col)

_CELL_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


def col_number(letters: str) -> int:
    """Column letters to the 1-based column number: A -> 1, AA -> 27."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


@lru_cache(maxsize=20000)
def col_letters(col: int) -> str:
    """1-based column number to letters: 1 -> A, 27 -> AA."""
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@lru_cache(maxsize=65536)
def a1(row: int, col: int) -> str:
    """1-based row and column to an A1 reference."""
    return f"{col_letters(col)}{row}"


def absolute_a1(row: int, col: int) -> str:
    """1-based row and column to an absolute A1 reference: (7, 2) -> "$B$7"."""
    return f"${col_letters(col)}${row}"


def parse_ref(ref: str) -> Pos | None:
    """An A1 reference ("B7", "$B$7") to 1-based (row, col), or None."""
    m = _CELL_REF.match(ref.strip().upper())
    return (int(m.group(2)), col_number(m.group(1))) if m else None
