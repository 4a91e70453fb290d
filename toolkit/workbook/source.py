"""The one low-level reading interface: a workbook file in; cell values, formulas, merged ranges
and what the file recorded about itself out.

``open_source(path)`` sniffs the bytes (never the suffix), checks the container before any
parser sees it, and returns a :class:`WorkbookSource`. Engines: python-calamine (primary: xlsx,
xlsm, xlsb, xls, ods, and WPS .et, which is an xls or xlsx inside) and openpyxl read-only (fallback
for xlsx/xlsm). Formulas come from a targeted, defused parse of the ``<f>`` elements of the
sheets asked for, whatever the engine.

Hardening (limits in :class:`Limits`): file size; zip entry count, declared and actual
uncompressed sizes and compression ratio, deflate/stored only; every XML parse through
defusedxml with DTDs forbidden; rows and columns read capped (an xlsx sheet is pre-scanned before
the engine builds its grid); encrypted OLE packages and legacy non-workbook files recognised.
Fatal problems raise :class:`SourceError` whose ``code`` is a finding code and whose message is
Chinese and names the file.
"""

from __future__ import annotations

import collections
import datetime as _dt
import io
import math
import os
import re
import stat
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

from toolkit.model import Finding

Pos = tuple[int, int]  # 1-based (row, col)


class SourceError(Exception):
    """A file that cannot be read at all. ``code`` is a finding code (e.g. ``not-a-workbook``)."""

    def __init__(self, code: str, message: str, path: str | Path | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = None if path is None else str(path)


@dataclass(frozen=True)
class Limits:
    """What a single file may cost. Anything above is refused (or, for sheets, cut) before parsing."""

    max_file_bytes: int = 64 * 1024 * 1024
    max_entries: int = 2000
    max_entry_bytes: int = 128 * 1024 * 1024  # one zip entry, uncompressed
    max_total_bytes: int = 256 * 1024 * 1024  # all entries, uncompressed
    max_ratio: int = 1000  # uncompressed / compressed, for entries over 1 MB
    max_rows: int = 5000
    max_cols: int = 256
    max_cells: int = 500_000  # cell elements in one xlsx sheet
    isolate: bool = True  # read each file in the helper process, within the budgets below (see _Helper)
    isolate_binary: bool = True  # else still parse xls/xlsb there (calamine can abort on damaged BIFF)
    engine_seconds: float = 60.0  # time budget: the helper's time for one file
    memory_bytes: int = 2 * 1024 * 1024 * 1024  # memory budget: the helper's address space


DEFAULT_LIMITS = Limits()

KINDS = ("xlsx", "xlsm", "xlsb", "xls", "ods", "et")
_DEFLATE_MAX_RATIO = 1032  # deflate cannot expand more than this: bounds an entry that lies
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_CP = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
NS_DCTERMS = "http://purl.org/dc/terms/"


# ---------------------------------------------------------------- messages


def _fail(code: str, path: Path, reason: str = "") -> SourceError:
    from toolkit.checks import reading_findings  # noqa: F401  (registers the codes)
    from toolkit.checks.catalogue import finding_type

    message = finding_type(code).template.format(file=path.name or str(path), reason=reason)
    error = SourceError(code, message, path)
    error.reason = reason
    return error


def _note(code: str, **fields: Any) -> Finding:
    from toolkit.checks import reading_findings  # noqa: F401
    from toolkit.checks.catalogue import finding_type

    return finding_type(code).make(**fields)


# ---------------------------------------------------------------- reading the bytes


def _read_bytes(path: Path, limits: Limits) -> bytes:
    # opened without blocking and checked on the open file: a path swapped for a named pipe
    # between a check and the open cannot make the read wait forever
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        if os.path.islink(path):
            raise _fail("file-unreadable", path, "是一个指向不存在文件的快捷方式（链接）") from None
        raise _fail("file-unreadable", path, "文件不存在") from None
    except OSError as exc:
        if os.path.isdir(path):
            raise _fail("file-unreadable", path, "这是一个文件夹，不是文件") from None
        raise _fail("file-unreadable", path, _os_reason(exc)) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_size > limits.max_file_bytes:
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            raise _fail("file-unreadable", path, "这是一个文件夹，不是文件")
        if not stat.S_ISREG(st.st_mode):
            raise _fail("file-unreadable", path, "不是普通文件")
        raise _fail("file-too-large", path,
                    f"有{st.st_size / 1048576:.0f}MB（上限{limits.max_file_bytes // 1048576}MB）")
    with os.fdopen(fd, "rb") as fh:
        try:
            data = fh.read(limits.max_file_bytes + 1)
        except OSError as exc:
            raise _fail("file-unreadable", path, _os_reason(exc)) from None
    if len(data) > limits.max_file_bytes:
        raise _fail("file-too-large", path, f"超过{limits.max_file_bytes // 1048576}MB")
    return data


def _os_reason(exc: OSError) -> str:
    """Why the system would not let a file be read, in Chinese."""
    import errno

    reasons = {
        errno.EACCES: "没有读取权限", errno.EPERM: "没有读取权限", errno.ENOTDIR: "路径中有一段不是文件夹",
        errno.ELOOP: "快捷方式（链接）循环指向自己", errno.ENAMETOOLONG: "文件名或路径过长",
        errno.EIO: "读取出错（磁盘或网络故障）", errno.ENOENT: "文件不存在",
    }
    return reasons.get(exc.errno) or f"系统错误（错误号{exc.errno}）"


def _looks_like_text(head: bytes) -> str | None:
    stripped = head.lstrip(b"\xef\xbb\xbf\xff\xfe\xfe\xff \t\r\n").lower()
    if stripped.startswith(b"%pdf"):
        return "是PDF文件"
    if stripped.startswith(b"{\\rtf"):
        return "是RTF文档"
    if stripped.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")) or b"<html" in stripped[:512]:
        return "是网页（HTML）文件，只是扩展名为表格"
    if stripped.startswith(b"<?xml"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in head or b"progid=\"excel.sheet\"" in stripped:
            return "是Excel 2003 XML表格，请用Excel另存为.xlsx"
        return "是XML文件"
    text = _decode_text(head)
    if text is None:
        return None
    if all(ch.isprintable() or ch in "\r\n\t" for ch in text[:2000]):
        if "," in text or "\t" in text:
            return "是文本文件（CSV或制表符分隔），不是工作簿"
        return "是文本文件"
    return None


def _decode_text(head: bytes) -> str | None:
    """The start of a file as text (UTF-8 or UTF-16 with a byte order mark, UTF-8, GB18030), or
    None; a character cut at the end of ``head`` is dropped."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "gb18030"]
    for encoding in candidates:
        for cut in range(4):
            try:
                return head[: len(head) - cut].decode(encoding)
            except UnicodeDecodeError:
                continue
    return None


# ---------------------------------------------------------------- OLE compound files (xls, et, encrypted)


def ole_stream_names(data: bytes) -> set[str]:
    """Names of the entries in an OLE compound file's directory; raises ValueError if malformed."""
    return set(_ole_directory(data)[0])


def _ole_directory(data: bytes) -> tuple[dict[str, tuple[int, int]], list[int], int]:
    """(name -> (first sector, size) of each storage/stream, the FAT, the sector size)."""
    if len(data) < 512 or not data.startswith(_OLE_MAGIC):
        raise ValueError("not an OLE compound file")
    shift = struct.unpack_from("<H", data, 0x1E)[0]
    if shift not in (9, 12):
        raise ValueError("bad sector size")
    size = 1 << shift
    n_sectors = max(0, (len(data) - 512) // size + (1 if (len(data) - 512) % size else 0))
    first_dir, = struct.unpack_from("<I", data, 0x30)
    n_difat, = struct.unpack_from("<I", data, 0x48)
    first_difat, = struct.unpack_from("<I", data, 0x44)
    fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < 0xFFFFFFFA]
    difat, seen = first_difat, set()
    per = size // 4
    while difat < 0xFFFFFFFA and len(seen) < n_difat + 1:
        if difat in seen or difat >= n_sectors:
            raise ValueError("bad DIFAT chain")
        seen.add(difat)
        off = 512 + difat * size
        entries = struct.unpack_from(f"<{per}I", data, off) if off + size <= len(data) else ()
        if not entries:
            raise ValueError("truncated DIFAT")
        fat_sectors.extend(s for s in entries[:-1] if s < 0xFFFFFFFA)
        difat = entries[-1]
    fat: list[int] = []
    for s in fat_sectors:
        off = 512 + s * size
        if s >= n_sectors or off + size > len(data):
            raise ValueError("FAT sector outside the file")
        fat.extend(struct.unpack_from(f"<{per}I", data, off))
    names: dict[str, tuple[int, int]] = {}
    sector, visited = first_dir, set()
    while sector < 0xFFFFFFFA:
        if sector in visited or sector >= len(fat) or sector >= n_sectors:
            raise ValueError("bad directory chain")
        visited.add(sector)
        off = 512 + sector * size
        for i in range(size // 128):
            entry = data[off + i * 128: off + (i + 1) * 128]
            if len(entry) < 128:
                raise ValueError("truncated directory")
            name_len = struct.unpack_from("<H", entry, 64)[0]
            if entry[66] in (1, 2, 5) and 2 <= name_len <= 64:
                start, length = struct.unpack_from("<IQ", entry, 116)
                names.setdefault(entry[: name_len - 2].decode("utf-16-le", "replace"), (start, length))
        sector = fat[sector]
    return names, fat, size


def _ole_stream_head(data: bytes, name: str, n: int) -> bytes | None:
    """The first ``n`` bytes of a stream stored in regular sectors (None for a small stream kept
    in the mini stream, or when the chain is broken)."""
    try:
        entries, fat, size = _ole_directory(data)
    except (ValueError, struct.error):
        return None
    if name not in entries or entries[name][1] < 4096:
        return None
    sector, length = entries[name]
    out, seen = b"", set()
    while len(out) < min(n, length) and sector < len(fat) and sector not in seen:
        seen.add(sector)
        out += data[512 + sector * size: 512 + (sector + 1) * size]
        sector = fat[sector]
    return out[:min(n, length)]


def _biff_encrypted(data: bytes) -> bool:
    """Whether a BIFF workbook stream starts with BOF then FILEPASS: a password-protected .xls
    (the engine only says it cannot detect the format)."""
    for name in ("Workbook", "Book", "WORKBOOK", "BOOK"):
        head = _ole_stream_head(data, name, 512)
        if head and len(head) >= 8:
            kind, length = struct.unpack_from("<HH", head, 0)
            if kind in (0x0809, 0x0409, 0x0209, 0x0009) and len(head) >= 8 + length:
                return struct.unpack_from("<H", head, 4 + length)[0] == 0x002F
    return False


def _sniff_ole(data: bytes, path: Path) -> str:
    try:
        names = ole_stream_names(data)
    except (ValueError, struct.error):
        raise _fail("workbook-damaged", path, "文件结构不完整") from None
    if {"EncryptionInfo", "EncryptedPackage"} & names:
        raise _fail("workbook-encrypted", path)
    if {"Workbook", "Book", "WORKBOOK", "BOOK"} & names:
        if _biff_encrypted(data):
            raise _fail("workbook-encrypted", path)
        return "xls"
    if "WordDocument" in names:
        raise _fail("not-a-workbook", path, "是Word文档（.doc）")
    if "PowerPoint Document" in names:
        raise _fail("not-a-workbook", path, "是PowerPoint演示文稿")
    raise _fail("not-a-workbook", path, "是其他Office文件，不含工作表")


# ---------------------------------------------------------------- zip containers (xlsx, xlsm, xlsb, ods)


def _check_zip(zf: zipfile.ZipFile, path: Path, limits: Limits) -> None:
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise _fail("file-too-large", path, f"压缩包内有{len(infos)}个文件（上限{limits.max_entries}）")
    folded = {info.filename.replace("\\", "/").casefold() for info in infos}
    if len(folded) < len(infos):  # readers disagree on which of two same-named parts counts
        raise _fail("workbook-damaged", path, "压缩包中有重名的部件")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise _fail("workbook-encrypted", path)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _fail("workbook-damaged", path, "使用了不支持的压缩方式")
        if info.file_size > limits.max_entry_bytes:
            raise _fail("file-too-large", path, f"解压后的“{info.filename[:60]}”有{info.file_size // 1048576}MB")
        if info.file_size > 1048576 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise _fail("file-too-large", path, "压缩比异常（疑似压缩炸弹）")
        total += info.file_size
    if total > limits.max_total_bytes:
        raise _fail("file-too-large", path, f"解压后共{total // 1048576}MB")
    # Declared sizes may lie. Deflate expands at most ~1032x, so an entry whose compressed size
    # bounds it under the caps is safe unread; the others are decompressed here, counting, the
    # largest first, each only as far as the budget left (entries sharing their data cannot
    # make this loop decompress more than about the total cap).
    bounds = {info.filename: _upper_bound(info) for info in infos}
    total_bound, measured = sum(bounds.values()), 0
    for info in sorted(infos, key=lambda i: bounds[i.filename], reverse=True):
        bound = bounds[info.filename]
        if bound <= limits.max_entry_bytes and total_bound <= limits.max_total_bytes:
            break
        if bound <= info.file_size and bound <= limits.max_entry_bytes:
            continue  # a stored entry: its size is known
        cap = min(limits.max_entry_bytes, limits.max_total_bytes - measured)
        size = _measured_size(zf, info, path, limits, cap)
        measured += size
        bounds[info.filename] = size
        total_bound += size - bound
    if total_bound > limits.max_total_bytes:
        raise _fail("file-too-large", path, "解压后的数据超出上限（疑似压缩炸弹）")
    for info in infos:
        if info.filename.lower().endswith(_XML_PARTS) and _declares_dtd(zf, info, path, limits):
            raise _fail("workbook-damaged", path, f"“{info.filename[:60]}”含有不安全的XML内容（DTD或实体）")


_XML_PARTS = (".xml", ".rels", ".vml")
_PROLOG_MAX = 1 << 20


def _declares_dtd(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, limits: Limits) -> bool:
    """Whether an XML part has a document type declaration (no spreadsheet program writes one;
    it is how entity expansion and external entities get in). Only the prolog is read: the XML
    declaration, comments and processing instructions before the first element; a prolog longer
    than 1 MB counts as hostile."""
    import codecs

    try:
        fh = zf.open(info)
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, NotImplementedError):
        raise _fail("workbook-damaged", path, f"“{info.filename[:60]}”数据损坏") from None
    with fh:
        decoder = None
        text = ""
        pos = 0
        size = 1024  # a prolog is short: decompress little of every part
        while True:
            try:
                chunk = fh.read(size)
                size = 65536
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError):
                raise _fail("workbook-damaged", path, f"“{info.filename[:60]}”数据损坏") from None
            if decoder is None:
                utf16 = chunk.startswith((b"\xff\xfe", b"\xfe\xff")) or chunk[1:2] == b"\0" or chunk[:1] == b"\0"
                decoder = codecs.getincrementaldecoder("utf-16" if utf16 else "latin-1")("replace")
            text += decoder.decode(chunk, final=not chunk)
            while True:
                while pos < len(text) and text[pos] in "\ufeff \t\r\n":
                    pos += 1
                rest = text[pos:pos + 9]
                if rest.startswith("<!DOCTYPE") or rest.startswith("<!doctype"):
                    return True
                closer = "?>" if rest.startswith("<?") else "-->" if rest.startswith("<!--") else None
                if closer is None:
                    if len(rest) >= 9 or not chunk:
                        return False  # an element (or text) starts: the prolog is over
                    break
                end = text.find(closer, pos + 2)
                if end < 0:
                    break
                pos = end + len(closer)
            if not chunk:
                return False
            if len(text) > _PROLOG_MAX:
                return True


def _upper_bound(info: zipfile.ZipInfo) -> int:
    if info.compress_type == zipfile.ZIP_STORED:
        return info.compress_size
    return info.compress_size * _DEFLATE_MAX_RATIO + 1024


def _measured_size(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, limits: Limits, cap: int) -> int:
    """Decompress one entry counting bytes, refusing it as soon as it passes ``cap``."""
    raw_offset = info.header_offset
    fp = zf.fp
    fp.seek(raw_offset)
    header = fp.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise _fail("workbook-damaged", path, "压缩包结构损坏")
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    fp.seek(raw_offset + 30 + name_len + extra_len)
    remaining = info.compress_size
    decomp = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    size = 0
    while remaining > 0:
        chunk = fp.read(min(65536, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        if decomp is None:
            size += len(chunk)
        else:
            try:
                while chunk:
                    out = decomp.decompress(chunk, 1 << 20)
                    size += len(out)
                    if size > cap:
                        break
                    chunk = decomp.unconsumed_tail
            except zlib.error:
                raise _fail("workbook-damaged", path, "压缩数据损坏") from None
        if size > cap:
            raise _fail("file-too-large", path, "解压后的数据超出上限（疑似压缩炸弹）")
    return size


def _read_entry(zf: zipfile.ZipFile, name: str, path: Path, limits: Limits) -> bytes:
    try:
        with zf.open(name) as fh:
            data = fh.read(limits.max_entry_bytes + 1)
    except KeyError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError, NotImplementedError):
        raise _fail("workbook-damaged", path, f"“{name}”数据损坏") from None
    if len(data) > limits.max_entry_bytes:
        raise _fail("file-too-large", path, f"解压后的“{name[:60]}”超出上限")
    return data


def _parse_xml(data: bytes, path: Path, part: str):
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise _fail("workbook-damaged", path, f"“{part}”含有不安全的XML内容（DTD或实体）") from None
    except Exception:  # ParseError and expat errors
        raise _fail("workbook-damaged", path, f"“{part}”的XML内容损坏") from None


def _zip_kind(zf: zipfile.ZipFile, path: Path, limits: Limits) -> str:
    names = set(zf.namelist())
    if "xl/workbook.xml" in names or any(n.lower() == "xl/workbook.xml" for n in names):
        types = b""
        if "[Content_Types].xml" in names:
            types = _read_entry(zf, "[Content_Types].xml", path, limits)
        if "xl/vbaProject.bin" in names or b"macroEnabled" in types:
            return "xlsm"
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "mimetype" in names:
        mime = _read_entry(zf, "mimetype", path, limits)[:100].strip()
        if mime == b"application/vnd.oasis.opendocument.spreadsheet":
            return "ods"
        if mime.startswith(b"application/vnd.oasis.opendocument.text"):
            raise _fail("not-a-workbook", path, "是OpenDocument文字文档（.odt）")
        raise _fail("not-a-workbook", path, "是OpenDocument其他类型的文件")
    if "word/document.xml" in names:
        raise _fail("not-a-workbook", path, "是Word文档（.docx）")
    if "ppt/presentation.xml" in names:
        raise _fail("not-a-workbook", path, "是PowerPoint演示文稿")
    if any(n.startswith("xl/") for n in names) or "[Content_Types].xml" in names:
        raise _fail("workbook-damaged", path, "缺少工作簿的主要部分（xl/workbook.xml）")
    raise _fail("not-a-workbook", path, "是普通压缩包（zip），不是工作簿")


# ---------------------------------------------------------------- xlsx parts (engine-independent)


_CELL_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
_QUICK_BIG_CELL = re.compile(rb' r="(?:[A-Z]{2}|[A-Z][0-9]{4})')
_SCAN_BIG_CELL = re.compile(rb'<(?:\w+:)?c\s[^<>]*?\br="([A-Z]{2,3}|[A-Z](?=[0-9]{4}))([0-9]{1,7})"[^<>/]*>')
# each cell and row start tag (any prefix), with its attributes up to r=" when it has an r
_CELL_OR_ROW = re.compile(rb"<(?:\w+:)?(c|row)(?=[\s/>])(\s[^<>]*?\br=\")?")
_ROW_OR_CELL = re.compile(rb"<(?:\w+:)?(row|c)(?=[\s/>])([^<>]*)>")
_R_ATTR = re.compile(rb'\br="\$?([A-Z]{0,3})\$?([0-9]{0,7})"')
_FORMULA_TOKEN = re.compile(r'"[^"]*"|\'[^\']*\'|(?<![A-Za-z0-9_.])(\$?)([A-Z]{1,3})(\$?)([0-9]{1,7})(?![0-9A-Za-z_(])')


def col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def parse_ref(ref: str) -> Pos | None:
    m = _CELL_REF.match(ref.strip().upper())
    return (int(m.group(2)), col_number(m.group(1))) if m else None


def shift_formula(formula: str, drow: int, dcol: int) -> str:
    """A shared formula as it reads in a cell ``drow`` rows and ``dcol`` columns from its master."""

    def repl(m: re.Match) -> str:
        if m.group(2) is None:
            return m.group(0)
        c_abs, col, r_abs, row = m.group(1), m.group(2), m.group(3), m.group(4)
        c = col_number(col) if c_abs else col_number(col) + dcol
        r = int(row) if r_abs else int(row) + drow
        if c < 1 or r < 1:
            return "#REF!"
        return f"{c_abs}{col_letters(c)}{r_abs}{r}"

    return _FORMULA_TOKEN.sub(repl, formula)


@dataclass
class _XlsxParts:
    """The parts of an xlsx/xlsm package the toolkit reads itself (never through the engine)."""

    zf: zipfile.ZipFile
    path: Path
    limits: Limits
    sheet_parts: dict[str, str] = field(default_factory=dict)  # sheet name -> zip entry
    sheet_states: dict[str, str] = field(default_factory=dict)
    defined_names: dict[str, str] = field(default_factory=dict)
    _xml_cache: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def load(cls, zf: zipfile.ZipFile, path: Path, limits: Limits) -> "_XlsxParts":
        from toolkit.workbook.layout import workbook_plan

        parts = cls(zf, path, limits)
        prefix = workbook_plan().defined_name_prefix.encode()
        workbook = parts._xml("xl/workbook.xml")
        try:
            rels_xml = parts._xml("xl/_rels/workbook.xml.rels")
        except KeyError:
            rels_xml = b""
        try:
            # one defused parse of the pieces needed: sheets, the toolkit's workbook-level names
            # (not the per-cell NB_C_...), and the workbook's relationships
            doc = b"<nianbao>" + _wrap(workbook, b"workbook", _fragments(workbook, [
                rb"<(?:\w+:)?sheet\s[^<>]*>",
                rb'<(?:\w+:)?definedName(?:\s+(?!name=)[\w:]+="[^"<]*")*\s+name="' + re.escape(prefix)
                + rb'(?!C_)[^"<]*"[^<>]*>[^<]*</(?:\w+:)?definedName>']))
            if rels_xml:
                doc += _wrap(rels_xml, b"Relationships", _fragments(rels_xml, [rb"<(?:\w+:)?Relationship\s[^<>]*>"]))
            doc += b"</nianbao>"
        except ValueError:
            raise _fail("workbook-damaged", path, "“xl/workbook.xml”的XML内容损坏") from None
        root = _parse_xml(doc, path, "xl/workbook.xml")
        rels: dict[str, str] = {}
        for rel in root.iter(f"{{{NS_PKG_REL}}}Relationship"):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            full = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            rels[rel.get("Id", "")] = _normpath(full)
        for sheet in root.iter(f"{{{NS_MAIN}}}sheet"):
            name = sheet.get("name", "")
            target = rels.get(sheet.get(f"{{{NS_REL}}}id", ""))
            if target:
                parts.sheet_parts[name] = target
            parts.sheet_states[name] = sheet.get("state", "visible")
        for dn in root.iter(f"{{{NS_MAIN}}}definedName"):
            if dn.get("localSheetId") is None and dn.get("name"):
                parts.defined_names[dn.get("name")] = (dn.text or "").strip()
        return parts

    def _xml(self, name: str) -> bytes:
        if name not in self._xml_cache:
            data = _read_entry(self.zf, name, self.path, self.limits)
            if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
                raise _fail("workbook-damaged", self.path, f"“{name}”含有不安全的XML内容（DTD或实体）")
            self._xml_cache[name] = data
        return self._xml_cache[name]

    def sheet_xml(self, sheet: str) -> bytes | None:
        part = self.sheet_parts.get(sheet)
        if part is None:
            return None
        try:
            data = self._xml(part)
        except KeyError:
            raise _fail("workbook-damaged", self.path, f"缺少工作表“{sheet}”的数据") from None
        if not _complete_sheet(data):  # an engine would read a cut sheet silently, as far as it goes
            raise _fail("workbook-damaged", self.path, f"工作表“{sheet}”的数据不完整")
        return data

    def extent(self, sheet: str) -> Pos:
        """The largest row and column holding a value in ``sheet``, as far as they pass 999 rows
        or column Z (a regex scan of its XML; smaller sheets give (0, 0)). Rows and cells
        without an ``r`` attribute follow the one before, as the engines place them. A sheet
        with more than ``max_cells`` cells is refused (``file-too-large``)."""
        data = self.sheet_xml(sheet)
        if not data:
            return (0, 0)
        n_cells = cells_ref = n_rows = rows_ref = 0
        pos = 0
        while pos < len(data):  # one scan, a slice at a time (no list of every match of a huge sheet)
            end = data.find(b">", pos + 262144) + 1 or len(data)
            for (tag, ref), n in collections.Counter(_CELL_OR_ROW.findall(data, pos, end)).items():
                if tag == b"c":
                    n_cells, cells_ref = n_cells + n, cells_ref + (n if ref else 0)
                else:
                    n_rows, rows_ref = n_rows + n, rows_ref + (n if ref else 0)
            pos = end
        if n_cells > self.limits.max_cells:
            raise _fail("file-too-large", self.path,
                        f"工作表“{sheet}”有{n_cells}个单元格（上限{self.limits.max_cells}）")
        if cells_ref < n_cells or rows_ref < n_rows:
            return _sequential_extent(data)
        if not _QUICK_BIG_CELL.search(data):
            return (0, 0)
        max_row = max_col = 0
        for col, row in _SCAN_BIG_CELL.findall(data):
            max_row = max(max_row, int(row))
            max_col = max(max_col, col_number(col.decode()))
        return max_row, max_col

    def formulas(self, wanted: dict[str, set[Pos] | None], max_rows: int, max_cols: int) -> dict[str, dict[Pos, str]]:
        """Formulas of several sheets (each optionally only at some positions), in one parse."""
        docs, names = [], []
        for sheet, within in wanted.items():
            data = self.sheet_xml(sheet)
            fragments = _formula_cells(data, within) if data else []
            if fragments:
                docs.append(_wrap(data, b"worksheet", fragments))
                names.append(sheet)
        out: dict[str, dict[Pos, str]] = {sheet: {} for sheet in wanted}
        if not docs:
            return out
        root = _parse_xml(b"<nianbao>" + b"".join(docs) + b"</nianbao>", self.path, "worksheet")
        c_tag, f_tag = f"{{{NS_MAIN}}}c", f"{{{NS_MAIN}}}f"
        for sheet, sheet_root in zip(names, list(root)):
            found: dict[Pos, str] = {}
            masters: dict[str, tuple[Pos, str]] = {}
            pending: list[tuple[Pos, str]] = []
            for cell in sheet_root.iter(c_tag):
                f = cell.find(f_tag)
                pos = parse_ref(cell.get("r", ""))
                if f is None or pos is None or pos[0] > max_rows or pos[1] > max_cols:
                    continue
                text = (f.text or "").strip()
                if f.get("t") == "shared" and f.get("si") is not None:
                    if text:
                        masters[f.get("si")] = (pos, text)
                    else:
                        pending.append((pos, f.get("si")))
                        continue
                if text:
                    found[pos] = text
            for pos, si in pending:
                if si in masters:
                    (mr, mc), text = masters[si]
                    found[pos] = shift_formula(text, pos[0] - mr, pos[1] - mc)
            within = wanted[sheet]
            out[sheet] = found if within is None else {pos: t for pos, t in found.items() if pos in within}
        return out

    def errors(self, sheet: str, max_rows: int, max_cols: int) -> dict[Pos, str]:
        """Cells holding an Excel error value ("#DIV/0!"), which calamine reads as empty."""
        data = self.sheet_xml(sheet)
        if not data or b't="e"' not in data:
            return {}
        out: dict[Pos, str] = {}
        for m in _ERROR_CELL.finditer(data):
            ref = _CELL_R.search(m.group(1))
            if ref:
                pos = (int(ref.group(2)), col_number(ref.group(1).decode()))
                if pos[0] <= max_rows and pos[1] <= max_cols:
                    out[pos] = m.group(2).decode("utf-8", "replace").strip()
        return out

    def merged(self, sheet: str) -> list[tuple[int, int, int, int]]:
        data = self.sheet_xml(sheet)
        if not data or b"mergeCell" not in data:
            return []
        out = []
        for ref in re.findall(rb'<(?:\w+:)?mergeCell\s[^<>]*?ref="([A-Z0-9:$]+)"', data):
            a, _, b = ref.decode().partition(":")
            p, q = parse_ref(a), parse_ref(b or a)
            if p and q:
                out.append((p[0], p[1], q[0], q[1]))
        return out

    def doc_properties(self) -> dict[str, str]:
        out: dict[str, str] = {}
        names = set(self.zf.namelist())
        if "docProps/custom.xml" in names:
            root = _parse_xml(self._xml("docProps/custom.xml"), self.path, "docProps/custom.xml")
            for prop in root.iter(f"{{{NS_CUSTOM}}}property"):
                value = next((child.text for child in prop if child.text is not None), None)
                if prop.get("name") and value is not None:
                    out[prop.get("name")] = value.strip()
        if "docProps/core.xml" in names:
            root = _parse_xml(self._xml("docProps/core.xml"), self.path, "docProps/core.xml")
            for ns, tag in ((NS_DC, "title"), (NS_DC, "subject"), (NS_DC, "creator"), (NS_CP, "keywords"),
                            (NS_DC, "description"), (NS_CP, "category"), (NS_DCTERMS, "created"),
                            (NS_DCTERMS, "modified"), (NS_CP, "lastModifiedBy")):
                el = root.find(f"{{{ns}}}{tag}")
                if el is not None and el.text:
                    out[f"doc.{tag}"] = el.text.strip()
        return out


_SHEET_END = re.compile(rb"(?:</(?:\w+:)?worksheet>|<(?:\w+:)?worksheet\b[^<>]*/>)\s*$")


def _complete_sheet(data: bytes) -> bool:
    """Whether a sheet part ends where a whole sheet ends (its root element closed)."""
    return bool(_SHEET_END.search(data[-4096:]))


def _sequential_extent(data: bytes) -> Pos:
    """:meth:`_XlsxParts.extent` for a sheet where some rows or cells have no ``r``: a row
    without one is the row after the last, a cell without one the column after the last."""
    row = col = max_row = max_col = 0
    for m in _ROW_OR_CELL.finditer(data):
        ref = _R_ATTR.search(m.group(2))
        if m.group(1) == b"row":
            row = int(ref.group(2)) if ref and ref.group(2) else row + 1
            col = 0
            continue
        cell_row = row
        if ref and ref.group(1):
            col = col_number(ref.group(1).decode())
            cell_row = int(ref.group(2)) if ref.group(2) else row
        else:
            col += 1
        if not m.group(2).endswith(b"/"):
            max_row, max_col = max(max_row, cell_row), max(max_col, col)
    return max_row, max_col


def _root_tag(data: bytes, local: bytes) -> tuple[bytes, bytes]:
    """The start tag of the document element (with its namespace declarations) and its prefix."""
    m = re.search(rb"<((?:\w+:)?)" + local + rb"\b[^>]*>", data[:8192])
    if m is None:
        raise ValueError("no document element")
    return m.group(0), m.group(1)


def _wrap(data: bytes, local: bytes, fragments: list[bytes]) -> bytes:
    start, prefix = _root_tag(data, local)
    if start.endswith(b"/>"):
        start = start[:-2] + b">"
    return start + b"".join(fragments) + b"</" + prefix + local + b">"


_CELL_R = re.compile(rb'\sr="([A-Z]{1,3})([0-9]{1,7})"')
_ERROR_CELL = re.compile(rb'<(?:\w+:)?c(\s[^<>]*?\st="e"[^<>]*)>\s*<(?:\w+:)?v>([^<]{1,20})</(?:\w+:)?v>')


def _formula_cells(data: bytes, within: set[Pos] | None = None) -> list[bytes]:
    """``<c r=..><f ..>..</f></c>`` for each cell of a sheet holding a formula (optionally only
    at positions ``within``, plus the masters of shared formulas), cut out of the XML text to be
    parsed (with defusedxml) as one small document instead of the whole sheet."""
    try:
        _, prefix = _root_tag(data, b"worksheet")
    except ValueError:
        return []
    if b"<" + prefix + b"f" not in data:
        return []
    pattern = _formula_pattern(prefix)
    out: list[bytes] = []
    close = b"</" + prefix + b"c>"
    for m in pattern.finditer(data):
        ref = _CELL_R.search(m.group(1))
        if ref is None:
            continue
        f = m.group(2)
        if within is not None and (int(ref.group(2)), col_number(ref.group(1).decode())) not in within \
                and b'si="' not in f:
            continue
        out.append(b"<" + prefix + b'c r="' + ref.group(1) + ref.group(2) + b'">' + f + close)
    return out


@lru_cache(maxsize=8)
def _formula_pattern(prefix: bytes) -> re.Pattern:
    p = re.escape(prefix)
    return re.compile(rb"<" + p + rb"c\b([^<>]*)>\s*(<" + p + rb"f\b[^<>]*/>|<" + p + rb"f\b[^<>]*>[^<]*</" + p + rb"f>)")


def _fragments(data: bytes, patterns: list[bytes]) -> list[bytes]:
    """Elements cut out of XML text by ``patterns``; empty start tags are closed (``<x a="1"/>``)."""
    out = []
    for pattern in patterns:
        for m in re.finditer(pattern, data):
            fragment = m.group(0)
            if not fragment.endswith(b"/>") and b"</" not in fragment:
                fragment = fragment[:-1] + b"/>"
            out.append(fragment)
    return out


_ODS_ROW = re.compile(rb"<table:table-row(?=[\s/>])")
_ODS_CELL = re.compile(rb"<table:(?:covered-)?table-cell\b([^<>]*?)(/?)>")
_ODS_REPEAT = re.compile(rb'number-(?:rows|columns)-repeated="(\d+)"')


def _repeat(attrs: bytes) -> int:
    m = _ODS_REPEAT.search(attrs)
    return int(m.group(1)) if m else 1


def _check_ods(zf: zipfile.ZipFile, path: Path, limits: Limits) -> None:
    """Refuse an OpenDocument sheet whose values lie so far down or right, or repeat so often,
    that the engine would build a huge grid (trailing empty repeats, as LibreOffice writes
    them, are fine)."""
    try:
        content = _read_entry(zf, "content.xml", path, limits)
    except KeyError:
        raise _fail("workbook-damaged", path, "缺少content.xml") from None
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise _fail("workbook-damaged", path, "“content.xml”含有不安全的XML内容（DTD或实体）")
    max_rows, max_cols = limits.max_rows * 4, limits.max_cols * 4
    for table in content.split(b"<table:table ")[1:]:
        row = 0
        for attrs, body in _ods_rows(table):
            reps = _repeat(attrs)
            if b"office:value-type" in body or b"<text:" in body:
                col = 0
                for cell in _ODS_CELL.finditer(body):
                    span = _repeat(cell.group(1))
                    empty = cell.group(2) == b"/" or body.startswith(b"</table:", cell.end())
                    if not empty and (col + span > max_cols):
                        raise _fail("file-too-large", path, f"有数据超出{max_cols}列")
                    col += span
                if row + reps > max_rows:
                    raise _fail("file-too-large", path, f"有数据超出{max_rows}行")
            row += reps


def _ods_rows(table: bytes) -> Iterable[tuple[bytes, bytes]]:
    """(attributes, content) of each row element, in one pass: a row's content ends at its end
    tag or at the next row, so unclosed rows cannot make the scan quadratic."""
    starts = [m.end() for m in _ODS_ROW.finditer(table)]
    for i, start in enumerate(starts):
        limit = starts[i + 1] if i + 1 < len(starts) else len(table)
        end = table.find(b">", start, limit)
        if end < 0:
            continue
        if table[end - 1:end] == b"/":
            yield table[start:end - 1], b""
            continue
        close = table.find(b"</table:table-row>", end, limit)
        yield table[start:end], table[end + 1:close if close >= 0 else limit]


def _normpath(path: str) -> str:
    parts: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


# ---------------------------------------------------------------- values


def _clean(value: Any) -> Any:
    """A cell value as both engines agree on it; None for an empty cell."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    return value


# ---------------------------------------------------------------- the interface


class WorkbookSource:
    """One opened workbook. Rows and columns are 1-based; ``cells`` drops empty cells.

    ``kind`` is what the file is ("xlsx", "xlsm", "xlsb", "xls", "ods", or "et" for a WPS file,
    whose ``container`` says what is inside); ``engine`` the reader in use; ``notes`` non-fatal
    reading findings (e.g. ``sheet-truncated``).
    """

    kind: str
    container: str
    engine: str
    path: Path

    def __init__(self, path: Path, kind: str, container: str, data: bytes, limits: Limits,
                 zf: zipfile.ZipFile | None = None):
        self.path = path
        self.kind = kind
        self.container = container
        self.limits = limits
        self.notes: list[Finding] = []
        self._data = data
        self._zip: zipfile.ZipFile | None = None
        self._parts: _XlsxParts | None = None
        self._cells: dict[str, dict[Pos, Any]] = {}
        self._meta: dict[str, str] | None = None
        self._properties: dict[str, str] | None = None
        if container in ("xlsx", "xlsm", "xlsb", "ods"):
            self._zip = zf if zf is not None else zipfile.ZipFile(io.BytesIO(data))
        if container in ("xlsx", "xlsm"):
            self._parts = _XlsxParts.load(self._zip, path, limits)
        if container == "ods":
            _check_ods(self._zip, path, limits)

    # --- to be provided by an engine
    @property
    def sheet_names(self) -> list[str]:
        raise NotImplementedError

    def _load_cells(self, sheet: str, max_rows: int, max_cols: int) -> dict[Pos, Any]:
        raise NotImplementedError

    def _engine_merged(self, sheet: str) -> list[tuple[int, int, int, int]]:
        return []

    def hidden_sheets(self) -> set[str]:
        return set()

    # --- the interface
    @property
    def formulas_known(self) -> bool:
        """Whether :meth:`formulas` can tell (xlsx/xlsm): else it returns None."""
        return self._parts is not None

    def cells(self, sheet: str) -> dict[Pos, Any]:
        """(row, col) -> value (str, int, float, bool, datetime) of every non-empty cell."""
        if sheet not in self._cells:
            if sheet not in self.sheet_names:
                raise KeyError(sheet)
            max_rows, max_cols = self.limits.max_rows, self.limits.max_cols
            if self._parts is not None:
                rows, cols = self._parts.extent(sheet)
                if rows > max_rows or cols > max_cols:
                    self.notes.append(_note("sheet-truncated", sheet=sheet,
                                            reason=f"{max_rows}行或{max_cols}列"))
                    self._cells[sheet] = self._capped_cells(sheet, max_rows, max_cols)
                    return self._cells[sheet]
            cells = self._load_cells(sheet, max_rows, max_cols)
            if self._parts is not None:
                for pos, text in self._parts.errors(sheet, max_rows, max_cols).items():
                    cells.setdefault(pos, text)
            self._cells[sheet] = cells
        return self._cells[sheet]

    def _capped_cells(self, sheet: str, max_rows: int, max_cols: int) -> dict[Pos, Any]:
        return _openpyxl_cells(self, sheet, max_rows, max_cols)

    def formulas(self, sheet: str, within: Iterable[Pos] | None = None) -> dict[Pos, str] | None:
        """(row, col) -> formula text without "=" for xlsx/xlsm (shared formulas expanded), of
        every cell or only of the positions ``within``; None for containers whose formulas this
        reader cannot see (xls, xlsb, ods)."""
        found = self.formulas_of({sheet: within})
        return None if found is None else found[sheet]

    def formulas_of(self, wanted: dict[str, Iterable[Pos] | None]) -> dict[str, dict[Pos, str]] | None:
        """:meth:`formulas` of several sheets at once (cheaper: one parse)."""
        if self._parts is None:
            return None
        for sheet in wanted:
            if sheet not in self.sheet_names:
                raise KeyError(sheet)
        sets = {sheet: None if within is None else set(within) for sheet, within in wanted.items()}
        return self._parts.formulas(sets, self.limits.max_rows, self.limits.max_cols)

    def merged(self, sheet: str) -> list[tuple[int, int, int, int]]:
        """Merged ranges as (first row, first col, last row, last col), 1-based, inclusive."""
        if sheet not in self.sheet_names:
            raise KeyError(sheet)
        if self._parts is not None:
            return self._parts.merged(sheet)
        return self._engine_merged(sheet)

    @property
    def meta(self) -> dict[str, str]:
        """What the file recorded about itself: the hidden meta sheet (key in A, value in B),
        workbook-level defined names with the toolkit's prefix, and, when those do not give
        format, unit and year, the custom document properties (``nianbao_format`` ...). Keys are
        lower-case without prefix ("format", "unit", "year", ...). The meta sheet wins over names
        over properties; all document properties are in :attr:`properties`."""
        if self._meta is None:
            self._meta = self._read_meta()
        return self._meta

    def _read_meta(self) -> dict[str, str]:
        from toolkit.workbook.layout import workbook_plan

        plan = workbook_plan()
        prefix = plan.defined_name_prefix.lower()
        out: dict[str, str] = {}
        if self._parts is not None:
            for name, value in self._parts.defined_names.items():
                if name.lower().startswith(prefix) and not name.lower().startswith(prefix + "c_"):
                    resolved = self._resolve_name(value)
                    if resolved is not None:
                        out[name[len(prefix):].lower()] = resolved
        if plan.meta_sheet in self.sheet_names:
            for (r, c), key in sorted(self.cells(plan.meta_sheet).items()):
                if c == 1 and isinstance(key, str) and key.strip():
                    value = self.cells(plan.meta_sheet).get((r, 2))
                    if value is not None:
                        out[key.strip().lower()] = _meta_text(value)
        if not {"format", "unit", "year"} <= set(out):
            for name, value in self.properties.items():
                key = _meta_key(name, prefix)
                if key not in out and not key.startswith("doc."):
                    out[key] = value
        return out

    @property
    def properties(self) -> dict[str, str]:
        """Document properties (xlsx/xlsm): custom ones by name, core ones as "doc.title" etc."""
        if self._properties is None:
            self._properties = self._parts.doc_properties() if self._parts is not None else {}
        return self._properties

    def _resolve_name(self, value: str) -> str | None:
        value = value.strip().lstrip("=")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1].replace('""', '"')
        if re.fullmatch(r"-?\d+(\.\d+)?", value):
            return value
        sheet, _, ref = value.rpartition("!")
        sheet = sheet.strip("'").replace("''", "'")
        pos = parse_ref(ref)
        if sheet in self.sheet_names and pos:
            cell = self.cells(sheet).get(pos)
            return None if cell is None else _meta_text(cell)
        return None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
        self._cells.clear()

    def __enter__(self) -> "WorkbookSource":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _meta_key(name: str, prefix: str) -> str:
    key = name.strip()
    low = key.lower()
    for p in (prefix, "nianbao_", "nianbao.", "nianbao-"):
        if low.startswith(p) and len(low) > len(p):
            return low[len(p):]
    return key if key.startswith("doc.") else low


def _meta_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return str(value).strip()


class CalamineSource(WorkbookSource):
    """python-calamine: values of xlsx, xlsm, xlsb, xls and ods."""

    engine = "calamine"

    def __init__(self, path: Path, kind: str, container: str, data: bytes, limits: Limits,
                 zf: zipfile.ZipFile | None = None):
        super().__init__(path, kind, container, data, limits, zf)
        import python_calamine as pc

        try:
            with quiet_engine():
                self._wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        except pc.PasswordError:
            raise _fail("workbook-encrypted", path) from None
        except BaseException as exc:  # several error types for broken containers, or a Rust panic
            _reraise_interrupts(exc)
            if re.search(r"password|encrypt", str(exc), re.I):
                raise _fail("workbook-encrypted", path) from None
            raise _fail("workbook-damaged", path, _calamine_reason(exc)) from None
        self._names = list(self._wb.sheet_names)

    @property
    def sheet_names(self) -> list[str]:
        return self._names

    def hidden_sheets(self) -> set[str]:
        return {m.name for m in self._wb.sheets_metadata if str(m.visible).rsplit(".", 1)[-1] != "Visible"}

    def _sheet(self, sheet: str):
        import python_calamine as pc

        try:
            with quiet_engine():
                return self._wb.get_sheet_by_name(sheet)
        except pc.PasswordError:
            raise _fail("workbook-encrypted", self.path) from None
        except BaseException as exc:
            _reraise_interrupts(exc)
            raise _fail("workbook-damaged", self.path, f"工作表“{sheet}”的{_calamine_reason(exc)}") from None

    def _load_cells(self, sheet: str, max_rows: int, max_cols: int) -> dict[Pos, Any]:
        ws = self._sheet(sheet)
        out: dict[Pos, Any] = {}
        if ws.height == 0 or ws.width == 0:
            return out
        (r0, c0) = ws.start
        if ws.height > max_rows or ws.width > max_cols:
            self.notes.append(_note("sheet-truncated", sheet=sheet, reason=f"{max_rows}行或{max_cols}列"))
        try:
            with quiet_engine():
                rows = ws.to_python(skip_empty_area=True, nrows=max(0, min(ws.height, max_rows - r0)))
        except BaseException as exc:
            _reraise_interrupts(exc)
            raise _fail("workbook-damaged", self.path, f"工作表“{sheet}”的{_calamine_reason(exc)}") from None
        width = max(0, max_cols - c0)
        for i, row in enumerate(rows, r0 + 1):
            for j, value in enumerate(row[:width], c0 + 1):
                if value == "":
                    continue
                if type(value) is float:
                    if value.is_integer() and abs(value) < 2**53:
                        value = int(value)
                elif type(value) is not str:
                    value = _clean(value)
                    if value is None:
                        continue
                out[(i, j)] = value
        return out

    def _engine_merged(self, sheet: str) -> list[tuple[int, int, int, int]]:
        ws = self._sheet(sheet)
        try:
            ranges = ws.merged_cell_ranges or []
        except BaseException as exc:
            _reraise_interrupts(exc)
            return []
        return [(a[0] + 1, a[1] + 1, b[0] + 1, b[1] + 1) for a, b in ranges]

    def close(self) -> None:
        try:
            self._wb.close()
        except Exception:
            pass
        super().close()


class _Quiet:
    """See :func:`quiet_engine`. Nested and overlapping uses share one redirection; /dev/null is
    opened once per process (this runs several times for every file read)."""

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._depth = 0
        self._saved: int | None = None
        self._devnull: int | None = None

    def __enter__(self) -> None:
        with self._lock:
            self._depth += 1
            if self._depth > 1:
                return
            try:
                sys.stderr.flush()
            except (AttributeError, OSError, ValueError):
                pass
            try:
                if self._devnull is None:
                    self._devnull = os.open(os.devnull, os.O_WRONLY)
                saved = os.dup(2)
            except OSError:
                return
            try:
                os.dup2(self._devnull, 2)
            except OSError:
                os.close(saved)
                return
            self._saved = saved

    def __exit__(self, *exc: Any) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth or self._saved is None:
                return
            saved, self._saved = self._saved, None
            try:
                os.dup2(saved, 2)
            finally:
                os.close(saved)


_QUIET = _Quiet()


def quiet_engine() -> _Quiet:
    """Standard error (file descriptor 2) sent to /dev/null while the Rust engine runs: a panic
    on a broken file is caught as an exception, but Rust would also print it (with a backtrace
    when RUST_BACKTRACE is set), and no traceback may ever reach the user."""
    return _QUIET


def _reraise_interrupts(exc: BaseException) -> None:
    """Let Ctrl-C and exits through; anything else from the engine (even a Rust panic, which
    pyo3 raises as a BaseException) is a problem of the file."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, SourceError)):
        raise exc


def _calamine_reason(exc: BaseException) -> str:
    """What to tell the clerk when the engine gave up: in Chinese; what the engine said (English,
    for developers) stays out of the message."""
    return "内部结构无法解析"


class OpenpyxlSource(WorkbookSource):
    """openpyxl in read-only mode: the fallback engine for xlsx/xlsm."""

    engine = "openpyxl"

    def __init__(self, path: Path, kind: str, container: str, data: bytes, limits: Limits,
                 zf: zipfile.ZipFile | None = None):
        super().__init__(path, kind, container, data, limits, zf)
        if container not in ("xlsx", "xlsm"):
            raise _fail("workbook-damaged", path, "备用读取引擎只支持.xlsx/.xlsm")
        self._wb = _openpyxl_workbook(data, path)
        self._names = list(self._wb.sheetnames)

    @property
    def sheet_names(self) -> list[str]:
        return self._names

    def hidden_sheets(self) -> set[str]:
        return {n for n, s in self._parts.sheet_states.items() if s != "visible"} if self._parts else set()

    def _load_cells(self, sheet: str, max_rows: int, max_cols: int) -> dict[Pos, Any]:
        return _openpyxl_cells(self, sheet, max_rows, max_cols)

    def close(self) -> None:
        try:
            self._wb.close()
        except Exception:
            pass
        super().close()


def _openpyxl_workbook(data: bytes, path: Path):
    import warnings

    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:
        raise _fail("workbook-damaged", path, _calamine_reason(exc)) from None


def _openpyxl_cells(source: WorkbookSource, sheet: str, max_rows: int, max_cols: int) -> dict[Pos, Any]:
    wb = getattr(source, "_opx", None)
    if wb is None:
        wb = source._wb if isinstance(source, OpenpyxlSource) else _openpyxl_workbook(source._data, source.path)
        source._opx = wb
    out: dict[Pos, Any] = {}
    try:
        ws = wb[sheet]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()
        for row in ws.iter_rows(min_row=1, max_row=max_rows, max_col=max_cols):
            for cell in row:
                value = getattr(cell, "value", None)
                if value is None or value == "":
                    continue
                r, c = getattr(cell, "row", None), getattr(cell, "column", None)
                if r is None or c is None or r > max_rows or c > max_cols:
                    continue
                out[(r, c)] = _clean(value)
    except SourceError:
        raise
    except Exception as exc:
        raise _fail("workbook-damaged", source.path, f"工作表“{sheet}”的{_calamine_reason(exc)}") from None
    return out


# ---------------------------------------------------------------- the helper process
#
# Every file is read in a helper process, started once and kept for the next files, with a time
# budget (``Limits.engine_seconds``: past it the helper is killed and restarted) and a memory
# budget (``Limits.memory_bytes``, the helper's address space where the system can limit it):
# one pathological file can neither hang nor exhaust the batch, whatever part of the reading it
# finds slow. calamine parses BIFF (xls) and BIFF12 (xlsb) records trusting their length fields:
# a damaged file can make it allocate hundreds of GB, which aborts the process (no exception to
# catch); if a file kills the helper, the file is "damaged" and the next file starts a new one.
# Requests and replies are pickles between this process and its own child.

_HELPER = r"""
import datetime, io, os, pickle, signal, struct, sys

signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops this process


def _stop(signum, frame):
    raise SystemExit(143)  # SIGTERM: unwind, so that half-written outputs are removed


signal.signal(signal.SIGTERM, _stop)
inp, outp = sys.stdin.buffer, sys.stdout.buffer
sys.stdout = sys.stderr  # the pipe carries replies only
if len(sys.argv) > 1 and sys.argv[1]:
    sys.path.insert(0, sys.argv[1])


def read_exactly(n):
    chunks = []
    while n > 0:
        chunk = inp.read(n)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def set_memory(limit):
    try:
        import resource
    except ImportError:  # no address-space limit on this system: the time budget still holds
        return
    try:
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        soft = resource.RLIM_INFINITY if not limit else (limit if hard == resource.RLIM_INFINITY else min(limit, hard))
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ValueError, OSError):
        pass


def call(target, args, kwargs):
    import importlib

    module, _, name = target.partition(":")
    if not module.startswith("toolkit."):
        raise ValueError(target)
    from toolkit.workbook import source

    source._IN_HELPER = True
    return getattr(importlib.import_module(module), name)(*args, **kwargs)


OPS = {"call": call}
while True:
    try:
        head = inp.read(8)
        if len(head) < 8:
            break
        op, args, memory = pickle.loads(read_exactly(struct.unpack("<Q", head)[0]))
    except (EOFError, OSError):
        break
    set_memory(memory)
    try:
        reply = ("ok", OPS[op](*args))
    except MemoryError:
        reply = ("memory", None)
    except BaseException as exc:
        reply = ("error", exc)
    try:
        blob = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        if reply[0] == "error":
            pickle.loads(blob)
    except BaseException as exc:
        blob = pickle.dumps(("error", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}")))
    set_memory(None)
    outp.write(struct.pack("<Q", len(blob)) + blob)
    outp.flush()
    if reply[0] == "memory":
        break
"""

_IN_HELPER = False  # True inside the helper process


def in_helper() -> bool:
    """Whether this process is the reading helper (reading here is already guarded)."""
    return _IN_HELPER


class _Helper:
    """The helper process (see above); one per process that reads, restarted after a crash, a
    hang or running out of memory; a forked child starts its own."""

    _proc = None
    _lock = None
    _orphans: list = []

    @classmethod
    def _start(cls):
        import subprocess

        root = str(Path(__file__).resolve().parents[2])
        cls._proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _HELPER, root], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL)
        if not getattr(cls, "_hooks", False):
            import atexit

            atexit.register(cls.stop)
            if hasattr(os, "register_at_fork"):
                os.register_at_fork(after_in_child=cls._forget)
            cls._hooks = True
        return cls._proc

    @classmethod
    def _forget(cls) -> None:
        """In a forked child: the parent's helper belongs to the parent (its pipes are kept
        open here, never used, so that they are never closed twice)."""
        if cls._proc is not None:
            cls._orphans.append(cls._proc)
        cls._proc = None
        cls._lock = None

    @classmethod
    def call(cls, op: str, args: tuple, limits: Limits, path: Path, writes: bool = False) -> Any:
        """Run ``op`` in the helper within the budgets. Raises :class:`SourceError`
        (``file-too-large`` past the time or memory budget, ``workbook-damaged`` when the
        helper dies), or what the operation raised. ``writes``: the operation writes a file, so
        a helper stopped midway is first asked to unwind (removing its half-written output)."""
        import pickle
        import threading

        if cls._lock is None:
            cls._lock = threading.Lock()
        with cls._lock:
            proc = cls._proc
            if proc is None or proc.poll() is not None:
                proc = cls._start()
            request = pickle.dumps((op, args, limits.memory_bytes), protocol=pickle.HIGHEST_PROTOCOL)
            message = struct.pack("<Q", len(request)) + request
            try:
                if os.name == "posix":
                    reply, hung = _exchange(proc, message, limits.engine_seconds)
                else:
                    reply, hung = _exchange_threaded(proc, message, limits.engine_seconds)
            except BaseException:  # Ctrl-C: the helper is mid-file; stop it
                cls.stop(graceful=writes)
                raise
            if not reply:
                cls.stop(graceful=writes and hung)
                if hung:
                    raise _fail("file-too-large", path, f"读取超过{limits.engine_seconds:g}秒")
                raise _fail("workbook-damaged", path, "文件结构损坏，读取引擎无法处理")
            kind, value = pickle.loads(reply[0])
            if kind == "memory":
                cls.stop()
                raise _fail("file-too-large", path, f"读取所需内存超过{limits.memory_bytes / 1048576:.0f}MB")
        if kind == "error":
            raise value
        return value

    @classmethod
    def stop(cls, graceful: bool = False) -> None:
        """End the helper: at once, or (``graceful``) first asking it to unwind for a moment."""
        proc, cls._proc = cls._proc, None
        if proc is None:
            return
        if graceful and proc.poll() is None:
            try:
                proc.terminate()
                proc.wait(timeout=2)
            except Exception:
                pass
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=5)
        except Exception:
            pass


def _exchange(proc: Any, message: bytes, seconds: float) -> tuple[list[bytes], bool]:
    """Send ``message`` to the helper and wait at most ``seconds`` for its reply: ([reply],
    False), or ([], True) when the time ran out, ([], False) when the helper died."""
    import selectors
    import time

    out_fd, in_fd = proc.stdin.fileno(), proc.stdout.fileno()
    os.set_blocking(out_fd, False)
    os.set_blocking(in_fd, False)
    pending = memoryview(message)
    received = bytearray()
    need = None
    deadline = time.monotonic() + seconds
    with selectors.DefaultSelector() as selector:
        selector.register(out_fd, selectors.EVENT_WRITE)
        selector.register(in_fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return [], True
            for key, _ in selector.select(left):
                try:
                    if key.fd == out_fd:
                        pending = pending[os.write(out_fd, pending):]
                        if not pending:
                            selector.unregister(out_fd)
                        continue
                    chunk = os.read(in_fd, 1 << 20)
                except BlockingIOError:
                    continue
                except OSError:
                    return [], False
                if not chunk:
                    return [], False
                received += chunk
                if need is None and len(received) >= 8:
                    need = 8 + struct.unpack_from("<Q", received)[0]
                if need is not None and len(received) >= need:
                    return [bytes(received[8:need])], False


def _exchange_threaded(proc: Any, message: bytes, seconds: float) -> tuple[list[bytes], bool]:
    """:func:`_exchange` where pipes cannot be waited on (Windows): a thread talks."""
    import threading

    reply: list[bytes] = []

    def talk() -> None:
        try:
            proc.stdin.write(message)
            proc.stdin.flush()
            head = _read_exactly(proc.stdout, 8)
            reply.append(_read_exactly(proc.stdout, struct.unpack("<Q", head)[0]))
        except (OSError, ValueError, struct.error, EOFError):
            pass

    thread = threading.Thread(target=talk, daemon=True)
    thread.start()
    thread.join(seconds)
    return reply, thread.is_alive()


def _read_exactly(stream, n: int) -> bytes:
    chunks, left = [], n
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def call_guarded(target: str, args: tuple = (), kwargs: dict | None = None, *, path: str | Path,
                 limits: Limits = DEFAULT_LIMITS, writes: bool = False) -> Any:
    """``target(*args, **kwargs)`` ("toolkit.module:function") in the helper process, within the
    time and memory budgets of ``limits`` (run here when ``limits.isolate`` is off or this is
    the helper). Raises :class:`SourceError` (``file-too-large``, ``workbook-damaged``) naming
    ``path`` when a budget is exceeded or the helper dies, else what the function raised.
    ``writes``: the function writes an output file (see :meth:`_Helper.call`). A frozen
    application (no Python interpreter to start the helper with) runs it here."""
    if not limits.isolate or _IN_HELPER or getattr(sys, "frozen", False):
        import importlib

        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)(*args, **(kwargs or {}))
    return _Helper.call("call", (target, tuple(args), dict(kwargs or {})), limits, Path(path), writes)


def _binary_cells(data: bytes, limits: Limits, path: Path) -> dict:
    result = _Helper.call("call", ("toolkit.workbook.source:_calamine_cells", (data, limits.max_rows, limits.max_cols),
                                   {}), limits, path)
    if result.get("error") == "password":
        raise _fail("workbook-encrypted", path)
    if result.get("error"):
        if re.search(r"password|encrypt", result.get("message", ""), re.I):
            raise _fail("workbook-encrypted", path)
        raise _fail("workbook-damaged", path, "内部结构无法解析")
    return result


def _calamine_cells(data: bytes, max_rows: int, max_cols: int) -> dict:
    """Every sheet of a workbook read by python-calamine (run in the helper process)."""
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        out = {"names": list(wb.sheet_names), "hidden": [], "sheets": {}, "merged": {}, "truncated": []}
        for m in wb.sheets_metadata:
            if str(m.visible).rsplit(".", 1)[-1] != "Visible":
                out["hidden"].append(m.name)
        for name in wb.sheet_names:
            ws = wb.get_sheet_by_name(name)
            found = []
            if ws.height and ws.width:
                r0, c0 = ws.start
                if ws.height > max_rows or ws.width > max_cols:
                    out["truncated"].append(name)
                rows = ws.to_python(skip_empty_area=True, nrows=max(0, min(ws.height, max_rows - r0)))
                for i, row in enumerate(rows, r0 + 1):
                    for j, v in enumerate(row[: max(0, max_cols - c0)], c0 + 1):
                        if v != "" and v is not None:
                            found.append((i, j, v))
            out["sheets"][name] = found
            try:
                out["merged"][name] = [(a[0] + 1, a[1] + 1, b[0] + 1, b[1] + 1) for a, b in (ws.merged_cell_ranges or [])]
            except BaseException:
                out["merged"][name] = []
        return out
    except pc.PasswordError:
        return {"error": "password"}
    except MemoryError:
        raise
    except BaseException as exc:
        return {"error": "damaged", "message": (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]}


class IsolatedCalamineSource(WorkbookSource):
    """python-calamine in the helper process: xls (BIFF, also WPS .et) and xlsb."""

    engine = "calamine"

    def __init__(self, path: Path, kind: str, container: str, data: bytes, limits: Limits,
                 zf: zipfile.ZipFile | None = None):
        super().__init__(path, kind, container, data, limits, zf)
        result = _binary_cells(data, limits, path)
        self._names = list(result["names"])
        self._hidden = set(result["hidden"])
        self._all = {name: {(r, c): _clean(v) for r, c, v in cells} for name, cells in result["sheets"].items()}
        self._merged = {name: [tuple(m) for m in ranges] for name, ranges in result["merged"].items()}
        for name in result["truncated"]:
            self.notes.append(_note("sheet-truncated", sheet=name, reason=f"{limits.max_rows}行或{limits.max_cols}列"))

    @property
    def sheet_names(self) -> list[str]:
        return self._names

    def hidden_sheets(self) -> set[str]:
        return set(self._hidden)

    def _load_cells(self, sheet: str, max_rows: int, max_cols: int) -> dict[Pos, Any]:
        return {pos: v for pos, v in self._all.get(sheet, {}).items() if v is not None}

    def _engine_merged(self, sheet: str) -> list[tuple[int, int, int, int]]:
        return list(self._merged.get(sheet, []))


ENGINES = {"calamine": CalamineSource, "openpyxl": OpenpyxlSource}
_ISOLATED = ("xls", "xlsb")


def check_package(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """The container checks of a workbook (file size; zip entries, declared and actual
    uncompressed sizes, ratio, duplicate names, DTDs in XML parts) for any zip package, such as
    a Word file; raises :class:`SourceError` (``.reason`` says what in a few words)."""
    path = Path(path)
    data = _read_bytes(path, limits)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise _fail("workbook-damaged", path, "压缩结构损坏") from None
    with zf:
        _check_zip(zf, path, limits)


def sniff(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> tuple[str, str, bytes]:
    """(kind, container, bytes) of a workbook file; raises :class:`SourceError` for anything else.

    The container comes from the bytes; ``kind`` is "et" for a WPS file named ``.et``.
    """
    kind, container, data, zf = _sniff(Path(path), limits)
    if zf is not None:
        zf.close()
    return kind, container, data


def _sniff(path: Path, limits: Limits) -> tuple[str, str, bytes, zipfile.ZipFile | None]:
    data = _read_bytes(path, limits)
    zf = None
    if not data:
        raise _fail("not-a-workbook", path, "文件是空的（0字节）")
    if data.startswith(_OLE_MAGIC):
        container = _sniff_ole(data, path)
    elif data.startswith(_ZIP_MAGICS):
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise _fail("workbook-damaged", path, "文件不完整或压缩结构损坏（可能下载或复制时被截断）") from None
        except Exception:
            raise _fail("workbook-damaged", path, "压缩结构损坏") from None
        try:
            _check_zip(zf, path, limits)
            container = _zip_kind(zf, path, limits)
        except BaseException:
            zf.close()
            raise
    else:
        what = _looks_like_text(data[:4096])
        if what:
            raise _fail("not-a-workbook", path, what)
        if data[:4] in (b"\x09\x08\x10\x00", b"\x09\x04\x06\x00", b"\x09\x02\x06\x00"):
            raise _fail("not-a-workbook", path, "是早期版本的Excel文件（Excel 5.0以前），请用Excel另存为.xlsx")
        raise _fail("not-a-workbook", path, "无法识别的文件内容")
    kind = "et" if path.suffix.lower() == ".et" else container
    return kind, container, data, zf


def open_source(path: str | Path, *, engine: str = "auto", limits: Limits = DEFAULT_LIMITS) -> WorkbookSource:
    """Open a workbook for reading. ``engine``: "auto" (calamine, openpyxl if calamine cannot
    open an xlsx/xlsm), "calamine" or "openpyxl". Raises :class:`SourceError` for a file that
    cannot be read at all; never modifies the file."""
    path = Path(path)
    if engine != "auto" and engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from auto, {', '.join(ENGINES)}")
    kind, container, data, zf = _sniff(path, limits)
    try:
        if container in _ISOLATED and limits.isolate_binary and not _IN_HELPER and engine in ("auto", "calamine"):
            return IsolatedCalamineSource(path, kind, container, data, limits, zf)
        if engine == "auto":
            try:
                return CalamineSource(path, kind, container, data, limits, zf)
            except SourceError as exc:
                if exc.code != "workbook-damaged" or container not in ("xlsx", "xlsm"):
                    raise
                return OpenpyxlSource(path, kind, container, data, limits, zf)
        return ENGINES[engine](path, kind, container, data, limits, zf)
    except zipfile.BadZipFile:
        raise _fail("workbook-damaged", path, "压缩结构损坏") from None
    except KeyError as exc:
        raise _fail("workbook-damaged", path, f"缺少“{exc.args[0] if exc.args else ''}”") from None

