"""The summary workbook: a row per file, every finding, and county totals laid out like the tables."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from check_helpers import RETURN_YEAR, clean_report, returned_folder, with_totals
from toolkit.batch import check_paths
from toolkit.cli import app
from toolkit.formats import load_format
from toolkit.grid import COLUMN, ROW, table_grid
from toolkit.model import FileReport, Finding, Report
from toolkit.workbook.writer import table_title
from toolkit.workbook.summary import (
    FILES_HEADERS, FILES_SHEET, FINDINGS_HEADERS, FINDINGS_SHEET, TOTALS_SHEET, totals_positions, write_summary,
)


def _expected_totals(fmt, reports):
    """Sum of every input cell over the valid files, totals from the declared sum rules."""
    inputs = {c.id: Decimal(0) for c in fmt.input_cells}
    for r in reports:
        for cell_id in inputs:
            inputs[cell_id] += r.data.values.get(cell_id) or 0
    return with_totals(fmt, inputs)


def _sheet_values(ws, fmt):
    positions, _ = totals_positions(fmt)
    return {cell_id: ws.cell(row=r, column=c).value for cell_id, (r, c) in positions.items()}


def _report(fmt, n_valid=3):
    files = []
    for i in range(n_valid):
        data = clean_report(fmt, 40 + i, unit=f"第{i + 1}镇人民政府", year=RETURN_YEAR)
        data.values["t2.fees.amount" if "t2.fees.amount" in fmt.cells else "t2.procurement.amount"] = \
            Decimal("1.2345") * (i + 1)
        files.append(FileReport(f"/in/{i}.xlsx", [], data))
    broken = clean_report(fmt, 99, unit="错误镇人民政府", year=RETURN_YEAR)
    broken.values["t3.new.natural"] += 1000
    files.append(FileReport("/in/broken.xlsx", [Finding("rule-not-equal", "error", "不相等", rule="t3-balance",
                                                         sheet="表三", cell="D6")], broken))
    files.append(FileReport("/in/bad.xlsx", [Finding("not-a-workbook", "error", "不是工作簿")], None))
    warned = clean_report(fmt, 77, unit="提醒镇人民政府", year=RETURN_YEAR)
    files.append(FileReport("/in/warned.xlsx", [Finding("value-blank", "warning", "空白")], warned))
    return Report(files)


@pytest.mark.parametrize("format_id", ["2021", "2019"])
def test_county_totals_equal_the_sums_of_valid_files(tmp_path, format_id):
    fmt = load_format(format_id)
    report = _report(fmt)
    path = write_summary(report, tmp_path / "汇总.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [FILES_SHEET, FINDINGS_SHEET, TOTALS_SHEET]
    valid = [f for f in report.files if f.valid and f.data is not None]
    assert len(valid) == 4  # three clean files and one with a warning only
    expected = _expected_totals(fmt, valid)
    got = _sheet_values(wb[TOTALS_SHEET], fmt)
    for cell_id, value in expected.items():
        assert Decimal(str(got[cell_id])) == value, cell_id
    assert expected["t3.new.total"] > 0


def test_totals_sheet_is_laid_out_like_the_official_tables(tmp_path):
    fmt = load_format("2021")
    wb = openpyxl.load_workbook(write_summary(_report(fmt), tmp_path / "s.xlsx"))
    ws = wb[TOTALS_SHEET]
    _, titles = totals_positions(fmt)
    for table, (table_id, title_row) in zip(fmt.tables, titles):
        assert ws.cell(row=title_row, column=1).value == table_title(table)  # 表二　主动公开…: numbered once
        assert not table_title(table).startswith(f"{table.number} {table.caption[:2]}")
        grid = table_grid(fmt, table_id)
        for gc in grid.cells:
            if gc.role in (COLUMN, ROW):
                assert ws.cell(row=title_row + 1 + gc.row, column=1 + gc.col).value == gc.text
            if gc.merged:
                ref = (f"{openpyxl.utils.get_column_letter(1 + gc.col)}{title_row + 1 + gc.row}:"
                       f"{openpyxl.utils.get_column_letter(gc.col + gc.colspan)}{title_row + gc.row + gc.rowspan}")
                assert ref in {str(r) for r in ws.merged_cells.ranges}
    assert "4个单位" in ws["A1"].value and "另有1个文件有错误，未计入" in ws["A2"].value


def test_files_and_findings_sheets(tmp_path):
    fmt = load_format("2021")
    report = _report(fmt)
    wb = openpyxl.load_workbook(write_summary(report, tmp_path / "s.xlsx"))
    rows = list(wb[FILES_SHEET].iter_rows(values_only=True))
    assert rows[0] == FILES_HEADERS
    assert [(r[1], r[2], r[5], r[6], r[7]) for r in rows[1:]] == [
        (Path(f.path).name, f.data.unit if f.data else None, s, f.errors, f.warnings)
        for f, s in zip(report.files, ["通过", "通过", "通过", "有错误", "无法读取", "需核实"])]
    assert rows[4][8] == "不相等" and rows[4][3] == RETURN_YEAR and rows[4][4] == "2021"
    findings = list(wb[FINDINGS_SHEET].iter_rows(values_only=True))
    assert findings[0] == FINDINGS_HEADERS
    assert [(r[0], r[2], r[10], r[3]) for r in findings[1:]] == [
        ("broken.xlsx", "错误", "rule-not-equal", "不相等"), ("bad.xlsx", "错误", "not-a-workbook", "不是工作簿"),
        ("warned.xlsx", "需核实", "value-blank", "空白")]


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    fmt = load_format("2021")
    data = clean_report(fmt, unit='=HYPERLINK("http://x","y")', year=RETURN_YEAR)
    report = Report([FileReport("/in/=cmd.xlsx", [Finding("x", "warning", "=1+1")], data)])
    wb = openpyxl.load_workbook(write_summary(report, tmp_path / "s.xlsx"))
    cell = wb[FILES_SHEET]["C2"]
    assert cell.value == '=HYPERLINK("http://x","y")' and cell.data_type == "s"
    assert wb[FINDINGS_SHEET]["D2"].data_type == "s"


def test_mixed_formats_get_a_totals_sheet_each(tmp_path):
    new, old = load_format("2021"), load_format("2019")
    files = [FileReport(f"/in/{i}.xlsx", [], clean_report(new, i, year=2021)) for i in range(2)]
    old_data = clean_report(old, 5, year=2020)
    files.append(FileReport("/in/old.xlsx", [], old_data))
    wb = openpyxl.load_workbook(write_summary(Report(files), tmp_path / "s.xlsx"))
    assert wb.sheetnames == [FILES_SHEET, FINDINGS_SHEET, TOTALS_SHEET, f"{TOTALS_SHEET}_2019"]
    got = _sheet_values(wb[f"{TOTALS_SHEET}_2019"], old)
    assert got["t2.procurement.amount"] == pytest.approx(float(old_data.values["t2.procurement.amount"]))
    assert got["t3.results_total.total"] == int(old_data.values["t3.results_total.total"])


def test_no_valid_file_still_writes_a_summary(tmp_path):
    report = Report([FileReport("/in/bad.xlsx", [Finding("not-a-workbook", "error", "不是工作簿")], None)])
    wb = openpyxl.load_workbook(write_summary(report, tmp_path / "s.xlsx"))
    assert "没有可汇总的文件" in wb[TOTALS_SHEET]["A2"].value


def test_summary_from_the_command_sums_the_valid_returned_files(tmp_path):
    files = returned_folder(tmp_path / "in")
    result = CliRunner().invoke(app, ["check", str(tmp_path / "in"), "--summary", str(tmp_path / "汇总.xlsx")])
    assert result.exit_code == 1
    report = check_paths([tmp_path / "in"])
    valid = [f for f in report.files if f.valid]
    assert {Path(f.path) for f in valid} == {files["clean"], files["typed_right"]}
    fmt = load_format("2021")
    wb = openpyxl.load_workbook(tmp_path / "汇总.xlsx")
    got = _sheet_values(wb[TOTALS_SHEET], fmt)
    expected = _expected_totals(fmt, valid)
    assert {k: Decimal(str(v)) for k, v in got.items()} == expected
    statuses = [r[5] for r in list(wb[FILES_SHEET].iter_rows(values_only=True))[1:]]
    assert sorted(statuses) == sorted(["通过", "有错误", "有错误", "需核实", "无法读取"])


def test_summary_is_written_atomically_over_an_old_one(tmp_path):
    fmt = load_format("2021")
    target = tmp_path / "s.xlsx"
    target.write_bytes(b"old")
    write_summary(_report(fmt), target)
    assert openpyxl.load_workbook(target).sheetnames[0] == FILES_SHEET
    assert [p.name for p in tmp_path.iterdir()] == ["s.xlsx"]
