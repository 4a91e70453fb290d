"""Annotated copies: the returned workbook with every offending cell marked.

Each cell a finding points at is filled red (error) or yellow (warning) and gets a comment with
the messages; a 校验结果 sheet, placed first, lists every finding with a link to its cell. The
township can fix its file from the copy alone. The original is only read; the copy is written
atomically. Workbooks openpyxl cannot open (.xls, WPS .et, .ods) become an .xlsx copy of their
values and merged cells.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Iterable

from toolkit.checks.catalogue import FindingType
from toolkit.files import atomic_path, printable
from toolkit.model import ERROR, WARNING, FileReport, Finding, ReportData
from toolkit.a1 import col_letters, parse_ref
from toolkit.output_labels import counts_text, severity_label
from toolkit.workbook.lists import list_columns, printed_count
from toolkit.workbook.looks import colour, colour_name, text_lines as _lines

RESULT_SHEET = "校验结果"
ERROR_FILL = "FF" + colour("error")[1:]  # ARGB, as openpyxl reads fills back
WARNING_FILL = "FF" + colour("warning")[1:]
RESULT_HEADERS = tuple(c.header for c in list_columns("result_sheet"))  # templates/looks.yaml
LINE_PT = 15  # one wrapped line of the list


class AnnotateFailed(FindingType):
    code = "annotate-failed"
    severity = WARNING
    title = "无法生成标注副本"
    template = "无法为此文件生成标注副本（{reason}）；校验结果不受影响"
    description = "Writing the `--annotate` copy of a file failed (e.g. openpyxl cannot open it); the findings stand."


def _load(source: Path) -> Any:
    """An openpyxl workbook of ``source``: the file itself when openpyxl can open it, else a new
    workbook holding its values and merged cells (read through toolkit.workbook.source)."""
    import openpyxl

    data = source.read_bytes()
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), keep_vba=source.suffix.lower() == ".xlsm",
                                    keep_links=False, rich_text=True)
        if wb.worksheets:  # (a Strict Open XML file opens without any: its names are not openpyxl's)
            return wb
    except Exception:  # not an OOXML zip openpyxl understands: copy the values instead
        pass
    from toolkit.workbook.source import open_source

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    with open_source(source) as src:
        hidden = src.hidden_sheets()
        for name in src.sheet_names:
            ws = wb.create_sheet(_sheet_title(name))
            for (row, col), value in src.cells(name).items():
                _put(ws, row, col, value)
            for r1, c1, r2, c2 in src.merged(name):
                if (r1, c1) != (r2, c2):
                    ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
            if name in hidden:
                ws.sheet_state = "hidden"
    if not wb.worksheets:
        wb.create_sheet("Sheet1")
    return wb


def _sheet_title(name: str) -> str:
    for ch in "[]:*?/\\":
        name = name.replace(ch, "_")
    return name[:31] or "Sheet"


def _put(ws: Any, row: int, col: int, value: Any) -> Any:
    """Write ``value`` into a cell; text stays text (openpyxl would take "=..." for a formula)."""
    cell = ws.cell(row=row, column=col, value=value)
    _as_text(cell)
    return cell


def _as_text(cell: Any) -> None:
    if isinstance(cell.value, str) and cell.data_type == "f":
        cell.data_type = "s"


def _anchor(ws: Any, ref: str) -> Any:
    """The cell at ``ref``, or the top-left cell of the merged range containing it."""
    cell = ws[ref]
    if type(cell).__name__ == "MergedCell":
        for rng in ws.merged_cells.ranges:
            if ref in rng:
                return ws.cell(row=rng.min_row, column=rng.min_col)
    return cell


def _valid_ref(ref: str | None) -> bool:
    return bool(ref) and parse_ref(ref) is not None


def _mark_cells(wb: Any, findings: list[Finding]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        for sheet, ref in dict.fromkeys(((f.sheet, f.cell), *f.related)):
            if sheet in wb.sheetnames and _valid_ref(ref):
                by_cell.setdefault((sheet, ref.upper()), []).append(f)
    for (sheet, ref), items in by_cell.items():
        cell = _anchor(wb[sheet], ref)
        colour = ERROR_FILL if any(f.severity == ERROR for f in items) else WARNING_FILL
        cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
        lines = [f"【{severity_label(f.severity)}】{f.message}" for f in items]
        text = "\n".join(lines)
        if cell.comment is not None and cell.comment.text:
            text = f"{cell.comment.text}\n{text}"
        comment = Comment(text, "nianbao 校验")
        comment.width = 360
        comment.height = min(600, 60 + 40 * len(lines) + 16 * (len(text) // 30))
        cell.comment = comment


def _result_sheet(wb: Any, findings: list[Finding], data: ReportData | None, source_name: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    from toolkit.workbook.writer import workbook_text

    texts = workbook_text()["result_sheet"]
    columns = list_columns("result_sheet")
    widths, printed = [c.width for c in columns], printed_count(columns)
    last = col_letters(printed)
    link_col = 1 + [c.id for c in columns].index("cell")
    mark_col = 1 + [c.id for c in columns].index("severity")
    if RESULT_SHEET in wb.sheetnames:
        del wb[RESULT_SHEET]
    ws = wb.create_sheet(RESULT_SHEET, 0)
    errors = sum(1 for f in findings if f.severity == ERROR)
    warnings = sum(1 for f in findings if f.severity == WARNING)
    who = " ".join(str(x) for x in ((data.unit if data else None), (f"{data.year}年" if data and data.year else None)) if x)
    title = texts["title"].format(who=who or source_name, counts=counts_text(errors, warnings))
    _put(ws, 1, 1, title).font = Font(bold=True, size=14)
    legend = texts["clean"] if not findings else texts["legend"].format(
        error_colour=colour_name("error"), warning_colour=colour_name("warning"))
    ws["A2"] = legend
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    for row in (1, 2):
        ws.merge_cells(f"A{row}:{last}{row}")
    ws.row_dimensions[2].height = LINE_PT * _lines(legend, sum(widths[:printed]))
    ws.append([])
    ws.append(list(RESULT_HEADERS))
    header_row = ws.max_row
    head_fill = PatternFill(fill_type="solid", start_color=colour("list_header")[1:], end_color=colour("list_header")[1:])
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.fill = head_fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    order = sorted(range(len(findings)), key=lambda i: (findings[i].severity != ERROR, i))
    wrap = Alignment(wrap_text=True, vertical="top")
    for n, i in enumerate(order, 1):
        f = findings[i]
        fields = {"n": n, "severity": severity_label(f.severity), "sheet": f.sheet, "cell": f.cell, "message": f.message,
                  "row": f.row, "column": f.column, "expected": _show(f.expected), "actual": _show(f.actual),
                  "code": f.code, "rule": f.rule}
        values = [fields[c.id] for c in columns]
        ws.append(values)
        row = ws.max_row
        for cell in ws[row]:
            _as_text(cell)
            cell.alignment = wrap
        fill = ERROR_FILL if f.severity == ERROR else WARNING_FILL
        ws.cell(row=row, column=mark_col).fill = PatternFill(fill_type="solid", start_color=fill, end_color=fill)
        lines = max(_lines(str(v), widths[j]) for j, v in enumerate(values[:printed]) if v is not None)
        ws.row_dimensions[row].height = LINE_PT * lines + 3
        if f.sheet in wb.sheetnames and _valid_ref(f.cell):
            link = ws.cell(row=row, column=link_col)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{_quote_sheet(f.sheet)}!{f.cell}")
            link.style = "Hyperlink"
            link.alignment = wrap
    for j, width in enumerate(widths, 1):
        ws.column_dimensions[col_letters(j)].width = width
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.print_area = f"A1:{last}{max(ws.max_row, header_row)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.print_title_rows = f"{header_row}:{header_row}"
    for other in wb.worksheets:
        other.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _show(value: Any) -> Any:
    from decimal import Decimal

    from toolkit.model import format_decimal

    if isinstance(value, Decimal):
        return format_decimal(value)
    return value


def annotate_workbook(source: str | Path, target: str | Path, findings: Iterable[Finding], *,
                      data: ReportData | None = None, limits: Any = None) -> Path:
    """Write an annotated copy of workbook ``source`` to ``target`` (atomically; ``source`` is
    only read). Raises when the source cannot be opened or the target cannot be written.
    The copy is made in the reading helper process, within the file's time and memory budget
    (``limits``: :class:`toolkit.workbook.source.Limits`); past them it raises ``SourceError``
    and leaves no half-written copy."""
    from toolkit.isolation import IsolationError, run_isolated
    from toolkit.workbook.source import DEFAULT_LIMITS, SourceError

    source, target = Path(source), Path(target)
    if target.exists() and source.exists() and target.resolve() == source.resolve():
        raise ValueError("标注副本不能覆盖原文件")
    limits = limits or DEFAULT_LIMITS
    try:
        return run_isolated(_annotate, (source, target, list(findings)), {"data": data}, budget=limits.budget,
                            writes=True, isolate=limits.isolate)
    except IsolationError as exc:
        import glob

        for part in target.parent.glob(f".{glob.escape(target.name[:40])}.*.part"):
            part.unlink(missing_ok=True)  # what a helper stopped midway left
        raise SourceError.from_isolation(exc, source) from None


def _annotate(source: Path, target: Path, findings: list[Finding], data: ReportData | None = None) -> Path:
    wb = _load(source)
    _mark_cells(wb, findings)
    _result_sheet(wb, findings, data, printable(source.name))
    with atomic_path(target) as tmp:
        wb.save(tmp)
    return target


def annotate_file_report(report: FileReport, target: str | Path) -> Path | None:
    """Annotate the file of one checked report; on failure add an ``annotate-failed`` warning to
    the report instead of raising. Returns the copy's path, or None."""
    try:
        return annotate_workbook(report.path, target, report.findings, data=report.data)
    except Exception as exc:
        reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
        report.findings.append(AnnotateFailed.make(reason=reason))
        return None
