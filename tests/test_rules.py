"""The rule engine on ReportData: every declared rule, recomputed totals, identity checks."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from check_helpers import TOWNSHIP, clean_report, prior_report, with_totals
from shared_data import report_path, seed_text
from toolkit.checks.engine import CheckContext, ValidationError, check_data, iter_findings, validate
from toolkit.checks.figures import same_value
from toolkit.formats import FormatError, load_format, load_format_file
from toolkit.identity import unit_in_file_name
from toolkit.model import CellSource, ReportData

D = Decimal


def keys(findings):
    return {(f.rule, f.code, f.sheet, f.cell) for f in findings}


# ---------------------------------------------------------------- one test per declared rule


def _set(data, **cells):
    data.values.update({k.replace("__", "."): D(v) for k, v in cells.items()})
    return data


def _inputs(fmt, data):
    return {c.id: data.values[c.id] for c in fmt.input_cells}


def break_balance(fmt):
    data = clean_report(fmt)
    inputs = _inputs(fmt, data)
    inputs["t3.carried_over.natural"] += 1
    data.values = with_totals(fmt, inputs)
    return data, None


def break_file_total(cell_id):
    def make(fmt):
        data = clean_report(fmt)
        data.values[cell_id] += 1
        return data, None
    return make


def break_in_force_carry(fmt):
    data = clean_report(fmt)
    prior = prior_report(fmt, data)
    prior.values["t2.rules.in_force"] += 1
    return data, prior


def break_carry_prior(fmt):
    data = clean_report(fmt)
    prior = prior_report(fmt, data)
    inputs = _inputs(fmt, prior)
    inputs["t3.carried_over.natural"] += 2
    prior.values = with_totals(fmt, inputs)
    return data, prior


def break_in_force_plausible(fmt):
    return _set(clean_report(fmt), t2__normative__made=5, t2__normative__repealed=0, t2__normative__in_force=2), None


def break_public_total_plausible(fmt):
    return _set(clean_report(fmt), t2__normative__published=5, t2__normative__public_total=2), None


def break_township_rules(fmt):
    if fmt.id == "2021":
        return _set(clean_report(fmt), t2__rules__repealed=1), None
    return _set(clean_report(fmt), t2__rules__made=1), None


def break_zero_narrative(fmt):
    data = clean_report(fmt, t3_zero=True)
    data.narrative["overview.on_request"] = "本年度，我镇共收到政府信息公开申请3件，均按时答复。"
    return data, None


def break_narrative_count(fmt):
    data = clean_report(fmt)
    stated = data.values["t3.new.total"] + 5
    data.narrative = {"overview.on_request": "依申请公开工作规范有序。", "overview.oversight":
                      f"本年度，我镇共受理政府信息公开申请{stated}件，均在法定期限内答复。"}
    return data, None


# rule id -> (break it, {format id: expected {(code, sheet, A1)}})
CASES = {
    "t3-balance": (break_balance, {f: {("rule-not-equal", "表三", "D6"), ("rule-not-equal", "表三", "J6")}
                                   for f in ("2021", "2019")}),
    "t3-results-total": (break_file_total("t3.results_total.natural"),
                         {"2021": {("total-mismatch", "表三", "D29")}, "2019": {("total-mismatch", "表三", "D27")}}),
    "t3-total-column": (break_file_total("t3.new.total"), {f: {("total-mismatch", "表三", "J6")} for f in ("2021", "2019")}),
    "t4-review-total": (break_file_total("t4.review.total"), {f: {("total-mismatch", "表四", "E6")} for f in ("2021", "2019")}),
    "t4-suit-direct-total": (break_file_total("t4.suit_direct.total"),
                             {f: {("total-mismatch", "表四", "J6")} for f in ("2021", "2019")}),
    "t4-suit-after-review-total": (break_file_total("t4.suit_after_review.total"),
                                   {f: {("total-mismatch", "表四", "O6")} for f in ("2021", "2019")}),
    "t2-in-force-carry": (break_in_force_carry, {"2021": {("prior-year-mismatch", "表二", "D5")}}),
    "t3-carry-prior": (break_carry_prior, {f: {("prior-year-mismatch", "表三", "D7"), ("prior-year-mismatch", "表三", "J7")}
                                           for f in ("2021", "2019")}),
    "t2-in-force-plausible": (break_in_force_plausible, {"2021": {("implausible-value", "表二", "D6")}}),
    "t2-public-total-plausible": (break_public_total_plausible, {"2019": {("implausible-value", "表二", "D6")}}),
    "t2-township-rules": (break_township_rules, {"2021": {("unit-should-be-zero", "表二", "C5")},
                                                 "2019": {("unit-should-be-zero", "表二", "B5")}}),
    "t3-narrative-count": (break_narrative_count,
                           {f: {("narrative-number-differs", "表三", "J6")} for f in ("2021", "2019")}),
    "t3-zero-narrative": (break_zero_narrative, {f: {("narrative-contradicts-zero", "表三", "J6")} for f in ("2021", "2019")}),
}
RULE_CASES = [(rule_id, fid) for rule_id, (_, by_format) in CASES.items() for fid in by_format]


def test_every_declared_rule_has_a_breaking_case():
    declared = {(r.id, f.id) for f in (load_format("2021"), load_format("2019")) for r in f.rules}
    assert declared == set(RULE_CASES)


@pytest.mark.parametrize("rule_id,format_id", RULE_CASES)
def test_breaking_a_rule_gives_exactly_its_findings(rule_id, format_id):
    fmt = load_format(format_id)
    make, expected = CASES[rule_id]
    data, prior = make(fmt)
    findings = check_data(data, prior=prior)
    assert keys(findings) == {(rule_id, code, sheet, cell) for code, sheet, cell in expected[format_id]}
    rule = next(r for r in fmt.rules if r.id == rule_id)
    for f in findings:
        assert f.severity == rule.severity
        assert "{" not in f.message and "}" not in f.message
        if "{cell}" in rule.message:
            assert f.message.endswith(f"（{f.cell}）")


@pytest.mark.parametrize("seed", range(5))
def test_clean_report_has_no_finding(fmt, seed):
    data = clean_report(fmt, seed)
    assert check_data(data) == []
    assert check_data(data, prior=prior_report(fmt, data, seed + 100)) == []
    assert check_data(clean_report(fmt, seed, t3_zero=True)) == []


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), format_id=st.sampled_from(["2021", "2019"]))
def test_clean_reports_survive_a_json_round_trip(seed, format_id):
    fmt = load_format(format_id)
    data = clean_report(fmt, seed)
    again = ReportData.from_dict(data.to_dict())
    assert check_data(again, prior=prior_report(fmt, data, seed + 1)) == []


def _depends_on(fmt, total, cell_id):
    inst = fmt.total_rule(total)
    return any(t.cell == cell_id or (fmt.total_rule(t.cell) and _depends_on(fmt, t.cell, cell_id)) for t in inst.right)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), format_id=st.sampled_from(["2021", "2019"]))
def test_a_changed_input_flags_exactly_the_stale_totals(data, format_id):
    fmt = load_format(format_id)
    report = clean_report(fmt, data.draw(st.integers(0, 1000)))
    counted = [c.id for c in fmt.input_cells if any(_depends_on(fmt, t.id, c.id) for t in fmt.total_cells)]
    cell_id = data.draw(st.sampled_from(counted))
    report.values[cell_id] += data.draw(st.integers(1, 50))
    mismatched = {f.cell for f in check_data(report) if f.code == "total-mismatch"}
    from toolkit.layout import cell_addresses
    addr = cell_addresses(fmt)
    stale = {addr[t.id].a1 for t in fmt.total_cells if _depends_on(fmt, t.id, cell_id)}
    assert mismatched == stale


# ---------------------------------------------------------------- messages and labels


def test_balance_message_reads_like_a_colleagues_note():
    fmt = load_format("2021")
    values = {c.id: D(0) for c in fmt.input_cells}
    values.update({"t3.new.natural": D(5), "t3.disclosed.natural": D(4)})
    data = ReportData(format="2021", unit="某县财政局", year=2024, values=with_totals(fmt, values))
    finding, total_column = check_data(data)
    assert total_column.cell == "J6" and total_column.message.startswith("表三 总计列：第一项(5)")
    assert finding.message == ("表三 自然人列：第一项(5)加第二项(0)之和为5，第三项（七）总计(4)加第四项(0)"
                               "之和为4，不相等（D6）")
    assert (finding.row, finding.column, finding.expected, finding.actual) == (
        "一、本年新收政府信息公开申请数量", "自然人", D(4), D(5))


def test_labels_name_ambiguous_and_numbered_items_with_their_parent():
    fmt = load_format("2021")
    data = clean_report(fmt)
    data.values["t4.suit_direct.total"] += 1
    data.values["t3.withheld_secret.total"] += 1
    by_cell = {f.cell: f for f in check_data(data)}
    assert by_cell["J6"].column == "未经复议直接起诉 总计" and by_cell["J6"].row is None
    assert by_cell["J10"].row == "（三）不予公开 1.属于国家秘密" and by_cell["J10"].column == "总计"


def test_in_force_message_shows_repealed_without_its_sign():
    fmt = load_format("2021")
    data = _set(clean_report(fmt), t2__normative__made=5, t2__normative__repealed=2, t2__normative__in_force=1)
    (finding,) = check_data(data)
    assert finding.message == "表二 行政规范性文件：本年制发5件、废止2件，现行有效件数却只有1件，请核实（D6）"


def test_findings_point_at_where_the_reader_found_the_cell():
    fmt = load_format("2021")
    data = clean_report(fmt)
    data.values["t3.new.total"] += 1
    data.cells["t3.new.total"] = CellSource(sheet="Sheet3", cell="K8")
    (finding,) = check_data(data)
    assert (finding.sheet, finding.cell) == ("Sheet3", "K8") and finding.message.endswith("（K8）")
    data.cells["t3.new.total"] = CellSource(line=42)
    (finding,) = check_data(data)
    assert (finding.sheet, finding.cell) == (None, None) and finding.message.endswith("（第42行）")


# ---------------------------------------------------------------- never trust a total


def _formulas(fmt, *, missing=()):
    return {c.id: "SUM(...)" for c in fmt.total_cells if c.id not in missing}


def test_total_typed_over_with_the_right_number_is_one_warning(fmt):
    data = clean_report(fmt)
    data.formulas = _formulas(fmt, missing={"t3.results_total.total"})
    (finding,) = check_data(data)
    assert (finding.code, finding.severity, finding.cell) == ("total-typed-over", "warning", fmt.id == "2021" and "J29" or "J27")
    assert finding.actual == data.values["t3.results_total.total"]


def test_total_typed_over_with_a_wrong_number_is_an_error(fmt):
    data = clean_report(fmt)
    data.formulas = _formulas(fmt, missing={"t4.review.total"})
    data.values["t4.review.total"] += 3
    (finding,) = check_data(data)
    assert (finding.code, finding.severity, finding.cell, finding.rule) == (
        "total-typed-over-wrong", "error", "E6", "t4-review-total")
    assert finding.expected + 3 == finding.actual
    assert "公式" in finding.message


def test_stale_cached_total_is_an_error_and_uncached_formula_is_fine(fmt):
    data = clean_report(fmt)
    data.formulas = _formulas(fmt)
    data.values["t4.review.total"] += 1
    assert keys(check_data(data)) == {("t4-review-total", "total-mismatch", "表四", "E6")}
    data.values["t4.review.total"] = None  # a formula the file never computed (written by openpyxl)
    assert check_data(data) == []


def _seed_002_values(fmt):
    """The numbers of seed 002's 表三 and 表四, as typed in the published report."""
    lines = [line.strip().replace("\xa0", "") for line in seed_text("002").splitlines()]
    t3_start = lines.index("三、收到和处理政府信息公开申请情况")
    t4_start = lines.index("四、政府信息公开行政复议、行政诉讼情况")
    t5_start = lines.index("五、存在的主要问题及改进情况")
    values, raw = {}, {}
    position = t3_start
    t3 = fmt.table("t3")
    for row in t3.leaf_rows:
        position = lines.index(row.label, position + 1)
        for col, text in zip(t3.leaf_columns, lines[position + 1:position + 8]):
            cell_id = f"t3.{row.id}.{col.id}"
            raw[cell_id] = text
            values[cell_id] = D(text) if text else None
    numbers = [x for x in lines[t4_start:t5_start] if re.fullmatch(r"\d+", x)]
    t4 = fmt.table("t4")
    assert len(numbers) == len(t4.cells)
    for cell, text in zip(t4.cells, numbers):
        values[cell.id] = D(text)
    return values, raw


def test_total_whose_formula_was_deleted_is_one_warning(fmt):
    data = clean_report(fmt)
    data.formulas = _formulas(fmt, missing={"t3.results_total.total"})
    expected = data.values["t3.results_total.total"]
    data.values["t3.results_total.total"] = None
    (finding,) = check_data(data)
    assert (finding.code, finding.severity, finding.sheet, finding.expected) == (
        "total-formula-deleted", "warning", "表三", expected)
    assert finding.cell == ("J29" if fmt.id == "2021" else "J27") and finding.actual is None
    data.formulas = None  # a reader that cannot see formulas: nothing to say about an empty total
    assert check_data(data) == []


def test_seed_002_results_total_typed_as_zero():
    """宁河区造甲城镇 2020 (2019 format): （七）总计's 总计 cell is 0 while the row adds to 1."""
    fmt = load_format("2019")
    values, raw = _seed_002_values(fmt)
    assert values["t3.results_total.natural"] == 1 and values["t3.results_total.total"] == 0
    assert values["t3.carried_in.business"] is None and values["t4.suit_direct.total"] == 1
    values.update({c.id: D(0) for c in fmt.table("t2").cells})
    data = ReportData(format="2019", unit="宁河区造甲城镇人民政府", year=2020, values=values, raw=raw)
    findings = check_data(data)
    column = [f for f in findings if f.rule == "t3-total-column"]
    assert [(f.code, f.severity, f.sheet, f.cell, f.expected, f.actual) for f in column] == [
        ("total-mismatch", "error", "表三", "J27", D(1), D(0))]
    assert column[0].message == "表三 （七）总计：总计应为自然人与法人或其他组织各列之和1，填报为0（J27）"
    assert {f.cell for f in findings} == {"J27"}  # the balance holds once the total is recomputed
    assert {f.rule for f in findings} == {"t3-total-column", "t3-results-total"}


# ---------------------------------------------------------------- plausibility


def test_township_rules_only_for_townships():
    fmt = load_format("2021")
    data = _set(clean_report(fmt, unit="某市司法局"), t2__rules__made=2, t2__rules__in_force=2)
    assert check_data(data) == []
    for unit in ("城关街道办事处", "蓼堤镇人民政府", "东乡 "):
        data.unit = unit
        assert {f.cell for f in check_data(data)} == {"B5", "D5"}


@pytest.mark.parametrize("text,flagged", [
    ("本年度共收到政府信息公开申请3件。", True),
    ("本年度共受理群众申请１２件，均已办结。", True),
    ("本年度收到政府信息公开申请0件。", False),
    ("本年度未收到政府信息公开申请。", False),
    ("", False),
])
def test_zero_table_against_narrative(fmt, text, flagged):
    data = clean_report(fmt, t3_zero=True)
    data.narrative = {"overview.on_request": text}
    findings = check_data(data)
    assert [f.code for f in findings] == (["narrative-contradicts-zero"] if flagged else [])
    if flagged:
        assert "（二）依申请公开" in findings[0].message and findings[0].actual in text


def test_narrative_count_against_the_table(fmt):
    data = clean_report(fmt)
    new = data.values["t3.new.total"]
    assert new > 0
    for text, stated in [(f"本年度共收到政府信息公开申请{new}件。", None),
                         (f"全年收到政府信息公开申请 {new} 件，上年结转政府信息公开申请 2 件。", None),
                         (f"本年度共受理政府信息公开申请{new + 1}件次。", new + 1),
                         ("本年度新收政府信息公开申请共１２件。", 12),
                         ("本年度收到行政复议申请2件。", None)]:
        data.narrative = {"overview.on_request": text}
        findings = check_data(data)
        if stated is None or stated == new:
            assert findings == [], text
        else:
            (finding,) = findings
            assert (finding.code, finding.expected, finding.actual) == ("narrative-number-differs", new, stated)
            assert finding.message.startswith("文字部分“（二）依申请公开”写有“")


def test_published_report_whose_text_and_table_disagree():
    """reports/002: the text says 受理政府信息公开申请 17 件, 表三 says 95."""
    path = report_path("002.txt")
    from toolkit.readers import read_report
    import toolkit.importers  # noqa: F401  (registers the text reader)

    data = read_report(path).data
    (finding,) = [f for f in check_data(data) if f.code == "narrative-number-differs"]
    assert (finding.expected, finding.actual, finding.rule) == (D(95), D(17), "t3-narrative-count")
    assert "受理政府信息公开申请 17 件" in finding.message


# ---------------------------------------------------------------- cross-year


def test_prior_rules_are_skipped_without_prior(fmt):
    data = clean_report(fmt)
    inputs = _inputs(fmt, data)
    inputs["t3.carried_in.natural"] += 1
    inputs["t3.new.natural"] -= 1
    data.values = with_totals(fmt, inputs)
    data.narrative = {}
    assert check_data(data) == []
    prior = prior_report(fmt, clean_report(fmt))
    assert {f.rule for f in check_data(data, prior=prior)} >= {"t3-carry-prior"}


def test_prior_in_the_old_format():
    old, new = load_format("2019"), load_format("2021")
    data = clean_report(new, year=2021)
    prior = ReportData(format="2019", unit=data.unit, year=2020,
                       values=with_totals(old, {c.id: D(0) for c in old.input_cells}))
    findings = check_data(data, prior=prior)
    carried = {f.cell for f in findings if f.rule == "t3-carry-prior"}
    columns = ["natural", "business", "research", "nonprofit", "legal", "other", "total"]
    assert carried == {f"{letter}7" for letter, col in zip("DEFGHIJ", columns)
                       if data.values[f"t3.carried_in.{col}"] != 0}
    assert "J7" in carried
    assert not any(f.rule == "t2-in-force-carry" for f in findings)  # 2019 has no 现行有效件数


def test_prior_of_the_wrong_year_or_unit_is_reported(fmt):
    data = clean_report(fmt)
    prior = prior_report(fmt, data)
    prior.year = data.year - 2
    prior.unit = "另一个镇人民政府"
    assert [f.code for f in check_data(data, prior=prior)] == ["prior-not-previous-year", "prior-unit-differs"]


# ---------------------------------------------------------------- identity


def test_unit_not_in_roster_suggests_the_file_names_unit(fmt):
    data = clean_report(fmt, unit="蓼堤镇")
    roster = ("蓼堤镇人民政府", "城关镇人民政府")
    assert check_data(data, context=CheckContext(file_name=f"蓼堤镇人民政府_{data.year}.xlsx", roster=roster)) == []
    data.unit = "廖堤镇"
    (finding,) = check_data(data, context=CheckContext(file_name=f"蓼堤镇人民政府_{data.year}.xlsx", roster=roster))
    assert finding.code == "unit-not-in-roster" and "蓼堤镇人民政府" in finding.message
    assert (finding.sheet, finding.cell) == ("基本信息", "B2")


def test_unit_differs_from_file_name(fmt):
    data = clean_report(fmt, unit="城关镇人民政府")
    roster = ("蓼堤镇人民政府", "城关镇人民政府")
    ctx = CheckContext(file_name=f"/in/蓼堤镇人民政府_{data.year}.xlsx", roster=roster)
    (finding,) = check_data(data, context=ctx)
    assert finding.code == "unit-differs-from-file-name" and finding.expected == "蓼堤镇人民政府"
    for name, flagged in [("蓼堤镇政府信息公开年报.xlsx", True), ("城关镇年报(1).xlsx", False),
                          ("年报.xlsx", False), ("关于报送年度报告的函.xlsx", False), ("城关镇人民政府.xlsx", False)]:
        codes = [f.code for f in check_data(data, context=CheckContext(file_name=name))]
        assert codes == (["unit-differs-from-file-name"] if flagged else []), name


def test_unit_in_file_name_without_roster():
    assert unit_in_file_name("蓼堤镇_2025年度政府信息公开工作年度报告（修改版）.xlsx") == "蓼堤镇"
    assert unit_in_file_name("2025年报 副本.xlsx") is None
    assert unit_in_file_name("大数据管理局2024年报.xlsx") is not None


def test_year_differs(fmt):
    data = clean_report(fmt, year=2022 if fmt.id == "2021" else 2020)
    (finding,) = check_data(data, context=CheckContext(year=data.year + 1))
    assert (finding.code, finding.expected, finding.actual, finding.cell) == (
        "year-differs", data.year + 1, data.year, "B3")
    names = {f"城关_{data.year}.xlsx": [], f"城关_{data.year - 1}年报.xlsx": ["year-differs-from-file-name"],
             "城关_20250115.xlsx": [], f"{data.year}-{data.year + 1}.xlsx": []}
    for name, codes in names.items():
        assert [f.code for f in check_data(data, context=CheckContext(file_name=name))] == codes, name


# ---------------------------------------------------------------- engine mechanics


def test_validate_raises_the_first_error_only(fmt):
    data = clean_report(fmt)
    validate(data)
    data.values["t2.rules.repealed"] = D(1)  # a warning
    validate(data)
    data.values["t4.review.total"] += 1
    data.values["t3.new.total"] += 1
    with pytest.raises(ValidationError) as info:
        validate(data)
    assert info.value.finding.code == "total-mismatch" and info.value.finding.rule == "t3-total-column"
    assert str(info.value) == info.value.finding.message


def test_findings_are_lazy(fmt):
    data = clean_report(fmt)
    data.values["t3.new.total"] += 1
    first = next(iter_findings(data))
    assert first.rule == "t3-total-column"


def _custom_format(tmp_path, extra_rule):
    data = yaml.safe_load((Path(load_format("2019").path)).read_text(encoding="utf-8"))
    data["rules"].append(extra_rule)
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_format_file(path)


def test_money_tolerates_float_noise_only(tmp_path):
    fmt = _custom_format(tmp_path, {
        "id": "t2-fees-procurement", "kind": "equal", "severity": "error",
        "left": ["t2.procurement.amount"], "right": ["t2.fees.change", "t2.procurement.items"],
        "wording": "测试", "message": "采购总金额{left}应为{right}（{cell}）"})
    data = clean_report(fmt)
    data.format = "2019"
    data.values.update({"t2.fees.change": D(2455), "t2.procurement.items": D("5.9543")})
    data.values["t2.procurement.amount"] = D("2460.9543000000001")
    assert check_data(data, fmt) == []
    data.values["t2.procurement.amount"] = D("2460.9544")
    (finding,) = check_data(data, fmt)
    assert finding.message == "采购总金额2460.9544应为2460.9543（C20）"
    assert same_value(D("2460.95430000001"), D("2460.9543"), 4) and not same_value(D("3.0000001"), D(3), 0)


def test_unknown_rule_kind_is_a_format_error(tmp_path):
    fmt = _custom_format(tmp_path, {"id": "x", "kind": "no_such_kind", "severity": "error",
                                    "wording": "x", "message": "x"})
    with pytest.raises(FormatError):
        check_data(clean_report(fmt), fmt)


def test_blank_and_unusable_values_count_as_zero(fmt):
    data = clean_report(fmt, t3_zero=True)
    for cell in fmt.table("t3").cells:
        if not cell.is_total:
            data.values[cell.id] = None
    data.values["t3.new.natural"] = "增"  # what a careless reader might leave; never a crash
    assert check_data(data) == []
