"""nianbao compare --county: every unit's main figures across the archive's years (issue 16)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from toolkit.archive import Archive
from toolkit.checks.engine import check_data
from toolkit.compare import load_flags
from toolkit.compare.county import county_rows, county_view, figure_groups
from toolkit.compare.county_outputs import write_county
from toolkit.demo.synthetic import synthetic_report
from toolkit.formats import format_for_year, load_format
from toolkit.round.history import figure_value, history_figures

ROOT = Path(__file__).resolve().parents[1]
FINANCE, EDUCATION, TOWN = "某某县财政局", "某某县教育局", "城关镇人民政府"
YEARS = (2023, 2024, 2025)


def _reports(planted: bool) -> dict[tuple[str, int], object]:
    """Three units, three years each, following on from each other; the education bureau has
    nothing for 2024. ``planted``: the finance bureau's 2025 上年结转 is 3 more than its 2024
    结转下年度, and its 2025 new requests more than double."""
    out = {}
    for unit in (FINANCE, EDUCATION, TOWN):
        prior = None
        for year in YEARS:
            data = synthetic_report(format_for_year(year).id, unit, year, seed=7, prior=prior)
            prior = data
            if unit == EDUCATION and year == 2024:
                continue
            out[(unit, year)] = data
    if planted:
        data = out[(FINANCE, 2025)]
        data.values["t3.carried_in.natural"] += 3
        data.values["t3.carried_over.natural"] += 3
        data.values["t3.new.natural"] = data.values["t3.new.natural"] * 3 + 12
        data.values["t3.disclosed.natural"] += data.values["t3.new.natural"]
    return out


def _archive(path: Path, planted: bool = True) -> Path:
    reports = _reports(planted)
    with Archive(path) as archive:
        for (unit, year), data in reports.items():
            prior = reports.get((unit, year - 1))
            archive.record_data(data, check_data(data, prior=prior), source="import" if year == 2023 else "check")
    return path


@pytest.fixture
def db(tmp_path):
    return _archive(tmp_path / "nianbao.db")


def test_every_unit_and_year_with_recomputed_figures(db):
    view = county_view(db)
    reports = _reports(True)
    assert view.years == list(YEARS) and view.units == [FINANCE, EDUCATION, TOWN]
    assert view.missing(EDUCATION) == [2024] and view.missing(FINANCE) == []
    for (unit, year), data in reports.items():
        entry = view.entry(unit, year)
        assert entry.values == {f.id: figure_value(f, data) for f in history_figures()}
    assert view.entry(FINANCE, 2023).source == "import" and view.entry(FINANCE, 2024).source == "check"
    for year in YEARS:
        present = [data for (unit, y), data in reports.items() if y == year]
        assert view.reported(year) == len(present)
        new = sum(figure_value(history_figures()[0], d) for d in present)
        assert view.totals(year)["new"] == new


def test_a_typed_total_is_not_trusted(tmp_path):
    data = synthetic_report("2021", FINANCE, 2025, seed=1)
    data.values["t3.new.total"] = Decimal(999)
    with Archive(tmp_path / "a.db") as archive:
        archive.record_data(data, check_data(data))
    entry = county_view(tmp_path / "a.db").entry(FINANCE, 2025)
    columns = [c for c in load_format("2021").cells if c.startswith("t3.new.") and c != "t3.new.total"]
    assert entry.values["new"] == sum(data.values[c] for c in columns) != 999


def test_flags_follow_the_compare_template(db):
    view = county_view(db)
    flags = load_flags()
    for unit in view.units:
        for year, entry in view.entries[unit].items():
            previous = view.entry(unit, year - 1)
            for fig in view.figures:
                last = previous.values.get(fig.id) if previous else None
                this = entry.values.get(fig.id)
                expected = None if last is None or this is None else next(
                    (f for f in flags if f.matches(last, this)), None)
                assert entry.flags.get(fig.id) == expected, (unit, year, fig.id)
    assert view.entry(FINANCE, 2025).flags["new"].id == "doubled"
    assert view.entry(EDUCATION, 2025).previous is None and not view.entry(EDUCATION, 2025).flags


def test_cross_year_rules_between_consecutive_years(db):
    view = county_view(db)
    broken = view.entry(FINANCE, 2025)
    assert {f.rule for f in broken.findings} == {"t3-carry-prior"}
    assert all(f.severity == "error" for f in broken.findings) and view.errors == len(broken.findings)
    assert "carried_in" in broken.marked and "上年结转" in broken.marked["carried_in"][0]
    assert not any(view.entry(u, y).findings for u in view.units for y in view.entries[u] if (u, y) != (FINANCE, 2025))
    clean = county_view(_archive(db.parent / "clean.db", planted=False))
    assert clean.errors == 0 and not clean.findings


def test_years_range_keeps_the_comparison_with_the_year_before(db):
    view = county_view(db, years=(2025, 2024))
    assert view.years == [2024, 2025]
    assert view.entry(FINANCE, 2024).previous is not None  # 2023 is outside the range, still compared
    assert view.entry(FINANCE, 2025).flags == county_view(db).entry(FINANCE, 2025).flags


def test_rows_for_every_output(db):
    view = county_view(db)
    rows = county_rows(view)
    kinds = [(r.kind, r.unit, r.year) for r in rows]
    assert kinds[:3] == [("entry", FINANCE, y) for y in YEARS]
    assert ("missing", EDUCATION, 2024) in kinds and kinds[-3:] == [("total", "各单位合计", y) for y in YEARS]
    assert [r.span for r in rows if r.first] == [3, 3, 3, 3]
    broken = next(r for r in rows if (r.unit, r.year) == (FINANCE, 2025))
    assert any("报告有错误" in n for n in broken.notes) and any("翻倍以上" in n for n in broken.notes)
    assert sum(width for _, width in figure_groups(view)) == len(view.figures)


def _nianbao(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "toolkit", "compare", *args], capture_output=True, text=True,
                          env=env, timeout=180)


def test_cli_exit_codes_json_and_usage(db, tmp_path):
    found = _nianbao("--archive", str(db), "--county", "--json")
    assert found.returncode == 1, found.stderr
    payload = json.loads(found.stdout)
    assert payload["years"] == list(YEARS) and payload["errors"] == 2
    assert [u["unit"] for u in payload["units"]] == [FINANCE, EDUCATION, TOWN]
    assert payload["units"][1]["missing_years"] == [2024]
    assert payload["units"][0]["years"]["2025"]["flags"]["new"]["id"] == "doubled"
    assert payload["totals"]["2024"]["units"] == 2
    clean = _nianbao("--archive", str(_archive(tmp_path / "clean.db", planted=False)), "--county")
    assert clean.returncode == 0, clean.stderr
    assert "各单位合计" in clean.stdout and "（导入）" in clean.stdout and "（无报告）" in clean.stdout
    assert _nianbao("--county").returncode == 2
    assert _nianbao(FINANCE, "--archive", str(db), "--county").returncode == 2
    assert _nianbao("--archive", str(tmp_path / "none.db"), "--county").returncode == 2
    assert _nianbao("--archive", str(db), "--county", "-o", str(tmp_path / "x.pdf")).returncode == 2
    empty = _nianbao("--archive", str(db), "--county", "--years", "2030", "2031")
    assert empty.returncode == 1 and "还没有任何单位的报告" in empty.stderr
    for suffix in ("html", "xlsx", "docx"):
        out = tmp_path / f"各单位.{suffix}"
        assert _nianbao("--archive", str(db), "--county", "-o", str(out)).returncode == 1 and out.stat().st_size > 3000


def test_html_in_chromium(db, tmp_path):
    from browser import browser

    view = county_view(db)
    html = write_county(view, tmp_path / "各单位.html").read_text(encoding="utf-8")
    with browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 900})
        page.set_content(html)
        assert page.locator("tbody tr").count() == len(county_rows(view))
        assert page.locator("td.nb-flagged").count() == len(view.flagged())
        framed = page.locator("td.nb-finding")
        assert framed.count() == 1 and "上年结转" in framed.first.get_attribute("title")
        assert page.locator("tr.nb-missing").count() == 1
        assert page.locator("ol.nb-findings li").count() == view.errors
        width = page.evaluate("document.querySelector('table.nb-county-table').getBoundingClientRect().right")
        assert width <= 1400  # the notes wrap: the table fits a desktop screen
        shot = tmp_path / "county.png"
        page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_xlsx_output(db, tmp_path):
    import openpyxl

    view = county_view(db)
    book = openpyxl.load_workbook(write_county(view, tmp_path / "各单位.xlsx"))
    assert book.sheetnames == ["各单位主要数据", "跨年度核对"]
    sheet = book["各单位主要数据"]
    labels = [c.value for c in sheet[4][2:2 + len(view.figures)]]
    assert labels == [f.label for f in view.figures]
    assert "A5:A7" in {str(r) for r in sheet.merged_cells.ranges}
    rows = {(sheet.cell(r, 1).value or None, sheet.cell(r, 2).value): r for r in range(5, sheet.max_row + 1)}
    finance_2025 = 7
    assert sheet.cell(finance_2025, 2).value == 2025
    new = sheet.cell(finance_2025, 3)
    assert new.value == float(view.entry(FINANCE, 2025).values["new"])
    assert new.fill.fgColor.rgb.endswith("FFD6D6") and "翻倍以上" in new.comment.text
    carried = sheet.cell(finance_2025, 4)
    assert carried.border.left.style == "medium" and "上年结转" in carried.comment.text
    assert ("各单位合计", 2023) in rows
    found = book["跨年度核对"]
    assert [c.value for c in found[1]] == ["单位", "年度", "级别", "说明"]
    assert found.max_row == 1 + view.errors and found.cell(2, 1).value == FINANCE


def test_docx_output(db, tmp_path):
    import docx
    from docx.enum.section import WD_ORIENT

    view = county_view(db)
    document = docx.Document(str(write_county(view, tmp_path / "各单位.docx")))
    assert document.sections[0].orientation == WD_ORIENT.LANDSCAPE
    table = document.tables[0]
    assert len(table.rows) == 2 + len(county_rows(view))
    assert table.rows[1].cells[2].text == view.figures[0].label
    assert table.rows[2].cells[0].text == FINANCE and table.rows[4].cells[0].text == FINANCE  # merged
    text = "\n".join(p.text for p in document.paragraphs)
    assert "跨年度勾稽关系" in text and "上年结转" in text


def test_outputs_printed_by_libreoffice(db, tmp_path):
    from soffice import soffice_convert

    view = county_view(db)
    sources = [write_county(view, tmp_path / "in" / f"各单位{n}.{s}") for n, s in ((1, "xlsx"), (2, "docx"))]
    pdfs = soffice_convert(sources, tmp_path / "pdf", to="pdf")
    for pdf in pdfs:
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        assert FINANCE in text and "各单位合计" in text and "本年新收" in text
