"""``nianbao status``: per roster unit, missing / errors / clean and when, from the archive."""

from __future__ import annotations

import json
import os

import openpyxl
import pytest
from typer.testing import CliRunner

from toolkit.archive import Archive
from toolkit.cli import app
from toolkit.model import FileReport, Finding
from toolkit.demo.synthetic import synthetic_report
from toolkit.round import round_status, write_status_xlsx

ROSTER = ["城关镇人民政府", "蓼堤镇人民政府", "西陵寺镇人民政府", "北湖街道办事处"]


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("单位名称,联系人,邮箱\n" + "\n".join(f"{u},联系人{i},u{i}@example.cn" for i, u in enumerate(ROSTER)),
                    encoding="utf-8")
    return path


def _error():
    return Finding("rule-t3-balance", "error", "表三 自然人列：不相等（D12）", rule="t3-balance", sheet="表三", cell="D12")


def _warning():
    return Finding("rule-t2-township-rules", "warning", "是乡镇或街道，无权制定规章（C4）", sheet="表二", cell="C4")


def _file(tmp_path, name, mtime):
    path = tmp_path / "returned" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(name.encode())
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "nianbao.db"
    with Archive(path) as arch:
        # 城关镇: clean; 蓼堤镇: errors, then a corrected file; 西陵寺镇: errors; 北湖: missing.
        arch.record(FileReport(str(_file(tmp_path, "城关镇.xlsx", 1_767_600_000)), [_warning()],
                               synthetic_report("2021", "城关镇人民政府", 2025)))
        arch.record(FileReport(str(_file(tmp_path, "蓼堤镇.xlsx", 1_767_700_000)), [_error()],
                               synthetic_report("2021", "蓼堤镇人民政府", 2025)))
        arch.record(FileReport(str(_file(tmp_path, "蓼堤镇_改.xlsx", 1_767_900_000)), [],
                               synthetic_report("2021", "蓼堤镇人民政府", 2025)))
        arch.record(FileReport(str(_file(tmp_path, "西陵寺.xlsx", 1_767_800_000)), [_error(), _error(), _warning()],
                               synthetic_report("2021", "西陵寺镇", 2025)))  # short name in the file
        # another year and a unit not in the roster must not disturb 2025's status
        arch.record_data(synthetic_report("2021", "北湖街道办事处", 2024), source="check")
        arch.record_data(synthetic_report("2021", "县外单位", 2025), source="check")
    return path


def test_status_per_unit(roster, archive):
    status = round_status(roster, year=2025, archive=archive)
    by_unit = {u.unit: u for u in status.units}
    assert [u.unit for u in status.units] == ROSTER
    assert (by_unit["城关镇人民政府"].status, by_unit["城关镇人民政府"].errors, by_unit["城关镇人民政府"].warnings) == ("clean", 0, 1)
    assert (by_unit["蓼堤镇人民政府"].status, by_unit["蓼堤镇人民政府"].file_name) == ("clean", "蓼堤镇_改.xlsx")
    assert (by_unit["西陵寺镇人民政府"].status, by_unit["西陵寺镇人民政府"].errors, by_unit["西陵寺镇人民政府"].warnings) == ("errors", 2, 1)
    assert by_unit["北湖街道办事处"].status == "missing" and by_unit["北湖街道办事处"].received is None
    assert by_unit["蓼堤镇人民政府"].received.startswith("2026-01-0")  # the corrected file's time
    assert status.unlisted == ["县外单位"]
    assert not status.complete


def test_status_json_shape_exactly(roster, archive):
    result = CliRunner().invoke(app, ["status", "--roster", str(roster), "--year", "2025", "--archive", str(archive), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert list(data) == ["year", "units"] and data["year"] == 2025
    for unit in data["units"]:
        assert list(unit) == ["unit", "status", "errors", "warnings", "received", "state", "waived"]
    assert [(u["unit"], u["status"], u["errors"], u["warnings"]) for u in data["units"]] == [
        ("城关镇人民政府", "clean", 0, 1), ("蓼堤镇人民政府", "clean", 0, 0),
        ("西陵寺镇人民政府", "errors", 2, 1), ("北湖街道办事处", "missing", None, None)]
    # the finer state the portal shows: a warning not yet marked 已核实 keeps 城关镇 at 仅有警告
    assert [(u["state"], u["waived"]) for u in data["units"]] == [
        ("warnings", 0), ("clean", 0), ("errors", 0), ("missing", 0)]
    assert data["units"][3]["received"] is None
    assert all(isinstance(u["received"], str) for u in data["units"][:3])


def test_status_table_and_xlsx(tmp_path, roster, archive):
    out = tmp_path / "报送情况.xlsx"
    result = CliRunner().invoke(app, ["status", "--roster", str(roster), "--year", "2025", "--archive", str(archive),
                                      "--xlsx", str(out)])
    assert result.exit_code == 1
    for text in ("未报送", "有错误", "已通过", "北湖街道办事处", "县外单位"):
        assert text in result.output
    book = openpyxl.load_workbook(out)
    sheet = book["报送情况"]
    rows = [r for r in sheet.iter_rows(min_row=4, values_only=True) if r[0] in ROSTER]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("城关镇人民政府", "已通过", 0), ("蓼堤镇人民政府", "已通过", 0),
        ("西陵寺镇人民政府", "有错误", 2), ("北湖街道办事处", "未报送", None)]
    files = list(book["收到的文件"].iter_rows(min_row=2, values_only=True))
    assert sorted(r[2] for r in files if r[2]) == sorted(["城关镇.xlsx", "蓼堤镇.xlsx", "蓼堤镇_改.xlsx", "西陵寺.xlsx"])
    assert {r[2]: r[6] for r in files if r[2]}["蓼堤镇.xlsx"] == "否"


def test_everyone_clean_exits_zero(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("单位名称\n甲镇\n乙乡\n", encoding="utf-8")
    with Archive(tmp_path / "a.db") as arch:
        for unit in ("甲镇", "乙乡"):
            arch.record_data(synthetic_report("2021", unit, 2025), source="check")
        status = write_status_xlsx(round_status(roster, year=2025, archive=arch), tmp_path / "s.xlsx")
    assert status.exists()
    result = CliRunner().invoke(app, ["status", "--roster", str(roster), "--year", "2025", "--archive", str(tmp_path / "a.db")])
    assert result.exit_code == 0, result.output


def test_missing_archive_is_a_usage_error(tmp_path, roster):
    result = CliRunner().invoke(app, ["status", "--roster", str(roster), "--year", "2025",
                                      "--archive", str(tmp_path / "none.db")])
    assert result.exit_code == 2 and "档案文件不存在" in result.output
    assert not (tmp_path / "none.db").exists()


def test_a_unit_whose_warnings_are_all_marked_checked_is_clean(roster, archive):
    from toolkit.archive import Archive
    from toolkit.archive.portal import finding_key
    from toolkit.round import round_status

    with Archive(archive) as arch:
        stored = arch.current("城关镇人民政府", 2025)
        (warning,) = [f for f in stored.findings if f.severity == "warning"]
        arch.waive("城关镇人民政府", 2025, finding_key(warning), "确有其事，已电话核实", "科员甲")
        (mark,) = arch.waivers("城关镇", 2025)
    assert (mark.unit, mark.note, mark.by) == ("城关镇人民政府", "确有其事，已电话核实", "科员甲")
    status = {u.unit: u for u in round_status(roster, year=2025, archive=archive).units}
    assert (status["城关镇人民政府"].state, status["城关镇人民政府"].waived) == ("clean", 1)
    assert status["城关镇人民政府"].state_label == "已通过"
    # a mark on another year counts for nothing
    assert round_status(roster, year=2024, archive=archive).units[0].state == "missing"
