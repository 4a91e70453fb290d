"""The formulas of the standard workbook: totals as live ``SUM``s of their terms, and the live
checks of the rules that need no prior year (check cells, the banner, red and yellow cells)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Iterable

from xlsxwriter.utility import quote_sheetname

from toolkit.a1 import a1, absolute_a1
from toolkit.formats import Format, RuleInstance, Term
from toolkit.grid import Grid
from toolkit.layout import (
    CellAddress,
    cell_addresses,
)
from toolkit.workbook.writing import (
    _BAD, _Check, _column_widths, _computed, _HEADER_BG, _input_value, _LINE_PT, _lines,
    _merge_text, _WARN, _Writer, CHECK_RULE_KINDS, workbook_text,
)
from toolkit.workbook.looks import (
    break_before_note,
)


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
