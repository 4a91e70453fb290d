"""The county summary workbook of a check run (``nianbao check --summary FILE.xlsx``).

Sheets: 文件汇总 (one row per file: unit, year, format, status, counts, first messages),
问题清单 (every finding), and 汇总: the county totals of 表二/表三/表四 over all files without
errors, laid out like the official tables (toolkit.grid). Totals are recomputed from each
file's input cells. Files of another format than the majority get their own 汇总 sheet.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from toolkit.files import atomic_path, printable
from toolkit.formats import Format, load_format
from toolkit.grid import CAPTION, COLUMN, CORNER, ROW, VALUE, table_grid
from toolkit.model import ERROR, WARNING, FileReport, Report, format_decimal

FILES_SHEET, FINDINGS_SHEET, TOTALS_SHEET = "文件汇总", "问题清单", "汇总"
FILES_HEADERS = ("序号", "文件", "单位", "年度", "格式", "状态", "错误", "警告", "主要问题")
FINDINGS_HEADERS = ("文件", "单位", "级别", "代码", "问题说明", "工作表", "单元格", "行", "列", "应为", "实为", "规则")
FIRST_MESSAGES = 3
TOTALS_TOP = 4  # 1-based row where the first table caption of a 汇总 sheet goes
SEVERITY_TEXT = {ERROR: "错误", WARNING: "警告"}


def file_status(report: FileReport) -> str:
    """无法读取 / 有错误 / 有警告 / 通过."""
    if report.data is None:
        return "无法读取"
    if report.errors:
        return "有错误"
    if report.warnings:
        return "有警告"
    return "通过"


def county_totals(reports: list[FileReport], fmt: Format) -> tuple[dict[str, Decimal], list[FileReport]]:
    """Cell id -> sum over the files without errors in format ``fmt`` (totals recomputed from
    each file's input cells), and the files summed."""
    from toolkit.checks.engine import recompute

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
    _, titles = totals_positions(fmt)
    widths: dict[int, float] = {}
    for table, (table_id, title_row) in zip(fmt.tables, titles):
        grid = table_grid(fmt, table.id)
        ws.write(title_row - 1, 0, f"{table.number} {table.caption}", styles["caption"])
        top = title_row  # 0-based row of the grid's first line
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
            if gc.role in (ROW, CORNER) and gc.colspan == 1:
                widths[c1] = max(widths.get(c1, 8), min(40, len(gc.text) * 1.8))
    for col in range(max((table_grid(fmt, t.id).n_cols for t in fmt.tables), default=0)):
        ws.set_column(col, col, widths.get(col, 11))
    ws.set_landscape()
    ws.fit_to_pages(1, 0)


def write_summary(report: Report, path: str | Path) -> Path:
    """Write the summary workbook of a check run to ``path`` (atomically)."""
    import xlsxwriter

    path = Path(path)
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
        styles = {
            "title": wb.add_format({"bold": True, "font_size": 14}),
            "caption": wb.add_format({"bold": True, "font_size": 12}),
            "head": wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True,
                                   "valign": "vcenter"}),
            "header": wb.add_format({"bold": True, "border": 1, "text_wrap": True, "align": "center",
                                     "valign": "vcenter"}),
            "label": wb.add_format({"border": 1, "text_wrap": True, "valign": "vcenter"}),
            "count": wb.add_format({"border": 1, "num_format": "0"}),
            "money": wb.add_format({"border": 1, "num_format": "0.0000"}),
            "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
            ERROR: wb.add_format({"bg_color": "#FFC7CE", "valign": "top"}),
            WARNING: wb.add_format({"bg_color": "#FFEB9C", "valign": "top"}),
            "ok": wb.add_format({"bg_color": "#C6EFCE", "valign": "top"}),
        }
        _files_sheet(wb, report, styles)
        _findings_sheet(wb, report, styles)
        counts = Counter(str(r.data.format) for r in report.files if r.data is not None)
        format_ids = sorted(counts, key=lambda fid: (-counts[fid], -int(fid) if fid.isdigit() else 0)) or ["2021"]
        for i, fid in enumerate(format_ids):
            try:
                fmt = load_format(fid)
            except Exception:
                continue
            _totals_sheet(wb, TOTALS_SHEET if i == 0 else f"{TOTALS_SHEET}_{fid}", fmt, report.files, styles)
        wb.close()
    return path


def _files_sheet(wb: Any, report: Report, styles: dict[str, Any]) -> None:
    ws = wb.add_worksheet(FILES_SHEET)
    ws.write_row(0, 0, FILES_HEADERS, styles["head"])
    for i, f in enumerate(report.files, 1):
        status = file_status(f)
        ordered = sorted(f.findings, key=lambda x: x.severity != ERROR)
        first = "\n".join(x.message for x in ordered[:FIRST_MESSAGES])
        if len(ordered) > FIRST_MESSAGES:
            first += f"\n……另有{len(ordered) - FIRST_MESSAGES}个问题"
        data = f.data
        ws.write_row(i, 0, [i, printable(f.path), data.unit if data else None, data.year if data else None,
                            data.format if data else None])
        ws.write(i, 5, status, styles[{"通过": "ok", "有警告": WARNING}.get(status, ERROR)])
        ws.write_row(i, 6, [f.errors, f.warnings])
        ws.write(i, 8, first, styles["wrap"])
    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 24)
    ws.set_column(3, 7, 8)
    ws.set_column(8, 8, 90)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(1, len(report.files)), len(FILES_HEADERS) - 1)


def _findings_sheet(wb: Any, report: Report, styles: dict[str, Any]) -> None:
    ws = wb.add_worksheet(FINDINGS_SHEET)
    ws.write_row(0, 0, FINDINGS_HEADERS, styles["head"])
    row = 1
    for f in report.files:
        unit = f.data.unit if f.data else None
        for x in f.findings:
            ws.write_row(row, 0, [printable(f.path), unit])
            ws.write(row, 2, SEVERITY_TEXT.get(x.severity, x.severity), styles.get(x.severity, styles["wrap"]))
            ws.write_row(row, 3, [x.code, x.message, x.sheet, x.cell, x.row, x.column,
                                  _show(x.expected), _show(x.actual), x.rule])
            row += 1
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 20)
    ws.set_column(3, 3, 22)
    ws.set_column(4, 4, 80)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(1, row - 1), len(FINDINGS_HEADERS) - 1)
