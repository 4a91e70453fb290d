"""Import on every layout, label variant and published error, from reports the project makes itself
(tests/make_report_fixtures.py), so a clone without ../shared still tests every importer."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from make_report_fixtures import Expect, all_cases, source_data, write_all
from toolkit.checks.engine import check_data
from toolkit.formats import load_format
from toolkit.importers import import_report

HERE = Path(__file__).resolve().parent
CASE_NAMES = [case.file_name for case in all_cases()]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    return folder, write_all(folder)


@pytest.fixture(scope="module")
def imported(made):
    folder, cases = made
    cache = {}

    def get(name):
        if name not in cache:
            result = import_report(folder / name)
            cache[name] = (result, check_data(result.data) if result.data is not None else [])
        return cache[name]

    return get


def matches(finding, expect: Expect) -> bool:
    for name in ("code", "sheet", "row", "column", "rule", "severity"):
        wanted = getattr(expect, name)
        if wanted is not None and getattr(finding, name) != wanted:
            return False
    for name in ("expected", "actual"):
        wanted = getattr(expect, name)
        if wanted is not None:
            got = getattr(finding, name)
            if isinstance(wanted, Decimal):
                if got is None or Decimal(str(got)) != wanted:
                    return False
            elif got != wanted:
                return False
    return expect.message_contains is None or expect.message_contains in finding.message


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def describe(findings) -> str:
    return "\n".join(f"{f.code} {f.severity} {f.sheet} {f.row!r} {f.rule} {f.expected}/{f.actual}: {f.message}"
                     for f in findings)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_imported_values_are_the_values_the_report_was_made_from(made, imported, name):
    case = made[1][name]
    result, _ = imported(name)
    data = result.data
    assert data is not None, describe(result.findings)
    assert (data.format, data.unit, data.year) == (case.data.format, case.data.unit, case.data.year)
    fmt = load_format(data.format)
    wrong = {k: (data.values.get(k), case.expected[k]) for k in fmt.cells if data.values.get(k) != case.expected[k]}
    assert not wrong, f"cell: (imported, made from) {wrong}\n{describe(result.findings)}"
    for cell_id, raw in case.raw.items():
        assert data.raw[cell_id] == raw
    for part, text in case.narrative.items():  # the renderer may add a sentence (fees) to a part
        assert squash(text) in squash(data.narrative.get(part, "")), part


@pytest.mark.parametrize("name", CASE_NAMES)
def test_expected_findings_and_no_other_errors(made, imported, name):
    case = made[1][name]
    result, checked = imported(name)
    found = {"import": result.findings, "check": checked}
    for expect in case.findings:
        assert any(matches(f, expect) for f in found[expect.source]), (
            f"{expect} not among:\n{describe(found[expect.source])}")
    expected_errors = [e for e in case.findings if e.severity == "error"]
    unexpected = [f for f in [*result.findings, *checked] if f.severity == "error"
                  and not any(matches(f, e) for e in expected_errors)]
    assert not unexpected, describe(unexpected)


def test_every_error_case_differs_from_its_clean_rendering(made, imported):
    """The messy variants are not the clean text under another name: each one's findings are new."""
    for name, case in made[1].items():
        if not case.findings:
            continue
        clean = f"tab-rows-{case.data.format}.txt"
        clean_findings = [*imported(clean)[0].findings, *imported(clean)[1]]
        for expect in case.findings:
            assert not any(matches(f, expect) for f in clean_findings), (name, expect)


def test_the_script_writes_the_cases_and_a_manifest(tmp_path):
    proc = subprocess.run([sys.executable, str(HERE / "make_report_fixtures.py"), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest) == sorted(CASE_NAMES)
    assert all((tmp_path / "out" / name).is_file() for name in manifest)
    assert manifest["t4-total-wrong-2021.txt"]["values"]["t4.review.total"] == "0"
    assert {f["code"] for f in manifest["change-words-2019.txt"]["findings"]} == {"value-change-text", "value-change-read"}


def test_word_report_built_by_hand_with_merged_cells(tmp_path):
    """A Word report made the way counties make them (python-docx, merges like the official tables,
    a header broken over lines), from the fixtures' own numbers."""
    from test_import_html_docx import build_word_report

    data = source_data("2021")
    path = tmp_path / "手工Word年报.docx"
    build_word_report(path, data)
    result = import_report(path)
    assert result.source_kind == "docx" and result.data is not None
    assert {k: result.data.values[k] for k in data.values} == data.values
    assert result.data.narrative["problems.text"] == "一是人力、财力缺乏。"
    assert not [f for f in result.findings if f.severity == "error"], describe(result.findings)


def test_not_a_report_and_a_missing_file(tmp_path):
    notes = tmp_path / "说明.txt"
    notes.write_text("本文件夹存放各单位报送的年度报告。\n\n请按时报送。\n", encoding="utf-8")
    result = import_report(notes)
    assert result.data is None and [f.code for f in result.findings] == ["import-not-a-report"]
    missing = import_report(tmp_path / "没有这个报告.txt")
    assert missing.data is None and missing.findings[0].code == "import-unreadable"


@pytest.mark.parametrize("name", ["tab-rows-2021.txt", "cell-per-line-2019.txt", "merged-cells-2021.docx"])
def test_import_write_read_gives_the_same_data(made, imported, tmp_path, name):
    from toolkit.readers import read_report
    from toolkit.workbook.writer import write_workbook

    data = imported(name)[0].data
    out = tmp_path / "report.xlsx"
    write_workbook(out, load_format(data.format), unit=data.unit, year=data.year, data=data)
    back = read_report(out)
    assert {k: back.data.values[k] for k in data.values} == data.values
    assert back.data.narrative == data.narrative
    assert not [f for f in back.findings if f.severity == "error"]


def test_nianbao_import_and_check_on_the_fixtures(made, tmp_path):
    from typer.testing import CliRunner

    from toolkit.cli import app

    folder, cases = made
    runner = CliRunner()
    res = runner.invoke(app, ["import", str(folder), "--out-dir", str(tmp_path / "out"), "--to", "json"])
    assert res.exit_code == 1, res.output  # some fixtures carry errors
    written = list((tmp_path / "out").iterdir())
    assert len(written) == len(cases) and all(p.suffix == ".json" for p in written)
    res = runner.invoke(app, ["import", str(folder / "tab-rows-2021.txt"), "-o", str(tmp_path / "clean.json")])
    assert res.exit_code == 0, res.output
    payload = json.loads((tmp_path / "clean.json").read_text(encoding="utf-8"))
    assert payload["values"]["t3.new.total"] == str(cases["tab-rows-2021.txt"].expected["t3.new.total"])
    res = runner.invoke(app, ["check", "--json", str(folder / "change-words-2019.txt")])
    assert res.exit_code == 1
    (file,) = json.loads(res.stdout)["files"]
    assert ("value-change-text", "行政处罚") in {(f["code"], f["row"]) for f in file["findings"]}
