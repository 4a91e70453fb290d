"""Write the standard workbook a county sends to each township (xlsxwriter).

Everything is derived from the format definition (labels, layout, kinds, rules) plus the
toolkit's own sheet plan (templates/workbook.yaml) and words (templates/workbook_text.yaml):

- 填报说明: what to fill, every rule's wording, the deadline, whom to ask;
- 基本信息: unit and year (pre-filled, locked), 填报人, 联系电话, 填报日期;
- one sheet per official table, laid out from :func:`toolkit.grid.table_grid` at the
  :func:`toolkit.layout.cell_addresses` positions; input cells unlocked and validated
  per kind, every total a live formula from :meth:`Format.total_rule`, locked; a live check of
  the ``equal`` / ``at_least`` rules that need no prior year (check cells and red/yellow cells);
- 文字部分: one cell per narrative part;
- a hidden meta sheet, defined names and document properties naming format, toolkit version,
  unit and year, so that the reader can identify the file even after another program re-saved it.

All text is written with ``write_string``: a unit name starting with ``=`` stays text.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import quote_sheetname

from toolkit import __version__
from toolkit.a1 import absolute_a1
from toolkit.files import atomic_path
from toolkit.formats import Format, load_format
from toolkit.model import ReportData
from toolkit.layout import (
    ORIGIN_PUBLISHED,
    cell_addresses,
    workbook_plan,
)
from toolkit.workbook.writing import (
    _Check, _Sheet, _Writer, custom_property_name, defined_name_for_cell, defined_name_for_meta,
    workbook_text,
)
from toolkit.workbook.sheets import _guide_sheet, _info_sheet, _narrative_sheet, _protect, _table_sheet

# the writer's public names, wherever they live
from toolkit.workbook.formulas import live_checks, total_formula  # noqa: E402,F401
from toolkit.workbook.writing import CHECK_RULE_KINDS, kind_phrase, table_title  # noqa: E402,F401


# ------------------------------------------------------------------------------------ public API


def write_workbook(
    path: str | Path,
    fmt: Format | str,
    *,
    unit: str,
    year: int,
    data: ReportData | None = None,
    contact: dict | None = None,
    deadline: dt.date | None = None,
    generated_at: dt.datetime | None = None,
    published: bool = False,
) -> Path:
    """Write the standard workbook for ``unit`` and ``year`` to ``path`` (atomically).

    ``data`` fills it: every input cell from ``data.values`` (None or missing: left empty),
    the narrative parts and the 基本信息 fields (``filler``, ``phone``, ``date``). Totals are
    live formulas, except with ``published``: then ``data`` holds the numbers of a published
    report (``nianbao import``) and every total is written as published (a number, marked with
    its own look and a comment), the ``sum`` rules get live check cells too, and the workbook
    records ``origin: published`` (meta sheet, ``NB_ORIGIN``, document property) so that the
    reader checks those totals as published values. ``contact`` (keys ``office``, ``name``,
    ``phone``, ``email``) is who the township asks, shown in 填报说明 with ``deadline``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        _build(str(tmp), _as_format(fmt), unit=unit, year=year, data=data, contact=contact,
               deadline=deadline, generated_at=generated_at, published=published)
    return path


def workbook_bytes(
    fmt: Format | str,
    *,
    unit: str,
    year: int,
    data: ReportData | None = None,
    contact: dict | None = None,
    deadline: dt.date | None = None,
    generated_at: dt.datetime | None = None,
    published: bool = False,
) -> bytes:
    """The same workbook as :func:`write_workbook`, as bytes (for mail attachments)."""
    buffer = io.BytesIO()
    _build(buffer, _as_format(fmt), unit=unit, year=year, data=data, contact=contact,
           deadline=deadline, generated_at=generated_at, published=published)
    return buffer.getvalue()


def _as_format(fmt: Format | str) -> Format:
    return fmt if isinstance(fmt, Format) else load_format(str(fmt))



def _build(target: Any, fmt: Format, *, unit: str, year: int, data: ReportData | None,
           contact: dict | None, deadline: dt.date | None, generated_at: dt.datetime | None,
           published: bool = False) -> None:
    options = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    if isinstance(target, io.BytesIO):
        options["in_memory"] = True
    wb = xlsxwriter.Workbook(target, options)
    w = _Writer(wb, fmt, unit or "", int(year), data, contact, deadline,
                generated_at or dt.datetime.now().replace(microsecond=0), published=published)
    w.addresses = cell_addresses(fmt)
    plan = workbook_plan()
    guide = wb.add_worksheet(plan.guide_sheet, _Sheet)
    info = wb.add_worksheet(plan.info_sheet, _Sheet)
    checks: list[_Check] = []
    for table in fmt.tables:
        checks += _table_sheet(w, wb.add_worksheet(table.sheet, _Sheet), table)
    _narrative_sheet(w, wb.add_worksheet(plan.narrative_sheet, _Sheet))
    _info_sheet(w, info)
    _guide_sheet(w, guide)
    _meta_sheet(w, wb.add_worksheet(plan.meta_sheet, _Sheet))
    _properties(w)
    guide.activate()
    wb.close()



def meta_values(fmt: Format, *, unit: str, year: int, deadline: dt.date | None = None,
                generated_at: dt.datetime | None = None, published: bool = False) -> dict[str, Any]:
    """What the workbook records about itself, keyed by the plan's meta keys (``origin`` is
    ``published`` for a workbook imported from a published report)."""
    values = {
        "format": fmt.id,
        "toolkit_version": __version__,
        "unit": unit or "",
        "year": int(year),
        "generated_at": (generated_at or dt.datetime.now().replace(microsecond=0)).isoformat(),
        "deadline": deadline.isoformat() if deadline else "",
        "origin": ORIGIN_PUBLISHED if published else "",
    }
    return {key: values.get(key, "") for key in workbook_plan().meta_keys}


def _meta_sheet(w: _Writer, ws: Any) -> None:
    values = meta_values(w.fmt, unit=w.unit, year=w.year, deadline=w.deadline, generated_at=w.generated_at,
                         published=w.published)
    sheet = quote_sheetname(ws.get_name())
    for i, (key, value) in enumerate(values.items()):
        ws.write_string(i, 0, key)
        if isinstance(value, int):
            ws.write_number(i, 1, value)
        else:
            ws.write_string(i, 1, str(value))
        w.wb.define_name(defined_name_for_meta(key), f"={sheet}!$B${i + 1}")
    ws.write_string(0, 3, workbook_text()["meta_sheet_note"])
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 40)
    for cell_id, addr in w.addresses.items():
        w.wb.define_name(defined_name_for_cell(cell_id), f"={quote_sheetname(addr.sheet)}!{absolute_a1(addr.row, addr.col)}")
    ws.hide()
    _protect(ws)


def _properties(w: _Writer) -> None:
    texts = workbook_text()
    values = meta_values(w.fmt, unit=w.unit, year=w.year, deadline=w.deadline, generated_at=w.generated_at,
                         published=w.published)
    w.wb.set_properties({
        "title": texts["workbook_title"].format(unit=w.unit, year=w.year),
        "subject": w.fmt.name,
        "author": f"年报工具箱 nianbao {__version__}",
        "keywords": f"nianbao, format={w.fmt.id}, year={w.year}",
        "comments": f"nianbao format={w.fmt.id} year={w.year}",
        "created": w.generated_at,
    })
    for key, value in values.items():
        if value != "":
            w.wb.set_custom_property(custom_property_name(key), str(value)[:255], "text")  # Excel's limit
