"""Importing messy published reports: the PDF-extracted ones in shared/reports (their known
anomalies must come out as findings), and seed texts made messy the ways real ones are."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from shared_data import REPORT_NAMES, report_path, seed_text, shared_folder
from toolkit.checks.engine import check_data
from toolkit.importers import import_report, import_text

T3_COLUMNS = ("natural", "business", "research", "nonprofit", "legal", "other", "total")
T4_CELLS = [f"t4.{g}.{c}" for g in ("review", "suit_direct", "suit_after_review")
            for c in ("upheld", "corrected", "other", "pending", "total")]


@pytest.fixture(scope="module")
def report():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = import_report(report_path(f"{name}.txt"))
        return cache[name]

    return get


def row(data, row_id):
    return [data.values[f"t3.{row_id}.{c}"] for c in T3_COLUMNS]


def nums(*values):
    return [None if v is None else Decimal(str(v)) for v in values]


def by_code(findings, code):
    return [f for f in findings if f.code == code]


# ---------------------------------------------------------------- shared/reports


def test_001_wrong_t4_totals_typo_and_unsplit_other_handling(report):
    result = report("001")
    data = result.data
    assert (data.unit, data.year, data.format) == ("洪泽区人民政府", 2023, "2021")
    assert [data.values[c] for c in T4_CELLS] == nums(10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0)
    mismatches = {f.rule: f for f in check_data(data) if f.code == "total-mismatch"}
    assert set(mismatches) == {"t4-review-total", "t4-suit-after-review-total"}
    assert (mismatches["t4-review-total"].expected, mismatches["t4-review-total"].actual) == (11, 0)
    typo = [f for f in by_code(result.findings, "import-label-variant") if "其他法律行政止公开" in f.message]
    assert typo and typo[0].row == "2.其他法律行政法规禁止公开"
    (collapsed,) = by_code(result.findings, "import-row-collapsed")
    assert collapsed.sheet == "表三" and "（六）其他处理" in collapsed.message
    # numbers on lines of their own (PDF cells broken over lines) land in the right rows
    assert row(data, "partial") == nums(4, 0, 0, 0, 0, 0, 4)
    assert row(data, "withheld_secret") == nums(1, 0, 0, 0, 0, 0, 1)
    assert row(data, "unable_not_held") == nums(10, 0, 0, 0, 0, 0, 10)
    assert row(data, "unable_needs_making") == nums(3, 0, 0, 0, 0, 0, 3)
    assert row(data, "results_total") == nums(21, 0, 0, 0, 0, 0, 21)
    assert data.values["t2.fees.amount"] == Decimal("7730.28")
    assert data.values["t2.normative.repealed"] == 5
    assert not [f for f in check_data(data) if f.sheet == "表三" and f.severity == "error"]
    assert not [f for f in result.findings if f.severity == "error"]


def test_002_narrative_and_table_disagree(report):
    result = report("002")
    data = result.data
    assert (data.unit, data.year) == ("淮安市洪泽区人民政府", 2024)
    assert re.search(r"受理政府\s*信息公开申请 17 件", data.narrative["overview.on_request"])
    assert data.values["t3.new.total"] == 95
    assert row(data, "withheld_safety") == nums(1, 0, 0, 0, 0, 0, 1)  # a number line above its label
    assert [data.values[c] for c in T4_CELLS] == nums(1, 1, 0, 0, 2, 1, 0, 0, 0, 1, 2, 0, 1, 0, 3)
    assert not [f for f in check_data(data) if f.severity == "error"]
    assert any("其他法律行政止公开" in f.message for f in by_code(result.findings, "import-label-variant"))


def test_003_blank_total_variant_label_and_missing_heading(report):
    result = report("003")
    data = result.data
    assert (data.unit, data.year, data.format) == ("上海市科委", 2024, "2021")
    (blank,) = [f for f in by_code(result.findings, "value-blank") if f.sheet == "表三"]
    assert data.raw["t3.carried_over.total"] == "" and blank.row == "四、结转下年度继续办理"
    (mismatch,) = [f for f in check_data(data) if f.code == "total-mismatch"]
    assert mismatch.rule == "t3-total-column" and (mismatch.expected, mismatch.actual) == (1, 0)
    assert any("规范性文件" in f.message and f.sheet == "表二" for f in by_code(result.findings, "import-label-variant"))
    (missing,) = by_code(result.findings, "import-section-missing")
    assert "五、存在的主要问题及改进情况" in missing.message
    assert data.narrative["problems.text"].startswith("（一）主要问题")
    assert data.values["t2.normative.made"] == 13 and data.values["t2.normative.in_force"] == 55
    assert data.values["t2.licensing.decisions"] == 97
    assert row(data, "new") == nums(32, 2, 0, 0, 0, 0, 34)
    assert row(data, "other_no_correction") == nums(8, 2, 0, 0, 0, 0, 10)
    assert row(data, "other_other") == nums(4, 0, 0, 0, 0, 0, 4)
    assert row(data, "results_total") == nums(33, 2, 0, 0, 0, 0, 35)
    assert [data.values[c] for c in T4_CELLS[:5]] == nums(1, 0, 0, 0, 1)


def test_004_notes_in_cells_and_a_lost_cell(report):
    result = report("004")
    data = result.data
    assert (data.unit, data.year) == ("上海市人民政府办公厅", 2025)
    lost = {f.row: f for f in by_code(result.findings, "import-cells-missing")}
    assert set(lost) == {"规章", "行政规范性文件"} and lost["规章"].severity == "error"
    assert "22、235" in lost["规章"].message
    assert data.values["t2.rules.made"] is None and data.values["t2.normative.in_force"] is None
    stray = " ".join(f.message for f in by_code(result.findings, "import-unplaced-values"))
    assert "（其中修订 16 件）" in stray and "（含自然失效 29 件）" in stray
    assert row(data, "new") == nums(1259, 36, 0, 0, 0, 0, 1295)
    assert row(data, "other_no_correction") == nums(40, 1, 0, 0, 2, 0, 43)  # a piece of its label
    assert row(data, "other_unpaid_fee") == nums(0, 0, 0, 0, 0, 0, 0)
    assert row(data, "results_total") == nums(1139, 48, 0, 0, 4, 0, 1191)
    assert [data.values[c] for c in T4_CELLS] == nums(40, 0, 10, 5, 55, 2, 0, 4, 6, 12, 6, 0, 9, 7, 22)
    assert not [f for f in check_data(data) if f.sheet in ("表三", "表四") and f.severity == "error"]


def test_026_reconciles(report):
    result = report("026")
    data = result.data
    assert (data.unit, data.year, data.format) == ("淮安市人民政府", 2024, "2021")
    assert not [f for f in result.findings if f.severity == "error"]
    assert not [f for f in check_data(data) if f.severity == "error"]
    assert [data.values[f"t2.rules.{c}"] for c in ("made", "repealed", "in_force")] == nums(1, 0, 11)
    assert [data.values[f"t2.normative.{c}"] for c in ("made", "repealed", "in_force")] == nums(8, 26, 66)
    assert data.values["t2.penalty.decisions"] == 3985758 and data.values["t2.fees.amount"] == Decimal("96171.6")
    assert row(data, "other_no_correction") == nums(67, 3, 0, 0, 1, 0, 71)  # "1、申请人…" broken over lines
    assert row(data, "other_unpaid_fee") == nums(6, 0, 0, 0, 0, 0, 6)
    assert row(data, "other_other") == nums(108, 2, 0, 0, 0, 0, 110)
    assert row(data, "results_total") == nums(2932, 53, 0, 0, 61, 4, 3050)
    assert [data.values[c] for c in T4_CELLS] == nums(72, 64, 178, 37, 351, 13, 4, 8, 1, 26, 12, 1, 1, 6, 20)
    assert "3940 元" in data.narrative["other.text"]


def test_every_report_file_imports_with_every_section_text(report):
    for name in REPORT_NAMES:
        data = report(name).data
        assert data is not None and data.narrative.get("overview.proactive"), name
        assert data.narrative.get("problems.text") and data.narrative.get("other.text"), name
        assert not any(re.fullmatch(r"[-—]\s*\d+\s*[-—]", line.strip())
                       for text in data.narrative.values() for line in text.split("\n")), name


def test_not_a_report():
    result = import_report(report_path("README.md"))
    assert result.data is None
    assert [f.code for f in result.findings] == ["import-not-a-report"]
    missing = import_report(shared_folder("reports") / "no-such-report.txt")
    assert missing.data is None and missing.findings[0].code == "import-unreadable"


# ---------------------------------------------------------------- seeds made messy


SEED_004 = {
    "t2.normative.made": Decimal(10), "t2.licensing.decisions": Decimal(20815), "t2.fees.amount": Decimal("2460.9543"),
    "t3.new.natural": Decimal(210), "t3.new.total": Decimal(223), "t3.withheld_secret.natural": Decimal(0),
    "t3.withheld_internal.natural": Decimal(1), "t3.withheld_third_party.total": Decimal(0),
    "t3.not_handled_petition.other": Decimal(4), "t3.other_other.other": Decimal(1),
    "t3.results_total.total": Decimal(223), "t4.review.upheld": Decimal(1),
}


def imported(text, **kw):
    data, findings = import_text(text, **kw)
    assert data is not None
    return data, findings


def test_clean_seed_baseline():
    data, findings = imported(seed_text("004"))
    assert {k: data.values[k] for k in SEED_004} == SEED_004


def test_traditional_characters_are_read_and_reported():
    text = seed_text("004").replace("行政规范性文件⇥".replace("⇥", "\t"), "行政規範性文件\t").replace(
        "一、本年新收政府信息公开申请数量", "一、本年新收政府資訊公開申請數量")
    data, findings = imported(text)
    assert data.values["t2.normative.made"] == 10 and data.values["t2.normative.in_force"] == 26
    assert data.values["t3.new.total"] == 223
    found = {f.row for f in by_code(findings, "import-label-variant")}
    assert "行政规范性文件" in found


def test_item_numbers_spaces_missing_numbers_and_typos():
    text = (seed_text("004")
            .replace("1.属于国家秘密", "1、属于国家秘密")
            .replace("(一) 予以公开", "予以公开")
            .replace("5.属于三类内部事务信息", "5. 属于 三类内部 事务信息")
            .replace("4.保护第三方合法权益", "4.保护第三方合法权利"))
    data, findings = imported(text)
    assert {k: data.values[k] for k in SEED_004} == SEED_004
    assert data.values["t3.disclosed.natural"] == 177
    variants = {f.row for f in by_code(findings, "import-label-variant")}
    assert {"（一）予以公开", "4.保护第三方合法权益"} <= variants
    assert "1.属于国家秘密" not in variants and "5.属于三类内部事务信息" not in variants  # typography only


def test_units_notes_and_blank_cells():
    text = (seed_text("004")
            .replace("行政事业性收费\t2460.9543", "行政事业性收费\t24609543元")
            .replace("行政规范性文件\t10\t", "行政规范性文件\t10（其中修订6件）\t")
            .replace("行政许可\t20815", "行政许可\t20815件")
            .replace("1\t0\t0\t0\t1\t0\t0", "1\t0\t\t0\t1\t0\t0"))
    data, findings = imported(text)
    assert data.values["t2.fees.amount"] == Decimal("2460.9543")
    (unit,) = by_code(findings, "import-unit-in-cell")
    assert unit.actual == "24609543元" and unit.sheet == "表二"
    assert data.values["t2.normative.made"] == 10 and data.raw["t2.normative.made"] == "10（其中修订6件）"
    (note,) = by_code(findings, "import-note-in-cell")
    assert "其中修订6件" in note.message
    assert data.values["t2.licensing.decisions"] == 20815 and by_code(findings, "value-with-unit")
    assert data.values["t4.review.other"] == 0
    assert [f.column for f in by_code(findings, "value-blank")] == ["其他结果"]


def test_2021_other_handling_as_one_row():
    lines = seed_text("004").split("\n")
    start = next(i for i, line in enumerate(lines) if "(六) 其他处理" in line)
    lines[start:start + 3] = ["\t(六) 其他处理\t\t0\t0\t0\t0\t0\t1\t1"]
    data, findings = imported("\n".join(lines))
    (collapsed,) = by_code(findings, "import-row-collapsed")
    assert collapsed.severity == "warning"
    assert [data.values[f"t3.other_other.{c}"] for c in ("other", "total")] == nums(1, 1)
    assert data.values["t3.other_no_correction.natural"] is None
    assert not by_code(findings, "import-row-missing")
    assert not [f for f in check_data(data) if f.severity == "error"]


def test_a_missing_row_is_reported_and_the_rest_read():
    text = "\n".join(line for line in seed_text("004").split("\n") if "2.重复申请" not in line)
    data, findings = imported(text)
    (missing,) = by_code(findings, "import-row-missing")
    assert missing.row == "2.重复申请" and missing.sheet == "表三" and missing.severity == "error"
    assert data.values["t3.not_handled_repeat.natural"] is None
    assert data.values["t3.not_handled_excessive.natural"] == 2


def _as_pipes(text: str) -> str:
    return "\n".join("| " + " | ".join(line.split("\t")) + " |" if "\t" in line else line
                     for line in text.split("\n"))


def _as_cell_per_line(text: str) -> str:
    out = []
    for line in text.split("\n"):
        if "\t" not in line:
            out.append(line)
            continue
        cells = line.split("\t")
        out.append("")
        for cell in cells:
            # long header cells broken over two lines, the second without a tab
            out.append("\t" + (cell[:4] + "\n" + cell[4:] if cell.startswith("本年") else cell))
        out.append("")
    return "\n".join(out)


def _as_pdf_text(text: str) -> str:
    return "\n".join(" ".join(c for c in line.split("\t") if c.strip()) if "\t" in line else line
                     for line in text.split("\n"))


@pytest.mark.parametrize("shape", [_as_pipes, _as_cell_per_line, _as_pdf_text])
def test_table_shapes_read_the_same(shape):
    data, findings = imported(shape(seed_text("004")))
    assert {k: data.values[k] for k in SEED_004} == SEED_004
    assert not [f for f in findings if f.severity == "error"]


def test_2019_change_words():
    text = seed_text("003").replace("行政处罚\t0\t0\t0", "行政处罚\t0\t减4\t0").replace(
        "行政强制\t0\t0\t0", "行政强制\t0\t增\t0")
    data, findings = imported(text)
    assert data.values["t2.penalty.change"] == -4
    (read,) = by_code(findings, "value-change-read")
    assert read.actual == "减4"
    (text_error,) = by_code(findings, "value-change-text")
    assert text_error.row == "行政强制" and data.values["t2.coercion.change"] is None


def test_section_heading_variant_and_claimed_format():
    text = seed_text("004").replace("五、存在的主要问题及改进情况", "五、存在的主要问题及整改措施").replace(
        "一、总体情况\n", "一、总体情况\n\n根据国办公开办函〔2019〕60号要求编制本报告。\n", 1)
    data, findings = imported(text)
    assert by_code(findings, "import-section-variant")
    assert data.narrative["problems.text"].startswith("虽然我县2021年")
    (claimed,) = by_code(findings, "import-format-claimed")
    assert claimed.expected == "2019" and claimed.actual == "2021" and data.format == "2021"


def test_old_format_for_a_new_year():
    text = seed_text("003").replace("2020年政府信息公开工作年度报告", "2022年政府信息公开工作年度报告")
    data, findings = imported(text)
    assert data.format == "2019" and data.year == 2022
    (f,) = by_code(findings, "import-format-year")
    assert f.severity == "error" and f.expected == "2021"


def test_no_table_labels_format_from_year_and_unit_from_caller(tmp_path):
    text = ("政府信息公开工作年度报告\n\n一、总体情况\n\n本机关认真贯彻条例。本报告数据统计期限为2020年1月1日至2020年12月31日。\n\n"
            "四、政府信息公开行政复议、行政诉讼情况\n\n0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\n\n"
            "六、其他需要报告的事项\n\n无。\n")
    path = tmp_path / "report.txt"
    path.write_text(text, encoding="utf-8")
    result = import_report(path, expect_unit="某某镇人民政府")
    data = result.data
    assert (data.format, data.year, data.unit) == ("2019", 2020, "某某镇人民政府")  # 2020 -> 2019 format
    found = [f.code for f in result.findings]
    assert "import-format-unknown" in found and "import-unit-missing" not in found
    assert {f.message for f in result.findings if f.code == "import-table-missing"} >= {
        "报告中没有找到表二（二、主动公开政府信息情况）的数据，该表各项无法读取。"}
    assert data.values["t4.review.total"] == 0 and data.values["t2.rules.made"] is None
    assert "import-section-missing" in found and data.narrative["other.text"] == "无。"
