"""Checking returned files end to end: check_paths, the `nianbao check` command and its outputs."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from check_helpers import RETURN_YEAR, RETURNED_FINDINGS, clean_report, prior_report, returned_folder, write_returned
from soffice import needs_soffice, soffice_convert
from toolkit.batch import check_file, check_paths, expand_paths, load_prior
from toolkit.cli import app
from toolkit.formats import load_format
from toolkit.model import ReportData

REPO = Path(__file__).resolve().parents[1]
FILE_KEYS = ["path", "unit", "year", "format", "valid", "errors", "warnings", "findings"]
FINDING_KEYS = ["code", "severity", "message", "rule", "sheet", "cell", "row", "column", "expected", "actual"]


@pytest.fixture(scope="module")
def returned(tmp_path_factory):
    root = tmp_path_factory.mktemp("returned")
    return root, returned_folder(root)


def _keys(file_report):
    return {(f.code, f.sheet, f.cell) for f in file_report.findings}


def test_folder_is_checked_recursively_with_the_expected_findings(returned):
    root, files = returned
    report = check_paths([root])
    by_path = {Path(f.path): f for f in report.files}
    assert set(by_path) == set(files.values())
    for name, path in files.items():
        assert _keys(by_path[path]) == RETURNED_FINDINGS[name], name
    assert by_path[files["clean"]].valid and by_path[files["typed_right"]].valid
    assert not by_path[files["balance"]].valid and not by_path[files["bad"]].valid
    assert by_path[files["clean"]].data.unit == "蓼堤镇人民政府" and by_path[files["clean"]].data.year == RETURN_YEAR
    assert by_path[files["bad"]].data is None


def test_results_follow_the_input_order(returned):
    _, files = returned
    order = [files["typed"], files["bad"], files["clean"], files["balance"]]
    assert [Path(f.path) for f in check_paths(order).files] == order


def test_two_workers_give_the_same_report(returned):
    root, _ = returned
    one = check_paths([root])
    seen = []
    two = check_paths([root], workers=2, progress=lambda done, total, path: seen.append((done, total)))
    assert two.to_dict() == one.to_dict()
    assert seen == [(i, len(one.files)) for i in range(1, len(one.files) + 1)]


def test_folders_skip_lock_files_hidden_files_and_the_annotate_folder(tmp_path):
    fmt = load_format("2021")
    good = write_returned(tmp_path / "a.xlsx", fmt, clean_report(fmt, year=RETURN_YEAR))
    (tmp_path / "~$a.xlsx").write_bytes(b"lock")
    (tmp_path / ".a.xlsx.part").write_bytes(b"half")
    (tmp_path / "notes.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.xlsx").write_bytes(good.read_bytes())
    assert expand_paths([tmp_path], exclude=[tmp_path / "out"]) == [good]
    assert expand_paths([tmp_path, good]) == [good, tmp_path / "out" / "a.xlsx"]


def test_an_unexpected_error_in_one_file_does_not_stop_the_batch(returned, monkeypatch):
    _, files = returned
    import toolkit.readers as readers

    real = readers.read_report

    def flaky(path, **kwargs):
        if Path(path) == files["balance"]:
            raise RuntimeError("boom")
        return real(path, **kwargs)

    monkeypatch.setattr(readers, "read_report", flaky)
    report = check_paths([files["balance"], files["clean"]])
    assert [f.code for f in report.files[0].findings] == ["check-failed"]
    assert "boom" in report.files[0].findings[0].message
    assert report.files[1].valid and report.files[1].data is not None


# ---------------------------------------------------------------- prior, roster, year


def test_prior_from_json_and_from_a_workbook(tmp_path):
    fmt = load_format("2021")
    data = clean_report(fmt, 5, unit="蓼堤镇人民政府", year=RETURN_YEAR)
    path = write_returned(tmp_path / "in" / "蓼堤镇人民政府.xlsx", fmt, data)
    prior = prior_report(fmt, data, 6)
    (tmp_path / "prior.json").write_text(json.dumps(prior.to_dict(), ensure_ascii=False), encoding="utf-8")
    assert check_file(path, prior=tmp_path / "prior.json").findings == []
    prior.values["t3.carried_over.natural"] += 1
    prior.values["t3.carried_over.total"] += 1
    (tmp_path / "prior.json").write_text(json.dumps([prior.to_dict()], ensure_ascii=False), encoding="utf-8")
    wrong = {(f.rule, f.cell) for f in check_file(path, prior=tmp_path / "prior.json").findings}
    assert wrong == {("t3-carry-prior", "D7"), ("t3-carry-prior", "J7")}
    write_returned(tmp_path / "last" / "蓼堤镇人民政府_2024.xlsx", fmt, prior)
    write_returned(tmp_path / "last" / "城关镇人民政府_2024.xlsx", fmt,
                   prior_report(fmt, clean_report(fmt, 9, unit="城关镇人民政府", year=RETURN_YEAR)))
    assert len(load_prior(tmp_path / "last")) == 2
    report = check_paths([path], prior=tmp_path / "last")
    assert {(f.rule, f.cell) for f in report.files[0].findings} == wrong


def test_prior_that_cannot_be_read_is_a_setup_error(tmp_path):
    from toolkit.batch import CheckSetupError

    (tmp_path / "p.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CheckSetupError):
        check_paths([tmp_path], prior=tmp_path / "p.json")
    (tmp_path / "p.xlsx").write_text("text", encoding="utf-8")
    with pytest.raises(CheckSetupError):
        check_paths([tmp_path], prior=tmp_path / "p.xlsx")


def test_roster_and_year(returned, tmp_path):
    root, files = returned
    roster = tmp_path / "roster.csv"
    with roster.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["单位名称", "联系人"], ["蓼堤镇人民政府", "张三"], ["城关镇人民政府", "李四"],
                                  ["东湖街道办事处", "王五"]])
    report = check_paths([root], roster=roster, year=RETURN_YEAR - 1)
    by_path = {Path(f.path): f for f in report.files}
    for name in ("clean", "balance", "typed", "typed_right"):
        assert "year-differs" in {f.code for f in by_path[files[name]].findings}
    assert "unit-not-in-roster" in {f.code for f in by_path[files["typed_right"]].findings}
    assert "unit-not-in-roster" not in {f.code for f in by_path[files["clean"]].findings}


# ---------------------------------------------------------------- the command


def test_cli_exit_codes_and_terminal_output(returned):
    root, files = returned
    runner = CliRunner()
    result = runner.invoke(app, ["check", str(files["clean"])])
    assert result.exit_code == 0, result.output
    assert "通过" in result.stdout and "共校验 1 个文件" in result.stdout
    result = runner.invoke(app, ["check", str(root)], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    text = re.sub(r"\s+", "", result.stdout)
    assert "表三自然人列：第一项" in text and "表三!D6" in text and "表四!E6" in text
    assert "共校验5个文件：1个通过，1个仅需核实，3个有错误（其中1个无法读取）；共4个错误、1个需核实。" in text


@pytest.mark.parametrize("args", [
    ["--format", "2020"],
    ["--summary", "out.csv"],
    ["--prior", "no-such-file.json"],
    ["--year", "2010"],
])
def test_cli_usage_errors_exit_2(returned, args, tmp_path):
    root, _ = returned
    result = CliRunner().invoke(app, ["check", str(root), *args])
    assert result.exit_code == 2
    assert "用法错误" in result.stderr


def test_cli_missing_path_and_empty_folder_exit_2(tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["check", str(tmp_path / "nothing-here")]).exit_code == 2
    assert runner.invoke(app, ["check", str(tmp_path)]).exit_code == 2
    assert runner.invoke(app, ["check"]).exit_code == 2


def test_cli_json_shape(returned):
    root, files = returned
    result = CliRunner().invoke(app, ["check", str(root), "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert list(payload) == ["files"]
    assert len(payload["files"]) == 5
    for entry in payload["files"]:
        assert list(entry) == FILE_KEYS
        assert entry["valid"] == (entry["errors"] == 0)
        assert entry["errors"] == sum(f["severity"] == "error" for f in entry["findings"])
        for finding in entry["findings"]:
            assert list(finding) == FINDING_KEYS
            assert finding["severity"] in ("error", "warning")
            for key in ("expected", "actual"):
                assert finding[key] is None or isinstance(finding[key], (str, int))
    by_path = {Path(e["path"]): e for e in payload["files"]}
    bad = by_path[files["bad"]]
    assert (bad["unit"], bad["year"], bad["format"], bad["valid"]) == (None, None, None, False)
    balance = by_path[files["balance"]]
    assert (balance["unit"], balance["year"], balance["format"]) == ("城关镇人民政府", RETURN_YEAR, "2021")
    first = balance["findings"][0]
    assert (first["code"], first["rule"], first["sheet"], first["cell"], first["column"]) == (
        "rule-not-equal", "t3-balance", "表三", "D6", "自然人")
    assert int(first["actual"]) == int(first["expected"]) + 1


def test_cli_in_a_subprocess_keeps_stdout_pure_json(returned, tmp_path):
    root, _ = returned
    proc = subprocess.run([sys.executable, "-m", "toolkit", "check", str(root), "--json",
                           "--annotate", str(tmp_path / "ann"), "--summary", str(tmp_path / "sum.xlsx")],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    payload = json.loads(proc.stdout)
    assert len(payload["files"]) == 5
    assert "共校验 5 个文件" in proc.stderr
    assert (tmp_path / "sum.xlsx").is_file()
    assert sorted(p.name for p in (tmp_path / "ann").iterdir()) == sorted(
        ["蓼堤镇人民政府.xlsx", "城关镇人民政府.xlsx", "东湖街道办事处.xlsx", "西湖街道办事处.xlsx"])


# ---------------------------------------------------------------- re-saved by LibreOffice


@pytest.mark.libreoffice
@needs_soffice
@pytest.mark.parametrize("to", ["xlsx", "xls"])
def test_libreoffice_resave_checks_the_same(returned, tmp_path, to):
    _, files = returned
    names = ["clean", "balance", "typed"]
    saved = soffice_convert([files[n] for n in names], tmp_path / to, to=to)
    original = check_paths([files[n] for n in names])
    again = check_paths(saved)
    for before, after in zip(original.files, again.files):
        assert after.data is not None and after.data.format == "2021"
        assert {(f.rule, f.sheet, f.cell, f.severity) for f in after.findings} == \
               {(f.rule, f.sheet, f.cell, f.severity) for f in before.findings}
        assert after.data.values == before.data.values or to == "xls"
        assert {k: v for k, v in after.data.values.items() if v is not None} == \
               {k: v for k, v in before.data.values.items() if v is not None}


def test_the_reading_helper_starts_early_only_for_a_few_files(tmp_path, monkeypatch):
    import toolkit.batch
    import toolkit.isolation

    started = []
    monkeypatch.setattr(toolkit.isolation, "start_helper", lambda prepare=None: started.append(prepare))
    files = [tmp_path / f"{i}.xlsx" for i in range(toolkit.batch.POOL_FILES)]
    for args in ([], [tmp_path], [files[0], tmp_path], files):
        toolkit.batch.start_reading(args)
    assert started == []
    toolkit.batch.start_reading(files[:-1])
    toolkit.batch.start_reading([files[0], "--not-a-file"])
    assert len(started) == 2


@pytest.mark.parametrize("name", ["balance", "typed", "bad"])
def test_one_file_on_the_command_line_read_ahead_gives_its_findings(returned, name):
    """`nianbao check FILE` sends the file to the reading helper before typer is loaded
    (toolkit.readers.read_ahead); what comes back is the file's own findings."""
    _, files = returned
    proc = subprocess.run([sys.executable, "-m", "toolkit", "check", str(files[name]), "--json"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 1, proc.stderr
    (report,) = json.loads(proc.stdout)["files"]
    assert {(f["code"], f.get("sheet"), f.get("cell")) for f in report["findings"]} == RETURNED_FINDINGS[name]
