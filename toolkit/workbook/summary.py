"""The county summary workbook of a check run (``nianbao check --summary FILE.xlsx``).

Sheets: 文件汇总 (one row per file: unit, year, format, status, counts, first messages),
问题清单 (every finding), and 汇总: the county totals of 表二/表三/表四 over all files without
errors, laid out like the official tables (toolkit.grid). Totals are recomputed from each
file's input cells. Files of another format than the majority get their own 汇总 sheet.
"""

from __future__ import annotations

import os
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from toolkit.files import atomic_path, printable
from toolkit.formats import Format, load_format
from toolkit.grid import CAPTION, COLUMN, CORNER, ROW, VALUE, table_grid
from toolkit.model import ERROR, WARNING, FileReport, Report, format_decimal
from toolkit.output_labels import file_state, file_status_label, severity_label
from toolkit.workbook.lists import list_columns, list_styles, print_setup, write_list
from toolkit.workbook.looks import grid_column_widths, grid_row_heights, label_columns

FILES_SHEET, FINDINGS_SHEET, TOTALS_SHEET = "文件汇总", "问题清单", "汇总"
FILES_HEADERS = tuple(c.header for c in list_columns("files_sheet"))  # templates/looks.yaml
FINDINGS_HEADERS = tuple(c.header for c in list_columns("findings_sheet"))
FIRST_MESSAGES = 3
TOTALS_TOP = 4  # 1-based row where the first table caption of a 汇总 sheet goes
FILE_STYLE = {"clean": "ok", "warnings": WARNING}  # else ERROR


def county_totals(reports: list[FileReport], fmt: Format) -> tuple[dict[str, Decimal], list[FileReport]]:
    """Cell id -> sum over the files without errors in format ``fmt`` (totals recomputed from
    each file's input cells), and the files summed."""
    from toolkit.checks.figures import recompute

    used = [r for r in reports if r.valid and r.data is not None and str(r.data.format) == fmt.id]
    sums = {cell_id: Decimal(0) for cell_id in fmt.cells}
    for report in used:
        for cell_id, value in recompute(fmt, report.data.values).items():
            sums[cell_id] += value
    return sums, used


def totals_positions(fmt: Format) -> tuple[dict[str, tuple[int, int]], list[tuple[str, int]]]:
    """Where the 汇总 sheet puts each value cell (1-based row, col) and each table's title row."""
    positions: dict[str, tuple[int, int]] = {}
    titles: list[tuple[str, int]] = []
    top = TOTALS_TOP
    for table in fmt.tables:
        grid = table_grid(fmt, table.id)
        titles.append((table.id, top))
        for cell_id, (r, c) in grid.positions.items():
            positions[cell_id] = (top + 1 + r, 1 + c)
        top += 1 + grid.n_rows + 1
    return positions, titles


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _show(value: Any) -> Any:
    return format_decimal(value) if isinstance(value, Decimal) else value


def _totals_sheet(wb: Any, name: str, fmt: Format, reports: list[FileReport], styles: dict[str, Any]) -> None:
    ws = wb.add_worksheet(name)
    sums, used = county_totals(reports, fmt)
    units = [r.data.unit or printable(Path(r.path).name) for r in used]
    years = sorted({r.data.year for r in used if r.data.year is not None})
    year_text = "、".join(str(y) for y in years)
    ws.write(0, 0, f"{year_text + '年度 ' if year_text else ''}政府信息公开工作年度报告数据汇总"
                   f"（{fmt.id}格式，{len(used)}个单位）", styles["title"])
    excluded = sum(1 for r in reports if r.data is not None and str(r.data.format) == fmt.id and not r.valid)
    note = f"汇总了没有错误的{len(used)}个文件" + (f"；另有{excluded}个文件有错误，未计入" if excluded else "")
    if not used:
        note = "没有可汇总的文件（所有文件都有错误或无法读取）"
    ws.write(1, 0, note)
    if units:
        ws.write(2, 0, "单位：" + "、".join(str(u) for u in units))
    from toolkit.workbook.writer import table_title

    _, titles = totals_positions(fmt)
    grids = [table_grid(fmt, table.id) for table in fmt.tables]
    widths: list[float] = []
    for grid in grids:
        for j, width in enumerate(grid_column_widths(grid, label_columns(grid))):
            if j < len(widths):
                widths[j] = max(widths[j], width)
            else:
                widths.append(width)
    for table, grid, (table_id, title_row) in zip(fmt.tables, grids, titles):
        ws.write(title_row - 1, 0, table_title(table), styles["caption"])
        top = title_row  # 0-based row of the grid's first line
        for i, height in enumerate(grid_row_heights(grid, widths[:grid.n_cols])):
            ws.set_row(top + i, height)
        for gc in grid.cells:
            r1, c1 = top + gc.row, gc.col
            r2, c2 = r1 + gc.rowspan - 1, c1 + gc.colspan - 1
            if gc.role == VALUE:
                cell = fmt.cell(gc.cell_id)
                style = styles["money" if cell.kind.decimals else "count"]
                value: Any = _number(sums[gc.cell_id])
            else:
                style = styles["header" if gc.role in (COLUMN, CORNER, CAPTION) else "label"]
                value = gc.text
            if (r1, c1) != (r2, c2):
                ws.merge_range(r1, c1, r2, c2, value, style)
            else:
                ws.write(r1, c1, value, style)
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    print_setup(ws)


def file_label(path: str, folder: str | None) -> str:
    """How a file is named in the lists: relative to ``folder`` (the folder the checked files
    share) when it lies in it, else its name alone; never the full absolute path."""
    if folder:
        try:
            rel = os.path.relpath(path, folder)
        except ValueError:  # another drive on Windows
            rel = ""
        if rel and not rel.startswith(".."):
            return rel
    return Path(path).name or path


def common_folder(paths: list[str]) -> str | None:
    """The deepest folder holding all of ``paths`` (None when there are none or no common one)."""
    parents = [os.path.dirname(os.path.abspath(p)) for p in paths]
    if not parents:
        return None
    try:
        return os.path.commonpath(parents)
    except ValueError:
        return None


def write_summary(report: Report, path: str | Path) -> Path:
    """Write the summary workbook of a check run to ``path`` (atomically). Files are named
    relative to the folder they share; a format gets a 汇总 sheet of its own only when some file
    in it could be summed (the first 汇总 sheet is always there, saying when nothing could)."""
    import xlsxwriter

    path = Path(path)
    folder = common_folder([printable(f.path) for f in report.files])
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
        styles = list_styles(wb)
        add = styles["add"]
        styles.update({
            "caption": add(bold=True, font_size=12),
            "header": add(bold=True, border=1, text_wrap=True, align="center", valign="vcenter"),
            "label": add(border=1, text_wrap=True, valign="vcenter"),
            "count": add(border=1, num_format="0", valign="vcenter"),
            "money": add(border=1, num_format="0.0000", valign="vcenter"),
        })
        _files_sheet(wb, report, styles, folder)
        _findings_sheet(wb, report, styles, folder)
        counts = Counter(str(r.data.format) for r in report.files if r.data is not None)
        summable = Counter(str(r.data.format) for r in report.files if r.data is not None and r.valid)
        format_ids = sorted(counts, key=lambda fid: (-summable[fid], -counts[fid], -int(fid) if fid.isdigit() else 0))
        format_ids = [fid for i, fid in enumerate(format_ids) if i == 0 or summable[fid]] or ["2021"]
        for i, fid in enumerate(format_ids):
            try:
                fmt = load_format(fid)
            except Exception:
                continue
            _totals_sheet(wb, TOTALS_SHEET if i == 0 else f"{TOTALS_SHEET}_{fid}", fmt, report.files, styles)
        wb.close()
    return path


def _files_sheet(wb: Any, report: Report, styles: dict[str, Any], folder: str | None) -> None:
    ws = wb.add_worksheet(FILES_SHEET)
    rows, cell_styles = [], {}
    for i, f in enumerate(report.files):
        ordered = sorted(f.findings, key=lambda x: x.severity != ERROR)
        first = "\n".join(x.message for x in ordered[:FIRST_MESSAGES])
        if len(ordered) > FIRST_MESSAGES:
            first += f"\n……另有{len(ordered) - FIRST_MESSAGES}个问题"
        data = f.data
        rows.append({"n": i + 1, "file": file_label(printable(f.path), folder), "unit": data.unit if data else None,
                     "year": data.year if data else None, "format": data.format if data else None,
                     "status": file_status_label(f), "errors": f.errors, "warnings": f.warnings, "first": first})
        cell_styles[(i, "status")] = styles[FILE_STYLE.get(file_state(f), ERROR)]
    write_list(ws, list_columns("files_sheet"), rows, styles, cell_styles)


def _findings_sheet(wb: Any, report: Report, styles: dict[str, Any], folder: str | None) -> None:
    ws = wb.add_worksheet(FINDINGS_SHEET)
    rows, cell_styles = [], {}
    for f in report.files:
        unit = f.data.unit if f.data else None
        name = file_label(printable(f.path), folder)
        for x in f.findings:
            if x.severity in styles:
                cell_styles[(len(rows), "severity")] = styles[x.severity]
            rows.append({"file": name, "unit": unit, "severity": severity_label(x.severity), "message": x.message,
                         "sheet": x.sheet, "cell": x.cell, "row": x.row, "column": x.column,
                         "expected": _show(x.expected), "actual": _show(x.actual), "code": x.code, "rule": x.rule})
    write_list(ws, list_columns("findings_sheet"), rows, styles, cell_styles)
