"""An .xls workbook stream bounded by the row and column caps before an engine builds its grid.

python-calamine sizes a sheet by the cells furthest apart (and BIFF's DIMENSIONS), so a small
file with one cell in IV65536, or a shared formula over A1:IV65536, makes it build a grid of
16 million cells (about a gigabyte). :func:`bounded_workbook` rewrites, in a copy of the file,
every record that places something beyond the caps into a record type no reader knows (same
length, so the OLE container is unchanged) and clamps DIMENSIONS: the engine then costs what the
capped part holds. The sheets that had something beyond are returned for the
``sheet-truncated`` note."""

from __future__ import annotations

import struct

from toolkit.workbook.source.sniffing import _ole_directory

_BOF, _EOF, _BOUNDSHEET, _DIMENSIONS, _STRING, _FORMULA = 0x0809, 0x000A, 0x0085, 0x0200, 0x0207, 0x0006
# records that start with (row u16, column u16)
_CELLS = {0x0201, 0x0203, 0x0204, 0x0205, 0x0006, 0x027E, 0x00FD, 0x00BD, 0x00BE, 0x001C, 0x00D6, 0x0208}
# records that start with a range (first row u16, last row u16, first col u8, last col u8)
_RANGES = {0x0221, 0x04BC, 0x0236}
_IGNORED = 0x7FFF  # a record type no BIFF reader knows: skipped


def _stream_chunks(data: bytes, name: str) -> list[tuple[int, int]] | None:
    """(file offset, length) of each piece of a stream, in order, regular or mini."""
    try:
        entries, fat, size = _ole_directory(data)
    except (ValueError, struct.error):
        return None
    if name not in entries:
        return None

    def chain(sector: int, n: int, step: int, locate) -> list[tuple[int, int]] | None:
        out, seen, left = [], set(), n
        table = fat if step == size else minifat
        while left > 0:
            if sector >= len(table) or sector in seen:
                return None
            seen.add(sector)
            out.extend(locate(sector, min(step, left)))
            left -= step
            sector = table[sector]
        return out

    start, length = entries[name]
    regular = lambda s, n: [(512 + s * size, n)]  # noqa: E731
    if length >= struct.unpack_from("<I", data, 0x38)[0]:
        chunks = chain(start, length, size, regular)
    else:
        root = entries.get("Root Entry")
        first_minifat, n_minifat = struct.unpack_from("<II", data, 0x3C)
        minifat = []
        pieces = chain(first_minifat, n_minifat * size, size, regular) if root else None
        mini = chain(root[0], root[1], size, regular) if root else None
        if pieces is None or mini is None:
            return None
        raw = b"".join(data[o:o + n] for o, n in pieces)
        minifat = list(struct.unpack_from(f"<{len(raw) // 4}I", raw))

        def in_ministream(s: int, n: int) -> list[tuple[int, int]]:
            offset = s * 64
            piece, within = mini[offset // size]
            return [(piece + offset % size, n)]

        chunks = chain(start, length, 64, in_ministream)
    if chunks is None or any(o + n > len(data) for o, n in chunks):
        return None
    return chunks


def bounded_workbook(data: bytes, max_rows: int, max_cols: int) -> tuple[bytes, list[str]]:
    """``data`` with everything beyond the caps made invisible to the engine, and the names of
    the sheets that had some (``data`` itself when nothing is beyond, or the stream cannot be
    followed)."""
    for name in ("Workbook", "Book", "WORKBOOK", "BOOK"):
        chunks = _stream_chunks(data, name)
        if chunks is not None:
            break
    else:
        return data, []
    stream = bytearray(b"".join(data[o:o + n] for o, n in chunks))
    sheets: dict[int, str] = {}
    truncated: list[str] = []
    pos, substream, changed, drop_string, biff8 = 0, -1, False, False, True
    current = None
    while pos + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, pos)
        body = pos + 4
        if body + size > len(stream):
            break
        if kind == _BOF:
            substream += 1
            current = sheets.get(pos) if substream else None
            if substream == 0:
                biff8 = size >= 2 and struct.unpack_from("<H", stream, body)[0] == 0x0600
        elif kind == _BOUNDSHEET and substream == 0 and size >= 8:
            sheets[struct.unpack_from("<I", stream, body)[0]] = _sheet_name(bytes(stream[body + 6:body + size]), biff8)
        elif substream > 0:
            beyond = False
            if kind in _CELLS and size >= 4:
                row, col = struct.unpack_from("<HH", stream, body)
                beyond = row >= max_rows or col >= max_cols
            elif kind in _RANGES and size >= 6:
                first_row, last_row, first_col, last_col = struct.unpack_from("<HHBB", stream, body)
                if first_row >= max_rows or first_col >= max_cols:
                    beyond = True
                elif last_row >= max_rows or last_col >= max_cols:
                    struct.pack_into("<HHBB", stream, body, first_row, min(last_row, max_rows - 1), first_col,
                                     min(last_col, max_cols - 1))
                    changed = True
                    _note(truncated, current)
            elif kind == _DIMENSIONS and size >= 12:
                r0, r1, c0, c1 = struct.unpack_from("<IIHH", stream, body)
                if r1 > max_rows or c1 > max_cols:
                    struct.pack_into("<IIHH", stream, body, min(r0, max_rows), min(r1, max_rows), min(c0, max_cols),
                                     min(c1, max_cols))
                    changed = True
            elif kind == _STRING and drop_string:
                beyond = True
            drop_string = beyond and kind == _FORMULA
            if beyond:
                struct.pack_into("<H", stream, pos, _IGNORED)
                changed = True
                _note(truncated, current)
        pos = body + size
    if not changed:
        return data, []
    out, at = bytearray(data), 0
    for offset, n in chunks:
        out[offset:offset + n] = stream[at:at + n]
        at += n
    return bytes(out), truncated


def _note(truncated: list[str], sheet: str | None) -> None:
    if sheet is not None and sheet not in truncated:
        truncated.append(sheet)


def _sheet_name(raw: bytes, biff8: bool) -> str:
    """A BoundSheet name: BIFF8's ShortXLUnicodeString, or BIFF5's bytes (taken as the Chinese
    code page, which Chinese Excel 95 wrote)."""
    if not raw:
        return ""
    n = raw[0]
    if not biff8:
        return raw[1:1 + n].decode("gbk", "replace")
    if len(raw) > 1 and raw[1] & 1:
        return raw[2:2 + 2 * n].decode("utf-16-le", "replace")
    return raw[2:2 + n].decode("latin-1")
