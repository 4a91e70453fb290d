"""OpenDocument spreadsheets scanned before the engine sees them: values so far down or right,
or repeated so often, that the engine would build a huge grid are refused."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Iterable

from toolkit.workbook.source.limits import Limits, _fail
from toolkit.workbook.source.safety import _read_entry


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


