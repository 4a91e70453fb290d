"""Where everything sits in the toolkit's standard workbook.

Combines the official table grids (toolkit.grid) with the toolkit's own sheet plan
(templates/workbook.yaml). The writer puts cells here; the reader's fast path looks for them here.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import yaml

from toolkit.formats import TEMPLATES_DIR, Format
from toolkit.grid import COLUMN, CORNER, ROW, Grid, table_grid

LINE_PT = 13.5  # height of one line of 10.5 pt 宋体


@dataclass(frozen=True)
class WorkbookPlan:
    meta_sheet: str
    meta_keys: tuple[str, ...]
    defined_name_prefix: str
    guide_sheet: str
    info_sheet: str
    narrative_sheet: str
    table_top_row: int  # 1-based
    table_left_col: int  # 1-based
    info_fields: tuple[tuple[str, str], ...]  # (id, label); row = 2 + index
    narrative_top_row: int


@lru_cache(maxsize=None)
def workbook_plan() -> WorkbookPlan:
    data = yaml.safe_load((TEMPLATES_DIR / "workbook.yaml").read_text(encoding="utf-8"))
    return WorkbookPlan(
        meta_sheet=data["meta_sheet"],
        meta_keys=tuple(data["meta_keys"]),
        defined_name_prefix=data["defined_name_prefix"],
        guide_sheet=data["sheets"]["guide"],
        info_sheet=data["sheets"]["info"],
        narrative_sheet=data["sheets"]["narrative"],
        table_top_row=int(data["table_top_row"]),
        table_left_col=int(data["table_left_col"]),
        info_fields=tuple((f["id"], f["label"]) for f in data["info_fields"]),
        narrative_top_row=int(data["narrative_top_row"]),
    )


@lru_cache(maxsize=None)
def looks() -> dict:
    """The look of the toolkit's workbooks (templates/looks.yaml): fonts, colours, list widths."""
    return yaml.safe_load((TEMPLATES_DIR / "looks.yaml").read_text(encoding="utf-8"))


def colour(name: str, part: str = "fill") -> str:
    """``#RRGGBB`` of a colour in templates/looks.yaml (``part``: fill or font)."""
    return "#" + str(looks()["colours"][name][part])


def colour_name(name: str) -> str:
    """How the sheets' texts call a colour, e.g. 橙色."""
    return str(looks()["colours"][name]["name"])


def list_columns(sheet: str, headers: tuple[str, ...]) -> tuple[list[float], int]:
    """Column widths of a list sheet (``result_sheet``, ``files_sheet``, ``findings_sheet`` in
    templates/looks.yaml) for ``headers``, and how many columns from the left are printed (the
    screen-only ones, last, are left out of the print area)."""
    conf = looks()[sheet]
    widths = [float(conf["widths"].get(h, 10)) for h in headers]
    hidden = set(conf.get("screen_only") or ())
    printed = len(headers)
    while printed > 1 and headers[printed - 1] in hidden:
        printed -= 1
    return widths, printed


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


def col_letter(col: int) -> str:
    """1-based column number to letters: 1 -> A, 27 -> AA."""
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """1-based row and column to an A1 reference."""
    return f"{col_letter(col)}{row}"


@dataclass(frozen=True)
class CellAddress:
    sheet: str
    row: int  # 1-based
    col: int  # 1-based

    @property
    def a1(self) -> str:
        return a1(self.row, self.col)


def sheet_origin() -> tuple[int, int]:
    """1-based (row, col) of every table grid's top-left cell on its sheet."""
    plan = workbook_plan()
    return plan.table_top_row, plan.table_left_col


@lru_cache(maxsize=None)
def cell_addresses(fmt: Format) -> dict[str, CellAddress]:
    """Every cell id of ``fmt`` -> its sheet and 1-based position in the standard workbook."""
    out: dict[str, CellAddress] = {}
    for table in fmt.tables:
        grid = table_grid(fmt, table.id)
        top, left = sheet_origin()
        for cell_id, (r, c) in grid.positions.items():
            out[cell_id] = CellAddress(table.sheet, top + r, left + c)
    return out


def narrative_rows(fmt: Format) -> list[tuple[int, str, str]]:
    """(1-based row, part id, label) of each narrative part on the 文字部分 sheet.

    Section headings without parts get no row; each part's label is prefixed by its section.
    """
    plan = workbook_plan()
    rows, r = [], plan.narrative_top_row
    for section in fmt.sections:
        for part in section.parts:
            rows.append((r, part.id, f"{section.label} {part.label}"))
            r += 1
    return rows


def info_rows() -> list[tuple[int, str, str]]:
    """(1-based row, field id, label) on the 基本信息 sheet."""
    return [(2 + i, fid, label) for i, (fid, label) in enumerate(workbook_plan().info_fields)]
