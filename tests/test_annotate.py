"""Annotated copies: offending cells filled and commented, a 校验结果 sheet, the original untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pytest

from check_helpers import RETURNED_FINDINGS, returned_folder
from soffice import needs_soffice, soffice_convert
from toolkit.batch import check_file, check_paths
from toolkit.formats import load_format
from toolkit.model import Finding
from toolkit.workbook.annotate import ERROR_FILL, RESULT_HEADERS, RESULT_SHEET, WARNING_FILL, annotate_workbook
from toolkit.readers import read_report


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def returned(tmp_path_factory):
    root = tmp_path_factory.mktemp("returned")
    return root, returned_folder(root)


@pytest.fixture(scope="module")
def annotated(returned, tmp_path_factory):
    root, files = returned
    before = {name: digest(path) for name, path in files.items()}
    out = tmp_path_factory.mktemp("annotated")
    report = check_paths([root], annotate=out)
    return files, before, out, report


def _result_rows(ws):
    rows = list(ws.iter_rows(values_only=True))
    header = rows.index(tuple(RESULT_HEADERS))
    return [dict(zip(RESULT_HEADERS, r)) for r in rows[header + 1:] if r[0] is not None], header + 1


def test_originals_are_byte_identical(annotated):
    files, before, _, _ = annotated
    assert {name: digest(path) for name, path in files.items()} == before


def test_offending_cells_are_filled_and_commented(annotated):
    files, _, out, report = annotated
    by_path = {Path(f.path): f for f in report.files}
    for name in ("balance", "typed", "typed_right"):
        wb = openpyxl.load_workbook(out / files[name].name)
        for finding in by_path[files[name]].findings:
            cell = wb[finding.sheet][finding.cell]
            colour = ERROR_FILL if finding.severity == "error" else WARNING_FILL
            assert cell.fill.fill_type == "solid" and cell.fill.start_color.rgb == colour
            assert finding.message in cell.comment.text
        marked = {(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                  if c.fill is not None and c.fill.fill_type == "solid"
                  and c.fill.start_color.rgb in (ERROR_FILL, WARNING_FILL) and ws.title != RESULT_SHEET}
        assert marked == {(s, c) for _, s, c in RETURNED_FINDINGS[name]}


def test_result_sheet_lists_findings_with_links(annotated):
    files, _, out, report = annotated
    by_path = {Path(f.path): f for f in report.files}
    wb = openpyxl.load_workbook(out / files["balance"].name)
    assert wb.sheetnames[0] == RESULT_SHEET and wb.active.title == RESULT_SHEET
    ws = wb[RESULT_SHEET]
    rows, first = _result_rows(ws)
    findings = by_path[files["balance"]].findings
    assert [r["问题说明"] for r in rows] == [f.message for f in findings]
    assert [(r["级别"], r["工作表"], r["单元格"], r["代码"], r["规则"]) for r in rows] == [
        ("错误", f.sheet, f.cell, f.code, f.rule) for f in findings]
    for i, finding in enumerate(findings):
        link = ws.cell(row=first + 1 + i, column=RESULT_HEADERS.index("单元格") + 1).hyperlink
        assert link.location == f"'{finding.sheet}'!{finding.cell}"
    assert "错误2个，需核实0个" in ws["A1"].value and "城关镇人民政府" in ws["A1"].value


def test_clean_file_copy_says_no_problem(annotated):
    files, _, out, _ = annotated
    wb = openpyxl.load_workbook(out / files["clean"].name)
    assert "未发现问题" in wb[RESULT_SHEET]["A2"].value
    assert _result_rows(wb[RESULT_SHEET])[0] == []


def test_unreadable_file_gets_no_copy(annotated):
    files, _, out, _ = annotated
    assert not (out / files["bad"].name).exists()


def test_copy_reads_back_like_the_original(annotated):
    """The township can fix its file from the copy: it still reads and checks the same."""
    files, _, out, report = annotated
    by_path = {Path(f.path): f for f in report.files}
    for name in ("balance", "typed", "clean"):
        original = by_path[files[name]]
        again = check_file(out / files[name].name)
        assert {(f.rule, f.sheet, f.cell, f.severity) for f in again.findings} == \
               {(f.rule, f.sheet, f.cell, f.severity) for f in original.findings}
        for cell in again.data.values:
            if again.data.values[cell] is not None:  # totals lose their cached results in the copy
                assert again.data.values[cell] == original.data.values[cell], cell
        fmt = load_format(original.data.format)
        assert {c.id: again.data.values[c.id] for c in fmt.input_cells} == \
               {c.id: original.data.values[c.id] for c in fmt.input_cells}


def test_annotating_twice_replaces_the_result_sheet(annotated, tmp_path):
    files, _, out, report = annotated
    copy = out / files["balance"].name
    findings = [Finding("x-test", "warning", "第二次", sheet="表二", cell="B5")]
    again = annotate_workbook(copy, tmp_path / "again.xlsx", findings)
    wb = openpyxl.load_workbook(again)
    assert wb.sheetnames.count(RESULT_SHEET) == 1
    rows, _ = _result_rows(wb[RESULT_SHEET])
    assert [r["问题说明"] for r in rows] == ["第二次"]
    assert wb["表二"]["B5"].fill.start_color.rgb == WARNING_FILL
    assert wb["表三"]["D6"].fill.start_color.rgb == ERROR_FILL  # the first round's marks stay


def test_merged_cells_are_marked_at_their_top_left_and_unknown_places_only_listed(annotated, tmp_path):
    files, _, _, _ = annotated
    wb = openpyxl.load_workbook(files["clean"])
    merged = next(r for r in wb["表三"].merged_cells.ranges if r.max_row > r.min_row)
    inner = f"{openpyxl.utils.get_column_letter(merged.min_col)}{merged.min_row + 1}"
    findings = [Finding("x-a", "error", "合并单元格", sheet="表三", cell=inner),
                Finding("x-b", "warning", "没有位置"),
                Finding("x-c", "warning", "没有这张表", sheet="表九", cell="A1")]
    target = annotate_workbook(files["clean"], tmp_path / "m.xlsx", findings)
    out = openpyxl.load_workbook(target)
    top_left = out["表三"].cell(row=merged.min_row, column=merged.min_col)
    assert top_left.fill.start_color.rgb == ERROR_FILL and "合并单元格" in top_left.comment.text
    rows, _ = _result_rows(out[RESULT_SHEET])
    assert [r["问题说明"] for r in rows] == ["合并单元格", "没有位置", "没有这张表"]


def test_never_overwrites_the_original(annotated):
    files, before, _, _ = annotated
    with pytest.raises(ValueError):
        annotate_workbook(files["balance"], files["balance"], [])
    assert digest(files["balance"]) == before["balance"]


def test_annotate_folder_same_names_get_distinct_copies(returned, tmp_path):
    _, files = returned
    twin = tmp_path / "other" / files["balance"].name
    twin.parent.mkdir()
    twin.write_bytes(files["balance"].read_bytes())
    check_paths([files["balance"], twin], annotate=tmp_path / "ann")
    assert sorted(p.name for p in (tmp_path / "ann").iterdir()) == ["城关镇人民政府.xlsx", "城关镇人民政府_2.xlsx"]


@pytest.mark.libreoffice
@needs_soffice
def test_xls_input_gets_an_xlsx_copy(returned, tmp_path):
    _, files = returned
    [xls] = soffice_convert([files["balance"]], tmp_path / "xls", to="xls")
    before = digest(xls)
    report = check_paths([xls], annotate=tmp_path / "ann")
    assert digest(xls) == before
    copy = tmp_path / "ann" / "城关镇人民政府.xlsx"
    wb = openpyxl.load_workbook(copy)
    assert wb.sheetnames[0] == RESULT_SHEET and "表三" in wb.sheetnames
    for finding in report.files[0].findings:
        assert wb[finding.sheet][finding.cell].fill.start_color.rgb == ERROR_FILL
    original = read_report(xls).data
    assert read_report(copy).data.values == original.values
