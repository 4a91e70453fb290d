"""A report :class:`~toolkit.importers.document.Document` -> ReportData and findings.

Shared by every input kind. In order:

1. unit and year from the title (or the opening text);
2. the format from the tables' labels: labels only one format has ("本年制发件数" is 2021,
   "本年新制作数量" 2019), never from what the text claims;
3. the six sections by their headings (the format's labels and ``variants``, loosely matched,
   whatever their numbering); a table section counts only if numbers follow its heading;
4. the narrative parts, split on part headings ("（一）主动公开情况。…");
5. every table: number rows are matched to official rows by their labels; rows whose label was
   lost (PDF extraction puts a broken label cell's numbers on a line of their own) take the free
   official rows between their recognised neighbours, when the count fits; numbers are read with
   the workbook reader's ``parse_value`` so typed values give the same findings.

What cannot be read is a finding naming the table and row, and everything else is still read.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from toolkit.checks import import_findings as imf
from toolkit.checks import reading_findings  # noqa: F401  (registers the value-* findings)
from toolkit.checks.catalogue import finding_type
from toolkit.formats import Block, Format, Node, Section, Table, all_formats, format_for_year, load_format
from toolkit.importers.document import Document, Item
from toolkit.importers.match import LOOSE, NUMBERLESS, VARIANT, LabelIndex, Match, core, fold
from toolkit.importers.vocabulary import vocabulary
from toolkit.layout import cell_addresses
from toolkit.model import CellSource, Finding, ReportData, format_decimal
from toolkit.workbook.values import parse_value
from toolkit.workbook.values import vocabulary as value_vocabulary

_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_NOTE = re.compile(r"^(?P<head>.*?\S)\s*[（(](?P<note>[^（）()]*)[）)]\s*$")
_SENTENCE_END = "。！？：；!?:;"
_PATH = re.compile(r"\s+/\s+")  # "三、本年度办理结果 / （一）予以公开": a row's label path in one cell


# ---------------------------------------------------------------- value-like text


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _unit_words() -> tuple[str, ...]:
    voc = value_vocabulary()
    words = {w for ws in voc.units.values() for w in ws} | {w for ws in voc.wrong_units.values() for w in ws}
    for factors in vocabulary().unit_factors.values():
        words |= set(factors)
    return tuple(sorted(words, key=len, reverse=True))


def is_value(text: str, *, loose: bool = True) -> bool:
    """Whether a cell's text is a number as published: "12", "1,234", "2460.9543", "12件",
    "251000元", "22（其中修订16件）", "增", "减4", and (``loose``) "/", "—", "无"."""
    s = _squash(text)
    if not s:
        return False
    voc = value_vocabulary()
    if loose and s.upper() in voc.not_applicable:
        return True
    m = _NOTE.match(s)
    if m:
        s = m.group("head")
    changed = False
    for word in (*voc.increase, *voc.decrease):
        if s.startswith(word):
            s, changed = s[len(word):], True
            break
    for word in _unit_words():
        if s.endswith(word) and len(s) > len(word):
            s = s[: -len(word)]
            break
    return (changed and not s) or bool(_NUMBER.match(s))


# ---------------------------------------------------------------- rows of a table region


@dataclass
class ValueRow:
    item: Item
    labels: list[str]  # label cells (or the label part of a text line), left to right
    values: list[str]  # value cells, blanks kept where the source has cell boundaries
    explicit: bool  # cell boundaries are real (tabs, |, HTML/Word cells)
    order: int = 0
    blank: bool = False  # a label with every cell after it empty: the row's cells are blank

    @property
    def where(self) -> str:
        return f"{self.item.where}："


@dataclass
class HeaderRow:
    item: Item
    cells: list[str]


def _split_row(item: Item) -> ValueRow | HeaderRow | None:
    """A row item -> label cells and value cells (everything after the last label cell)."""
    cells = [c.strip() for c in item.cells]
    last_label = -1
    first_value = None
    for i, c in enumerate(cells):
        if not c:
            continue
        if is_value(c):
            first_value = i
            break
        last_label = i
    if first_value is None:
        filled = [i for i, c in enumerate(cells) if c]
        if len(filled) == 1 and filled[0] < len(cells) - 1:
            labels = [part for part in _PATH.split(cells[filled[0]]) if part.strip()]
            return ValueRow(item, labels, cells[filled[0] + 1:], explicit=True, blank=True)
        return HeaderRow(item, [c for c in cells if c]) if any(cells) else None
    labels = [part for c in cells[: last_label + 1] if c for part in _PATH.split(c) if part.strip()]
    return ValueRow(item, labels, cells[last_label + 1:], explicit=True)


def _split_line(item: Item) -> ValueRow | HeaderRow | None:
    """A line of PDF-extracted text: the numbers at its end are the cells, the rest the label."""
    tokens = item.text.split()
    k = len(tokens)
    while k > 0 and is_value(tokens[k - 1], loose=False):
        k -= 1
    if k == len(tokens):
        return HeaderRow(item, [item.text])
    label = " ".join(tokens[:k]).strip()
    return ValueRow(item, [label] if label else [], tokens[k:], explicit=False)


def table_rows(items: list[Item]) -> list[ValueRow | HeaderRow]:
    """The rows of a table region, in order; a bracketed note on a line of its own after a
    line of numbers is joined to that line's last number ("22" + "（其中修订16件）")."""
    out: list[ValueRow | HeaderRow] = []
    for item in items:
        row = _split_row(item) if item.is_row else _split_line(item)
        if row is None:
            continue
        if (isinstance(row, HeaderRow) and not item.is_row and out and isinstance(out[-1], ValueRow)
                and not out[-1].explicit and re.fullmatch(r"[（(][^（）()]*[）)]", item.text.strip())):
            out[-1].values[-1] += item.text.strip()
            continue
        out.append(row)
    for i, row in enumerate(out):
        if isinstance(row, ValueRow):
            row.order = i
    return out


# ---------------------------------------------------------------- identity


def find_identity(doc: Document) -> tuple[str | None, int | None]:
    """Unit and year from the title, or from the opening text ("特向社会公布2020年度…信息公开年度报告")."""
    voc = vocabulary()
    opening = []
    for item in doc.items[:12]:
        opening.append(re.sub(r"\s+", "", item.text))
    texts = [re.sub(r"\s+", "", doc.title or ""), "".join(opening)[: voc.opening_chars]]
    unit = year = None
    for text in texts:
        if not text:
            continue
        for pattern in voc.title_patterns:
            m = pattern.search(text)
            if m:
                unit = unit or _clean_unit(m.group("unit"))
                year = year or int(m.group("year"))
                break
        if unit and year:
            break
    if year is None:
        whole = "".join(re.sub(r"\s+", "", it.text) for it in doc.items[:40])
        for pattern in voc.year_patterns:
            m = pattern.search(whole)
            if m:
                year = int(m.group("year"))
                break
    return unit, year


def _clean_unit(unit: str | None) -> str | None:
    if not unit:
        return None
    unit = re.sub(r"^(?:关于|特向社会公布|现将|公布)", "", unit)
    return unit or None


# ---------------------------------------------------------------- format


def _table_labels(fmt: Format) -> set[str]:
    out: set[str] = set()
    for table in fmt.tables:
        for block in table.blocks:
            for text in (block.caption, *block.variants):
                if text:
                    out.add(fold(text))
            for node in [*block.columns, *block.rows]:
                for n in node.walk():
                    for text in n.labels:
                        if text:
                            out.add(fold(text))
    return out


def detect_format(doc: Document) -> tuple[Format | None, dict[str, list[str]]]:
    """The format whose distinctive table labels the report uses most; None when no label tells.

    A label counts only when no longer label of another format found in the report contains it
    ("处理决定数量" of 2019 inside "本年处理决定数量" of 2021)."""
    formats = all_formats()
    labels = {f.id: _table_labels(f) for f in formats}
    text = "\n".join(fold(it.text) if not it.is_row else "\n".join(fold(c) for c in it.cells)
                     for it in doc.items)
    found: dict[str, list[str]] = {}
    for f in formats:
        others = set().union(*(labels[g.id] for g in formats if g.id != f.id))
        found[f.id] = [lab for lab in labels[f.id] - others if len(lab) >= 2 and lab in text]
    explained: dict[str, list[str]] = {}
    for f in formats:
        longer = [m for g in formats if g.id != f.id for m in found[g.id]]
        explained[f.id] = [lab for lab in found[f.id] if not any(lab in m and lab != m for m in longer)]
    best = max(formats, key=lambda f: (sum(len(x) for x in explained[f.id]), f.year_from))
    if not explained[best.id]:
        return None, explained
    return best, explained


# ---------------------------------------------------------------- sections


@dataclass
class Region:
    section: Section
    items: list[Item] = field(default_factory=list)


def _section_index(fmt: Format) -> LabelIndex:
    sn = vocabulary().section_number_text
    return LabelIndex((s, sn.sub("", s.label), [sn.sub("", v) for v in s.variants]) for s in fmt.sections)


def _heading_text(item: Item) -> str | None:
    if item.is_row and len(item.non_empty) != 1:
        return None
    text = item.text.strip()
    return text if 0 < len(text) <= vocabulary().section_heading_max else None


def find_sections(doc: Document, fmt: Format) -> tuple[dict[str, Region], list[Finding]]:
    """Split the items at the section headings: (regions by section id, findings for headings
    read through a variant). Items before the first heading (title, preface) belong to none."""
    voc = vocabulary()
    index = _section_index(fmt)
    heads: list[tuple[int, Section, Match]] = []
    for i, item in enumerate(doc.items):
        text = _heading_text(item)
        if text is None:
            continue
        m = voc.section_number_text.match(text)
        if not m:
            continue
        match = index.best(text[m.end():], voc.thresholds["heading"], pieces=False)
        if match is not None:
            heads.append((i, match.key, match))

    def regions_for(heads):
        out: dict[str, Region] = {}
        bounds = [h[0] for h in heads] + [len(doc.items)]
        for (i, section, _), end in zip(heads, bounds[1:]):
            region = out.setdefault(section.id, Region(section))
            region.items.extend(doc.items[i + 1:end])
        return out

    # a table section heading counts only when numbers follow it
    while True:
        regions = regions_for(heads)
        bad = [h for h in heads if h[1].table and not any(
            isinstance(r, ValueRow) and not r.blank for r in table_rows(_region_slice(doc, heads, h)))]
        if not bad:
            break
        heads = [h for h in heads if h not in bad]
    findings = []
    seen = set()
    for i, section, match in heads:
        if section.id in seen:
            continue
        seen.add(section.id)
        if match.is_variant:
            findings.append(imf.ImportSectionVariant.make(
                where=f"{doc.items[i].where}：", found=doc.items[i].text.strip(), label=section.label))
    return regions, findings


def _region_slice(doc: Document, heads, head) -> list[Item]:
    k = heads.index(head)
    end = heads[k + 1][0] if k + 1 < len(heads) else len(doc.items)
    return doc.items[head[0] + 1:end]


# ---------------------------------------------------------------- narrative


def _paragraphs(items: list[Item], width: int) -> list[str]:
    """Running text of a narrative region: one paragraph per item, or, for hard-wrapped PDF
    text (``width``: the full line length), lines joined until a sentence ends on a short line,
    a short heading line ends, or an item number starts a line."""
    voc = vocabulary()
    lines = [it.text.strip() for it in items if it.text.strip()]
    if not width:
        return lines
    out: list[str] = []
    prev = ""
    for line in lines:
        starts = bool(voc.part_number_text.match(line) or voc.section_number_text.match(line))
        if out and not starts:
            ended = prev[-1:] in _SENTENCE_END and len(prev) < 0.9 * width
            heading = bool(voc.part_number_text.match(prev)) and len(prev) < 0.8 * width
            if not ended and not heading and len(prev) >= 0.6 * width:
                out[-1] += line
                prev = line
                continue
        out.append(line)
        prev = line
    return out


def _part_index(section: Section) -> LabelIndex:
    pn = vocabulary().part_number_text
    return LabelIndex((p, pn.sub("", p.label), [pn.sub("", v) for v in p.variants]) for p in section.parts)


def _part_heading(paragraph: str, index: LabelIndex) -> tuple[object, str] | None:
    """(part, the paragraph without its heading) when it starts with a part heading."""
    voc = vocabulary()
    m = voc.part_number_text.match(paragraph)
    if not m:
        return None
    rest = paragraph[m.end():]
    end = voc.part_heading_end.search(rest[: voc.part_heading_max + 1])
    if end:
        heading, body = rest[: end.start()], rest[end.end():]
    elif len(rest) <= voc.part_heading_max:
        heading, body = rest, ""
    else:
        return None
    match = index.best(heading, voc.thresholds["part"], pieces=False)
    if match is None:
        c = core(heading)
        prefixed = [e for e in index.entries if len(e.core) >= 4 and c.startswith(e.core)
                    and len(c) <= len(e.core) + 4]
        keys = {id(e.key) for e in prefixed}
        if len(keys) != 1:
            return None
        return prefixed[0].key, body.strip()
    return match.key, body.strip()


def narrative(section: Section, items: list[Item], width: int = 0) -> tuple[dict[str, str], Finding | None]:
    """The section's text by part id, split on part headings."""
    if not section.parts:
        return {}, None
    paragraphs = _paragraphs(items, width)
    if not paragraphs:
        return {}, None
    section_core = core(vocabulary().section_number_text.sub("", section.label))
    general = next((p for p in section.parts if core(p.label) == section_core), None)
    texts: dict[str, list[str]] = {p.id: [] for p in section.parts}
    index = _part_index(section)
    current = None
    headings = 0
    for paragraph in paragraphs:
        if len(section.parts) > 1:
            found = _part_heading(paragraph, index)
            if found is not None:
                current, paragraph = found[0], found[1]
                headings += 1
                if not paragraph:
                    continue
        target = current or general or section.parts[0]
        texts[target.id].append(paragraph)
    finding = None
    if len(section.parts) > 1 and headings == 0 and general is None:
        finding = imf.ImportNarrativeUnsplit.make(
            section=section.label, parts="、".join(p.label for p in section.parts[:3]),
            part=section.parts[0].label)
    return {pid: "\n".join(t) for pid, t in texts.items() if t}, finding


# ---------------------------------------------------------------- tables


@dataclass
class Slot:
    """One leaf row of an official table, in official order."""

    index: int
    node: Node
    block: Block
    group: Node | None = None  # the group row it belongs to, if any


def _slots(table: Table) -> list[Slot]:
    out: list[Slot] = []

    def walk(nodes, block, group):
        for n in nodes:
            if n.is_leaf:
                out.append(Slot(len(out), n, block, group))
            else:
                walk(n.children, block, n)

    for block in table.blocks:
        walk(block.rows, block, None)
    return out


def _row_index(table: Table) -> LabelIndex:
    entries = []
    for block in table.blocks:
        for node in block.rows:
            for n in node.walk():
                if n.label:
                    entries.append((n, n.label, n.variants))
    return LabelIndex(entries)


class TableReader:
    """Reads one official table from the rows of its region."""

    def __init__(self, fmt: Format, table: Table, data: ReportData, findings: list[Finding], *,
                 lines: bool = True):
        self.fmt, self.table, self.data, self.findings = fmt, table, data, findings
        self.lines = lines  # the source has lines a clerk can go to (text), not table cells (HTML, Word)
        self.slots = _slots(table)
        self.slot_of = {id(s.node): s for s in self.slots}
        self.index = _row_index(table)
        self.addresses = cell_addresses(fmt)
        self.threshold = vocabulary().thresholds["label"]
        self.placed: dict[int, ValueRow | None] = {}  # slot index -> row (None: nothing to read)
        self._reported: set = set()
        self._headers: dict[int, HeaderRow] = {}
        self._spans: dict[int, tuple[int, int]] = {}

    # -- matching

    def _candidates(self, row: ValueRow) -> list[str]:
        labels = row.labels
        if not labels:
            return []
        out = [labels[-1]]
        if len(labels) > 1:
            out += ["".join(labels[-2:]), "".join(labels)]
        tokens = labels[-1].split()
        if not row.explicit and len(tokens) > 1:  # "三、本年度办理结果 (一) 予以公开": its tail
            out += [" ".join(tokens[-k:]) for k in range(1, len(tokens))]
        return out

    def _match(self, row: ValueRow, after: int) -> Match | None:
        best: list[Match] = []
        for text in self._candidates(row):
            for m in self.index.scores(text):
                if m.score >= self.threshold:
                    best.append(m)
        if not best:
            return None
        top = max(m.score for m in best)
        tied = {id(m.key): m for m in best if m.score >= top - 1e-9}
        if len(tied) == 1:
            return next(iter(tied.values()))
        ordered = sorted(tied.values(), key=lambda m: self._first_index(m.key))
        later = [m for m in ordered if self._first_index(m.key) > after]
        return (later or ordered)[0]

    def _first_index(self, node: Node) -> int:
        return self._span(node)[0]

    def _last_index(self, node: Node) -> int:
        return self._span(node)[1]

    def _span(self, node: Node) -> tuple[int, int]:
        span = self._spans.get(id(node))
        if span is None:
            leaves = list(node.leaves())
            span = self._spans[id(node)] = (self.slot_of[id(leaves[0])].index, self.slot_of[id(leaves[-1])].index)
        return span

    # -- reading

    def read(self, rows: list[ValueRow | HeaderRow]) -> None:
        value_rows = [r for r in rows if isinstance(r, ValueRow)]
        if not value_rows:
            self._table_missing()
            return
        anchors: list[tuple[ValueRow, Node, Match | None]] = []
        last = -1
        for row in value_rows:
            if not row.labels:
                continue
            m = self._match(row, last)
            if m is None:
                continue
            anchors.append((row, m.key, m))
            last = self._last_index(m.key)
        anchored_rows = {id(r) for r, _, _ in anchors}
        value_rows = [r for r in value_rows if not r.blank or id(r) in anchored_rows]  # an empty header line
        taken = {self._first_index(n) for _, n, _ in anchors if n.is_leaf}
        groups: list[tuple[ValueRow, Node]] = []
        for row, node, m in anchors:
            if m.is_variant:
                slot = self.slots[self._first_index(node)]
                first = self._cell_id(slot.block, slot.node, self._columns(slot.block)[0])
                self.findings.append(imf.ImportLabelVariant.make(
                    where=row.where, table=self.table.number, found=" ".join(row.labels), label=m.label,
                    sheet=self.table.sheet, cell=self.addresses[first].a1, row=m.label))
            if node.is_leaf:
                self._place(self.slots[self._first_index(node)], row)
            else:
                groups.append((row, node))

        # rows without a label take the free official rows between their recognised neighbours
        pending: list[ValueRow] = []
        prev_index = -1
        for row in value_rows + [None]:
            if row is not None and id(row) not in anchored_rows:
                pending.append(row)
                continue
            next_index = len(self.slots)
            if row is not None:
                node = next(n for r, n, _ in anchors if r is row)
                next_index = self._first_index(node)
            if pending:
                self._fill_gap(pending, prev_index, next_index, taken)
                pending = []
            if row is not None:
                node = next(n for r, n, _ in anchors if r is row)
                prev_index = self._last_index(node)

        for row, node in groups:
            self._collapsed(row, node)
        self._missing()

    def _columns(self, block: Block) -> list[Node]:
        return block.leaf_columns

    def _fits(self, row: ValueRow, slot: Slot) -> bool:
        n = len(self._columns(slot.block))
        values = _trim(row.values, n) if row.explicit else row.values
        return len(values) == n or (row.explicit and len(values) > n)

    def _fill_gap(self, rows: list[ValueRow], lo: int, hi: int, taken: set[int]) -> None:
        free = [s for s in self.slots[lo + 1: hi] if s.index not in taken and s.index not in self.placed]
        full = [r for r in rows if free and any(self._fits(r, s) for s in free)]
        fragments = [r for r in rows if r not in full]
        if len(full) == len(free) and all(self._fits(r, s) for r, s in zip(full, free)):
            for r, s in zip(full, free):
                self._place(s, r)
                taken.add(s.index)
        else:
            fragments = rows
        for r in fragments:
            self.findings.append(imf.ImportUnplacedValues.make(
                where=r.where, table=self.table.number, found=" ".join(v for v in r.values if v),
                sheet=self.table.sheet))

    def _collapsed(self, row: ValueRow, group: Node) -> None:
        leaves = list(group.leaves())
        if any(self.slot_of[id(leaf)].index in self.placed for leaf in leaves):
            return  # a subtotal row besides its sub-rows: nothing to read
        into = next((leaf for leaf in leaves if leaf.id == group.collapse_to), None)
        if into is None:
            self.findings.append(imf.ImportUnplacedValues.make(
                where=row.where, table=self.table.number, found=" ".join(v for v in row.values if v),
                sheet=self.table.sheet))
            return
        slot = self.slot_of[id(into)]
        self._place(slot, row)
        for leaf in leaves:
            if leaf is not into:
                self.placed.setdefault(self.slot_of[id(leaf)].index, None)
        cell = self._cell_id(slot.block, into, self._columns(slot.block)[0])
        self.findings.append(imf.ImportRowCollapsed.make(
            where=row.where, table=self.table.number, row=group.label,
            n=len(leaves), into=into.label,
            sheet=self.table.sheet, cell=self.addresses[cell].a1))

    def _cell_id(self, block: Block, row: Node, column: Node) -> str:
        return ".".join(p for p in (self.table.id, row.id, column.id) if p)

    def _header_map(self, row: ValueRow, block: Block) -> list[Node | None] | None:
        """The block's columns in the order of the nearest header row above, with None for a
        header cell that is none of them (an extra column)."""
        header = self._headers.get(id(row))
        if header is None or block.column_depth != 1:
            return None
        columns = self._columns(block)
        index = LabelIndex((c, c.label, c.variants) for c in columns)
        others = LabelIndex((c, c.label, c.variants) for b in self.table.blocks for c in b.leaf_columns)
        corner = {fold(block.corner or "")}
        cells = [c for c in header.cells if fold(c) not in corner]
        mapped: list[Node | None] = []
        hits = 0
        for cell in cells:
            m = index.best(cell, self.threshold, pieces=False)
            if m is not None:
                mapped.append(m.key)
                hits += 1
            elif others.best(cell, self.threshold, pieces=False) is not None:
                mapped.append(None)
            else:
                return None
        if not hits or len({id(c) for c in mapped if c is not None}) != hits:
            return None
        return mapped

    def _place(self, slot: Slot, row: ValueRow) -> None:
        if slot.index in self.placed:
            old = self.placed[slot.index]
            if old is not None and old is not row:
                self.findings.append(imf.ImportDuplicateRow.make(
                    where=row.where, table=self.table.number, row=slot.node.label,
                    found=" ".join(v for v in row.values if v), sheet=self.table.sheet))
            return
        self.placed[slot.index] = row
        columns = self._columns(slot.block)
        header = self._header_map(row, slot.block)
        n = len(header) if header and len(header) != len(columns) else len(columns)
        values = [""] * n if row.blank else _trim(row.values, n) if row.explicit else list(row.values)
        first = self.addresses[self._cell_id(slot.block, slot.node, columns[0])].a1
        if len(values) < n:
            self.placed[slot.index] = None
            self._absent(slot)
            self._missing_row(slot, row, values)
            return
        targets: list[Node | None] = header if header and len(header) == len(values[:n]) else columns
        if len(values) > len(targets):
            extra = values[len(targets):]
            self.findings.append(imf.ImportExtraValues.make(
                where=row.where, table=self.table.number, row=slot.node.label, actual=len(values),
                expected=len(columns), extra="、".join(extra), sheet=self.table.sheet, cell=first))
        for column, raw in zip(targets, values):
            if column is None:
                self.findings.append(imf.ImportExtraValues.make(
                    where=row.where, table=self.table.number, row=slot.node.label, actual=len(values),
                    expected=len(columns), extra=raw, sheet=self.table.sheet, cell=first))
                continue
            self._value(self._cell_id(slot.block, slot.node, column), raw, row, slot.node, column)

    def _value(self, cell_id: str, raw: str, row: ValueRow, row_node: Node, column: Node) -> None:
        cell = self.fmt.cells[cell_id]
        kind = cell.kind
        address = self.addresses[cell_id]
        names = [n for n in (row_node.label, column.label) if n]
        where = f"{self.table.number} {'·'.join(names)}（{row.item.where}）"
        common = dict(sheet=self.table.sheet, cell=address.a1, row=row_node.label or None,
                      column=column.label or None)
        self.data.raw[cell_id] = raw
        if self.lines:
            self.data.cells[cell_id] = CellSource(sheet=None, cell=None, line=row.item.line)
        text = _squash(raw)
        note = _NOTE.match(text)
        if note and is_value(note.group("head")):
            value = _parse(note.group("head"), kind)
            self.data.values[cell_id] = value[0]
            self.findings.append(imf.ImportNoteInCell.make(
                where=where, typed=raw, note=note.group("note"),
                value="—" if value[0] is None else format_decimal(value[0]), actual=raw, **common))
            return
        converted = _convert_unit(text, kind.unit)
        if converted is not None:
            self.data.values[cell_id] = converted
            self.findings.append(imf.ImportUnitInCell.make(
                where=where, typed=raw, unit=kind.unit, value=format_decimal(converted), actual=raw, **common))
            return
        value, issue = _parse(raw, kind)
        self.data.values[cell_id] = value
        if issue:
            self.findings.append(finding_type(issue).make(
                where=where, typed=raw, value="" if value is None else format_decimal(value), unit=kind.unit,
                decimals=kind.decimals, actual=raw, **common))

    def _missing_row(self, slot: Slot, row: ValueRow, values: list[str]) -> None:
        columns = self._columns(slot.block)
        first = self.addresses[self._cell_id(slot.block, slot.node, columns[0])].a1
        self.findings.append(imf.ImportCellsMissing.make(
            where=row.where, table=self.table.number, row=slot.node.label, expected=len(columns),
            actual=len([v for v in values if v.strip()]), found="、".join(v for v in values if v.strip()) or "无",
            sheet=self.table.sheet, cell=first))

    def _absent(self, slot: Slot) -> None:
        for column in self._columns(slot.block):
            self.data.absent.add(self._cell_id(slot.block, slot.node, column))

    def _table_missing(self) -> None:
        for slot in self.slots:
            self._absent(slot)
        self.findings.append(imf.ImportTableMissing.make(
            table=self.table.number, caption=self.table.caption, sheet=self.table.sheet))

    def _missing(self) -> None:
        missing = [s for s in self.slots if s.index not in self.placed]
        if len(missing) == len(self.slots):
            self._table_missing()
            return
        for s in missing:
            self._absent(s)
            columns = self._columns(s.block)
            first = self.addresses[self._cell_id(s.block, s.node, columns[0])].a1
            self.findings.append(imf.ImportRowMissing.make(
                table=self.table.number, row=s.node.label or self.table.caption, sheet=self.table.sheet,
                cell=first, row_label=s.node.label))

    def read_region(self, rows: list[ValueRow | HeaderRow]) -> None:
        headers: dict[int, HeaderRow] = {}
        last: HeaderRow | None = None
        for r in rows:
            if isinstance(r, HeaderRow):
                last = r
            else:
                if last is not None:
                    headers[id(r)] = last
        self._headers = headers
        self.read(rows)
        self._header_variants([r for r in rows if isinstance(r, HeaderRow)])

    def _header_variants(self, headers: list[HeaderRow]) -> None:
        """Column headers and block captions written as a variant of the official label."""
        entries = []
        for block in self.table.blocks:
            if block.caption:
                entries.append((block, block.caption, block.variants))
            for node in block.columns:
                entries.extend((n, n.label, n.variants) for n in node.walk())
        index = LabelIndex(entries)
        seen: set[str] = set()
        for header in headers:
            for cell in header.cells:
                m = index.best(cell, self.threshold, pieces=False)
                if m is None or not m.is_variant or m.how not in (VARIANT, NUMBERLESS, LOOSE) or cell in seen:
                    continue
                seen.add(cell)
                self.findings.append(imf.ImportLabelVariant.make(
                    where=f"{header.item.where}：", table=self.table.number, found=cell, label=m.label,
                    sheet=self.table.sheet, column=m.label))


def _trim(values: list[str], n: int) -> list[str]:
    """Blank cells beyond the official count: leading ones first (merged label columns left
    empty), then trailing ones; a blank last cell (a 总计 left empty) stays in its column."""
    values = list(values)
    while len(values) > n and values and not values[0].strip():
        values.pop(0)
    while len(values) > n and values and not values[-1].strip():
        values.pop()
    return values


def _parse(text: str, kind) -> tuple[Decimal | None, str | None]:
    """A cell's text through the workbook reader's parse_value; a plain number (as every cell of
    a text report is text) goes in as a number, so it is not "a number stored as text"."""
    squashed = _squash(text)
    if _NUMBER.match(squashed):
        pv = parse_value(Decimal(squashed.replace(",", "")), kind)
    else:
        pv = parse_value(text if text.strip() else None, kind)
    return pv.value, pv.issue


def _convert_unit(text: str, unit: str) -> Decimal | None:
    factors = vocabulary().unit_factors.get(unit, {})
    for word in sorted(factors, key=len, reverse=True):
        if text.endswith(word) and len(text) > len(word):
            head = text[: -len(word)].replace(",", "")
            if _NUMBER.match(head) and word != unit:
                try:
                    return (Decimal(head) * factors[word]).normalize()
                except InvalidOperation:
                    return None
    return None


# ---------------------------------------------------------------- the whole report


def assemble(doc: Document, *, format_id: str | None = None,
             year: int | None = None) -> tuple[ReportData | None, list[Finding]]:
    """Read a Document into ReportData; see the module docstring. Never raises on bad content.
    A document with no section heading and no table row is not a report: (None, one finding)."""
    findings: list[Finding] = []
    unit, found_year = find_identity(doc)
    if found_year is not None and year is not None and found_year != year:
        findings.append(imf.ImportYearMismatch.make(expected=year, actual=found_year))
    report_year = found_year or year

    fmt, evidence = detect_format(doc)
    if fmt is None:
        reason = "按指定的格式" if format_id else ("按报告年度" if report_year else "按最新格式")
        fmt = load_format(format_id) if format_id else (
            _format_for_year(report_year) or max(all_formats(), key=lambda f: f.year_from))
        findings.append(imf.ImportFormatUnknown.make(actual=fmt.id, name=fmt.name, reason=reason))
    else:
        if format_id and str(format_id) != fmt.id:
            findings.append(imf.ImportFormatForced.make(expected=str(format_id), actual=fmt.id, name=fmt.name))
        whole = fold("".join(it.text for it in doc.items))
        claimed = [f for f in all_formats() if fold(f.name) in whole]
        if claimed and fmt not in claimed:
            findings.append(imf.ImportFormatClaimed.make(
                expected=claimed[0].id, expected_name=claimed[0].name, actual=fmt.id, name=fmt.name))
        if report_year is not None and not fmt.covers(report_year):
            expected = _format_for_year(report_year)
            if expected is not None:
                findings.append(imf.ImportFormatYear.make(
                    year=report_year, actual=fmt.id, name=fmt.name, expected=expected.id,
                    expected_name=expected.name))

    if unit is None:
        findings.append(imf.ImportUnitMissing.make())
    if report_year is None:
        findings.append(imf.ImportYearMissing.make())

    data = ReportData(format=fmt.id, unit=unit, year=report_year, source=doc.source,
                      values={cid: None for cid in fmt.cells})
    regions, section_findings = find_sections(doc, fmt)
    findings.extend(section_findings)

    # a missing narrative section takes the text after the table before it (its heading was lost)
    order = [s.id for s in fmt.sections]
    orphans: dict[str, list[Item]] = {}
    for k, section in enumerate(fmt.sections):
        if section.id in regions:
            continue
        note = ""
        prev = next((regions[s] for s in reversed(order[:k]) if s in regions), None)
        if section.parts and prev is not None and prev.section.table:
            rows = table_rows(prev.items)
            last = max((r.order for r in rows if isinstance(r, ValueRow)), default=None)
            if last is not None:
                last_item = rows[last].item
                tail = prev.items[prev.items.index(last_item) + 1:]
                if any(not it.is_row for it in tail):
                    orphans[section.id] = tail
                    prev.items = prev.items[: prev.items.index(last_item) + 1]
                    note = f"，{fmt.table(prev.section.table).number}之后的文字按这一部分读取"
        findings.append(imf.ImportSectionMissing.make(section=section.label, note=note))

    for section in fmt.sections:
        items = regions[section.id].items if section.id in regions else orphans.get(section.id)
        if not items or not section.parts:
            continue
        texts, finding = narrative(section, items, doc.line_width if doc.wrapped else 0)
        data.narrative.update(texts)
        if finding is not None:
            findings.append(finding)

    for table in fmt.tables:
        section = next((s for s in fmt.sections if s.table == table.id), None)
        region = regions.get(section.id) if section else None
        reader = TableReader(fmt, table, data, findings, lines=doc.kind in ("text", "markdown"))
        reader.read_region(table_rows(region.items) if region else [])
    if not regions and all(v is None for v in data.values.values()):
        return None, [imf.ImportNotAReport.make(file=Path(doc.source).name if doc.source else "报告")]
    return data, findings


def _format_for_year(year: int | None) -> Format | None:
    if year is None:
        return None
    try:
        return format_for_year(year)
    except Exception:  # noqa: BLE001 - a year no format covers: no expectation
        return None
