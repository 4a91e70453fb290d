"""The list sheets of the toolkit's own workbooks: 校验结果 (annotated copy), 文件汇总 and 问题清单
(summary workbook), 报送情况 and 收到的文件 (status workbook).

Each sheet's columns — the field each holds, its header and its width — are defined once in
``templates/looks.yaml``; a header's ``{error}`` and ``{warning}`` are the words of
``templates/labels.yaml``. The xlsxwriter sheets are written here, header to print setup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from toolkit.output_labels import labels
from toolkit.workbook.looks import colour, looks, text_lines

LIST_LINE_PT = 15  # one line of a wrapped list cell


@dataclass(frozen=True)
class Column:
    id: str  # the field the code fills in
    header: str
    width: float  # Excel character units
    printed: bool  # False: kept in the file (filters, machines), left out of the printed pages


def list_columns(sheet: str, **words: str) -> list[Column]:
    """The columns of a list sheet of templates/looks.yaml, headers filled with the labels of
    templates/labels.yaml and ``words`` (e.g. ``zone="北京时间"``)."""
    conf = looks()[sheet]
    fill = {**labels()["severity"], **words}
    hidden = set(conf.get("screen_only") or ())
    columns = [Column(cid, str(header).format(**fill), float(width), cid not in hidden)
               for cid, (header, width) in conf["columns"].items()]
    if [c.printed for c in columns] != sorted((c.printed for c in columns), reverse=True):
        raise ValueError(f"templates/looks.yaml {sheet}: screen_only columns must come last")
    return columns


def printed_count(columns: Sequence[Column]) -> int:
    """How many columns from the left are printed."""
    return sum(1 for c in columns if c.printed)


def list_styles(book: Any, *, border: bool = False) -> dict[str, Any]:
    """The xlsxwriter formats of a list sheet, in the table font of templates/looks.yaml:
    ``title``, ``head`` (the header row), ``cell``, and a fill per colour a list marks with —
    ``error``, ``warning``, ``ok``, ``missing``; ``add(**props)`` makes another in the same font.
    ``border``: every cell ruled (a register such as 报送情况)."""
    font = {"font_name": looks()["fonts"]["table"]}
    ruled = {"border": 1} if border else {}

    def add(**props: Any) -> Any:
        return book.add_format({**font, **props})

    styles: dict[str, Any] = {
        "add": add,
        "title": add(bold=True, font_size=14),
        "head": add(bold=True, bg_color=colour("list_header"), border=1, text_wrap=True, valign="vcenter"),
        "cell": add(text_wrap=True, valign="top", **ruled),
    }
    for name in ("error", "warning", "ok", "missing"):
        styles[name] = add(bg_color=colour(name), font_color=colour(name, "font"), valign="top", **ruled)
    return styles


def write_list(ws: Any, columns: Sequence[Column], rows: Sequence[dict[str, Any]], styles: dict[str, Any],
               cell_styles: dict[tuple[int, str], Any] | None = None, *, top: int = 0, frozen_cols: int = 0,
               printed_below: int = 0) -> int:
    """An xlsxwriter list: bold header at row ``top`` (0-based), a row per dict of ``rows``
    (by column id; None stays blank), wrapped, each as tall as its longest printed cell;
    ``cell_styles[(i, column id)]`` styles row i (0-based in ``rows``). Returns the row after
    the last. Frozen below the header (and left of ``frozen_cols``), filtered, printed from the
    top with ``printed_below`` more rows, one page wide without the screen-only columns, the
    header on every page."""
    cell_styles = cell_styles or {}
    ws.write_row(top, 0, [c.header for c in columns], styles["head"])
    for i, values in enumerate(rows):
        r = top + 1 + i
        for j, c in enumerate(columns):
            value, style = values.get(c.id), cell_styles.get((i, c.id), styles["cell"])
            if value is None:
                ws.write_blank(r, j, None, style)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                ws.write_number(r, j, value, style)
            else:
                ws.write_string(r, j, str(value), style)
        lines = max([text_lines(str(values[c.id]), c.width) for c in columns
                     if c.printed and values.get(c.id) is not None] or [1])
        ws.set_row(r, LIST_LINE_PT * lines + 3)
    for j, c in enumerate(columns):
        ws.set_column(j, j, c.width)
    end = top + len(rows)
    ws.freeze_panes(top + 1, frozen_cols)
    ws.autofilter(top, 0, max(top + 1, end), len(columns) - 1)
    ws.print_area(0, 0, max(top + 1, end) + printed_below, printed_count(columns) - 1)
    print_setup(ws, repeat_row=top)
    return end + 1


def print_setup(ws: Any, repeat_row: int | None = None) -> None:
    """A4 landscape, one page wide, page numbers at the foot; ``repeat_row`` on every page."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.center_horizontally()
    ws.set_footer("&C第 &P 页，共 &N 页")
    if repeat_row is not None:
        ws.repeat_rows(repeat_row)
