"""An .xlsb workbook bounded by the row and column caps before the engine builds its grid (the
binary counterpart of :mod:`toolkit.workbook.source.biff`): python-calamine sizes a sheet by
the cells furthest apart, so one cell in IV65536 of a 2 KB file costs half a gigabyte. Each
worksheet part's records ([MS-XLSB] BIFF12) are walked; a row header beyond the caps, the cells
under it and cells beyond the column cap get a record type no reader knows (same length),
BrtWsDim is clamped, and the package is copied with those parts replaced."""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib

_ROW, _WS_DIM, _BUNDLE_SHEET = 0x0000, 0x0094, 0x009C
_CELLS = range(0x0001, 0x000E)  # BrtCellBlank … BrtFmlaError, BrtCellRString
_IGNORED = 0x7F  # a one-byte record type no reader knows: skipped
_REL = re.compile(rb'<(?:\w+:)?Relationship\b[^>]*>')
_ATTR = re.compile(rb'\b(Id|Target)="([^"]*)"')


def _records(data: bytes):
    """(type, start of the type, start of the body, size) of each record."""
    pos = 0
    while pos < len(data):
        start = pos
        kind = data[pos]
        pos += 1
        if kind & 0x80:
            if pos >= len(data):
                return
            kind = (kind & 0x7F) | (data[pos] << 7)
            pos += 1
        size, shift = 0, 0
        for _ in range(4):
            if pos >= len(data):
                return
            byte = data[pos]
            pos += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if pos + size > len(data):
            return
        yield kind, start, pos, size
        pos += size


def _bounded_sheet(data: bytes, max_rows: int, max_cols: int) -> bytes | None:
    out, beyond_row, changed = None, False, False
    for kind, start, body, size in _records(data):
        hide = False
        if kind == _ROW and size >= 4:
            beyond_row = struct.unpack_from("<I", data, body)[0] >= max_rows
            hide = beyond_row
        elif kind in _CELLS and size >= 4:
            hide = beyond_row or struct.unpack_from("<I", data, body)[0] >= max_cols
        elif kind == _WS_DIM and size >= 16:
            r0, r1, c0, c1 = struct.unpack_from("<IIII", data, body)
            if r1 >= max_rows or c1 >= max_cols:
                out = out if out is not None else bytearray(data)
                struct.pack_into("<IIII", out, body, min(r0, max_rows - 1), min(r1, max_rows - 1),
                                 min(c0, max_cols - 1), min(c1, max_cols - 1))
        if hide and body - start >= 1 and data[start] < 0x80:  # one-byte types only: same length
            out = out if out is not None else bytearray(data)
            out[start] = _IGNORED
            changed = True
    return bytes(out) if changed else None


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part -> sheet name, from xl/workbook.bin and its relationships."""
    try:
        book = zf.read("xl/workbook.bin")
        rels = zf.read("xl/_rels/workbook.bin.rels")
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return {}
    targets = {}
    for rel in _REL.findall(rels):
        attrs = dict(_ATTR.findall(rel))
        target = attrs.get(b"Target", b"").decode("utf-8", "replace")
        targets[attrs.get(b"Id", b"").decode("utf-8", "replace")] = (
            target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target)))
    out = {}
    for kind, _, body, size in _records(book):
        if kind == _BUNDLE_SHEET and size >= 12:
            at = body + 8
            n = struct.unpack_from("<I", book, at)[0]
            rel_id = book[at + 4:at + 4 + 2 * n].decode("utf-16-le", "replace") if n != 0xFFFFFFFF else ""
            at += 4 + (2 * n if n != 0xFFFFFFFF else 0)
            m = struct.unpack_from("<I", book, at)[0] if at + 4 <= body + size else 0
            name = book[at + 4:at + 4 + 2 * m].decode("utf-16-le", "replace")
            if rel_id in targets:
                out[targets[rel_id]] = name
    return out


def bounded_xlsb(zf: zipfile.ZipFile, data: bytes, max_rows: int, max_cols: int,
                 max_part_bytes: int) -> tuple[bytes, list[str]]:
    """``data`` with every cell beyond the caps hidden from the engine, and the names of the
    sheets that had some (``data`` itself when nothing is beyond)."""
    from toolkit.workbook.source.parts import _copy

    changes, cut = {}, []
    for part, sheet in _sheet_parts(zf).items():
        try:
            with zf.open(part) as fh:
                content = fh.read(max_part_bytes + 1)
        except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error):
            continue  # the engine will say what is wrong with it
        if len(content) > max_part_bytes:
            continue
        bounded = _bounded_sheet(content, max_rows, max_cols)
        if bounded is not None:
            changes[part] = bounded
            cut.append(sheet)
    if not changes:
        return data, []
    return _copy(zf, data, {}, changes), cut
