"""A real spreadsheet application opens the standard workbook: LibreOffice (headless) loads a
filled workbook whose cached formula results were removed, recalculates and saves it. The totals
and the live 勾稽关系 checks it computes must be right, and validation, protection, merged
headers and what the workbook records about itself must survive."""

import random
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from soffice import SOFFICE_MARKS, soffice_convert
from toolkit.formats import load_format
from toolkit.grid import table_grid
from toolkit.model import ReportData
from toolkit.layout import cell_addresses, sheet_origin, workbook_plan
from toolkit.workbook.writer import (
    custom_property_name,
    defined_name_for_cell,
    defined_name_for_meta,
    live_checks,
    write_workbook,
)

pytestmark = SOFFICE_MARKS

UNIT = "=蓼堤镇人民政府"  # also checks that a leading "=" stays text through LibreOffice
YEARS = {"2021": 2025, "2019": 2020}


def random_values(fmt, seed):
    """Numbers of every kind; the 表三 balance holds in every other column and fails in the rest."""
    rnd = random.Random(seed)
    values = {}
    for cell in fmt.input_cells:
        kind = cell.kind
        if kind.decimals:
            values[cell.id] = Decimal(rnd.randint(0, 10**8)) / 10**kind.decimals
        elif kind.signed:
            values[cell.id] = Decimal(rnd.randint(-500, 500))
        else:
            values[cell.id] = Decimal(rnd.randint(0, 300))
    values[fmt.input_cells[3].id] = None  # an empty input counts as 0
    for i, col in enumerate(c.id for c in fmt.table("t3").leaf_columns if not fmt.cell(f"t3.new.{c.id}").is_total):
        if i % 2 == 0:
            results = sum(values[c.id] or 0 for c in fmt.table("t3").cells
                          if c.column.id == col and fmt.total_rule(f"t3.results_total.{col}")
                          and any(t.cell == c.id for t in fmt.total_rule(f"t3.results_total.{col}").right))
            values[f"t3.carried_in.{col}"] = Decimal(rnd.randint(0, 20))
            values[f"t3.new.{col}"] = results + values[f"t3.carried_over.{col}"] - values[f"t3.carried_in.{col}"]
    return values


def computed(fmt, values, cell_id):
    inst = fmt.total_rule(cell_id)
    if inst is None:
        return values.get(cell_id) or Decimal(0)
    return sum((t.sign * computed(fmt, values, t.cell) for t in inst.right), Decimal(0))


POISON = -7


def poison_cached_results(path):
    """Replace every formula's cached result by a wrong one (numbers by -7, texts by "?"), so
    only a recalculation can produce the right numbers."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = re.sub(r'(<c [^>]*t="str"[^>]*><f>[^<]*</f>)<v>[^<]*</v>', r"\1<v>?</v>", data.decode("utf-8"))
                text = re.sub(r'(<c (?:(?!t=")[^>])*><f>[^<]*</f>)<v>[^<]*</v>', rf"\1<v>{POISON}</v>", text)
                data = text.encode("utf-8")
            dst.writestr(item, data)
    tmp.replace(path)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    root = tmp_path_factory.mktemp("lo")
    cases = {}
    for seed, (fid, year) in enumerate(YEARS.items()):
        fmt = load_format(fid)
        values = random_values(fmt, seed)
        narrative = {p.id: f"=SUM(1)　{p.label}\n第二行" for p in fmt.parts}
        path = write_workbook(root / "in" / f"filled{fid}.xlsx", fmt, unit=UNIT, year=year,
                              data=ReportData(fid, values=values, narrative=narrative))
        poison_cached_results(path)
        cases[fid] = (fmt, values, narrative, path)
    paths = [case[3] for case in cases.values()]
    recalculated = soffice_convert(paths, root / "recalc", to="xlsx", recalc=True)
    not_recalculated = soffice_convert(paths, root / "norecalc", to="xlsx", recalc=False)
    return {fid: (*cases[fid], new, old) for fid, new, old in zip(cases, recalculated, not_recalculated)}


@pytest.fixture(params=list(YEARS))
def case(request, converted):
    return converted[request.param]


def test_control_without_recalculation_keeps_wrong_results(case):
    """Control: told never to recalculate, LibreOffice keeps the poisoned results. So the right
    numbers in the next test come from its own recalculation, not from the file."""
    fmt, values, _, original, _, plain = case
    addresses = cell_addresses(fmt)
    for path in (original, plain):
        wb = openpyxl.load_workbook(path, data_only=True)
        got = {wb[addresses[c.id].sheet][addresses[c.id].a1].value for c in fmt.total_cells}
        assert got == {POISON}


def test_recalculated_totals_equal_the_sums(case):
    fmt, values, _, _, recalc, _ = case
    wb = openpyxl.load_workbook(recalc, data_only=True)
    addresses = cell_addresses(fmt)
    nonzero = 0
    for cell in fmt.total_cells:
        addr = addresses[cell.id]
        got = wb[addr.sheet][addr.a1].value
        want = computed(fmt, values, cell.id)
        assert got is not None, cell.id
        assert abs(Decimal(str(got)) - want) < Decimal("1e-6"), (cell.id, got, want)
        nonzero += want != 0
    assert nonzero > len(fmt.total_cells) // 2
    for cell in fmt.input_cells:
        addr = addresses[cell.id]
        got = wb[addr.sheet][addr.a1].value
        if values[cell.id] is None:
            assert got is None
        else:
            assert Decimal(str(got)) == values[cell.id], cell.id


def test_live_checks_computed_by_libreoffice(case):
    fmt, values, _, original, recalc, _ = case
    formulas = openpyxl.load_workbook(original)
    wb = openpyxl.load_workbook(recalc, data_only=True)
    addresses = cell_addresses(fmt)
    by_cells = {}
    for inst in live_checks(fmt):
        cells = frozenset(addresses[t.cell].a1 for t in (*inst.left, *inst.right))
        by_cells[(addresses[inst.target.cell].sheet, cells)] = inst
    seen = {"√": 0, "other": 0}
    for sheet in {addresses[i.target.cell].sheet for i in live_checks(fmt)}:
        for row in formulas[sheet].iter_rows():
            for c in row:
                if not (isinstance(c.value, str) and c.value.startswith("=IFERROR(IF(")):
                    continue
                refs = frozenset(re.findall(r"[A-Z]+\d+", re.search(r"ROUND\((.*?),6\)", c.value).group(1)))
                inst = by_cells[(sheet, refs)]

                def side(terms):
                    return sum(t.sign * computed(fmt, values, t.cell) for t in terms)

                diff = side(inst.left) - side(inst.right)
                holds = diff == 0 if inst.rule.kind == "equal" else diff >= 0
                result = wb[sheet][c.coordinate].value
                assert result.startswith("√") == holds, (inst.rule.id, inst.bindings, result)
                seen["√" if holds else "other"] += 1
    assert seen["√"] and seen["other"], "the data should make some checks pass and some fail"


def test_validation_protection_and_merges_survive(case):
    fmt, _, _, _, recalc, _ = case
    wb = openpyxl.load_workbook(recalc)
    addresses = cell_addresses(fmt)
    top, left = sheet_origin()
    for table in fmt.tables:
        ws = wb[table.sheet]
        assert ws.protection.sheet
        covered = {}
        for dv in ws.data_validations.dataValidation:
            for rng in dv.sqref.ranges:
                min_col, min_row, max_col, max_row = rng.bounds
                for r in range(min_row, max_row + 1):
                    for col in range(min_col, max_col + 1):
                        covered[(r, col)] = dv
        for cell in table.cells:
            addr = addresses[cell.id]
            xl = ws.cell(addr.row, addr.col)
            if cell.is_total:
                assert xl.protection.locked and str(xl.value).startswith("=")
                continue
            assert not xl.protection.locked, cell.id
            dv = covered[(addr.row, addr.col)]
            assert dv.type == ("custom" if cell.kind.decimals else "whole"), cell.id
            assert dv.prompt and dv.error
        grid = table_grid(fmt, table.id)
        expected = {(top + g.row, left + g.col, top + g.row + g.rowspan - 1, left + g.col + g.colspan - 1)
                    for g in grid.cells if g.merged}
        found = {(b[1], b[0], b[3], b[2]) for b in (m.bounds for m in ws.merged_cells.ranges)
                 if top <= b[1] < top + grid.n_rows}
        assert found == expected, table.id
        for g in grid.cells:
            if g.text:
                assert ws.cell(top + g.row, left + g.col).value == g.text


def test_meta_survives(case):
    fmt, _, narrative, _, recalc, _ = case
    wb = openpyxl.load_workbook(recalc)
    plan = workbook_plan()
    meta_ws = wb[plan.meta_sheet]
    assert meta_ws.sheet_state == "hidden"
    meta = {r[0]: r[1] for r in meta_ws.iter_rows(min_col=1, max_col=2, values_only=True) if r[0]}
    assert meta["format"] == fmt.id and meta["unit"] == UNIT and int(meta["year"]) == YEARS[fmt.id]
    sheet, ref = next(wb.defined_names[defined_name_for_meta("format")].destinations)
    assert wb[sheet][ref.replace("$", "")].value == fmt.id
    addr = cell_addresses(fmt)["t3.new.natural"]
    sheet, ref = next(wb.defined_names[defined_name_for_cell("t3.new.natural")].destinations)
    assert (sheet, ref.replace("$", "")) == (addr.sheet, addr.a1)
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props[custom_property_name("format")] == fmt.id
    info = wb[plan.info_sheet]
    assert info["B2"].value == UNIT and info["B2"].data_type == "s"
    from toolkit.layout import narrative_rows

    for row, part_id, _ in narrative_rows(fmt):
        assert wb[plan.narrative_sheet].cell(row, 2).value == narrative[part_id]


def test_meta_survives_xls_and_ods(converted, tmp_path):
    """Townships also send .xls and .ods back: the meta sheet is still there for the reader."""
    fmt, _, _, original, _, _ = converted["2021"]
    for to in ("xls", "ods"):
        [out] = soffice_convert([original], tmp_path / to, to=to)
        wb = CalamineWorkbook.from_path(str(out))
        plan = workbook_plan()
        assert plan.meta_sheet in wb.sheet_names
        rows = wb.get_sheet_by_name(plan.meta_sheet).to_python()
        meta = {r[0]: r[1] for r in rows if r and r[0]}
        assert meta["format"] == fmt.id and meta["unit"] == UNIT
        assert int(float(meta["year"])) == YEARS["2021"]
