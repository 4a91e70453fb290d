"""``nianbao import report.pdf``: reports printed to PDF by LibreOffice (the Word draft) and by
Chromium (the web draft) import back to exactly their data; invented PDFs with labels written
down merged cells and numbers above their labels; scans and hostile PDFs are one clear finding."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent / "layouts"))

import make_pdfs  # noqa: E402
from shared_data import in_ci  # noqa: E402
from toolkit.checks.engine import check_data  # noqa: E402
from toolkit.cli import app  # noqa: E402
from toolkit.formats import load_format  # noqa: E402
from toolkit.importers import import_document, import_report  # noqa: E402
from toolkit.importers.html import parse_html  # noqa: E402
from toolkit.readers import read_report  # noqa: E402
from toolkit.render import render_report  # noqa: E402

CASES = make_pdfs.report_cases()
CONSISTENT = [name for name in CASES if name != "planted2021"]


def _need(available: bool, what: str) -> None:
    if not available:
        reason = f"{what} is not installed"
        if in_ci():
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium_pdfs(tmp_path_factory) -> dict[str, Path]:
    _need(make_pdfs.have_chromium(), "Chromium (/usr/bin/chromium) with Playwright")
    folder = tmp_path_factory.mktemp("chromium")
    pages = {folder / f"{name}.pdf": render_report(data, "html") for name, data in CASES.items()}
    pages[folder / "vertical.pdf"] = make_pdfs.vertical_labels_html(CASES["random2021"])
    pages[folder / "numbers-before-labels.pdf"] = make_pdfs.numbers_before_labels_html(CASES["random2019"])
    make_pdfs.chromium_pdfs(pages)
    return {path.stem: path for path in pages}


@pytest.fixture(scope="module")
def word_pdfs(tmp_path_factory) -> dict[str, Path]:
    _need(make_pdfs.have_soffice(), "LibreOffice (soffice)")
    folder = tmp_path_factory.mktemp("word")
    return {name: make_pdfs.word_pdf(data, folder / f"{name}.pdf") for name, data in CASES.items()}


def _same_data(path: Path, data) -> None:
    result = import_report(path)
    back = result.data
    assert back is not None, [f.message for f in result.findings]
    assert result.source_kind == "pdf"
    assert (back.format, back.unit, back.year) == (data.format, data.unit, data.year)
    fmt = load_format(data.format)
    assert {k: back.values.get(k) for k in fmt.cells} == {k: data.values.get(k) for k in fmt.cells}
    assert not [f.message for f in result.findings if f.severity == "error"]
    # the running text reads as the web draft's does (the same sections and paragraphs)
    from_html, _ = import_document(parse_html(render_report(data, "html")))
    assert back.narrative == from_html.narrative


@pytest.mark.parametrize("name", CONSISTENT)
def test_word_draft_printed_by_libreoffice_imports_to_its_data(word_pdfs, name):
    _same_data(word_pdfs[name], CASES[name])


@pytest.mark.parametrize("name", CONSISTENT)
def test_web_draft_printed_by_chromium_imports_to_its_data(chromium_pdfs, name):
    _same_data(chromium_pdfs[name], CASES[name])


def _errors(findings) -> set[tuple]:
    return {(f.code, f.sheet, f.cell) for f in findings if f.severity == "error"}


@pytest.mark.parametrize("printer", ["word_pdfs", "chromium_pdfs"])
def test_planted_error_is_found_at_its_cell(request, printer):
    planted = CASES["planted2021"]
    expected = _errors(check_data(planted))
    assert expected and all(cell for _, _, cell in expected)
    back = import_report(request.getfixturevalue(printer)["planted2021"]).data
    assert back.values["t3.new.natural"] == planted.values["t3.new.natural"]
    assert _errors(check_data(back)) == expected


def test_labels_written_down_merged_cells_are_read(chromium_pdfs):
    import pdfplumber

    path = chromium_pdfs["vertical"]
    with pdfplumber.open(path) as pdf:  # the page really stacks the characters: 理 right below 办
        chars = [c for page in pdf.pages for c in page.chars]
    stacked = [(a, b) for a in chars if a["text"] == "办" for b in chars
               if b["text"] == "理" and abs(a["x0"] - b["x0"]) < 1 and 0 < b["top"] - a["bottom"] < a["size"]]
    assert stacked
    _same_data(path, CASES["random2021"])


def test_numbers_on_the_line_before_their_label_are_read(chromium_pdfs):
    import pdfplumber

    path = chromium_pdfs["numbers-before-labels"]
    data = CASES["random2019"]
    with pdfplumber.open(path) as pdf:
        lines = [ln["text"] for page in pdf.pages for ln in page.extract_text_lines()]
    label = lines.index("规章")  # 表二 has no rules: its numbers are a line of their own, above the label
    assert lines[label - 1].split() == [str(data.values[c]) for c in ("t2.rules.made", "t2.rules.published",
                                                                     "t2.rules.public_total")]
    _same_data(path, data)


def test_scanned_pdf_is_one_clear_finding(chromium_pdfs, tmp_path):
    scan = make_pdfs.scanned_pdf(chromium_pdfs["random2021"], tmp_path / "扫描件.pdf", scale=0.5)
    for result in (import_report(scan), read_report(scan)):
        assert result.data is None
        (finding,) = result.findings
        assert finding.code == "import-unreadable"
        assert "扫描件.pdf" in finding.message and "没有文字层" in finding.message and "文字识别" in finding.message


def _unreadable(path: Path, *words: str) -> None:
    for result in (import_report(path), read_report(path)):  # read_report: in the guarded helper
        assert result.data is None
        (finding,) = result.findings
        assert finding.code == "import-unreadable" and path.name in finding.message
        for word in words:
            assert word in finding.message


def test_broken_pdfs_are_one_clear_finding(chromium_pdfs, tmp_path):
    whole = chromium_pdfs["random2021"].read_bytes()
    (tmp_path / "截断.pdf").write_bytes(whole[: len(whole) // 3])
    _unreadable(tmp_path / "截断.pdf", "损坏")
    (tmp_path / "乱码.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    _unreadable(tmp_path / "乱码.pdf", "损坏")
    (tmp_path / "文本.pdf").write_text("这不是PDF", encoding="utf-8")
    _unreadable(tmp_path / "文本.pdf", "不是PDF文件")
    from toolkit.importers.vocabulary import vocabulary

    with open(tmp_path / "巨大.pdf", "wb") as fh:  # sparse: no disk used
        fh.write(whole[:1024])
        fh.truncate(vocabulary().max_file_bytes + 1)
    _unreadable(tmp_path / "巨大.pdf", "文件过大")


def test_encrypted_pdf_is_one_clear_finding(tmp_path):
    _need(make_pdfs.have_soffice(), "LibreOffice (soffice)")
    from soffice import SOFFICE

    docx = tmp_path / "src" / "加密.docx"
    docx.parent.mkdir()
    docx.write_bytes(render_report(CASES["random2021"], "docx"))
    options = json.dumps({"EncryptFile": {"type": "boolean", "value": "true"},
                          "DocumentOpenPassword": {"type": "string", "value": "nb-2024"}})
    profile = tmp_path / "profile"
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
                    f"pdf:writer_pdf_Export:{options}", "--outdir", str(tmp_path), str(docx)],
                   capture_output=True, timeout=180, env={"HOME": str(profile), "PATH": "/usr/bin:/bin"})
    path = tmp_path / "加密.pdf"
    assert path.read_bytes().startswith(b"%PDF") and b"/Encrypt" in path.read_bytes()
    _unreadable(path, "密码")


def test_too_many_pages_or_characters_are_not_read(tmp_path, monkeypatch, chromium_pdfs):
    from PIL import Image

    import toolkit.importers.pdf as pdf_reader

    voc = pdf_reader.vocabulary()
    pages = [Image.new("1", (8, 8), 1) for _ in range(voc.max_pdf_pages + 1)]
    pages[0].save(tmp_path / "很多页.pdf", "PDF", save_all=True, append_images=pages[1:])
    _unreadable(tmp_path / "很多页.pdf", f"上限{voc.max_pdf_pages}页")
    monkeypatch.setattr(pdf_reader, "vocabulary", lambda: dataclasses.replace(voc, max_pdf_chars=500))
    result = import_report(chromium_pdfs["random2021"])
    (finding,) = result.findings
    assert result.data is None and "超过500个" in finding.message
    monkeypatch.setattr(pdf_reader, "vocabulary", lambda: dataclasses.replace(voc, max_pdf_rules=50))
    (finding,) = import_report(chromium_pdfs["random2021"]).findings
    assert "线条过多" in finding.message


def test_cli_imports_a_pdf(chromium_pdfs, tmp_path):
    out = tmp_path / "报告.json"
    res = CliRunner().invoke(app, ["import", str(chromium_pdfs["random2021"]), "-o", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["unit"] == CASES["random2021"].unit
