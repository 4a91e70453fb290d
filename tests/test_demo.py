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
    assert [s.name for s in result.steps] == [s.name for s in STEPS] == ["blank", "check", "render", "round"]
    assert result.ok, [(s.name, s.summary) for s in result.steps if not s.ok]
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
