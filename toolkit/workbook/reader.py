"""Read a returned report file into ReportData, with the reading findings.

``read_workbook(path)`` reads a workbook (.xlsx .xlsm .xls .et .ods .xlsb, or any file whose bytes
say it is one; :func:`toolkit.readers.read_report` picks the reader of a file by its suffix):

1. identify the format, unit and year from what the blank workbook recorded (hidden meta sheet,
   defined names, document properties: :attr:`WorkbookSource.meta`) and from 基本信息;
2. fast path: when a format's labels sit at the standard positions of every table
   (:func:`toolkit.layout.cell_addresses`), read those positions;
3. otherwise find each table by its official labels (labels and variants of the format files,
   compared through :func:`toolkit.labels.normalize_label`): block captions, each leaf row label
   and each leaf column header, in order. Rows or columns inserted or deleted by a township are
   reported (``table-row-extra``, ``table-row-missing`` ...), never misread; the format is the one
   whose labels are found best, and a format that does not apply to the report year is reported
   (``format-year-mismatch``); steps 2 and 3 are :mod:`toolkit.workbook.locate`;
4. parse each value (:func:`toolkit.workbook.values.parse_value`) into a Decimal with at most one
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
from typing import Any, Iterable, Iterator

from toolkit.a1 import Pos, a1, col_letters
from toolkit.checks import reading_findings  # noqa: F401  (registers the finding codes)
from toolkit.checks.catalogue import finding_type
from toolkit.formats import Block, Format, FormatError, Node, Table, format_for_year, load_format, newest_first
from toolkit.layout import ORIGIN_PUBLISHED, info_rows, narrative_rows, workbook_plan
from toolkit.model import WARNING, CellSource, Finding, ReadResult, ReportData, format_decimal
from toolkit.workbook.filled import not_filled
from toolkit.workbook.locate import (
    Located,
    SheetIndex,
    cell_labels,
    expectations,
    fast_table,
    label_table,
    norm,
    where,
)
from toolkit.workbook.source import DEFAULT_LIMITS, Limits, SourceError, WorkbookSource, open_source, quiet_engine
from toolkit.workbook.values import parse_value, typed_text, vocabulary


def read_workbook(path: str | Path, *, format_id: str | None = None, year: int | None = None,
                  expect_unit: str | None = None, engine: str = "auto",
                  limits: Limits = DEFAULT_LIMITS) -> ReadResult:
    """Read a workbook file (the reader of :data:`toolkit.workbook.WORKBOOK_SUFFIXES` in :mod:`toolkit.readers`)."""
    with quiet_engine():  # one redirection of standard error for the engine's many calls
        return _read_workbook(Path(path), format_id, year, expect_unit, engine, limits)


def _read_workbook(path: Path, format_id: str | None, year: int | None, expect_unit: str | None, engine: str,
                   limits: Limits) -> ReadResult:
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



# ---------------------------------------------------------------- the workbook reader


@dataclass
class _Context:
    source: WorkbookSource
    sheets: dict[str, SheetIndex] = field(default_factory=dict)

    def sheet(self, name: str) -> SheetIndex:
        if name not in self.sheets:
            self.sheets[name] = SheetIndex(name, self.source.cells(name))
        return self.sheets[name]

    def data_sheets(self) -> list[str]:
        plan = workbook_plan()
        return [n for n in self.source.sheet_names if n not in (plan.meta_sheet, plan.guide_sheet)]


def _sheet_for(ctx: _Context, name: str) -> str | None:
    if name in ctx.source.sheet_names:
        return name
    key = norm(name)
    return next((n for n in ctx.source.sheet_names if norm(n) == key), None)


def _fast_path(ctx: _Context, fmt: Format) -> dict[str, Located] | None:
    out = {}
    for table_id, exp in expectations(fmt).items():
        name = _sheet_for(ctx, exp.table.sheet)
        if name is None:
            return None
        located = fast_table(exp, ctx.sheet(name), fmt)
        if located is None:
            return None
        out[table_id] = located
    return out


def _label_search(ctx: _Context, fmt: Format) -> dict[str, Located | None]:
    out: dict[str, Located | None] = {}
    names = ctx.data_sheets()
    for table_id, exp in expectations(fmt).items():
        preferred = _sheet_for(ctx, exp.table.sheet)
        order = ([preferred] if preferred else []) + [n for n in names if n != preferred]
        best: Located | None = None
        for name in order:
            located = label_table(exp, ctx.sheet(name))
            if best is None or located.matched > best.matched:
                best = located
            if best.matched == exp.n_leaves:
                break
        out[table_id] = best if best is not None and best.matched > 0 else None
    return out


def _score(fmt: Format, located: dict[str, Located | None]) -> float:
    total = sum(exp.n_leaves for exp in expectations(fmt).values())
    return sum(loc.matched for loc in located.values() if loc) / total if total else 0.0


def _candidates(meta_format: str | None, year: int | None) -> "_Candidates":
    """The formats to try, in order: the one the file names, the one for its year, then every
    format, the newest first; each loaded only when it is tried (a file at the standard positions
    of the format it names needs no other)."""

    def order() -> Iterator[Format]:
        seen: set[Format] = set()
        for fid in (meta_format, None):
            fid = fid if fid is not None else _year_format(year)
            if fid:
                try:
                    fmt = load_format(str(fid))
                except FormatError:
                    continue
                if fmt not in seen:
                    seen.add(fmt)
                    yield fmt
        for fmt in newest_first():
            if fmt not in seen:
                seen.add(fmt)
                yield fmt

    return _Candidates(order())


class _Candidates:
    """An ordered sequence of formats produced as far as it is read, again from the start as
    often as it is iterated."""

    def __init__(self, source: Iterator[Format]):
        self._source, self._seen = source, []

    def __iter__(self) -> Iterator[Format]:
        i = 0
        while True:
            if i == len(self._seen):
                item = next(self._source, None)
                if item is None:
                    return
                self._seen.append(item)
            yield self._seen[i]
            i += 1


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
        hits = sheet.find(frozenset({norm(label), norm(label + ":")}), (1, sheet.max_row))
        if hits:
            r, c = hits[0]
            pos = next(((r, k) for k in range(c + 1, c + 4) if (r, k) in sheet.cells), (r, c + 1))
        elif sheet.norm_at((row, 1)) in ("", norm(label)):
            pos = (row, 2)
        else:
            continue
        where[f"info.{field_id}"] = CellSource(name, a1(*pos))
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
        labels = {norm(label), norm(part.label), *(norm(v) for v in part.variants)}
        labels |= {norm(f"{sl}{pl}") for sl in (section.label, *section.variants)
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
        data.cells[f"narrative.{part_id}"] = CellSource(name, a1(*pos))
        if value is not None:
            text = typed_text(value).strip()
            if text:
                data.narrative[part_id] = text


def _make(code: str, **fields: Any) -> Finding:
    return finding_type(code).make(**fields)


def read_source(source: WorkbookSource, *, format_id: str | None = None, year: int | None = None,
                expect_unit: str | None = None) -> ReadResult:
    """Read an opened workbook (see :func:`toolkit.readers.read_report`)."""
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


def _locate(ctx: _Context, candidates: Iterable[Format]) -> tuple[Format, dict[str, Located | None], str] | None:
    """(format, where each table is, "positions" or "labels"): the first candidate whose labels sit
    at the standard positions, else the candidate whose labels are found best (None if none is)."""
    for cand in candidates:
        fast = _fast_path(ctx, cand)
        if fast is not None:
            return cand, dict(fast), "positions"
    best: tuple[Format, dict[str, Located | None], str] | None = None
    best_score = 0.25  # below this share of labels found, it is not a report workbook
    for cand in candidates:
        located = _label_search(ctx, cand)
        score = _score(cand, located)
        if score > best_score + 1e-9:
            best, best_score = (cand, located, "labels"), score
    return best


def _read_tables(ctx: _Context, fmt: Format, located: dict[str, Located | None], data: ReportData,
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
        sheet_f = sheet_formulas.get(loc.sheet) or {}
        sheet, places, values, raws, sources = loc.sheet, loc.cells, data.values, data.raw, data.cells
        for cell in table.cells:
            pos = places.get(cell.id)
            if pos is None:
                values[cell.id] = None
                continue
            ref = a1(*pos)
            sources[cell.id] = CellSource(sheet, ref)
            raw = cells.get(pos)
            if pos in sheet_f:
                formulas[cell.id] = sheet_f[pos]
            parsed = parse_value(raw, cell.kind)
            if cell.is_total and parsed.issue == "value-blank":  # the checks recompute totals
                values[cell.id] = raws[cell.id] = None
                continue
            values[cell.id] = parsed.value
            raws[cell.id] = None if raw is None else parsed.typed
            if parsed.issue:
                row_label, col_label = cell_labels(fmt, cell.id)
                findings.append(_make(
                    parsed.issue, sheet=loc.sheet, cell=ref, row=row_label or None, column=col_label,
                    actual=parsed.typed, where=where(fmt, cell.id, loc.sheet, ref), typed=parsed.typed,
                    value=_show(parsed.value), unit=cell.kind.unit, decimals=cell.kind.decimals))
    data.formulas = formulas


def _show(value: Decimal | None) -> str:
    return "" if value is None else format_decimal(value)


def _table_findings(fmt: Format, table: Table, loc: Located, findings: list[Finding]) -> None:
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
                              line=col_letters(c), label=label or "（无标题）", sheet=loc.sheet, cell=a1(r, c),
                              actual=label or None))


def _block_row_label(block: Block, node: Node) -> str:
    if block.caption and len(block.leaf_rows) == 1:
        return f"{node.label}（{block.caption}）" if node.label else block.caption
    return node.label or (block.caption or "")
