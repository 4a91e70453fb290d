"""The archive: submissions, the current report per unit-year, history, schema and safety."""

from __future__ import annotations

import os
import sqlite3
import threading
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.archive import APPLICATION_ID, SCHEMA_VERSION, Archive, ArchiveError, file_sha256
from toolkit.formats import load_format
from toolkit.model import FileReport, Finding, ReportData


def _data(unit="蓼堤镇人民政府", year=2025, **values):
    fmt = load_format("2021")
    vals = {cid: Decimal(0) for cid in fmt.cells}
    vals.update({k.replace("__", "."): Decimal(v) for k, v in values.items()})
    return ReportData(format="2021", unit=unit, year=year, values=vals,
                      narrative={"overview.proactive": "全年主动公开信息120条。"})


def _file(tmp_path, name, content: bytes, mtime: int | None = None):
    path = tmp_path / name
    path.write_bytes(content)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _error(cell="D12"):
    return Finding(code="rule-t3-balance", severity="error", message="表三 自然人列：不相等（D12）",
                   rule="t3-balance", sheet="表三", cell=cell, expected=Decimal("5"), actual=Decimal("4"))


def test_record_and_read_back(tmp_path):
    path = _file(tmp_path, "蓼堤镇.xlsx", b"first version")
    report = FileReport(str(path), [_error()], _data(**{"t3__new__natural": "7", "t2__fees__amount": "1.2345"}))
    with Archive(tmp_path / "nianbao.db") as archive:
        result = archive.record(report)
        assert result.recorded and result.current and result.unit == "蓼堤镇人民政府" and result.year == 2025
        stored = archive.current("蓼堤镇人民政府", 2025)
    assert stored is not None
    assert stored.data.values["t3.new.natural"] == Decimal("7")
    assert stored.data.values["t2.fees.amount"] == Decimal("1.2345")
    assert stored.data.narrative["overview.proactive"] == "全年主动公开信息120条。"
    assert stored.errors == 1 and stored.warnings == 0 and not stored.valid
    assert [f.cell for f in stored.findings] == ["D12"]
    assert stored.findings[0].message == "表三 自然人列：不相等（D12）"
    assert stored.findings[0].expected == "5"
    sub = stored.submission
    assert sub.file_name == "蓼堤镇.xlsx" and sub.file_size == len(b"first version")
    assert sub.file_hash == file_sha256(path)


def test_corrected_file_replaces_data_and_keeps_history(tmp_path):
    first = _file(tmp_path, "蓼堤镇.xlsx", b"wrong", mtime=1_767_000_000)
    second = _file(tmp_path, "蓼堤镇_修改.xlsx", b"right", mtime=1_767_100_000)
    with Archive(tmp_path / "a.db") as archive:
        archive.record(FileReport(str(first), [_error()], _data(**{"t3__new__natural": "5"})))
        archive.record(FileReport(str(second), [], _data(**{"t3__new__natural": "4"})))
        stored = archive.current("蓼堤镇人民政府", 2025)
        subs = archive.submissions("蓼堤镇人民政府", 2025)
    assert stored.data.values["t3.new.natural"] == Decimal("4") and stored.errors == 0
    assert [s.file_name for s in subs] == ["蓼堤镇.xlsx", "蓼堤镇_修改.xlsx"]
    assert [s.current for s in subs] == [False, True]
    assert subs[0].errors == 1 and subs[0].received < subs[1].received


def test_same_file_rechecked_updates_in_place(tmp_path):
    path = _file(tmp_path, "a.xlsx", b"same bytes")
    with Archive(tmp_path / "a.db") as archive:
        archive.record(FileReport(str(path), [_error()], _data()))
        received = archive.submissions()[0].received
        archive.record(FileReport(str(path), [], _data()))
        subs = archive.submissions()
        assert len(subs) == 1 and subs[0].errors == 0 and subs[0].received == received
        assert archive.current("蓼堤镇人民政府", 2025).errors == 0


def test_a_file_received_earlier_does_not_replace_a_later_one(tmp_path):
    late = _file(tmp_path, "new.xlsx", b"new", mtime=1_767_200_000)
    early = _file(tmp_path, "old.xlsx", b"old", mtime=1_767_000_000)
    with Archive(tmp_path / "a.db") as archive:
        archive.record(FileReport(str(late), [], _data(**{"t3__new__natural": "9"})))
        result = archive.record(FileReport(str(early), [_error()], _data(**{"t3__new__natural": "1"})))
        assert result.recorded and not result.current and "更晚" in result.reason
        assert archive.data("蓼堤镇人民政府", 2025).values["t3.new.natural"] == Decimal("9")


def test_unit_names_match_across_widths_and_spaces(tmp_path):
    with Archive(tmp_path / "a.db") as archive:
        archive.record_data(_data(unit="蓼堤镇人民政府", year=2024), source="check")
        archive.record_data(_data(unit=" 蓼堤镇 人民政府", year=2025), source="check")
        assert archive.units() == ["蓼堤镇人民政府"]
        assert archive.years("蓼堤镇人民政府") == [2024, 2025]
        assert archive.find_unit("蓼堤镇人民政府　") == "蓼堤镇人民政府"


def test_short_and_full_unit_names_are_one_unit(tmp_path):
    with Archive(tmp_path / "a.db") as archive:
        archive.record_data(_data(unit="蓼堤镇人民政府", year=2024, **{"t3__carried_over__natural": "2"}), source="check")
        archive.record_data(_data(unit="蓼堤镇", year=2025), source="check")
        archive.record_data(_data(unit="蓼堤镇卫生院", year=2025), source="check")
        assert archive.units() == ["蓼堤镇人民政府", "蓼堤镇卫生院"]
        assert archive.prior_for("蓼堤镇", 2025).values["t3.carried_over.natural"] == Decimal(2)
        assert archive.years("蓼堤镇人民政府") == [2024, 2025]


def test_prior_for_is_last_years_current_data(tmp_path):
    with Archive(tmp_path / "a.db") as archive:
        archive.record_data(_data(year=2024, **{"t3__carried_over__natural": "3"}), source="check")
        archive.record_data(_data(year=2025, **{"t3__carried_over__natural": "8"}), source="check")
        prior = archive.prior_for("蓼堤镇人民政府", 2025)
        assert prior.year == 2024 and prior.values["t3.carried_over.natural"] == Decimal("3")
        assert archive.prior_for("蓼堤镇人民政府", 2024) is None
        assert archive.prior_for("别的镇", 2025) is None


def test_import_fills_a_year_but_never_replaces_a_checked_workbook(tmp_path):
    with Archive(tmp_path / "a.db") as archive:
        archive.record_data(_data(year=2023, **{"t3__new__natural": "2"}), path="report2023.txt")
        assert archive.current("蓼堤镇人民政府", 2023).submission.source == "import"
        archive.record_data(_data(year=2024, **{"t3__new__natural": "6"}), source="check")
        result = archive.record_data(_data(year=2024, **{"t3__new__natural": "1"}), path="report2024.txt")
        assert result.recorded and not result.current
        assert archive.data("蓼堤镇人民政府", 2024).values["t3.new.natural"] == Decimal("6")
        assert len(archive.submissions(year=2024)) == 2


def test_file_without_unit_or_year_is_not_recorded(tmp_path):
    with Archive(tmp_path / "a.db") as archive:
        result = archive.record(FileReport("broken.xlsx", [_error()], None))
        assert not result.recorded and "单位" in result.reason
        result = archive.record(FileReport("x.xlsx", [], ReportData(format="2021", unit="某镇", year=None)))
        assert not result.recorded and "年度" in result.reason
        assert archive.submissions() == []


def test_schema_version_wal_and_application_id(tmp_path):
    path = tmp_path / "a.db"
    Archive(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_refuses_foreign_and_newer_files(tmp_path):
    text = tmp_path / "check.json"
    text.write_text('{"files": []}', encoding="utf-8")
    with pytest.raises(ArchiveError, match="不是"):
        Archive(text)
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(ArchiveError, match="不是年报档案"):
        Archive(other)
    newer = tmp_path / "newer.db"
    Archive(newer).close()
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(ArchiveError, match="更新版本"):
        Archive(newer)
    with pytest.raises(ArchiveError, match="不存在"):
        Archive(tmp_path / "missing.db", create=False)


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    with Archive(tmp_path / "a.db") as archive:
        archive.record_data(_data(year=2024), source="check")
        # make the last statement of a record fail, after its unit and submission rows were written
        archive._db.execute(
            "CREATE TRIGGER fail AFTER INSERT ON reports WHEN NEW.year = 2025"
            " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
        with pytest.raises(ArchiveError, match="disk full"):
            archive.record_data(_data(unit="新单位", year=2025), source="check")
        assert archive.years() == [2024]
        assert len(archive.submissions()) == 1
        assert archive.units() == ["蓼堤镇人民政府"]


def test_two_connections_write_concurrently(tmp_path):
    path = tmp_path / "a.db"
    Archive(path).close()
    errors = []

    def work(i):
        try:
            with Archive(path) as archive:
                for year in range(2020, 2025):
                    archive.record_data(_data(unit=f"第{i}镇", year=year), source="check")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Archive(path) as archive:
        assert sorted(archive.units()) == sorted(f"第{i}镇" for i in range(4))
        assert len(archive.reports()) == 20


values = st.dictionaries(
    st.sampled_from(sorted(load_format("2021").cells)),
    st.one_of(st.none(), st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False)),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=values, unit=st.text(st.characters(whitelist_categories=("Lo", "Nd")), min_size=1, max_size=20))
def test_data_round_trips_through_the_archive(tmp_path, values, unit):
    data = ReportData(format="2021", unit=unit, year=2025, values=values)
    with Archive(tmp_path / "rt.db") as archive:
        archive.record_data(data, source="check")
        back = archive.data(unit, 2025)
    assert back.unit == unit
    assert set(back.values) == set(values)
    for key, value in values.items():
        assert back.values[key] == value



def test_record_report_flags_files_it_cannot_record(tmp_path):
    from toolkit.archive import prior_from_archive, record_report
    from toolkit.model import Report

    good = FileReport(str(_file(tmp_path, "a.xlsx", b"a")), [], _data(year=2024, **{"t3__carried_over__natural": "4"}))
    unreadable = FileReport(str(tmp_path / "broken.xlsx"), [_error()], None)
    report = Report([good, unreadable])
    results = record_report(tmp_path / "a.db", report)
    assert [r.recorded for r in results] == [True, False]
    assert [f.code for f in unreadable.findings] == ["rule-t3-balance", "archive-not-recorded"]
    assert unreadable.findings[-1].severity == "warning" and "未记入档案" in unreadable.findings[-1].message
    assert good.findings == []
    prior = prior_from_archive(tmp_path / "a.db", _data(year=2025))
    assert prior.year == 2024 and prior.values["t3.carried_over.natural"] == Decimal(4)
    assert prior_from_archive(tmp_path / "none.db", _data(year=2025)) is None
    assert not (tmp_path / "none.db").exists()
