"""What the outputs look like on paper: each is printed as its user would (LibreOffice to PDF) and
the pages are read back (pdftotext, word boxes), besides the properties in the files themselves.

Word draft: a title that breaks after the unit, the draft mark on every page, 表三 on one page.
Blank workbook: unit line and check labels that never wrap inside a field or before a bracket,
填报说明 numbers on their text's line. Annotated copy: a warning colour far from the input colour,
the 文字部分 cell marked with the table cell, a 校验结果 sheet readable at print size. Summary:
lists one page wide with short file names, 汇总 rows tall enough, no empty extra format sheet.
"""

from __future__ import annotations

import io
import re
import shutil
import statistics
import subprocess
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from docx.oxml.ns import qn

from check_helpers import RETURN_YEAR, clean_report
from render_helpers import filled_data
from soffice import SOFFICE_MARKS, soffice_convert
from toolkit.batch import check_paths
from toolkit.demo import samples_dir
from toolkit.formats import load_format
from toolkit.model import FileReport, Finding, Report
from toolkit.render import render_report
from toolkit.render.pdf import docx_to_pdf_many
from toolkit.workbook.annotate import ERROR_FILL, RESULT_HEADERS, RESULT_SHEET, WARNING_FILL
from toolkit.layout import narrative_rows, workbook_plan
from toolkit.workbook.lists import list_columns, printed_count
from toolkit.workbook.looks import LINE_PT, colour, text_lines
from toolkit.workbook.summary import FILES_HEADERS, FINDINGS_HEADERS, TOTALS_SHEET, write_summary
from toolkit.workbook.writer import write_workbook

PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")
PRINTED = [*SOFFICE_MARKS, needs_pdftotext]


def printed(test):
    """Mark a test that prints through LibreOffice and reads the pages with pdftotext."""
    for mark in PRINTED:
        test = mark(test)
    return test

CHENGGUAN = "城关镇人民政府"


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page (pdftotext -layout)."""
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def lines_of(page: str) -> list[str]:
    return [squeeze(line) for line in page.splitlines() if line.strip()]


def word_heights(pdf: Path, page: int) -> list[float]:
    """Heights (pt) of the word boxes on one page: the printed size of its text."""
    out = subprocess.run([PDFTOTEXT, "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return [float(m.group(2)) - float(m.group(1))
            for m in re.finditer(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', out)]


def distance(a: str, b: str) -> float:
    rgb = [tuple(int(x[i:i + 2], 16) for i in (0, 2, 4)) for x in (a.lstrip("#")[-6:], b.lstrip("#")[-6:])]
    return sum((p - q) ** 2 for p, q in zip(*rgb)) ** 0.5


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """The sample returned workbooks checked with annotated copies and a summary, and both printed."""
    root = tmp_path_factory.mktemp("checked")
    annotated, summary = root / "annotated", root / "汇总.xlsx"
    report = check_paths([samples_dir() / "returned"], annotate=annotated, summary=summary)
    return report, annotated, summary


# ---------------------------------------------------------------- Word draft


def _drafts(fmt, extra_sentences: range, draft: bool = False) -> list[bytes]:
    """Word drafts of one report whose overview grows sentence by sentence, which moves 表三
    down the pages (one of them would start it near a page's foot)."""
    out = []
    for n in extra_sentences:
        data = filled_data(fmt, 3, unit=CHENGGUAN, year=RETURN_YEAR)
        data.narrative["overview.oversight"] = "将政务公开工作纳入年度目标考核，组织工作人员参加县级培训。" * n
        out.append(render_report(data, "docx", draft=draft))
    return out


def test_word_title_breaks_after_the_unit():
    fmt = load_format("2021")
    doc = Document(io.BytesIO(_drafts(fmt, range(1))[0]))
    title = next(p for p in doc.paragraphs if p.style.name == "Title")
    assert title.text == f"{CHENGGUAN}\n{RETURN_YEAR}年政府信息公开工作年度报告"
    assert len(title._p.findall(".//" + qn("w:br"))) == 1


def test_word_table_three_label_is_vertical():
    doc = Document(io.BytesIO(_drafts(load_format("2021"), range(1))[0]))
    cells = [tc for tc in doc.element.body.iter(qn("w:tc")) if "".join(t.text or "" for t in tc.iter(qn("w:t"))) == "三、本年度办理结果"]
    assert cells, "表三's 办理结果 label not found"
    direction = cells[0].find(qn("w:tcPr")).find(qn("w:textDirection"))
    assert direction is not None and direction.get(qn("w:val")) == "tbRl"


@printed
@pytest.mark.parametrize("format_id", ["2021", "2019"])
def test_word_draft_printed(tmp_path, format_id):
    """Printed by LibreOffice: the title's second line is the whole year's title, the draft mark
    is on every page, and 表三 (first row to last) sits on one page whatever text comes before."""
    fmt = load_format(format_id)
    t3 = fmt.table("t3")
    first, last = t3.leaf_rows[0].label, t3.leaf_rows[-1].label
    pdfs = docx_to_pdf_many(_drafts(fmt, range(0, 24, 3), draft=True))
    for n, pdf in enumerate(pdfs):
        path = tmp_path / f"{n}.pdf"
        path.write_bytes(pdf)
        pages = pdf_pages(path)
        assert len(pages) >= 3
        assert all("草稿（未通过校验）" in squeeze(page) for page in pages), n
        top = lines_of(pages[0])
        assert top[1] == CHENGGUAN and top[2] == f"{RETURN_YEAR}年政府信息公开工作年度报告", top[:3]
        where_first = [i for i, p in enumerate(pages) if squeeze(first) in squeeze(p)]
        where_last = [i for i, p in enumerate(pages) if squeeze(last) in squeeze(p)]
        assert where_first and where_first == where_last, (n, where_first, where_last)


# ---------------------------------------------------------------- blank workbook


@pytest.fixture(scope="module")
def blank_pdf(tmp_path_factory):
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    root = tmp_path_factory.mktemp("blank")
    path = write_workbook(root / "blank.xlsx", load_format("2021"), unit=CHENGGUAN, year=RETURN_YEAR)
    [pdf] = soffice_convert([path], root / "pdf", to="pdf", recalc=False)
    return path, pdf


@printed
def test_blank_unit_line_breaks_between_fields(blank_pdf):
    path, pdf = blank_pdf
    fmt = load_format("2021")
    pages = pdf_pages(pdf)
    for table in fmt.tables:
        page = next(p for p in pages if squeeze(table.caption[2:]) in squeeze(p))
        assert any(f"报告年度：{RETURN_YEAR}年" in line for line in lines_of(page)), table.id
        assert not [line for line in lines_of(page) if line.endswith("报告年度：")], table.id
    wb = openpyxl.load_workbook(path)
    top = workbook_plan().table_top_row
    for table in fmt.tables:
        text = wb[table.sheet].cell(row=top - 1, column=1).value
        assert all(line.count("：") == line.count("　　") + 1 for line in text.split("\n")), text


@printed
def test_blank_never_wraps_before_a_closing_bracket(blank_pdf):
    _, pdf = blank_pdf
    starts = [line for page in pdf_pages(pdf) for line in lines_of(page) if line.startswith(("）", ")"))]
    assert not starts


@printed
def test_blank_guide_numbers_sit_on_their_text_line(blank_pdf):
    path, pdf = blank_pdf
    ws = openpyxl.load_workbook(path)[workbook_plan().guide_sheet]
    assert all(ws.cell(row=r, column=1).value is None for r in range(2, ws.max_row + 1))
    numbered = [ws.cell(row=r, column=2).value for r in range(1, ws.max_row + 1)
                if re.match(r"\d+\. ", ws.cell(row=r, column=2).value or "")]
    assert len(numbered) >= 12
    page = pdf_pages(pdf)[0]
    for text in numbered:
        number, _, words = text.partition(" ")
        assert any(line.startswith(number + squeeze(words)[:6]) for line in lines_of(page)), text


# ---------------------------------------------------------------- annotated copy


def test_warning_colour_is_far_from_the_input_colour():
    assert distance(colour("warning"), colour("input")) >= 100
    assert distance(colour("error"), colour("input")) >= 60
    assert distance(colour("warning"), colour("error")) >= 60
    assert WARNING_FILL.endswith(colour("warning")[1:]) and ERROR_FILL.endswith(colour("error")[1:])


def test_narrative_mismatch_marks_the_text_cell_too(checked):
    report, annotated, _ = checked
    file = next(f for f in report.files if CHENGGUAN in Path(f.path).name)
    finding = next(f for f in file.findings if f.code == "narrative-number-differs")
    row = next(r for r, part_id, _ in narrative_rows(load_format("2021")) if part_id == "overview.on_request")
    sheet = workbook_plan().narrative_sheet
    assert finding.related == ((sheet, f"B{row}"),)
    assert finding.to_dict()["related"] == [[sheet, f"B{row}"]]
    wb = openpyxl.load_workbook(annotated / Path(file.path).name)
    text_cell = wb[sheet][f"B{row}"]
    assert text_cell.fill.start_color.rgb == WARNING_FILL and finding.message in text_cell.comment.text
    assert finding.message in wb[finding.sheet][finding.cell].comment.text


@printed
def test_result_sheet_prints_at_a_readable_size(checked, tmp_path):
    report, annotated, _ = checked
    file = next(f for f in report.files if CHENGGUAN in Path(f.path).name)
    copy = annotated / Path(file.path).name
    ws = openpyxl.load_workbook(copy)[RESULT_SHEET]
    n_printed = printed_count(list_columns("result_sheet"))
    assert ws.print_area.endswith(f"$A$1:${chr(64 + n_printed)}${ws.max_row}"), ws.print_area
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.cell(row=5, column=RESULT_HEADERS.index("问题说明") + 1).alignment.wrap_text
    [pdf] = soffice_convert([copy], tmp_path, to="pdf", recalc=False)
    heights = word_heights(pdf, 1)
    assert heights and statistics.median(heights) >= 8.0, statistics.median(heights)
    page = pdf_pages(pdf)[0]
    assert "问题说明" in page and "实为" in page  # the printed columns, all on the page
    assert file.findings[0].code not in page  # 代码 and 规则 are for the screen only


# ---------------------------------------------------------------- summary workbook


def test_summary_lists_name_files_relative_to_the_checked_folder(checked):
    report, _, summary = checked
    wb = openpyxl.load_workbook(summary)
    names = [row[1] for row in wb["文件汇总"].iter_rows(min_row=2, values_only=True)]
    assert names == [Path(f.path).name for f in report.files]
    assert not [n for n in names if "/" in n or "\\" in n]
    assert {row[0] for row in wb["问题清单"].iter_rows(min_row=2, values_only=True)} <= set(names)


def test_summary_lists_print_landscape_one_page_wide(checked):
    _, _, summary = checked
    wb = openpyxl.load_workbook(summary)
    for name, sheet, headers in (("文件汇总", "files_sheet", FILES_HEADERS), ("问题清单", "findings_sheet", FINDINGS_HEADERS)):
        ws = wb[name]
        n_printed = printed_count(list_columns(sheet))
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0  # None: 1, the default
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_area.endswith(f"$A$1:${chr(64 + n_printed)}${ws.max_row}"), ws.print_area
        assert ws.cell(row=2, column=headers.index("主要问题" if name == "文件汇总" else "问题说明") + 1).alignment.wrap_text


@printed
def test_summary_printed(checked, tmp_path):
    """On paper: each list fits the page's width (a page holds its first and last columns), and
    the 汇总 labels of （六）其他处理 do not run into each other (each on its own lines)."""
    _, _, summary = checked
    [pdf] = soffice_convert([summary], tmp_path, to="pdf", recalc=False)
    pages = pdf_pages(pdf)
    assert len(pages) <= 4, len(pages)
    assert "序号" in pages[0] and "主要问题" in pages[0]
    findings_page = next(p for p in pages if "问题说明" in p)
    assert "级别" in findings_page and "实为" in findings_page
    wb = openpyxl.load_workbook(summary)
    ws = wb[TOTALS_SHEET]
    long_label = next(c for row in ws.iter_rows() for c in row
                      if isinstance(c.value, str) and c.value.startswith("1.申请人无正当理由逾期不补正"))
    width = ws.column_dimensions[long_label.column_letter].width
    height = ws.row_dimensions[long_label.row].height
    assert height is not None and height >= text_lines(long_label.value, width) * LINE_PT, (height, width)
    assert text_lines(long_label.value, width) >= 2


def test_summary_has_no_sheet_for_a_format_with_nothing_to_sum(tmp_path):
    fmt21, fmt19 = load_format("2021"), load_format("2019")
    files = [FileReport("/in/a/甲.xlsx", [], clean_report(fmt21, 1, year=RETURN_YEAR)),
             FileReport("/in/b/乙.xlsx", [Finding("format-year-mismatch", "error", "格式不对")],
                        clean_report(fmt19, 2, year=RETURN_YEAR))]
    wb = openpyxl.load_workbook(write_summary(Report(files), tmp_path / "s.xlsx"))
    assert wb.sheetnames == ["文件汇总", "问题清单", TOTALS_SHEET]
    assert [r[1] for r in wb["文件汇总"].iter_rows(min_row=2, values_only=True)] == ["a/甲.xlsx", "b/乙.xlsx"]
    files[1] = FileReport("/in/b/乙.xlsx", [], clean_report(fmt19, 2, year=RETURN_YEAR))
    wb = openpyxl.load_workbook(write_summary(Report(files), tmp_path / "s2.xlsx"))
    assert wb.sheetnames == ["文件汇总", "问题清单", TOTALS_SHEET, f"{TOTALS_SHEET}_2019"]


def test_readme_shows_every_picture_the_script_makes():
    """docs/make_pictures.py makes the pictures the README links; each one is committed."""
    import importlib.util

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("make_pictures", root / "docs" / "make_pictures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readme = (root / "README.md").read_text(encoding="utf-8")
    for name in module.PAGES:
        assert f"docs/pictures/{name}.png" in readme, name
        picture = root / "docs" / "pictures" / f"{name}.png"
        assert picture.is_file() and picture.stat().st_size < 100_000, name
