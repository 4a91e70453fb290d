"""A small .xlsb (Excel binary workbook) writer, from [MS-XLSB]: the records Excel writes for
sheets of numbers and text with merged cells, shared strings and hidden sheets. No program in
reach writes .xlsb (LibreOffice reads it only), so the corpus makes its own; python-calamine
reading it back is the check that it is one."""

from __future__ import annotations

import io
import struct
import zipfile

MAIN = "application/vnd.ms-excel.sheet.binary.macroEnabled.main"
WORKSHEET = "application/vnd.ms-excel.worksheet"
SST = "application/vnd.ms-excel.sharedStrings"
CHART = "application/vnd.ms-excel.chartsheet"
REL_CHART = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chartsheet"
REL_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
REL_SHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
REL_SST = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
REL_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
CUSTOM = "application/vnd.openxmlformats-officedocument.custom-properties+xml"


def record(kind: int, body: bytes = b"") -> bytes:
    head = bytes([kind]) if kind < 0x80 else bytes([(kind & 0x7F) | 0x80, kind >> 7])
    size, n = b"", len(body)
    while True:
        byte = n & 0x7F
        n >>= 7
        size += bytes([byte | (0x80 if n else 0)])
        if not n:
            break
    return head + size + body


def wide(text: str) -> bytes:
    return struct.pack("<I", len(text.encode("utf-16-le")) // 2) + text.encode("utf-16-le")


def _sheet(cells: dict[tuple[int, int], object], merged: list[tuple[int, int, int, int]], strings: dict) -> bytes:
    rows = sorted({r for r, _ in cells}) or [1]
    cols = sorted({c for _, c in cells}) or [1]
    out = record(129) + record(148, struct.pack("<IIII", rows[0] - 1, rows[-1] - 1, cols[0] - 1, cols[-1] - 1))
    out += record(145)
    by_row: dict[int, list] = {}
    for (r, c), v in sorted(cells.items()):
        by_row.setdefault(r, []).append((c, v))
    for r, items in by_row.items():
        out += record(0, struct.pack("<IIH", r - 1, 0, 300) + b"\0\0\0" + struct.pack("<I", 0))
        for c, v in items:
            if isinstance(v, bool):
                out += record(4, struct.pack("<IIB", c - 1, 0, int(v)))
            elif isinstance(v, (int, float)):
                out += record(5, struct.pack("<IId", c - 1, 0, float(v)))
            else:
                text = str(v)
                index = strings.setdefault(text, len(strings))
                out += record(7, struct.pack("<III", c - 1, 0, index))
    out += record(146)
    if merged:
        out += record(177, struct.pack("<I", len(merged)))
        for r1, c1, r2, c2 in merged:
            out += record(176, struct.pack("<IIII", r1 - 1, r2 - 1, c1 - 1, c2 - 1))
        out += record(178)
    return out + record(130)


def _part(i: int, sheet: dict) -> str:
    return f"xl/chartsheets/sheet{i}.bin" if sheet.get("chart") else f"xl/worksheets/sheet{i}.bin"


def xlsb_bytes(sheets: list[dict], custom_xml: bytes | None = None) -> bytes:
    """An .xlsb package. ``sheets``: [{"name", "cells": {(row, col): value}, "merged":
    [(r1, c1, r2, c2)], "state": 0 visible | 1 hidden}] (1-based rows and columns), or
    {"name", "chart": True} for a chart sheet (BrtBeginCsView/BrtEndCsView only: no cells)."""
    strings: dict[str, int] = {}
    parts = {_part(i, s): record(427) + record(428) if s.get("chart") else
             _sheet(s["cells"], s.get("merged", []), strings) for i, s in enumerate(sheets, 1)}
    book = record(131) + record(143)
    for i, s in enumerate(sheets, 1):
        book += record(156, struct.pack("<II", s.get("state", 0), i) + wide(f"rId{i}") + wide(s["name"]))
    book += record(144) + record(132)
    sst = record(159, struct.pack("<II", len(strings), len(strings)))
    for text in strings:
        sst += record(19, b"\0" + wide(text))
    sst += record(160)
    n = len(sheets)
    rels = "".join(f'<Relationship Id="rId{i}" Type="{REL_CHART if s.get("chart") else REL_SHEET}" '
                   f'Target="{_part(i, s)[3:]}"/>' for i, s in enumerate(sheets, 1))
    rels += f'<Relationship Id="rId{n + 1}" Type="{REL_SST}" Target="sharedStrings.bin"/>'
    overrides = "".join(f'<Override PartName="/{_part(i, s)}" ContentType="{CHART if s.get("chart") else WORKSHEET}"/>'
                        for i, s in enumerate(sheets, 1))
    overrides += f'<Override PartName="/xl/sharedStrings.bin" ContentType="{SST}"/>'
    root_rels = f'<Relationship Id="rId1" Type="{REL_DOC}" Target="xl/workbook.bin"/>'
    if custom_xml:
        overrides += f'<Override PartName="/docProps/custom.xml" ContentType="{CUSTOM}"/>'
        root_rels += f'<Relationship Id="rId2" Type="{REL_CUSTOM}" Target="docProps/custom.xml"/>'
    ns_rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             f'<Default Extension="bin" ContentType="{MAIN}"/>'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>' + overrides + "</Types>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("_rels/.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns_rels}">{root_rels}</Relationships>')
        zf.writestr("xl/workbook.bin", book)
        zf.writestr("xl/_rels/workbook.bin.rels",
                    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns_rels}">{rels}</Relationships>')
        for name, data in parts.items():
            zf.writestr(name, data)
        zf.writestr("xl/sharedStrings.bin", sst)
        if custom_xml:
            zf.writestr("docProps/custom.xml", custom_xml)
    return out.getvalue()


def from_workbook(path, chart_sheet: str | None = None, extra: dict | None = None) -> bytes:
    """The cells, merged ranges, hidden sheets and custom properties of a workbook (read with
    openpyxl, cached values for formulas) as an .xlsb; with ``chart_sheet``, a chart sheet of
    that name first; ``extra``: sheet name -> more cells {(row, col): value}."""
    import openpyxl

    wb = openpyxl.load_workbook(path, data_only=True)
    sheets = [{"name": chart_sheet, "chart": True}] if chart_sheet else []
    for ws in wb.worksheets:
        cells = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row
                 if c.value is not None and not hasattr(c.value, "year")}
        cells.update((extra or {}).get(ws.title, {}))
        merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
        sheets.append({"name": ws.title, "cells": cells, "merged": merged,
                       "state": {"visible": 0, "hidden": 1, "veryHidden": 2}[ws.sheet_state]})
    with zipfile.ZipFile(path) as zf:
        custom = zf.read("docProps/custom.xml") if "docProps/custom.xml" in zf.namelist() else None
    return xlsb_bytes(sheets, custom)
