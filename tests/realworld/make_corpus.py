"""Build the real-world corpus: the kinds of file other projects' public test suites hold that
the toolkit once answered wrongly, each made from code, with the answer it must give in
``manifest.json`` beside this script.

Valid workbooks are the toolkit's own standard workbook (tests/hostile/make_corpus.py's base)
in a form the formats allow: with a chart sheet or an Excel 4 macro sheet, with the main part
found through ``_rels/.rels``, with backslashes in part names, as .xlsb. They must read like
the plain workbook. Encrypted ones (RC4 CryptoAPI and XOR obfuscated .xls, checked by
decrypting them with msoffcrypto-tool; .xls and .ods saved with a password by LibreOffice) must
say ``workbook-encrypted``. Huge declared ranges must cost memory by what the file holds. Broken
Word files must give a Chinese message without engine text. Manifest fields: ``via`` (check,
import or roster), ``read``, ``codes``, ``same`` (the input cells of the base), ``clean`` (no
error), ``says``/``not_says`` (text the first message must, must not hold), ``class`` (1-5, the
issue's classes).

    python tests/realworld/make_corpus.py OUT_DIR
"""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
REPO = TESTS.parent
for _p in (str(REPO), str(TESTS), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import biff  # noqa: E402
from hostile.make_corpus import LAUGHS, Base, _renamed, biff8, make_base, rezip, strip_meta, with_prolog  # noqa: E402

MANIFEST = HERE / "manifest.json"
PASSWORD = "nianbao-2024"

Builder = Callable[[Path, Base], None]
CASES: dict[str, Builder] = {}
NEEDS: dict[str, str] = {}


def case(name: str, needs: str | None = None) -> Callable[[Builder], Builder]:
    def register(func: Builder) -> Builder:
        assert name not in CASES, name
        CASES[name] = func
        if needs:
            NEEDS[name] = needs
        return func
    return register


def bytes_case(name: str, make: Callable[[Base], bytes], needs: str | None = None) -> None:
    case(name, needs)(lambda path, base: path.write_bytes(make(base)))


def openpyxl_edit(data: bytes, change: Callable) -> bytes:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    change(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def zip_entries(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in parts.items():
            info = zipfile.ZipInfo(name, (2024, 12, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    return out.getvalue()


# ---------------------------------------------------------------- 1. valid workbooks of every shape


def _chart_sheet(wb) -> None:
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.title = "申请数量"
    chart.add_data(Reference(wb["表三"], min_col=4, max_col=9, min_row=6, max_row=6))
    sheet = wb.create_chartsheet("图表1", 0)  # first, as Excel puts a chart moved to its own sheet
    sheet.add_chart(chart)


bytes_case("chart-sheet.xlsx", lambda b: openpyxl_edit(b.data, _chart_sheet))
bytes_case("chart-sheet-renamed.xlsx", lambda b: openpyxl_edit(b.data, lambda wb: (_chart_sheet(wb), _renamed(wb))))

_MACRO_SHEET = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<xm:macrosheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><sheetData>'
                b'<row r="1"><c r="A1" t="str"><f>ALERT("\xe8\xaf\xb7\xe6\xa0\xb8\xe5\xaf\xb9")</f><v>TRUE</v></c></row>'
                b'<row r="2"><c r="A2" t="str"><f>RETURN()</f><v>TRUE</v></c></row></sheetData></xm:macrosheet>')


def _with_macro_sheet(base: Base) -> bytes:
    """An Excel 4 macro sheet ("Macro1", xl/macrosheets/) added as Excel stores it."""
    parts = entries(base.data)
    parts["xl/workbook.xml"] = re.sub(
        rb"(<sheets>)", b'\\1<sheet xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        b'name="Macro1" sheetId="99" r:id="rIdMacro1"/>', parts["xl/workbook.xml"], count=1)
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdMacro1" Type="http://schemas.microsoft.com/office/2006/'
        b'relationships/xlMacrosheet" Target="macrosheets/sheet1.xml"/></Relationships>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/macrosheets/sheet1.xml" '
        b'ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>').replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    parts["xl/macrosheets/sheet1.xml"] = _MACRO_SHEET
    return zip_entries(parts)


bytes_case("macro-sheet.xlsm", _with_macro_sheet)
bytes_case("macro-sheet-renamed.xlsm", lambda b: _with_macro_sheet(Base(b.path, openpyxl_edit(b.data, _renamed), b.values)))


def _moved_main(base: Base, prefix: str, main: str) -> bytes:
    """Every ``xl/`` part moved under ``prefix`` and the workbook part renamed ``main``: only
    _rels/.rels and [Content_Types].xml say where the workbook is (the package format allows any
    part name)."""
    out = {}
    for name, content in entries(base.data).items():
        if name.startswith("xl/"):
            name = prefix + name[3:]
        if name == prefix + "workbook.xml":
            name = prefix + main
        if name == prefix + "_rels/workbook.xml.rels":
            name = prefix + "_rels/" + main + ".rels"
        if name in ("[Content_Types].xml", "_rels/.rels") or name.endswith(".rels"):
            content = content.replace(b'"/xl/workbook.xml"', f'"/{prefix}{main}"'.encode())
            content = content.replace(b'"xl/workbook.xml"', f'"{prefix}{main}"'.encode())
            content = content.replace(b'"/xl/', f'"/{prefix}'.encode())
        out[name] = content
    return zip_entries(out)


bytes_case("main-part-at-root.xlsx", lambda b: _moved_main(b, "", "workbook.xml"))
bytes_case("main-part-renamed.xlsx", lambda b: _moved_main(b, "xl/", "book.xml"))
bytes_case("backslash-names.xlsx", lambda b: zip_entries({n.replace("/", "\\"): c for n, c in entries(b.data).items()}))
_STRICT = {b"http://schemas.openxmlformats.org/spreadsheetml/2006/main": b"http://purl.oclc.org/ooxml/spreadsheetml/main",
           b"http://schemas.openxmlformats.org/officeDocument/2006/relationships":
           b"http://purl.oclc.org/ooxml/officeDocument/relationships"}


def _strict(base: Base) -> bytes:
    """The workbook in Strict Open XML (Excel's 'Strict Open XML Spreadsheet'): ISO namespaces."""
    out = {}
    for name, content in entries(base.data).items():
        for transitional, strict in _STRICT.items():
            content = content.replace(transitional, strict)
        out[name] = content
    return zip_entries(out)


bytes_case("strict-ooxml.xlsx", _strict)
bytes_case("standard.xlsb", lambda b: __import__("xlsb").from_workbook(b.path))


@case("chart-sheet-no-meta.xlsb")
def _chart_xlsb(path: Path, base: Base) -> None:
    import xlsb

    plain = path.parent / "_plain-for-xlsb.xlsx"
    plain.write_bytes(openpyxl_edit(base.data, strip_meta))
    path.write_bytes(xlsb.from_workbook(plain, chart_sheet="图表1"))
    plain.unlink()


@case("roster-with-chart-sheet.xlsx")
def _roster_chart(path: Path, base: Base) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名册"
    ws.append(["单位名称", "联系人", "联系电话"])
    for i, name in enumerate(("蓼堤镇人民政府", "城关镇人民政府", "县教育局"), 1):
        ws.append([name, f"联系人{i}", f"0370-848000{i}"])
    _chart_on(wb, ws)
    wb.save(path)


@case("roster-with-chart-sheet.xlsb")
def _roster_chart_xlsb(path: Path, base: Base) -> None:
    import xlsb

    rows = [["单位名称", "联系人"], ["蓼堤镇人民政府", "张三"], ["城关镇人民政府", "李四"]]
    cells = {(r, c): v for r, row in enumerate(rows, 1) for c, v in enumerate(row, 1)}
    path.write_bytes(xlsb.xlsb_bytes([{"name": "图表", "chart": True}, {"name": "名册", "cells": cells}]))


def _chart_on(wb, ws) -> None:
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.add_data(Reference(ws, min_col=1, min_row=1, max_row=4))
    wb.create_chartsheet("图表", 0).add_chart(chart)


# ---------------------------------------------------------------- 2. every encryption


def _lo_records(base: Base) -> list[list]:
    return biff.records(biff.workbook_stream(base.soffice["xls"]))


def _small_records() -> list[list]:
    """A one-sheet workbook small enough for its Workbook stream to live in the mini stream."""
    recs = biff.records(biff.workbook_stream(biff8({(0, 0): "单位名称", (1, 0): "蓼堤镇人民政府", (1, 1): 12})))
    return [r for r in recs if r != [0, b""]]


def _checked(xls: bytes, recs: list[list]) -> bytes:
    """``xls`` after msoffcrypto-tool decrypted it back to ``recs`` (FILEPASS aside)."""
    back = biff.records(biff.decrypted(xls, PASSWORD))
    plain = biff.records(biff.join(biff.with_filepass(recs, bytes(len(back[1][1])))))
    assert [r for i, r in enumerate(back) if i != 1] == [r for i, r in enumerate(plain) if i != 1], \
        "encryption does not round-trip"
    return xls


bytes_case("rc4-cryptoapi.xls", lambda b: _checked(biff.ole_file(
    {"Workbook": biff.encrypt_cryptoapi(_lo_records(b), PASSWORD)}, mini=True), _lo_records(b)), needs="soffice")
bytes_case("rc4-cryptoapi-small.xls", lambda b: _checked(biff.ole_file(
    {"Workbook": biff.encrypt_cryptoapi(_small_records(), PASSWORD)}, mini=True), _small_records()))
bytes_case("xor-obfuscated.xls", lambda b: _checked(biff.ole_file(
    {"Workbook": biff.encrypt_xor(_lo_records(b), PASSWORD)}, mini=True), _lo_records(b)), needs="soffice")
bytes_case("xor-obfuscated-small.xls", lambda b: _checked(biff.ole_file(
    {"Workbook": biff.encrypt_xor(_small_records(), PASSWORD)}, mini=True), _small_records()))


def _read_only_recommended(base: Base) -> bytes:
    """WRITEPROTECT ("open read-only recommended") before FILEPASS, as [MS-XLS] orders them."""
    recs = _small_records()
    stream = biff.encrypt_cryptoapi(recs, PASSWORD)
    first = 4 + struct.unpack_from("<H", stream, 2)[0]
    return biff.ole_file({"Workbook": stream[:first] + struct.pack("<HH", 0x0086, 0) + stream[first:]}, mini=True)


bytes_case("rc4-read-only-recommended.xls", _read_only_recommended)


_DEFAULT = "VelvetSweatshop"  # Excel's password for a protected workbook without an open password
bytes_case("default-password-cryptoapi.xls", lambda b: biff.ole_file(
    {"Workbook": biff.encrypt_cryptoapi(_lo_records(b), _DEFAULT)}, mini=True), needs="soffice")
bytes_case("default-password-xor.xls", lambda b: biff.ole_file(
    {"Workbook": biff.encrypt_xor(_lo_records(b), _DEFAULT)}, mini=True), needs="soffice")


@case("libreoffice-default-password.xls", needs="soffice")
def _lo_default_password(path: Path, base: Base) -> None:
    from soffice import soffice_save_as

    soffice_save_as(base.path, path, "MS Excel 97", _DEFAULT)


@case("libreoffice-password.xls", needs="soffice")
def _lo_password_xls(path: Path, base: Base) -> None:
    from soffice import soffice_save_as

    soffice_save_as(base.path, path, "MS Excel 97", PASSWORD)


@case("libreoffice-password.ods", needs="soffice")
def _lo_password_ods(path: Path, base: Base) -> None:
    from soffice import soffice_save_as

    soffice_save_as(base.path, path, "calc8", PASSWORD)


# ---------------------------------------------------------------- 3. memory by what a file holds


def _far(base: Base, extra: list[list]) -> bytes:
    """The LibreOffice .xls with ``extra`` records at the end of 表三 (its fourth sheet), whose
    DIMENSIONS then claims 65,536 rows x 256 columns."""
    return biff.ole_file({"Workbook": biff.join(biff.place_far(_lo_records(base), 3, extra, 65536, 256))})


bytes_case("declared-65536x256.xls", lambda b: biff.ole_file({"Workbook": biff.join(biff.place_far(
    _small_records(), 0, [biff.number(65535, 255, 1.0)], 65536, 256))}))
bytes_case("far-cell.xls", lambda b: _far(b, [biff.number(65535, 255, 1.0)]), needs="soffice")
bytes_case("shared-formulas.xls", lambda b: _far(b, biff.shared_formula_block(40, 65535, 0, 255)), needs="soffice")


bytes_case("far-cell.xlsb", lambda b: __import__("xlsb").from_workbook(b.path, extra={"表三": {(65536, 256): 1.0}}))


@case("large-report.docx")
def _large_report(path: Path, base: Base) -> None:
    """The base report rendered to Word, its narrative grown to 9,000 paragraphs written as Word
    writes them (a run every few characters, each with its fonts, size and language): about
    0.9 MB of zip, 30 MB of XML."""
    import random

    from toolkit.render import render_report
    from toolkit.readers import read_report

    rendered = render_report(read_report(base.path).data, "docx")
    rnd = random.Random(5)
    RSIDS = ("00A1B2C3", "00D4E5F6", "0012AB34")
    words = "政府信息公开工作年度报告本机关坚持以人民为中心主动公开依申请公开平台建设监督保障"
    phrases = ["".join(rnd.choice(words) for _ in range(10)) for _ in range(40)]
    font = ('<w:rPr><w:rFonts w:ascii="仿宋_GB2312" w:eastAsia="仿宋_GB2312" w:hAnsi="仿宋_GB2312" w:hint="eastAsia"/>'
            '<w:sz w:val="32"/><w:szCs w:val="32"/><w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr>')
    paragraphs = "".join(
        '<w:p><w:pPr><w:spacing w:line="560" w:lineRule="exact"/><w:ind w:firstLineChars="200"/></w:pPr>'
        + "".join(f'<w:r w:rsidR="{rnd.choice(RSIDS)}">{font}<w:t>{rnd.choice(phrases)}</w:t></w:r>'
                  for _ in range(12)) + "<w:r><w:t>。</w:t></w:r></w:p>"
        for _ in range(9000)).encode()

    def grow(xml: bytes) -> bytes:
        at = xml.index("一是公开内容不够全面".encode())
        start = xml.rindex(b"<w:p>", 0, at) if b"<w:p>" in xml[:at] else xml.rindex(b"<w:p ", 0, at)
        return xml[:start] + paragraphs + xml[start:]

    path.write_bytes(rezip(rendered, {"word/document.xml": grow}))


# ---------------------------------------------------------------- 4. broken Word files


_REPORTS: dict[str, bytes] = {}


def _report_docx(base: Base) -> bytes:
    """The base report rendered to Word by the toolkit (what a county publishes)."""
    if str(base.path) not in _REPORTS:
        from toolkit.render import render_report
        from toolkit.readers import read_report

        _REPORTS[str(base.path)] = render_report(read_report(base.path).data, "docx")
    return _REPORTS[str(base.path)]


def _duplicate_core(data: bytes) -> bytes:
    return rezip(data, {"_rels/.rels": lambda x: x.replace(b"</Relationships>", b'<Relationship Id="rIdDup" Type="'
                        b'http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
                        b'Target="docProps/core.xml"/></Relationships>')})


bytes_case("docx-two-core-properties.docx", lambda b: _duplicate_core(_report_docx(b)))
bytes_case("docx-styles-missing.docx", lambda b: rezip(_report_docx(b), drop=("word/styles.xml",)))
bytes_case("docx-document-missing.docx", lambda b: rezip(_report_docx(b), drop=("word/document.xml",)))
bytes_case("docx-truncated.docx", lambda b: _report_docx(b)[:-300])
bytes_case("docx-bad-xml.docx", lambda b: rezip(_report_docx(b), {"word/document.xml": lambda x: x[: len(x) // 2]}))
bytes_case("docx-no-content-types.docx", lambda b: rezip(_report_docx(b), drop=("[Content_Types].xml",)))
bytes_case("docx-wrong-main-type.docx", lambda b: rezip(_report_docx(b), {"[Content_Types].xml": lambda x: x.replace(
    b"wordprocessingml.document.main+xml", b"spreadsheetml.sheet.main+xml")}))


# ---------------------------------------------------------------- 5. wording


def _sheet_part(base: Base, sheet: str) -> str:
    return base.part(sheet)


bytes_case("sheet-part-corrupt.xlsx", lambda b: rezip(b.data, {_sheet_part(b, "表三"): lambda x: x.replace(
    b"<sheetData>", b"<sheetData><row <c \x01>", 1)}))
bytes_case("package-rels-corrupt.xlsx", lambda b: rezip(b.data, {"_rels/.rels": b"<Relationships><Relat"}))
bytes_case("package-rels-dtd.xlsx", lambda b: rezip(b.data, {"_rels/.rels": with_prolog(LAUGHS)}))
bytes_case("shared-strings-dtd.xlsx", lambda b: rezip(b.data, {"xl/sharedStrings.xml": with_prolog(LAUGHS)}))


def _crc_broken(base: Base, part: str) -> bytes:
    blob = bytearray(rezip(base.data))
    with zipfile.ZipFile(io.BytesIO(bytes(blob))) as zf:
        info = zf.getinfo(part)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + info.compress_size // 3, start + info.compress_size // 3 + 8):
        blob[k] ^= 0x5A
    return bytes(blob)


bytes_case("sheet-data-corrupt.xlsx", lambda b: _crc_broken(b, _sheet_part(b, "表三")))


def _old_biff(bof: int, bof_body: bytes, cells: bytes) -> bytes:
    return struct.pack("<HH", bof, len(bof_body)) + bof_body + cells + struct.pack("<HH", 0x000A, 0)


def _label34(row: int, col: int, text: str) -> bytes:
    raw = text.encode("gbk")
    body = struct.pack("<HHHH", row, col, 0x0F, len(raw)) + raw
    return struct.pack("<HH", 0x0204, len(body)) + body


bytes_case("excel4.xls", lambda b: _old_biff(0x0409, struct.pack("<HHH", 0, 0x0010, 0), _label34(0, 0, "单位名称")))
bytes_case("excel3.xls", lambda b: _old_biff(0x0209, struct.pack("<HHH", 0, 0x0010, 0), _label34(0, 0, "单位名称")))
bytes_case("excel2.xls", lambda b: _old_biff(0x0009, struct.pack("<HH", 2, 0x0010),
                                             struct.pack("<HH", 0x0003, 15) + struct.pack("<HH3sd", 0, 0, b"\0\0\0", 12.0)))


def _rows_below(base: Base) -> bytes:
    """表三 with a note typed 6,000 rows down (a stray space far below, as people leave)."""
    return openpyxl_edit(base.data, lambda wb: wb["表三"].cell(6000, 1, "备注"))


bytes_case("sheet-over-row-limit.xlsx", _rows_below)


@case("roster-over-row-limit.xlsx")
def _roster_rows(path: Path, base: Base) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单位名称", "联系电话"])
    for name in ("蓼堤镇人民政府", "城关镇人民政府"):
        ws.append([name, "0370-8480001"])
    ws.cell(6000, 3, " ")
    wb.save(path)


# ---------------------------------------------------------------- building


@dataclass
class Corpus:
    directory: Path
    base: Base
    files: dict[str, Path]
    manifest: dict[str, dict]
    skipped: dict[str, str]


def load_manifest() -> dict[str, dict]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def build_corpus(directory: str | Path, *, only: list[str] | None = None) -> Corpus:
    """Write every case into ``directory``/files (created)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    base = make_base(directory / "_base")
    have = {"soffice": bool(base.soffice)}
    out = directory / "files"
    out.mkdir(exist_ok=True)
    files, skipped = {}, {}
    for name, build in CASES.items():
        if only is not None and name not in only:
            continue
        need = NEEDS.get(name)
        if need and not have[need]:
            skipped[name] = f"needs {need}"
            continue
        build(out / name, base)
        files[name] = out / name
    return Corpus(directory, base, files, load_manifest(), skipped)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[0])
        print("usage: python tests/realworld/make_corpus.py OUT_DIR")
        return 2
    corpus = build_corpus(argv[0])
    shutil.copy(MANIFEST, corpus.directory / "manifest.json")
    print(f"{len(corpus.files)} files in {corpus.directory / 'files'}")
    for name, why in corpus.skipped.items():
        print(f"skipped {name}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
