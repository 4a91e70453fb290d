"""What a file is, from its bytes (never its name): an OLE compound file (xls, WPS et; an
encrypted package, a Word or PowerPoint file), a zip package (xlsx, xlsm, xlsb, ods; a Word
file, a plain zip), or text, a PDF, a web page, an old BIFF file; the OLE directory is read here."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from toolkit.workbook.source.parts import canonical_package, read_whole
from toolkit.workbook.source.limits import DEFAULT_LIMITS, Limits, _fail
from toolkit.workbook.source.safety import Package, _check_zip, _read_bytes, _read_entry

KINDS = ("xlsx", "xlsm", "xlsb", "xls", "ods", "et")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


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
    """The first ``n`` bytes of a stream, in regular sectors or (a stream under the cutoff,
    usually 4,096 bytes) in the mini stream; None when it is missing or its chain is broken."""
    try:
        entries, fat, size = _ole_directory(data)
    except (ValueError, struct.error):
        return None
    if name not in entries:
        return None
    start, length = entries[name]
    cutoff = struct.unpack_from("<I", data, 0x38)[0]
    if length >= cutoff:
        return _chain(data, fat, start, size, lambda s: 512 + s * size, min(n, length))
    root = entries.get("Root Entry")
    if root is None:
        return None
    ministream = _chain(data, fat, root[0], size, lambda s: 512 + s * size, root[1])
    first_minifat, n_minifat = struct.unpack_from("<II", data, 0x3C)
    minifat_bytes = _chain(data, fat, first_minifat, size, lambda s: 512 + s * size, n_minifat * size)
    if ministream is None or minifat_bytes is None:
        return None
    minifat = list(struct.unpack_from(f"<{len(minifat_bytes) // 4}I", minifat_bytes))
    return _chain(ministream, minifat, start, 64, lambda s: s * 64, min(n, length))


def _chain(data: bytes, fat: list[int], sector: int, size: int, offset, n: int) -> bytes | None:
    """``n`` bytes following a sector chain (a FAT or the mini FAT); None if it breaks off."""
    out, seen = bytearray(), set()
    while len(out) < n:
        if sector >= len(fat) or sector in seen:
            return None
        seen.add(sector)
        chunk = data[offset(sector): offset(sector) + size]
        if not chunk:
            return None
        out += chunk
        sector = fat[sector]
    return bytes(out[:n])


_OLD_BIFF = {b"\x09\x00": "Excel 2.x", b"\x09\x02": "Excel 3.0", b"\x09\x04": "Excel 4.0"}  # BOF of BIFF2-4
_BIFF_BOFS = (0x0809, 0x0409, 0x0209, 0x0009)
_FILEPASS = 0x002F
_BIFF_EOF = 0x000A


def _biff_encrypted(data: bytes) -> bool:
    """Whether the globals of a BIFF workbook stream hold FILEPASS: a password-protected .xls
    (RC4, RC4 CryptoAPI or XOR obfuscation; the engine only says it cannot detect the format).
    FILEPASS follows BOF, or the few records [MS-XLS] allows before it (WRITEPROTECT)."""
    for name in ("Workbook", "Book", "WORKBOOK", "BOOK"):
        head = _ole_stream_head(data, name, 8192)
        if not head or len(head) < 4 or struct.unpack_from("<H", head, 0)[0] not in _BIFF_BOFS:
            continue
        pos = 0
        for _ in range(16):
            if pos + 4 > len(head):
                break
            kind, length = struct.unpack_from("<HH", head, pos)
            if kind == _FILEPASS:
                return True
            if kind == _BIFF_EOF:
                break
            pos += 4 + length
        return False
    return False


def _sniff_ole(data: bytes, path: Path) -> tuple[str, bytes]:
    """(container, bytes to read) of an OLE file: an .xls protected only by Excel's default
    password comes back decrypted."""
    try:
        names = ole_stream_names(data)
    except (ValueError, struct.error):
        raise _fail("workbook-damaged", path, "文件结构不完整") from None
    if {"EncryptionInfo", "EncryptedPackage"} & names:
        raise _fail("workbook-encrypted", path)
    if {"Workbook", "Book", "WORKBOOK", "BOOK"} & names:
        if _biff_encrypted(data):
            from toolkit.workbook.source.biff_crypto import decrypt_default

            try:
                plain = decrypt_default(data)
            except (ValueError, struct.error, IndexError):
                plain = None
            if plain is None:
                raise _fail("workbook-encrypted", path)
            return "xls", plain
        return "xls", data
    if "WordDocument" in names:
        raise _fail("not-a-workbook", path, "是Word文档（.doc）")
    if "PowerPoint Document" in names:
        raise _fail("not-a-workbook", path, "是PowerPoint演示文稿")
    raise _fail("not-a-workbook", path, "是其他Office文件，不含工作表")


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
        if mime.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            if _odf_encrypted(zf, path, limits):
                raise _fail("workbook-encrypted", path)
            return "ods"
        if mime.startswith(b"application/vnd.oasis.opendocument.text"):
            raise _fail("not-a-workbook", path, "是OpenDocument文字文档（.odt）")
        raise _fail("not-a-workbook", path, "是OpenDocument其他类型的文件")
    if "word/document.xml" in names:
        raise _fail("not-a-workbook", path, "是Word文档（.docx）")
    if "ppt/presentation.xml" in names:
        raise _fail("not-a-workbook", path, "是PowerPoint演示文稿")
    if any(n.startswith("xl/") for n in names) or "[Content_Types].xml" in names:
        raise _fail("workbook-damaged", path, "缺少工作簿的目录部分")
    raise _fail("not-a-workbook", path, "是普通压缩包（zip），不是工作簿")



def _odf_encrypted(zf: zipfile.ZipFile, path: Path, limits: Limits) -> bool:
    """Whether an OpenDocument file is saved with a password: its manifest gives encryption
    data for the parts (their bytes are then ciphertext, which readers take for damage)."""
    if "META-INF/manifest.xml" not in zf.namelist():
        return False
    return b"encryption-data" in _read_entry(zf, "META-INF/manifest.xml", path, limits)


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
        container, data = _sniff_ole(data, path)
    elif data.startswith(_ZIP_MAGICS):
        try:
            zf = Package(data)
        except zipfile.BadZipFile:
            raise _fail("workbook-damaged", path, "文件不完整或压缩结构损坏（可能下载或复制时被截断）") from None
        except Exception:
            raise _fail("workbook-damaged", path, "压缩结构损坏") from None
        try:
            _check_zip(zf, path, limits, read_whole)
            try:
                canonical = canonical_package(zf, data)
            except Exception:  # noqa: BLE001 - entries pointing outside the file and the like
                raise _fail("workbook-damaged", path, "压缩结构损坏") from None
            if canonical is not None:  # backslashes, or the workbook part elsewhere: as readers expect
                zf.close()
                data = canonical
                zf = Package(data)
            container = _zip_kind(zf, path, limits)
        except BaseException:
            zf.close()
            raise
    else:
        what = _looks_like_text(data[:4096])
        if what:
            raise _fail("not-a-workbook", path, what)
        version = _OLD_BIFF.get(data[:2])
        if version and len(data) >= 4 and struct.unpack_from("<H", data, 2)[0] in (4, 6, 8):
            raise _fail("workbook-too-old", path, version)
        if data[:4] in (b"\x09\x08\x10\x00", b"\x09\x08\x08\x00"):  # a bare BIFF5/8 stream, no OLE container
            raise _fail("workbook-damaged", path, "缺少文件头，只剩工作表数据")
        raise _fail("not-a-workbook", path, "无法识别的文件内容")
    kind = "et" if path.suffix.lower() == ".et" else container
    return kind, container, data, zf

