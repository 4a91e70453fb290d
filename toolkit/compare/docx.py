"""The comparison as a Word document: the findings, then for each table its cells as rows
(项目, 上年, 本年, 增减, 增减%, 提示), changed rows shaded. Words in templates/compare/compare.yaml."""

from __future__ import annotations

import io
from pathlib import Path

from toolkit.compare.core import Comparison, compare_template
from toolkit.compare.html import title
from toolkit.model import format_decimal
from toolkit.output_labels import severity_label


def shade(cell, colour: str) -> None:
    """Fill a Word table cell with ``colour`` (hex, without #)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shading)


def comparison_docx(comparison: Comparison, *, changed_only: bool = True) -> bytes:
    """The document's bytes; with ``changed_only`` (default) each table lists only the cells
    that differ from last year (the HTML and xlsx outputs have every cell)."""
    import docx
    from docx.shared import Cm, Pt

    texts = compare_template()["texts"]
    looks = compare_template()["docx"]
    doc = docx.Document()
    doc.styles["Normal"].font.size = Pt(looks["font_pt"])
    doc.core_properties.title = title(comparison)
    doc.add_heading(title(comparison), level=1)
    doc.add_paragraph(texts["legend_docx"])
    doc.add_heading(texts["findings"], level=2)
    for finding in comparison.findings:
        doc.add_paragraph(f"【{severity_label(finding.severity)}】{finding.message}", style="List Number")
    if not comparison.findings:
        doc.add_paragraph(texts["no_findings"])
    for table in comparison.fmt.tables:
        rows = [c for c in comparison.cells if c.table == table.number and (c.changed or not changed_only)]
        doc.add_heading(table.caption or table.sheet, level=2)
        grid = doc.add_table(rows=1, cols=len(texts["columns"]))
        grid.style = "Table Grid"
        for cell, text in zip(grid.rows[0].cells, texts["columns"]):
            cell.text = text
            shade(cell, looks["head_fill"])
        for change in rows:
            values = (change.last, change.this, change.change, change.percent)
            cells = grid.add_row().cells
            cells[0].text = change.label.removeprefix(f"{table.number} ")
            for cell, value in zip(cells[1:5], values):
                cell.text = "" if value is None else format_decimal(value)
            cells[5].text = change.flag.label if change.flag else ""
            fill = looks["flagged_fill"] if change.flag else looks["changed_fill"]
            for cell in cells:
                shade(cell, fill)
        grid.autofit = False
        for column, width in zip(grid.columns, looks["column_widths_cm"]):
            column.width = Cm(width)
        for row in grid.rows:
            for cell, width in zip(row.cells, looks["column_widths_cm"]):
                cell.width = Cm(width)
    if comparison.carried:
        doc.add_heading(texts["carried_heading"], level=2)
        for sentence in comparison.carried:
            doc.add_paragraph(f"{sentence.label}：{sentence.sentence}", style="List Bullet")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def write_docx(comparison: Comparison, target: str | Path) -> Path:
    from toolkit.files import write_bytes_atomic

    return write_bytes_atomic(target, comparison_docx(comparison))
