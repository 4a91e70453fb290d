"""The sheets of the standard workbook: one per official table (laid out from the render grid),
填报说明, 基本信息 and 文字部分; page setup and protection."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from xlsxwriter.utility import quote_sheetname

from toolkit import __version__
from toolkit.a1 import a1
from toolkit.formats import Format, Kind
from toolkit.grid import CAPTION, COLUMN, CORNER, VALUE, GridCell, table_grid
from toolkit.layout import (
    info_rows,
    narrative_rows,
    sheet_origin,
    workbook_plan,
)
from toolkit.workbook.writing import (
    _BAD, _Check, _column_widths, _computed, _HEADER_BG, _INPUT_BG, _input_value, _label_columns,
    _LINE_PT, _lines, _merge_text, _number, _PUBLISHED_BG, _row_heights, _TEXT_FONT, _TOTAL_BG,
    _WARN, _Writer, kind_phrase, table_title, workbook_text,
)
from toolkit.workbook.formulas import _banner, _summary_text, _table_checks, _total_formula, live_checks
from toolkit.workbook.looks import (
    colour,
    pack_fields,
)


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
