"""``nianbao import report.txt -o out.xlsx`` keeps the numbers as published: totals are written as
the published values (not formulas), marked as such, the workbook says it was imported, and
checking it gives the same rule errors as the import did, also after LibreOffice recalculated it."""

from __future__ import annotations

import openpyxl
import pytest
from typer.testing import CliRunner

from check_helpers import clean_report
from soffice import SOFFICE, soffice_convert
from toolkit.batch import check_file
from toolkit.cli import app
from toolkit.formats import load_format
from toolkit.importers.batch import import_reports
from toolkit.render import render_report
from toolkit.layout import ORIGIN_PUBLISHED, cell_addresses, workbook_plan
from toolkit.workbook.writer import defined_name_for_meta, workbook_text

UNIT = "蓼堤镇人民政府"
WRONG = ("t4.review.total", "t3.results_total.natural")  # the totals published wrong


def _number_row(lines: list[str], start: int, label: str | None = None) -> int:
    """The index of the first line from ``start`` holding the table's numbers (with ``label``)."""
    for i in range(start, len(lines)):
        cells = [c for c in lines[i].split("\t") if c.strip()]
        if cells and (label is None and all(c.isdigit() for c in cells) or label is not None and label in cells):
            return i
    raise AssertionError(f"no number row after line {start}")


def published_text(fmt) -> tuple[str, dict[str, int]]:
    """A published report (plain text, as the renderer writes it) whose 表四 行政复议 总计 is 0 and
    whose 表三 （七）总计 自然人 is one more than its parts; returns the text and those cells' published values."""
    data = clean_report(fmt, 3, year=2025)
    assert data.values["t4.review.total"] > 0
    lines = render_report(data, "txt").split("\n")
    t4 = _number_row(lines, next(i for i, line in enumerate(lines) if line.startswith("四、政府信息公开行政复议")))
    cells = lines[t4].split("\t")
    assert cells[4] == str(data.values["t4.review.total"])
    cells[4] = "0"
    lines[t4] = "\t".join(cells)
    t3 = _number_row(lines, 0, "（七）总计")
    cells = lines[t3].split("\t")
    k = next(i for i in range(cells.index("（七）总计") + 1, len(cells)) if cells[i].strip())  # 自然人
    wrong = int(cells[k]) + 1
    cells[k] = str(wrong)
    lines[t3] = "\t".join(cells)
    return "\n".join(lines), {"t4.review.total": 0, "t3.results_total.natural": wrong}


def _rule_findings(findings) -> set[tuple]:
    return {(f.code, f.rule, f.row, f.column, f.expected, f.actual) for f in findings if f.rule and f.severity == "error"}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    root = tmp_path_factory.mktemp("published")
    fmt = load_format("2021")
    text, published = published_text(fmt)
    source = root / "report.txt"
    source.write_text(text, encoding="utf-8")
    batch = import_reports([source], out=root / "out.xlsx")
    (report,) = batch.report.files
    return fmt, published, report, root / "out.xlsx"


def test_import_finds_the_published_errors(imported):
    _, _, report, out = imported
    rules = {f[1] for f in _rule_findings(report.findings)}
    assert {"t4-review-total", "t3-results-total"} <= rules
    assert out.exists()


def test_totals_are_written_as_published_and_marked(imported):
    fmt, published, _, out = imported
    wb = openpyxl.load_workbook(out)
    addresses = cell_addresses(fmt)
    comment = workbook_text()["published"]["total_comment"]
    for cell in fmt.total_cells:
        addr = addresses[cell.id]
        xl = wb[addr.sheet][addr.a1]
        assert not (isinstance(xl.value, str) and xl.value.startswith("=")), cell.id
        assert xl.comment is not None and xl.comment.text.startswith(comment[:10]), cell.id
        assert xl.fill.fgColor.rgb != wb[addr.sheet][addresses[fmt.input_cells[0].id].a1].fill.fgColor.rgb
    for cell_id, value in published.items():
        addr = addresses[cell_id]
        assert wb[addr.sheet][addr.a1].value == value
    meta = {r[0]: r[1] for r in wb[workbook_plan().meta_sheet].iter_rows(min_col=1, max_col=2, values_only=True)}
    assert meta["origin"] == ORIGIN_PUBLISHED
    assert defined_name_for_meta("origin") in wb.defined_names


def _check_values(path, sheet) -> list[str]:
    texts = workbook_text()["table"]
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    marks = (texts["check_ok"], texts["check_bad"], texts["check_warn"], texts["check_pending"])
    return [c.value for row in ws.iter_rows() for c in row if c.value in marks]


def test_live_checks_show_the_published_mismatch(imported):
    _, _, _, out = imported
    bad = workbook_text()["table"]["check_bad"]
    assert bad in _check_values(out, "表四") and bad in _check_values(out, "表三")


def test_check_of_the_workbook_gives_the_import_errors(imported):
    fmt, published, report, out = imported
    checked = check_file(out)
    assert _rule_findings(checked.findings) == _rule_findings(report.findings)
    addresses = cell_addresses(fmt)
    cells = {(f.sheet, f.cell) for f in checked.findings if f.rule in ("t4-review-total", "t3-results-total")}
    assert cells == {(addresses[c].sheet, addresses[c].a1) for c in published}


def test_cli_import_then_check_exits_1(imported, tmp_path):
    _, _, _, out = imported
    result = CliRunner().invoke(app, ["check", str(out)])
    assert result.exit_code == 1 and "total-mismatch" in result.output


@pytest.mark.libreoffice
def test_after_libreoffice_recalculation_the_same_errors(imported, tmp_path):
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    fmt, published, report, out = imported
    (recalc,) = soffice_convert([out], tmp_path / "recalc", to="xlsx", recalc=True)
    wb = openpyxl.load_workbook(recalc, data_only=True)
    addresses = cell_addresses(fmt)
    for cell_id, value in published.items():
        assert wb[addresses[cell_id].sheet][addresses[cell_id].a1].value == value
    bad = workbook_text()["table"]["check_bad"]
    assert bad in _check_values(recalc, "表四") and bad in _check_values(recalc, "表三")
    assert _rule_findings(check_file(recalc).findings) == _rule_findings(report.findings)
