"""A workbook sent back unfilled is one error (workbook-not-filled, 未填报), not a blank warning
per cell: check fails, status shows the unit as not clean, render refuses it. The blank itself
shows 待填写 in its 勾稽 check cells and banners until something is entered (LibreOffice
recalculates them)."""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal

import openpyxl
import pytest
from typer.testing import CliRunner

from check_helpers import clean_report, write_returned
from soffice import SOFFICE, soffice_convert
from toolkit.batch import check_file
from toolkit.workbook.values import vocabulary
from toolkit.cli import app
from toolkit.formats import load_format
from toolkit.importers import import_text
from toolkit.model import ReportData
from toolkit.render import render_report
from toolkit.layout import cell_addresses
from toolkit.workbook.writer import workbook_text, write_workbook

UNIT = "蓼堤镇人民政府"


def _blank(tmp_path, fmt, name="blank.xlsx"):
    return write_workbook(tmp_path / name, fmt, unit=UNIT, year=fmt.year_from + 1)


def _partly_filled(tmp_path, fmt, n: int, name: str):
    """A workbook with only the first ``n`` input cells typed (as 1)."""
    values = {c.id: Decimal(1) for c in fmt.input_cells[:n]}
    return write_workbook(tmp_path / name, fmt, unit=UNIT, year=fmt.year_from + 1,
                          data=ReportData(fmt.id, values=values))


def _threshold(fmt) -> int:
    return math.floor(vocabulary().not_filled_share * len(fmt.input_cells))


def test_blank_sent_back_is_one_error(tmp_path, fmt):
    report = check_file(_blank(tmp_path, fmt))
    assert [f.code for f in report.findings] == ["workbook-not-filled"]
    (finding,) = report.findings
    assert finding.severity == "error" and not report.valid
    assert "blank.xlsx" in finding.message and "未填报" in finding.message and "填0" in finding.message
    first = fmt.input_cells[0]
    assert (finding.sheet, finding.cell) == (first.table.sheet, cell_addresses(fmt)[first.id].a1)


def test_nearly_empty_is_not_filled_and_the_threshold_comes_from_the_template(tmp_path, fmt):
    limit = _threshold(fmt)
    assert limit >= 1, "templates/reading.yaml should allow a few stray entries"
    nearly = check_file(_partly_filled(tmp_path, fmt, limit, "nearly.xlsx"))
    assert "workbook-not-filled" in {f.code for f in nearly.findings}
    assert "value-blank" not in {f.code for f in nearly.findings}
    started = check_file(_partly_filled(tmp_path, fmt, limit + 1, "started.xlsx"))
    codes = {f.code for f in started.findings}
    assert "workbook-not-filled" not in codes and "value-blank" in codes


def test_filled_workbook_is_not_flagged(tmp_path, fmt):
    data = clean_report(fmt, 5, year=fmt.year_from + 1)
    report = check_file(write_returned(tmp_path / "filled.xlsx", fmt, data))
    assert "workbook-not-filled" not in {f.code for f in report.findings}


def test_check_status_and_render_refuse_an_unfilled_workbook(tmp_path):
    fmt = load_format("2021")
    path = write_workbook(tmp_path / f"{UNIT}.xlsx", fmt, unit=UNIT, year=2025)
    roster = tmp_path / "roster.csv"
    roster.write_text(f"单位名称\n{UNIT}\n", encoding="utf-8")
    runner = CliRunner()

    checked = runner.invoke(app, ["check", str(path), "--archive", str(tmp_path / "nb.db")])
    assert checked.exit_code == 1, checked.output
    assert "workbook-not-filled" in checked.output

    status = runner.invoke(app, ["status", "--roster", str(roster), "--year", "2025",
                                 "--archive", str(tmp_path / "nb.db"), "--json"])
    assert status.exit_code == 1, status.output
    (unit,) = json.loads(status.stdout)["units"]
    assert (unit["unit"], unit["status"], unit["errors"]) == (UNIT, "errors", 1)

    out = tmp_path / "draft.html"
    refused = runner.invoke(app, ["render", str(path), "--to", "html", "-o", str(out)])
    assert refused.exit_code == 1 and not out.exists()
    assert "未填报" in refused.output
    forced = runner.invoke(app, ["render", str(path), "--to", "html", "-o", str(out), "--force"])
    assert forced.exit_code == 0 and out.exists(), forced.output


def test_published_report_with_nearly_empty_tables_is_not_filled(fmt):
    """An imported report whose tables are there but hold (nearly) no numbers gets the same error."""
    values = dict.fromkeys(fmt.cells)
    for cell in fmt.input_cells[:_threshold(fmt)]:
        values[cell.id] = Decimal(1)
    text = render_report(ReportData(fmt.id, unit=UNIT, year=fmt.year_from + 1, values=values), "txt")
    data, findings = import_text(text, source="published.txt")
    assert data is not None
    errors = [f for f in findings if f.code == "workbook-not-filled"]
    assert len(errors) == 1 and "published.txt" in errors[0].message
    assert not [f for f in findings if f.code == "value-blank"]


# ---------------------------------------------------------------- 待填写 in the blank


def _check_texts(path) -> dict[str, list[str]]:
    """The check cells' and banners' values per table sheet (as last calculated)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    texts = workbook_text()["table"]
    marks = {texts["check_ok"][0], texts["check_bad"][0], texts["check_warn"][0], texts["check_pending"][0]}
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = [c.value for row in ws.iter_rows() for c in row
                         if isinstance(c.value, str) and c.value[:1] in marks and len(c.value) < 40]
    return out


def _broken(fmt):
    data = clean_report(fmt, 7, year=fmt.year_from + 1)
    data.values["t3.new.natural"] += 1  # 表三 自然人 no longer balances
    return data


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    root = tmp_path_factory.mktemp("pending")
    fmt = load_format("2021")
    paths = [
        _blank(root, fmt, "blank.xlsx"),
        write_returned(root / "good.xlsx", fmt, clean_report(fmt, 6, year=2025)),
        write_returned(root / "broken.xlsx", fmt, _broken(fmt)),
    ]
    for path in paths:  # only LibreOffice's own calculation can give the values read below
        _poison(path)
    return dict(zip(("blank", "good", "broken"), soffice_convert(paths, root / "recalc", to="xlsx", recalc=True)))


def _poison(path):
    import zipfile

    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(r'(<c [^>]*t="str"[^>]*><f>[^<]*</f>)<v>[^<]*</v>', r"\1<v>poisoned</v>",
                              data.decode("utf-8")).encode("utf-8")
            dst.writestr(item, data)
    tmp.replace(path)


def test_blank_checks_and_banners_say_pending(tmp_path, fmt):
    texts = workbook_text()["table"]
    found = _check_texts(_blank(tmp_path, fmt))
    shown = [v for values in found.values() for v in values]
    assert shown and all(v in (texts["check_pending"], texts["banner_pending"]) for v in shown), shown
    assert texts["banner_pending"] in found["基本信息"]


@pytest.mark.libreoffice
def test_pending_then_ok_or_bad_after_libreoffice_recalculation(recalculated):
    texts = workbook_text()["table"]
    blank = _check_texts(recalculated["blank"])
    assert set(blank["表三"]) == {texts["check_pending"], texts["banner_pending"]}
    assert blank["基本信息"] == [texts["banner_pending"]]
    good = _check_texts(recalculated["good"])
    assert set(good["表三"]) == {texts["check_ok"], texts["banner_ok"]}
    assert good["基本信息"] == [texts["banner_ok"]]
    broken = _check_texts(recalculated["broken"])
    assert texts["check_bad"] in broken["表三"] and texts["banner_bad"] in broken["表三"]
    assert broken["基本信息"] == [texts["banner_bad"]]
    assert not [v for values in (*good.values(), *broken.values()) for v in values if v == "poisoned"]


def test_one_entry_ends_pending_for_the_checks_over_it(tmp_path):
    fmt = load_format("2021")
    values = {"t3.new.natural": Decimal(2)}
    path = write_workbook(tmp_path / "one.xlsx", fmt, unit=UNIT, year=2025, data=ReportData("2021", values=values))
    texts = workbook_text()["table"]
    found = _check_texts(path)
    t3 = [v for v in found["表三"] if len(v) < 8]
    assert t3.count(texts["check_bad"]) == 2  # 自然人 and 总计, the columns holding the entry
    assert t3.count(texts["check_pending"]) == len(t3) - 2
    assert texts["banner_bad"] in found["表三"] and found["基本信息"] == [texts["banner_bad"]]
