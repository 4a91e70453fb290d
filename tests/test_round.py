"""A whole January round: roster → mails to a loopback SMTP server → returned workbooks (some
wrong, one missing) → check into the archive → findings mailed back → status → a corrected file
→ next year's check takes last year's 结转下年度继续办理 from the archive and flags a mismatch."""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from smtp_helpers import Handler, attachments, body_text, start_server, workbook_identity
from shared_data import seed_path
from toolkit.archive import Archive
from toolkit.batch import check_paths
from toolkit.cli import app
from toolkit.formats import load_format
from toolkit.mail import SmtpSettings
from toolkit.demo.round import demo_round
from toolkit.demo.synthetic import synthetic_report
from toolkit.round import round_status, send_findings, send_requests
from toolkit.layout import cell_addresses
from toolkit.workbook.writer import write_workbook

YEAR = 2025
UNITS = [  # unit, email
    ("城关镇人民政府", "cgz@example.cn"),
    ("蓼堤镇人民政府", "ldz@example.cn"),
    ("西陵寺镇人民政府", "xlsz@example.cn"),
    ("白庙乡人民政府", ""),  # no address: listed, returns its file by hand
    ("县教育体育局", "jtj@example.cn"),  # never returns
]


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "名册.csv"
    path.write_text("单位名称,联系人,邮箱\n" + "\n".join(f"{u},联系人,{e}" for u, e in UNITS) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def smtp():
    handler = Handler()
    controller = start_server(handler)
    yield SmtpSettings.parse(f"127.0.0.1:{controller.port}", "none"), handler
    controller.stop()


def _return(folder, unit, year, data, when):
    path = folder / f"{unit}_{year}年报.xlsx"
    write_workbook(path, "2021", unit=unit, year=year, data=data)
    os.utime(path, (when, when))
    return path


def test_full_round(tmp_path, roster, smtp):
    settings, server = smtp
    outbox, returned, db = tmp_path / "outbox", tmp_path / "returned", tmp_path / "nianbao.db"

    # 1. the blank workbooks go out
    sent = send_requests(roster, year=YEAR, deadline="2026-01-15", outbox=outbox, smtp=settings,
                         sender="county@example.cn")
    assert sorted(o.unit for o in sent.outcomes if o.status == "sent") == sorted(u for u, e in UNITS if e)
    assert [u.unit for u in sent.unreachable] == ["白庙乡人民政府"]
    got = {workbook_identity(attachments(m.message)[0][1])["meta"]["unit"]: m for m in server.messages}
    for unit, address in UNITS:
        if address:
            assert got[unit].rcpt_tos == [address]
            assert f"请填报{YEAR}年度政府信息公开工作年度报告（{unit}）" == got[unit].message["Subject"]

    # 2. files come back: one clean, one with 表三 out of balance, one township reporting 规章
    #    (a warning only), one delivered by hand, one never
    base = time.time() - 86400 * 5
    data = {u: synthetic_report("2021", u, YEAR, seed=3) for u, _ in UNITS}
    data["蓼堤镇人民政府"].values["t3.carried_over.natural"] += 1
    data["西陵寺镇人民政府"].values["t2.rules.made"] = Decimal(1)
    for i, unit in enumerate(["城关镇人民政府", "蓼堤镇人民政府", "西陵寺镇人民政府", "白庙乡人民政府"]):
        _return(returned, unit, YEAR, data[unit], base + i * 3600)

    # 3. checked into the archive
    report = check_paths([returned], roster=roster, year=YEAR, archive=db)
    by_unit = {f.data.unit: f for f in report.files}
    assert not by_unit["城关镇人民政府"].findings
    assert {f.rule for f in by_unit["蓼堤镇人民政府"].findings if f.severity == "error"} == {"t3-balance"}
    assert by_unit["西陵寺镇人民政府"].errors == 0 and by_unit["西陵寺镇人民政府"].warnings >= 1

    # 4. the township with errors gets its findings and an annotated copy
    before = len(server.messages)
    back = send_findings(db, roster=roster, year=YEAR, outbox=outbox, smtp=settings, sender="county@example.cn")
    assert [(o.unit, o.status) for o in back.outcomes] == [("蓼堤镇人民政府", "sent")]
    mail = server.messages[before]
    assert mail.rcpt_tos == ["ldz@example.cn"]
    assert "表三 自然人列" in body_text(mail.message) and "不相等" in body_text(mail.message)
    [(name, content)] = attachments(mail.message)
    assert name == "蓼堤镇人民政府_2025年报.xlsx"
    import io

    import openpyxl

    copy = openpyxl.load_workbook(io.BytesIO(content))
    assert "校验结果" in copy.sheetnames  # the annotated copy, made on the fly
    assert workbook_identity(content)["meta"]["unit"] == "蓼堤镇人民政府"

    # 5. status: missing / errors / clean
    status = {u.unit: u for u in round_status(roster, year=YEAR, archive=db).units}
    assert {u: s.status for u, s in status.items()} == {
        "城关镇人民政府": "clean", "蓼堤镇人民政府": "errors", "西陵寺镇人民政府": "clean",
        "白庙乡人民政府": "clean", "县教育体育局": "missing"}
    assert status["蓼堤镇人民政府"].errors == 2  # the 自然人 column and the 总计 column

    # 6. the corrected file replaces that unit-year's data; the wrong one stays in the history
    fixed = synthetic_report("2021", "蓼堤镇人民政府", YEAR, seed=3)
    corrected = _return(tmp_path / "returned2", "蓼堤镇人民政府", YEAR, fixed, base + 86400)
    check_paths([corrected], roster=roster, year=YEAR, archive=db)
    result = CliRunner().invoke(app, ["status", "--roster", str(roster), "--year", str(YEAR),
                                      "--archive", str(db), "--json"])
    assert result.exit_code == 1  # 县教育体育局 is still missing
    payload = json.loads(result.stdout)
    assert [(u["unit"], u["status"]) for u in payload["units"]] == [
        ("城关镇人民政府", "clean"), ("蓼堤镇人民政府", "clean"), ("西陵寺镇人民政府", "clean"),
        ("白庙乡人民政府", "clean"), ("县教育体育局", "missing")]
    with Archive(db) as arch:
        subs = arch.submissions("蓼堤镇人民政府", YEAR)
        assert [(s.errors > 0, s.current) for s in subs] == [(True, False), (False, True)]
        carried_over = arch.data("城关镇人民政府", YEAR).values["t3.carried_over.natural"]

    # 7. next year: 城关镇's 上年结转 does not match what the archive says it carried over;
    #    西陵寺镇's does. No --prior: last year's figures come from the archive.
    next_year = tmp_path / "returned_next"
    good = synthetic_report("2021", "西陵寺镇人民政府", YEAR + 1, seed=4, prior=data["西陵寺镇人民政府"])
    bad = synthetic_report("2021", "城关镇人民政府", YEAR + 1, seed=4, prior=data["城关镇人民政府"])
    bad.values["t3.carried_in.natural"] += 3
    bad.values["t3.carried_over.natural"] += 3  # 表三 itself still balances
    _return(next_year, "西陵寺镇人民政府", YEAR + 1, good, time.time())
    _return(next_year, "城关镇人民政府", YEAR + 1, bad, time.time())
    result = CliRunner().invoke(app, ["check", str(next_year), "--year", str(YEAR + 1), "--archive", str(db), "--json"])
    assert result.exit_code == 1
    files = {f["unit"]: f for f in json.loads(result.stdout)["files"]}
    carry = [f for f in files["城关镇人民政府"]["findings"] if f["rule"] == "t3-carry-prior"]
    where = cell_addresses(load_format("2021"))
    assert [f["cell"] for f in carry] == [where["t3.carried_in.natural"].a1, where["t3.carried_in.total"].a1]
    natural = carry[0]
    assert Decimal(natural["expected"]) == carried_over
    assert Decimal(natural["actual"]) == carried_over + 3
    assert not [f for f in files["西陵寺镇人民政府"]["findings"] if f["rule"] == "t3-carry-prior"]
    assert files["西陵寺镇人民政府"]["errors"] == 0
    with Archive(db) as arch:
        assert arch.years("城关镇人民政府") == [YEAR, YEAR + 1]


def test_without_the_archive_there_is_no_cross_year_check(tmp_path):
    data = synthetic_report("2021", "城关镇人民政府", YEAR + 1, seed=4)
    data.values["t3.carried_in.natural"] += 3
    data.values["t3.carried_over.natural"] += 3
    path = _return(tmp_path, "城关镇人民政府", YEAR + 1, data, time.time())
    report = check_paths([path], year=YEAR + 1)
    assert not [f for f in report.files[0].findings if f.rule == "t3-carry-prior"]


def test_an_explicit_prior_wins_over_the_archive(tmp_path):
    db = tmp_path / "a.db"
    last = synthetic_report("2021", "城关镇人民政府", YEAR, seed=1)
    with Archive(db) as arch:
        arch.record_data(last, source="check")
    this = synthetic_report("2021", "城关镇人民政府", YEAR + 1, seed=1, prior=last)
    path = _return(tmp_path / "in", "城关镇人民政府", YEAR + 1, this, time.time())
    clean = check_paths([path], year=YEAR + 1, archive=db)
    assert not [f for f in clean.files[0].findings if f.rule == "t3-carry-prior"]
    other = synthetic_report("2021", "城关镇人民政府", YEAR, seed=99)
    other.values["t3.carried_over.natural"] = this.values["t3.carried_in.natural"] + 5
    prior_json = tmp_path / "prior.json"
    prior_json.write_text(json.dumps(other.to_dict(), ensure_ascii=False), encoding="utf-8")
    flagged = check_paths([path], year=YEAR + 1, archive=db, prior=prior_json)
    assert [f.rule for f in flagged.files[0].findings if f.rule == "t3-carry-prior"][:1] == ["t3-carry-prior"]


def test_check_refuses_a_file_that_is_not_an_archive(tmp_path):
    not_db = tmp_path / "notes.db"
    not_db.write_text("hello", encoding="utf-8")
    path = _return(tmp_path / "in", "城关镇人民政府", YEAR, synthetic_report("2021", "城关镇人民政府", YEAR), time.time())
    result = CliRunner().invoke(app, ["check", str(path), "--archive", str(not_db)])
    assert result.exit_code == 2 and "不是年报档案" in result.output
    assert not_db.read_text(encoding="utf-8") == "hello"


def test_demo_round_on_the_samples(tmp_path):
    from toolkit.demo import samples_dir
    from toolkit.roster import read_roster

    roster = samples_dir() / "roster.csv"
    entries, _ = read_roster(roster)
    result = demo_round(tmp_path / "demo", roster, YEAR, deadline="2026-01-15")
    assert result.ok
    with_email = [e for e in entries if e.email]
    requests = sorted(result.outbox.glob("*_填报通知.eml"))
    assert len(requests) == len(with_email)
    assert len(list(result.outbox.glob("*_校验意见.eml"))) == 1
    statuses = [u.status for u in result.status.units]
    assert statuses.count("missing") == 1 and statuses.count("errors") == 1
    assert statuses.count("clean") == len(entries) - 2
    carry = [f for f in result.next_year.files[0].findings if f.rule == "t3-carry-prior"]
    assert carry
    assert all(p.exists() for p in result.paths)
    assert any("次年校验" in line for line in result.lines)


def test_imported_published_report_fills_last_year(tmp_path):
    seed = seed_path("000")  # 睢县蓼堤镇人民政府, 2021
    db = tmp_path / "nianbao.db"
    result = CliRunner().invoke(app, ["import", str(seed), "--archive", str(db)])
    assert "已记入档案" in result.output, result.output
    with Archive(db) as arch:
        [stored] = arch.reports()
        assert stored.submission.source == "import" and stored.submission.file_name == seed.name
        unit, year = stored.unit, stored.year
        published = stored.data.values
    this = synthetic_report("2021", unit, year + 1, seed=5)
    for col in ("natural", "business", "research", "nonprofit", "legal", "other"):
        # this year's 上年结转 as published last year, with 表三 still balancing
        delta = (published[f"t3.carried_over.{col}"] or Decimal(0)) - this.values[f"t3.carried_in.{col}"]
        this.values[f"t3.carried_in.{col}"] += delta
        this.values[f"t3.carried_over.{col}"] += delta
    path = _return(tmp_path / "in", unit, year + 1, this, time.time())
    clean = check_paths([path], year=year + 1, archive=db)
    assert not [f for f in clean.files[0].findings if f.rule == "t3-carry-prior"]
    this.values["t3.carried_in.natural"] += 1
    this.values["t3.carried_over.natural"] += 1
    path = _return(tmp_path / "in2", unit, year + 1, this, time.time())
    flagged = check_paths([path], year=year + 1, archive=db)
    carry = [f for f in flagged.files[0].findings if f.rule == "t3-carry-prior"]
    assert carry and Decimal(carry[0].expected) == (published["t3.carried_over.natural"] or Decimal(0))
    history = CliRunner().invoke(app, ["history", unit, "--archive", str(db)])
    assert f"{year}（导入）" in history.output and str(year + 1) in history.output


def test_archive_prior_in_worker_processes(tmp_path):
    db = tmp_path / "a.db"
    units = ["城关镇人民政府", "蓼堤镇人民政府", "西陵寺镇人民政府"]
    last = {u: synthetic_report("2021", u, YEAR, seed=8) for u in units}
    with Archive(db) as arch:
        for data in last.values():
            arch.record_data(data, source="check")
    for i, unit in enumerate(units):
        this = synthetic_report("2021", unit, YEAR + 1, seed=8, prior=last[unit])
        if i == 1:
            this.values["t3.carried_in.natural"] += 1
            this.values["t3.carried_over.natural"] += 1
        _return(tmp_path / "in", unit, YEAR + 1, this, time.time())
    report = check_paths([tmp_path / "in"], year=YEAR + 1, archive=db, workers=2)
    flagged = {f.data.unit for f in report.files if any(x.rule == "t3-carry-prior" for x in f.findings)}
    assert flagged == {"蓼堤镇人民政府"}
    with Archive(db) as arch:
        assert len(arch.reports(year=YEAR + 1)) == 3
