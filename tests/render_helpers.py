"""Shared by the render tests: filled report data that passes every error rule, and what each
official table cell should say (from the grid and the data, independently of the renderers)."""

from __future__ import annotations

import random
from decimal import Decimal

from toolkit.checks.figures import recompute
from toolkit.formats import Format
from toolkit.grid import VALUE, table_grid
from toolkit.model import ERROR, ReportData, format_decimal

UNIT = "示例县人民政府办公室"


def filled_data(fmt: Format, seed: int = 0, *, unit: str = UNIT, year: int | None = None,
                narrative: dict[str, str] | None = None, zero: bool = False) -> ReportData:
    """Data for every cell of ``fmt``: random counts (some zero), money with up to four decimals,
    signed counts where the kind allows; every error-severity ``equal`` rule made to hold by
    solving for its first term, totals recomputed. ``zero``: every input 0."""
    rnd = random.Random(seed)
    values: dict[str, Decimal | None] = {}
    for cell in fmt.input_cells:
        if zero:
            values[cell.id] = Decimal(0)
        elif cell.kind.decimals:
            values[cell.id] = Decimal(rnd.randint(0, 3_000_000)).scaleb(-cell.kind.decimals)
        elif cell.kind.signed:
            values[cell.id] = Decimal(rnd.randint(-9, 9))
        else:
            values[cell.id] = Decimal(rnd.choice([0, 0, 1, 2, 3, 5, 8, 13, 21]))
    for rule in fmt.rules:
        if rule.kind != "equal" or rule.severity != ERROR:
            continue
        for inst in rule.instances:
            if inst.uses_prior:
                continue
            target, *others = inst.left
            totals = recompute(fmt, values)
            need = sum((t.sign * totals[t.cell] for t in inst.right), Decimal(0))
            need -= sum((t.sign * totals[t.cell] for t in others), Decimal(0))
            if need < 0:
                for t in others:
                    values[t.cell] = Decimal(0)
                need = sum((t.sign * totals[t.cell] for t in inst.right), Decimal(0))
            values[target.cell] = need * target.sign
    totals = recompute(fmt, values)
    for cell in fmt.total_cells:
        values[cell.id] = totals[cell.id]
    if year is None:
        year = 2024 if fmt.covers(2024) else fmt.year_from
    return ReportData(format=fmt.id, unit=unit, year=year, values=values, narrative=dict(narrative or {}))


def expected_matrix(fmt: Format, table_id: str, data: ReportData) -> dict[tuple[int, int], tuple[str, int, int]]:
    """(row, col) of each grid cell's top-left corner -> (text, rowspan, colspan)."""
    grid = table_grid(fmt, table_id)
    out = {}
    for gc in grid.cells:
        if gc.role == VALUE:
            value = data.values.get(gc.cell_id)
            text = "" if value is None else format_decimal(value)
        else:
            text = gc.text
        out[(gc.row, gc.col)] = (text, gc.rowspan, gc.colspan)
    return out


def leaf_count(node) -> int:
    return sum(1 for _ in node.leaves())


def find_node(nodes, node_id):
    for top in nodes:
        for node in top.walk():
            if node.id == node_id:
                return node
    raise KeyError(node_id)


def ancestors_labels(nodes, leaf_id) -> list[str]:
    """Labels from the top of a column or row tree down to the leaf ``leaf_id``."""
    def walk(items, path):
        for node in items:
            here = path + [node.label]
            if node.id == leaf_id and node.is_leaf:
                return here
            found = walk(node.children, here)
            if found:
                return found
        return None

    return walk(nodes, []) or []


def filled_workbook(tmp_path, fmt: Format, seed: int = 0, **kwargs) -> tuple:
    """A standard workbook filled with :func:`filled_data` (the writer's own output, as a
    township would return it), and the data written into it."""
    from toolkit.workbook.writer import write_workbook

    data = filled_data(fmt, seed, **kwargs)
    path = tmp_path / f"{data.unit}_{fmt.id}.xlsx"
    write_workbook(path, fmt, unit=data.unit, year=data.year, data=data)
    return path, data
