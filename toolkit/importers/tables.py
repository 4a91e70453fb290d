"""Reading one official table from the rows of its region: rows matched to official rows by
their labels, label-less rows placed in the free official rows between their neighbours, a row
printed as several small tables joined, every cell read through ``parse_cell``."""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.checks import import_findings as imf
from toolkit.checks import reading_findings  # noqa: F401  (registers the value-* findings)
from toolkit.checks.catalogue import finding_type
from toolkit.formats import Block, Format, Node, Table
from toolkit.importers.cells import NOTE, convert_unit, is_value, parse_cell, squash
from toolkit.importers.document import Item
from toolkit.importers.match import LOOSE, NUMBERLESS, VARIANT, LabelIndex, Match, fold
from toolkit.importers.rows import HeaderRow, ValueRow
from toolkit.importers.vocabulary import vocabulary
from toolkit.layout import cell_addresses
from toolkit.model import CellSource, Finding, ReportData, format_decimal


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
        values = trim_values(row.values, n) if row.explicit else row.values
        return len(values) == n or (row.explicit and len(values) > n)

    def _fill_gap(self, rows: list[ValueRow], lo: int, hi: int, taken: set[int]) -> None:
        free = [s for s in self.slots[lo + 1: hi] if s.index not in taken and s.index not in self.placed]
        if len(free) == 1 and len(rows) > 1:
            rows = self._joined(rows, free[0])
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

    def _joined(self, rows: list[ValueRow], slot: Slot) -> list[ValueRow]:
        """One official row printed as several small tables, one per column group (表四 as
        行政复议 / 行政诉讼（未经复议直接起诉） / 行政诉讼（复议后起诉）, each with its own header
        and one row): consecutive rows as long as the groups, in order, make up the row."""
        sizes = _group_sizes(slot.block.columns)
        if len(rows) != len(sizes) or sum(sizes) != len(self._columns(slot.block)):
            return rows
        parts = [trim_values(r.values, n) if r.explicit else r.values for r, n in zip(rows, sizes)]
        if any(len(values) != n for values, n in zip(parts, sizes)):
            return rows
        values = [v for part in parts for v in part]
        items = [r.item for r, part in zip(rows, parts) for _ in part]
        joined = ValueRow(rows[0].item, [], values, explicit=True, order=rows[0].order, value_items=items)
        self._headers.pop(id(rows[0]), None)  # each small table's header names a group's columns only
        return [joined]

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
        if header is None or block.column_depth != 1 or len(header.cells) < 2:
            return None  # a lone header line (a table printed one cell per line) names no column order
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
        values = [""] * n if row.blank else trim_values(row.values, n) if row.explicit else list(row.values)
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
        for k, (column, raw) in enumerate(zip(targets, values)):
            if column is None:
                self.findings.append(imf.ImportExtraValues.make(
                    where=row.where, table=self.table.number, row=slot.node.label, actual=len(values),
                    expected=len(columns), extra=raw, sheet=self.table.sheet, cell=first))
                continue
            self._value(self._cell_id(slot.block, slot.node, column), raw, row.item_of(k), slot.node, column)

    def _value(self, cell_id: str, raw: str, item: Item, row_node: Node, column: Node) -> None:
        cell = self.fmt.cells[cell_id]
        kind = cell.kind
        address = self.addresses[cell_id]
        names = [n for n in (row_node.label, column.label) if n]
        where = f"{self.table.number} {'·'.join(names)}（{item.where}）"
        common = dict(sheet=self.table.sheet, cell=address.a1, row=row_node.label or None,
                      column=column.label or None)
        self.data.raw[cell_id] = raw
        if self.lines:
            self.data.cells[cell_id] = CellSource(sheet=None, cell=None, line=item.line)
        text = squash(raw)
        note = NOTE.match(text)
        if note and is_value(note.group("head")):
            value = parse_cell(note.group("head"), kind)
            self.data.values[cell_id] = value[0]
            self.findings.append(imf.ImportNoteInCell.make(
                where=where, typed=raw, note=note.group("note"),
                value="—" if value[0] is None else format_decimal(value[0]), actual=raw, **common))
            return
        converted = convert_unit(text, kind.unit)
        if converted is not None:
            self.data.values[cell_id] = converted
            self.findings.append(imf.ImportUnitInCell.make(
                where=where, typed=raw, unit=kind.unit, value=format_decimal(converted), actual=raw, **common))
            return
        value, issue = parse_cell(raw, kind)
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


def _group_sizes(columns: list[Node]) -> list[int]:
    """The number of leaf columns of each lowest column group, left to right (a leaf column
    outside any group is a group of its own)."""
    out: list[int] = []
    for node in columns:
        if node.is_leaf:
            out.append(1)
        elif all(child.is_leaf for child in node.children):
            out.append(len(node.children))
        else:
            out.extend(_group_sizes(node.children))
    return out


def trim_values(values: list[str], n: int) -> list[str]:
    """Blank cells beyond the official count: leading ones first (merged label columns left
    empty), then trailing ones; a blank last cell (a 总计 left empty) stays in its column."""
    values = list(values)
    while len(values) > n and values and not values[0].strip():
        values.pop(0)
    while len(values) > n and values and not values[-1].strip():
        values.pop()
    return values
