"""Importing the five real published reports in shared/seeds: every number in its official cell.

The expected numbers below are read off the published texts by eye (tables as printed there).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from typer.testing import CliRunner

from shared_data import seed_path, shared_folder
from toolkit.checks.engine import check_data
from toolkit.cli import app
from toolkit.formats import load_format
from toolkit.importers import import_report

T3_COLUMNS = ("natural", "business", "research", "nonprofit", "legal", "other", "total")
T4_CELLS = [f"t4.{g}.{c}" for g in ("review", "suit_direct", "suit_after_review")
            for c in ("upheld", "corrected", "other", "pending", "total")]


seed = seed_path


@pytest.fixture(scope="module")
def imported():
    cache = {}

    def get(prefix):
        if prefix not in cache:
            cache[prefix] = import_report(seed(prefix))
        return cache[prefix]

    return get


def t3_rows(fmt_id: str, rows: dict[str, list]) -> dict[str, Decimal | None]:
    """Expected 表三: every leaf row of the format, zeros unless given."""
    fmt = load_format(fmt_id)
    out = {}
    for row in fmt.table("t3").leaf_rows:
        values = rows.get(row.id, [0] * 7)
        for col, v in zip(T3_COLUMNS, values):
            out[f"t3.{row.id}.{col}"] = None if v is None else Decimal(str(v))
    return out


def t4_row(values: list) -> dict[str, Decimal]:
    return {cell: Decimal(str(v)) for cell, v in zip(T4_CELLS, values)}


def assert_cells(data, expected: dict) -> None:
    wrong = {k: (data.values.get(k), v) for k, v in expected.items() if data.values.get(k) != v}
    assert not wrong, f"cell: (imported, published) {wrong}"


def codes(findings) -> list[str]:
    return [f.code for f in findings]


# ---------------------------------------------------------------- identity and format


@pytest.mark.parametrize("prefix, unit, year, fmt", [
    ("000", "睢县蓼堤镇人民政府", 2021, "2021"),
    ("001", "官坡镇人民政府", 2023, "2021"),
    ("002", "宁河区造甲城镇人民政府", 2020, "2019"),  # named only in the opening sentence
    ("003", "梁园区王楼乡人民政府", 2020, "2019"),
    ("004", "鹿邑县人民政府", 2021, "2021"),
])
def test_unit_year_and_format_from_the_report(imported, prefix, unit, year, fmt):
    result = imported(prefix)
    assert result.data is not None
    assert (result.data.unit, result.data.year, result.data.format) == (unit, year, fmt)
    assert result.source_kind == "txt"
    assert every_cell_read(result.data)


def every_cell_read(data) -> bool:
    fmt = load_format(data.format)
    return set(data.values) == set(fmt.cells) and all(
        data.values[c] is not None for c in fmt.cells if not (data.raw.get(c) or "").strip() in ("增",))


def test_format_comes_from_the_tables_not_from_the_caller(imported):
    result = import_report(seed("004"), format_id="2019")
    assert result.data.format == "2021"
    assert "import-format-forced" in codes(result.findings)
    assert result.data.values["t2.licensing.decisions"] == Decimal("20815")


def test_year_given_by_the_caller_differs(imported):
    result = import_report(seed("004"), year=2022)
    assert result.data.year == 2021
    (finding,) = [f for f in result.findings if f.code == "import-year-mismatch"]
    assert (finding.expected, finding.actual) == (2022, 2021)


# ---------------------------------------------------------------- the numbers


def test_seed_000_all_zero_tables_with_blank_cells(imported):
    result = imported("000")
    fmt = load_format("2021")
    assert_cells(result.data, {c: Decimal(0) for c in fmt.cells})
    # the published 表三 leaves one cell of rows （一）–（四） blank: read as 0, each reported
    blanks = [f for f in result.findings if f.code == "value-blank"]
    assert {f.row for f in blanks} >= {"（一）予以公开", "1.属于国家秘密", "3.补正后申请内容仍不明确"}
    assert all(f.sheet == "表三" for f in blanks)
    assert not [f for f in result.findings if f.severity == "error"]
    assert "import-label-variant" in codes(result.findings)  # 本年收费金额（单位：万元，保留4位小数）


def test_seed_001_all_zero_2023(imported):
    result = imported("001")
    fmt = load_format("2021")
    assert_cells(result.data, {c: Decimal(0) for c in fmt.cells})
    assert not [f for f in result.findings if f.severity == "error"]
    assert check_data(result.data) == [] or all(f.severity == "warning" for f in check_data(result.data))


def test_seed_002_one_cell_per_line_2019(imported):
    data = imported("002").data
    expected = {
        "t2.rules.made": 0, "t2.normative.public_total": 0, "t2.licensing.prior_items": 0,
        "t2.other_services.decisions": 0, "t2.penalty.prior_items": 11, "t2.penalty.decisions": 20,
        "t2.coercion.prior_items": 1, "t2.coercion.change": 0, "t2.coercion.decisions": 0,
        "t2.fees.prior_items": 0, "t2.fees.change": 0, "t2.procurement.items": 5,
        "t2.procurement.amount": 757000,
    }
    assert_cells(data, {k: Decimal(v) for k, v in expected.items()})
    assert data.values["t2.penalty.change"] is None and data.raw["t2.penalty.change"] == "增"
    assert_cells(data, t3_rows("2019", {
        "new": [1, 0, 0, 0, 0, 0, 1],
        "withheld_internal": [1, 0, 0, 0, 0, 0, 1],
        "results_total": [1, 0, 0, 0, 0, 0, 0],  # as published: 总计 0 where the row adds up to 1
    }))
    assert data.raw["t3.carried_in.business"] == ""  # a blank cell, read as 0
    assert_cells(data, t4_row([0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]))


def test_seed_003_2019_with_extra_column(imported):
    result = imported("003")
    fmt = load_format("2019")
    assert_cells(result.data, {c: Decimal(0) for c in fmt.cells})
    (extra,) = [f for f in result.findings if f.code == "import-extra-values"]
    assert extra.row == "行政事业性收费" and extra.sheet == "表二"  # a 处理决定数量 column 2019 has not
    variants = {f.message for f in result.findings if f.code == "import-label-variant"}
    assert any("社会组织" in m for m in variants)


def test_seed_004_numbers(imported):
    result = imported("004")
    data = result.data
    assert_cells(data, {
        "t2.rules.made": Decimal(0), "t2.rules.repealed": Decimal(0), "t2.rules.in_force": Decimal(0),
        "t2.normative.made": Decimal(10), "t2.normative.repealed": Decimal(8),
        "t2.normative.in_force": Decimal(26), "t2.licensing.decisions": Decimal(20815),
        "t2.penalty.decisions": Decimal(3326), "t2.coercion.decisions": Decimal(427),
        "t2.fees.amount": Decimal("2460.9543"),
    })
    assert_cells(data, t3_rows("2021", {
        "new": [210, 3, 0, 2, 0, 8, 223],
        "disclosed": [177, 3, 0, 2, 0, 3, 185],
        "partial": [8, 0, 0, 0, 0, 0, 8],
        "withheld_internal": [1, 0, 0, 0, 0, 0, 1],
        "withheld_enforcement": [1, 0, 0, 0, 0, 0, 1],
        "unable_not_held": [15, 0, 0, 0, 0, 0, 15],
        "unable_needs_making": [1, 0, 0, 0, 0, 0, 1],
        "not_handled_petition": [4, 0, 0, 0, 0, 4, 8],
        "not_handled_repeat": [1, 0, 0, 0, 0, 0, 1],
        "not_handled_excessive": [2, 0, 0, 0, 0, 0, 2],
        "other_other": [0, 0, 0, 0, 0, 1, 1],
        "results_total": [210, 3, 0, 2, 0, 8, 223],
    }))
    assert_cells(data, t4_row([1, 0, 0, 0, 1] + [0] * 10))
    assert not [f for f in result.findings if f.severity == "error"]
    variants = [f for f in result.findings if f.code == "import-label-variant"]
    assert any("其他法律法规禁止公开" in f.message for f in variants)


def test_seeds_that_reconcile_pass_the_checks(imported):
    for prefix in ("000", "001", "003", "004"):
        errors = [f for f in check_data(imported(prefix).data) if f.severity == "error"]
        assert errors == [], prefix


# ---------------------------------------------------------------- seed 002's errors


def test_seed_002_errors_found_by_checking_the_imported_data(imported):
    result = imported("002")
    (change,) = [f for f in result.findings if f.code == "value-change-text"]
    assert change.severity == "error" and change.actual == "增" and change.row == "行政处罚"
    assert change.sheet == "表二"
    findings = check_data(result.data)
    mismatches = [f for f in findings if f.code == "total-mismatch"]
    rules = {f.rule for f in mismatches}
    assert rules == {"t3-results-total", "t3-total-column"}
    assert all(f.expected == Decimal(1) and f.actual == Decimal(0) for f in mismatches)


def test_nianbao_check_audits_the_text_report():
    runner = CliRunner()
    res = runner.invoke(app, ["check", "--json", str(seed("002"))])
    assert res.exit_code == 1
    import json

    (file,) = json.loads(res.stdout)["files"]
    assert file["format"] == "2019" and file["year"] == 2020
    found = {(f["code"], f["rule"]) for f in file["findings"]}
    assert ("value-change-text", None) in found
    assert ("total-mismatch", "t3-results-total") in found
    assert ("total-mismatch", "t3-total-column") in found


# ---------------------------------------------------------------- narrative


def test_sections_and_parts(imported):
    data = imported("000").data
    assert data.narrative["overview.on_request"].startswith("截至2021年12月31日")
    assert "12345热线" in data.narrative["overview.on_request"]
    assert data.narrative["overview.management"].startswith("2021年，我镇根据人员的变动")
    assert "健全政府信息主动公开制度" in data.narrative["overview.platforms"]
    assert data.narrative["problems.text"].startswith("2021年，通过全镇干部职工的共同努力")
    assert data.narrative["other.text"] == "无"

    data = imported("001").data
    assert data.narrative["overview.on_request"].startswith("截至 2023 年 12 月 31 日")
    assert "(二) 改进措施:" in data.narrative["problems.text"]
    assert data.narrative["other.text"].startswith("1.2023 年度，官坡镇")

    result = imported("002")
    data = result.data
    assert data.narrative["overview.proactive"].startswith("持续强化组织领导")
    assert "import-narrative-unsplit" in codes(result.findings)  # no （一）…（五） in its 总体情况
    assert data.narrative["other.text"] == "本年度无其他需要报告的事项。"


# ---------------------------------------------------------------- the command


def test_nianbao_import_writes_a_workbook_and_json(tmp_path):
    runner = CliRunner()
    out = tmp_path / "鹿邑.xlsx"
    res = runner.invoke(app, ["import", str(seed("004")), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.is_file()
    from toolkit.readers import read_report

    back = read_report(out).data
    assert back.values["t3.new.natural"] == Decimal(210) and back.values["t2.fees.amount"] == Decimal("2460.9543")

    res = runner.invoke(app, ["import", str(seed("002")), "-o", str(tmp_path / "s.json")])
    assert res.exit_code == 1  # the report has errors
    import json

    payload = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert payload["values"]["t2.penalty.prior_items"] == "11" and payload["unit"] == "宁河区造甲城镇人民政府"


def test_nianbao_import_out_dir_and_usage(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["import", str(shared_folder("seeds")), "--out-dir", str(tmp_path / "out"), "--to", "json"])
    assert res.exit_code == 1  # seed 002 has errors
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(names) == 5 and "鹿邑县人民政府2021年政府信息公开工作年度报告.json" in names
    res = runner.invoke(app, ["import", str(shared_folder("seeds")), "-o", str(tmp_path / "x.xlsx")])
    assert res.exit_code == 2  # -o with several reports
    res = runner.invoke(app, ["import", str(tmp_path / "nothing.txt")])
    assert res.exit_code == 2
