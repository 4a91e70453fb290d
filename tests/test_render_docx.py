"""Word report: opened with python-docx, real tables with the official merged cells; and opened
in LibreOffice Writer."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm
from lxml import etree

from render_helpers import expected_matrix, filled_data, filled_workbook
from toolkit.formats import load_format
from toolkit.grid import table_grid
from toolkit.model import format_decimal
from toolkit.render import RenderError, render_file, render_report


def open_docx(data, **kwargs):
    return Document(io.BytesIO(render_report(data, "docx", **kwargs)))


def east_asia_font(style) -> str:
    return style.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))


def test_title_headings_and_period(fmt):
    data = filled_data(fmt, 1)
    doc = open_docx(data)
    styles = [(p.style.name, p.text) for p in doc.paragraphs]
    title = fmt.title.format(unit=data.unit, year=data.year)
    assert ("Title", f"{data.unit}\n{title[len(data.unit):]}") in styles  # unit, then the year's title
    assert [t for s, t in styles if s == "Heading 1"] == [s.label for s in fmt.sections]
    assert [t for s, t in styles if s == "Heading 2"] == [p.label for p in fmt.sections[0].parts]
    body = "\n".join(p.text for p in doc.paragraphs)
    assert f"统计期限自{data.year}年1月1日起至{data.year}年12月31日止" in body
    assert f"共收到政府信息公开申请{format_decimal(data.values['t3.new.total'])}件" in body
    assert "草稿" not in body
    assert doc.core_properties.title == fmt.title.format(unit=data.unit, year=data.year)


def test_tables_with_official_merges_and_numbers(fmt):
    data = filled_data(fmt, 2)
    data.values[next(c.id for c in fmt.input_cells if c.kind.decimals)] = Decimal("2460.9500")
    doc = open_docx(data)
    table_sections = [s for s in fmt.sections if s.table]
    assert len(doc.tables) == len(table_sections)
    for section, table in zip(table_sections, doc.tables):
        grid = table_grid(fmt, section.table)
        assert (len(table.rows), len(table.columns)) == (grid.n_rows, grid.n_cols)
        expected = expected_matrix(fmt, section.table, data)
        owner = {}
        for gc in grid.cells:
            for r in range(gc.row, gc.row + gc.rowspan):
                for c in range(gc.col, gc.col + gc.colspan):
                    owner[(r, c)] = (gc.row, gc.col)
        cells = table._cells  # row by row, a merged cell repeated over every position it covers
        at = {(r, c): cells[r * grid.n_cols + c] for r in range(grid.n_rows) for c in range(grid.n_cols)}
        for (r, c), cell in at.items():
            top = owner[(r, c)]
            assert cell._tc is at[top]._tc, (section.table, r, c)
            assert cell.text == expected[top][0], (section.table, r, c)
        tops = [at[pos]._tc for pos in expected]
        assert len(tops) == len(grid.cells)
        assert all(a is not b for i, a in enumerate(tops) for b in tops[i + 1:])
    money = [c.text for t in doc.tables for row in t.rows for c in row.cells if c.text == "2460.95"]
    assert money


def test_filled_workbook_to_word(tmp_path, fmt):
    """End to end: a filled standard workbook rendered to Word; every value cell back in place."""
    path, data = filled_workbook(tmp_path, fmt, 12)
    result = render_file(path, "docx")
    assert result.ok and not result.draft, (result.error, result.findings)
    assert result.out.parent == path.parent and result.out.suffix == ".docx"
    doc = Document(str(result.out))
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"] == [s.label for s in fmt.sections]
    for section, table in zip([s for s in fmt.sections if s.table], doc.tables, strict=True):
        grid = table_grid(fmt, section.table)
        cells = table._cells
        for cell_id, (r, c) in grid.positions.items():
            assert cells[r * grid.n_cols + c].text == format_decimal(data.values[cell_id])


def test_table_three_merges():
    fmt = load_format("2021")
    doc = open_docx(filled_data(fmt, 3))
    t3 = doc.tables[1]
    spans = {}
    for tc in t3._tbl.iter(qn("w:tc")):
        text = "".join(t.text or "" for t in tc.iter(qn("w:t")))
        span = tc.tcPr.find(qn("w:gridSpan")) if tc.tcPr is not None else None
        spans.setdefault(text, int(span.get(qn("w:val"))) if span is not None else 1)
    assert spans["申请人情况"] == 7
    assert spans["法人或其他组织"] == 5
    assert spans["一、本年新收政府信息公开申请数量"] == 3
    results = next(gc for gc in table_grid(fmt, "t3").cells if gc.node_id == "results")
    cells = t3._cells
    n_cols = len(t3.columns)
    column0 = [cells[r * n_cols]._tc for r in range(len(t3.rows))]
    top = column0[results.row]
    assert [r for r, tc in enumerate(column0) if tc is top] == list(range(results.row, results.row + 22))
    assert t3.cell(results.row, 0).text == "三、本年度办理结果"
    assert t3.cell(len(t3.rows) - 1, 0).text == "四、结转下年度继续办理"
    assert "勾稽关系" in t3.cell(0, 0).text and t3.cell(2, 2)._tc is t3.cell(0, 0)._tc
    header_rows = [row for row in t3.rows if row._tr.trPr is not None and row._tr.trPr.find(qn("w:tblHeader")) is not None]
    assert len(header_rows) == 3


def test_fonts_page_and_draft_mark():
    data = filled_data(load_format("2021"), 4)
    doc = open_docx(data, draft=True)
    header = doc.sections[0].header
    assert not header.is_linked_to_previous and [p.text for p in header.paragraphs] == ["草稿（未通过校验）"]
    assert header.paragraphs[0].style.name == "NB Draft"
    assert doc.paragraphs[0].style.name == "Title"
    section = doc.sections[0]
    assert abs(section.page_width - Cm(21)) < Cm(0.01) and abs(section.page_height - Cm(29.7)) < Cm(0.01)
    assert abs(section.left_margin - Cm(2.8)) < Cm(0.01) and abs(section.top_margin - Cm(3.7)) < Cm(0.01)
    assert east_asia_font(doc.styles["Normal"]) == "仿宋_GB2312"
    assert east_asia_font(doc.styles["Title"]) == "方正小标宋简体"
    assert east_asia_font(doc.styles["Heading 1"]) == "黑体"
    assert east_asia_font(doc.styles["NB Table"]) == "宋体"
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                assert cell.paragraphs[0].style.name == "NB Table"
    blob = next(r.target_part.blob for r in doc.part.rels.values() if r.reltype.endswith("/fontTable"))
    fonts = {f.get(qn("w:name")): f for f in etree.fromstring(blob)}
    alt = fonts["方正小标宋简体"].find(qn("w:altName"))
    assert alt is not None and alt.get(qn("w:val")) == "黑体"
    assert fonts["仿宋_GB2312"].find(qn("w:altName")).get(qn("w:val")) == "仿宋"


def test_user_docx_settings(tmp_path):
    (tmp_path / "docx.yaml").write_text("fonts:\n  body: {east_asia: 仿宋, size_pt: 15}\n", encoding="utf-8")
    doc = open_docx(filled_data(load_format("2019"), 5), template_dir=tmp_path)
    assert east_asia_font(doc.styles["Normal"]) == "仿宋"
    assert doc.styles["Normal"].font.size.pt == 15
    assert east_asia_font(doc.styles["Title"]) == "方正小标宋简体"


RUN_TEXTS = ["", "文字", " 前有空格", "后有空格 ", "\u3000全角空格", "甲\t乙", "\t", "一\n二\r\n三\r",
             "<b>&amp;</b> \"引号\" 'x'", "\n 两端 \t"]


@pytest.mark.parametrize("text", RUN_TEXTS)
def test_runs_as_python_docx_writes_them(text):
    """The report's runs are written as text, not with python-docx: the same XML as ``run.text``."""
    from toolkit.render.docx import _run

    def xml(run) -> str:
        return re.sub(r' xmlns:\w+="[^"]*"', "", etree.tostring(run._r, encoding="unicode"))

    paragraph = Document().add_paragraph()
    assert _run(text) == xml(paragraph.add_run(text))
    broken = paragraph.add_run(text)
    broken.add_break()
    assert _run(text, brk=True) == xml(broken)


def test_user_text_with_markup():
    """Markup typed into the text stays text; a control character is refused, as python-docx does."""
    fmt = load_format("2021")
    narrative = {"overview.proactive": "主动公开<b>126</b>条 & 更多（附表）",
                 "problems.text": " 一是不足。"}
    unit = "<示例&镇>人民政府"
    doc = open_docx(filled_data(fmt, 7, narrative=narrative, unit=unit), draft=True)
    texts = [p.text for p in doc.paragraphs]
    assert "主动公开<b>126</b>条 & 更多（附表）" in texts
    assert doc.paragraphs[0].text.startswith(unit + "\n")
    assert doc.core_properties.author == unit and doc.core_properties.comments == "草稿（未通过校验）"
    with pytest.raises(RenderError):
        render_report(filled_data(fmt, 7, narrative={"problems.text": "控制字符\x01"}), "docx")


def test_word_file_is_a_sound_zip():
    """The zip is written by the toolkit: every entry's CRC checks, the content types come first."""
    import zipfile

    for draft in (False, True):
        archive = zipfile.ZipFile(io.BytesIO(render_report(filled_data(load_format("2021"), 8), "docx", draft=draft)))
        assert archive.testzip() is None
        assert archive.namelist()[0] == "[Content_Types].xml"
        assert ("word/header1.xml" in archive.namelist()) == draft


# ---------------------------------------------------------------- LibreOffice

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
WRITER = SOFFICE is not None and (Path(SOFFICE).resolve().parent / "swriter").exists()


@pytest.mark.libreoffice
@pytest.mark.skipif(not WRITER, reason="LibreOffice Writer is not installed")
def test_word_file_opens_in_libreoffice(tmp_path):
    fmt = load_format("2021")
    data = filled_data(fmt, 6)
    source = tmp_path / "src" / "data.json"
    source.parent.mkdir()
    import json

    source.write_text(json.dumps(data.to_dict(), ensure_ascii=False), encoding="utf-8")
    result = render_file(source, "docx", tmp_path / "report.docx")
    assert result.ok, result.error
    profile = tmp_path / "profile"
    out = tmp_path / "pdf"
    cmd = [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--norestore",
           "--nolockcheck", "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(out), str(result.out)]
    subprocess.run(cmd, capture_output=True, timeout=300, env={**os.environ, "HOME": str(profile)})
    pdf = out / "report.pdf"
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        squeezed = "".join(text.split())
        assert "政府信息公开工作年度报告" in squeezed
        for section in fmt.sections:
            assert section.label in squeezed
        assert "申请人情况" in squeezed and "勾稽关系" in squeezed
