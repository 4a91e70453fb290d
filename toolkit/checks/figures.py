"""What the rules compare: cell values as numbers, every total recomputed from the input cells
(recursively, through totals of totals), values as a message shows them, and each cell's row and
column labels as a clerk names them."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Iterable

from toolkit.formats import Format
from toolkit.model import format_decimal

ZERO = Decimal(0)


# ---------------------------------------------------------------- values


def to_decimal(value: Any) -> Decimal | None:
    """A value as Decimal, or None when it is not a finite number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _recompute_plan(fmt: Format) -> tuple[list[str], list[tuple[str, tuple[tuple[int, str], ...]]]]:
    """Input cell ids, and each total with its signed terms in an order where terms come first
    (cached on the Format)."""
    plan = fmt.__dict__.get("_recompute_plan")
    if plan is None:
        order: list[tuple[str, tuple[tuple[int, str], ...]]] = []
        done: set[str] = set()

        def visit(cell_id: str) -> None:
            inst = fmt.total_rule(cell_id)
            if cell_id in done or inst is None:
                return
            for term in inst.right:
                visit(term.cell)
            done.add(cell_id)
            order.append((cell_id, tuple((t.sign, t.cell) for t in inst.right)))

        for cell_id in fmt.cells:
            visit(cell_id)
        plan = ([c for c in fmt.cells if fmt.total_rule(c) is None], order)
        fmt.__dict__["_recompute_plan"] = plan
    return plan


def recompute(fmt: Format, values: dict[str, Any]) -> dict[str, Decimal]:
    """Every cell of ``fmt``: input cells as given (blank or unusable as 0), every total
    recomputed from the input cells through its defining ``sum`` rule, recursively."""
    inputs, totals = _recompute_plan(fmt)
    out: dict[str, Decimal] = {}
    for cell_id in inputs:
        value = values.get(cell_id)
        out[cell_id] = value if type(value) is Decimal and value.is_finite() else (to_decimal(value) or ZERO)
    for cell_id, terms in totals:
        total = ZERO
        for sign, term in terms:
            total = total + out[term] if sign > 0 else total - out[term]
        out[cell_id] = total
    return out


def same_value(a: Decimal, b: Decimal, decimals: int) -> bool:
    """Equal, up to ``decimals`` places when the kind has decimals (float noise in money)."""
    if a == b or decimals <= 0:
        return a == b
    quantum = Decimal(1).scaleb(-decimals)
    return a.quantize(quantum, ROUND_HALF_UP) == b.quantize(quantum, ROUND_HALF_UP)


def show(value: Any) -> str:
    """A value as it appears in a message."""
    if value is None:
        return "空"
    if isinstance(value, Decimal):
        return format_decimal(value)
    return str(value)


# ---------------------------------------------------------------- labels


def _qualified_labels(nodes: Iterable[Any]) -> dict[int, str]:
    """Leaf node (by id()) -> label, prefixed by its parent's label when the leaf's label is
    shared by another node of the table, or is a numbered sub-item ("1.属于国家秘密")."""
    leaves: list[tuple[Any, Any]] = []

    def walk(node: Any, parent: Any) -> None:
        if node.is_leaf:
            leaves.append((node, parent))
        for child in node.children:
            walk(child, node)

    for node in nodes:
        walk(node, None)
    ids_by_label: dict[str, set[str]] = {}
    for node, _ in leaves:
        ids_by_label.setdefault(node.label, set()).add(node.id)
    out = {}
    for node, parent in leaves:
        label = node.label
        if parent is not None and parent.label and (len(ids_by_label[label]) > 1 or re.match(r"\d", label)):
            label = f"{parent.label} {label}"
        out[id(node)] = label
    return out


@lru_cache(maxsize=None)
def cell_labels(fmt: Format) -> dict[str, tuple[str | None, str | None]]:
    """cell id -> (row label, column label) as a clerk would name them; None when unlabeled."""
    out: dict[str, tuple[str | None, str | None]] = {}
    for table in fmt.tables:
        rows = _qualified_labels(r for b in table.blocks for r in b.rows)
        cols = _qualified_labels(c for b in table.blocks for c in b.columns)
        for cell in table.cells:
            out[cell.id] = (rows.get(id(cell.row)) or None, cols.get(id(cell.column)) or None)
    return out


def cell_label(fmt: Format, cell_id: str) -> str:
    """``表二 规章 / 本年制发件数``."""
    row, col = cell_labels(fmt)[cell_id]
    return f"{fmt.cell(cell_id).table.number} {' / '.join(x for x in (row, col) if x)}"
