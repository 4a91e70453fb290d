"""Made-up reports that satisfy every rule of a format, for the demo, the samples, the
benchmark and the tests: never part of a real round."""

from __future__ import annotations

import random
import re
from decimal import Decimal

from toolkit.formats import Format, load_format
from toolkit.model import ReportData
from toolkit.round.history import cell_value

def synthetic_report(
    fmt: Format | str,
    unit: str,
    year: int,
    *,
    seed: int | str = 0,
    prior: ReportData | None = None,
) -> ReportData:
    """A made-up report that satisfies every rule of ``fmt``: 表三 balances in every column,
    totals are sums, a 乡/镇/街道 reports no 规章 (the format's ``unit_zero`` rules), and with
    ``prior`` the 上年结转 and 现行有效 figures follow on from last year. For demos and tests."""
    fmt = load_format(fmt) if isinstance(fmt, str) else fmt
    rng = random.Random(f"{seed}|{unit}|{year}")
    values: dict[str, Decimal | None] = {}
    prior_values = prior.values if prior is not None else {}
    for cell in fmt.input_cells:
        kind = cell.kind
        if cell.table.id == "t3":
            continue
        if kind.decimals:
            values[cell.id] = Decimal(rng.randint(0, 30000)).scaleb(-kind.decimals) if rng.random() < 0.3 else Decimal(0)
        elif kind.signed:
            values[cell.id] = Decimal(rng.randint(-2, 3))
        elif cell.table.id == "t4":
            values[cell.id] = Decimal(rng.choice((0, 0, 0, 0, 1)))
        else:
            values[cell.id] = Decimal(rng.choice((0, 0, 1, 2, rng.randint(0, 40))))
    _follow_on(fmt, values, prior_values, rng)
    _at_least(fmt, values)
    for rule in fmt.rules:
        if rule.kind == "unit_zero" and re.search(rule.params["units"], unit):
            for cell_id in rule.params["cells"]:
                values[cell_id] = Decimal(0)
    _table_three(fmt, values, prior_values, rng)
    for cell in fmt.total_cells:
        values[cell.id] = cell_value(fmt, values, cell.id)
    new_total = values.get("t3.new.total") or Decimal(0)
    narrative = {part.id: f"{unit}{year}年度{_topic(part.label)}（示例文字）。" for part in fmt.parts}
    if "overview.on_request" in narrative:
        narrative["overview.on_request"] = (f"{year}年共收到政府信息公开申请{new_total}件，均已按期答复。"
                                            if new_total else f"{year}年未收到政府信息公开申请。")
    info = {"unit": unit, "year": year, "filler": "示例填报人", "phone": "0370-0000000",
            "date": f"{year + 1}-01-10"}
    return ReportData(format=fmt.id, unit=unit, year=year, values=values, narrative=narrative, info=info)


def _topic(label: str) -> str:
    """A narrative part's label as the topic of a sentence: ``（三）政府信息管理`` -> 政府信息管理情况,
    ``信息处理费收取情况`` stays as it is."""
    topic = label.lstrip("（一二三四五六七八九十）")
    return topic if topic.endswith("情况") else f"{topic}情况"


def _follow_on(fmt: Format, values: dict, prior: dict, rng: random.Random) -> None:
    """Make the ``equal`` rules that refer to last year (outside 表三) hold, e.g. 现行有效件数 =
    last year's + 制发 − 废止: solve each for its first left cell."""
    for rule in fmt.rules:
        if rule.kind != "equal":
            continue
        for inst in rule.instances:
            if not inst.uses_prior or any(t.cell.startswith("t3.") for t in (*inst.left, *inst.right)):
                continue
            target = inst.left[0]
            if fmt.cell(target.cell).is_total:
                continue
            right = Decimal(0)
            for term in inst.right:
                source = prior if term.prior else values
                value = source.get(term.cell)
                if term.prior and value is None:
                    value = Decimal(rng.randint(5, 40))
                right += term.sign * (value or Decimal(0))
            if right < 0:  # more repealed than there ever were: repeal fewer
                for term in inst.right:
                    if term.sign < 0 and not term.prior:
                        values[term.cell] = max(Decimal(0), (values.get(term.cell) or Decimal(0)) + right)
                        right = Decimal(0)
            values[target.cell] = right


def _at_least(fmt: Format, values: dict) -> None:
    """Raise the first left cell of each ``at_least`` rule (outside 表三) to what it must reach."""
    for rule in fmt.rules:
        if rule.kind != "at_least":
            continue
        for inst in rule.instances:
            target = inst.left[0]
            if inst.uses_prior or target.cell.startswith("t3.") or fmt.cell(target.cell).is_total:
                continue
            need = sum((t.sign * (values.get(t.cell) or Decimal(0)) for t in inst.right), Decimal(0))
            have = sum((t.sign * (values.get(t.cell) or Decimal(0)) for t in inst.left), Decimal(0))
            if have < need:
                values[target.cell] = (values.get(target.cell) or Decimal(0)) + need - have


def _table_three(fmt: Format, values: dict, prior: dict, rng: random.Random) -> None:
    """表三: new and carried-in requests per applicant column, split over the result rows, the
    rest carried over; last year's carried-over becomes this year's carried-in."""
    table = fmt.table("t3")
    columns = [c.id for c in table.leaf_columns if not fmt.cell(f"t3.new.{c.id}").is_total]
    results_total = fmt.total_rule("t3.results_total." + columns[0])
    result_rows = [t.cell.split(".")[1] for t in results_total.right] if results_total else []
    weights = [8 if row in ("disclosed", "partial") else 1 for row in result_rows]
    for col in columns:
        scale = 30 if col == "natural" else (4 if col == "business" else 1)
        new = rng.randint(0, scale) if rng.random() < (0.9 if col == "natural" else 0.3) else 0
        carried_in = prior.get(f"t3.carried_over.{col}")
        if carried_in is None:
            carried_in = Decimal(rng.randint(0, 2) if col == "natural" else 0)
        available = new + int(carried_in)
        carried_over = rng.randint(0, min(2, available))
        counts = dict.fromkeys(result_rows, 0)
        for _ in range(available - carried_over):
            counts[rng.choices(result_rows, weights)[0]] += 1
        values[f"t3.new.{col}"] = Decimal(new)
        values[f"t3.carried_in.{col}"] = Decimal(carried_in)
        values[f"t3.carried_over.{col}"] = Decimal(carried_over)
        for row, n in counts.items():
            values[f"t3.{row}.{col}"] = Decimal(n)
    for cell in fmt.input_cells:
        if cell.table.id == "t3":
            values.setdefault(cell.id, Decimal(0))
