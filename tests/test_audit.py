"""nianbao audit: generated reports with planted defects, the real published reports, the archive
hash of a report changed after publication, and the outputs opened as a person would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from shared_data import shared_folder
from soffice import needs_soffice, soffice_convert
from toolkit.audit import audit_reports
from toolkit.audit.outputs import write_html, write_xlsx
from toolkit.demo.synthetic import synthetic_report
from toolkit.render.api import render_report

ROOT = Path(__file__).resolve().parents[1]
TOWN = "某某镇人民政府"


def _write(tmp_path: Path, data, to: str, name: str | None = None) -> Path:
    content = render_report(data, to)
    path = tmp_path / (name or f"{data.unit}{data.year}年报.{to}")
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    return path


def _codes(rep) -> list[str]:
    return [f.code for f in rep.findings]


@pytest.mark.parametrize("to", ["txt", "md", "html", "docx"])
def test_clean_generated_report_scores_full_marks(tmp_path, to):
    path = _write(tmp_path, synthetic_report("2021", TOWN, 2024, seed=3), to)
    result = audit_reports([path])
    rep = result.reports[0]
    assert rep.unit == TOWN and rep.year == 2024
    assert [r.spec.id for r in rep.results if not r.passed] == []
    assert rep.score == 100.0 and result.valid


def _planted(tmp_path: Path):
    data = synthetic_report("2021", TOWN, 2024, seed=5)
    data.values["t2.fees.amount"] = Decimal("1.5")
    data.values["t2.rules.made"] = Decimal(2)
    data.values["t2.rules.in_force"] = (data.values["t2.rules.in_force"] or 0) + 2
    data.narrative["overview.proactive"] = "主动公开工作稳步推进。" * 120
    text = render_report(data, "txt")
    text = text.replace(f"{TOWN}2024年度存在的主要问题及改进情况（示例文字）。", "")
    text = text.replace("本报告中所列数据的统计期限自2024年1月1日起至2024年12月31日止。", "")
    text = text.replace("信息处理费收取情况（示例文字）", "有关情况（示例文字）")
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("结果维持\t"))
    t4 = next(i for i in range(head, len(lines)) if lines[i][:1].isdigit())
    row = lines[t4].split("\t")
    row[4] = str(int(row[4]) + 7)  # 表四 行政复议 总计 that does not add up
    lines[t4] = "\t".join(row)
    lines.append("")
    lines.append("2025年3月2日")
    path = tmp_path / "planted.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, lines, t4 + 1


def test_planted_defects_each_found_at_its_place(tmp_path):
    path, lines, t4_line = _planted(tmp_path)
    rep = audit_reports([path]).reports[0]
    failed = {r.spec.id: r.findings for r in rep.results if not r.passed}
    assert set(failed) == {"problems", "fees-explained", "fees-section", "unit-type", "overview-length",
                           "period", "deadline", "totals"}
    problems = failed["problems"][0]
    assert problems.code == "audit-problems-empty" and problems.sheet == "五、存在的主要问题及改进情况"
    assert problems.row == f"第{lines.index('五、存在的主要问题及改进情况') + 1}行"
    late = failed["deadline"][0]
    assert late.code == "audit-late" and late.row == f"第{len(lines)}行" and late.actual == "2025-03-02"
    assert failed["overview-length"][0].row == f"第{lines.index('一、总体情况') + 1}行"
    assert failed["unit-type"][0].code == "unit-should-be-zero"
    assert any(f"第{t4_line}行" in f.message for f in failed["totals"])
    assert failed["fees-explained"][0].code == "audit-fees-unexplained"
    assert 0 < rep.score < 100 and rep.errors


def test_problems_copied_from_last_year_in_the_set(tmp_path):
    last = synthetic_report("2021", TOWN, 2023, seed=1)
    this = synthetic_report("2021", TOWN, 2024, seed=1, prior=last)
    text = "存在的问题：一是信息公开的及时性有待提高。二是政策解读形式还比较单一。下一步将加强培训。"
    last.narrative["problems.text"] = this.narrative["problems.text"] = text
    _write(tmp_path, last, "txt")
    path = _write(tmp_path, this, "docx")
    result = audit_reports([tmp_path])
    rep = next(r for r in result.reports if r.path == str(path))
    copied = [f for f in rep.findings if f.code == "audit-problems-copied"]
    assert len(copied) == 1 and "3/3" in copied[0].message
    assert not [f for f in rep.findings if f.code == "prior-year-mismatch"]  # carried-over figures follow on


def test_carried_over_figures_against_last_years_report(tmp_path):
    last = synthetic_report("2021", TOWN, 2023, seed=2)
    this = synthetic_report("2021", TOWN, 2024, seed=2, prior=last)
    last.values["t2.normative.in_force"] = (last.values["t2.normative.in_force"] or 0) + 5
    _write(tmp_path, last, "md")
    _write(tmp_path, this, "html")
    result = audit_reports([tmp_path])
    this_rep = next(r for r in result.reports if r.year == 2024)
    assert "prior-year-mismatch" in _codes(this_rep)
    assert "carried-over" in [r.spec.id for r in this_rep.results if not r.passed]


def test_changed_after_publication_found_next_time(tmp_path):
    path = _write(tmp_path, synthetic_report("2021", TOWN, 2024, seed=4), "txt")
    archive = tmp_path / "nianbao.db"
    assert audit_reports([path], archive=archive).valid
    assert audit_reports([path], archive=archive).valid
    path.write_text(path.read_text(encoding="utf-8").replace("均已按期答复", "均已答复"), encoding="utf-8")
    result = audit_reports([path], archive=archive)
    changed = [f for f in result.reports[0].findings if f.code == "audit-changed-after-publication"]
    assert len(changed) == 1 and not result.valid
    assert changed[0].expected != changed[0].actual


def test_shared_reports_carry_their_known_errors():
    folder = shared_folder("reports")
    result = audit_reports([folder])
    by_name = {Path(r.path).name: r for r in result.reports}
    t4 = [f for f in by_name["001.txt"].findings if f.code == "total-mismatch"]
    assert t4 and all(f.message.startswith("表四") for f in t4)  # 表四 总计 written as 0
    assert "narrative-number-differs" in _codes(by_name["002.txt"])  # text says another count than 表三
    assert "audit-section-missing" in _codes(by_name["004.txt"])  # no 五、存在的主要问题及改进情况
    assert by_name["README.md"].score == 0.0 and by_name["README.md"] not in result.ranking()
    ranked = result.ranking()
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    assert result.defect_counts()[0][1] >= result.defect_counts()[-1][1]


def test_shared_seeds_are_audited():
    result = audit_reports([shared_folder("seeds")])
    assert len(result.reports) == 5
    assert all(r.format for r in result.reports)
    assert any(not r.results[0].passed or r.findings for r in result.reports)


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "toolkit", "audit", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_cli_exit_codes_and_json(tmp_path):
    clean = _write(tmp_path, synthetic_report("2021", TOWN, 2024, seed=3), "txt")
    done = _cli(str(clean), "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["valid"] and payload["reports"][0]["score"] == 100.0
    (tmp_path / "p").mkdir()
    planted, *_ = _planted(tmp_path / "p")
    done = _cli(str(planted))
    assert done.returncode == 1 and "得分" in done.stdout and "常见问题" in done.stdout
    assert _cli(str(tmp_path / "nothing-here")).returncode == 2


def test_outputs_opened_as_a_person_would(tmp_path):
    path, *_ = _planted(tmp_path)
    clean = _write(tmp_path, synthetic_report("2021", TOWN, 2024, seed=3), "txt")
    result = audit_reports([path, clean])
    html = write_html(result, tmp_path / "audit.html")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page()
        page.goto(html.as_uri())
        text = page.inner_text("body")
        page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)
        browser.close()
    assert "排名" in text and "存在的主要问题及改进情况”没有内容" in text and "100 分" in text
    assert (tmp_path / "audit.png").stat().st_size > 10_000
    xlsx = write_xlsx(result, tmp_path / "audit.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["评分表", "排名", "常见问题"]
    assert wb["排名"]["D2"].value == 100.0


@needs_soffice
def test_xlsx_through_libreoffice(tmp_path):
    path, *_ = _planted(tmp_path)
    xlsx = write_xlsx(audit_reports([path]), tmp_path / "audit.xlsx")
    pdf = soffice_convert([xlsx], tmp_path / "pdf", to="pdf", recalc=False)
    assert pdf and pdf[0].stat().st_size > 5_000


def _county_set():
    towns = [synthetic_report("2021", name, 2024, seed=7) for name in ("甲镇人民政府", "乙街道办事处")]
    dept = synthetic_report("2021", "县教育局", 2024, seed=7)
    county = synthetic_report("2021", "某县人民政府", 2024, seed=7)
    members = [*towns, dept]
    for cell_id, value in list(county.values.items()):
        if cell_id.startswith(("t3.", "t4.")) and value is not None:
            county.values[cell_id] = sum((m.values[cell_id] or 0 for m in members), Decimal(0))
    county.narrative["overview.on_request"] = ""
    return county, members


def test_county_figures_against_its_units_in_the_set(tmp_path):
    county, members = _county_set()
    county_path = _write(tmp_path, county, "txt")
    for m in members:
        _write(tmp_path, m, "md")
    rep = next(r for r in audit_reports([tmp_path]).reports if r.path == str(county_path))
    assert "audit-county-sum" not in _codes(rep)
    (tmp_path / "县教育局2024年报.md").unlink()
    rep = next(r for r in audit_reports([tmp_path]).reports if r.path == str(county_path))
    off = [f for f in rep.findings if f.code == "audit-county-sum"]
    dept = members[2]
    differing = [c for c in ("t3.new.total", "t3.results_total.total", "t4.review.total", "t4.suit_direct.total",
                             "t4.suit_after_review.total") if dept.values[c]]
    assert len(off) == len(differing) > 0
    for f in off:
        assert f.actual - f.expected in {dept.values[c] for c in differing}
        assert f.row and f.row.startswith("第")


def test_county_figures_against_the_archive(tmp_path):
    from toolkit.archive import open_archive

    county, members = _county_set()
    county_path = _write(tmp_path, county, "txt")
    archive = tmp_path / "nianbao.db"
    with open_archive(archive) as arc:
        for m in members[:2]:  # 县教育局 has not returned its workbook
            arc.record_data(m, source="check")
    rep = audit_reports([county_path], archive=archive).reports[0]
    off = [f for f in rep.findings if f.code == "audit-county-sum"]
    assert off and all("报回的填报表" in f.message for f in off)


def test_archive_of_schema_2_migrates_to_published_files(tmp_path):
    import sqlite3

    from toolkit.archive import open_archive
    from toolkit.archive.schema import APPLICATION_ID, MIGRATIONS, split_sql

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    for version in (1, 2):
        for statement in split_sql(MIGRATIONS[version]):
            db.execute(statement)
    db.execute("INSERT INTO units (name, key, created_at) VALUES ('甲镇人民政府', '甲镇', '2026-01-01')")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    report = _write(tmp_path, synthetic_report("2021", TOWN, 2024, seed=4), "txt")
    assert audit_reports([report], archive=path).valid
    with open_archive(path) as arc:
        assert arc.schema_version == 3 and "甲镇人民政府" in arc.units()
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM published_files").fetchone()[0] == 1
    db.close()
