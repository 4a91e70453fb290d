"""The state of one workbook being written (xlsxwriter) and what every part of the writer
shares: the words and looks of the sheets, defined names, and the values the cells get."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from xlsxwriter.worksheet import Worksheet

from toolkit.formats import TEMPLATES_DIR, Format, Kind, RuleInstance, parse_yaml
from toolkit.model import ReportData
from toolkit.layout import (
    CellAddress,
    workbook_plan,
)
from toolkit.workbook.looks import (
    LINE_PT,
    colour,
    grid_column_widths,
    grid_row_heights,
    label_columns,
    looks,
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
    return parse_yaml(text)


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


_label_columns, _column_widths, _row_heights = label_columns, grid_column_widths, grid_row_heights
_lines = text_lines


def _merge_text(ws: Any, r1: int, c1: int, r2: int, c2: int, text: str, style: Any) -> None:
    if r1 == r2 and c1 == c2:
        ws.write_string(r1, c1, text, style)
    else:
        ws.merge_range(r1, c1, r2, c2, "", style)
        ws.write_string(r1, c1, text, style)
