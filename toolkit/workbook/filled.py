"""Whether a returned file was filled in at all.

A blank copied straight back reads as all zeros, each blank cell a ``value-blank`` warning: it
would pass as clean. :func:`not_filled` counts the format's input cells that hold anything and,
when at most the share of ``templates/reading.yaml`` (``not_filled``) do, replaces those blank
warnings with one ``workbook-not-filled`` error. The same applies to workbooks and to imported
published reports (whose tables were found but hold no numbers).
"""

from __future__ import annotations

import math
from pathlib import Path

from toolkit.checks.reading_findings import WorkbookNotFilled
from toolkit.formats import Format
from toolkit.layout import cell_addresses
from toolkit.model import Finding, ReportData
from toolkit.workbook.values import vocabulary


def filled_count(fmt: Format, data: ReportData) -> tuple[int, int, int]:
    """(input cells of the format, those found in the file, those holding anything)."""
    inputs = fmt.input_cells
    raw = data.raw
    found = [raw[c.id] for c in inputs if c.id in raw]
    filled = sum(1 for value in found if value is not None and str(value).strip())
    return len(inputs), len(found), filled


def is_not_filled(fmt: Format, data: ReportData) -> bool:
    """The tables were found, and at most the template's share of input cells hold anything."""
    total, found, filled = filled_count(fmt, data)
    return found > 0 and filled <= math.floor(vocabulary().not_filled_share * total)


def not_filled(fmt: Format, data: ReportData, findings: list[Finding], *, file: str | Path) -> list[Finding]:
    """``findings`` unchanged for a filled-in file; for an unfilled one, without the blank
    warnings of its table cells and with one ``workbook-not-filled`` error (placed on the first
    input cell) before the other findings."""
    if not is_not_filled(fmt, data):
        return findings
    total, _, filled = filled_count(fmt, data)
    places = {_place(fmt, data, cell_id) for cell_id in fmt.cells}
    kept = [f for f in findings if not (f.code == "value-blank" and (f.sheet, f.cell) in places)]
    sheet, cell = _place(fmt, data, fmt.input_cells[0].id)
    tables = "、".join(t.number for t in fmt.tables)
    error = WorkbookNotFilled.make(file=Path(str(file)).name, tables=tables, total=total, filled=filled,
                                   sheet=sheet, cell=cell, expected=total, actual=filled)
    return [error, *kept]


def _place(fmt: Format, data: ReportData, cell_id: str) -> tuple[str | None, str]:
    """(sheet, A1) where findings name a cell: where it was read, else its standard place."""
    source = data.cells.get(cell_id)
    if source is not None and source.cell:
        return source.sheet, source.cell
    return fmt.cell(cell_id).table.sheet, cell_addresses(fmt)[cell_id].a1
