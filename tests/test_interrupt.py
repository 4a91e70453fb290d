"""Interrupted runs: Ctrl-C (SIGINT to the whole process group, as a terminal sends it) or a
kill (SIGKILL) in the middle of a batch leaves only whole output files, or none; after Ctrl-C no
half-written ``*.part`` file is left either; running again gives the same results."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from check_helpers import clean_report
from make_report_fixtures import source_data
from toolkit.formats import load_format
from toolkit.render import render_report
from toolkit.layout import workbook_plan
from toolkit.workbook.writer import write_workbook

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
N_FILES = 30

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "toolkit", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO, env=ENV, start_new_session=True)


def visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []


def interrupt_after(proc: subprocess.Popen, folder: Path, sig: int, outputs: int = 3) -> tuple[str, str]:
    """Send ``sig`` to the run's process group once ``outputs`` files are in ``folder``."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and len(visible(folder)) < outputs:
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.killpg(proc.pid, sig)
    out, err = proc.communicate(timeout=120)
    if sig == signal.SIGKILL:  # the helpers of the run die with it (their pipes close)
        time.sleep(0.2)
    return out, err


def part_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".part")]


def whole_xlsx(path: Path) -> dict[str, list]:
    """The values of a workbook, sheet by sheet; fails on a half-written file. The meta sheet
    (which records when the file was made) is left out."""
    import python_calamine

    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None, path
    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names
            if name != workbook_plan().meta_sheet}


def run_to_end(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, cwd=REPO,
                          env=ENV, timeout=600)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def returned(tmp_path_factory) -> Path:
    """Returned workbooks, a third of them with a mistake."""
    folder = tmp_path_factory.mktemp("interrupt") / "回收"
    fmt = load_format("2021")
    for i in range(N_FILES):
        data = clean_report(fmt, i, unit=f"第{i:02d}镇人民政府", year=2024)
        if i % 3 == 0:
            data.values["t3.new.natural"] += Decimal(1)
        write_workbook(folder / f"第{i:02d}镇人民政府.xlsx", fmt, unit=data.unit, year=2024, data=data)
    return folder


@pytest.fixture(scope="module")
def reference(returned, tmp_path_factory):
    """What an uninterrupted run gives: the JSON and the annotated copies."""
    out = tmp_path_factory.mktemp("reference")
    proc = run_to_end("check", str(returned), "--json", "--annotate", str(out / "标注"))
    assert proc.returncode == 1
    return json.loads(proc.stdout), {p.name: whole_xlsx(p) for p in visible(out / "标注")}


# ---------------------------------------------------------------- the mechanism


WRITER = """
import sys, time
from toolkit.files import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    with open(tmp, "wb") as fh:
        fh.write(b"new" * 100000)
        fh.flush()
        print("writing", flush=True)
        time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill"])
def test_an_interrupted_write_leaves_the_old_file(tmp_path, sig):
    target = tmp_path / "汇总.xlsx"
    target.write_bytes(b"old")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, cwd=REPO, env=ENV, start_new_session=True)
    assert proc.stdout.readline().strip() == "writing"
    assert part_files(tmp_path)  # the new content is being written beside the target
    os.killpg(proc.pid, sig)
    proc.wait(timeout=60)
    assert target.read_bytes() == b"old"
    if sig == signal.SIGINT:
        assert not part_files(tmp_path)


# ---------------------------------------------------------------- nianbao check


def test_ctrl_c_during_check_leaves_whole_files_and_no_part_files(returned, reference, tmp_path):
    payload, copies = reference
    annotated, summary = tmp_path / "标注", tmp_path / "汇总.xlsx"
    args = ("check", str(returned), "--json", "--annotate", str(annotated), "--summary", str(summary))
    out, err = interrupt_after(start(*args), annotated, signal.SIGINT)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    assert "已中断" in err and out == ""
    assert not part_files(tmp_path)
    done = visible(annotated)
    assert 0 < len(done) < N_FILES
    for path in done:
        assert whole_xlsx(path) == copies[path.name]
    assert not summary.exists()  # written only at the end

    again = run_to_end(*args)
    assert json.loads(again.stdout) == payload
    assert {p.name: whole_xlsx(p) for p in visible(annotated)} == copies
    assert summary.exists() and whole_xlsx(summary)


def test_kill_during_check_leaves_whole_files_only(returned, reference, tmp_path):
    payload, copies = reference
    annotated = tmp_path / "标注"
    args = ("check", str(returned), "--json", "--annotate", str(annotated))
    interrupt_after(start(*args), annotated, signal.SIGKILL)
    for path in visible(annotated):  # *.part files may be left: hidden, never taken for outputs
        assert whole_xlsx(path) == copies[path.name]
    again = run_to_end(*args)
    assert json.loads(again.stdout) == payload
    assert {p.name: whole_xlsx(p) for p in visible(annotated)} == copies


# ---------------------------------------------------------------- blank, render, import


def test_ctrl_c_during_blank_roster(tmp_path):
    roster = tmp_path / "名册.csv"
    with open(roster, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["单位名称"])
        writer.writerows([f"第{i:03d}镇人民政府"] for i in range(80))
    out = tmp_path / "发出"
    args = ("blank", "--roster", str(roster), "--year", "2025", "--out-dir", str(out))
    _, err = interrupt_after(start(*args), out, signal.SIGINT)
    assert "Traceback" not in err, err[-3000:]
    assert not part_files(tmp_path)
    done = {p.name: whole_xlsx(p) for p in visible(out)}
    assert 0 < len(done) < 80
    run_to_end(*args)
    again = {p.name: whole_xlsx(p) for p in visible(out)}
    assert len(again) == 80 and {name: again[name] for name in done} == done


def test_ctrl_c_during_render_and_import(returned, tmp_path):
    import docx

    drafts = tmp_path / "草稿"
    _, err = interrupt_after(start("render", str(returned), "--to", "docx", "--out-dir", str(drafts), "--force"),
                             drafts, signal.SIGINT)
    assert "Traceback" not in err, err[-3000:]
    assert not part_files(tmp_path)
    for path in visible(drafts):
        assert docx.Document(str(path)).paragraphs  # a whole Word file

    texts = [render_report(source_data(format_id, seed), "txt") for format_id in ("2021", "2019") for seed in (1, 2, 3)]
    reports = tmp_path / "报告"
    reports.mkdir()
    for i in range(40):
        (reports / f"{i:02d}.txt").write_text(texts[i % len(texts)], encoding="utf-8")
    imported = tmp_path / "导入"
    _, err = interrupt_after(start("import", str(reports), "--out-dir", str(imported)), imported, signal.SIGINT)
    assert "Traceback" not in err, err[-3000:]
    assert not part_files(tmp_path)
    for path in visible(imported):
        whole_xlsx(path)
