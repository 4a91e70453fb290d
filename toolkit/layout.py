"""Where everything sits in the toolkit's standard workbook.

Combines the official table grids (toolkit.grid) with the toolkit's own sheet plan
(templates/workbook.yaml). The writer puts cells here; the reader's fast path looks for them here;
the checks name the cell of a finding by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from toolkit.a1 import a1
from toolkit.formats import TEMPLATES_DIR, Format, load_yaml
from toolkit.grid import table_grid

ORIGIN_PUBLISHED = "published"
"""The meta ``origin`` of a workbook imported from a published report: its totals are the
published values, not formulas (the writer's ``published``; the reader checks them as such)."""


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
    data = load_yaml(TEMPLATES_DIR / "workbook.yaml")
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
