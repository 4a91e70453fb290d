"""The rows of a table region: label cells and value cells, header rows, and rows rebuilt from
tables printed one cell per line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.importers.cells import is_value
from toolkit.importers.document import Item

LABEL_PATH = re.compile(r"\s+/\s+")  # "三、本年度办理结果 / （一）予以公开": a row's label path in one cell

# ---------------------------------------------------------------- rows of a table region


@dataclass
class ValueRow:
    item: Item
    labels: list[str]  # label cells (or the label part of a text line), left to right
    values: list[str]  # value cells, blanks kept where the source has cell boundaries
    explicit: bool  # cell boundaries are real (tabs, |, HTML/Word cells)
    order: int = 0
    blank: bool = False  # a label with every cell after it empty: the row's cells are blank
    value_items: list[Item] | None = None  # where each value is, when the row was put together from several

    def item_of(self, k: int) -> Item:
        return self.value_items[k] if self.value_items else self.item

    @property
    def where(self) -> str:
        return f"{self.item.where}："


@dataclass
class HeaderRow:
    item: Item
    cells: list[str]


def _split_row(item: Item) -> ValueRow | HeaderRow | None:
    """A row item -> label cells and value cells (everything after the last label cell)."""
    cells = [c.strip() for c in item.cells]
    last_label = -1
    first_value = None
    for i, c in enumerate(cells):
        if not c:
            continue
        if is_value(c):
            first_value = i
            break
        last_label = i
    if first_value is None:
        filled = [i for i, c in enumerate(cells) if c]
        if len(filled) == 1 and filled[0] < len(cells) - 1:
            labels = [part for part in LABEL_PATH.split(cells[filled[0]]) if part.strip()]
            return ValueRow(item, labels, cells[filled[0] + 1:], explicit=True, blank=True)
        return HeaderRow(item, [c for c in cells if c]) if any(cells) else None
    labels = [part for c in cells[: last_label + 1] if c for part in LABEL_PATH.split(c) if part.strip()]
    return ValueRow(item, labels, cells[last_label + 1:], explicit=True)


def _split_line(item: Item) -> ValueRow | HeaderRow | None:
    """A line of PDF-extracted text: the numbers at its end are the cells, the rest the label."""
    tokens = item.text.split()
    k = len(tokens)
    while k > 0 and is_value(tokens[k - 1], loose=False):
        k -= 1
    if k == len(tokens):
        return HeaderRow(item, [item.text])
    label = " ".join(tokens[:k]).strip()
    return ValueRow(item, [label] if label else [], tokens[k:], explicit=False)


def table_rows(items: list[Item]) -> list[ValueRow | HeaderRow]:
    """The rows of a table region, in order; a bracketed note on a line of its own after a
    line of numbers is joined to that line's last number ("22" + "（其中修订16件）")."""
    out: list[ValueRow | HeaderRow] = []
    for item in items:
        row = _split_row(item) if item.is_row else _split_line(item)
        if row is None:
            continue
        if (isinstance(row, HeaderRow) and not item.is_row and out and isinstance(out[-1], ValueRow)
                and not out[-1].explicit and re.fullmatch(r"[（(][^（）()]*[）)]", item.text.strip())):
            out[-1].values[-1] += item.text.strip()
            continue
        out.append(row)
    out = _cell_per_line_rows(out)
    for i, row in enumerate(out):
        if isinstance(row, ValueRow):
            row.order = i
    return out


def _cell_per_line_rows(rows: list[ValueRow | HeaderRow]) -> list[ValueRow | HeaderRow]:
    """A table printed one cell per line with no row marks (``规章`` / ``0`` / ``0`` / ``0``):
    a label line followed by lines of one number each is one row, label and numbers."""
    out: list[ValueRow | HeaderRow] = []
    i = 0
    while i < len(rows):
        row = rows[i]
        numbers: list[ValueRow] = []
        j = i + 1
        while j < len(rows) and _lone_number(rows[j]):
            numbers.append(rows[j])
            j += 1
        if isinstance(row, HeaderRow) and len(row.cells) == 1 and numbers:
            values = [r.values[0] for r in numbers]
            labels = [part for part in LABEL_PATH.split(row.cells[0]) if part.strip()]
            out.append(ValueRow(row.item, labels, values, explicit=True,
                                value_items=[r.item for r in numbers]))
            i = j
            continue
        out.append(row)
        i += 1
    return out


def _lone_number(row: ValueRow | HeaderRow) -> bool:
    return isinstance(row, ValueRow) and not row.labels and len(row.values) == 1 and not row.blank
