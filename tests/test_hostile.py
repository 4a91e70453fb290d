"""Hostile, broken and foreign files: every file of the corpus (tests/hostile/make_corpus.py,
expectations in tests/hostile/manifest.json) gets its finding through ``nianbao check --json``
and through the library; nothing prints a traceback or engine noise, no input file changes, and
a batch with broken files checks every good one."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
import pytest

from hostile.make_corpus import CASES, NEEDS, build_corpus, load_manifest
from toolkit.batch import check_file, check_paths
from toolkit.checks.catalogue_doc import load_all_finding_types
from toolkit.formats import load_format
from toolkit.model import ERROR
from toolkit.readers import read_report
from toolkit.workbook.source import Limits

REPO = Path(__file__).resolve().parents[1]
MANIFEST = load_manifest()
CJK = re.compile(r"[\u4e00-\u9fff]")
NOISE = re.compile(r"Traceback|panicked|RUST_BACKTRACE|Exception|Error:|Warning|warn\(|memory allocation|"
                   r"core dumped|Segmentation|Aborted|Fatal Python", re.I)


def fingerprint(path: Path):
    """What must not change: the bytes and modification time of a file; for anything else (a
    folder, a link, a pipe) its metadata, without opening it."""
    st = os.lstat(path)
    if stat.S_ISREG(st.st_mode):
        return ("file", hashlib.sha256(path.read_bytes()).hexdigest(), st.st_size, st.st_mtime_ns)
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(path), st.st_mtime_ns)
    if stat.S_ISDIR(st.st_mode):
        return ("dir", sorted(p.name for p in path.iterdir()), st.st_mtime_ns)
    return ("other", stat.S_IFMT(st.st_mode), st.st_mtime_ns)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    corpus = build_corpus(tmp_path_factory.mktemp("hostile"))
    roots = {name: corpus.directory / "files" / name for name in corpus.files}
    corpus.before = {name: fingerprint(root) for name, root in roots.items()}
    corpus.roots = roots
    return corpus


@pytest.fixture(scope="module")
def cli(corpus, tmp_path_factory):
    """One ``nianbao check --json --annotate --summary`` run over every corpus path."""
    out = tmp_path_factory.mktemp("cli")
    paths = [str(p) for p in corpus.files.values()]
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit", "check", "--json", "--annotate", str(out / "annotated"),
         "--summary", str(out / "summary.xlsx"), *paths],
        capture_output=True, text=True, cwd=REPO, timeout=600, env={**os.environ, "RUST_BACKTRACE": "1"})
    proc.out = out
    return proc


@pytest.fixture(scope="module")
def cli_json(cli):
    payload = json.loads(cli.stdout)
    return {entry["path"]: entry for entry in payload["files"]}


@pytest.fixture(scope="module")
def library(corpus):
    """The same files through the library, in two worker processes."""
    report = check_paths(list(corpus.files.values()), workers=2)
    return {file.path: file for file in report.files}


def case_names():
    return [pytest.param(name, id=name.replace("\n", "\\n"),
                         marks=pytest.mark.libreoffice if NEEDS.get(name) == "soffice" else ())
            for name in CASES]


def built(corpus, name: str) -> Path:
    if name not in corpus.files:
        pytest.skip(corpus.skipped.get(name, "not built"))
    return corpus.files[name]


# ---------------------------------------------------------------- the corpus itself


def test_manifest_names_every_case_with_catalogued_codes():
    REGISTRY = load_all_finding_types()
    assert set(MANIFEST) == set(CASES)
    assert len(CASES) >= 40
    for name, expect in MANIFEST.items():
        assert expect["about"], name
        assert all(code in REGISTRY for code in [*expect["codes"], *expect.get("absent", ())]), name
        if not expect["read"]:
            assert len(expect["codes"]) == 1 and REGISTRY[expect["codes"][0]].severity == ERROR, name


def test_the_base_workbook_is_clean(corpus):
    report = check_file(corpus.base.path)
    assert report.findings == [] and report.data.values == corpus.base.values


# ---------------------------------------------------------------- every file, one answer


def assert_answer(name: str, path: Path, findings: list[dict], data_read: bool) -> None:
    expect = MANIFEST[name]
    codes = [f["code"] for f in findings]
    assert data_read == expect["read"], (name, codes)
    if expect["read"]:
        assert set(expect["codes"]) <= set(codes), (name, codes)
        assert not set(expect.get("absent", ())) & set(codes), (name, codes)
        if expect.get("clean"):
            assert not [f for f in findings if f["severity"] == ERROR], (name, findings)
    else:
        assert codes == expect["codes"], (name, findings)
        assert path.name in findings[0]["message"], findings[0]["message"]
    for f in findings:
        assert CJK.search(f["message"]) and not NOISE.search(f["message"]), f["message"]


@pytest.mark.parametrize("name", case_names())
def test_cli_gives_the_expected_finding(corpus, cli_json, name):
    path = built(corpus, name)
    if name == "folder.xlsx":  # on the command line a folder is searched, whatever its name
        assert str(path) not in cli_json and str(path / "inside.txt") in cli_json
        return
    entry = cli_json[str(path)]
    assert_answer(name, path, entry["findings"], entry["format"] is not None)
    assert entry["valid"] == (entry["errors"] == 0)


@pytest.mark.parametrize("name", case_names())
def test_library_gives_the_expected_finding(corpus, library, name):
    path = built(corpus, name)
    report = library[str(path)] if name != "folder.xlsx" else check_file(path)
    assert_answer(name, path, [f.to_dict() for f in report.findings], report.data is not None)
    if MANIFEST[name].get("same"):  # the input cells (a copy saved by openpyxl has no cached totals)
        inputs = {c.id for c in load_format("2021").input_cells}
        assert {k: v for k, v in report.data.values.items() if k in inputs} == \
               {k: v for k, v in corpus.base.values.items() if k in inputs}
        assert (report.data.unit, report.data.year, report.data.format) == ("蓼堤镇人民政府", 2024, "2021")


def test_formula_text_is_read_as_text(corpus, library):
    report = library[str(built(corpus, "formula-injection.xlsx"))]
    assert report.data.unit.startswith("=HYPERLINK(")
    typed = {f.cell: f.actual for f in report.findings if f.code.startswith("value-")}
    assert typed["D6"] == "=1+1" and "@SUM(A1:A9)" in typed.values()


# ---------------------------------------------------------------- clean output, outputs whole


def test_cli_output_is_json_and_a_summary_only(cli, corpus):
    assert cli.returncode == 1, cli.stderr[-2000:]
    payload = json.loads(cli.stdout)
    assert len(payload["files"]) == len(corpus.files)  # the folder stands for the text file in it
    assert not NOISE.search(cli.stderr), cli.stderr[-3000:]
    text = cli.stderr.replace("\n", "")
    assert text.startswith(f"共校验 {len(payload['files'])} 个文件") and "标注副本已写到" in text and "汇总表已写到" in text


def test_cli_outputs_are_whole(cli, cli_json):
    annotated = cli.out / "annotated"
    copies = sorted(annotated.iterdir())
    assert copies and not [p for p in copies if p.name.endswith(".part") or p.name.startswith(".")]
    for copy in copies:
        wb = openpyxl.load_workbook(copy, read_only=True)
        assert wb.sheetnames[0] == "校验结果"
        wb.close()
    readable = [e for e in cli_json.values() if e["format"] is not None]
    assert len(copies) == len(readable)
    summary = openpyxl.load_workbook(cli.out / "summary.xlsx", read_only=True)
    assert summary["文件汇总"].max_row == 1 + len(cli_json)


def test_terminal_output_keeps_odd_names_literal(corpus):
    names = ["[bold]粗体[blink] 名称.xlsx", "line\nbreak.xlsx", "fifo.xlsx", "random.xlsx"]
    proc = subprocess.run([sys.executable, "-m", "toolkit", "check", *(str(corpus.files[n]) for n in names)],
                          capture_output=True, text=True, cwd=REPO, timeout=300, env={**os.environ, "COLUMNS": "400"})
    assert proc.returncode == 1
    assert "[bold]粗体[blink] 名称.xlsx" in proc.stdout
    assert "不是普通文件" in proc.stdout and "无法识别的文件内容" in proc.stdout
    assert not NOISE.search(proc.stdout + proc.stderr), proc.stdout + proc.stderr


def test_inputs_are_never_changed(corpus, cli, library):
    for name, root in corpus.roots.items():
        assert fingerprint(root) == corpus.before[name], name


# ---------------------------------------------------------------- what the corpus cannot hold


def test_permission_denied(tmp_path, corpus):
    folder = Path(tempfile.mkdtemp(prefix="nianbao-locked-"))
    try:
        folder.chmod(0o755)
        path = folder / "locked.xlsx"
        shutil.copy(corpus.base.path, path)
        in_process = Limits(isolate=False)
        assert read_report(path, limits=in_process).data is not None  # everything imported first
        path.chmod(0)
        if os.geteuid() == 0:  # root reads anything: drop to nobody for the read itself
            os.seteuid(65534)
            try:
                result = read_report(path, limits=in_process)
            finally:
                os.seteuid(0)
        else:
            result = read_report(path, limits=in_process)
        assert [f.code for f in result.findings] == ["file-unreadable"]
        assert "没有读取权限" in result.findings[0].message and "locked.xlsx" in result.findings[0].message
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(sys.platform != "linux", reason="file names that are not UTF-8 exist on Linux")
def test_a_file_name_that_is_not_utf8(corpus, tmp_path):
    folder = tmp_path / "回收"
    folder.mkdir()
    shutil.copy(corpus.base.path, os.fsdecode(bytes(folder) + b"/\xff\xfe\xb5\xa5.xlsx"))
    shutil.copy(corpus.files["random.xlsx"], os.fsdecode(bytes(folder) + b"/\xc4\xe3.xlsx"))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "toolkit", "check", "--json", str(folder), "--annotate", str(out),
                           "--summary", str(out / "汇总.xlsx"), "--archive", str(out / "nianbao.db")],
                          capture_output=True, cwd=REPO, timeout=300)
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")
    files = json.loads(proc.stdout.decode("utf-8"))["files"]  # valid UTF-8: the odd bytes show as "?"
    assert sorted(f["valid"] for f in files) == [False, True]
    assert "不是Excel工作簿" in next(f for f in files if not f["valid"])["findings"][0]["message"]
    summary = openpyxl.load_workbook(out / "汇总.xlsx", read_only=True)
    assert summary["文件汇总"].max_row == 3


# ---------------------------------------------------------------- budgets


def test_time_budget_stops_a_slow_file_and_the_next_file_is_read(corpus):
    slow = corpus.files["far-rows-without-refs.xlsx"]
    result = read_report(slow, limits=Limits(engine_seconds=0.05))
    assert [f.code for f in result.findings] == ["file-too-large"]
    assert "秒" in result.findings[0].message and slow.name in result.findings[0].message
    assert read_report(corpus.base.path).data.values == corpus.base.values


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to size the budget")
def test_memory_budget_stops_a_greedy_file_and_the_next_file_is_read(corpus):
    from toolkit.isolation import _Helper

    assert read_report(corpus.base.path).data is not None
    status = Path(f"/proc/{_Helper._proc.pid}/status").read_text()
    in_use = int(re.search(r"VmSize:\s+(\d+) kB", status).group(1)) * 1024
    greedy = corpus.files["huge-text-cell.xlsx"]  # a 12 MB text: far more than 8 MB to read
    result = read_report(greedy, limits=Limits(memory_bytes=in_use + 8 * 1024 * 1024))
    assert result.data is None and [f.code for f in result.findings] in (["file-too-large"], ["workbook-damaged"])
    assert greedy.name in result.findings[0].message
    assert read_report(greedy).data.values == corpus.base.values
    assert read_report(corpus.base.path).data.values == corpus.base.values


def test_a_batch_with_broken_files_checks_every_good_one(corpus, tmp_path):
    """200 files, 10 % of them broken in assorted ways: every good file read and valid."""
    broken = ["truncated-half.xlsx", "laughs-in-sheet.xlsx", "bomb-lying-size.xlsx", "unclosed-tags.xlsx",
              "random.xlsx", "encrypted-office.xlsx", "sheet-xml-cut.xlsx", "far-rows-without-refs.xlsx",
              "handmade-damaged.xls", "duplicate-entry.xlsx"]
    broken = [name for name in broken if name in corpus.files]
    folder = tmp_path / "batch"
    folder.mkdir()
    good, bad = [], []
    for i in range(200):
        if i % 10 == 3:
            name = broken[(i // 10) % len(broken)]
            path = folder / f"{i:03d}_{name}"
            shutil.copy(corpus.files[name], path)
            bad.append(path)
        else:
            path = folder / f"{i:03d}_蓼堤镇人民政府.xlsx"
            shutil.copy(corpus.base.path, path)
            good.append(path)
    report = check_paths([folder], workers=2)
    by_path = {Path(f.path): f for f in report.files}
    assert len(report.files) == 200
    for path in good:
        assert by_path[path].valid and by_path[path].data.values == corpus.base.values, path
    for path in bad:
        assert by_path[path].findings and not [f for f in by_path[path].findings if f.code == "check-failed"]


# ---------------------------------------------------------------- the documented limits


def test_security_doc_lists_the_limits_in_force():
    doc = (REPO / "docs" / "security.md").read_text(encoding="utf-8")
    limits = Limits()
    mb, gb = 1024 * 1024, 1024 * 1024 * 1024
    shown = {
        "max_file_bytes": f"{limits.max_file_bytes // mb} MB", "max_entries": f"{limits.max_entries:,}",
        "max_entry_bytes": f"{limits.max_entry_bytes // mb} MB", "max_total_bytes": f"{limits.max_total_bytes // mb} MB",
        "max_ratio": f"{limits.max_ratio:,}", "max_rows": f"{limits.max_rows:,}", "max_cols": f"{limits.max_cols:,}",
        "max_cells": f"{limits.max_cells:,}", "engine_seconds": f"{limits.engine_seconds:g} s",
        "memory_bytes": f"{limits.memory_bytes // gb} GB",
    }
    for field, text in shown.items():
        row = next(line for line in doc.splitlines() if line.startswith("|") and f"`{field}`" in line)
        assert text in row, (field, text, row)
    assert "docs/security.md" in (REPO / "README.md").read_text(encoding="utf-8")
