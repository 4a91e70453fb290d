"""Where a table's cells are in a sheet: at the standard positions of the blank workbook, or
found by the table's official labels (block captions, leaf row labels, leaf column headers, in
order), with what did not fit (rows or columns missing, inserted or moved)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from toolkit.a1 import Pos, a1
from toolkit.formats import Block, Format, Node, Table
from toolkit.grid import CAPTION, COLUMN, ROW, table_grid
from toolkit.labels import normalize_label
from toolkit.layout import cell_addresses, sheet_origin
from toolkit.workbook.values import typed_text


# ---------------------------------------------------------------- labels


@lru_cache(maxsize=65536)
def norm(text: str) -> str:
    return normalize_label(text)


def _cell_norm(value: Any) -> str:
    return norm(value) if isinstance(value, str) else ""


def _labels(node: Node) -> frozenset[str]:
    return frozenset(norm(label) for label in node.labels if label)


def _node_paths(nodes: list[Node]) -> dict[str, list[Node]]:
    out: dict[str, list[Node]] = {}

    def walk(node: Node, trail: list[Node]) -> None:
        trail = trail + [node]
        if node.is_leaf:
            out[node.id] = trail
        for child in node.children:
            walk(child, trail)

    for node in nodes:
        walk(node, [])
    return out


@lru_cache(maxsize=None)
def cell_labels(fmt: Format, cell_id: str) -> tuple[str, str]:
    """(row label, column label) of a cell for messages: the leaf's label, prefixed by its
    parents' labels only as far as needed to tell it apart within its table
    (表四 "行政复议·总计" vs "复议后起诉·总计")."""
    cell = fmt.cell(cell_id)
    table = cell.table

    def unique(paths: dict[str, list[Node]], node_id: str) -> str:
        trail = paths[node_id]
        for depth in range(1, len(trail) + 1):
            label = "·".join(n.label for n in trail[-depth:] if n.label)
            clash = [p for nid, p in paths.items() if nid != node_id and
                     "·".join(n.label for n in p[-depth:] if n.label) == label]
            if not clash:
                return label
        return "·".join(n.label for n in trail if n.label)

    rows: dict[str, list[Node]] = {}
    cols: dict[str, list[Node]] = {}
    for block in table.blocks:
        rows.update(_node_paths(block.rows))
        cols.update({k: v for k, v in _node_paths(block.columns).items() if k not in cols})
    return unique(rows, cell.row.id) if cell.row.label else "", unique(cols, cell.column.id)


def where(fmt: Format, cell_id: str, sheet: str, ref: str) -> str:
    table = fmt.cell(cell_id).table
    row, col = cell_labels(fmt, cell_id)
    name = "·".join(x for x in (row, col) if x)
    place = ref if sheet == table.sheet else f"工作表“{sheet}”{ref}"
    return f"{table.number} {name}（{place}）"


# ---------------------------------------------------------------- expectations per format


@dataclass(frozen=True)
class BlockExpect:
    block: Block
    caption: frozenset[str]
    rows: tuple[tuple[str, frozenset[str]], ...]  # leaf row id, labels
    cols: tuple[tuple[str, frozenset[str]], ...]  # leaf column id, labels
    groups: frozenset[str]  # labels of the top-level column groups
    known_rows: frozenset[str]  # labels that may stand left of the values: rows, caption, corner
    parents: frozenset[str]  # labels of rows that group other rows, caption, corner
    known_cols: frozenset[str]  # labels that may stand above the values: columns, caption, corner
    cell_ids: dict[tuple[str, str], str]


@dataclass(frozen=True)
class TableExpect:
    table: Table
    sheet_key: str
    blocks: tuple[BlockExpect, ...]
    fixed: tuple[tuple[int, int, frozenset[str]], ...]  # standard position -> labels (fast path)
    n_leaves: int
    positions: dict[str, Pos]  # cell id -> standard position


@lru_cache(maxsize=None)
def expectations(fmt: Format) -> dict[str, TableExpect]:
    out: dict[str, TableExpect] = {}
    top, left = sheet_origin()
    for table in fmt.tables:
        blocks = []
        for block in table.blocks:
            caption = frozenset(norm(x) for x in (block.caption, *block.variants) if x)
            common = set(caption) | ({norm(block.corner)} if block.corner else set())
            known_rows = {label for node in block.rows for n in node.walk() for label in _labels(n)} | common
            known_cols = {label for node in block.columns for n in node.walk() for label in _labels(n)} | common
            parents = {label for node in block.rows for n in node.walk() if n.children for label in _labels(n)}
            parents |= common
            ids = {(c.row.id, c.column.id): c.id for c in table.cells if c.block is block}
            rows = tuple((r.id, _labels(r)) for r in block.leaf_rows) if block.row_depth else ()
            blocks.append(BlockExpect(
                block=block, caption=caption, rows=rows,
                cols=tuple((c.id, _labels(c)) for c in block.leaf_columns),
                groups=frozenset(label for node in block.columns if node.children for label in _labels(node)),
                known_rows=frozenset(known_rows - {""}), parents=frozenset(parents - {""}),
                known_cols=frozenset(known_cols - {""}), cell_ids=ids))
        fixed = []
        by_id = {b.block.id: b for b in blocks}
        for gc in table_grid(fmt, table.id).cells:
            if gc.role in (ROW, COLUMN) and gc.text:
                node = _find_node(by_id[gc.block].block, gc.node_id, gc.role)
                fixed.append((top + gc.row, left + gc.col, _labels(node)))
            elif gc.role == CAPTION and gc.text:
                fixed.append((top + gc.row, left + gc.col, by_id[gc.block].caption))
        out[table.id] = TableExpect(
            table=table, sheet_key=norm(table.sheet), blocks=tuple(blocks),
            fixed=tuple(fixed),
            n_leaves=sum(len(b.rows) + len(b.cols) for b in blocks),
            positions={c.id: (cell_addresses(fmt)[c.id].row, cell_addresses(fmt)[c.id].col) for c in table.cells})
    return out


def _find_node(block: Block, node_id: str, role: str) -> Node:
    for top in (block.rows if role == ROW else block.columns):
        for node in top.walk():
            if node.id == node_id:
                return node
    raise KeyError(node_id)


# ---------------------------------------------------------------- one sheet, indexed


class SheetIndex:
    """A sheet's cells with their normalised labels, for label search."""

    def __init__(self, name: str, cells: dict[Pos, Any]):
        self.name = name
        self.cells = cells
        self._index: dict[str, list[Pos]] | None = None
        self.max_row = max(cells, default=(0, 0))[0]  # positions order by row first

    @property
    def index(self) -> dict[str, list[Pos]]:
        if self._index is None:
            index: dict[str, list[Pos]] = {}
            for pos in sorted(self.cells):
                value = self.cells[pos]
                if isinstance(value, str):
                    key = norm(value)
                    if key:
                        index.setdefault(key, []).append(pos)
            self._index = index
        return self._index

    def norm_at(self, pos: Pos) -> str:
        return _cell_norm(self.cells.get(pos))

    def find(self, labels: frozenset[str], rows: tuple[int, int], min_col: int = 1) -> list[Pos]:
        out = []
        for label in labels:
            for pos in self.index.get(label, ()):
                if rows[0] <= pos[0] <= rows[1] and pos[1] >= min_col:
                    out.append(pos)
        return sorted(out)

    def find_prefix(self, labels: frozenset[str], rows: tuple[int, int], used: set[Pos], min_col: int = 1,
                    max_col: int | None = None) -> list[Pos]:
        """Cells whose label starts with one of ``labels`` or is a long start of one of them."""
        out = []
        for key, positions in self.index.items():
            if len(key) < 6:
                continue
            if not any((key.startswith(label) and len(label) >= 4) or (label.startswith(key)) for label in labels):
                continue
            for pos in positions:
                if (rows[0] <= pos[0] <= rows[1] and pos[1] >= min_col and pos not in used
                        and (max_col is None or pos[1] <= max_col)):
                    out.append(pos)
        return sorted(out)


def _chain(items: list[tuple[str, frozenset[str]]], found: list[Pos], sheet: SheetIndex, axis: int) -> dict[str, Pos]:
    """Match expected items (in order) to found label cells, keeping both orders (row order for
    rows, column order for columns): the longest such chain, so a repeated label (表四 "总计")
    goes to the right place and a missing item leaves a gap instead of shifting the rest."""
    pairs = []
    for i, (_, labels) in enumerate(items):
        for pos in found:
            if sheet.norm_at(pos) in labels:
                pairs.append((i, pos))
    pairs.sort(key=lambda p: (p[0], p[1][axis], p[1][1 - axis]))
    n = len(pairs)
    best = [1] * n
    prev = [-1] * n
    for j in range(n):
        for i in range(j):
            if pairs[i][0] < pairs[j][0] and pairs[i][1][axis] < pairs[j][1][axis] and best[i] + 1 > best[j]:
                best[j], prev[j] = best[i] + 1, i
    out: dict[str, Pos] = {}
    if n:
        j = max(range(n), key=lambda k: (best[k], -k))
        while j >= 0:
            out[items[pairs[j][0]][0]] = pairs[j][1]
            j = prev[j]
    return out


# ---------------------------------------------------------------- locating tables


@dataclass
class Located:
    """Where one table's cells are, and what did not fit."""

    sheet: str
    cells: dict[str, Pos] = field(default_factory=dict)
    matched: int = 0
    missing_rows: list[tuple[str, str]] = field(default_factory=list)  # (block id, leaf row id)
    missing_cols: list[tuple[str, str]] = field(default_factory=list)
    extra_rows: list[tuple[int, int, str, bool]] = field(default_factory=list)  # row, label col, label, values?
    extra_cols: list[tuple[int, int, str, bool]] = field(default_factory=list)  # col, header row, label, values?


def fast_table(exp: TableExpect, sheet: SheetIndex, fmt: Format) -> Located | None:
    for r, c, labels in exp.fixed:
        if sheet.norm_at((r, c)) not in labels:
            return None
    addresses = cell_addresses(fmt)
    loc = Located(sheet.name, dict(exp.positions), exp.n_leaves)
    for bexp in exp.blocks:
        if not bexp.rows:  # a block without row labels: its values must be on the standard row
            row = addresses[next(iter(bexp.cell_ids.values()))].row
            cols = [addresses[cid].col for cid in bexp.cell_ids.values()]
            if not any((row, c) in sheet.cells for c in cols) and any(
                    (row + k, c) in sheet.cells for k in (1, 2, 3) for c in cols):
                return None
    return loc


def _block_missing(loc: Located, block_id: str, bexp: BlockExpect) -> None:
    """A block none of whose rows (or columns) were found: all its rows and columns are missing."""
    loc.missing_rows.extend((block_id, rid) for rid, _ in bexp.rows)
    loc.missing_cols.extend((block_id, cid) for cid, _ in bexp.cols)


def _locate_block(bexp: BlockExpect, sheet: SheetIndex, rows: tuple[int, int], loc: Located) -> None:
    block = bexp.block
    depth = block.column_depth
    row_pos: dict[str, Pos] = {}
    label_right = 0
    if bexp.rows:
        all_labels = frozenset().union(*(labels for _, labels in bexp.rows))
        found = sheet.find(all_labels, rows)
        row_pos = _chain(list(bexp.rows), found, sheet, axis=0)
        used = set(row_pos.values())
        for rid, labels in bexp.rows:  # moved rows, shortened or lengthened labels
            if rid in row_pos:
                continue
            candidates = [p for p in sheet.find(labels, rows) if p not in used]
            if not candidates:
                candidates = sheet.find_prefix(labels, rows, used)
            if len(candidates) == 1 or (candidates and len({p[0] for p in candidates}) == 1):
                row_pos[rid] = candidates[0]
                used.add(candidates[0])
        if not row_pos:
            _block_missing(loc, block.id, bexp)
            return
        label_right = max(p[1] for p in row_pos.values())
        first = min(p[0] for p in row_pos.values())
        band = (max(rows[0], first - depth - 2), first - 1)
    else:
        tops = sheet.find(bexp.groups, rows) if bexp.groups else []
        leaves_any = frozenset().union(*(labels for _, labels in bexp.cols))
        if not tops:
            tops = sheet.find(leaves_any, rows)
        if not tops:
            loc.missing_cols.extend((block.id, cid) for cid, _ in bexp.cols)
            return
        top = tops[0][0]
        band = (top, min(rows[1], top + depth - 1))
    leaf_labels = frozenset().union(*(labels for _, labels in bexp.cols))
    found = sheet.find(leaf_labels, band, min_col=label_right + 1)
    col_pos = _chain(list(bexp.cols), found, sheet, axis=1)
    used = set(col_pos.values())
    for cid, labels in bexp.cols:
        if cid not in col_pos:
            candidates = sheet.find_prefix(labels, band, used, min_col=label_right + 1)
            if len(candidates) == 1:
                col_pos[cid] = candidates[0]
                used.add(candidates[0])
    if not col_pos:
        _block_missing(loc, block.id, bexp)
        return
    if not bexp.rows:
        header_bottom = max(p[0] for p in col_pos.values())
        cols = [p[1] for p in col_pos.values()]
        data_row = header_bottom + 1
        for k in range(4):
            if any((header_bottom + 1 + k, c) in sheet.cells for c in cols):
                data_row = header_bottom + 1 + k
                break
        for r in range(header_bottom + 1, data_row):
            loc.extra_rows.append((r, min(cols), "", False))
        row_pos = {"": (data_row, 0)}

    for (rid, cid), cell_id in bexp.cell_ids.items():
        if rid in row_pos and cid in col_pos:
            loc.cells[cell_id] = (row_pos[rid][0], col_pos[cid][1])
    loc.matched += (len(row_pos) if bexp.rows else 0) + len(col_pos)
    loc.missing_rows.extend((block.id, rid) for rid, _ in bexp.rows if rid not in row_pos)
    loc.missing_cols.extend((block.id, cid) for cid, _ in bexp.cols if cid not in col_pos)

    value_cols = sorted({p[1] for p in col_pos.values()})
    value_rows = sorted({p[0] for p in row_pos.values()})
    if bexp.rows and len(value_rows) > 1:
        for r in range(value_rows[0] + 1, value_rows[-1]):
            if r in value_rows:
                continue
            texts = [(c, sheet.cells[(r, c)]) for c in range(1, label_right + 1) if (r, c) in sheet.cells]
            if texts and all(_cell_norm(t) in bexp.parents for _, t in texts):
                continue  # a parent row of the official layout written on its own row
            unknown = [(c, t) for c, t in texts if _cell_norm(t) not in bexp.parents]
            has_values = any((r, c) in sheet.cells for c in value_cols)
            col = unknown[0][0] if unknown else min(p[1] for p in row_pos.values())
            loc.extra_rows.append((r, col, typed_text(unknown[0][1]) if unknown else "", has_values))
    if len(value_cols) > 1:
        for c in range(value_cols[0] + 1, value_cols[-1]):
            if c in value_cols:
                continue
            heads = [(r, sheet.cells[(r, c)]) for r in range(band[0], band[1] + 1) if (r, c) in sheet.cells]
            unknown = [(r, t) for r, t in heads if _cell_norm(t) not in bexp.known_cols]
            has_values = any((r, c) in sheet.cells for r in value_rows)
            if unknown or has_values:
                row = unknown[0][0] if unknown else min(p[0] for p in col_pos.values())
                loc.extra_cols.append((c, row, typed_text(unknown[0][1]) if unknown else "", has_values))


def label_table(exp: TableExpect, sheet: SheetIndex) -> Located:
    loc = Located(sheet.name)
    blocks = exp.blocks
    limit = (1, max(sheet.max_row, 1))
    if any(b.caption for b in blocks):
        caption_items = [(b.block.id, b.caption) for b in blocks if b.caption]
        caption_found = sheet.find(frozenset().union(*(labels for _, labels in caption_items)), limit)
        captions = _chain(caption_items, caption_found, sheet, axis=0)
    else:
        captions = {}
    starts = [captions[b.block.id][0] if b.block.id in captions else None for b in blocks]
    for i, bexp in enumerate(blocks):
        start = starts[i] if starts[i] is not None else next(
            (s + 1 for s in reversed(starts[:i]) if s is not None), limit[0])
        end = next((s - 1 for s in starts[i + 1:] if s is not None), limit[1])
        _locate_block(bexp, sheet, (start, end), loc)
    return loc
