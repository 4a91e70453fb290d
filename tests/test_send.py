"""``nianbao send``: blank workbooks and findings mailed as .eml files and through a real SMTP
server on loopback, read back: recipients, Chinese subject and text, the attached workbook."""

from __future__ import annotations

import email
import json
from decimal import Decimal
from email import policy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smtp_helpers import (
    Authenticator,
    Handler,
    attachments,
    body_text,
    self_signed_cert,
    server_tls_context,
    start_server,
    workbook_identity,
)
from toolkit.archive import Archive
from toolkit.cli import app
from toolkit.formats import load_format
from toolkit.mail import (
    LOG_NAME,
    Attachment,
    MailError,
    MailTemplates,
    Outgoing,
    SendLog,
    SmtpSettings,
    build_message,
    message_bytes,
    parse_addresses,
)
from toolkit.model import FileReport, Finding, ReportData
from toolkit.round import send_findings, send_requests, workbook_attachment_name

UNITS = [
    ("蓼堤镇人民政府", "张三", "0551-1234567", "liaodi@example.cn"),
    ("造甲城镇人民政府", "李四", "13800000000", "zaojia@example.cn；backup@example.cn"),
    ("城关街道办事处", "王五", "", "chengguan@example.cn"),
    ("县发展和改革委员会", "赵六", "", ""),
    ("城南乡人民政府", "", "", "不是邮箱"),
]
REACHABLE = {"蓼堤镇人民政府": ["liaodi@example.cn"],
             "造甲城镇人民政府": ["zaojia@example.cn", "backup@example.cn"],
             "城关街道办事处": ["chengguan@example.cn"]}


@pytest.fixture
def roster(tmp_path) -> Path:
    path = tmp_path / "roster.csv"
    lines = ["单位名称,联系人,联系电话,邮箱"] + [",".join(row) for row in UNITS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


@pytest.fixture
def server():
    handler = Handler()
    controller = start_server(handler)
    yield controller, handler
    controller.stop()


def _by_unit(received) -> dict[str, object]:
    out = {}
    for item in received:
        meta = workbook_identity(attachments(item.message)[0][1])["meta"]
        out[meta["unit"]] = item
    return out


# ---------------------------------------------------------------- the .eml outbox


def test_outbox_eml_files_without_network(tmp_path, roster):
    outbox = tmp_path / "outbox"
    report = send_requests(roster, year=2025, deadline="2026-01-15", outbox=outbox,
                           contact={"office": "县政务公开办", "name": "孙七", "phone": "0551-7654321"})
    assert sorted(o.unit for o in report.outcomes) == sorted(REACHABLE)
    assert {o.status for o in report.outcomes} == {"written"}
    assert {u.unit: u.reason for u in report.unreachable} == {
        "县发展和改革委员会": "名单中没有邮箱", "城南乡人民政府": "邮箱地址不正确：不是邮箱"}
    emls = sorted(outbox.glob("*.eml"))
    assert len(emls) == 3
    for path in emls:
        raw = path.read_bytes()
        raw.decode("ascii")  # every header and the body are encoded: a plain 7-bit file
        msg = email.message_from_bytes(raw, policy=policy.default)
        unit = msg["To"].addresses[0].display_name
        assert [a.addr_spec for a in msg["To"].addresses] == REACHABLE[unit]
        assert msg["X-Unsent"] == "1"
        assert msg["Subject"] == f"请填报2025年度政府信息公开工作年度报告（{unit}）"
        body = body_text(msg)
        assert "请于2026年1月15日前" in body and unit in body
        assert "县政务公开办 孙七，电话：0551-7654321" in body
        [(name, content)] = attachments(msg)
        assert name == workbook_attachment_name(unit, 2025) and name.endswith(".xlsx")
        ident = workbook_identity(content)
        assert ident["meta"]["unit"] == unit and int(ident["meta"]["year"]) == 2025
        assert ident["meta"]["format"] == "2021"
        assert ident["info"]["unit"] == unit
    log = [json.loads(line) for line in (outbox / LOG_NAME).read_text(encoding="utf-8").splitlines()]
    assert sorted(e["unit"] for e in log) == sorted(REACHABLE)
    assert {e["status"] for e in log} == {"written"} and {e["channel"] for e in log} == {"outbox"}


def test_outbox_rerun_skips_and_resend_rewrites(tmp_path, roster):
    outbox = tmp_path / "outbox"
    send_requests(roster, year=2025, outbox=outbox)
    again = send_requests(roster, year=2025, outbox=outbox)
    assert {o.status for o in again.outcomes} == {"skipped"}
    forced = send_requests(roster, year=2025, outbox=outbox, resend=True)
    assert {o.status for o in forced.outcomes} == {"written"}
    assert len(list(outbox.glob("*.eml"))) == 3  # the same files, rewritten


def test_format_follows_the_year(tmp_path, roster):
    outbox = tmp_path / "outbox"
    send_requests(roster, year=2020, outbox=outbox)
    for path in outbox.glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        meta = workbook_identity(attachments(msg)[0][1])["meta"]
        assert meta["format"] == "2019" and int(meta["year"]) == 2020
        assert load_format("2019").name in body_text(msg)


# ---------------------------------------------------------------- SMTP on loopback


def test_cli_sends_through_smtp_and_the_server_gets_it_right(tmp_path, roster, server):
    controller, handler = server
    outbox = tmp_path / "outbox"
    result = CliRunner().invoke(app, [
        "send", "--roster", str(roster), "--year", "2025", "--deadline", "2026-01-15",
        "--outbox", str(outbox), "--smtp", f"127.0.0.1:{controller.port}", "--smtp-security", "none",
        "--from", "county@example.cn",
    ])
    assert result.exit_code == 1, result.output  # two units could not be mailed: data problem
    assert "县发展和改革委员会" in result.output and "名单中没有邮箱" in result.output
    assert "城南乡人民政府" in result.output
    got = _by_unit(handler.messages)
    assert sorted(got) == sorted(REACHABLE)
    for unit, item in got.items():
        assert item.mail_from == "county@example.cn"
        assert item.rcpt_tos == REACHABLE[unit]
        assert item.message["Subject"] == f"请填报2025年度政府信息公开工作年度报告（{unit}）"
        assert item.message["X-Unsent"] is None
        body = body_text(item.message)
        assert f"{unit}" in body and "请于2026年1月15日前" in body and "“表二”“表三”“表四”" in body
        [(name, content)] = attachments(item.message)
        assert name == workbook_attachment_name(unit, 2025)
        ident = workbook_identity(content)
        assert ident["meta"]["unit"] == unit and int(ident["meta"]["year"]) == 2025
        assert ident["meta"]["deadline"] == "2026-01-15"
        assert {"表二", "表三", "表四"} <= set(ident["sheets"])
    log = SendLog(outbox / LOG_NAME)
    assert sorted(e["unit"] for e in log.entries if e["status"] == "sent") == sorted(REACHABLE)
    assert len(list(outbox.glob("*.eml"))) == 3  # copies of what was sent


def test_rerun_does_not_send_twice_unless_resend(tmp_path, roster, server):
    controller, handler = server
    smtp = SmtpSettings.parse(f"127.0.0.1:{controller.port}", "none")
    kwargs = dict(year=2025, outbox=tmp_path / "out", smtp=smtp, sender="county@example.cn")
    send_requests(roster, **kwargs)
    assert len(handler.messages) == 3
    again = send_requests(roster, **kwargs)
    assert len(handler.messages) == 3
    assert {o.status for o in again.outcomes} == {"skipped"}
    assert all(o.previous for o in again.outcomes)
    send_requests(roster, resend=True, **kwargs)
    assert len(handler.messages) == 6


def test_one_refused_address_does_not_stop_the_others(tmp_path, roster, server):
    controller, handler = server
    handler.refuse = {"zaojia@example.cn", "backup@example.cn"}
    smtp = SmtpSettings.parse(f"127.0.0.1:{controller.port}", "none")
    kwargs = dict(year=2025, outbox=tmp_path / "out", smtp=smtp, sender="county@example.cn")
    report = send_requests(roster, **kwargs)
    status = {o.unit: o for o in report.outcomes}
    assert status["造甲城镇人民政府"].status == "failed"
    assert "拒收" in status["造甲城镇人民政府"].error and "zaojia@example.cn" in status["造甲城镇人民政府"].error
    assert status["蓼堤镇人民政府"].status == status["城关街道办事处"].status == "sent"
    assert sorted(_by_unit(handler.messages)) == ["城关街道办事处", "蓼堤镇人民政府"]
    # the mailbox is fixed: a re-run sends only the one that failed
    handler.refuse = set()
    retry = send_requests(roster, **kwargs)
    assert {o.unit: o.status for o in retry.outcomes} == {
        "蓼堤镇人民政府": "skipped", "造甲城镇人民政府": "sent", "城关街道办事处": "skipped"}
    assert len(handler.messages) == 3


def test_unreachable_server_fails_every_mail_quickly(tmp_path, roster):
    from smtp_helpers import free_port

    smtp = SmtpSettings.parse(f"127.0.0.1:{free_port()}", "none", timeout=5)
    report = send_requests(roster, year=2025, outbox=tmp_path / "out", smtp=smtp, sender="c@example.cn")
    assert {o.status for o in report.outcomes} == {"failed"}
    assert all("拒绝连接" in o.error for o in report.outcomes)
    assert not list((tmp_path / "out").glob("*.eml"))


def test_starttls_with_login(tmp_path, roster):
    cert, key = self_signed_cert(tmp_path)
    handler, auth = Handler(), Authenticator("county", "秘密-pass")
    controller = start_server(handler, tls_context=server_tls_context(cert, key), require_starttls=True,
                              authenticator=auth, auth_required=True, auth_require_tls=True)
    try:
        args = ["send", "--roster", str(roster), "--year", "2025", "--outbox", str(tmp_path / "out"),
                "--smtp", f"127.0.0.1:{controller.port}", "--smtp-user", "county",
                "--smtp-cafile", str(cert), "--from", "county@example.cn"]
        wrong = CliRunner().invoke(app, args, env={"NIANBAO_SMTP_PASSWORD": "wrong"})
        assert wrong.exit_code == 1
        assert wrong.output.count("拒绝登录") == 3 and handler.messages == []
        assert len(auth.sessions) == 1  # refused once; the other mails did not try to log in again
        right = CliRunner().invoke(app, args, env={"NIANBAO_SMTP_PASSWORD": "秘密-pass"})
        assert right.exit_code == 1, right.output  # only for the two units without a usable address
        assert sorted(_by_unit(handler.messages)) == sorted(REACHABLE)
        assert "秘密-pass" not in right.output
    finally:
        controller.stop()


def test_implicit_tls(tmp_path, roster):
    cert, key = self_signed_cert(tmp_path)
    import ssl

    handler = Handler()
    controller = start_server(handler, ssl_context=server_tls_context(cert, key))
    try:
        smtp = SmtpSettings.parse(f"127.0.0.1:{controller.port}", "ssl",
                                  ssl_context=ssl.create_default_context(cafile=str(cert)))
        report = send_requests(roster, year=2025, outbox=tmp_path / "out", smtp=smtp, sender="c@example.cn")
        assert {o.status for o in report.outcomes} == {"sent"}
        assert len(handler.messages) == 3
    finally:
        controller.stop()


def test_untrusted_certificate_is_refused(tmp_path, roster):
    cert, key = self_signed_cert(tmp_path)
    handler = Handler()
    controller = start_server(handler, tls_context=server_tls_context(cert, key), require_starttls=True)
    try:
        smtp = SmtpSettings.parse(f"127.0.0.1:{controller.port}", "starttls")
        report = send_requests(roster, year=2025, outbox=tmp_path / "out", smtp=smtp, sender="c@example.cn")
        assert {o.status for o in report.outcomes} == {"failed"}
        assert all("加密连接" in o.error for o in report.outcomes)
        assert handler.messages == []
    finally:
        controller.stop()


def test_password_is_never_a_command_line_option(tmp_path, roster):
    result = CliRunner().invoke(app, ["send", "--roster", str(roster), "--year", "2025", "--outbox",
                                      str(tmp_path), "--smtp", "127.0.0.1", "--smtp-password", "x"])
    assert result.exit_code == 2


def test_smtp_user_without_password_and_no_terminal_is_a_usage_error(tmp_path, roster):
    result = CliRunner().invoke(app, ["send", "--roster", str(roster), "--year", "2025", "--outbox",
                                      str(tmp_path), "--smtp", "127.0.0.1", "--smtp-user", "u",
                                      "--from", "c@example.cn"], env={"NIANBAO_SMTP_PASSWORD": None})
    assert result.exit_code == 2 and "NIANBAO_SMTP_PASSWORD" in result.output


# ---------------------------------------------------------------- findings mailed back


def _check_json(tmp_path, roster_units=("蓼堤镇人民政府", "造甲城镇人民政府", "城关街道办事处")) -> Path:
    files = []
    for i, unit in enumerate(roster_units):
        original = tmp_path / "returned" / f"{unit}_2025.xlsx"
        original.parent.mkdir(exist_ok=True)
        original.write_bytes(f"workbook {i}".encode())
        findings = []
        if i < 2:
            findings = [Finding("rule-t3-balance", "error",
                                f"表三 自然人列：第一项({5 + i})加第二项(0)之和为{5 + i}，第三项（七）总计(4)加第四项(0)之和为4，不相等（D12）",
                                rule="t3-balance", sheet="表三", cell="D12", expected=Decimal(5 + i), actual=Decimal(4))]
        findings.append(Finding("value-blank", "warning", "表二 规章 本年制发件数未填，按0计（C4）", sheet="表二", cell="C4"))
        data = ReportData(format="2021", unit=unit, year=2025)
        files.append(FileReport(str(original), findings, data).to_dict())
    path = tmp_path / "check.json"
    path.write_text(json.dumps({"files": files}, ensure_ascii=False), encoding="utf-8")
    return path


def _annotated_dir(tmp_path, units) -> Path:
    from toolkit.workbook.writer import write_workbook

    folder = tmp_path / "annotated"
    for unit in units:
        write_workbook(folder / f"{unit}_2025.xlsx", "2021", unit=unit, year=2025)
    return folder


def test_findings_mail_with_annotated_copy_through_smtp(tmp_path, roster, server):
    controller, handler = server
    check = _check_json(tmp_path)
    annotated = _annotated_dir(tmp_path, ["蓼堤镇人民政府", "造甲城镇人民政府"])
    result = CliRunner().invoke(app, [
        "send", "--findings", str(check), "--roster", str(roster), "--annotated", str(annotated),
        "--outbox", str(tmp_path / "out"), "--smtp", f"127.0.0.1:{controller.port}",
        "--smtp-security", "none", "--from", "county@example.cn", "--deadline", "2026-01-25",
    ])
    assert result.exit_code == 0, result.output
    got = _by_unit(handler.messages)
    assert sorted(got) == ["蓼堤镇人民政府", "造甲城镇人民政府"]  # 城关 has warnings only: no mail
    item = got["造甲城镇人民政府"]
    assert item.rcpt_tos == REACHABLE["造甲城镇人民政府"]
    assert item.message["Subject"] == "2025年度政府信息公开工作年度报告填报表校验意见，请修改后重新报送（造甲城镇人民政府）"
    body = body_text(item.message)
    assert "发现1处错误，另有1处需要核实" in body
    assert "1. 【错误】表三 D12：表三 自然人列：第一项(6)加第二项(0)之和为6" in body
    assert "2. 【需核实】表二 C4：表二 规章 本年制发件数未填" in body
    assert "请于2026年1月25日前" in body
    [(name, content)] = attachments(item.message)
    assert name == "造甲城镇人民政府_2025.xlsx"
    assert content == (annotated / name).read_bytes()
    # the same file again: no second mail; a corrected file that still has errors: a new one
    again = CliRunner().invoke(app, [
        "send", "--findings", str(check), "--roster", str(roster), "--annotated", str(annotated),
        "--outbox", str(tmp_path / "out"), "--smtp", f"127.0.0.1:{controller.port}",
        "--smtp-security", "none", "--from", "county@example.cn"])
    assert again.exit_code == 0 and len(handler.messages) == 2
    (tmp_path / "returned" / "蓼堤镇人民政府_2025.xlsx").write_bytes(b"corrected, still wrong")
    CliRunner().invoke(app, [
        "send", "--findings", str(check), "--roster", str(roster), "--annotated", str(annotated),
        "--outbox", str(tmp_path / "out"), "--smtp", f"127.0.0.1:{controller.port}",
        "--smtp-security", "none", "--from", "county@example.cn"])
    assert len(handler.messages) == 3
    assert handler.messages[-1].rcpt_tos == REACHABLE["蓼堤镇人民政府"]


def test_findings_from_the_archive(tmp_path, roster):
    with Archive(tmp_path / "nianbao.db") as archive:
        for entry in json.loads(_check_json(tmp_path).read_text(encoding="utf-8"))["files"]:
            findings = [Finding(**f) for f in entry["findings"]]
            archive.record(FileReport(entry["path"], findings, ReportData("2021", entry["unit"], 2025)))
    annotated = _annotated_dir(tmp_path, ["蓼堤镇人民政府", "造甲城镇人民政府"])
    report = send_findings(tmp_path / "nianbao.db", roster=roster, annotated=annotated, outbox=tmp_path / "out")
    assert sorted(o.unit for o in report.outcomes) == ["蓼堤镇人民政府", "造甲城镇人民政府"]
    for path in (tmp_path / "out").glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert "【错误】表三 D12" in body_text(msg)
        assert attachments(msg)[0][0].endswith("_2025.xlsx")


def test_findings_for_a_unit_not_in_the_roster_are_listed(tmp_path, roster):
    check = _check_json(tmp_path, roster_units=("不在名单镇",))
    report = send_findings(check, roster=roster, outbox=tmp_path / "out")
    assert report.outcomes == []
    assert [(u.unit, "单位不在名单中" in u.reason) for u in report.unreachable] == [("不在名单镇", True)]


def test_findings_source_that_is_neither_json_nor_archive(tmp_path, roster):
    bad = tmp_path / "x.json"
    bad.write_text("[1, 2", encoding="utf-8")
    result = CliRunner().invoke(app, ["send", "--findings", str(bad), "--roster", str(roster),
                                      "--outbox", str(tmp_path / "out")])
    assert result.exit_code == 2 and "既不是" in result.output


# ---------------------------------------------------------------- messages and templates


def test_message_encoding_round_trip():
    out = Outgoing("request", "城关街道办事处", 2025, ["a@example.cn"], "关于报送年报的通知（城关街道办事处）",
                   "第一行：中文正文\n第二行「引号」与全角（括号）\n",
                   [Attachment("城关街道办事处_2025年度政府信息公开工作年度报告填报表.xlsx", b"PK\x03\x04 data")])
    raw = message_bytes(build_message(out, sender="县政务公开办 <county@example.cn>"))
    text = raw.decode("ascii")
    assert "filename*" in text  # RFC 2231 parameter for the Chinese file name
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == out.subject
    assert msg["To"].addresses[0].display_name == "城关街道办事处"
    assert body_text(msg).replace("\r\n", "\n") == out.body
    assert attachments(msg) == [(out.attachments[0].filename, b"PK\x03\x04 data")]
    assert msg.get_content_type() == "multipart/mixed"


@pytest.mark.parametrize("text, good, bad", [
    ("a@example.cn", ["a@example.cn"], []),
    (" a@example.cn；b@example.cn ", ["a@example.cn", "b@example.cn"], []),
    ("a@example.cn，A@example.cn、c@x.org", ["a@example.cn", "c@x.org"], []),
    ("张三 <zs@example.cn>", ["zs@example.cn"], []),
    ("a＠example.cn", ["a@example.cn"], []),
    ("无", [], ["无"]),
    ("", [], []),
    (None, [], []),
    ("a@b", [], ["a@b"]),
])
def test_parse_addresses(text, good, bad):
    assert parse_addresses(text) == (good, bad)


def test_county_edited_template_is_used(tmp_path, roster):
    own = tmp_path / "mail"
    own.mkdir()
    (own / "request.txt.j2").write_text(
        "主题：【{{ year }}年报】{{ unit }}请查收\n\n{{ unit }}：附件是填报表，{{ deadline }}前交。\n", encoding="utf-8")
    send_requests(roster, year=2025, deadline="2026-01-15", outbox=tmp_path / "out", templates=own)
    subjects = set()
    for path in (tmp_path / "out").glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        subjects.add(msg["Subject"])
        assert "2026年1月15日前交" in body_text(msg)
    assert "【2025年报】蓼堤镇人民政府请查收" in subjects


def test_broken_template_is_a_clear_error(tmp_path):
    own = tmp_path / "mail"
    own.mkdir()
    (own / "request.txt.j2").write_text("主题：{{ year }\n\n正文\n", encoding="utf-8")
    with pytest.raises(MailError, match="第1行有语法错误"):
        MailTemplates(own).render("request", year=2025)
    (own / "request.txt.j2").write_text("没有主题行\n", encoding="utf-8")
    with pytest.raises(MailError, match="主题"):
        MailTemplates(own).render("request")
    (own / "request.txt.j2").write_text("主题：{{ nonexistent }}\n", encoding="utf-8")
    with pytest.raises(MailError, match="不存在的变量"):
        MailTemplates(own).render("request")


def test_smtp_target_parsing():
    assert (SmtpSettings.parse("mail.example.cn").port, SmtpSettings.parse("mail.example.cn", "ssl").port) == (587, 465)
    s = SmtpSettings.parse("[::1]:2525", "none")
    assert (s.host, s.port, s.security) == ("::1", 2525, "none")
    for bad in ("", "host:port", "host:70000"):
        with pytest.raises(MailError):
            SmtpSettings.parse(bad)
    with pytest.raises(MailError):
        SmtpSettings.parse("host", "tls")


def test_portal_url_puts_each_units_private_link_in_its_mail(tmp_path, roster):
    from toolkit.portal.access import portal_links

    outbox, db = tmp_path / "outbox", tmp_path / "nianbao.db"
    result = CliRunner().invoke(app, ["send", "--roster", str(roster), "--year", "2025", "--outbox", str(outbox),
                                      "--portal-url", "http://10.1.2.3:8765/", "--archive", str(db)])
    assert result.exit_code == 1, result.output  # two roster units have no usable address
    links = portal_links(db, list(REACHABLE), 2025, "http://10.1.2.3:8765")
    for path in outbox.glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        unit = msg["To"].addresses[0].display_name
        body = body_text(msg)
        assert links[unit] in body and "专用链接" in body
        assert all(link not in body for other, link in links.items() if other != unit)
    plain = send_requests(roster, year=2025, outbox=tmp_path / "plain")
    assert all("专用链接" not in body_text(email.message_from_bytes(p.read_bytes(), policy=policy.default))
               for p in (tmp_path / "plain").glob("*.eml")) and plain.outcomes


def test_portal_url_needs_the_archive_and_a_web_address(tmp_path, roster):
    base = ["send", "--roster", str(roster), "--year", "2025", "--outbox", str(tmp_path / "o")]
    missing = CliRunner().invoke(app, [*base, "--portal-url", "http://a:1"])
    assert missing.exit_code == 2 and "--archive" in missing.output
    wrong = CliRunner().invoke(app, [*base, "--portal-url", "10.1.2.3", "--archive", str(tmp_path / "a.db")])
    assert wrong.exit_code == 2 and "http://" in wrong.output
