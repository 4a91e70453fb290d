"""The look of the toolkit's own workbooks, and how much room their texts need.

Colours, fonts and the list sheets' columns come from ``templates/looks.yaml`` (one place each;
:mod:`toolkit.workbook.lists` writes the lists); the sizing helpers estimate wrapped lines the way Excel lays out CJK text (a character is two
column units), so that rows are tall enough and lines break between fields, never inside one.
The writer, the annotator and the summary workbook use them.
"""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache

from toolkit.formats import TEMPLATES_DIR, load_yaml
from toolkit.grid import COLUMN, CORNER, ROW, Grid

LINE_PT = 13.5  # height of one line of 10.5 pt 宋体


@lru_cache(maxsize=None)
def looks() -> dict:
    """The look of the toolkit's workbooks (templates/looks.yaml): fonts, colours, list widths."""
    return load_yaml(TEMPLATES_DIR / "looks.yaml")


def colour(name: str, part: str = "fill") -> str:
    """``#RRGGBB`` of a colour in templates/looks.yaml (``part``: fill or font)."""
    return "#" + str(looks()["colours"][name][part])


def colour_name(name: str) -> str:
    """How the sheets' texts call a colour, e.g. 橙色."""
    return str(looks()["colours"][name]["name"])


def display_width(text: str) -> int:
    """Width of ``text`` in half-width character cells (CJK and full-width count 2)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def text_lines(text: str, width: float) -> int:
    """Lines ``text`` takes in a wrapped cell ``width`` characters (column units) wide."""
    usable = max(width - 1.5, 2)
    return sum(max(1, math.ceil(display_width(part) / usable)) for part in (text or "").split("\n"))


def pack_fields(fields: list[str], gap: str, width: float) -> str:
    """``fields`` joined by ``gap`` on as few lines as fit ``width`` (see :func:`text_lines`); a
    line breaks only between fields, never inside one (``报告年度：2025年`` stays whole)."""
    usable = max(width - 1.5, 2)
    lines: list[str] = []
    for item in fields:
        if lines and display_width(lines[-1] + gap + item) <= usable:
            lines[-1] += gap + item
        else:
            lines.append(item)
    return "\n".join(lines)


def break_before_note(text: str, width: float) -> str:
    """``text`` with a line break before its closing ``（…）`` note when it does not fit on one
    line of ``width``, so that a wrap never leaves the bracket alone (``…文件⏎）``)."""
    if "\n" in text or text_lines(text, width) == 1 or not text.endswith("）"):
        return text
    start = text.rfind("（")
    if start <= 0:
        return text
    return f"{text[:start]}\n{text[start:]}"


def label_columns(grid: Grid) -> int:
    """How many columns on the left of a table's grid hold row labels."""
    return max([c.col + c.colspan for c in grid.cells if c.role in (ROW, CORNER)], default=0)


def grid_column_widths(grid: Grid, label_cols: int) -> list[float]:
    """Column widths (character units) for a table's grid: label columns as wide as their
    labels (within limits), number columns as wide as their headings need."""
    widths: list[float] = []
    for j in range(grid.n_cols):
        if j < label_cols:
            need = [display_width(c.text) + 2 if c.rowspan == 1 else min(display_width(c.text) + 2, 12)
                    for c in grid.cells if c.role == ROW and c.col == j and c.colspan == 1]
            widths.append(float(min(max(need, default=6), 44)))
        else:
            heads = [c.text for c in grid.cells if c.role == COLUMN and c.col == j and c.colspan == 1]
            lines = 1 if grid.n_cols - label_cols <= 8 else 2  # few columns: room for one-line headers
            need = max((math.ceil(display_width(t) / lines) + 2 for t in heads), default=10)
            widths.append(float(min(max(need, 10), 16)))
    return widths


def grid_row_heights(grid: Grid, widths: list[float]) -> list[float]:
    """Row heights (points) so that every wrapped label of the grid shows whole at ``widths``;
    a label spanning rows gets what it lacks on its last row."""
    heights = [20.0] * grid.n_rows
    spanning = []
    for c in grid.cells:
        if not c.text:
            continue
        need = text_lines(c.text, sum(widths[c.col:c.col + c.colspan])) * LINE_PT + 6
        if c.rowspan == 1:
            heights[c.row] = max(heights[c.row], need)
        else:
            spanning.append((c, need))
    for c, need in spanning:
        have = sum(heights[c.row:c.row + c.rowspan])
        if have < need:
            heights[c.row + c.rowspan - 1] += need - have
    return heights
