"""The comparison as a workbook: a sheet per table (项目, 上年, 本年, 增减, 增减%, 提示) and a
sheet of findings. Words in templates/compare/compare.yaml."""

from __future__ import annotations

import io
from pathlib import Path

from toolkit.compare.core import Comparison, compare_template
from toolkit.compare.html import title
from toolkit.output_labels import severity_label


def comparison_xlsx(comparison: Comparison) -> bytes:
    """The workbook's bytes."""
    import xlsxwriter

    texts = compare_template()["texts"]
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "border": 1, "align": "center", "bg_color": "#EEEEEE"})
    plain = book.add_format({"border": 1})
    number = book.add_format({"border": 1, "num_format": "0.####"})
    changed = book.add_format({"border": 1, "num_format": "0.####", "bg_color": "#FFF6C2"})
    flagged = book.add_format({"border": 1, "num_format": "0.####", "bg_color": "#FFD6D6", "bold": True})

    summary = book.add_worksheet(texts["summary_sheet"])
    summary.write(0, 0, title(comparison), bold)
    summary.set_column(0, 0, 10)
    summary.set_column(1, 1, 100)
    summary.set_landscape()
    summary.fit_to_pages(1, 0)
    for i, finding in enumerate(comparison.findings, start=2):
        summary.write(i, 0, severity_label(finding.severity))
        summary.write(i, 1, finding.message)
    if not comparison.findings:
        summary.write(2, 0, texts["no_findings"])

    for table in comparison.fmt.tables:
        sheet = book.add_worksheet(table.sheet)
        sheet.set_column(0, 0, 56)
        sheet.set_column(1, 4, 11)
        sheet.set_column(5, 5, 14)
        for col, text in enumerate(texts["columns"]):
            sheet.write(0, col, text, head)
        sheet.freeze_panes(1, 1)
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(0)
        rows = [c for c in comparison.cells if c.table == table.number]
        for r, change in enumerate(rows, start=1):
            style = flagged if change.flag else changed if change.changed else number
            sheet.write(r, 0, change.label.removeprefix(f"{table.number} "), plain)
            for col, value in enumerate((change.last, change.this, change.change, change.percent), start=1):
                if value is None:
                    sheet.write_blank(r, col, None, style)
                else:
                    sheet.write_number(r, col, float(value), style)
            sheet.write(r, 5, change.flag.label if change.flag else "", style if change.flag else plain)
    book.close()
    return buffer.getvalue()


def write_xlsx(comparison: Comparison, target: str | Path) -> Path:
    from toolkit.files import write_bytes_atomic

    return write_bytes_atomic(target, comparison_xlsx(comparison))
