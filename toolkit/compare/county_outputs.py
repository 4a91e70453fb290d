"""The county view written out: a web page, a workbook (the table and the cross-year findings)
and a Word document (landscape), all drawing :func:`toolkit.compare.county.county_rows`. Words
and looks in templates/compare/compare.yaml (``county``) and compare.css."""

from __future__ import annotations

import io
from pathlib import Path

import jinja2

from toolkit.compare.county import CountyView, county_rows, county_texts, county_title, figure_groups
from toolkit.formats import TEMPLATES_DIR
from toolkit.model import ERROR, WARNING
from toolkit.output_labels import severity_label

COMPARE_DIR = TEMPLATES_DIR / "compare"


def county_html(view: CountyView) -> str:
    """The whole page, one self-contained HTML document."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(COMPARE_DIR), encoding="utf-8"),
                             autoescape=True, keep_trailing_newline=True)
    css = (TEMPLATES_DIR / "report" / "report.css").read_text(encoding="utf-8")
    css += "\n" + (COMPARE_DIR / "compare.css").read_text(encoding="utf-8")
    return env.get_template("county.html.j2").render(
        title=county_title(view), css=css, texts=county_texts(), figures=view.figures,
        groups=figure_groups(view), rows=county_rows(view), findings=view.finding_lines(),
        severity={s: severity_label(s) for s in (ERROR, WARNING)})


def county_xlsx(view: CountyView) -> bytes:
    """The workbook's bytes: the table (two header rows, a unit's years under one merged name,
    flagged cells filled, cells of a cross-year finding framed, the finding as a cell comment)
    and a sheet of the cross-year findings."""
    import xlsxwriter

    texts = county_texts()
    look = texts["look"]
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    base = {"border": 1, "valign": "vcenter", "font_size": look["font_pt"]}
    head = book.add_format({**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": f"#{look['head_fill']}"})
    title_format = book.add_format({"bold": True, "font_size": look["title_font_pt"]})
    unit_format = book.add_format({**base, "text_wrap": True})
    formats = {}
    for kind in ("entry", "missing", "total"):
        extra = {"font_color": f"#{look['missing_font']}"} if kind == "missing" else \
            {"bg_color": f"#{look['total_fill']}", "bold": True} if kind == "total" else {}
        formats[kind] = {
            "plain": book.add_format({**base, **extra}),
            "number": book.add_format({**base, **extra, "num_format": "0.####", "align": "right"}),
            "flagged": book.add_format({**base, **extra, "num_format": "0.####", "align": "right",
                                        "bg_color": f"#{look['flagged_fill']}", "bold": True}),
            "finding": book.add_format({**base, **extra, "num_format": "0.####", "align": "right", "border": 2,
                                        "border_color": f"#{look['finding_border']}"}),
            "notes": book.add_format({**base, **extra, "text_wrap": True, "font_size": look["notes_font_pt"]}),
        }
    sheet = book.add_worksheet(texts["sheet"])
    figures = view.figures
    last_col = len(figures) + 2
    sheet.merge_range(0, 0, 0, last_col, county_title(view), title_format)
    sheet.write(1, 0, texts["legend"])
    sheet.merge_range(2, 0, 3, 0, texts["unit"], head)
    sheet.merge_range(2, 1, 3, 1, texts["year"], head)
    col = 2
    for label, width in figure_groups(view):
        if width > 1:
            sheet.merge_range(2, col, 2, col + width - 1, label, head)
        else:
            sheet.write(2, col, label, head)
        col += width
    sheet.merge_range(2, last_col, 3, last_col, texts["notes"], head)
    for i, fig in enumerate(figures):
        sheet.write(3, 2 + i, fig.label, head)
    widths = look["xlsx_widths"]
    sheet.set_row(3, look["figure_header_height"])
    sheet.set_column(0, 0, widths["unit"])
    sheet.set_column(1, 1, widths["year"])
    sheet.set_column(2, last_col - 1, widths["figure"])
    sheet.set_column(last_col, last_col, widths["notes"])
    row_index = 4
    for row in county_rows(view):
        style = formats[row.kind]
        if row.first and row.span > 1:
            sheet.merge_range(row_index, 0, row_index + row.span - 1, 0, row.unit, unit_format)
        elif row.first:
            sheet.write(row_index, 0, row.unit, unit_format)
        sheet.write_number(row_index, 1, row.year, style["plain"])
        for i, cell in enumerate(row.cells):
            fmt = style["finding"] if cell.findings else style["flagged"] if cell.flag else style["number"]
            if cell.value is None:
                sheet.write(row_index, 2 + i, "" if row.kind == "missing" else "—", fmt)
            else:
                sheet.write_number(row_index, 2 + i, float(cell.value), fmt)
            if cell.tip:
                sheet.write_comment(row_index, 2 + i, cell.tip, {"x_scale": 2, "y_scale": 1.5})
        notes = "；".join(row.notes)
        sheet.write(row_index, last_col, notes, style["notes"])
        lines = -(-len(notes) // look["notes_chars_per_line"])
        if lines > 1:
            sheet.set_row(row_index, look["notes_line_height"] * lines)
        row_index += 1
    sheet.freeze_panes(4, 2)
    sheet.repeat_rows(2, 3)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)

    found = book.add_worksheet(texts["findings_sheet"])
    for c, text in enumerate(texts["findings_columns"]):
        found.write(0, c, text, head)
    found.set_column(0, 0, widths["unit"])
    found.set_column(1, 2, widths["year"] + 2)
    found.set_column(3, 3, widths["notes"] * 2)
    plain = formats["entry"]["plain"]
    for r, (entry, finding) in enumerate(view.entry_findings(), start=1):
        found.write(r, 0, entry.unit, plain)
        found.write_number(r, 1, entry.year, plain)
        found.write(r, 2, severity_label(finding.severity), plain)
        found.write(r, 3, finding.message, plain)
    if not view.findings:
        found.write(1, 0, texts["no_findings"])
    found.set_landscape()
    found.fit_to_pages(1, 0)
    book.close()
    return buffer.getvalue()


def county_docx(view: CountyView) -> bytes:
    """The document's bytes: landscape A4, the table with its two header rows repeated on every
    page, flagged cells shaded, then the cross-year findings."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    from toolkit.compare.docx import shade

    texts = county_texts()
    look = texts["look"]
    doc = docx.Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.2))
    doc.styles["Normal"].font.size = Pt(look["docx_font_pt"])
    doc.core_properties.title = county_title(view)
    doc.add_heading(county_title(view), level=1)
    doc.add_paragraph(texts["legend"])
    figures = view.figures
    columns = len(figures) + 3
    table = doc.add_table(rows=2, cols=columns)
    table.style = "Table Grid"
    upper, lower = table.rows[0].cells, table.rows[1].cells
    for index, text in ((0, texts["unit"]), (1, texts["year"]), (columns - 1, texts["notes"])):
        upper[index].merge(lower[index]).text = text
    col = 2
    for label, width in figure_groups(view):
        upper[col].merge(upper[col + width - 1]).text = label
        col += width
    for i, fig in enumerate(figures):
        lower[2 + i].text = fig.label
    for row in table.rows[:2]:
        header = OxmlElement("w:tblHeader")
        header.set(qn("w:val"), "true")
        row._tr.get_or_add_trPr().append(header)
        for cell in row.cells:
            shade(cell, look["head_fill"])
    start, remaining = None, 0
    for row in county_rows(view):
        cells = table.add_row().cells
        if row.first:
            start, remaining = cells[0], row.span
        remaining -= 1
        if remaining == 0 and start is not None:
            start.merge(cells[0]).text = row.unit
        cells[1].text = str(row.year)
        for i, cell in enumerate(row.cells):
            target = cells[2 + i]
            target.text = cell.text if row.kind != "missing" else ""
            if cell.flag or cell.findings:
                shade(target, look["flagged_fill"])
            elif row.kind == "total":
                shade(target, look["total_fill"])
        cells[-1].text = "；".join(row.notes)
    widths = [Cm(w) for w in look["docx_widths_cm"][:2]] + [Cm(look["docx_widths_cm"][2])] * len(figures) \
        + [Cm(look["docx_widths_cm"][3])]
    table.autofit = False
    for column, width in zip(table.columns, widths):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(look["docx_head_pt"] if row._index < 2 else look["docx_font_pt"])
    doc.add_heading(texts["findings"], level=2)
    for finding, line in view.finding_lines():
        doc.add_paragraph(f"【{severity_label(finding.severity)}】{line}", style="List Number")
    if not view.findings:
        doc.add_paragraph(texts["no_findings"])
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def write_county(view: CountyView, target: str | Path) -> Path:
    """``view`` written to ``target`` (.html, .xlsx or .docx), atomically."""
    from toolkit.files import write_bytes_atomic, write_text_atomic

    suffix = Path(target).suffix.lower()
    if suffix in (".html", ".htm"):
        return write_text_atomic(target, county_html(view))
    if suffix == ".xlsx":
        return write_bytes_atomic(target, county_xlsx(view))
    if suffix == ".docx":
        return write_bytes_atomic(target, county_docx(view))
    raise ValueError(f"unsupported county view output: {target}")
