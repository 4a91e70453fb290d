"""Files from the real world (tests/realworld/make_corpus.py, answers in manifest.json): every
valid workbook read like the plain one, every encrypted one named encrypted, broken Word files
answered in Chinese with advice, memory bounded by what a file holds, through the library and
through ``nianbao check --json`` / ``nianbao import --json``; no message carries an exception
name or a URL."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from realworld.make_corpus import CASES, NEEDS, build_corpus, load_manifest
from toolkit.batch import check_file, check_paths
from toolkit.checks.catalogue_doc import load_all_finding_types
from toolkit.formats import load_format
from toolkit.model import ERROR

REPO = Path(__file__).resolve().parents[1]
MANIFEST = load_manifest()
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGINE_TEXT = re.compile(r"\b\w*(?:Error|Exception|Warning)\b|BadZipFile|Traceback|KeyError|\bpanicked\b|"
                         r"https?://|www\.|schemas\.|openxmlformats|\bin collection\b", re.I)
MEMORY_MB = 300  # per file under 1 MB


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("realworld"))


def by_via(corpus, via: str) -> list[str]:
    return [name for name in corpus.files if MANIFEST[name]["via"] == via]


@pytest.fixture(scope="module")
def cli_check(corpus):
    paths = [str(corpus.files[n]) for n in by_via(corpus, "check")]
    proc = subprocess.run([sys.executable, "-m", "toolkit", "check", "--json", *paths], capture_output=True,
                          text=True, cwd=REPO, timeout=600)
    assert not ENGINE_TEXT.search(proc.stderr), proc.stderr[-2000:]
    return {Path(e["path"]).name: e for e in json.loads(proc.stdout)["files"]}


@pytest.fixture(scope="module")
def cli_import(corpus):
    paths = [str(corpus.files[n]) for n in by_via(corpus, "import")]
    proc = subprocess.run([sys.executable, "-m", "toolkit", "import", "--json", *paths], capture_output=True,
                          text=True, cwd=REPO, timeout=600)
    assert not ENGINE_TEXT.search(proc.stderr), proc.stderr[-2000:]
    return {Path(e["path"]).name: e for e in json.loads(proc.stdout)["files"]}


def built(corpus, name: str) -> Path:
    if name not in corpus.files:
        pytest.skip(corpus.skipped.get(name, "not built"))
    return corpus.files[name]


def params(via: str | None = None):
    return [pytest.param(name, marks=pytest.mark.libreoffice if NEEDS.get(name) == "soffice" else ())
            for name in CASES if via is None or MANIFEST[name]["via"] == via]


def test_manifest_names_every_case_with_catalogued_codes():
    registry = load_all_finding_types()
    assert set(MANIFEST) == set(CASES)
    assert {e["class"] for e in MANIFEST.values()} == {1, 2, 3, 4, 5}
    for name, expect in MANIFEST.items():
        assert expect["about"] and expect["via"] in ("check", "import", "roster"), name
        assert all(code in registry for code in expect["codes"]), name


def assert_answer(name: str, path: Path, findings: list[dict], data_read: bool) -> None:
    expect = MANIFEST[name]
    codes = [f["code"] for f in findings]
    errors = [f for f in findings if f["severity"] == ERROR]
    assert data_read == expect["read"], (name, findings[:3])
    if expect["read"]:
        assert set(expect["codes"]) <= set(codes), (name, codes)
        if expect.get("clean"):
            assert not errors, (name, errors)
    else:
        assert [f["code"] for f in errors] == expect["codes"], (name, findings)
        assert path.name in errors[0]["message"], errors[0]["message"]
    assert not set(expect.get("absent", [])) & set(codes), (name, codes)
    first = (errors or findings or [{"message": ""}])[0]["message"]
    for text in expect.get("says", []):
        assert text in first, (name, first)
    for text in expect.get("not_says", []):
        assert text not in first, (name, first)
    for f in findings:
        assert CJK.search(f["message"]) and not ENGINE_TEXT.search(f["message"]), f["message"]


# ---------------------------------------------------------------- every file, one answer


@pytest.mark.parametrize("name", params("check"))
def test_check_cli_answer(corpus, cli_check, name):
    path = built(corpus, name)
    entry = cli_check[path.name]
    assert_answer(name, path, entry["findings"], entry["format"] is not None)


@pytest.mark.parametrize("name", params("check"))
def test_check_library_answer(corpus, name):
    path = built(corpus, name)
    report = check_file(path)
    assert_answer(name, path, [f.to_dict() for f in report.findings], report.data is not None)
    if MANIFEST[name].get("same"):
        inputs = {c.id for c in load_format("2021").input_cells}
        assert {k: v for k, v in report.data.values.items() if k in inputs} == \
               {k: v for k, v in corpus.base.values.items() if k in inputs}
        assert (report.data.unit, report.data.year, report.data.format) == ("蓼堤镇人民政府", 2024, "2021")


@pytest.mark.parametrize("name", params("import"))
def test_import_answer(corpus, cli_import, name):
    from toolkit.importers import import_report

    path = built(corpus, name)
    entry = cli_import[path.name]
    assert_answer(name, path, entry["findings"], entry["format"] is not None)
    result = import_report(path)
    assert_answer(name, path, [f.to_dict() for f in result.findings], result.data is not None)
    if MANIFEST[name]["read"]:
        if MANIFEST[name].get("same"):
            assert result.data.values == corpus.base.values


@pytest.mark.parametrize("name", params("roster"))
def test_roster_answer(corpus, name, tmp_path):
    from toolkit.blank import make_blanks
    from toolkit.roster import read_roster

    path = built(corpus, name)
    entries, findings = read_roster(path)
    assert [e.unit for e in entries] == MANIFEST[name]["units"], [f.message for f in findings]
    assert sorted(f.code for f in findings) == sorted(MANIFEST[name]["codes"]), [f.message for f in findings]
    for f in findings:
        assert CJK.search(f.message) and not ENGINE_TEXT.search(f.message), f.message
    proc = subprocess.run([sys.executable, "-m", "toolkit", "blank", "--roster", str(path), "--year", "2024",
                           "--out-dir", str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(list((tmp_path / "out").glob("*.xlsx"))) == len(MANIFEST[name]["units"])
    assert not ENGINE_TEXT.search(proc.stdout + proc.stderr)
    assert make_blanks  # the library call behind the command


def test_row_limit_is_one_rule(corpus):
    """A sheet over the row cap: the same warning, the rows within read, in check and as a roster."""
    from toolkit.roster import read_roster

    check = check_file(built(corpus, "sheet-over-row-limit.xlsx"))
    _, roster = read_roster(built(corpus, "roster-over-row-limit.xlsx"))
    [a] = [f for f in check.findings if f.code == "sheet-truncated"]
    [b] = [f for f in roster if f.code == "sheet-truncated"]
    assert a.severity == b.severity and check.data is not None


# ---------------------------------------------------------------- memory


_PROBE = r"""
import json, sys
from pathlib import Path
via, path = sys.argv[1], sys.argv[2]
if via == "check":
    from toolkit.batch import check_file
    check_file(path)
elif via == "import":
    from toolkit.importers import import_report
    import_report(path)
else:
    from toolkit.roster import read_roster
    read_roster(path)
from toolkit.isolation import _Helper


def high_water(pid):  # VmHWM belongs to the process's own memory: not inherited through fork and exec
    with open(f"/proc/{pid}/status") as fh:
        return int(next(line for line in fh if line.startswith("VmHWM:")).split()[1])


helper = _Helper._proc
print(json.dumps([high_water("self")] + ([high_water(helper.pid)] if helper and helper.poll() is None else [])))
"""


def peak_mb(via: str, path: Path) -> int:
    """The largest resident size (MB) of any process reading ``path`` (the reader and its helper,
    each one's high-water mark)."""
    proc = subprocess.run([sys.executable, "-c", _PROBE, via, str(path)], capture_output=True, text=True, cwd=REPO,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return max(json.loads(proc.stdout.strip().splitlines()[-1])) // 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc for a process's high-water mark")
@pytest.mark.parametrize("name", params())
def test_memory_by_what_a_file_holds(corpus, name):
    path = built(corpus, name)
    assert path.stat().st_size < 1024 * 1024
    assert peak_mb(MANIFEST[name]["via"], path) <= MEMORY_MB, name


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to add up a process tree")
def test_batch_peak_is_bounded_by_workers(corpus, tmp_path):
    """Two workers over the files that declare more than they hold: the whole process tree
    stays under 2 x the budget of one file."""
    import shutil

    heavy = []
    for i in range(3):
        for name in ("declared-65536x256.xls", "far-cell.xls", "shared-formulas.xls", "far-cell.xlsb"):
            if name in corpus.files:
                heavy.append(tmp_path / f"{i}-{name}")
                shutil.copy(corpus.files[name], heavy[-1])
    proc = subprocess.Popen([sys.executable, "-m", "toolkit", "check", "--json", "--workers", "2",
                             *map(str, heavy)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.05)
    out = json.loads(proc.stdout.read())
    assert len(out["files"]) == len(heavy)
    # the command itself (an interpreter) plus two workers, each reading within the budget
    assert peak <= 2 * MEMORY_MB * 1024 * 1024 + 150 * 1024 * 1024, peak // 1048576


# ---------------------------------------------------------------- messages


def test_no_catalogued_message_names_an_exception_or_a_url():
    for code, kind in load_all_finding_types().items():
        assert not ENGINE_TEXT.search(kind.template), (code, kind.template)


def test_annotated_copies_hold_every_sheet(corpus, tmp_path):
    """``check --annotate`` on the valid files: a copy with the 校验结果 sheet and every sheet of
    the file (a Strict Open XML file opens in openpyxl without any)."""
    import openpyxl

    from toolkit.workbook.source import open_source

    names = [n for n in by_via(corpus, "check") if MANIFEST[n]["read"]]
    proc = subprocess.run([sys.executable, "-m", "toolkit", "check", "--annotate", str(tmp_path),
                           *(str(corpus.files[n]) for n in names)], capture_output=True, text=True, cwd=REPO,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:]
    for name in names:
        copy = tmp_path / (Path(name).stem + (".xlsm" if name.endswith(".xlsm") else ".xlsx"))
        with open_source(corpus.files[name]) as source:
            sheets = set(source.sheet_names)
        wb = openpyxl.load_workbook(copy, read_only=True)
        assert wb.sheetnames[0] == "校验结果" and sheets <= set(wb.sheetnames), (name, wb.sheetnames)
        wb.close()
