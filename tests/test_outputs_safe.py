"""Writing outputs safely: unit names and file names never lead a file out of its folder nor
make two outputs collide (blank --roster, check --annotate, render --out-dir, import --out-dir,
send --outbox); text that looks like a formula stays text in every workbook written (blank
workbooks, annotated copies, the summary) and is escaped in HTML; a county's own Jinja
template cannot reach Python internals."""

from __future__ import annotations

import csv
import html
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import markupsafe
import openpyxl
import pytest

from check_helpers import clean_report
from make_report_fixtures import UNIT as FIXTURE_UNIT, source_data
from toolkit.files import safe_filename
from toolkit.formats import load_format
from toolkit.render import render_report
from toolkit.layout import info_rows, workbook_plan
from toolkit.workbook.writer import write_workbook

REPO = Path(__file__).resolve().parents[1]
YEAR = 2024

FORMULA_LIKE = ['=HYPERLINK("http://example.invalid","点击")', "=cmd|' /C calc'!A0", "+86-0370镇", "-1单位", "@SUM(A1)"]
ODD = [
    "../../逃逸单位", "/etc/passwd", "..\\..\\windows单位", "蓼堤\x00镇", "名" * 120,
    "Ａ镇人民政府", "A镇人民政府", "CON", "..", "蓼堤镇\u202exslx.exe", "<script>alert(1)</script>镇",
    *FORMULA_LIKE,
]


def run(*args: str, cwd: Path = REPO, check_noise: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600, env=env)
    if check_noise:
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    return proc


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def assert_inside(outputs: set[Path], folder: Path) -> None:
    for path in outputs:
        assert path.resolve().parent == folder.resolve(), path
        assert not path.name.startswith(".") and "\x00" not in path.name and "\u202e" not in path.name, path
        assert len(path.name.encode("utf-8")) <= 255, path


def write_roster(path: Path, names: list[str]) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["单位名称", "邮箱"])
        for i, name in enumerate(names):
            writer.writerow([name, f"unit{i}@example.cn"])
    return path


def formula_cells(path: Path) -> set[tuple[str, str]]:
    """(sheet, cell) of every formula in a workbook."""
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"}


def text_cells(path: Path) -> dict[str, set[str]]:
    """Every text value in a workbook, per sheet (formulas excluded)."""
    wb = openpyxl.load_workbook(path)
    return {ws.title: {c.value for row in ws.iter_rows() for c in row if c.data_type == "s" and c.value}
            for ws in wb.worksheets}


def returned_workbook(path: Path, unit: str, *, typed: dict[str, str] | None = None, seed: int = 3) -> Path:
    """A returned workbook of ``unit`` (optionally with text typed into some cells)."""
    fmt = load_format("2021")
    data = clean_report(fmt, seed, unit=unit, year=YEAR)
    write_workbook(path, fmt, unit=unit, year=YEAR, data=data)
    if typed:
        from toolkit.layout import cell_addresses

        wb = openpyxl.load_workbook(path)
        for cell_id, text in typed.items():
            a = cell_addresses(fmt)[cell_id]
            wb[a.sheet].cell(a.row, a.col).value = text
            wb[a.sheet].cell(a.row, a.col).data_type = "s"
        wb.save(path)
    return path


# ---------------------------------------------------------------- names


def test_safe_filename_odd_names():
    names = [safe_filename(n, "_2025.xlsx") for n in ODD + ["\ud800镇"]]
    for name in names:
        assert "/" not in name and "\\" not in name and "\x00" not in name and not name.startswith(".")
        assert len(name.encode("utf-8")) <= 255 and name.endswith("_2025.xlsx")
        name.encode("utf-8")  # no lone surrogate
    assert safe_filename("Ａ镇人民政府") == safe_filename("A镇人民政府")  # so unique_path numbers them
    assert safe_filename("蓼堤镇\u202exslx.exe", ".xlsx") == "蓼堤镇xslx.exe.xlsx"


def test_blank_roster_with_odd_names(tmp_path):
    roster = write_roster(tmp_path / "名册.csv", ODD)
    out = tmp_path / "out"
    before = files_under(tmp_path)
    proc = run("blank", "--roster", str(roster), "--year", "2025", "--out-dir", str(out))
    written = files_under(tmp_path) - before
    assert written and all(p.parent == out for p in written), written
    assert_inside(written, out)
    assert len({p.name.casefold() for p in written}) == len(written)
    assert {p.name for p in written} >= {safe_filename("A镇人民政府", "_2025年度政府信息公开工作年度报告填报表.xlsx"),
                                         "A镇人民政府_2025年度政府信息公开工作年度报告填报表_2.xlsx"}, proc.stdout
    # formula-like names: written as the text they are
    units = {}
    for path in written:
        wb = openpyxl.load_workbook(path)
        info = wb[workbook_plan().info_sheet]
        row = next(r for r, key, _ in info_rows() if key == "unit")
        cell = info.cell(row, 2)
        units[cell.value] = cell.data_type
    for name in FORMULA_LIKE:
        assert units.get(name) == "s", (name, units.get(name))


def test_annotated_copies_with_odd_file_names(tmp_path):
    source = tmp_path / "回收"
    (source / "一").mkdir(parents=True)
    (source / "二").mkdir()
    (source / "三").mkdir()
    names = [source / "一" / "Ａ镇.xlsx", source / "二" / "A镇.xlsx", source / "三" / "a镇.XLSX",
             source / ("名" * 80 + ".xlsx"), source / "-rf .xlsx", source / "[red]红[/red].xlsx"]
    for i, path in enumerate(names):
        returned_workbook(path, "../../逃逸单位" if i % 2 else "/etc/passwd", seed=i)
    out = tmp_path / "标注"
    before = files_under(tmp_path)
    proc = run("check", "--json", "--annotate", str(out), str(source))
    assert proc.returncode in (0, 1), proc.stderr
    written = files_under(tmp_path) - before
    assert_inside(written, out)
    assert len(written) == len(names) and len({p.name.casefold() for p in written}) == len(names)


def test_render_and_import_out_dir_with_odd_units(tmp_path):
    sources = tmp_path / "回收"
    sources.mkdir()
    units = ["../../逃逸单位", "/etc/passwd", "Ａ镇人民政府", "A镇人民政府", "名" * 120, "<script>alert(1)</script>镇",
             FORMULA_LIKE[0]]
    for i, unit in enumerate(units):
        returned_workbook(sources / f"{i}.xlsx", unit, seed=i)
    out = tmp_path / "草稿"
    before = files_under(tmp_path)
    proc = run("render", str(sources), "--to", "html", "--out-dir", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    written = files_under(tmp_path) - before
    assert_inside(written, out)
    assert len(written) == len(units) and len({p.name.casefold() for p in written}) == len(units)
    pages = "".join(p.read_text(encoding="utf-8") for p in written)
    assert "<script>alert(1)</script>" not in pages and html.escape("<script>alert(1)</script>") in pages
    assert str(markupsafe.escape(FORMULA_LIKE[0])) in pages and FORMULA_LIKE[0] not in pages

    # published reports whose titles carry the same odd names
    text = render_report(source_data("2021"), "txt")
    original_unit = FIXTURE_UNIT
    assert text.startswith(f"{original_unit}20")
    reports = tmp_path / "报告"
    reports.mkdir()
    for i, unit in enumerate(["../../逃逸单位", "Ａ镇人民政府", "A镇人民政府", FORMULA_LIKE[1]]):
        (reports / f"{i}.txt").write_text(text.replace(original_unit, unit, 1), encoding="utf-8")
    imported = tmp_path / "导入"
    before = files_under(tmp_path)
    run("import", str(reports), "--out-dir", str(imported))
    written = files_under(tmp_path) - before
    assert_inside(written, imported)
    assert len(written) == 4 and len({p.name.casefold() for p in written}) == 4
    for path in written:  # the unit read from the title is text in the workbook written
        assert not formula_cells(path) - formula_cells_of_blank(published=True), path


def formula_cells_of_blank(published: bool = False) -> set[tuple[str, str]]:
    """The formulas every standard workbook has (totals and checks; an imported one: checks)."""
    if published not in _BLANK_FORMULAS:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "blank.xlsx"
            write_workbook(path, load_format("2021"), unit="x", year=YEAR, published=published)
            _BLANK_FORMULAS[published] = formula_cells(path)
    return _BLANK_FORMULAS[published]


_BLANK_FORMULAS: dict[bool, set[tuple[str, str]]] = {}


def test_send_outbox_with_odd_names(tmp_path):
    roster = write_roster(tmp_path / "名册.csv", ODD)
    outbox = tmp_path / "发件箱"
    before = files_under(tmp_path)
    run("send", "--roster", str(roster), "--year", "2025", "--deadline", "2026-01-15", "--outbox", str(outbox))
    written = files_under(tmp_path) - before
    mails = {p for p in written if p.suffix == ".eml"}
    assert mails and all(p.parent == outbox for p in written), written
    assert_inside(mails, outbox)
    assert len({p.name.casefold() for p in mails}) == len(mails)


# ---------------------------------------------------------------- formula injection


def test_text_that_looks_like_a_formula_stays_text_in_annotated_copies_and_summary(tmp_path):
    source = returned_workbook(tmp_path / "回收" / "蓼堤镇.xlsx", FORMULA_LIKE[0],
                               typed={"t3.new.natural": "=1+1", "t3.new.business": "+12", "t3.new.research": "-3",
                                      "t3.new.nonprofit": "@SUM(A1:A9)"})
    before = source.read_bytes()
    original_formulas = formula_cells(source)
    proc = run("check", "--json", "--annotate", str(tmp_path / "标注"), "--summary", str(tmp_path / "汇总.xlsx"),
               str(source.parent))
    assert proc.returncode == 1
    assert source.read_bytes() == before
    [copy] = (tmp_path / "标注").iterdir()
    assert formula_cells(copy) == original_formulas  # nothing typed became a formula
    texts = text_cells(copy)
    assert {"=1+1", "+12", "-3", "@SUM(A1:A9)"} <= texts["表三"]
    assert {"=1+1", "@SUM(A1:A9)"} <= texts["校验结果"]  # what was typed, in the findings list
    assert any(FORMULA_LIKE[0] in t for t in texts["校验结果"])
    summary = tmp_path / "汇总.xlsx"
    assert not formula_cells(summary)
    summary_texts = text_cells(summary)
    assert FORMULA_LIKE[0] in summary_texts["文件汇总"] and "=1+1" in summary_texts["问题清单"]


def test_xls_annotated_copy_keeps_formula_text(tmp_path):
    """A workbook openpyxl cannot open is copied value by value: text stays text."""
    from soffice import SOFFICE, soffice_convert

    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    source = returned_workbook(tmp_path / "src" / "蓼堤镇.xlsx", FORMULA_LIKE[1], typed={"t3.new.natural": "=1+1"})
    [xls] = soffice_convert([source], tmp_path / "xls", to="xls")
    proc = run("check", "--json", "--annotate", str(tmp_path / "标注"), str(xls))
    assert proc.returncode == 1
    copy = tmp_path / "标注" / "蓼堤镇.xlsx"
    assert not formula_cells(copy)  # values only, no formula made of text
    assert "=1+1" in text_cells(copy)["表三"]


# ---------------------------------------------------------------- templates


ESCAPES = {
    "mro": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "globals": "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "self": "{{ self._TemplateReference__context }}",
}


@pytest.mark.parametrize("how", sorted(ESCAPES))
def test_report_template_cannot_reach_python_internals(tmp_path, how):
    source = returned_workbook(tmp_path / "蓼堤镇.xlsx", "蓼堤镇人民政府")
    templates = tmp_path / "模板"
    templates.mkdir()
    (templates / "report.html.j2").write_text(f"<html><body>{ESCAPES[how]}</body></html>", encoding="utf-8")
    proc = run("render", str(source), "--to", "html", "--out-dir", str(tmp_path / "out"), "--template-dir",
               str(templates), cwd=tmp_path)
    assert proc.returncode != 0
    assert not (tmp_path / "PWNED").exists()
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True
    message = proc.stdout + proc.stderr
    assert "模板" in message and ("沙箱" in message or "未定义" in message), message


def test_mail_template_cannot_reach_python_internals(tmp_path):
    roster = write_roster(tmp_path / "名册.csv", ["蓼堤镇人民政府"])
    templates = tmp_path / "邮件模板"
    templates.mkdir()
    (templates / "request.txt.j2").write_text("主题：年报\n\n" + ESCAPES["globals"] + "\n", encoding="utf-8")
    proc = run("send", "--roster", str(roster), "--year", "2025", "--deadline", "2026-01-15", "--outbox",
               str(tmp_path / "发件箱"), "--templates", str(templates), cwd=tmp_path)
    assert proc.returncode != 0
    assert not (tmp_path / "PWNED").exists()
    assert "沙箱" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert not list((tmp_path / "发件箱").glob("*.eml")) if (tmp_path / "发件箱").exists() else True
