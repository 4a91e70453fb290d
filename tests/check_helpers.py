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
    return ReportData(format=fmt.id, unit=unit, year=year or (fmt.year_from + 1), values=values,
                      narrative=narrative_for(values))


def narrative_for(values: dict[str, Decimal]) -> dict[str, str]:
    """The 依申请公开 narrative a careful clerk writes for these numbers."""
    n = values["t3.new.total"]
    text = "本年未收到政府信息公开申请。" if n == 0 else f"本年共收到政府信息公开申请{n}件，均已按时答复。"
    return {"overview.on_request": text}


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


# ---------------------------------------------------------------- returned workbooks on disk

RETURN_YEAR = 2025


def write_returned(path, fmt: Format, data: ReportData):
    """``data`` written into the standard workbook, as a township would return it."""
    from toolkit.workbook.writer import write_workbook

    return write_workbook(path, fmt, unit=data.unit, year=data.year, data=data)


def type_over(path, sheet: str, ref: str, number) -> None:
    """Replace the formula of cell ``ref`` on ``sheet`` by a typed number, in the file's XML,
    as Excel saves a cell whose formula was overwritten (other cells and cached values kept)."""
    import re
    import zipfile

    from openpyxl.utils.cell import coordinate_from_string  # noqa: F401  (ref sanity)

    with zipfile.ZipFile(path) as zf:
        entries = {info.filename: zf.read(info.filename) for info in zf.infolist()}
    workbook = entries["xl/workbook.xml"].decode("utf-8")
    rels = entries["xl/_rels/workbook.xml.rels"].decode("utf-8")
    rid = re.search(rf'<sheet [^>]*name="{sheet}"[^>]*r:id="(rId\d+)"', workbook).group(1)
    target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels) or \
        re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels)
    name = "xl/" + target.group(1).lstrip("/").removeprefix("xl/")
    xml = entries[name].decode("utf-8")
    pattern = re.compile(rf'<c r="{ref}"([^>]*?)(?:\s+t="[^"]*")?>\s*<f>[^<]*</f>\s*(?:<v>[^<]*</v>)?\s*</c>')
    xml, n = pattern.subn(rf'<c r="{ref}"\1><v>{number}</v></c>', xml)
    assert n == 1, f"no formula at {sheet}!{ref}"
    entries[name] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for filename, content in entries.items():
            zf.writestr(filename, content)


def returned_folder(root) -> dict[str, "Path"]:
    """A folder of returned 2025 workbooks: clean, a broken balance, totals typed over (right
    and wrong), and a file that is not a workbook. Returns name -> path."""
    from pathlib import Path

    from toolkit.formats import load_format

    fmt = load_format("2021")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    files = {}
    clean = clean_report(fmt, 11, unit="蓼堤镇人民政府", year=RETURN_YEAR)
    files["clean"] = write_returned(root / "蓼堤镇人民政府.xlsx", fmt, clean)
    balance = clean_report(fmt, 12, unit="城关镇人民政府", year=RETURN_YEAR)
    balance.values["t3.new.natural"] += 1
    balance.values = with_totals(fmt, {c.id: balance.values[c.id] for c in fmt.input_cells})
    balance.narrative = narrative_for(balance.values)
    files["balance"] = write_returned(root / "城关镇人民政府.xlsx", fmt, balance)
    typed = clean_report(fmt, 13, unit="东湖街道办事处", year=RETURN_YEAR)
    files["typed"] = write_returned(root / "东湖街道办事处.xlsx", fmt, typed)
    type_over(files["typed"], "表三", "J6", typed.values["t3.new.total"] + 2)
    right = clean_report(fmt, 14, unit="西湖街道办事处", year=RETURN_YEAR)
    files["typed_right"] = write_returned(root / "sub" / "西湖街道办事处.xlsx", fmt, right)
    type_over(files["typed_right"], "表四", "E6", right.values["t4.review.total"])
    files["bad"] = root / "sub" / "说明.xlsx"
    files["bad"].write_text("这不是工作簿", encoding="utf-8")
    return files


# file -> the findings it must give, as (code, sheet, cell)
RETURNED_FINDINGS = {
    "clean": set(),
    "balance": {("rule-not-equal", "表三", "D6"), ("rule-not-equal", "表三", "J6")},
    "typed": {("total-typed-over-wrong", "表三", "J6")},
    "typed_right": {("total-typed-over", "表四", "E6")},
    "bad": {("not-a-workbook", None, None)},
}
