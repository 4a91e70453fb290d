"""``render --to pdf``: the Word draft printed by LibreOffice, and a clear message without it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from render_helpers import filled_data
from soffice import SOFFICE_MARKS
from toolkit.cli import app
from toolkit.formats import load_format
from toolkit.render import FORMATS, RenderSetupError, render_file, render_many, render_report

PDFTOTEXT = shutil.which("pdftotext")
ROOT = Path(__file__).resolve().parent.parent


def _source(folder: Path, unit: str, seed: int) -> Path:
    data = filled_data(load_format("2021"), seed, unit=unit, year=2025)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{unit}.json"
    path.write_text(json.dumps(data.to_dict(), ensure_ascii=False), encoding="utf-8")
    return path


def _text(pdf: Path) -> str:
    if PDFTOTEXT is None:
        return ""
    return "".join(subprocess.run([PDFTOTEXT, str(pdf), "-"], capture_output=True, text=True).stdout.split())


def test_pdf_is_an_output_format():
    assert FORMATS["pdf"] == ".pdf"
    result = CliRunner().invoke(app, ["render", "--help"])
    assert "pdf" in result.output


def _with_soffice(test):
    for mark in SOFFICE_MARKS:
        test = mark(test)
    return test


@_with_soffice
def test_render_file_to_pdf(tmp_path):
    source = _source(tmp_path / "src", "蓼堤镇人民政府", 1)
    out = tmp_path / "out" / "报告.pdf"
    result = render_file(source, "pdf", out)
    assert result.ok, result.error
    assert result.out == out and out.read_bytes().startswith(b"%PDF")
    assert [p.name for p in out.parent.iterdir()] == ["报告.pdf"]  # written atomically: no temp file left
    if PDFTOTEXT:
        text = _text(out)
        assert "蓼堤镇人民政府" in text and "2025年政府信息公开工作年度报告" in text
        assert "三、收到和处理政府信息公开申请情况" in text


@_with_soffice
def test_render_many_and_the_command_to_pdf(tmp_path):
    sources = [_source(tmp_path / "src", unit, seed) for seed, unit in enumerate(("甲镇人民政府", "乙镇人民政府"))]
    results = render_many(sources, "pdf", tmp_path / "lib")
    assert [r.ok for r in results] == [True, True], [r.error for r in results]
    assert sorted(p.name for p in (tmp_path / "lib").iterdir()) == [
        "乙镇人民政府2025年政府信息公开工作年度报告.pdf", "甲镇人民政府2025年政府信息公开工作年度报告.pdf"]
    run = CliRunner().invoke(app, ["render", str(tmp_path / "src"), "--to", "pdf", "--out-dir", str(tmp_path / "cli")])
    assert run.exit_code == 0, run.output
    pdfs = sorted((tmp_path / "cli").glob("*.pdf"))
    assert len(pdfs) == 2 and all(p.read_bytes().startswith(b"%PDF") for p in pdfs)
    assert isinstance(render_report(filled_data(load_format("2019"), 3), "pdf"), bytes)


def test_without_libreoffice_the_library_says_so(tmp_path, monkeypatch):
    source = _source(tmp_path / "src", "蓼堤镇人民政府", 1)
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    for call in (lambda: render_file(source, "pdf", tmp_path / "x.pdf"),
                 lambda: render_many([source], "pdf", tmp_path / "many"),
                 lambda: render_report(filled_data(load_format("2021"), 1), "pdf")):
        with pytest.raises(RenderSetupError, match="LibreOffice"):
            call()
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "many").exists()
    assert render_file(source, "docx", tmp_path / "x.docx").ok  # the other formats need nothing more


def test_without_libreoffice_the_command_says_so(tmp_path):
    """``nianbao render --to pdf`` on a machine without LibreOffice (PATH without soffice): a
    Chinese message naming what to install, exit 2 (a setup problem), nothing written."""
    source = _source(tmp_path / "src", "蓼堤镇人民政府", 1)
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty), "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run([sys.executable, "-m", "toolkit", "render", str(source), "--to", "pdf", "-o",
                          str(tmp_path / "r.pdf")], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "LibreOffice" in run.stderr and "安装" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "r.pdf").exists()
