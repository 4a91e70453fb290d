"""Container safety: what a file may cost (:class:`Limits`), the error for a file that cannot be
read at all (:class:`SourceError`), reading the bytes without trusting the path, and the checks
of a zip package before any parser sees it (entry count, declared and actual uncompressed sizes,
compression ratio, deflate/stored only, duplicate names, a DTD in any XML part); defused XML
parsing; reading in the helper process within the file's budgets (:func:`call_guarded`)."""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable

from toolkit.isolation import IsolationError, run_isolated
from toolkit.workbook.source.limits import DEFAULT_LIMITS, Limits, SourceError, _fail

_DEFLATE_MAX_RATIO = 1032  # deflate cannot expand more than this: bounds an entry that lies


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
            want = st.st_size + 1  # not the cap: a read of the cap's size allocates that much first
            data = fh.read(want)
            if len(data) == want:  # the file grew since it was measured
                data += fh.read(limits.max_file_bytes + 1 - want)
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


# ---------------------------------------------------------------- zip containers (xlsx, xlsm, xlsb, ods)


def part_label(name: str, zf: zipfile.ZipFile | None = None) -> str:
    """See :func:`toolkit.workbook.source.parts.part_label`."""
    from toolkit.workbook.source.parts import part_label as label

    return label(name, zf)


class Package(zipfile.ZipFile):
    """A zip package being read: the entries inflated whole and sound are kept (:attr:`inflated`,
    by name), so that the container check, the layout and the reader inflate each one once."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.inflated: dict[str, bytes] = {}


def _check_zip(zf: zipfile.ZipFile, path: Path, limits: Limits,
               read_whole: Callable[[str], bool] | None = None) -> None:
    """The container checks of :func:`check_package`. The XML parts for which ``read_whole`` is
    true (those the reader inflates whole anyway) are inflated whole for the DTD check, at most
    :data:`_WHOLE_MAX` bytes of each; of the others only the prolog is."""
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
            raise _fail("file-too-large", path, f"解压后的{part_label(info.filename)}有{info.file_size // 1048576}MB")
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
        if not info.filename.lower().endswith(_XML_PARTS):
            continue
        whole = read_whole is not None and info.file_size <= _WHOLE_MAX and read_whole(info.filename)
        if _declares_dtd(zf, info, path, limits, whole):
            raise _fail("workbook-damaged", path, f"{part_label(info.filename, zf)}含有不安全的XML内容（DTD或实体）")


_XML_PARTS = (".xml", ".rels", ".vml")
_PROLOG_MAX = 1 << 20
_WHOLE_MAX = 1 << 20


def _declares_dtd(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, limits: Limits,
                  whole: bool = False) -> bool:
    """Whether an XML part has a document type declaration (no spreadsheet program writes one;
    it is how entity expansion and external entities get in). Only the prolog is read: the XML
    declaration, comments and processing instructions before the first element; a prolog longer
    than 1 MB counts as hostile. With ``whole``, the part is inflated whole (and kept, see
    :class:`Package`) when it is sound, and its prolog read from that."""
    if _plain_prolog(zf, info, whole):
        return False
    import codecs

    try:
        fh = zf.open(info)
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, NotImplementedError):
        raise _fail("workbook-damaged", path, f"{part_label(info.filename, zf)}的数据损坏") from None
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
                raise _fail("workbook-damaged", path, f"{part_label(info.filename, zf)}的数据损坏") from None
            if decoder is None:
                decoder = codecs.getincrementaldecoder(_prolog_encoding(chunk))("replace")
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


_PLAIN_PROLOG = re.compile(rb'[ \t\r\n]*(?:<\?xml[^<>?]*\?>[ \t\r\n]*)?<[A-Za-z_]')


def _raw_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> bytes | None:
    """The first ``size`` stored (compressed) bytes of an entry, read straight from the package
    after checking its local header as :meth:`zipfile.ZipFile.open` does; None where that
    check fails (then ``zipfile`` itself reads it, and says what is wrong)."""
    fp = zf.fp
    if fp is None or info.flag_bits & 0x61:  # encrypted, patch data, strong encryption: zipfile refuses
        return None
    name_bytes = len(info.orig_filename) * 4
    try:
        fp.seek(info.header_offset)
        header = fp.read(30 + name_bytes)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            return None
        name_len, extra_len = struct.unpack_from("<HH", header, 26)
        name = header[30:30 + name_len]
        if name.isascii():  # the same text in every encoding a zip names its entries in
            text = name.decode("ascii")
        else:
            encoding = "utf-8" if info.flag_bits & 0x800 else (getattr(zf, "metadata_encoding", None) or "cp437")
            text = name.decode(encoding)
        if text != info.orig_filename:
            return None
        fp.seek(info.header_offset + 30 + name_len + extra_len)
        return fp.read(min(size, info.compress_size))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _plain_prolog(zf: zipfile.ZipFile, info: zipfile.ZipInfo, whole: bool = False) -> bool:
    """Whether a part plainly starts with at most an XML declaration and then its first element,
    as every spreadsheet program writes it: told from its first few hundred bytes, decompressed
    straight from the package (no DTD can follow), or with ``whole`` from the whole part. Anything
    else, or a local header that does not match the directory, is left to the full reading of
    the prolog."""
    if whole:
        data = _whole_entry(zf, info.filename, info.file_size)
        if data is not None:
            return _PLAIN_PROLOG.match(data[:256]) is not None
    raw = _raw_entry(zf, info, 512)
    if raw is None:
        return False
    if info.compress_type == zipfile.ZIP_DEFLATED:
        try:
            head = zlib.decompressobj(-15).decompress(raw, 256)
        except zlib.error:
            return False
    elif info.compress_type == zipfile.ZIP_STORED:
        head = raw[:256]
    else:
        return False
    return _PLAIN_PROLOG.match(head) is not None


def _prolog_encoding(head: bytes) -> str:
    """How to read an XML part's prolog: UTF-16 with a byte order mark, UTF-16 without one (told
    by its zero bytes, as the XML specification says), UTF-8 after its byte order mark (dropped,
    so that it hides nothing that follows), else byte by byte."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head[:1] == b"\0":
        return "utf-16-be"
    if head[1:2] == b"\0":
        return "utf-16-le"
    return "latin-1"


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
    data = _whole_entry(zf, name, limits.max_entry_bytes)
    if data is not None:
        return data
    try:
        with zf.open(name) as fh:
            data = fh.read(limits.max_entry_bytes + 1)
    except KeyError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError, NotImplementedError):
        raise _fail("workbook-damaged", path, f"{part_label(name, zf)}的数据损坏") from None
    if len(data) > limits.max_entry_bytes:
        raise _fail("file-too-large", path, f"解压后的{part_label(name, zf)}超出上限")
    return data


def _whole_entry(zf: zipfile.ZipFile, name: str, max_bytes: int) -> bytes | None:
    """An entry decompressed in one step straight from the package when it is whole and sound:
    its local header matches, its size within ``max_bytes`` is the declared one and so is its
    CRC. None otherwise (then ``zipfile`` reads it and raises what it finds). A :class:`Package`
    inflates each entry once."""
    inflated = getattr(zf, "inflated", None)
    if inflated is not None and name in inflated:
        data = inflated[name]
        return data if len(data) <= max_bytes else None
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > max_bytes:
        return None
    raw = _raw_entry(zf, info, info.compress_size)
    if raw is None or len(raw) != info.compress_size:
        return None
    if info.compress_type == zipfile.ZIP_DEFLATED:
        decomp = zlib.decompressobj(-15)
        try:
            data = decomp.decompress(raw, info.file_size + 1)
        except zlib.error:
            return None
        if not decomp.eof:
            return None
    elif info.compress_type == zipfile.ZIP_STORED:
        data = raw
    else:
        return None
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        return None
    if inflated is not None:
        inflated[name] = data
    return data


def _parse_xml(data: bytes, path: Path, part: str):
    """An XML document parsed as an element tree: by defusedxml (DTDs, entities and external
    references forbidden) when its text could declare anything, else by the standard parser. A
    document with neither ``<!`` nor a NUL byte in it cannot (a NUL is in every UTF-16 text, and
    the parser takes no other encoding in which ``<`` and ``!`` are not those bytes)."""
    if b"<!" not in data and b"\0" not in data:
        import xml.etree.ElementTree as ET

        try:
            return ET.fromstring(data)
        except Exception:  # ParseError and expat errors
            raise _fail("workbook-damaged", path, f"{part_label(part)}的XML内容损坏") from None
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise _fail("workbook-damaged", path, f"{part_label(part)}含有不安全的XML内容（DTD或实体）") from None
    except Exception:  # ParseError and expat errors
        raise _fail("workbook-damaged", path, f"{part_label(part)}的XML内容损坏") from None


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


def call_guarded(func: Callable[..., Any], args: tuple = (), kwargs: dict | None = None, *, path: str | Path,
                 limits: Limits = DEFAULT_LIMITS) -> Any:
    """``func(*args, **kwargs)`` in the helper process within the budgets of ``limits`` (here
    when ``limits.isolate`` is off); raises :class:`SourceError` naming ``path`` when a budget
    is exceeded or the helper dies, else what the function raised."""
    try:
        return run_isolated(func, args, kwargs, budget=limits.budget, isolate=limits.isolate)
    except IsolationError as exc:
        raise SourceError.from_isolation(exc, path) from None
