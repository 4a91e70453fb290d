"""Write the standard workbook a county sends to each township (xlsxwriter).

Everything is derived from the format definition (labels, layout, kinds, rules) plus the
toolkit's own sheet plan (templates/workbook.yaml) and words (templates/workbook_text.yaml):

- 填报说明: what to fill, every rule's wording, the deadline, whom to ask;
- 基本信息: unit and year (pre-filled, locked), 填报人, 联系电话, 填报日期;
- one sheet per official table, laid out from :func:`toolkit.grid.table_grid` at the
  :func:`toolkit.layout.cell_addresses` positions; input cells unlocked and validated
  per kind, every total a live formula from :meth:`Format.total_rule`, locked; a live check of
  the ``equal`` / ``at_least`` rules that need no prior year (check cells and red/yellow cells);
- 文字部分: one cell per narrative part;
- a hidden meta sheet, defined names and document properties naming format, toolkit version,
  unit and year, so that the reader can identify the file even after another program re-saved it.

All text is written with ``write_string``: a unit name starting with ``=`` stays text.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import xlsxwriter
import yaml
from xlsxwriter.utility import quote_sheetname
from xlsxwriter.worksheet import Worksheet

from toolkit import __version__
from toolkit.a1 import a1, absolute_a1
from toolkit.files import atomic_path
from toolkit.formats import TEMPLATES_DIR, Format, Kind, RuleInstance, Term, load_format
from toolkit.grid import CAPTION, COLUMN, CORNER, ROW, VALUE, Grid, GridCell, table_grid
from toolkit.model import ReportData
from toolkit.layout import (
    ORIGIN_PUBLISHED,
    CellAddress,
    cell_addresses,
    info_rows,
    narrative_rows,
    sheet_origin,
    workbook_plan,
)
from toolkit.workbook.looks import (
    LINE_PT,
    break_before_note,
    colour,
    display_width,
    grid_column_widths,
    grid_row_heights,
    label_columns,
    looks,
    pack_fields,
    text_lines,
)

CHECK_RULE_KINDS = ("equal", "at_least")
_ENUMERATOR = re.compile(r"^[一二三四五六七八九十]+、")

# Look of the sheets (not format knowledge).
_FONT, _TEXT_FONT = looks()["fonts"]["table"], looks()["fonts"]["text"]
_INPUT_BG, _TOTAL_BG, _HEADER_BG = colour("input"), colour("total"), colour("header")
_PUBLISHED_BG = colour("published")
_BAD = {"bg_color": colour("error"), "font_color": colour("error", "font")}
_WARN = {"bg_color": colour("warning"), "font_color": colour("warning", "font")}
_LINE_PT = LINE_PT


@lru_cache(maxsize=None)
def workbook_text() -> dict[str, Any]:
    """The words of the workbook (templates/workbook_text.yaml), their ``{error}`` and
    ``{warning}`` the severity words of templates/labels.yaml."""
    from toolkit.output_labels import labels

    text = (TEMPLATES_DIR / "workbook_text.yaml").read_text(encoding="utf-8")
    for severity, word in labels()["severity"].items():
        text = text.replace("{%s}" % severity, word)
    return yaml.safe_load(text)


def defined_name_for_meta(key: str) -> str:
    """Workbook-level defined name of a meta key, e.g. ``NB_FORMAT`` for ``format``."""
    return f"{workbook_plan().defined_name_prefix}{key.upper()}"


def defined_name_for_cell(cell_id: str) -> str:
    """Workbook-level defined name of a format cell, e.g. ``NB_C_T3_NEW_NATURAL``.

    It moves with the cell when a township inserts rows, so a reader can still find it.
    """
    return f"{workbook_plan().defined_name_prefix}C_{re.sub(r'[^0-9A-Za-z]', '_', cell_id).upper()}"


def custom_property_name(key: str) -> str:
    """Name of the custom document property holding a meta key, e.g. ``nianbao_format``."""
    return f"nianbao_{key}"


def kind_phrase(kind: Kind) -> str:
    """How a number kind is described to the person filling in, e.g. ``不小于0的整数（件）``."""
    key = ("signed_" if kind.signed else "") + ("decimal" if kind.decimals else "whole")
    return workbook_text()["kind_phrase"][key].format(unit=kind.unit, decimals=kind.decimals)


def table_title(table) -> str:
    """``表三　收到和处理政府信息公开申请情况`` from the table's number and caption."""
    return workbook_text()["table"]["title"].format(number=table.number, caption=_ENUMERATOR.sub("", table.caption))


# ------------------------------------------------------------------------------------ public API


def write_workbook(
    path: str | Path,
    fmt: Format | str,
    *,
    unit: str,
    year: int,
    data: ReportData | None = None,
    contact: dict | None = None,
    deadline: dt.date | None = None,
    generated_at: dt.datetime | None = None,
    published: bool = False,
) -> Path:
    """Write the standard workbook for ``unit`` and ``year`` to ``path`` (atomically).

    ``data`` fills it: every input cell from ``data.values`` (None or missing: left empty),
    the narrative parts and the 基本信息 fields (``filler``, ``phone``, ``date``). Totals are
    live formulas, except with ``published``: then ``data`` holds the numbers of a published
    report (``nianbao import``) and every total is written as published (a number, marked with
    its own look and a comment), the ``sum`` rules get live check cells too, and the workbook
    records ``origin: published`` (meta sheet, ``NB_ORIGIN``, document property) so that the
    reader checks those totals as published values. ``contact`` (keys ``office``, ``name``,
    ``phone``, ``email``) is who the township asks, shown in 填报说明 with ``deadline``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        _build(str(tmp), _as_format(fmt), unit=unit, year=year, data=data, contact=contact,
               deadline=deadline, generated_at=generated_at, published=published)
    return path


def workbook_bytes(
    fmt: Format | str,
    *,
    unit: str,
    year: int,
    data: ReportData | None = None,
    contact: dict | None = None,
    deadline: dt.date | None = None,
    generated_at: dt.datetime | None = None,
    published: bool = False,
) -> bytes:
    """The same workbook as :func:`write_workbook`, as bytes (for mail attachments)."""
    buffer = io.BytesIO()
    _build(buffer, _as_format(fmt), unit=unit, year=year, data=data, contact=contact,
           deadline=deadline, generated_at=generated_at, published=published)
    return buffer.getvalue()


def _as_format(fmt: Format | str) -> Format:
    return fmt if isinstance(fmt, Format) else load_format(str(fmt))


# ------------------------------------------------------------------------------------ building


@dataclass
class _Check:
    """One evaluated rule instance on a sheet: where its check cell is, and its severity."""

    inst: RuleInstance
    sheet: str
    row: int = 0  # 0-based position of the check cell
    col: int = 0


@dataclass
class _Writer:
    wb: Any
    fmt: Format
    unit: str
    year: int
    data: ReportData | None
    contact: dict | None
    deadline: dt.date | None
    generated_at: dt.datetime
    styles: dict[str, Any] = field(default_factory=dict)
    addresses: dict[str, CellAddress] = field(default_factory=dict)
    banners: dict[str, tuple[int, int]] = field(default_factory=dict)
    computed: dict[str, Decimal] = field(default_factory=dict)
    published: bool = False  # totals as a published report gives them (see write_workbook)

    def style(self, name: str, **props: Any) -> Any:
        if name not in self.styles:
            base = {"font_name": _FONT, "font_size": 10.5, "valign": "vcenter"}
            self.styles[name] = self.wb.add_format({**base, **props})
        return self.styles[name]


_FUNCTION = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\(")
_PLAIN_FUNCTIONS = frozenset({"SUM", "ROUND", "IF", "IFERROR", "AND", "OR", "NOT", "ABS", "LEFT", "ISNUMBER",
                              "COUNT", "COUNTA", "COUNTIF", "LEN", "INT", "MOD", "TRUNC"})


class _Sheet(Worksheet):
    """xlsxwriter's worksheet, except that a formula using only long-standing functions is not
    searched for each of the ~150 newer Excel function names needing a ``_xlfn.`` prefix (dozens
    of regular expressions per formula, the writer's largest cost); others go the usual way."""

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        if "_xlfn." not in formula and all(name in _PLAIN_FUNCTIONS for name in _FUNCTION.findall(formula)):
            if formula.startswith("{"):
                formula = formula[1:]
            if formula.startswith("="):
                formula = formula[1:]
            return formula[:-1] if formula.endswith("}") else formula
        return super()._prepare_formula(formula, expand_future_functions)


def _build(target: Any, fmt: Format, *, unit: str, year: int, data: ReportData | None,
           contact: dict | None, deadline: dt.date | None, generated_at: dt.datetime | None,
           published: bool = False) -> None:
    options = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    if isinstance(target, io.BytesIO):
        options["in_memory"] = True
    wb = xlsxwriter.Workbook(target, options)
    w = _Writer(wb, fmt, unit or "", int(year), data, contact, deadline,
                generated_at or dt.datetime.now().replace(microsecond=0), published=published)
    w.addresses = cell_addresses(fmt)
    plan = workbook_plan()
    guide = wb.add_worksheet(plan.guide_sheet, _Sheet)
    info = wb.add_worksheet(plan.info_sheet, _Sheet)
    checks: list[_Check] = []
    for table in fmt.tables:
        checks += _table_sheet(w, wb.add_worksheet(table.sheet, _Sheet), table)
    _narrative_sheet(w, wb.add_worksheet(plan.narrative_sheet, _Sheet))
    _info_sheet(w, info)
    _guide_sheet(w, guide)
    _meta_sheet(w, wb.add_worksheet(plan.meta_sheet, _Sheet))
    _properties(w)
    guide.activate()
    wb.close()


# ------------------------------------------------------------------------------------ values


def _number(value: Decimal) -> int | float:
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    return float(value)


def _input_value(w: _Writer, cell_id: str) -> Decimal | None:
    if w.data is None:
        return None
    value = w.data.values.get(cell_id)
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _computed(w: _Writer, cell_id: str) -> Decimal:
    """A cell's value as the workbook computes it: inputs as given (empty = 0), totals summed
    (published totals as given)."""
    value = w.computed.get(cell_id)
    if value is None:
        inst = w.fmt.total_rule(cell_id)
        if inst is None or w.published:
            value = _input_value(w, cell_id) or Decimal(0)
        else:
            value = sum((t.sign * _computed(w, t.cell) for t in inst.right), Decimal(0))
        w.computed[cell_id] = value
    return value


# ------------------------------------------------------------------------------------ references


def _ref(w: _Writer, term_cell: str, from_sheet: str, absolute: bool = False) -> str:
    addr = w.addresses[term_cell]
    ref = absolute_a1(addr.row, addr.col) if absolute else addr.a1
    return ref if addr.sheet == from_sheet else f"{quote_sheetname(addr.sheet)}!{ref}"


def _ranges(w: _Writer, cells: list[str], from_sheet: str) -> list[str]:
    """Consecutive cells of one column (or row) of one sheet joined as ``D8:D28``."""
    runs: list[list[CellAddress]] = []
    for cell_id in cells:
        addr = w.addresses[cell_id]
        if runs:
            run, last = runs[-1], runs[-1][-1]
            vertical = addr.sheet == last.sheet and addr.col == last.col and addr.row == last.row + 1
            horizontal = addr.sheet == last.sheet and addr.row == last.row and addr.col == last.col + 1
            if (vertical and (len(run) == 1 or run[0].col == last.col)) or (
                    horizontal and (len(run) == 1 or run[0].row == last.row)):
                run.append(addr)
                continue
        runs.append([addr])
    out = []
    for run in runs:
        text = run[0].a1 if len(run) == 1 else f"{run[0].a1}:{run[-1].a1}"
        out.append(text if run[0].sheet == from_sheet else f"{quote_sheetname(run[0].sheet)}!{text}")
    return out


def total_formula(fmt: Format, cell_id: str) -> str:
    """The live formula of a total cell in the standard workbook, e.g. ``=SUM(D8:D28)``."""
    inst = fmt.total_rule(cell_id)
    if inst is None:
        raise KeyError(f"{cell_id} is not a total")
    addresses = cell_addresses(fmt)
    w = _Writer(None, fmt, "", 0, None, None, None, dt.datetime.now())
    w.addresses = addresses
    return _total_formula(w, inst, addresses[cell_id].sheet)


def _total_formula(w: _Writer, inst: RuleInstance, sheet: str) -> str:
    if all(t.sign > 0 for t in inst.right):
        return f"=SUM({','.join(_ranges(w, [t.cell for t in inst.right], sheet))})"
    return "=" + _signed_expr(w, inst.right, sheet)


def _signed_expr(w: _Writer, terms: Iterable[Term], sheet: str, absolute: bool = False) -> str:
    text = ""
    for t in terms:
        ref = _ref(w, t.cell, sheet, absolute)
        text += ("-" if t.sign < 0 else ("+" if text else "")) + ref
    return text or "0"


def _check_expr(w: _Writer, inst: RuleInstance, sheet: str, absolute: bool = False) -> tuple[str, str]:
    """(difference expression, condition that holds when the rule holds)."""
    diff = f"ROUND(({_signed_expr(w, inst.left, sheet, absolute)})-({_signed_expr(w, inst.right, sheet, absolute)}),6)"
    return diff, (f"{diff}>=0" if inst.rule.kind == "at_least" else f"{diff}=0")


def live_checks(fmt: Format, *, published: bool = False) -> list[RuleInstance]:
    """The rule instances the workbook checks live: ``equal``/``at_least`` without prior values;
    with ``published`` (totals written as published, not as formulas) the ``sum`` rules too."""
    kinds = CHECK_RULE_KINDS + (("sum",) if published else ())
    return [inst for rule in fmt.rules if rule.kind in kinds
            for inst in rule.instances if not inst.uses_prior]


_ENTERED: dict[tuple[int, bool], tuple[RuleInstance, list[str]]] = {}


def _entered_cells(w: _Writer, inst: RuleInstance) -> list[str]:
    """The cells whose entries a check waits for: the input cells behind its terms (totals
    followed to their inputs; a published total is itself entered). The same for every
    workbook of a format: found once (do not change the list)."""
    known = _ENTERED.get((id(inst), w.published))
    if known is not None and known[0] is inst:
        return known[1]
    out: list[str] = []

    def visit(cell_id: str) -> None:
        total = w.fmt.total_rule(cell_id)
        if total is None or w.published:
            out.append(cell_id)
        if total is not None:
            for term in total.right:
                visit(term.cell)

    for term in (*inst.left, *inst.right):
        visit(term.cell)
    if len(_ENTERED) > 10_000:  # formats loaded from files again and again: keep it bounded
        _ENTERED.clear()
    _ENTERED[(id(inst), w.published)] = (inst, list(dict.fromkeys(out)))
    return _ENTERED[(id(inst), w.published)][1]


def _pending(w: _Writer, inst: RuleInstance) -> bool:
    return all(_input_value(w, cell_id) is None for cell_id in _entered_cells(w, inst))


def _instance_label(fmt: Format, inst: RuleInstance) -> str:
    """The row or column an instance is about, e.g. ``自然人`` for t3-balance over col=natural."""
    cell = fmt.cell(inst.target.cell)
    labels = []
    for _, value in inst.bindings:
        for node in (cell.row, cell.column):
            if node.id == value and node.label:
                labels.append(node.label)
    return "、".join(labels)


# ------------------------------------------------------------------------------------ table sheets


def _table_sheet(w: _Writer, ws: Any, table) -> list[_Check]:
    texts = workbook_text()["table"]
    grid = table_grid(w.fmt, table.id)
    top, left = sheet_origin()
    top0, left0 = top - 1, left - 1  # 0-based origin
    n_cols = grid.n_cols
    label_cols = _label_columns(grid)
    widths = _column_widths(grid, label_cols)
    for j, width in enumerate(widths):
        ws.set_column(left0 + j, left0 + j, width)

    units = "、".join(dict.fromkeys(c.kind.unit for c in table.cells))
    _merge_text(ws, top0 - 2, left0, top0 - 2, left0 + n_cols - 1, table_title(table),
                w.style("title", bold=True, font_size=16, align="center"))
    ws.set_row(top0 - 2, 30)
    checks_here = [inst for inst in live_checks(w.fmt, published=w.published)
                   if w.addresses[inst.target.cell].sheet == table.sheet]
    banner_cols = max(1, math.ceil(n_cols / 3)) if checks_here and n_cols > 1 else 0
    unit_line = pack_fields([f.format(unit=w.unit, year=w.year, units=units) for f in texts["unit_line"]],
                            texts["unit_line_gap"], sum(widths[:n_cols - banner_cols]))
    _merge_text(ws, top0 - 1, left0, top0 - 1, left0 + n_cols - 1 - banner_cols, unit_line,
                w.style("unitline", align="left", text_wrap=True))
    ws.set_row(top0 - 1, max(20, _lines(unit_line, sum(widths[:n_cols - banner_cols])) * _LINE_PT + 6))

    heights = _row_heights(grid, widths)
    for i, height in enumerate(heights):
        ws.set_row(top0 + i, height)
    for gc in grid.cells:
        _grid_cell(w, ws, gc, top0, left0)

    checks_row = top0 + grid.n_rows + 1
    checks = _table_checks(w, ws, grid, checks_here, checks_row, left0, label_cols, top0)
    last_row = max([top0 + grid.n_rows - 1] + [c.row for c in checks] + ([checks_row] if checks else []))
    note_row = last_row + 2
    note = workbook_text()["published"]["note"] if w.published else texts["note"]
    _merge_text(ws, note_row, left0, note_row, left0 + n_cols - 1, note,
                w.style("note", font_size=9.5, align="left", text_wrap=True))
    if banner_cols:
        _banner(w, ws, top0 - 1, left0 + n_cols - banner_cols, left0 + n_cols - 1, checks)

    first = table.blocks[0]
    if len(table.blocks) == 1:
        head_rows = top0 + first.column_depth + (1 if first.caption else 0)
        freeze_col = left0 + first.row_depth
    else:
        head_rows, freeze_col = top0, left0 + max(b.row_depth for b in table.blocks)
    ws.freeze_panes(head_rows, freeze_col)
    ws.repeat_rows(0, max(head_rows - 1, 0))
    ws.print_area(0, 0, note_row, max([left0 + n_cols - 1] + [c.col for c in checks]))
    _page_setup(ws, one_page=True)
    _protect(ws)
    return checks


_label_columns, _column_widths, _row_heights = label_columns, grid_column_widths, grid_row_heights
_lines = text_lines


def _merge_text(ws: Any, r1: int, c1: int, r2: int, c2: int, text: str, style: Any) -> None:
    if r1 == r2 and c1 == c2:
        ws.write_string(r1, c1, text, style)
    else:
        ws.merge_range(r1, c1, r2, c2, "", style)
        ws.write_string(r1, c1, text, style)


def _grid_cell(w: _Writer, ws: Any, gc: GridCell, top0: int, left0: int) -> None:
    r1, c1 = top0 + gc.row, left0 + gc.col
    r2, c2 = r1 + gc.rowspan - 1, c1 + gc.colspan - 1
    border = {"border": 1, "text_wrap": True}
    if gc.role == VALUE:
        _value_cell(w, ws, gc, r1, c1, r2, c2)
        return
    if gc.role == CAPTION:
        style = w.style("caption", **border, bold=True, align="left", bg_color=_HEADER_BG)
    elif gc.role == COLUMN:
        style = w.style("column", **border, bold=True, align="center", bg_color=_HEADER_BG)
    elif gc.role == CORNER:
        style = w.style("corner", **border, align="center", bg_color=_HEADER_BG, font_size=9.5)
    else:
        align = "left" if gc.rowspan == 1 else "center"
        style = w.style(f"row_{align}", **border, align=align)
    _merge_text(ws, r1, c1, r2, c2, gc.text, style)


def _num_format(kind: Kind) -> str:
    return "0" if not kind.decimals else "0." + "0" * kind.decimals


def _value_cell(w: _Writer, ws: Any, gc: GridCell, r1: int, c1: int, r2: int, c2: int) -> None:
    cell = w.fmt.cell(gc.cell_id)
    nf = _num_format(cell.kind)
    if cell.is_total and w.published:
        _published_total(w, ws, cell, nf, r1, c1, r2, c2)
        return
    if cell.is_total:
        style = w.style(f"total_{nf}", border=1, align="right", num_format=nf, bg_color=_TOTAL_BG,
                        bold=True, locked=True)
        if (r1, c1) != (r2, c2):
            ws.merge_range(r1, c1, r2, c2, "", style)
        formula = _total_formula(w, w.fmt.total_rule(cell.id), cell.table.sheet)
        ws.write_formula(r1, c1, formula, style, _number(_computed(w, cell.id)))
        return
    style = w.style(f"input_{nf}", border=1, align="right", num_format=nf, bg_color=_INPUT_BG, locked=False)
    value = _input_value(w, cell.id)
    if (r1, c1) != (r2, c2):
        ws.merge_range(r1, c1, r2, c2, "", style)
    if value is None:
        ws.write_blank(r1, c1, None, style)
    else:
        ws.write_number(r1, c1, _number(value), style)
    ws.data_validation(r1, c1, r1, c1, _validation(w, cell, a1(r1 + 1, c1 + 1)))


def _published_total(w: _Writer, ws: Any, cell, nf: str, r1: int, c1: int, r2: int, c2: int) -> None:
    """A total as the published report gives it: a locked number (blank when not published) in
    the published look, with a comment saying so."""
    style = w.style(f"published_{nf}", border=1, align="right", num_format=nf, bg_color=_PUBLISHED_BG,
                    bold=True, italic=True, locked=True)
    if (r1, c1) != (r2, c2):
        ws.merge_range(r1, c1, r2, c2, "", style)
    value = _input_value(w, cell.id)
    if value is None:
        ws.write_blank(r1, c1, None, style)
    else:
        ws.write_number(r1, c1, _number(value), style)
    ws.write_comment(r1, c1, workbook_text()["published"]["total_comment"], {"x_scale": 1.6})


def _validation(w: _Writer, cell, ref: str) -> dict[str, Any]:
    """Data validation of an input cell from its kind: whole numbers (>= min) or, with decimals,
    a custom formula allowing at most ``decimals`` places."""
    texts = workbook_text()["input"]
    kind = cell.kind
    phrase = kind_phrase(kind)
    message = texts["message"].format(row=cell.row.label or cell.table.number, column=cell.column.label, phrase=phrase)
    common = {
        "input_title": texts["title"][:32],
        "input_message": message[:255],
        "error_title": texts["error_title"][:32],
        "error_message": texts["error"].format(phrase=phrase)[:255],
        "error_type": "stop",
        "ignore_blank": True,
    }
    if kind.decimals == 0:
        if kind.min is None:
            return {**common, "validate": "integer", "criteria": "between", "minimum": -999999999, "maximum": 999999999}
        return {**common, "validate": "integer", "criteria": ">=", "value": int(kind.min)}
    bound = "" if kind.min is None else f",{ref}>={kind.min:g}"
    return {**common, "validate": "custom", "value": f"=AND(ISNUMBER({ref}){bound},ROUND({ref},{kind.decimals})={ref})"}


def _table_checks(w: _Writer, ws: Any, grid: Grid, instances: list[RuleInstance], row0: int, left0: int,
                  label_cols: int, top0: int) -> list[_Check]:
    """Check cells below the table and conditional formats on the cells of each rule instance.

    A rule whose instances each sit in one column of their own gets one check row (a check cell
    under each column); in a published workbook, one whose instances each sit in one row of their
    own (the 总计 column) a check column right of the table; any other rule one line per instance.
    """
    if not instances:
        return []
    texts = workbook_text()["table"]
    sheet = grid.table.sheet
    n_cols = grid.n_cols
    wording = w.style("check_label", border=1, text_wrap=True, align="left", font_size=9.5)
    heading = w.style("check_heading", bold=True, align="left")
    _merge_text(ws, row0, left0, row0, left0 + n_cols - 1, texts["checks_heading"], heading)
    row = row0 + 1
    checks: list[_Check] = []
    by_rule: dict[str, list[RuleInstance]] = {}
    for inst in instances:
        by_rule.setdefault(inst.rule.id, []).append(inst)
    for rule_id, insts in by_rule.items():
        rule = insts[0].rule
        columns = []
        for inst in insts:
            cols = {w.addresses[t.cell].col for t in (*inst.left, *inst.right) if w.addresses[t.cell].sheet == sheet}
            columns.append(cols.pop() if len(cols) == 1 else None)
        aligned = None not in columns and len(set(columns)) == len(columns) and min(columns) - 1 - left0 >= label_cols
        rows = [_one_row(w, inst, sheet) for inst in insts]
        if w.published and not aligned and len(insts) > 1 and None not in rows and len(set(rows)) == len(rows):
            checks += _check_column(w, ws, insts, rows, sheet, top0, left0 + n_cols)
            continue
        if aligned:
            if label_cols:
                _merge_text(ws, row, left0, row, left0 + label_cols - 1, rule.wording, wording)
            else:
                _merge_text(ws, row, left0, row, left0 + n_cols - 1, rule.wording, wording)
                row += 1
            ws.set_row(row, max(20, _lines(rule.wording, 40) * _LINE_PT + 6) if label_cols else 20)
            for inst, col in zip(insts, columns):
                checks.append(_check_cell(w, ws, inst, sheet, row, col - 1))
            row += 1
        else:
            for inst in insts:
                text = rule.wording + (f"（{label}）" if (label := _instance_label(w.fmt, inst)) else "")
                last = left0 + n_cols - 1
                text = break_before_note(text, sum(_column_widths(grid, label_cols)[:n_cols - 1]))
                if n_cols > 1:
                    _merge_text(ws, row, left0, row, last - 1, text, wording)
                    ws.set_row(row, max(20, _lines(text, 10 * (n_cols - 1)) * _LINE_PT + 6))
                else:
                    _merge_text(ws, row, left0, row, last, text, wording)
                    row += 1
                checks.append(_check_cell(w, ws, inst, sheet, row, last))
                row += 1
    return checks


def _one_row(w: _Writer, inst: RuleInstance, sheet: str) -> int | None:
    rows = {w.addresses[t.cell].row for t in (*inst.left, *inst.right) if w.addresses[t.cell].sheet == sheet}
    return rows.pop() if len(rows) == 1 else None


def _check_column(w: _Writer, ws: Any, insts: list[RuleInstance], rows: list[int], sheet: str, top0: int,
                  col: int) -> list[_Check]:
    """A check cell beside each instance's row, under a header holding the rule's wording."""
    first = min(rows) - 1
    wording = w.style("check_column_head", border=1, text_wrap=True, align="center", font_size=9,
                      bg_color=_HEADER_BG)
    _merge_text(ws, top0, col, max(top0, first - 1), col, insts[0].rule.wording, wording)
    ws.set_column(col, col, 11)
    return [_check_cell(w, ws, inst, sheet, row - 1, col) for inst, row in zip(insts, rows)]


def _check_cell(w: _Writer, ws: Any, inst: RuleInstance, sheet: str, row: int, col: int) -> _Check:
    texts = workbook_text()["table"]
    diff, holds = _check_expr(w, inst, sheet)
    ok, bad = texts["check_ok"], texts["check_bad"] if inst.rule.severity == "error" else texts["check_warn"]
    pending = texts["check_pending"]
    entered = ",".join(_ranges(w, _entered_cells(w, inst), sheet))
    formula = (f'=IFERROR(IF(COUNTA({entered})=0,"{pending}",IF({holds},"{ok}","{bad}")),'
               f'"{texts["check_error"]}")')
    style = w.style("check", border=1, align="center", bold=True, font_size=9.5)
    cached = pending if _pending(w, inst) else ok if _holds(w, inst) else bad
    ws.write_formula(row, col, formula, style, cached)
    ref = a1(row + 1, col + 1)
    ws.conditional_format(row, col, row, col, {
        "type": "formula", "criteria": f'=AND(LEFT({ref},1)<>"{ok[0]}",LEFT({ref},1)<>"{pending[0]}")',
        "format": w.wb.add_format(_BAD if inst.rule.severity == "error" else _WARN)})
    _, holds_abs = _check_expr(w, inst, sheet, absolute=True)
    refs = [w.addresses[t.cell] for t in (*inst.left, *inst.right) if w.addresses[t.cell].sheet == sheet]
    first = refs[0]
    ws.conditional_format(first.row - 1, first.col - 1, first.row - 1, first.col - 1, {
        "type": "formula", "criteria": f"=IFERROR(NOT({holds_abs}),TRUE)",
        "multi_range": " ".join(dict.fromkeys(r.a1 for r in refs)),
        "format": w.wb.add_format(_BAD if inst.rule.severity == "error" else _WARN)})
    return _Check(inst, sheet, row, col)


def _holds(w: _Writer, inst: RuleInstance) -> bool:
    def side(terms):
        return sum((t.sign * _computed(w, t.cell) for t in terms), Decimal(0))
    diff = side(inst.left) - side(inst.right)
    return diff >= 0 if inst.rule.kind == "at_least" else diff == 0


def _banner(w: _Writer, ws: Any, row: int, c1: int, c2: int, checks: list[_Check]) -> None:
    texts = workbook_text()["table"]
    bad = [a1(c.row + 1, c.col + 1) for c in checks if c.inst.rule.severity == "error"]
    warn = [a1(c.row + 1, c.col + 1) for c in checks if c.inst.rule.severity != "error"]
    ok, pending = texts["check_ok"][0], texts["check_pending"][0]

    def any_off(refs: list[str]) -> str:
        offs = [f'AND(LEFT({r},1)<>"{ok}",LEFT({r},1)<>"{pending}")' for r in refs]
        return f"OR({','.join(offs)})" if offs else "FALSE"

    waiting = f"OR({','.join(f'LEFT({a1(c.row + 1, c.col + 1)},1)={chr(34)}{pending}{chr(34)}' for c in checks)})"
    formula = (f'=IF({any_off(bad)},"{texts["banner_bad"]}",IF({any_off(warn)},"{texts["banner_warn"]}",'
               f'IF({waiting},"{texts["banner_pending"]}","{texts["banner_ok"]}")))')
    cached = _summary_text(w, [c.inst for c in checks])
    style = w.style("banner", bold=True, align="right")
    if c1 != c2:
        ws.merge_range(row, c1, row, c2, "", style)
    ws.write_formula(row, c1, formula, style, cached)
    for fmt_props, mark in ((_BAD, "×"), (_WARN, "?")):
        ws.conditional_format(row, c1, row, c1, {
            "type": "formula", "criteria": f'=LEFT({a1(row + 1, c1 + 1)},1)="{mark}"',
            "format": w.wb.add_format(fmt_props)})
    w.banners[ws.get_name()] = (row, c1)


def _page_setup(ws: Any, landscape: bool = True, one_page: bool = False) -> None:
    ws.set_paper(9)  # A4
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 1 if one_page else 0)
    ws.center_horizontally()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _protect(ws: Any) -> None:
    ws.protect("", {"format_columns": True, "format_rows": True, "select_locked_cells": True,
                    "select_unlocked_cells": True})


# ------------------------------------------------------------------------------------ other sheets


def _info_sheet(w: _Writer, ws: Any) -> None:
    texts = workbook_text()["info"]
    head = w.style("info_head", border=1, bold=True, align="center", bg_color=_HEADER_BG)
    label = w.style("info_label", border=1, bold=True, align="left", bg_color=_HEADER_BG)
    fixed = w.style("info_fixed", border=1, align="left", text_wrap=True)
    free = w.style("info_input", border=1, align="left", bg_color=_INPUT_BG, locked=False, text_wrap=True)
    text_free = w.style("info_input_text", border=1, align="left", bg_color=_INPUT_BG, locked=False,
                        num_format="@", text_wrap=True)
    date_free = w.style("info_input_date", border=1, align="left", bg_color=_INPUT_BG, locked=False,
                        num_format="yyyy-mm-dd")
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 48)
    ws.write_string(0, 0, texts["header"][0], head)
    ws.write_string(0, 1, texts["header"][1], head)
    ws.set_row(0, 22)
    given = dict(w.data.info) if w.data else {}
    last = 0
    for row, field_id, field_label in info_rows():
        r = row - 1
        ws.set_row(r, 22)
        ws.write_string(r, 0, field_label, label)
        if field_id == "unit":
            style = fixed if w.unit else free
            ws.write_string(r, 1, w.unit, style)
        elif field_id == "year":
            ws.write_number(r, 1, w.year, w.style("info_year", border=1, align="left", num_format="0"))
        else:
            value = given.get(field_id)
            style = date_free if field_id == "date" else text_free
            _write_info_value(ws, r, value, style, date_free)
            hint = texts["hints"].get(field_id)
            if hint:
                ws.data_validation(r, 1, r, 1, {"validate": "any", "input_title": field_label[:32],
                                                 "input_message": hint[:255]})
        last = r
    r = last + 2
    ws.set_row(r, 22)
    ws.write_string(r, 0, texts["format_label"], label)
    ws.write_string(r, 1, f"{w.fmt.id}（{w.fmt.name}）", fixed)
    if w.banners:
        r += 1
        ws.set_row(r, 22)
        ws.write_string(r, 0, texts["check_label"], label)
        table_texts = workbook_text()["table"]
        refs = [f"{quote_sheetname(sheet)}!{a1(row + 1, col + 1)}" for sheet, (row, col) in w.banners.items()]
        bad = ",".join(f'LEFT({ref},1)="×"' for ref in refs)
        warn = ",".join(f'LEFT({ref},1)="?"' for ref in refs)
        waiting = ",".join(f'LEFT({ref},1)="{table_texts["banner_pending"][0]}"' for ref in refs)
        formula = (f'=IF(OR({bad}),"{table_texts["banner_bad"]}",IF(OR({warn}),"{table_texts["banner_warn"]}",'
                   f'IF(OR({waiting}),"{table_texts["banner_pending"]}","{table_texts["banner_ok"]}")))')
        ws.write_formula(r, 1, formula, w.style("info_check", border=1, bold=True, align="left"),
                         _summary_text(w, live_checks(w.fmt, published=w.published)))
        for props, mark in ((_BAD, "×"), (_WARN, "?")):
            ws.conditional_format(r, 1, r, 1, {"type": "formula", "criteria": f'=LEFT(B{r + 1},1)="{mark}"',
                                               "format": w.wb.add_format(props)})
    _page_setup(ws, landscape=False)
    _protect(ws)


def _summary_text(w: _Writer, instances: list[RuleInstance]) -> str:
    """What a banner over ``instances`` shows for the data written: a failing error rule, else a
    failing warning rule, else a check still waiting for entries, else all well."""
    texts = workbook_text()["table"]
    entered = [inst for inst in instances if not _pending(w, inst)]
    failing = [inst for inst in entered if not _holds(w, inst)]
    if any(inst.rule.severity == "error" for inst in failing):
        return texts["banner_bad"]
    if failing:
        return texts["banner_warn"]
    return texts["banner_pending"] if len(entered) < len(instances) else texts["banner_ok"]


def _write_info_value(ws: Any, r: int, value: Any, style: Any, date_style: Any) -> None:
    if value is None or value == "":
        ws.write_blank(r, 1, None, style)
    elif isinstance(value, (dt.date, dt.datetime)):
        ws.write_datetime(r, 1, value if isinstance(value, dt.datetime)
                          else dt.datetime.combine(value, dt.time()), date_style)
    elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        ws.write_number(r, 1, _number(Decimal(str(value))), style)
    else:
        ws.write_string(r, 1, str(value), style)


def _narrative_sheet(w: _Writer, ws: Any) -> None:
    texts = workbook_text()["narrative"]
    plan = workbook_plan()
    head = w.style("info_head", border=1, bold=True, align="center", bg_color=_HEADER_BG)
    label = w.style("narr_label", border=1, bold=True, align="left", valign="top", text_wrap=True,
                    bg_color=_HEADER_BG)
    text = w.wb.add_format({"font_name": _TEXT_FONT, "font_size": 12, "border": 1, "text_wrap": True,
                            "valign": "top", "align": "left", "locked": False, "bg_color": _INPUT_BG,
                            "num_format": "@"})
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 96)
    header_row = plan.narrative_top_row - 2
    if header_row >= 0:
        ws.write_string(header_row, 0, texts["header"][0], head)
        ws.write_string(header_row, 1, texts["header"][1], head)
        ws.set_row(header_row, 22)
    given = w.data.narrative if w.data else {}
    for row, part_id, part_label in narrative_rows(w.fmt):
        r = row - 1
        ws.write_string(r, 0, part_label, label)
        content = given.get(part_id) or ""
        if content:
            ws.write_string(r, 1, content, text)
        else:
            ws.write_blank(r, 1, None, text)
        lines = _lines(content, 96 * 0.85) if content else 6
        ws.set_row(r, min(409, max(90, lines * 16 + 8)))
        hint = texts["hints"].get(part_id) or texts["hint_default"].format(label=part_label)
        ws.data_validation(r, 1, r, 1, {"validate": "any", "input_title": texts["hint_title"][:32],
                                         "input_message": hint[:255]})
    ws.freeze_panes(plan.narrative_top_row - 1, 0)
    _page_setup(ws, landscape=False)
    _protect(ws)


def _guide_sheet(w: _Writer, ws: Any) -> None:
    t = workbook_text()["guide"]
    fmt = w.fmt
    ws.set_column(0, 0, 4)
    ws.set_column(1, 1, 110)
    title = w.style("guide_title", bold=True, font_size=16, align="center")
    heading = w.style("guide_heading", bold=True, font_size=12, align="left")
    body = w.style("guide_body", text_wrap=True, align="left", valign="top")
    err = w.style("guide_err", text_wrap=True, align="left", valign="top", font_color=colour("error", "font"))
    warn = w.style("guide_warn", text_wrap=True, align="left", valign="top", font_color=colour("warning", "font"))
    row = 0
    ws.merge_range(row, 0, row, 1, "", title)
    ws.write_string(row, 0, t["title"].format(year=w.year), title)
    ws.set_row(row, 32)
    row += 1

    def line(text: str, style: Any = body, number: str = "") -> None:
        nonlocal row
        text = f"{number} {text}" if number else text  # one cell: the number sits on the text's first line
        ws.write_string(row, 1, text, style)
        ws.set_row(row, max(18, _lines(text, 125) * 15 + 4))
        row += 1

    line(t["unit"].format(unit=w.unit) if w.unit else t["unit_missing"])
    line(t["format"].format(format_name=fmt.name, year=w.year))
    row += 1
    line(t["fill_heading"], heading)
    tables = "、".join(f"“{table.sheet}”" for table in fmt.tables)
    parts = "、".join(p.label for p in fmt.parts)
    for i, item in enumerate(t["fill"], 1):
        text = item.format(tables=tables, parts=parts, kinds=_kinds_sentence(fmt))
        line(text, number=f"{i}.")
    row += 1
    line(t["rules_heading"], heading)
    line(workbook_text()["guide"]["rules_intro"])
    for i, rule in enumerate(sorted(fmt.rules, key=lambda r: r.severity != "error"), 1):
        prior = t["rules_prior"] if any(inst.uses_prior for inst in rule.instances) else ""
        tag = t["rules_error"] if rule.severity == "error" else t["rules_warning"]
        line(f"【{tag}】{rule.wording}{prior}", err if rule.severity == "error" else warn, f"{i}.")
    row += 1
    line(t["deadline_heading"], heading)
    line(t["deadline"].format(deadline=_chinese_date(w.deadline)) if w.deadline else t["deadline_missing"])
    row += 1
    line(t["contact_heading"], heading)
    contact = _contact_text(w.contact)
    line(t["contact"].format(contact=contact) if contact else t["contact_missing"])
    row += 1
    line(t["footer"].format(version=__version__, format_id=fmt.id),
         w.style("guide_footer", font_size=9, font_color=colour("footnote", "font"), align="left"))
    ws.print_area(0, 0, row, 1)
    _page_setup(ws, landscape=False)
    ws.hide_gridlines(2)
    _protect(ws)


_KINDS_SENTENCES: dict[int, tuple[Format, str]] = {}


def _kinds_sentence(fmt: Format) -> str:
    known = _KINDS_SENTENCES.get(id(fmt))
    if known is None or known[0] is not fmt:
        if len(_KINDS_SENTENCES) > 64:
            _KINDS_SENTENCES.clear()
        known = _KINDS_SENTENCES[id(fmt)] = (fmt, _make_kinds_sentence(fmt))
    return known[1]


def _make_kinds_sentence(fmt: Format) -> str:
    texts = workbook_text()
    by_kind: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for cell in fmt.cells.values():
        counts[cell.kind.id] = counts.get(cell.kind.id, 0) + 1
        labels = by_kind.setdefault(cell.kind.id, [])
        if cell.column.label not in labels:
            labels.append(cell.column.label)
    main = max(counts, key=counts.get)
    items = []
    for kind_id in by_kind:
        if kind_id == main:
            continue
        columns = "、".join(f"“{label}”" for label in by_kind[kind_id])
        items.append(texts["kind_item"].format(columns=columns, phrase=kind_phrase(fmt.kinds[kind_id])))
    items.append(texts["kind_item"].format(columns="其余各栏" if items else "各栏", phrase=kind_phrase(fmt.kinds[main])))
    return texts["kinds_sentence"].format(items="；".join(items))


def _chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _contact_text(contact: dict | None) -> str:
    if not contact:
        return ""
    fields = workbook_text()["guide"]["contact_fields"]
    return "，".join(fields[k].format(value=str(contact[k]).strip()) for k in fields if contact.get(k))


def meta_values(fmt: Format, *, unit: str, year: int, deadline: dt.date | None = None,
                generated_at: dt.datetime | None = None, published: bool = False) -> dict[str, Any]:
    """What the workbook records about itself, keyed by the plan's meta keys (``origin`` is
    ``published`` for a workbook imported from a published report)."""
    values = {
        "format": fmt.id,
        "toolkit_version": __version__,
        "unit": unit or "",
        "year": int(year),
        "generated_at": (generated_at or dt.datetime.now().replace(microsecond=0)).isoformat(),
        "deadline": deadline.isoformat() if deadline else "",
        "origin": ORIGIN_PUBLISHED if published else "",
    }
    return {key: values.get(key, "") for key in workbook_plan().meta_keys}


def _meta_sheet(w: _Writer, ws: Any) -> None:
    values = meta_values(w.fmt, unit=w.unit, year=w.year, deadline=w.deadline, generated_at=w.generated_at,
                         published=w.published)
    sheet = quote_sheetname(ws.get_name())
    for i, (key, value) in enumerate(values.items()):
        ws.write_string(i, 0, key)
        if isinstance(value, int):
            ws.write_number(i, 1, value)
        else:
            ws.write_string(i, 1, str(value))
        w.wb.define_name(defined_name_for_meta(key), f"={sheet}!$B${i + 1}")
    ws.write_string(0, 3, workbook_text()["meta_sheet_note"])
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 40)
    for cell_id, addr in w.addresses.items():
        w.wb.define_name(defined_name_for_cell(cell_id), f"={quote_sheetname(addr.sheet)}!{absolute_a1(addr.row, addr.col)}")
    ws.hide()
    _protect(ws)


def _properties(w: _Writer) -> None:
    texts = workbook_text()
    values = meta_values(w.fmt, unit=w.unit, year=w.year, deadline=w.deadline, generated_at=w.generated_at,
                         published=w.published)
    w.wb.set_properties({
        "title": texts["workbook_title"].format(unit=w.unit, year=w.year),
        "subject": w.fmt.name,
        "author": f"年报工具箱 nianbao {__version__}",
        "keywords": f"nianbao, format={w.fmt.id}, year={w.year}",
        "comments": f"nianbao format={w.fmt.id} year={w.year}",
        "created": w.generated_at,
    })
    for key, value in values.items():
        if value != "":
            w.wb.set_custom_property(custom_property_name(key), str(value)[:255], "text")  # Excel's limit
