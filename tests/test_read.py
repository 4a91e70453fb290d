"""Reading returned workbooks: the standard workbook, re-saved copies, changed layouts, the
clerk's own sheets, typed values, and files that cannot be read at all."""

import hashlib
import io
import os
import shutil
import struct
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from check_helpers import TOWNSHIP, clean_report
from soffice import SOFFICE, soffice_convert
from toolkit.formats import load_format
from toolkit.grid import VALUE, table_grid
from toolkit.layout import cell_addresses, workbook_plan
from toolkit.model import ERROR, WARNING, ReadResult, ReportData
from toolkit.readers import READERS, read_report, register_reader
from toolkit.workbook.locate import cell_labels
from toolkit.workbook.source import Limits, SourceError, open_source, shift_formula
from toolkit.workbook.writer import total_formula, write_workbook

YEAR_OF = {"2021": 2022, "2019": 2020}


# ---------------------------------------------------------------- helpers


def filled(directory: Path, fmt, name: str | None = None, seed: int = 3, year: int | None = None) -> tuple[Path, ReportData]:
    report = clean_report(fmt, seed, year=year or YEAR_OF[fmt.id])
    report.narrative["problems.text"] = "一是公开内容不够全面。"
    report.info = {"filler": "张三", "phone": "0370-8480007"}
    path = directory / (name or f"filled_{fmt.id}_{seed}.xlsx")
    write_workbook(path, fmt, unit=report.unit, year=report.year, data=report)
    return path, report


def edit(src: Path, dst: Path, change) -> Path:
    """A copy of ``src`` changed with openpyxl (which drops cached formula results)."""
    wb = openpyxl.load_workbook(src)
    change(wb)
    wb.save(dst)
    return dst


def strip_meta(wb) -> None:
    """What a re-save by another program may leave: no meta sheet, names or custom properties."""
    from openpyxl.packaging.custom import CustomPropertyList

    del wb[workbook_plan().meta_sheet]
    for name in list(wb.defined_names):
        del wb.defined_names[name]
    wb.custom_doc_props = CustomPropertyList()


def number(value: Decimal):
    return int(value) if value == value.to_integral_value() else float(value)


def own_workbook(path: Path, fmt, values: dict, *, unit: str = TOWNSHIP, year: int = 2022, top: int = 5,
                 left: int = 2) -> Path:
    """The clerk's own workbook: every table on one sheet at an odd offset, no meta, no 基本信息."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "年报数据"
    ws.cell(1, 1, f"{unit}{year}年政府信息公开工作年度报告")
    ws.cell(2, 1, f"填报单位：{unit}")
    r = top
    for table in fmt.tables:
        grid = table_grid(fmt, table.id)
        ws.cell(r, left, table.caption)
        r += 1
        for gc in grid.cells:
            rr, cc = r + gc.row, left + gc.col
            if gc.role == VALUE:
                if values.get(gc.cell_id) is not None:
                    ws.cell(rr, cc, number(values[gc.cell_id]))
            elif gc.text:
                ws.cell(rr, cc, gc.text)
            if gc.merged:
                ws.merge_cells(start_row=rr, start_column=cc, end_row=rr + gc.rowspan - 1,
                               end_column=cc + gc.colspan - 1)
        r += grid.n_rows + 3
    wb.save(path)
    return path


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE compound file (version 3) holding ``streams`` (each padded to 4096 bytes)."""
    sector, end, free, fat_mark = 512, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    datas = [(name, data.ljust(4096, b"\0")) for name, data in streams.items()]
    n_data = sum(len(d) // sector for _, d in datas)
    fat = [fat_mark, end]
    starts = []
    for _, data in datas:
        first = len(fat)
        starts.append(first)
        n = len(data) // sector
        fat += [first + i + 1 for i in range(n - 1)] + [end]
    fat += [free] * (sector // 4 - len(fat))
    assert len(fat) == sector // 4 and n_data + 2 <= sector // 4

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", free, right, child) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
                + struct.pack("<IQ", start, size))

    entries = [entry("Root Entry", 5, 1, free, end, 0)]
    for i, ((name, data), start) in enumerate(zip(datas, starts), 1):
        entries.append(entry(name, 2, free, i + 1 if i < len(datas) else free, start, len(data)))
    directory = b"".join(entries).ljust(sector, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", 0, *([free] * 108)))
    assert len(header) == 512
    return header + struct.pack(f"<{sector // 4}I", *fat) + directory + b"".join(d for _, d in datas)


def rezip(src: Path, dst: Path, change: dict, drop: tuple = (), add: dict | None = None) -> Path:
    """A copy of a zip container with some entries replaced (``name -> bytes or fn(bytes)``)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info.filename)
            if info.filename in change:
                new = change[info.filename]
                data = new(data) if callable(new) else new
            zout.writestr(info, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def sheet_part(path: Path, sheet: str) -> str:
    source = open_source(path)
    try:
        return source._parts.sheet_parts[sheet]
    finally:
        source.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def codes(result: ReadResult) -> list[str]:
    return [f.code for f in result.findings]


def only(result: ReadResult, code: str):
    hits = [f for f in result.findings if f.code == code]
    assert len(hits) == 1, (code, [(f.code, f.message) for f in result.findings])
    return hits[0]


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """Filled standard workbooks of both formats: path and the ReportData they were made from."""
    directory = tmp_path_factory.mktemp("books")
    return {fid: filled(directory, load_format(fid)) for fid in ("2021", "2019")}


# ---------------------------------------------------------------- the standard workbook


def test_writer_workbook_reads_back_exactly(fmt, books):
    path, report = books[fmt.id]
    result = read_report(path)
    assert result.findings == []
    assert result.layout == "positions" and result.source_kind == "xlsx" and result.engine == "calamine"
    data = result.data
    assert (data.format, data.unit, data.year) == (fmt.id, TOWNSHIP, YEAR_OF[fmt.id])
    assert set(data.values) == set(fmt.cells)
    assert data.values == report.values
    assert data.narrative["overview.on_request"] == report.narrative["overview.on_request"]
    assert data.narrative["problems.text"] == "一是公开内容不够全面。"
    assert data.info["filler"] == "张三" and data.info["unit"] == TOWNSHIP and data.info["year"] == str(data.year)
    addresses = cell_addresses(fmt)
    for cell_id, addr in addresses.items():
        assert (data.cells[cell_id].sheet, data.cells[cell_id].cell) == (addr.sheet, addr.a1)
    assert data.formulas == {c.id: total_formula(fmt, c.id)[1:] for c in fmt.total_cells}
    assert result.meta["format"] == fmt.id and result.meta["year"] == str(YEAR_OF[fmt.id])
    assert data.source == str(path)


def test_engines_agree(fmt, books):
    path, report = books[fmt.id]
    fast, fallback = read_report(path, engine="calamine"), read_report(path, engine="openpyxl")
    assert fallback.engine == "openpyxl"
    assert fallback.data.values == fast.data.values == report.values
    assert fallback.data.formulas == fast.data.formulas
    assert fallback.data.narrative == fast.data.narrative and fallback.data.info == fast.data.info
    assert fallback.findings == fast.findings == []
    assert fallback.meta == fast.meta


def test_source_interface(books):
    path, _ = books["2021"]
    with open_source(path) as source:
        assert source.kind == "xlsx" and source.formulas_known
        assert source.sheet_names[:2] == ["填报说明", "基本信息"]
        assert workbook_plan().meta_sheet in source.hidden_sheets()
        cells = source.cells("表三")
        assert cells[(6, 1)] == "一、本年新收政府信息公开申请数量"
        assert all(v is not None and v != "" for v in cells.values())
        assert (3, 1, 5, 3) in source.merged("表三")  # the corner of 表三: 3 rows x 3 columns
        assert source.formulas("表三")[(6, 10)] == "SUM(D6:I6)"
        assert source.meta["unit"] == TOWNSHIP and source.meta["format"] == "2021"
        with pytest.raises(KeyError):
            source.cells("no such sheet")


# ---------------------------------------------------------------- typed values in the workbook


TYPED = {  # cell id -> (what is typed, finding code, value read)
    "t3.new.natural": (" 12", "value-as-text", "12"),
    "t3.new.business": ("１２", "value-full-width", "12"),
    "t3.new.research": ("12件", "value-with-unit", "12"),
    "t3.new.nonprofit": ("/", "value-not-applicable", "0"),
    "t3.new.legal": ("—", "value-not-applicable", "0"),
    "t3.new.other": ("无", "value-not-applicable", "0"),
    "t3.carried_in.natural": ("增", "value-change-text", None),
    "t3.carried_in.business": ("减4", "value-change-text", None),
    "t3.carried_in.research": ("待统计", "value-not-a-number", None),
    "t3.carried_in.nonprofit": (-2, "value-negative", "-2"),
    "t3.carried_in.legal": (1.5, "value-fraction", "1.5"),
    "t3.carried_in.other": (None, "value-blank", "0"),
    "t2.fees.amount": (3.14159, "value-too-precise", "3.14159"),
    "t4.review.upheld": ("3.5万元", "value-wrong-unit", None),
    "t4.suit_direct.upheld": ("#DIV/0!", "value-formula-error", None),
}


def test_each_typed_value_is_one_finding_at_its_cell(tmp_path, books):
    fmt = load_format("2021")
    src, report = books["2021"]
    addresses = cell_addresses(fmt)

    def change(wb):
        for cell_id, (typed, _, _) in TYPED.items():
            addr = addresses[cell_id]
            wb[addr.sheet].cell(addr.row, addr.col).value = typed
        addr = addresses["t2.licensing.decisions"]
        wb[addr.sheet].cell(addr.row, addr.col).value = 12.000000000000002  # float noise

    result = read_report(edit(src, tmp_path / "typed.xlsx", change))
    by_cell = {(f.sheet, f.cell): f for f in result.findings}
    assert len(result.findings) == len(TYPED)
    for cell_id, (typed, code, value) in TYPED.items():
        addr = addresses[cell_id]
        finding = by_cell[(addr.sheet, addr.a1)]
        assert finding.code == code, cell_id
        assert result.data.values[cell_id] == (None if value is None else Decimal(value))
        row, column = cell_labels(fmt, cell_id)
        assert finding.column == column and finding.row == (row or None)
        assert addr.a1 in finding.message and addr.sheet in finding.message
        if typed is not None:
            assert str(typed) in finding.message or finding.actual in finding.message
        assert finding.severity == (WARNING if code in {"value-as-text", "value-full-width", "value-with-unit",
                                                        "value-not-applicable", "value-blank",
                                                        "value-too-precise"} else ERROR)
    assert result.data.values["t2.licensing.decisions"] == Decimal(12)
    assert result.data.values["t3.disclosed.natural"] == report.values["t3.disclosed.natural"]


def test_signed_change_and_money_noise_in_the_2019_format(tmp_path, books):
    fmt = load_format("2019")
    src, _ = books["2019"]
    addr = cell_addresses(fmt)["t2.licensing.change"]
    money = cell_addresses(fmt)["t2.procurement.amount"]

    def change(wb):
        wb[addr.sheet].cell(addr.row, addr.col).value = "减4"
        wb[money.sheet].cell(money.row, money.col).value = 2460.9543000000001

    result = read_report(edit(src, tmp_path / "change.xlsx", change))
    finding = only(result, "value-change-read")
    assert (finding.sheet, finding.cell, finding.severity) == (addr.sheet, addr.a1, WARNING)
    assert result.data.values["t2.licensing.change"] == Decimal(-4)
    assert result.data.values["t2.procurement.amount"] == Decimal("2460.9543")
    assert len(result.findings) == 1


def test_total_typed_over_has_no_formula(tmp_path, books):
    fmt = load_format("2021")
    src, _ = books["2021"]
    addr = cell_addresses(fmt)["t3.new.total"]
    result = read_report(edit(src, tmp_path / "typed_over.xlsx",
                              lambda wb: setattr(wb[addr.sheet].cell(addr.row, addr.col), "value", 999)))
    assert result.data.values["t3.new.total"] == Decimal(999)
    assert "t3.new.total" not in result.data.formulas
    assert result.data.formulas["t3.carried_in.total"] == total_formula(fmt, "t3.carried_in.total")[1:]
    assert result.findings == []  # totals without cached results (openpyxl) read as None, silently
    assert result.data.values["t3.carried_in.total"] is None


# ---------------------------------------------------------------- changed layouts


def test_inserted_row_is_reported_not_misread(tmp_path, books):
    src, report = books["2021"]

    def change(wb):
        ws = wb["表三"]
        ws.insert_rows(9)
        ws.cell(9, 2, "（一）之二 其他方式公开")
        for c in range(4, 10):
            ws.cell(9, c, 1)

    result = read_report(edit(src, tmp_path / "inserted.xlsx", change))
    assert result.layout == "labels"
    finding = only(result, "table-row-extra")
    assert (finding.sheet, finding.cell, finding.severity) == ("表三", "B9", ERROR)
    assert "（一）之二" in finding.message
    inputs = {c.id for c in load_format("2021").input_cells}
    assert {k: v for k, v in result.data.values.items() if k in inputs} == \
        {k: v for k, v in report.values.items() if k in inputs}
    assert result.data.cells["t3.partial.natural"].cell == "D10"


def test_repeated_row_label_is_not_read_twice(tmp_path, books):
    src, report = books["2021"]

    def change(wb):
        ws = wb["表三"]
        ws.insert_rows(9)
        ws.cell(9, 2, "（一）予以公开")
        ws.cell(9, 4, 7)

    result = read_report(edit(src, tmp_path / "twice.xlsx", change))
    assert only(result, "table-row-extra").cell in ("B8", "B9")
    assert result.data.values["t3.disclosed.natural"] in (report.values["t3.disclosed.natural"], Decimal(7))


def test_parent_rows_on_their_own_rows_are_fine(tmp_path):
    fmt = load_format("2021")
    report = clean_report(fmt, 6)
    path = own_workbook(tmp_path / "own.xlsx", fmt, report.values)

    def change(wb):
        ws = wb.active
        row = next(c.row for c in ws["C"] if c.value == "（三）不予公开")
        ws.insert_rows(row)
        ws.cell(row, 3, "（三）不予公开")
        ws.cell(row + 1, 3, None)

    result = read_report(edit(path, tmp_path / "own2.xlsx", change))
    assert result.findings == [] and result.data.values == report.values


def test_empty_inserted_row_is_a_warning(tmp_path, books):
    src, _ = books["2021"]
    result = read_report(edit(src, tmp_path / "spacer.xlsx", lambda wb: wb["表三"].insert_rows(12)))
    finding = only(result, "table-row-extra")
    assert finding.severity == WARNING and finding.cell.endswith("12")


def test_deleted_row_is_reported_and_its_cells_are_none(tmp_path, books):
    src, report = books["2021"]
    result = read_report(edit(src, tmp_path / "deleted.xlsx", lambda wb: wb["表三"].delete_rows(9)))
    finding = only(result, "table-row-missing")
    assert "（二）部分公开" in finding.message and finding.severity == ERROR
    fmt = load_format("2021")
    for cell in fmt.table("t3").cells:
        if cell.row.id == "partial":
            assert result.data.values[cell.id] is None and cell.id not in result.data.cells
        elif not cell.is_total:
            assert result.data.values[cell.id] == report.values[cell.id]


def test_inserted_and_deleted_columns(tmp_path, books):
    src, report = books["2021"]

    def insert(wb):
        ws = wb["表三"]
        ws.insert_cols(6)
        ws.cell(5, 6, "个体工商户")
        ws.cell(6, 6, 3)

    result = read_report(edit(src, tmp_path / "col_in.xlsx", insert))
    finding = only(result, "table-column-extra")
    assert (finding.cell, finding.severity) == ("F5", ERROR)
    assert result.data.values["t3.new.research"] == report.values["t3.new.research"]
    assert result.data.cells["t3.new.research"].cell == "G6"

    result = read_report(edit(src, tmp_path / "col_out.xlsx", lambda wb: wb["表三"].delete_cols(5)))
    finding = only(result, "table-column-missing")
    assert finding.column == "商业企业"
    assert result.data.values["t3.new.business"] is None
    assert result.data.values["t3.new.research"] == report.values["t3.new.research"]


def test_renamed_moved_sheets_without_meta(tmp_path, books):
    src, report = books["2021"]

    def change(wb):
        strip_meta(wb)
        wb["表二"].title = "Sheet1"
        wb.move_sheet("Sheet1", offset=3)
        wb["表四"].insert_rows(1, 2)

    result = read_report(edit(src, tmp_path / "moved.xlsx", change))
    assert result.layout == "labels" and result.findings == []
    inputs = {c.id for c in load_format("2021").input_cells}
    assert all(result.data.values[k] == report.values[k] for k in inputs)
    assert result.data.cells["t2.rules.made"].sheet == "Sheet1"
    assert result.data.cells["t4.review.upheld"].cell == "A8"
    assert (result.data.unit, result.data.year) == (TOWNSHIP, 2022)


def test_missing_table_sheet(tmp_path, books):
    src, report = books["2021"]
    result = read_report(edit(src, tmp_path / "no_t3.xlsx", lambda wb: wb.remove(wb["表三"])))
    assert codes(result) == ["table-missing"]
    assert "表三" in result.findings[0].message
    fmt = load_format("2021")
    assert all(result.data.values[c.id] is None for c in fmt.table("t3").cells)
    assert all(result.data.values[c.id] == report.values[c.id] for c in fmt.table("t2").cells)


@pytest.mark.parametrize("fid", ["2021", "2019"])
def test_clerks_own_sheet_found_by_labels(tmp_path, fid):
    fmt = load_format(fid)
    report = clean_report(fmt, 5)
    path = own_workbook(tmp_path / "own.xlsx", fmt, report.values, year=report.year)
    result = read_report(path)
    assert result.layout == "labels"
    assert result.data.format == fid
    assert result.data.values == report.values
    assert (result.data.unit, result.data.year) == (TOWNSHIP, report.year)
    assert result.findings == []
    assert result.data.cells["t3.new.natural"].sheet == "年报数据"


def test_old_format_for_a_new_year(tmp_path):
    old = load_format("2019")
    report = clean_report(old, 2, year=2023)
    path = own_workbook(tmp_path / "old.xlsx", old, report.values, year=2023)
    result = read_report(path)
    assert result.data.format == "2019" and result.data.year == 2023
    finding = only(result, "format-year-mismatch")
    assert (finding.expected, finding.actual, finding.severity) == ("2021", "2019", ERROR)
    assert result.data.values == report.values

    written = tmp_path / "old_writer.xlsx"
    write_workbook(written, old, unit=TOWNSHIP, year=2023, data=report)
    assert codes(read_report(written)) == ["format-year-mismatch"]
    assert read_report(written, format_id="2019").findings == []


def test_format_from_labels_when_the_year_says_otherwise(tmp_path):
    new = load_format("2021")
    report = clean_report(new, 4)
    path = own_workbook(tmp_path / "new.xlsx", new, report.values, year=2020)
    result = read_report(path)
    assert result.data.format == "2021"
    assert only(result, "format-year-mismatch").expected == "2019"


def test_unit_and_year_from_the_caller_when_the_file_has_none(tmp_path):
    fmt = load_format("2021")
    report = clean_report(fmt, 1)
    path = own_workbook(tmp_path / "anon.xlsx", fmt, report.values, unit="", year=0)
    wb = openpyxl.load_workbook(path)
    wb.active.delete_rows(1, 2)
    wb.save(path)
    result = read_report(path)
    assert set(codes(result)) == {"unit-missing", "year-missing"}
    result = read_report(path, year=2022, expect_unit="某镇")
    assert (result.data.unit, result.data.year) == ("某镇", 2022) and result.findings == []


# ---------------------------------------------------------------- other containers


@pytest.fixture(scope="module")
def resaved(tmp_path_factory, books):
    """The filled workbooks re-saved by LibreOffice as xlsx, xls and ods, plus copies without
    any meta data re-saved as xls (so the format must come from the labels)."""
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    directory = tmp_path_factory.mktemp("resaved")
    bare = [edit(books[fid][0], directory / f"bare_{fid}.xlsx", strip_meta) for fid in ("2021", "2019")]
    out = {}
    for to in ("xlsx", "xls", "ods"):
        paths = soffice_convert([books[fid][0] for fid in ("2021", "2019")], directory / to, to=to)
        out.update({(fid, to): p for fid, p in zip(("2021", "2019"), paths)})
    for fid, path in zip(("2021", "2019"), soffice_convert(bare, directory / "bare", to="xls")):
        out[(fid, "bare-xls")] = path
    return out


@pytest.mark.libreoffice
@pytest.mark.parametrize("to", ["xlsx", "xls", "ods", "bare-xls"])
def test_libreoffice_copies_read_the_same(fmt, books, resaved, to):
    _, report = books[fmt.id]
    path = resaved[(fmt.id, to)]
    result = read_report(path)
    assert result.findings == []
    assert result.source_kind == to.split("-")[-1]
    assert result.data.values == report.values
    assert (result.data.format, result.data.unit, result.data.year) == (fmt.id, TOWNSHIP, YEAR_OF[fmt.id])
    assert result.data.narrative["problems.text"] == "一是公开内容不够全面。"
    if to == "xlsx":
        assert set(result.data.formulas) == {c.id for c in fmt.total_cells}
        assert read_report(path, engine="openpyxl").data.values == report.values
    else:
        assert result.data.formulas is None
    if to == "bare-xls":
        assert "format" not in result.meta


@pytest.mark.libreoffice
def test_libreoffice_inserted_row_in_xls(tmp_path, books):
    src, report = books["2021"]

    def change(wb):
        ws = wb["表三"]
        ws.insert_rows(9)
        ws.cell(9, 2, "其他")
        ws.cell(9, 4, 5)

    [xls] = soffice_convert([edit(src, tmp_path / "ins.xlsx", change)], tmp_path / "out", to="xls")
    result = read_report(xls)
    assert only(result, "table-row-extra").cell == "B9"
    inputs = {c.id for c in load_format("2021").input_cells}
    assert all(result.data.values[k] == report.values[k] for k in inputs)


def test_wps_et_and_wrong_suffix_sniffed_by_content(tmp_path, books):
    src, report = books["2021"]
    et = tmp_path / "乡镇.et"
    shutil.copy(src, et)
    result = read_report(et)
    assert result.source_kind == "et" and result.data.values == report.values
    with open_source(et) as source:
        assert source.container == "xlsx"
    wrong = tmp_path / "named.xls"
    shutil.copy(src, wrong)
    assert read_report(wrong).data.values == report.values


def test_xlsm_macros_are_never_run(tmp_path, books):
    src, report = books["2021"]
    path = rezip(src, tmp_path / "macro.xlsm", {}, add={"xl/vbaProject.bin": b"\0" * 64})
    result = read_report(path)
    assert result.source_kind == "xlsm" and result.data.values == report.values


def test_shared_formulas_are_expanded(tmp_path, books):
    src, _ = books["2021"]
    part = sheet_part(src, "表三")

    def share(xml: bytes) -> bytes:
        xml = xml.replace(b"<f>SUM(D6:I6)</f>", b'<f t="shared" ref="J6:J8" si="0">SUM(D6:I6)</f>', 1)
        xml = xml.replace(b"<f>SUM(D7:I7)</f>", b'<f t="shared" si="0"/>', 1)
        return xml.replace(b"<f>SUM(D8:I8)</f>", b'<f t="shared" si="0"></f>', 1)

    result = read_report(rezip(src, tmp_path / "shared.xlsx", {part: share}))
    assert result.data.formulas["t3.new.total"] == "SUM(D6:I6)"
    assert result.data.formulas["t3.carried_in.total"] == "SUM(D7:I7)"
    assert result.data.formulas["t3.disclosed.total"] == "SUM(D8:I8)"


def test_shift_formula():
    assert shift_formula("SUM(D6:I6)", 2, 0) == "SUM(D8:I8)"
    assert shift_formula("$A$1+B2*'表 A1'!C3+\"A1\"", 1, 1) == "$A$1+C3*'表 A1'!D4+\"A1\""
    assert shift_formula("LOG10(A1)+Sheet2!$B5", 3, 0) == "LOG10(A4)+Sheet2!$B8"


def test_huge_sheet_is_capped(tmp_path, books):
    src, report = books["2021"]
    part = sheet_part(src, "表三")
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    result = read_report(rezip(src, tmp_path / "far.xlsx", {part: lambda x: x.replace(b"</sheetData>", far)}))
    finding = only(result, "sheet-truncated")
    assert finding.sheet == "表三" and finding.severity == WARNING
    assert result.data.values["t3.new.natural"] == report.values["t3.new.natural"]


def test_register_reader_dispatches_by_suffix(tmp_path):
    calls = []

    def fake(path, **kwargs):
        calls.append((Path(path).name, kwargs))
        return ReadResult(str(path), source_kind="zzz")

    register_reader([".ZZZ"], fake)
    try:
        result = read_report(tmp_path / "a.zzz", year=2023)
    finally:
        READERS.pop(".zzz")
    assert result.source_kind == "zzz"
    assert calls == [("a.zzz", {"format_id": None, "year": 2023, "expect_unit": None})]


# ---------------------------------------------------------------- files that cannot be read


def _docx() -> bytes:
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    return buffer.getvalue()


BAD_FILES = {
    "empty.xlsx": (lambda src: b"", "not-a-workbook"),
    "random.xlsx": (lambda src: bytes(range(256)) * 40, "not-a-workbook"),
    "report.pdf.xlsx": (lambda src: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not-a-workbook"),
    "list.csv.xlsx": (lambda src: "单位,本年新收\n某镇,12\n".encode("gbk"), "not-a-workbook"),
    "page.xls": (lambda src: "<html><body><table><tr><td>12</td></tr></table></body></html>".encode(), "not-a-workbook"),
    "word.xlsx": (lambda src: _docx(), "not-a-workbook"),
    "word97.xls": (lambda src: cfb({"WordDocument": b"x" * 100}), "not-a-workbook"),
    "archive.xlsx": (lambda src: _zip({"a.txt": b"hello"}), "not-a-workbook"),
    "truncated.xlsx": (lambda src: src[: len(src) // 2], "workbook-damaged"),
    "encrypted.xlsx": (lambda src: cfb({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"\x01" * 500}),
                       "workbook-encrypted"),
    "broken_ole.xls": (lambda src: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 600, "workbook-damaged"),
}


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_unreadable_file_is_one_finding(tmp_path, books, name):
    make, code = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(make(books["2021"][0].read_bytes()))
    before = digest(path)
    result = read_report(path)
    assert result.data is None
    assert codes(result) == [code]
    assert path.name in result.findings[0].message
    assert result.findings[0].severity == ERROR
    assert digest(path) == before


def test_folder_and_broken_link(tmp_path):
    folder = tmp_path / "x.xlsx"
    folder.mkdir()
    assert codes(read_report(folder)) == ["file-unreadable"]
    link = tmp_path / "gone.xlsx"
    link.symlink_to(tmp_path / "nowhere.xlsx")
    result = read_report(link)
    assert codes(result) == ["file-unreadable"] and "链接" in result.findings[0].message
    assert codes(read_report(tmp_path / "missing.xlsx")) == ["file-unreadable"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read anything")
def test_unreadable_permissions(tmp_path, books):
    path = tmp_path / "locked.xlsx"
    shutil.copy(books["2021"][0], path)
    path.chmod(0)
    try:
        assert codes(read_report(path)) == ["file-unreadable"]
    finally:
        path.chmod(0o644)


def test_damaged_parts(tmp_path, books):
    src, _ = books["2021"]
    part = sheet_part(src, "表三")
    garbage = rezip(src, tmp_path / "garbage.xlsx", {part: b"<worksheet><sheetData><row><c"})
    assert codes(read_report(garbage)) == ["workbook-damaged"]
    no_book = rezip(src, tmp_path / "nobook.xlsx", {}, drop=("xl/workbook.xml",))
    assert codes(read_report(no_book)) == ["workbook-damaged"]


def test_entity_expansion_is_refused(tmp_path, books):
    src, _ = books["2021"]
    part = sheet_part(src, "表三")
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
              b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>')
    bomb = rezip(src, tmp_path / "laughs.xlsx",
                 {part: lambda x: laughs + x.split(b"?>", 1)[1].replace(b"<v>49</v>", b"<v>&lol3;</v>")})
    result = read_report(bomb)
    assert codes(result) == ["workbook-damaged"] and "不安全" in result.findings[0].message
    xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    for part in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        external = rezip(src, tmp_path / "xxe.xlsx", {part: lambda x: xxe + x.split(b"?>", 1)[1]})
        assert codes(read_report(external)) == ["workbook-damaged"]
    properties = rezip(src, tmp_path / "xxe_props.xlsx", {"docProps/custom.xml": lambda x: xxe + x.split(b"?>", 1)[1]})
    with pytest.raises(SourceError) as err:  # every XML part's prolog is checked before parsing
        open_source(properties)
    assert err.value.code == "workbook-damaged"


def test_a_utf16_part_without_byte_order_mark_is_checked_for_a_dtd(tmp_path, books):
    src, _ = books["2021"]
    xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r/>'
    for encoding in ("utf-16-le", "utf-16-be"):  # XML allows UTF-16 without a byte order mark
        odd = rezip(src, tmp_path / f"{encoding}.xlsx", {"docProps/custom.xml": xxe.encode(encoding)})
        with pytest.raises(SourceError) as err:
            open_source(odd)
        assert err.value.code == "workbook-damaged" and "DTD" in err.value.message
        assert codes(read_report(odd)) == ["workbook-damaged"]


def test_zip_limits(tmp_path, books):
    src, _ = books["2021"]
    big = rezip(src, tmp_path / "big.xlsx", {}, add={"xl/media/padding.bin": os.urandom(3 * 1024 * 1024)})
    assert read_report(big).data is not None
    small = Limits(max_entry_bytes=1024 * 1024)
    result = read_report(big, limits=small)
    assert codes(result) == ["file-too-large"]
    many = rezip(src, tmp_path / "many.xlsx", {}, add={f"x/{i}.txt": b"" for i in range(60)})
    assert codes(read_report(many, limits=Limits(max_entries=50))) == ["file-too-large"]
    zeros = rezip(src, tmp_path / "zeros.xlsx", {}, add={"xl/media/zeros.bin": bytes(8 * 1024 * 1024)})
    assert codes(read_report(zeros)) == ["file-too-large"]  # 8 MB of zeros: ratio over 1000
    with pytest.raises(SourceError) as err:
        open_source(big, limits=Limits(max_file_bytes=1000))
    assert err.value.code == "file-too-large"


def test_lying_zip_sizes_are_measured(tmp_path):
    payload = b"\0" * (4 * 1024 * 1024)
    path = tmp_path / "liar.xlsx"
    data = bytearray(_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": payload}))
    # declare the big entry as 100 bytes, in the central directory and the local header
    for sig in (b"PK\x01\x02", b"PK\x03\x04"):
        start = 0
        while (i := data.find(sig, start)) >= 0:
            name_off = 46 if sig == b"PK\x01\x02" else 30
            size_off = 24 if sig == b"PK\x01\x02" else 22
            name_len = struct.unpack_from("<H", data, i + (28 if sig == b"PK\x01\x02" else 26))[0]
            if data[i + name_off:i + name_off + name_len] == b"xl/workbook.xml":
                struct.pack_into("<I", data, i + size_off, 100)
            start = i + 4
    path.write_bytes(bytes(data))
    result = read_report(path, limits=Limits(max_entry_bytes=1024 * 1024, max_total_bytes=2 * 1024 * 1024))
    assert codes(result) == ["file-too-large"]


# ---------------------------------------------------------------- damaged in every way


FILE_CODES = {"not-a-workbook", "workbook-damaged", "workbook-encrypted", "file-too-large", "file-unreadable"}


@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    path, _ = filled(tmp_path_factory.mktemp("small"), load_format("2021"), seed=9)
    return path.read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_bytes_always_give_an_answer(tmp_path, small_book, data):
    blob = bytearray(small_book)
    action = data.draw(st.sampled_from(["flip", "truncate", "drop", "zero"]))
    if action == "flip":
        for pos in data.draw(st.lists(st.integers(0, len(blob) - 1), min_size=1, max_size=8)):
            blob[pos] ^= data.draw(st.integers(1, 255))
    elif action == "truncate":
        blob = blob[: data.draw(st.integers(0, len(blob) - 1))]
    elif action == "zero":
        start = data.draw(st.integers(0, len(blob) - 1))
        blob[start:start + data.draw(st.integers(1, 4096))] = b"\0" * len(blob[start:start + 4096])
    else:
        with zipfile.ZipFile(io.BytesIO(bytes(blob))) as zin:
            names = zin.namelist()
            gone = set(data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3)))
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
                for name in names:
                    if name not in gone:
                        zout.writestr(name, zin.read(name))
        blob = bytearray(out.getvalue())
    path = tmp_path / "mutated.xlsx"
    path.write_bytes(bytes(blob))
    result = read_report(path)
    assert isinstance(result, ReadResult)
    if result.data is None:
        assert len(result.findings) == 1 and result.findings[0].code in FILE_CODES | {"format-unknown"}
    for finding in result.findings:
        assert finding.message and finding.severity in (ERROR, WARNING)


def test_binary_engine_crash_or_hang_is_one_finding(tmp_path, monkeypatch):
    from toolkit import isolation

    fake = tmp_path / "fake.xls"
    fake.write_bytes(cfb({"Workbook": b"\x09\x08\x10\x00" + b"\0" * 100}))
    monkeypatch.setattr(isolation, "_BOOTSTRAP", "import os, sys; sys.stdin.buffer.read(16); os.abort()")
    isolation._Helper.stop()
    result = read_report(fake)
    assert codes(result) == ["workbook-damaged"] and result.data is None
    monkeypatch.setattr(isolation, "_BOOTSTRAP", "import sys, time; sys.stdin.buffer.read(16); time.sleep(30)")
    isolation._Helper.stop()
    result = read_report(fake, limits=Limits(engine_seconds=1))
    assert codes(result) == ["file-too-large"] and "秒" in result.findings[0].message
    monkeypatch.undo()
    isolation._Helper.stop()
    result = read_report(fake)  # a fresh helper: calamine itself finds no usable sheet in it
    assert codes(result) in (["workbook-damaged"], ["format-unknown"])
    assert isolation._Helper._proc.poll() is None  # and stays up for the next file


def test_the_engine_reads_the_sheets_inflated_once_stored_as_they_are(tmp_path):
    """What calamine is given: the same entries, byte for byte, the inflated parts stored; the
    workbook part without its defined names and each sheet cut after its cells (the toolkit reads
    names, merged ranges and the rest itself); calamine reads the same values from it."""
    import re

    import python_calamine

    from toolkit.workbook.source.xlsx_parts import UNPACK_SHEET_BYTES, _XlsxParts

    path, _ = filled(tmp_path, load_format("2021"))
    data = path.read_bytes()
    original = zipfile.ZipFile(io.BytesIO(data))
    parts = _XlsxParts.load(original, path, Limits())
    package = zipfile.ZipFile(io.BytesIO(parts.engine_package(data)))
    assert package.namelist() == original.namelist()
    assert package.testzip() is None
    sheets = set(parts.sheet_parts.values())
    for info in original.infolist():
        if info.filename in sheets:
            whole = original.read(info.filename)
            start, end = whole.index(b"<sheetData"), whole.index(b"</sheetData>") + 12
            assert package.read(info.filename) == (whole[:start] + b"<mergeCells></mergeCells>" + whole[start:end]
                                                   + b"</worksheet>")
        elif info.filename != "xl/workbook.xml":
            assert package.read(info.filename) == original.read(info.filename)
    assert sum(len(package.read(p)) for p in sheets) < sum(len(original.read(p)) for p in sheets) / 2
    engine, reference = (python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(b))
                         for b in (parts.engine_package(data), data))
    assert engine.sheet_names == reference.sheet_names
    for name in reference.sheet_names:
        assert engine.get_sheet_by_name(name).to_python() == reference.get_sheet_by_name(name).to_python()
        assert engine.get_sheet_by_name(name).merged_cell_ranges == []  # read by the toolkit itself
    assert any(reference.get_sheet_by_name(name).merged_cell_ranges for name in reference.sheet_names)
    workbook = original.read("xl/workbook.xml")
    assert workbook.count(b"<definedName ") > 100
    assert package.read("xl/workbook.xml") == re.sub(rb"<definedNames>.*</definedNames>", b"", workbook, flags=re.S)
    stored = {i.filename for i in package.infolist() if i.compress_type == zipfile.ZIP_STORED}
    assert {"xl/workbook.xml", *parts.sheet_parts.values()} <= stored
    assert all(original.getinfo(p).file_size <= UNPACK_SHEET_BYTES for p in parts.sheet_parts.values())
    assert "xl/sharedStrings.xml" not in stored


@pytest.mark.parametrize("workbook, cut", [
    (b"<workbook><sheets/><definedNames><definedName name='a'>S!$A$1</definedName></definedNames></workbook>",
     b"<workbook><sheets/></workbook>"),
    (b"<workbook><sheets/></workbook>", None),  # no names
    (b"<workbook><definedNames></definedNames><definedNames></definedNames></workbook>", None),  # two: left alone
    (b"<x:workbook><x:definedNames></x:definedNames></x:workbook>", None),  # prefixed: left alone
])
def test_the_engine_gets_the_workbook_part_without_names(workbook, cut):
    from toolkit.workbook.source.xlsx_parts import _without_defined_names

    assert _without_defined_names(workbook) == cut


NO_MERGES = b"<mergeCells></mergeCells>"  # calamine's reading of merged ranges stops there
TAIL = b"<conditionalFormatting sqref='A1'><cfRule type='expression'/></conditionalFormatting>" * 4


@pytest.mark.parametrize("sheet, cut", [
    (b"<worksheet><cols/><sheetData><row r='1'/></sheetData>" + TAIL + b"</worksheet>",
     b"<worksheet><cols/>" + NO_MERGES + b"<sheetData><row r='1'/></sheetData></worksheet>"),
    (b"<worksheet><sheetData/>" + TAIL + b"</worksheet>", None),  # no cells
    (b"<worksheet><sheetData></sheetData>" + TAIL + b"<ext>sheetData</ext></worksheet>", None),  # more mentions
    (b"<x:worksheet><x:sheetData></x:sheetData>" + TAIL + b"</x:worksheet>", None),  # prefixed
    (b"<worksheet><sheetData></sheetData>" + TAIL, None),  # not ended: left for the completeness check
    (b"<worksheet><sheetData></sheetData></worksheet>",  # nothing after the cells
     b"<worksheet>" + NO_MERGES + b"<sheetData></sheetData></worksheet>"),
    (b"<worksheet></sheetData><sheetData></worksheet>", None),  # the end before the start
])
def test_the_engine_gets_each_sheet_cut_after_its_cells(sheet, cut):
    from toolkit.workbook.source.xlsx_parts import _cells_only

    assert _cells_only(sheet) == cut
