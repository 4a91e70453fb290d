"""The parts of an xlsx/xlsm package the toolkit reads itself, never through an engine:
workbook.xml and its relationships (sheets, states, defined names), each sheet's extent (a regex
scan, before the engine builds a grid), formulas (the ``<f>`` elements cut out and parsed
defused), error values, merged ranges and document properties; cell references and shared
formulas."""

from __future__ import annotations

import collections
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from toolkit.a1 import Pos, col_letters, col_number, parse_ref
from toolkit.ooxml import NOT_XML_CHAR
from toolkit.workbook.source.parts import unpacked_package
from toolkit.workbook.source.limits import Limits, SourceError, _fail
from toolkit.workbook.source.safety import _parse_xml, _read_entry, part_label

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_CP = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
NS_DCTERMS = "http://purl.org/dc/terms/"


_QUICK_BIG_CELL = re.compile(rb' r="(?:[A-Z]{2}|[A-Z][0-9]{4})')
_SCAN_BIG_CELL = re.compile(rb'<(?:\w+:)?c\s[^<>]*?\br="([A-Z]{2,3}|[A-Z](?=[0-9]{4}))([0-9]{1,7})"[^<>/]*>')
# a cell or row start tag with a prefix, or without r=" as its first attribute
_UNREFERENCED = re.compile(rb'<(?:\w+:(?:c|row)(?=[\s/>])|(?:c|row)(?=[\s/>])(?! r="))')
# each cell and row start tag (any prefix), with its attributes up to r=" when it has an r
_CELL_OR_ROW = re.compile(rb"<(?:\w+:)?(c|row)(?=[\s/>])(\s[^<>]*?\br=\")?")
_ROW_OR_CELL = re.compile(rb"<(?:\w+:)?(row|c)(?=[\s/>])([^<>]*)>")
_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\s[^<>]*?ref="([A-Z0-9:$]+)"')
_R_ATTR = re.compile(rb'\br="\$?([A-Z]{0,3})\$?([0-9]{0,7})"')
_FORMULA_TOKEN = re.compile(r'"[^"]*"|\'[^\']*\'|(?<![A-Za-z0-9_.])(\$?)([A-Z]{1,3})(\$?)([0-9]{1,7})(?![0-9A-Za-z_(])')


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


_CELL_LESS_SHEETS = ("chartsheet", "dialogsheet")
UNPACK_SHEET_BYTES = 1 << 20  # see _XlsxParts.engine_package
UNPACK_TOTAL_BYTES = 8 << 20
_STRICT = ((b"http://purl.oclc.org/ooxml/spreadsheetml/main", NS_MAIN.encode()),
           (b"http://purl.oclc.org/ooxml/officeDocument/relationships", NS_REL.encode()))


@dataclass
class _XlsxParts:
    """The parts of an xlsx/xlsm package the toolkit reads itself (never through the engine)."""

    zf: zipfile.ZipFile
    path: Path
    limits: Limits
    sheet_parts: dict[str, str] = field(default_factory=dict)  # sheet name -> zip entry
    sheet_states: dict[str, str] = field(default_factory=dict)
    defined_names: dict[str, str] = field(default_factory=dict)
    cell_less: set[str] = field(default_factory=set)  # chart and dialog sheets
    _xml_cache: dict[str, bytes] = field(default_factory=dict)
    _cell_spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # sheet part -> where its cells lie
    _rewritten: set[str] = field(default_factory=set)  # parts whose cached text differs from the entry's bytes

    @classmethod
    def load(cls, zf: zipfile.ZipFile, path: Path, limits: Limits) -> "_XlsxParts":
        from toolkit.layout import workbook_plan

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
            sheets = _anchored(workbook, _SHEET_ANCHOR, _SHEET_TAG)
            names = _anchored(workbook, *_name_patterns(prefix))
            doc = b"<nianbao>" + _wrap(workbook, b"workbook", _fragments(sheets) + _fragments(names))
            if rels_xml:
                doc += _wrap(rels_xml, b"Relationships", _fragments(_RELATIONSHIP.finditer(rels_xml)))
            doc += b"</nianbao>"
        except ValueError:
            raise _fail("workbook-damaged", path, "工作簿目录的XML内容损坏") from None
        root = _parse_xml(doc, path, "xl/workbook.xml")
        rels: dict[str, tuple[str, str]] = {}
        for rel in root.iter(f"{{{NS_PKG_REL}}}Relationship"):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            full = target.lstrip("/") if target.startswith("/") else "xl/" + target
            rels[rel.get("Id", "")] = (_normpath(full), rel.get("Type", "").rsplit("/", 1)[-1])
        for sheet in root.iter(f"{{{NS_MAIN}}}sheet"):
            name = sheet.get("name", "")
            target, kind = rels.get(sheet.get(f"{{{NS_REL}}}id", ""), (None, ""))
            if kind in _CELL_LESS_SHEETS:  # a chart or dialog sheet: nothing to read
                parts.cell_less.add(name)
            elif target:
                parts.sheet_parts[name] = target
            parts.sheet_states[name] = sheet.get("state", "visible")
        for dn in root.iter(f"{{{NS_MAIN}}}definedName"):
            if dn.get("localSheetId") is None and dn.get("name"):
                parts.defined_names[dn.get("name")] = (dn.text or "").strip()
        return parts

    def _xml(self, name: str) -> bytes:
        if name not in self._xml_cache:
            data = _read_entry(self.zf, name, self.path, self.limits)
            head = data[:4096]  # every XML part's prolog was read for a DTD by the container check
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise _fail("workbook-damaged", self.path, f"{part_label(name, self.zf)}含有不安全的XML内容（DTD或实体）")
            if b"purl.oclc.org/ooxml/" in head:  # Strict Open XML: the same elements, other names
                for strict, transitional in _STRICT:
                    data = data.replace(strict, transitional)
                self._rewritten.add(name)
            self._xml_cache[name] = data
        return self._xml_cache[name]

    def engine_package(self, data: bytes) -> bytes:
        """The package (``data``, the bytes of :attr:`zf`) as the engine is to read it: the parts
        inflated here — the workbook part, its relationships and, inflated now, every sheet part
        of at most :data:`UNPACK_SHEET_BYTES` (:data:`UNPACK_TOTAL_BYTES` in all) — stored
        uncompressed, so that the engine does not inflate them again, and cut to what the engine
        reads for the toolkit (:func:`_without_defined_names`, :func:`_cells_only`). A sheet part
        that does not inflate soundly is left as it is; its problem is found when its cells are read."""
        room = UNPACK_TOTAL_BYTES
        for part in self.sheet_parts.values():
            try:
                if part in self._xml_cache or self.zf.getinfo(part).file_size > min(UNPACK_SHEET_BYTES, room):
                    continue
                self._xml(part)
            except (SourceError, KeyError):
                continue
            room -= len(self._xml_cache[part])
        contents = {name: text for name, text in self._xml_cache.items() if name not in self._rewritten}
        cuts = dict.fromkeys(self.sheet_parts.values(), _cells_only)
        cuts["xl/workbook.xml"] = _without_defined_names
        changed = set()
        for name, cut in cuts.items():
            shorter = cut(contents[name]) if name in contents else None
            if shorter is not None:
                contents[name] = shorter
                changed.add(name)
        return unpacked_package(self.zf, data, contents, changed)

    def sheet_xml(self, sheet: str) -> bytes | None:
        part = self.sheet_parts.get(sheet)
        if part is None:
            return None
        try:
            data = self._xml(part)
        except KeyError:
            raise _fail("workbook-damaged", self.path, f"缺少工作表“{sheet}”的数据") from None
        if part not in self._cell_spans:
            if not _complete_sheet(data):  # an engine would read a cut sheet silently, as far as it goes
                raise _fail("workbook-damaged", self.path, f"工作表“{sheet}”的数据不完整")
            self._cell_spans[part] = _cell_span(data)
        return data

    def _sheet_cells(self, sheet: str) -> tuple[bytes, int, int] | None:
        """A sheet's XML and the span of it that holds its cells (see :func:`_cell_span`)."""
        data = self.sheet_xml(sheet)
        if not data:
            return None
        start, end = self._cell_spans[self.sheet_parts[sheet]]
        return data, start, end

    def extent(self, sheet: str) -> Pos:
        """The largest row and column holding a value in ``sheet``, as far as they pass 999 rows
        or column Z (a regex scan of its XML; smaller sheets give (0, 0)). Rows and cells
        without an ``r`` attribute follow the one before, as the engines place them. A sheet
        with more than ``max_cells`` cells is refused (``file-too-large``)."""
        found = self._sheet_cells(sheet)
        if found is None:
            return (0, 0)
        data, start, end = found
        if (end - start) // 4 <= self.limits.max_cells and _all_referenced(data, start, end) \
                and not _QUICK_BIG_CELL.search(data, start, end):
            return (0, 0)  # every row and cell starts with its r, none far out, too short to hold too many
        n_cells = cells_ref = n_rows = rows_ref = 0
        pos = start
        while pos < end:  # one scan, a slice at a time (no list of every match of a huge sheet)
            stop = min(data.find(b">", pos + 262144) + 1 or end, end)
            for (tag, ref), n in collections.Counter(_CELL_OR_ROW.findall(data, pos, stop)).items():
                if tag == b"c":
                    n_cells, cells_ref = n_cells + n, cells_ref + (n if ref else 0)
                else:
                    n_rows, rows_ref = n_rows + n, rows_ref + (n if ref else 0)
            pos = stop
        if n_cells > self.limits.max_cells:
            raise _fail("file-too-large", self.path,
                        f"工作表“{sheet}”有{n_cells}个单元格（上限{self.limits.max_cells}）")
        if cells_ref < n_cells or rows_ref < n_rows:
            return _sequential_extent(data, start, end)
        if not _QUICK_BIG_CELL.search(data, start, end):
            return (0, 0)
        max_row = max_col = 0
        for col, row in _SCAN_BIG_CELL.findall(data, start, end):
            max_row = max(max_row, int(row))
            max_col = max(max_col, col_number(col.decode()))
        return max_row, max_col

    def formulas(self, wanted: dict[str, set[Pos] | None], max_rows: int, max_cols: int) -> dict[str, dict[Pos, str]]:
        """Formulas of several sheets (each optionally only at some positions): read straight from
        the cut-out ``<f>`` elements where they are plain (:func:`_plain_formulas`), else in one
        defused parse of them all."""
        docs, names = [], []
        items: dict[str, list[tuple[Pos | None, str | None, str | None, str]]] = {}
        for sheet, within in wanted.items():
            found = self._sheet_cells(sheet)
            data = found[0] if found else b""
            cells = _formula_cells(*found, within) if found else []
            if cells:
                plain = _plain_formulas(data, cells, self.path)
                if plain is not None:
                    items[sheet] = plain
                else:
                    docs.append(_wrap(data, b"worksheet", _fragments_of(data, cells)))
                    names.append(sheet)
        out: dict[str, dict[Pos, str]] = {sheet: {} for sheet in wanted}
        if docs:
            root = _parse_xml(b"<nianbao>" + b"".join(docs) + b"</nianbao>", self.path, "xl/worksheets/")
            c_tag, f_tag = f"{{{NS_MAIN}}}c", f"{{{NS_MAIN}}}f"
            for sheet, sheet_root in zip(names, list(root)):
                items[sheet] = [
                    (parse_ref(cell.get("r", "")), f.get("t"), f.get("si"), f.text or "")
                    for cell in sheet_root.iter(c_tag) for f in [cell.find(f_tag)] if f is not None]
        for sheet in wanted:
            if sheet not in items:
                continue
            found: dict[Pos, str] = {}
            masters: dict[str, tuple[Pos, str]] = {}
            pending: list[tuple[Pos, str]] = []
            for pos, kind, si, text in items[sheet]:
                if pos is None or pos[0] > max_rows or pos[1] > max_cols:
                    continue
                text = text.strip()
                if kind == "shared" and si is not None:
                    if text:
                        masters[si] = (pos, text)
                    else:
                        pending.append((pos, si))
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
        found = self._sheet_cells(sheet)
        if found is None or found[0].find(b't="e"', found[1], found[2]) < 0:
            return {}
        out: dict[Pos, str] = {}
        for m in _ERROR_CELL.finditer(*found):
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
        for ref in _MERGE_CELL.findall(data):
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


_SHEET_END = re.compile(rb"(?:</(?:\w+:)?(?:worksheet|macrosheet)>|<(?:\w+:)?(?:worksheet|macrosheet)\b[^<>]*/>)\s*$")


def _complete_sheet(data: bytes) -> bool:
    """Whether a sheet part ends where a whole sheet ends (its root element closed)."""
    tail = data[-4096:].rstrip(b" \t\n\r\f\v")
    return bool(_SHEET_END.match(tail, max(0, tail.rfind(b"<"))))


def _all_referenced(data: bytes, start: int, end: int) -> bool:
    """Whether every row and cell start tag in ``data[start:end]`` is unprefixed with ``r`` as
    its first attribute (no match of :data:`_UNREFERENCED`), told by counting; False may also
    mean only that something else there looks like one (then the regex scan decides)."""
    return (data.count(b"<c", start, end) == data.count(b'<c r="', start, end)
            and data.count(b"<row", start, end) == data.count(b'<row r="', start, end)
            and data.find(b":c", start, end) < 0 and data.find(b":row", start, end) < 0)


def _cell_span(data: bytes) -> tuple[int, int]:
    """Where a sheet's cells can lie: from the first mention of ``sheetData`` to the end of the
    last (the engines read cells only inside that element; the conditional formats and
    validations after it are often most of the part). The whole part when it has none."""
    start = data.find(b"sheetData")
    if start < 0:
        return 0, len(data)
    return start, data.rfind(b"sheetData") + len(b"sheetData")


def _sequential_extent(data: bytes, start: int, end: int) -> Pos:
    """:meth:`_XlsxParts.extent` for a sheet where some rows or cells have no ``r``: a row
    without one is the row after the last, a cell without one the column after the last."""
    row = col = max_row = max_col = 0
    for m in _ROW_OR_CELL.finditer(data, start, end):
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


def _formula_cells(data: bytes, start: int, end: int, within: set[Pos] | None = None
                   ) -> list[tuple[Pos, bytes, bytes]]:
    """(position, ``r`` as written, the ``<f ..>..</f>`` element) of each cell of a sheet holding
    a formula (optionally only at positions ``within``, plus the masters of shared formulas), cut
    out of the XML text: read as they are (:func:`_plain_formulas`) or parsed (with defusedxml)
    as one small document (:func:`_fragments_of`) instead of the whole sheet. Only the span
    ``start:end`` of ``data`` is searched."""
    try:
        _, prefix = _root_tag(data, b"worksheet")
    except ValueError:
        return []
    if data.find(b"<" + prefix + b"f", start, end) < 0:
        return []
    pattern, f_start = _formula_pattern(prefix)
    out: list[tuple[Pos, bytes, bytes]] = []
    for m in _anchored(data, f_start, pattern, start, end):  # each <f back to its cell's start tag
        ref = _CELL_R.search(m.group(1))
        if ref is None:
            continue
        f = m.group(2)
        pos = (int(ref.group(2)), _col_number(ref.group(1)))
        if within is not None and pos not in within and b'si="' not in f:
            continue
        out.append((pos, ref.group(1) + ref.group(2), f))
    return out


@lru_cache(maxsize=4096)
def _col_number(letters: bytes) -> int:
    return col_number(letters.decode())


def _fragments_of(data: bytes, cells: list[tuple[Pos, bytes, bytes]]) -> list[bytes]:
    """``<c r=..><f ..>..</f></c>`` for each of :func:`_formula_cells`, with the sheet's prefix."""
    _, prefix = _root_tag(data, b"worksheet")
    close = b"</" + prefix + b"c>"
    return [b"<" + prefix + b'c r="' + ref + b'">' + f + close for _, ref, f in cells]


_PLAIN_F = re.compile(rb'<f((?:[ \t\r\n]+[A-Za-z0-9]+="[^"<>&\t\r\n]*")*)[ \t\r\n]*'
                      rb'(?:/>|>([^<&\r]*(?:&(?:lt|gt|amp|quot|apos);[^<&\r]*)*)</f>)')
_F_ATTR = re.compile(rb'[ \t\r\n]+([A-Za-z0-9]+)="([^"]*)"')
_F_ATTRS = frozenset((b"t", b"ref", b"si", b"ca", b"aca", b"bx", b"dt2D", b"dtr", b"del1", b"del2", b"r1", b"r2"))


_MAIN_XMLNS = b'xmlns="' + NS_MAIN.encode() + b'"'


def _not_xml_text(text: str) -> bool:
    """Whether ``text`` holds a character XML forbids, or "]]>"."""
    return "]]>" in text or NOT_XML_CHAR.search(text) is not None


def _plain_formulas(data: bytes, cells: list[tuple[Pos, bytes, bytes]], path: Path
                    ) -> list[tuple[Pos | None, str | None, str | None, str]] | None:
    """(position, ``t``, ``si``, text) of each formula cell found by :func:`_formula_cells`, read
    without an XML parser when every one is plain (an unprefixed sheet in the main namespace,
    known attributes, no reference but the five predefined entities, nothing the parser would
    refuse): what the defused parse of their fragments would give. None when one is not: then
    they are parsed."""
    try:
        start, prefix = _root_tag(data, b"worksheet")
    except ValueError:
        return None
    if prefix or _MAIN_XMLNS not in start:
        return None
    if not _plain_root(start):
        _parse_xml(_wrap(data, b"worksheet", []), path, "worksheet")  # fails where the parse would
    out = []
    for pos, _, f in cells:
        m = _PLAIN_F.fullmatch(f)
        if m is None:
            return None
        try:
            text = f.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if _not_xml_text(text):
            return None
        t = si = None
        if m.group(1):
            attrs: dict[bytes, bytes] = {}
            for name, value in _F_ATTR.findall(m.group(1)):
                if name not in _F_ATTRS or name in attrs:
                    return None
                attrs[name] = value
            t, si = attrs.get(b"t"), attrs.get(b"si")
            t, si = None if t is None else t.decode(), None if si is None else si.decode()
        out.append((pos, t, si, _unescape((m.group(2) or b"").decode("utf-8"))))
    return out


_ROOT_ATTR = re.compile(rb'[ \t\r\n]+([A-Za-z_][A-Za-z0-9_.-]*(?::[A-Za-z_][A-Za-z0-9_.-]*)?)="([^"<&]*)"')
_PLAIN_ROOT = re.compile(rb'<worksheet((?:[ \t\r\n]+[A-Za-z_][A-Za-z0-9_.:-]*="[^"<&]*")*)[ \t\r\n]*/?>')


def _plain_root(start: bytes) -> bool:
    """Whether a sheet's start tag is one the defused parse takes as it is: plain attributes,
    each once (also by local name), every prefix declared in it with a non-empty namespace, none
    reserved, nothing but text characters. Else the parse is asked."""
    m = _PLAIN_ROOT.fullmatch(start)
    if m is None:
        return False
    try:
        if _not_xml_text(start.decode("utf-8")):
            return False
    except UnicodeDecodeError:
        return False
    attrs = _ROOT_ATTR.findall(m.group(1))
    if len(attrs) != m.group(1).count(b'="'):
        return False
    declared = {name[6:] for name, value in attrs if name.startswith(b"xmlns:") and value}
    if declared & {b"xml", b"xmlns"}:
        return False
    seen: set[bytes] = set()
    for name, value in attrs:
        prefix, _, local = name.rpartition(b":")
        if prefix == b"xmlns":
            if not value:
                return False
        elif prefix and prefix not in declared:
            return False
        key = name if prefix == b"xmlns" or name == b"xmlns" else local
        if key in seen:
            return False
        seen.add(key)
    return True


def _unescape(text: str) -> str:
    """XML text with the five predefined entities (the only references :func:`_plain_formulas`
    lets through) replaced."""
    if "&" not in text:
        return text
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


@lru_cache(maxsize=8)
def _formula_pattern(prefix: bytes) -> tuple[re.Pattern, re.Pattern]:
    """A cell start tag and its ``<f>`` element; the start of an ``<f>`` element."""
    p = re.escape(prefix)
    return (re.compile(rb"<" + p + rb"c\b([^<>]*)>\s*(<" + p + rb"f\b[^<>]*/>|<" + p + rb"f\b[^<>]*>[^<]*</" + p + rb"f>)"),
            re.compile(rb"<" + p + rb"f\b"))


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\s[^<>]*>")
_SHEET_ANCHOR = re.compile(rb"sheet\s")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\s[^<>]*>")


@lru_cache(maxsize=4)
def _name_patterns(prefix: bytes) -> tuple[re.Pattern, re.Pattern]:
    """(anchor, element) of a workbook-level defined name with the toolkit's prefix."""
    return re.compile(b'name="' + re.escape(prefix) + b"(?!C_)"), re.compile(_DEFINED_NAME % re.escape(prefix))


_DEFINED_NAME = (rb'<(?:\w+:)?definedName(?:\s+(?!name=)[\w:]+="[^"<]*")*\s+name="%s(?!C_)[^"<]*"[^<>]*>[^<]*'
                 rb'</(?:\w+:)?definedName>')  # a workbook-level name with a prefix (%s), not a cell's (C_)


def _without_defined_names(workbook: bytes) -> bytes | None:
    """The workbook part without its one ``<definedNames>`` element, or None where it has not
    exactly one: the engine reads no names (the toolkit reads them itself, :meth:`_XlsxParts.load`),
    and a workbook written by the toolkit names every cell, most of what the part holds."""
    start = workbook.find(b"<definedNames>")
    end = workbook.find(b"</definedNames>")
    if start < 0 or end < start or workbook.find(b"<definedNames", start + 1) >= 0 \
            or workbook.find(b"</definedNames>", end + 1) >= 0:
        return None
    return workbook[:start] + workbook[end + len(b"</definedNames>"):]


def _cells_only(sheet: bytes) -> bytes | None:
    """A worksheet part as the engine is to read it: cut after its one ``</sheetData>`` (closed
    there), with an empty ``<mergeCells>`` just before its cells; None where it has not exactly
    one ``sheetData`` element, unprefixed, or does not end as a whole worksheet. The engine reads
    only the cells for the toolkit: the merged ranges after them the toolkit reads itself
    (:meth:`_XlsxParts.merged`), nothing reads the rest (in a workbook the toolkit writes, the
    conditional formats and validations after the cells are most of a table's part), and
    calamine, which reads a sheet's merged ranges with its cells, reading the sheet again until
    its ``<mergeCells>``, stops at the empty one instead of going through every cell twice."""
    close = sheet.find(b"</sheetData>")
    if close < 0 or sheet.count(b"sheetData") != 2 or not sheet.rstrip().endswith(b"</worksheet>"):
        return None
    start = sheet.find(b"<sheetData")
    if start < 0 or start > close:
        return None
    return (sheet[:start] + _NO_MERGED_CELLS + sheet[start:close + len(b"</sheetData>")] + b"</worksheet>")


_NO_MERGED_CELLS = b"<mergeCells></mergeCells>"


def _anchored(data: bytes, anchor: re.Pattern, pattern: re.Pattern, start: int = 0, end: int | None = None
              ) -> Iterator[re.Match]:
    """The matches of ``pattern`` that hold a match of ``anchor`` with no "<" before it, in order:
    ``pattern`` is tried only from the "<" before each anchor found in ``data[start:end]`` (a
    quick search of a literal instead of a try at every "<"), each place once."""
    end = len(data) if end is None else end
    tried = -1
    for hit in anchor.finditer(data, start, end):
        tag = data.rfind(b"<", 0, hit.start())
        if tag <= tried:
            continue
        tried = tag
        m = pattern.match(data, tag)
        if m is not None:
            yield m


def _fragments(matches: Iterable[re.Match]) -> list[bytes]:
    """Elements cut out of XML text (the matches of a pattern); empty start tags are closed
    (``<x a="1"/>``)."""
    out = []
    for m in matches:
        fragment = m.group(0)
        if not fragment.endswith(b"/>") and b"</" not in fragment:
            fragment = fragment[:-1] + b"/>"
        out.append(fragment)
    return out


def _normpath(path: str) -> str:
    parts: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


