"""The blank standard workbook: official labels and merged headers, formulas, validation,
protection, meta data, text that stays text; and a whole roster in one command."""

import datetime as dt
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils import range_boundaries
from typer.testing import CliRunner

from toolkit.blank import blank_file_name, make_blanks
from toolkit.cli import app
from toolkit.formats import load_format
from toolkit.grid import CAPTION, COLUMN, CORNER, ROW, VALUE, table_grid
from toolkit.model import ReportData
from toolkit.layout import cell_addresses, info_rows, narrative_rows, sheet_origin, workbook_plan
from toolkit.workbook.writer import (
    custom_property_name,
    defined_name_for_cell,
    defined_name_for_meta,
    live_checks,
    workbook_bytes,
    write_workbook,
)

UNIT = "蓼堤镇人民政府"


@pytest.fixture
def blank(fmt, tmp_path):
    year = fmt.year_from
    path = write_workbook(tmp_path / "blank.xlsx", fmt, unit=UNIT, year=year,
                          contact={"office": "县政务公开办", "phone": "0370-8112345"}, deadline=dt.date(year + 1, 1, 15))
    return path, openpyxl.load_workbook(path)


def expand(ref: str) -> list[tuple[int, int]]:
    """"D8:D28" -> [(8, 4), ... (28, 4)] as (row, col)."""
    min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
    return [(r, c) for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)]


def referenced(formula: str) -> set[tuple[int, int]]:
    refs = re.findall(r"\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?", formula)
    return {rc for ref in refs for rc in expand(ref)}


def test_sheets_in_order(fmt, blank):
    _, wb = blank
    plan = workbook_plan()
    assert wb.sheetnames == [plan.guide_sheet, plan.info_sheet, *[t.sheet for t in fmt.tables],
                             plan.narrative_sheet, plan.meta_sheet]
    assert wb[plan.meta_sheet].sheet_state == "hidden"
    assert all(wb[name].sheet_state == "visible" for name in wb.sheetnames[:-1])
    assert all(wb[name].protection.sheet for name in wb.sheetnames)
    assert all(not wb[name].protection.password for name in wb.sheetnames)


def test_official_labels_in_order(fmt, blank):
    """Every caption, corner, row and column label at its grid position, and in the format's order."""
    _, wb = blank
    top, left = sheet_origin()
    for table in fmt.tables:
        ws = wb[table.sheet]
        grid = table_grid(fmt, table.id)
        for gc in grid.cells:
            if gc.role in (CAPTION, CORNER, COLUMN, ROW) and gc.text:
                assert ws.cell(top + gc.row, left + gc.col).value == gc.text, (table.id, gc)
        for block in table.blocks:
            here = [gc for gc in grid.cells if gc.block == block.id]
            rows = sorted((gc for gc in here if gc.role == ROW), key=lambda gc: (gc.row, gc.col))
            cols = sorted((gc for gc in here if gc.role == COLUMN), key=lambda gc: (gc.col, gc.row))
            read_rows = [ws.cell(top + gc.row, left + gc.col).value for gc in rows]
            read_cols = [ws.cell(top + gc.row, left + gc.col).value for gc in cols]
            assert read_rows == [n.label for r in block.rows for n in r.walk() if n.label]
            assert read_cols == [n.label for c in block.columns for n in c.walk() if n.label]
            if block.caption:
                assert block.caption in [ws.cell(top + gc.row, left + gc.col).value for gc in here if gc.role == CAPTION]
        assert table.number in ws.cell(1, 1).value


def test_merged_headers_equal_grid(fmt, blank):
    _, wb = blank
    top, left = sheet_origin()
    for table in fmt.tables:
        ws = wb[table.sheet]
        grid = table_grid(fmt, table.id)
        expected = {(top + gc.row, left + gc.col, top + gc.row + gc.rowspan - 1, left + gc.col + gc.colspan - 1)
                    for gc in grid.cells if gc.merged}
        found = set()
        for rng in ws.merged_cells.ranges:
            min_col, min_row, max_col, max_row = rng.bounds
            if top <= min_row < top + grid.n_rows:
                found.add((min_row, min_col, max_row, max_col))
        assert found == expected, table.id
        assert expected, "every official table has merged header cells"


def test_every_total_is_a_locked_formula_of_its_rule(fmt, blank):
    _, wb = blank
    addresses = cell_addresses(fmt)
    assert fmt.total_cells
    for cell in fmt.total_cells:
        addr = addresses[cell.id]
        xl = wb[addr.sheet].cell(addr.row, addr.col)
        assert isinstance(xl.value, str) and xl.value.startswith("="), cell.id
        assert xl.protection.locked
        inst = fmt.total_rule(cell.id)
        terms = {(addresses[t.cell].row, addresses[t.cell].col) for t in inst.right}
        assert all(addresses[t.cell].sheet == addr.sheet for t in inst.right)
        assert referenced(xl.value) == terms, (cell.id, xl.value)


def test_every_input_cell_is_unlocked_and_validated(fmt, blank):
    _, wb = blank
    addresses = cell_addresses(fmt)
    by_sheet = {}
    for table in fmt.tables:
        by_sheet[table.sheet] = {}
        for dv in wb[table.sheet].data_validations.dataValidation:
            for rng in dv.sqref.ranges:
                for rc in expand(rng.coord):
                    assert rc not in by_sheet[table.sheet], "one validation per cell"
                    by_sheet[table.sheet][rc] = dv
    for cell in fmt.input_cells:
        addr = addresses[cell.id]
        xl = wb[addr.sheet].cell(addr.row, addr.col)
        assert not xl.protection.locked, cell.id
        assert xl.value is None
        dv = by_sheet[addr.sheet][(addr.row, addr.col)]
        assert dv.showInputMessage and dv.prompt and cell.kind.unit in dv.prompt
        assert dv.showErrorMessage and dv.error
        if cell.kind.decimals == 0 and cell.kind.min is not None:
            assert (dv.type, dv.operator, dv.formula1) == ("whole", "greaterThanOrEqual", str(int(cell.kind.min)))
        elif cell.kind.decimals == 0:
            assert dv.type == "whole" and dv.operator in (None, "between") and int(dv.formula1) < 0 < int(dv.formula2)
        else:
            assert dv.type == "custom"
            assert f"ROUND({addr.a1},{cell.kind.decimals})" in dv.formula1 and f"{addr.a1}>=0" in dv.formula1
    for cell in fmt.total_cells:
        addr = addresses[cell.id]
        assert (addr.row, addr.col) not in by_sheet[addr.sheet]


def test_signed_and_money_kinds_exist_where_the_format_says():
    old, new = load_format("2019"), load_format("2021")
    assert old.cell("t2.licensing.change").kind.signed
    assert new.cell("t2.fees.amount").kind.decimals == 4
    # the kinds the validation test above distinguishes are really present
    assert {(c.kind.decimals > 0, c.kind.signed) for c in old.input_cells} == {(False, False), (False, True), (True, False)}


def test_live_checks_cover_the_equal_rules(fmt, blank):
    """The 勾稽关系 without prior values are checked in the sheet: a check cell and a
    conditional format on every cell of each rule instance."""
    _, wb = blank
    addresses = cell_addresses(fmt)
    instances = live_checks(fmt)
    assert any(inst.rule.id == "t3-balance" for inst in instances)
    assert all(not inst.uses_prior for inst in instances)
    for inst in instances:
        sheet = addresses[inst.target.cell].sheet
        ws = wb[sheet]
        formatted = set()
        for cf in ws.conditional_formatting:
            for rng in cf.sqref.ranges:
                formatted.update(expand(rng.coord))
        for term in (*inst.left, *inst.right):
            a = addresses[term.cell]
            assert (a.row, a.col) in formatted, (inst.rule.id, term.cell)
    for table in fmt.tables:
        ws = wb[table.sheet]
        n = sum(1 for inst in instances if addresses[inst.target.cell].sheet == table.sheet)
        checks = [c for row in ws.iter_rows() for c in row
                  if isinstance(c.value, str) and c.value.startswith("=IFERROR(IF(")]
        assert len(checks) == n


def test_balanced_and_unbalanced_check_cells(tmp_path):
    """Cached check results follow the numbers (LibreOffice recomputes them: test_libreoffice)."""
    fmt = load_format("2021")
    values = {c.id: Decimal(0) for c in fmt.input_cells}
    values["t3.new.natural"] = Decimal(3)
    values["t3.disclosed.natural"] = Decimal(3)
    values["t3.new.business"] = Decimal(2)  # 商业企业: 2 new, nothing handled, nothing carried over
    path = write_workbook(tmp_path / "x.xlsx", fmt, unit=UNIT, year=2025, data=ReportData("2021", values=values))
    wb = openpyxl.load_workbook(path, data_only=True)
    ws = wb["表三"]
    addresses = cell_addresses(fmt)
    row = max(a.row for a in addresses.values() if a.sheet == "表三") + 3
    natural = ws.cell(row, addresses["t3.new.natural"].col).value
    business = ws.cell(row, addresses["t3.new.business"].col).value
    assert natural.startswith("√") and business.startswith("×")


def test_meta_sheet_defined_names_and_properties(fmt, blank):
    _, wb = blank
    plan = workbook_plan()
    meta = {row[0]: row[1] for row in wb[plan.meta_sheet].iter_rows(min_col=1, max_col=2, values_only=True) if row[0]}
    assert meta["format"] == fmt.id and meta["unit"] == UNIT and int(meta["year"]) == fmt.year_from
    assert meta["toolkit_version"]
    assert meta["deadline"] == f"{fmt.year_from + 1}-01-15"
    assert set(plan.meta_keys) <= set(meta)
    name = wb.defined_names[defined_name_for_meta("format")]
    sheet, ref = next(name.destinations)
    assert sheet == plan.meta_sheet and wb[sheet][ref.replace("$", "")].value == fmt.id
    addresses = cell_addresses(fmt)
    for cell_id, addr in addresses.items():
        sheet, ref = next(wb.defined_names[defined_name_for_cell(cell_id)].destinations)
        assert (sheet, ref.replace("$", "")) == (addr.sheet, addr.a1)
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props[custom_property_name("format")] == fmt.id
    assert props[custom_property_name("unit")] == UNIT
    assert props[custom_property_name("year")] == str(fmt.year_from)


def test_defined_names_are_distinct(fmt):
    names = [defined_name_for_cell(c) for c in fmt.cells]
    assert len({n.upper() for n in names}) == len(names)


def test_guide_has_every_rule_deadline_and_contact(fmt, blank):
    _, wb = blank
    text = "\n".join(str(v) for row in wb[workbook_plan().guide_sheet].iter_rows(values_only=True) for v in row if v)
    for rule in fmt.rules:
        assert rule.wording in text
    assert f"{fmt.year_from + 1}年1月15日" in text
    assert "县政务公开办" in text and "0370-8112345" in text
    assert UNIT in text


def test_info_and_narrative_sheets(fmt, blank):
    _, wb = blank
    plan = workbook_plan()
    info = wb[plan.info_sheet]
    for row, field_id, label in info_rows():
        assert info.cell(row, 1).value == label
    assert info.cell(2, 2).value == UNIT and info.cell(2, 2).protection.locked
    assert not info.cell(4, 2).protection.locked  # 填报人
    narrative = wb[plan.narrative_sheet]
    rows = narrative_rows(fmt)
    assert [p.id for p in fmt.parts] == [part for _, part, _ in rows]
    for row, _, label in rows:
        assert narrative.cell(row, 1).value == label
        assert not narrative.cell(row, 2).protection.locked


def test_print_setup(fmt, blank):
    _, wb = blank
    for table in fmt.tables:
        ws = wb[table.sheet]
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)  # 1 is the default
        assert ws.freeze_panes is not None
        assert ws.print_title_rows


HOSTILE_TEXT = ["=1+2", "=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "0370-8480007"]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_text_stays_text(tmp_path, text):
    fmt = load_format("2021")
    data = ReportData("2021", narrative={"overview.proactive": text}, info={"filler": text, "phone": text})
    path = write_workbook(tmp_path / "t.xlsx", fmt, unit=text, year=2025, data=data)
    wb = openpyxl.load_workbook(path)
    plan = workbook_plan()
    info = wb[plan.info_sheet]
    for row in (2, 4, 5):
        assert info.cell(row, 2).value == text and info.cell(row, 2).data_type == "s"
    narrative = wb[plan.narrative_sheet]
    assert narrative.cell(narrative_rows(fmt)[0][0], 2).value == text
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = z.read(name).decode()
                assert "<f>" + text.lstrip("=") not in xml and "<f>1+2" not in xml


def test_workbook_bytes_is_the_same_workbook(tmp_path):
    fmt = load_format("2021")
    content = workbook_bytes(fmt, unit=UNIT, year=2025)
    assert content[:2] == b"PK"
    path = tmp_path / "b.xlsx"
    path.write_bytes(content)
    wb = openpyxl.load_workbook(path)
    assert wb[workbook_plan().info_sheet].cell(2, 2).value == UNIT
    assert wb["表三"].protection.sheet


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "out" / "a.xlsx"
    write_workbook(target, "2021", unit=UNIT, year=2025)
    write_workbook(target, "2021", unit=UNIT, year=2025)
    assert [p.name for p in target.parent.iterdir()] == ["a.xlsx"]


# -------------------------------------------------------------------------- filled data round trip


def _value(kind):
    if kind.decimals:
        scale = 10 ** kind.decimals
        low = 0 if kind.min is not None else -10**7
        return st.integers(low, 10**8).map(lambda n: Decimal(n) / scale)
    low = int(kind.min) if kind.min is not None else -10**6
    return st.integers(low, 10**9).map(Decimal)


TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t"), max_size=200)


@st.composite
def filled(draw):
    fmt = load_format(draw(st.sampled_from(["2021", "2019"])))
    values = {c.id: draw(st.none() | _value(c.kind)) for c in fmt.input_cells}
    narrative = {p.id: draw(TEXT) for p in fmt.parts}
    info = {"filler": draw(TEXT), "phone": draw(TEXT)}
    return fmt, ReportData(fmt.id, values=values, narrative=narrative, info=info)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=filled())
def test_filled_round_trip(tmp_path, case):
    fmt, data = case
    path = write_workbook(tmp_path / "f.xlsx", fmt, unit=UNIT, year=fmt.year_from, data=data)
    wb = openpyxl.load_workbook(path, data_only=True)
    addresses = cell_addresses(fmt)
    for cell in fmt.input_cells:
        addr = addresses[cell.id]
        got = wb[addr.sheet].cell(addr.row, addr.col).value
        want = data.values[cell.id]
        if want is None:
            assert got is None, cell.id
        else:
            assert Decimal(str(got)) == want, cell.id

    def computed(cell_id):
        inst = fmt.total_rule(cell_id)
        if inst is None:
            return data.values[cell_id] or Decimal(0)
        return sum(t.sign * computed(t.cell) for t in inst.right)

    for cell in fmt.total_cells:
        addr = addresses[cell.id]
        assert Decimal(str(wb[addr.sheet].cell(addr.row, addr.col).value)) == computed(cell.id)
    plan = workbook_plan()
    for row, part_id, _ in narrative_rows(fmt):
        assert (wb[plan.narrative_sheet].cell(row, 2).value or "") == data.narrative[part_id]
    for row, field_id, _ in info_rows():
        if field_id in data.info:
            assert (wb[plan.info_sheet].cell(row, 2).value or "") == data.info[field_id]


# -------------------------------------------------------------------------- a whole county


HOSTILE_UNITS = [
    "../x", "a/b", "a\\b", "nul\x00byte镇", "镇" * 300, "ＡＢ镇人民政府", "AB镇人民政府", "=1+1",
    "..", ".hidden镇", "CON", "x" * 250 + "/../../etc/passwd", "  空格镇  ", "a:b*c?镇", "<script>镇",
]


def test_thirty_hostile_units_in_one_command(tmp_path):
    units = HOSTILE_UNITS + [f"第{i}乡人民政府" for i in range(1, 31 - len(HOSTILE_UNITS))]
    assert len(units) == 30 and len(set(units)) == 30
    roster = tmp_path / "roster.csv"
    lines = ["单位名称,联系人,联系电话,邮箱"] + [
        '"{}",张三,0370-1234567,a{}@example.cn'.format(u.replace('"', '""'), i) for i, u in enumerate(units)]
    roster.write_text("\n".join(lines), encoding="utf-8")
    out = tmp_path / "outbox"
    result = CliRunner().invoke(app, ["blank", "--roster", str(roster), "--year", "2025", "--out-dir", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(out.iterdir())
    assert len(files) == 30
    assert all(f.parent.resolve() == out.resolve() and f.suffix == ".xlsx" for f in files)
    assert len({f.name.casefold() for f in files}) == 30
    assert all(len(f.name.encode()) <= 255 for f in files)
    assert not list(tmp_path.glob("x*")) and not (tmp_path / "etc").exists()
    recorded = set()
    for f in files:
        wb = openpyxl.load_workbook(f, read_only=True)
        recorded.add(wb[workbook_plan().info_sheet].cell(2, 2).value)
        wb.close()
    expected = {u.replace("\x00", "").strip() for u in units}
    assert recorded == expected


def test_roster_batch_prefills_contact_and_reports_bad_rows(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("单位名称,联系人,联系电话\n城关镇人民政府,王建国,0370-8121035\n,李四,123\n城关镇人民政府,重复,1\n",
                      encoding="utf-8")
    calls = []
    batch = make_blanks(roster, 2025, tmp_path / "out", progress=lambda done, total, unit: calls.append((done, total)))
    assert [e.unit for e, _ in batch.written] == ["城关镇人民政府"]
    assert sorted(f.code for f in batch.findings) == ["roster-duplicate-unit", "roster-empty-unit"]
    assert not batch.ok
    assert calls[0] == (0, 1) and calls[-1] == (1, 1)
    path = batch.written[0][1]
    assert path.name == blank_file_name("城关镇人民政府", 2025)
    info = openpyxl.load_workbook(path)[workbook_plan().info_sheet]
    assert info.cell(4, 2).value == "王建国" and info.cell(5, 2).value == "0370-8121035"


def test_cli_single_unit_and_usage_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["blank", "--unit", UNIT, "--year", "2020", "--deadline", "2021年1月15日"])
    assert result.exit_code == 0, result.output
    path = tmp_path / blank_file_name(UNIT, 2020)
    wb = openpyxl.load_workbook(path)
    assert "第二十条第（九）项" in [c.value for row in wb["表二"].iter_rows() for c in row]  # 2019 format
    result = runner.invoke(app, ["blank", "--unit", UNIT, "--year", "2025", "--format", "2019", "-o", "x.xlsx"])
    assert result.exit_code == 0 and (tmp_path / "x.xlsx").is_file()
    assert openpyxl.load_workbook(tmp_path / "x.xlsx")["_nianbao"]["B1"].value == "2019"
    for args in (["--unit", UNIT], ["--year", "2025"], ["--unit", UNIT, "--roster", "r.csv", "--year", "2025"],
                 ["--unit", UNIT, "--year", "2018"], ["--unit", UNIT, "--year", "2025", "--deadline", "明天"],
                 ["--roster", "missing.csv", "--year", "2025", "--out-dir", "o"],
                 ["--unit", UNIT, "--year", "2025", "--format", "1999"]):
        result = runner.invoke(app, ["blank", *args])
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output


def test_cli_roster_with_only_bad_rows_exits_1(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("名称不对,联系人\n甲,乙\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["blank", "--roster", str(roster), "--year", "2025", "--out-dir", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "单位名称" in result.output
