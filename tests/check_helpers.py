"""Test data for the checks: clean, fully consistent reports built from the format definition."""

from __future__ import annotations

import random
from decimal import Decimal

from toolkit.formats import Format
from toolkit.model import ReportData

TOWNSHIP = "蓼堤镇人民政府"


def with_totals(fmt: Format, values: dict[str, Decimal]) -> dict[str, Decimal]:
    """``values`` (input cells) plus every total, computed here from the declared sum rules."""
    out = dict(values)
    pending = {c.id for c in fmt.total_cells}
    while pending:
        for cell_id in sorted(pending):
            terms = fmt.total_rule(cell_id).right
            if all(t.cell not in pending for t in terms):
                out[cell_id] = sum((t.sign * out[t.cell] for t in terms), Decimal(0))
                pending.discard(cell_id)
    return out


def clean_values(fmt: Format, seed: int = 0, *, t3_zero: bool = False) -> dict[str, Decimal]:
    """Every cell of ``fmt`` filled with plausible numbers that satisfy every rule (no 规章)."""
    rng = random.Random(seed)
    values: dict[str, Decimal] = {}
    for cell in fmt.input_cells:
        if cell.kind.decimals:
            values[cell.id] = Decimal(rng.randint(0, 9_999_999)).scaleb(-cell.kind.decimals)
        elif cell.kind.signed:
            values[cell.id] = Decimal(rng.randint(-5, 5))
        else:
            values[cell.id] = Decimal(rng.randint(0, 9))
    for cell_id in values:
        if cell_id.startswith("t2.rules."):
            values[cell_id] = Decimal(0)
    for row in ("rules", "normative"):
        if f"t2.{row}.in_force" in fmt.cells:
            values[f"t2.{row}.in_force"] = values[f"t2.{row}.made"] + (0 if row == "rules" else rng.randint(0, 30))
        if f"t2.{row}.public_total" in fmt.cells:
            values[f"t2.{row}.public_total"] = values[f"t2.{row}.published"] + (0 if row == "rules" else rng.randint(0, 30))
    t3 = fmt.table("t3")
    result_rows = [t.cell.split(".")[1] for t in fmt.total_rule("t3.results_total.natural").right]
    for col in (c.id for c in t3.leaf_columns if c.id != "total"):
        if t3_zero:
            for row in t3.leaf_rows:
                values[f"t3.{row.id}.{col}"] = Decimal(0)
            continue
        handled = sum(values[f"t3.{r}.{col}"] for r in result_rows) + values[f"t3.carried_over.{col}"]
        values[f"t3.carried_in.{col}"] = Decimal(rng.randint(0, int(handled)))
        values[f"t3.new.{col}"] = handled - values[f"t3.carried_in.{col}"]
    return with_totals(fmt, values)


def clean_report(fmt: Format, seed: int = 0, *, unit: str = TOWNSHIP, year: int | None = None,
                 t3_zero: bool = False) -> ReportData:
    values = clean_values(fmt, seed, t3_zero=t3_zero)
    n = values["t3.new.total"]
    text = "本年未收到政府信息公开申请。" if n == 0 else f"本年共收到政府信息公开申请{n}件，均已按时答复。"
    return ReportData(format=fmt.id, unit=unit, year=year or (fmt.year_from + 1), values=values,
                      narrative={"overview.on_request": text})


def prior_report(fmt: Format, current: ReportData, seed: int = 1) -> ReportData:
    """Last year's report, consistent with ``current`` for every cross-year rule."""
    values = clean_values(fmt, seed)
    t3 = fmt.table("t3")
    for col in (c.id for c in t3.leaf_columns if c.id != "total"):
        values[f"t3.carried_over.{col}"] = current.values[f"t3.carried_in.{col}"]
    for row in ("rules", "normative"):
        if f"t2.{row}.in_force" in fmt.cells:
            v = current.values
            values[f"t2.{row}.in_force"] = v[f"t2.{row}.in_force"] - v[f"t2.{row}.made"] + v[f"t2.{row}.repealed"]
    return ReportData(format=fmt.id, unit=current.unit, year=current.year - 1,
                      values=with_totals(fmt, {c.id: values[c.id] for c in fmt.input_cells}))
