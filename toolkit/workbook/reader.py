"""Read a returned report file into ReportData, with the reading findings.

``read_report(path)`` dispatches by suffix through a small registry (:func:`register_reader`);
workbooks (.xlsx .xlsm .xls .et .ods .xlsb, or any file whose bytes say it is one) are read here:

1. identify the format, unit and year from what the blank workbook recorded (hidden meta sheet,
   defined names, document properties: :attr:`WorkbookSource.meta`) and from 基本信息;
2. fast path: when a format's labels sit at the standard positions of every table
   (:func:`toolkit.workbook.layout.cell_addresses`), read those positions;
3. otherwise find each table by its official labels (labels and variants of the format files,
   compared through :func:`toolkit.labels.normalize_label`): block captions, each leaf row label
   and each leaf column header, in order. Rows or columns inserted or deleted by a township are
   reported (``table-row-extra``, ``table-row-missing`` ...), never misread; the format is the one
   whose labels are found best, and a format that does not apply to the report year is reported
   (``format-year-mismatch``);
4. parse each value (:func:`toolkit.checks.values.parse_value`) into a Decimal with at most one
   value finding.

A total's value is what the file holds (None when empty); the checks recompute totals.
``formulas`` holds the formula text of every table cell that has one (xlsx/xlsm), or is None
when the container does not expose formulas (xls, ods, xlsb).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from toolkit.checks import reading_findings  # noqa: F401  (registers the finding codes)
from toolkit.checks.catalogue import finding_type
from toolkit.checks.filled import not_filled
from toolkit.checks.values import parse_value, typed_text, vocabulary
from toolkit.formats import Block, Format, FormatError, Node, Table, all_formats, format_for_year, load_format
from toolkit.grid import CAPTION, COLUMN, ROW, table_grid
from toolkit.labels import normalize_label
from toolkit.model import WARNING, CellSource, Finding, ReportData, format_decimal
from toolkit.workbook.layout import (
    ORIGIN_PUBLISHED,
    a1,
    cell_addresses,
    col_letter,
    info_rows,
    narrative_rows,
    sheet_origin,
    workbook_plan,
)
from toolkit.isolation import in_helper
from toolkit.workbook.source import DEFAULT_LIMITS, Limits, SourceError, WorkbookSource, open_source
from toolkit.workbook.source.safety import call_guarded

Pos = tuple[int, int]


@dataclass
class ReadResult:
    """What reading one file gave: ``data`` (None when nothing could be read), the reading
    findings, what the file is (``source_kind``: xlsx, xls, et, ... or txt/html/docx for the
    importers), what it recorded about itself (``meta``), and how the tables were located
    (``layout``: "positions" for the standard layout, "labels" after a label search)."""

    path: str
    data: ReportData | None = None
    findings: list[Finding] = field(default_factory=list)
    source_kind: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    engine: str | None = None
    layout: str | None = None

    @property
    def ok(self) -> bool:
        return self.data is not None


ReaderFunc = Callable[..., ReadResult]
READERS: dict[str, ReaderFunc] = {}
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".ods", ".xlsb", ".ett", ".xltx", ".xltm")


def register_reader(suffixes: Iterable[str], func: ReaderFunc) -> None:
    """Make ``read_report`` use ``func(path, *, format_id, year, expect_unit) -> ReadResult``
    for files with one of ``suffixes`` (".txt", ".docx" ...; case-insensitive)."""
    for suffix in suffixes:
        suffix = suffix.lower()
        READERS[suffix if suffix.startswith(".") else f".{suffix}"] = func


def read_report(path: str | Path, *, format_id: str | None = None, year: int | None = None,
                expect_unit: str | None = None, **options: Any) -> ReadResult:
    """Read one returned report. Never raises for a user file: a file that cannot be read is a
    ReadResult with ``data=None`` and one finding.

    ``format_id`` forces a format (an unknown one raises FormatError: a usage error, not a file
    problem); ``year`` is the report year when the file does not say it;
    ``expect_unit`` the unit name when the file does not say it (comparing names is the
    checks' job). Workbook ``options``: ``engine`` ("auto", "calamine", "openpyxl"), ``limits``.
    """
    path = Path(path)
    func = READERS.get(path.suffix.lower())
    if func is None:
        func = read_workbook
    limits = options.get("limits", DEFAULT_LIMITS)
    if limits.isolate and not in_helper() and getattr(func, "__module__", "").startswith("toolkit."):
        return _read_guarded(func, path, limits, dict(format_id=format_id, year=year, expect_unit=expect_unit,
                                                      **options))
    return func(path, format_id=format_id, year=year, expect_unit=expect_unit, **options)


def _read_guarded(func: ReaderFunc, path: Path, limits: Limits, kwargs: dict[str, Any]) -> ReadResult:
    """A built-in reader run in the helper process, within the file's time and memory budget
    (:class:`toolkit.workbook.source.Limits`)."""
    try:
        return call_guarded(func, (path,), kwargs, path=path, limits=limits)
    except SourceError as exc:
        return ReadResult(str(path), None, [finding_type(exc.code).make(message=exc.message)])


def read_workbook(path: str | Path, *, format_id: str | None = None, year: int | None = None,
                  expect_unit: str | None = None, engine: str = "auto",
                  limits: Limits = DEFAULT_LIMITS) -> ReadResult:
    """Read a workbook file (the registered reader for workbook suffixes)."""
    path = Path(path)
    try:
        source = open_source(path, engine=engine, limits=limits)
    except SourceError as exc:
        return ReadResult(str(path), None, [finding_type(exc.code).make(message=exc.message)])
    try:
        with source:
            return read_source(source, format_id=format_id, year=year, expect_unit=expect_unit)
    except SourceError as exc:
        return ReadResult(str(path), None, [finding_type(exc.code).make(message=exc.message)],
                          source_kind=source.kind, engine=source.engine)
    except FormatError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, IndexError) as exc:
        # a container broken in a way the checks above did not foresee
        reason = f"内容不完整或结构异常（{type(exc).__name__}）"
        message = finding_type("workbook-damaged").template.format(file=path.name, reason=reason)
        return ReadResult(str(path), None, [finding_type("workbook-damaged").make(message=message)],
                          source_kind=source.kind, engine=source.engine)


register_reader(WORKBOOK_SUFFIXES, read_workbook)


# ---------------------------------------------------------------- labels


@lru_cache(maxsize=4096)
def _a1(pos: Pos) -> str:
    return a1(*pos)


@lru_cache(maxsize=65536)
def _norm(text: str) -> str:
    return normalize_label(text)


def _cell_norm(value: Any) -> str:
    return _norm(value) if isinstance(value, str) else ""


def _labels(node: Node) -> frozenset[str]:
    return frozenset(_norm(label) for label in node.labels if label)


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


def _where(fmt: Format, cell_id: str, sheet: str, ref: str) -> str:
    table = fmt.cell(cell_id).table
    row, col = cell_labels(fmt, cell_id)
    name = "·".join(x for x in (row, col) if x)
    place = ref if sheet == table.sheet else f"工作表“{sheet}”{ref}"
    return f"{table.number} {name}（{place}）"


# ---------------------------------------------------------------- expectations per format


@dataclass(frozen=True)
class _BlockExpect:
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
class _TableExpect:
    table: Table
    sheet_key: str
    blocks: tuple[_BlockExpect, ...]
    fixed: tuple[tuple[int, int, frozenset[str]], ...]  # standard position -> labels (fast path)
    n_leaves: int
    positions: dict[str, Pos]  # cell id -> standard position


@lru_cache(maxsize=None)
def _expect(fmt: Format) -> dict[str, _TableExpect]:
    out: dict[str, _TableExpect] = {}
    top, left = sheet_origin()
    for table in fmt.tables:
        blocks = []
        for block in table.blocks:
            caption = frozenset(_norm(x) for x in (block.caption, *block.variants) if x)
            common = set(caption) | ({_norm(block.corner)} if block.corner else set())
            known_rows = {label for node in block.rows for n in node.walk() for label in _labels(n)} | common
            known_cols = {label for node in block.columns for n in node.walk() for label in _labels(n)} | common
            parents = {label for node in block.rows for n in node.walk() if n.children for label in _labels(n)}
            parents |= common
            ids = {(c.row.id, c.column.id): c.id for c in table.cells if c.block is block}
            rows = tuple((r.id, _labels(r)) for r in block.leaf_rows) if block.row_depth else ()
            blocks.append(_BlockExpect(
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
        out[table.id] = _TableExpect(
            table=table, sheet_key=_norm(table.sheet), blocks=tuple(blocks),
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


class _Sheet:
    """A sheet's cells with their normalised labels, for label search."""

    def __init__(self, name: str, cells: dict[Pos, Any]):
        self.name = name
        self.cells = cells
        self._index: dict[str, list[Pos]] | None = None
        self.max_row = max((r for r, _ in cells), default=0)

    @property
    def index(self) -> dict[str, list[Pos]]:
        if self._index is None:
            index: dict[str, list[Pos]] = {}
            for pos in sorted(self.cells):
                value = self.cells[pos]
                if isinstance(value, str):
                    key = _norm(value)
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


def _chain(items: list[tuple[str, frozenset[str]]], found: list[Pos], sheet: _Sheet, axis: int) -> dict[str, Pos]:
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
class _Located:
    """Where one table's cells are, and what did not fit."""

    sheet: str
    cells: dict[str, Pos] = field(default_factory=dict)
    matched: int = 0
    missing_rows: list[tuple[str, str]] = field(default_factory=list)  # (block id, leaf row id)
    missing_cols: list[tuple[str, str]] = field(default_factory=list)
    extra_rows: list[tuple[int, int, str, bool]] = field(default_factory=list)  # row, label col, label, values?
    extra_cols: list[tuple[int, int, str, bool]] = field(default_factory=list)  # col, header row, label, values?


def _fast_table(exp: _TableExpect, sheet: _Sheet, fmt: Format) -> _Located | None:
    for r, c, labels in exp.fixed:
        if sheet.norm_at((r, c)) not in labels:
            return None
    addresses = cell_addresses(fmt)
    loc = _Located(sheet.name, dict(exp.positions), exp.n_leaves)
    for bexp in exp.blocks:
        if not bexp.rows:  # a block without row labels: its values must be on the standard row
            row = addresses[next(iter(bexp.cell_ids.values()))].row
            cols = [addresses[cid].col for cid in bexp.cell_ids.values()]
            if not any((row, c) in sheet.cells for c in cols) and any(
                    (row + k, c) in sheet.cells for k in (1, 2, 3) for c in cols):
                return None
    return loc


def _locate_block(bexp: _BlockExpect, sheet: _Sheet, rows: tuple[int, int], loc: _Located) -> None:
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
            loc.missing_rows.extend((block.id, rid) for rid, _ in bexp.rows)
            loc.missing_cols.extend((block.id, cid) for cid, _ in bexp.cols)
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
        loc.missing_rows.extend((block.id, rid) for rid, _ in bexp.rows)
        loc.missing_cols.extend((block.id, cid) for cid, _ in bexp.cols)
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


def _label_table(exp: _TableExpect, sheet: _Sheet) -> _Located:
    loc = _Located(sheet.name)
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


# ---------------------------------------------------------------- the workbook reader


@dataclass
class _Context:
    source: WorkbookSource
    sheets: dict[str, _Sheet] = field(default_factory=dict)

    def sheet(self, name: str) -> _Sheet:
        if name not in self.sheets:
            self.sheets[name] = _Sheet(name, self.source.cells(name))
        return self.sheets[name]

    def data_sheets(self) -> list[str]:
        plan = workbook_plan()
        return [n for n in self.source.sheet_names if n not in (plan.meta_sheet, plan.guide_sheet)]


def _sheet_for(ctx: _Context, name: str) -> str | None:
    if name in ctx.source.sheet_names:
        return name
    key = _norm(name)
    return next((n for n in ctx.source.sheet_names if _norm(n) == key), None)


def _fast_path(ctx: _Context, fmt: Format) -> dict[str, _Located] | None:
    out = {}
    for table_id, exp in _expect(fmt).items():
        name = _sheet_for(ctx, exp.table.sheet)
        if name is None:
            return None
        located = _fast_table(exp, ctx.sheet(name), fmt)
        if located is None:
            return None
        out[table_id] = located
    return out


def _label_search(ctx: _Context, fmt: Format) -> dict[str, _Located | None]:
    out: dict[str, _Located | None] = {}
    names = ctx.data_sheets()
    for table_id, exp in _expect(fmt).items():
        preferred = _sheet_for(ctx, exp.table.sheet)
        order = ([preferred] if preferred else []) + [n for n in names if n != preferred]
        best: _Located | None = None
        for name in order:
            located = _label_table(exp, ctx.sheet(name))
            if best is None or located.matched > best.matched:
                best = located
            if best.matched == exp.n_leaves:
                break
        out[table_id] = best if best is not None and best.matched > 0 else None
    return out


def _score(fmt: Format, located: dict[str, _Located | None]) -> float:
    total = sum(exp.n_leaves for exp in _expect(fmt).values())
    return sum(loc.matched for loc in located.values() if loc) / total if total else 0.0


def _candidates(meta_format: str | None, year: int | None) -> list[Format]:
    order: list[Format] = []
    for fid in (meta_format, _year_format(year)):
        if fid:
            try:
                order.append(load_format(str(fid)))
            except FormatError:
                pass
    order += sorted(all_formats(), key=lambda f: f.year_from, reverse=True)
    return list(dict.fromkeys(order))


def _year_format(year: int | None) -> str | None:
    if year is None:
        return None
    try:
        return format_for_year(year).id
    except FormatError:
        return None


_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def _as_year(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and float(value).is_integer():
        year = int(value)
        return year if 1990 <= year <= 2100 else None
    m = _YEAR.search(str(value))
    return int(m.group(1)) if m else None


def _read_info(ctx: _Context) -> tuple[dict[str, Any], dict[str, CellSource]]:
    """基本信息 fields (id -> text) and where each is, found by label (else by position)."""
    info: dict[str, Any] = {}
    where: dict[str, CellSource] = {}
    name = _sheet_for(ctx, workbook_plan().info_sheet)
    if name is None:
        return info, where
    sheet = ctx.sheet(name)
    for row, field_id, label in info_rows():
        hits = sheet.find(frozenset({_norm(label), _norm(label + ":")}), (1, sheet.max_row))
        if hits:
            r, c = hits[0]
            pos = next(((r, k) for k in range(c + 1, c + 4) if (r, k) in sheet.cells), (r, c + 1))
        elif sheet.norm_at((row, 1)) in ("", _norm(label)):
            pos = (row, 2)
        else:
            continue
        where[f"info.{field_id}"] = CellSource(name, _a1(pos))
        value = sheet.cells.get(pos)
        text = "" if value is None else typed_text(value).strip()
        if text:
            info[field_id] = text
    return info, where


def _scan_identity(ctx: _Context) -> tuple[str | None, int | None]:
    """Unit and year from title or "填报单位：" cells anywhere (workbooks without 基本信息)."""
    voc = vocabulary()
    unit = year = None
    for name in ctx.data_sheets():
        for (r, c), value in sorted(ctx.sheet(name).cells.items()):
            if not isinstance(value, str) or len(value) > 200:
                continue
            text = value.strip()
            if unit is None:
                for pattern in voc.unit_patterns:
                    m = pattern.search(text)
                    if m and m.group(1).strip():
                        unit = m.group(1).strip()
                        break
            if year is None:
                for pattern in voc.year_patterns:
                    m = pattern.search(text)
                    if m:
                        year = int(m.group(1))
                        break
            if unit and year:
                return unit, year
    return unit, year


@lru_cache(maxsize=None)
def _narrative_labels(fmt: Format) -> tuple[tuple[int, str, frozenset[str]], ...]:
    sections = {p.id: s for s in fmt.sections for p in s.parts}
    parts = {p.id: p for p in fmt.parts}
    out = []
    for row, part_id, label in narrative_rows(fmt):
        part, section = parts[part_id], sections[part_id]
        labels = {_norm(label), _norm(part.label), *(_norm(v) for v in part.variants)}
        labels |= {_norm(f"{sl}{pl}") for sl in (section.label, *section.variants)
                   for pl in (part.label, *part.variants)}
        out.append((row, part_id, frozenset(labels)))
    return tuple(out)


def _read_narrative(ctx: _Context, fmt: Format, data: ReportData) -> None:
    plan = workbook_plan()
    name = _sheet_for(ctx, plan.narrative_sheet)
    if name is None:
        return
    sheet = ctx.sheet(name)
    for row, part_id, labels in _narrative_labels(fmt):
        if sheet.norm_at((row, 1)) in labels:
            pos = (row, 2)
        else:
            hits = sheet.find(labels, (1, sheet.max_row))
            if hits:
                r, c = hits[0]
                pos = next(((r, k) for k in range(c + 1, c + 4) if (r, k) in sheet.cells), (r, c + 1))
            else:
                pos = (row, 2)
        value = sheet.cells.get(pos)
        data.cells[f"narrative.{part_id}"] = CellSource(name, _a1(pos))
        if value is not None:
            text = typed_text(value).strip()
            if text:
                data.narrative[part_id] = text


def _make(code: str, **fields: Any) -> Finding:
    return finding_type(code).make(**fields)


def read_source(source: WorkbookSource, *, format_id: str | None = None, year: int | None = None,
                expect_unit: str | None = None) -> ReadResult:
    """Read an opened workbook (see :func:`read_report`)."""
    ctx = _Context(source)
    result = ReadResult(str(source.path), source_kind=source.kind, engine=source.engine, meta=dict(source.meta))
    findings = result.findings

    info, info_cells = _read_info(ctx)
    file_year = _as_year(info.get("year")) or _as_year(result.meta.get("year"))
    file_unit = info.get("unit") or result.meta.get("unit") or None
    if file_unit is None or file_year is None:
        scanned_unit, scanned_year = _scan_identity(ctx)
        file_unit, file_year = file_unit or scanned_unit, file_year or scanned_year
    report_year = file_year or year

    forced = load_format(str(format_id)) if format_id else None
    found = _locate(ctx, [forced] if forced else _candidates(result.meta.get("format"), report_year))
    if found is None:
        result.layout = "labels"
        findings.append(_make("format-unknown", file=source.path.name))
        findings.extend(source.notes)
        return result
    fmt, located, result.layout = found

    data = ReportData(format=fmt.id, unit=file_unit or expect_unit, year=report_year, source=str(source.path),
                      info=info, cells=dict(info_cells))
    _read_narrative(ctx, fmt, data)
    if forced is None and report_year is not None and not fmt.covers(report_year):
        expected = _year_format(report_year)
        if expected and expected != fmt.id:
            findings.append(_make("format-year-mismatch", actual=fmt.id, expected=expected, year=report_year,
                                  found_name=fmt.name, expected_name=load_format(expected).name))
    _read_tables(ctx, fmt, located, data, findings)
    if result.meta.get("origin") == ORIGIN_PUBLISHED:
        data.formulas = None  # totals hold the published values: checked as in the published report
    for field_id, code, known in (("unit", "unit-missing", data.unit), ("year", "year-missing", data.year)):
        if known is None:
            where = data.cells.get(f"info.{field_id}", CellSource())
            findings.append(_make(code, sheet=where.sheet, cell=where.cell))
    findings.extend(source.notes)
    result.findings = not_filled(fmt, data, findings, file=source.path)
    result.data = data
    return result


def _locate(ctx: _Context, candidates: list[Format]) -> tuple[Format, dict[str, _Located | None], str] | None:
    """(format, where each table is, "positions" or "labels"): the first candidate whose labels sit
    at the standard positions, else the candidate whose labels are found best (None if none is)."""
    for cand in candidates:
        fast = _fast_path(ctx, cand)
        if fast is not None:
            return cand, dict(fast), "positions"
    best: tuple[Format, dict[str, _Located | None], str] | None = None
    best_score = 0.25  # below this share of labels found, it is not a report workbook
    for cand in candidates:
        located = _label_search(ctx, cand)
        score = _score(cand, located)
        if score > best_score + 1e-9:
            best, best_score = (cand, located, "labels"), score
    return best


def _read_tables(ctx: _Context, fmt: Format, located: dict[str, _Located | None], data: ReportData,
                 findings: list[Finding]) -> None:
    """Every cell's value, typed text, place and formula into ``data``; value findings."""
    source = ctx.source
    formulas: dict[str, str] | None = None
    sheet_formulas: dict[str, dict[Pos, str]] = {}
    if source.formulas_known:
        formulas = {}
        wanted: dict[str, set[Pos]] = {}
        for loc in located.values():
            if loc is not None:
                wanted.setdefault(loc.sheet, set()).update(loc.cells.values())
        sheet_formulas = source.formulas_of(wanted) or {}
    for table in fmt.tables:
        loc = located.get(table.id)
        if loc is None:
            findings.append(_make("table-missing", table=table.number, caption=table.caption, sheet=table.sheet))
            for cell in table.cells:
                data.values[cell.id] = None
            continue
        _table_findings(fmt, table, loc, findings)
        cells = ctx.sheet(loc.sheet).cells
        sheet_f = sheet_formulas.get(loc.sheet)
        for cell in table.cells:
            pos = loc.cells.get(cell.id)
            if pos is None:
                data.values[cell.id] = None
                continue
            ref = _a1(pos)
            data.cells[cell.id] = CellSource(loc.sheet, ref)
            raw = cells.get(pos)
            if sheet_f and pos in sheet_f:
                formulas[cell.id] = sheet_f[pos]
            parsed = parse_value(raw, cell.kind)
            if cell.is_total and parsed.issue == "value-blank":  # the checks recompute totals
                data.values[cell.id] = data.raw[cell.id] = None
                continue
            data.values[cell.id] = parsed.value
            data.raw[cell.id] = None if raw is None else parsed.typed
            if parsed.issue:
                row_label, col_label = cell_labels(fmt, cell.id)
                findings.append(_make(
                    parsed.issue, sheet=loc.sheet, cell=ref, row=row_label or None, column=col_label,
                    actual=parsed.typed, where=_where(fmt, cell.id, loc.sheet, ref), typed=parsed.typed,
                    value=_show(parsed.value), unit=cell.kind.unit, decimals=cell.kind.decimals))
    data.formulas = formulas


def _show(value: Decimal | None) -> str:
    return "" if value is None else format_decimal(value)


def _table_findings(fmt: Format, table: Table, loc: _Located, findings: list[Finding]) -> None:
    blocks = {b.id: b for b in table.blocks}
    rowless = {bid for bid, _ in loc.missing_rows}
    for bid, rid in loc.missing_rows:
        node = next(r for r in blocks[bid].leaf_rows if r.id == rid)
        findings.append(_make("table-row-missing", table=table.number, row=_block_row_label(blocks[bid], node),
                              sheet=loc.sheet))
    for bid, cid in loc.missing_cols:
        block = blocks[bid]
        if bid in rowless and len([1 for b, _ in loc.missing_rows if b == bid]) == len(block.leaf_rows):
            continue  # the whole block is missing: its rows say it
        cell_id = next(c.id for c in table.cells if c.block is block and c.column.id == cid)
        findings.append(_make("table-column-missing", table=table.number, column=cell_labels(fmt, cell_id)[1],
                              sheet=loc.sheet))
    for r, c, label, has_values in sorted(set(loc.extra_rows)):
        findings.append(_make("table-row-extra", severity=None if has_values else WARNING, table=table.number,
                              line=r, label=label or "（无标签）", sheet=loc.sheet, cell=a1(r, c),
                              actual=label or None))
    for c, r, label, has_values in sorted(set(loc.extra_cols)):
        findings.append(_make("table-column-extra", severity=None if has_values else WARNING, table=table.number,
                              line=col_letter(c), label=label or "（无标题）", sheet=loc.sheet, cell=a1(r, c),
                              actual=label or None))


def _block_row_label(block: Block, node: Node) -> str:
    if block.caption and len(block.leaf_rows) == 1:
        return f"{node.label}（{block.caption}）" if node.label else block.caption
    return node.label or (block.caption or "")
