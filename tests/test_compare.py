"""nianbao compare: this year's report beside last year's (issue 16)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from toolkit.archive import Archive
from toolkit.compare import archive_sides, compare_reports, cross_year_rule_ids, load_flags, load_side, write_comparison
from toolkit.demo.synthetic import synthetic_report
from toolkit.formats import load_format
from toolkit.layout import cell_addresses
from toolkit.narrative import carried_over, normalise_sentence, split_sentences
from toolkit.workbook.writer import write_workbook

ROOT = Path(__file__).resolve().parents[1]
FMT = load_format("2021")
UNIT = "某某县财政局"
PROBLEMS = "一是政策解读形式还比较单一，图解、视频解读数量偏少。二是依申请公开答复的规范化水平有待提高。"


@pytest.fixture
def years():
    last = synthetic_report("2021", UNIT, 2024, seed=3)
    this = synthetic_report("2021", UNIT, 2025, seed=3, prior=last)
    return last, this


def test_split_and_normalise():
    assert split_sentences("第一句。第二句！\n第三句；") == ["第一句。", "第二句！", "第三句；"]
    assert normalise_sentence("收到申请 １２ 件，已办结。") == normalise_sentence("收到申请12件,已办结")


def test_consistent_years_carry_no_sentence(years):
    assert carried_over(*years) == []


def test_copied_problems_found_with_part_and_label(years):
    last, this = years
    last.narrative["problems.text"] = PROBLEMS
    this.narrative["problems.text"] = "一是政策解读形式还比较单一， 图解、视频解读数量偏少。二是新问题，今年刚刚发现并且正在整改。"
    found = carried_over(last, this)
    assert [(c.part_id, c.label, c.last_part_id) for c in found] == [
        ("problems.text", "存在的主要问题及改进情况", "problems.text")]
    assert found[0].sentence.startswith("一是政策解读形式")


def test_short_sentences_are_not_flagged(years):
    last, this = years
    last.narrative["other.text"] = this.narrative["other.text"] = "无。"
    assert carried_over(last, this) == []
    last.narrative["other.fees"] = this.narrative["other.fees"] = "本年度未收取信息处理费用。"
    assert carried_over(last, this, min_chars=30) == []
    assert [c.part_id for c in carried_over(last, this, min_chars=5)] == ["other.fees"]


def test_sentence_moved_to_another_part_is_found(years):
    last, this = years
    last.narrative["overview.management"] = PROBLEMS
    this.narrative["problems.text"] = PROBLEMS
    found = carried_over(last, this)
    assert {(c.part_id, c.last_part_id) for c in found} == {("problems.text", "overview.management")}
    assert len(found) == 2


# ---------------------------------------------------------------- compare_reports


def _a1(cell_id: str) -> tuple[str, str]:
    address = cell_addresses(FMT)[cell_id]
    return address.sheet, address.a1


def _cross_year(comparison):
    return [f for f in comparison.findings if f.code in ("prior-year-mismatch", "prior-not-previous-year",
                                                          "prior-unit-differs")]


def test_every_table_cell_side_by_side(years):
    last, this = years
    result = compare_reports(last, this)
    assert [c.cell_id for c in result.cells] == [c.id for t in FMT.tables for c in t.cells]
    for change in result.cells:
        assert (change.last, change.this) == (last.values.get(change.cell_id), this.values.get(change.cell_id))
        assert change.change == change.this - change.last
        if change.last:
            assert change.percent == ((change.this - change.last) * 100 / change.last).quantize(Decimal("0.1"))
        else:
            assert change.percent is None


def test_consistent_years_have_no_cross_year_finding(years):
    result = compare_reports(*years)
    assert _cross_year(result) == [] and result.errors == 0
    assert not [f for f in result.findings if f.code == "narrative-carried-over"]


def test_cross_year_rules_are_the_formats_prior_rules():
    ids = cross_year_rule_ids(FMT)
    assert {"t2-in-force-carry", "t3-carry-prior", "t3-narrative-count", "t3-zero-narrative"} <= ids
    assert "t3-balance" not in ids and "t3-results-total" not in ids


def test_planted_breaks_found_at_their_cells(years):
    last, this = years
    this.values["t3.carried_in.natural"] = last.values["t3.carried_over.natural"] + 4
    this.values["t2.normative.in_force"] += 2
    result = compare_reports(last, this)
    places = {(f.rule, f.sheet, f.cell, f.severity) for f in _cross_year(result)}
    assert ("t3-carry-prior", *_a1("t3.carried_in.natural"), "error") in places
    assert ("t2-in-force-carry", *_a1("t2.normative.in_force"), "warning") in places
    assert result.errors >= 1
    # a broken 本年 balance is the check's business, not compare's
    assert not [f for f in result.findings if f.rule == "t3-balance"]


def test_narrative_number_contradicting_this_years_table(years):
    last, this = years
    stated = this.values["t3.new.total"] + 7
    this.narrative["overview.on_request"] = f"全年共收到政府信息公开申请{stated}件，均已按期答复。"
    result = compare_reports(last, this)
    found = [f for f in result.findings if f.code == "narrative-number-differs"]
    assert len(found) == 1 and found[0].actual == stated


def test_copied_problems_is_a_warning_at_its_part(years):
    last, this = years
    last.narrative["problems.text"] = this.narrative["problems.text"] = PROBLEMS
    result = compare_reports(last, this)
    found = [f for f in result.findings if f.code == "narrative-carried-over"]
    assert len(found) == 1
    assert found[0].severity == "warning" and found[0].actual == 2
    assert "存在的主要问题及改进情况" in found[0].message and (found[0].sheet, found[0].cell) == ("文字部分", "B7")
    assert len(result.carried) == 2


def test_flags_follow_the_template(years):
    last, this = years
    flags = {f.id: f for f in load_flags()}
    doubled, zero = flags["doubled"], flags["dropped_to_zero"]
    last.values["t2.rules.made"], this.values["t2.rules.made"] = doubled.when["last_at_least"], \
        doubled.when["last_at_least"] * doubled.when["ratio_at_least"]
    last.values["t2.rules.repealed"], this.values["t2.rules.repealed"] = zero.when["last_at_least"], Decimal(0)
    below = zero.when["last_at_least"] - 1
    last.values["t2.licensing.decisions"], this.values["t2.licensing.decisions"] = below, Decimal(0)
    result = compare_reports(last, this)
    assert result.cell("t2.rules.made").flag.id == "doubled"
    assert result.cell("t2.rules.repealed").flag.id == "dropped_to_zero"
    assert result.cell("t2.licensing.decisions").flag is None
    flagged = {f.cell for f in result.findings if f.code == "change-flagged"}
    assert _a1("t2.rules.made")[1] in flagged and _a1("t2.licensing.decisions")[1] not in flagged
    strict = compare_reports(last, this, flags=load_flags([{"id": "any", "label": "变化", "when": {"last_at_least": 0}}]))
    assert all(c.flag is not None for c in strict.cells if c.last is not None and c.this is not None)


# ---------------------------------------------------------------- inputs


def _planted(years):
    """Last year's 结转 and this year's 上年结转 disagree by 4 (the totals kept sums), and
    存在的主要问题 is copied."""
    last, this = years
    this.values["t3.carried_in.natural"] = last.values["t3.carried_over.natural"] + 4
    this.values["t3.carried_in.total"] += 4
    last.narrative["problems.text"] = this.narrative["problems.text"] = PROBLEMS
    return last, this


def _codes(result):
    return sorted((f.code, f.rule, f.cell) for f in result.findings)


def test_data_json_and_workbook_inputs_give_the_same_comparison(years, tmp_path):
    last, this = _planted(years)
    expected = compare_reports(last, this)
    for side, data in (("last", last), ("this", this)):
        (tmp_path / f"{side}.json").write_text(json.dumps(data.to_dict(), ensure_ascii=False), encoding="utf-8")
        write_workbook(tmp_path / f"{side}.xlsx", FMT, unit=data.unit, year=data.year, data=data)
    from_json = compare_reports(load_side(tmp_path / "last.json"), load_side(tmp_path / "this.json"))
    from_xlsx = compare_reports(load_side(tmp_path / "last.xlsx"), load_side(tmp_path / "this.xlsx"))
    assert _codes(from_json) == _codes(expected) == _codes(from_xlsx)
    assert [c.to_dict()["this"] for c in from_xlsx.cells] == [c.to_dict()["this"] for c in expected.cells]


def test_archive_input(years, tmp_path):
    last, this = _planted(years)
    db = tmp_path / "nianbao.db"
    with Archive(db) as archive:
        assert archive.record_data(last).recorded and archive.record_data(this).recorded
    got_last, got_this = archive_sides(db, "某某县 财政局", (2025, 2024))
    assert (got_last.year, got_this.year) == (2024, 2025)
    assert _codes(compare_reports(got_last, got_this)) == _codes(compare_reports(last, this))


# ---------------------------------------------------------------- command line and outputs


def _nianbao(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "toolkit", "compare", *args], capture_output=True, text=True,
                          env=env, timeout=180)


def test_cli_exit_codes_and_json(years, tmp_path):
    last, this = years
    paths = {}
    for side, data in (("last", last), ("this", this)):
        paths[side] = tmp_path / f"{side}.json"
        paths[side].write_text(json.dumps(data.to_dict(), ensure_ascii=False), encoding="utf-8")
    clean = _nianbao(str(paths["last"]), str(paths["this"]), "--json")
    assert clean.returncode == 0, clean.stderr
    payload = json.loads(clean.stdout)
    assert payload["errors"] == 0 and len(payload["cells"]) == len(FMT.cells)
    broken = dict(this.to_dict())
    broken["values"] = {**broken["values"], "t3.carried_in.natural": str(last.values["t3.carried_over.natural"] + 4)}
    paths["this"].write_text(json.dumps(broken, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "对比.html"
    found = _nianbao(str(paths["last"]), str(paths["this"]), "-o", str(out))
    assert found.returncode == 1 and "上年结转" in found.stdout and out.is_file()
    assert _nianbao(str(paths["last"]), str(paths["this"]), "-o", str(tmp_path / "x.pdf")).returncode == 2
    assert _nianbao(str(paths["last"])).returncode == 2
    assert _nianbao("某某县财政局", "--archive", str(tmp_path / "none.db"), "--years", "2024", "2025").returncode == 2
    missing = _nianbao(str(paths["last"]), str(tmp_path / "nope.xlsx"))
    assert missing.returncode == 1 and "找不到文件" in missing.stderr


def test_cli_archive_form(years, tmp_path):
    last, this = years
    db = tmp_path / "nianbao.db"
    with Archive(db) as archive:
        archive.record_data(last)
        archive.record_data(this)
    ok = _nianbao(UNIT, "--archive", str(db), "--years", "2024", "2025", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["this_year"] == 2025
    no_year = _nianbao(UNIT, "--archive", str(db), "--years", "2023", "2025")
    assert no_year.returncode == 1 and "2023" in no_year.stderr
    assert _nianbao(UNIT, "--archive", str(db)).returncode == 2


def test_html_output_in_chromium(years, tmp_path):
    from browser import browser

    last, this = _planted(years)
    this.values["t2.normative.in_force"] += 2
    result = compare_reports(last, this)
    html = write_comparison(result, tmp_path / "对比.html").read_text(encoding="utf-8")
    shot = tmp_path / "compare.png"
    with browser() as b:
        page = b.new_page(viewport={"width": 1100, "height": 900})
        page.set_content(html)
        tables = page.locator("table.nb-table")
        assert tables.count() == len(FMT.tables)
        changed = page.locator("td.nb-changed, td.nb-flagged")
        assert changed.count() == sum(1 for c in result.cells if c.changed)
        marked = page.locator("td.nb-finding")
        assert marked.count() >= 2
        assert "上年" in marked.first.inner_text()
        assert page.locator("blockquote").count() == 2
        page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("NIANBAO_KEEP_SHOTS"):
        shot.replace(Path(os.environ["NIANBAO_KEEP_SHOTS"]) / "compare.png")


def test_xlsx_output(years, tmp_path):
    import openpyxl

    last, this = _planted(years)
    result = compare_reports(last, this)
    path = write_comparison(result, tmp_path / "对比.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["对比结果", *(t.sheet for t in FMT.tables)]
    t3 = book["表三"]
    assert [c.value for c in t3[1]] == ["项目", "上年", "本年", "增减", "增减%", "提示"]
    rows = {r[0].value: r for r in t3.iter_rows(min_row=2)}
    change = result.cell("t3.carried_in.natural")
    row = rows[change.label.removeprefix("表三 ")]
    assert (row[1].value, row[2].value) == (float(change.last), float(change.this))
    messages = [r[1].value for r in book["对比结果"].iter_rows(min_row=3)]
    assert any("上年结转" in (m or "") for m in messages)


@pytest.mark.parametrize("kind", ["txt", "docx"])
def test_published_report_inputs(years, tmp_path, kind):
    """Both years published (the project's own drafts, imported back) compare as their data does."""
    from toolkit.render.api import render_report

    last, this = _planted(years)
    for side, data in (("last", last), ("this", this)):
        content = render_report(data, kind)
        target = tmp_path / f"{UNIT}{data.year}年度政府信息公开工作年度报告.{kind}"
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    got_last, got_this = (load_side(tmp_path / f"{UNIT}{y}年度政府信息公开工作年度报告.{kind}") for y in (2024, 2025))
    result = compare_reports(got_last, got_this)
    expected = compare_reports(last, this)
    assert [(f.code, f.rule, f.row, f.column) for f in _cross_year(result)] == \
        [(f.code, f.rule, f.row, f.column) for f in _cross_year(expected)]
    assert any(f.rule == "t3-carry-prior" for f in result.findings)
    assert [c.part_id for c in result.carried] == ["problems.text", "problems.text"]


def test_docx_output_lists_the_changed_cells(years, tmp_path):
    import docx

    last, this = _planted(years)
    result = compare_reports(last, this)
    document = docx.Document(str(write_comparison(result, tmp_path / "对比.docx")))
    assert len(document.tables) == len(FMT.tables)
    listed = sum(len(t.rows) - 1 for t in document.tables)
    assert listed == sum(1 for c in result.cells if c.changed)
    text = "\n".join(p.text for p in document.paragraphs)
    assert "上年结转" in text and PROBLEMS.split("。")[0] in text
