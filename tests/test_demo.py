"""`nianbao demo` runs the county's whole job on the built-in samples."""

import subprocess
import sys
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.demo import STEPS, run_demo, samples_dir

EXPECTED = {  # sample returned workbook -> finding codes its planted mistakes must produce
    "蓼堤镇人民政府": set(),
    "县发展和改革委员会": set(),
    "城关镇人民政府": {"rule-not-equal", "total-typed-over-wrong"},
    "西陵寺镇人民政府": {"value-change-text", "value-with-unit", "value-full-width", "value-not-applicable",
                   "value-blank"},
    "北湖街道办事处": {"unit-should-be-zero"},
    "县教育体育局": {"format-year-mismatch"},
}


def test_demo_runs_every_step(tmp_path):
    result = run_demo(tmp_path / "demo")
    assert [s.name for s in result.steps] == [s.name for s in STEPS] == ["blank", "check", "render", "audit", "round",
                                                                     "compare", "county"]
    assert result.ok, [(s.name, s.summary) for s in result.steps if not s.ok]
    compared = next(s for s in result.steps if s.name == "compare")
    assert {p.suffix for p in compared.paths} == {".html", ".xlsx"} and all(p.is_file() for p in compared.paths)
    assert "城关镇人民政府" in compared.summary  # the unit the round checks again next year
    county = next(s for s in result.steps if s.name == "county")
    assert {p.suffix for p in county.paths} == {".html", ".xlsx"} and "跨年度错误2个" in county.summary
    blanks = list((tmp_path / "demo" / "blank").glob("*.xlsx"))
    assert len(blanks) == 12

    check = next(s for s in result.steps if s.name == "check")
    summary = next(p for p in check.paths if p.suffix == ".xlsx")
    assert summary.is_file()
    annotated = {p.name for p in (tmp_path / "demo" / "annotated").iterdir()}
    assert any("城关镇人民政府" in name for name in annotated)

    reports = {p.name for p in (tmp_path / "demo" / "reports").iterdir()}
    for unit in ("蓼堤镇人民政府", "县发展和改革委员会", "北湖街道办事处"):
        assert f"{unit}2025年政府信息公开工作年度报告.html" in reports
        assert f"{unit}2025年政府信息公开工作年度报告.docx" in reports
    assert not any("城关镇" in name for name in reports)  # a report with errors is not rendered


def test_sample_returns_show_their_planted_mistakes():
    from toolkit.batch import check_paths

    report = check_paths([samples_dir() / "returned"], roster=samples_dir() / "roster.csv", year=2025)
    by_unit = {next(u for u in EXPECTED if u in Path(f.path).name): f for f in report.files}
    assert set(by_unit) == set(EXPECTED)
    for unit, codes in EXPECTED.items():
        found = {f.code for f in by_unit[unit].findings}
        assert codes <= found, (unit, found)
        if not codes:
            assert by_unit[unit].valid and by_unit[unit].errors == 0, (unit, found)
    cell = {(f.code, f.sheet, f.cell) for f in by_unit["西陵寺镇人民政府"].findings}
    assert ("value-change-text", "表四", "A6") in cell


def test_demo_command_says_where_it_wrote(tmp_path):
    out = tmp_path / "演示"
    result = CliRunner().invoke(app, ["demo", str(out)])
    assert result.exit_code == 0, result.output
    assert str(out.resolve()) in result.output
    wb = openpyxl.load_workbook(next((out / "blank").glob("蓼堤镇*.xlsx")))
    assert "表三" in wb.sheetnames


def test_python_dash_m_toolkit_works():
    out = subprocess.run([sys.executable, "-m", "toolkit", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "demo" in out.stdout


def test_demo_folder_holds_the_roster_and_returned_samples_to_retry_with(tmp_path):
    out = tmp_path / "demo"
    result = run_demo(out)
    roster = out / "roster.csv"
    assert roster.read_bytes() == (samples_dir() / "roster.csv").read_bytes()
    returned = sorted(p.name for p in (out / "returned").iterdir())
    assert returned == sorted(p.name for p in (samples_dir() / "returned").iterdir() if p.is_file())
    blank = next(s for s in result.steps if s.name == "blank")
    assert str(roster) in blank.summary and f"nianbao blank --roster {roster}" in blank.summary
    check = next(s for s in result.steps if s.name == "check")
    assert f"nianbao check {out / 'returned'}" in check.summary
    # the copy works for a retry: the same units get their blanks again
    retry = CliRunner().invoke(app, ["blank", "--roster", str(roster), "--year", "2025", "--out-dir", str(tmp_path / "again")])
    assert retry.exit_code == 0, retry.output
    assert len(list((tmp_path / "again").glob("*.xlsx"))) == 12


def test_sample_texts_do_not_double_a_word():
    """The made-up narrative names each part's topic once: 信息处理费收取情况, not …情况情况."""
    from toolkit.batch import check_file
    from toolkit.formats import load_format
    from toolkit.demo.synthetic import synthetic_report

    for format_id in ("2019", "2021"):
        data = synthetic_report(load_format(format_id), "城关镇人民政府", 2025, seed=1)
        assert not [t for t in data.narrative.values() if "情况情况" in t], format_id
        assert all(t.endswith("（示例文字）。") or "申请" in t for t in data.narrative.values())
    for sample in (samples_dir() / "returned").iterdir():
        data = check_file(sample).data
        assert data is not None and not [t for t in data.narrative.values() if "情况情况" in (t or "")], sample.name
