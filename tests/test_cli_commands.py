"""What the commands tell a clerk on day one: findings readable at 80 columns and never
hard-wrapped in a file, what is wrong with --annotate, a roster or a round's settings, and when
each file was received, in local time."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from check_helpers import returned_folder
from toolkit.archive import Archive
from toolkit.blank import BlankSettingsError, check_round_settings
from toolkit.cli import app
from toolkit.cli.text import display_width
from toolkit.model import FileReport
from toolkit.demo.synthetic import synthetic_report
from toolkit.round import round_status

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def returned(tmp_path_factory):
    root = tmp_path_factory.mktemp("returned")
    return root, returned_folder(root)


# ---------------------------------------------------------------- check's findings at 80 columns


def _report(files):
    from toolkit.batch import check_paths

    return check_paths([files["balance"]])


def test_findings_table_at_80_columns_gives_the_message_the_room(returned):
    from rich.console import Console

    from toolkit.cli.check import print_report

    _, files = returned
    console = Console(width=80, force_terminal=True, record=True, color_system=None)
    report = _report(files)
    print_report(report, console)
    text = console.export_text()
    lines = text.splitlines()
    assert max(display_width(line) for line in lines) <= 80
    assert "代码" not in text  # the English code column is left out at this width
    message = report.files[0].findings[0].message
    first = next(line for line in lines if message[:12] in line)
    assert display_width(first.strip()) > 50  # not wrapped at ~22 characters
    assert not any(line.strip() in ("表三", "表四") for line in lines)


def test_findings_to_a_pipe_are_never_wrapped(returned):
    _, files = returned
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-m", "toolkit", "check", str(files["balance"])], capture_output=True,
                         text=True, env=env, timeout=120).stdout
    report = _report(files)
    for finding in report.files[0].findings:
        assert any(finding.message in line and finding.code in line for line in out.splitlines()), out


def test_annotate_into_the_folder_being_checked_says_so(returned, tmp_path):
    _, files = returned
    folder = tmp_path / "same"
    folder.mkdir()
    (folder / "a.xlsx").write_bytes(files["clean"].read_bytes())
    result = CliRunner().invoke(app, ["check", str(folder), "--annotate", str(folder)])
    assert result.exit_code == 2
    assert "就是要校验的文件夹" in result.stderr and "没有找到" not in result.stderr


# ---------------------------------------------------------------- blank: roster and round settings


def test_roster_without_a_name_column_names_what_it_found(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("序号,联系人,电话\n1,张三,123\n", encoding="utf-8")
    out = tmp_path / "o5"
    result = CliRunner().invoke(app, ["blank", "--roster", str(roster), "--year", "2025", "--out-dir", str(out)])
    assert result.exit_code == 1
    assert "“序号”、“联系人”、“电话”" in result.output and "机构名称" in result.output
    assert "已为 0 个单位" not in result.output and "没有生成任何填报表" in result.output
    assert not out.exists()


@pytest.mark.parametrize("header", ["机构", "单位名", "机构名称", "单位名称（全称）"])
def test_usual_roster_headers_are_accepted(tmp_path, header):
    from toolkit.roster import read_roster

    roster = tmp_path / "r.csv"
    roster.write_text(f"部门,{header},邮箱\n办公室,甲镇人民政府,a@b.cn\n", encoding="utf-8")
    entries, findings = read_roster(roster)
    assert [e.unit for e in entries] == ["甲镇人民政府"] and not [f for f in findings if f.severity == "error"]


def test_round_settings_that_do_not_fit_the_year():
    with pytest.raises(BlankSettingsError, match="2021 格式适用于2021年度起"):
        check_round_settings(2019, "2021")
    with pytest.raises(BlankSettingsError, match="2025年12月31日之后"):
        check_round_settings(2025, deadline=dt.date(2025, 1, 15))
    with pytest.raises(BlankSettingsError, match="请核对年份"):
        check_round_settings(2025, deadline=dt.date(2027, 1, 15))
    assert check_round_settings(2025, deadline=dt.date(2026, 1, 15)) == []
    late = check_round_settings(2025, deadline=dt.date(2026, 3, 1))
    assert len(late) == 1 and "2026年1月31日" in late[0]
    old = check_round_settings(2025, "2019")  # an old format kept on purpose: a warning
    assert len(old) == 1 and "2021 格式" in old[0]


@pytest.mark.parametrize("args, expected", [
    (["--year", "2019", "--format", "2021"], "2021 格式适用于2021年度起"),
    (["--year", "2025", "--deadline", "2025-01-15"], "不在2025年度结束之后"),
])
def test_blank_refuses_settings_that_do_not_fit(tmp_path, args, expected):
    result = CliRunner().invoke(app, ["blank", "--unit", "甲镇", "-o", str(tmp_path / "x.xlsx"), *args])
    assert result.exit_code == 2 and expected in result.stderr, result.output
    assert not (tmp_path / "x.xlsx").exists()


def test_blank_warns_of_a_deadline_after_publication(tmp_path):
    result = CliRunner().invoke(app, ["blank", "--unit", "甲镇", "--year", "2025", "--deadline", "2026-03-01",
                                      "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 0 and "提示" in result.stderr and "2026年1月31日" in result.stderr


def test_send_refuses_a_deadline_before_the_year_ends(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("单位名称,邮箱\n甲镇,a@b.cn\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["send", "--roster", str(roster), "--year", "2025", "--deadline", "2025-06-30",
                                      "--outbox", str(tmp_path / "out")])
    assert result.exit_code == 2 and "不在2025年度结束之后" in result.stderr
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- status: local time


@pytest.fixture
def archive_with_a_file(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("单位名称\n甲镇人民政府\n", encoding="utf-8")
    path = tmp_path / "甲镇.xlsx"
    path.write_bytes(b"returned")
    moment = dt.datetime(2026, 1, 10, 6, 30, tzinfo=dt.timezone.utc)  # 14:30 in Beijing
    os.utime(path, (moment.timestamp(), moment.timestamp()))
    with Archive(tmp_path / "a.db") as arch:
        arch.record(FileReport(str(path), [], synthetic_report("2021", "甲镇人民政府", 2025)))
    return roster, tmp_path / "a.db"


def test_status_shows_beijing_time(archive_with_a_file, tmp_path, monkeypatch):
    roster, db = archive_with_a_file
    monkeypatch.delenv("NIANBAO_TZ", raising=False)
    base = ["status", "--roster", str(roster), "--year", "2025", "--archive", str(db)]
    data = json.loads(CliRunner().invoke(app, base + ["--json"]).stdout)
    assert data["units"][0]["received"] == "2026-01-10T14:30:00+08:00"
    result = CliRunner().invoke(app, base + ["--xlsx", str(tmp_path / "s.xlsx")])
    assert "北京时间" in result.stdout and "2026-01-10 14:30" in result.stdout
    assert "+00:00" not in result.stdout and "T06:30" not in result.stdout
    sheet = openpyxl.load_workbook(tmp_path / "s.xlsx")["报送情况"]
    assert sheet["E3"].value == "收到时间（北京时间）" and sheet["E4"].value == "2026-01-10 14:30"
    files = openpyxl.load_workbook(tmp_path / "s.xlsx")["收到的文件"]
    assert files["B2"].value == "2026-01-10 14:30"
    recorded = dt.datetime.strptime(files["J2"].value, "%Y-%m-%d %H:%M").replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert abs((dt.datetime.now(dt.timezone.utc) - recorded).total_seconds()) < 600  # when the archive recorded it


def test_status_time_zone_can_be_configured(archive_with_a_file, monkeypatch):
    roster, db = archive_with_a_file
    monkeypatch.setenv("NIANBAO_TZ", "UTC")
    status = round_status(roster, year=2025, archive=db)
    assert status.units[0].received == "2026-01-10T06:30:00+00:00" and status.received_heading == "收到时间（协调世界时）"
    monkeypatch.setenv("NIANBAO_TZ", "Mars/Olympus")
    result = CliRunner().invoke(app, ["status", "--roster", str(roster), "--year", "2025", "--archive", str(db)])
    assert result.exit_code == 2 and "NIANBAO_TZ" in result.stderr
