"""Where a package keeps its parts, and what a part is called in a message.

A zip package (xlsx, xlsm, xlsb) may name its parts with backslashes, and may keep its workbook
part anywhere, named by ``_rels/.rels`` (or ``[Content_Types].xml``): :func:`canonical_package`
gives the engines a copy with the conventional layout (the compressed data copied as it is,
only the small relationship and content-type parts rewritten), so every reader sees the same
workbook. :func:`part_label` says which part a problem is in, the way a clerk knows the file:
the sheet's name, else what the part holds, never an internal path."""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib

from toolkit.ooxml import ZipEntry, zip_bytes

MAIN_TYPES = (b"spreadsheetml.sheet.main+xml", b"spreadsheetml.template.main+xml",
              b"ms-excel.sheet.macroEnabled.main+xml", b"ms-excel.template.macroEnabled.main+xml",
              b"ms-excel.addin.macroEnabled.main+xml", b"ms-excel.sheet.binary.macroEnabled.main")
_OFFICE_DOCUMENT = re.compile(rb'<(?:\w+:)?Relationship\b(?=[^>]*\bType="[^"]*/officeDocument")[^>]*\bTarget="([^"]+)"')
_OVERRIDE = re.compile(rb'<(?:\w+:)?Override\b[^>]*>')
_ATTR = re.compile(rb'\b(PartName|ContentType|Target)="([^"]*)"')
_SMALL = 4 * 1024 * 1024  # relationship and content-type parts read to find the workbook
_READ_WHOLE = re.compile(r"\[Content_Types\]\.xml|_rels/\.rels|xl/workbook\.xml|xl/_rels/workbook\.xml\.rels"
                         r"|xl/worksheets/[^/]+\.xml")


def read_whole(name: str) -> bool:
    """Whether the reader inflates a part of a workbook package whole: the package's layout
    (``[Content_Types].xml``, ``_rels/.rels``), the workbook part, its relationships, each worksheet."""
    return _READ_WHOLE.fullmatch(name) is not None


def _small_part(zf: zipfile.ZipFile, name: str) -> bytes:
    from toolkit.workbook.source.safety import _whole_entry

    whole = _whole_entry(zf, name, _SMALL)
    if whole is not None:
        return whole
    try:
        with zf.open(name) as fh:
            return fh.read(_SMALL)
    except Exception:  # noqa: BLE001 - a part that cannot be read says nothing about the layout
        return b""


def main_part(zf: zipfile.ZipFile, main_types: tuple[bytes, ...] = MAIN_TYPES) -> str | None:
    """The main part of a package (forward slashes; a workbook by default): the office document
    of ``_rels/.rels``, else the part of ``[Content_Types].xml`` with one of ``main_types``,
    else None."""
    names = {n.replace("\\", "/"): n for n in zf.namelist()}
    rels = names.get("_rels/.rels")
    if rels:
        for target in _OFFICE_DOCUMENT.findall(_small_part(zf, rels)):
            part = posixpath.normpath(target.decode("utf-8", "replace").replace("\\", "/").lstrip("/"))
            if part in names:
                return part
    types = names.get("[Content_Types].xml")
    if types:
        for override in _OVERRIDE.findall(_small_part(zf, types)):
            attrs = dict(_ATTR.findall(override))
            if attrs.get(b"ContentType", b"").endswith(main_types):
                part = attrs.get(b"PartName", b"").decode("utf-8", "replace").lstrip("/")
                if part in names:
                    return part
    return None


def _is_workbook(zf: zipfile.ZipFile, part: str) -> bool:
    """Whether ``[Content_Types].xml`` gives ``part`` a workbook's content type (or, without a
    word on it, whether it is named like a workbook part)."""
    names = {n.replace("\\", "/"): n for n in zf.namelist()}
    types = names.get("[Content_Types].xml")
    for override in _OVERRIDE.findall(_small_part(zf, types)) if types else []:
        attrs = dict(_ATTR.findall(override))
        if attrs.get(b"PartName", b"").decode("utf-8", "replace").lstrip("/") == part:
            return attrs.get(b"ContentType", b"").endswith(MAIN_TYPES)
    return posixpath.basename(part).lower() in ("workbook.xml", "workbook.bin")


def canonical_package(zf: zipfile.ZipFile, data: bytes) -> bytes | None:
    """A copy of a workbook package laid out as every reader expects (``xl/workbook.xml`` or
    ``xl/workbook.bin``, forward slashes), or None when it already is."""
    names = zf.namelist()
    slashed = any("\\" in n for n in names)
    main = main_part(zf)
    if main is not None and not _is_workbook(zf, main):
        main = None  # a Word or PowerPoint package: not a workbook to lay out
    if main is None:
        return _copy(zf, data, {n: n.replace("\\", "/") for n in names}, {}) if slashed else None
    folder, base = posixpath.split(main)
    standard = "xl/workbook.bin" if base.lower().endswith(".bin") else "xl/workbook.xml"
    if main == standard and not slashed:
        return None
    own_rels = posixpath.join(folder, "_rels", base + ".rels")

    def moved(name: str) -> str:
        name = name.replace("\\", "/")
        if name == main:
            return standard
        if name == own_rels:
            return posixpath.join("xl/_rels", posixpath.basename(standard) + ".rels")
        if name in ("[Content_Types].xml", "_rels/.rels") or name.startswith("docProps/"):
            return name
        if folder == "":
            return "xl/" + name
        return name if folder == "xl" else ("xl/" + name[len(folder) + 1:] if name.startswith(folder + "/") else name)

    renames = {n: moved(n) for n in names}
    absolute = {("/" + old.replace("\\", "/")).encode(): ("/" + new).encode() for old, new in renames.items()}

    def rewrite(content: bytes, rels_of: str | None) -> bytes:
        def target(m: re.Match) -> bytes:
            key, value = m.group(1), m.group(2)
            if key == b"Target" and rels_of is not None and not value.startswith(b"/") and b":" not in value:
                old = posixpath.normpath(posixpath.join(posixpath.dirname(rels_of), value.decode("utf-8", "replace")))
                return b'Target="/' + renames.get(old, renames.get(old.replace("/", "\\"), old)).encode() + b'"'
            if value in absolute:
                return key + b'="' + absolute[value] + b'"'
            return m.group(0)
        return _ATTR.sub(target, content)

    changes = {}
    for name in names:
        clean = name.replace("\\", "/")
        if clean == "[Content_Types].xml":
            changes[name] = rewrite(_small_part(zf, name), None)
        elif clean.endswith(".rels"):
            owner_dir = posixpath.dirname(posixpath.dirname(clean))
            changes[name] = rewrite(_small_part(zf, name), posixpath.join(owner_dir, "x"))
    return _copy(zf, data, renames, changes)


def unpacked_package(zf: zipfile.ZipFile, data: bytes, contents: dict[str, bytes],
                     changed: set[str] = frozenset()) -> bytes:
    """The package with the entries of ``contents`` stored uncompressed and the others copied as
    they are: what an engine reads without inflating again what was inflated already. Each of
    ``contents`` is exactly its entry's bytes (CRC checked), but those named in ``changed``,
    stored with their own CRC."""
    return _copy(zf, data, {}, {}, contents, changed)


def _copy(zf: zipfile.ZipFile, data: bytes, renames: dict[str, str], changes: dict[str, bytes],
          stored: dict[str, bytes] | None = None, changed: set[str] = frozenset()) -> bytes:
    """The package with entries renamed and some replaced (``changes``, compressed again) or
    stored uncompressed (``stored``, their entries' own bytes); the others' compressed data
    copied byte for byte (nothing decompressed, so a copy costs what the file holds)."""
    stored = stored or {}
    entries = []
    for info in zf.infolist():
        name = renames.get(info.filename, info.filename)
        if info.filename in changes:
            entries.append(ZipEntry.deflated(name, changes[info.filename]))
            continue
        if info.filename in stored:
            body = stored[info.filename]
            crc = zlib.crc32(body) if info.filename in changed else info.CRC
            entries.append(ZipEntry(name, zipfile.ZIP_STORED, crc, len(body), body))
            continue
        start = info.header_offset
        n_name, n_extra = struct.unpack_from("<HH", data, start + 26)
        begin = start + 30 + n_name + n_extra
        entries.append(ZipEntry(name, info.compress_type, info.CRC, info.file_size,
                                data[begin:begin + info.compress_size]))
    return zip_bytes(entries, date_time=_PACKAGE_DATE)


_PACKAGE_DATE = (1980, 1, 1, 0, 0, 0)  # a copy made for reading: the same bytes each time


# ---------------------------------------------------------------- naming a part in a message


_KINDS = (
    (re.compile(r"(^|/)sharedstrings\.(xml|bin)$"), "表格文字部分"),
    (re.compile(r"(^|/)styles\.(xml|bin)$"), "格式设置部分"),
    (re.compile(r"(^|/)workbook\.(xml|bin)$|^content\.xml$"), "工作簿目录"),
    (re.compile(r"\.rels$|^\[content_types\]\.xml$|^meta-inf/"), "文件内部目录（部件关系）"),
    (re.compile(r"^docprops/|^meta\.xml$"), "文档属性部分"),
    (re.compile(r"/theme/"), "主题颜色部分"),
    (re.compile(r"/(drawings|charts|media)/|\.vml$"), "图表或图片部分"),
    (re.compile(r"/comments\d*\.xml$|/threadedcomments/"), "批注部分"),
    (re.compile(r"^word/"), "Word正文部分"),
)


def part_label(name: str, zf: zipfile.ZipFile | None = None) -> str:
    """A part of a package in words a clerk knows: "工作表“表三”", "表格文字部分", "文件内部目录（部件关系）"."""
    clean = name.replace("\\", "/")
    if zf is not None and re.search(r"(^|/)(worksheets|chartsheets|macrosheets|dialogsheets)/", clean):
        sheet = _sheet_of(zf, clean)
        if sheet:
            return f"工作表“{sheet}”"
    if re.search(r"(^|/)worksheets/", clean):
        number = re.search(r"(\d+)\.\w+$", clean)
        return f"第{number.group(1)}个工作表" if number else "一个工作表"
    low = clean.lower()
    for pattern, label in _KINDS:
        if pattern.search(low):
            return label
    return "文件内部的一个部件"


_SHEET_TAG = re.compile(rb'<(?:\w+:)?sheet\b[^>]*>')
_NAME = re.compile(rb'\bname="([^"]*)"')
_RID = re.compile(rb'\b\w+:id="([^"]*)"')
_REL = re.compile(rb'<(?:\w+:)?Relationship\b[^>]*>')
_ID = re.compile(rb'\bId="([^"]*)"')


def _sheet_of(zf: zipfile.ZipFile, part: str) -> str | None:
    """The name of the sheet stored in ``part`` (a regex over the workbook part and its
    relationships, no XML parser: this runs when something in the package is wrong)."""
    import html

    main = main_part(zf) or "xl/workbook.xml"
    names = {n.replace("\\", "/"): n for n in zf.namelist()}
    folder, base = posixpath.split(main)
    workbook = _small_part(zf, names.get(main, main))
    rels = _small_part(zf, names.get(posixpath.join(folder, "_rels", base + ".rels"), ""))
    targets = {}
    for rel in _REL.findall(rels):
        rid, target = _ID.search(rel), re.search(rb'\bTarget="([^"]*)"', rel)
        if rid and target:
            t = target.group(1).decode("utf-8", "replace").replace("\\", "/")
            full = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join(folder, t))
            targets[rid.group(1)] = full
    for tag in _SHEET_TAG.findall(workbook):
        name, rid = _NAME.search(tag), _RID.search(tag)
        if name and rid and targets.get(rid.group(1)) == part:
            return html.unescape(name.group(1).decode("utf-8", "replace"))
    return None
