"""``nianbao serve`` end to end: the portal started for real on loopback, driven by headless
Chromium (Playwright with Debian's /usr/bin/chromium) and by plain HTTP clients."""

from __future__ import annotations

import io
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pytest

from web_helpers import ROSTER, Client, Server, workbook, write_roster

REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path / "nianbao.db", write_roster(tmp_path / "roster.csv"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    from browser import browser as launched_browser

    with launched_browser() as b:
        yield b


def _file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / "upload" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    return path


def _row(page, unit: str):
    return page.locator(f"tr[data-unit='{unit}']")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_township_fixes_its_own_workbook(server, browser, tmp_path):
    unit = "蓼堤镇人民政府"
    page = browser.new_page(viewport=DESKTOP)
    page.goto(server.link(unit))
    assert unit in page.locator("h1").inner_text()
    _shot(page, "township.png")

    page.set_input_files("input[type=file]", str(_file(tmp_path, "蓼堤镇.xlsx", workbook(unit, wrong=True))))
    page.click("button[type=submit]")
    page.wait_for_selector("[data-received]")
    findings = page.locator("table.findings tbody tr")
    assert findings.count() >= 1
    first = findings.first.inner_text()
    assert "表三" in first and "错误" in first
    marked = page.locator("table.grid td.marked")
    assert marked.count() >= 1  # the offending cell drawn in the official grid
    cell = page.locator("table.findings tbody tr").first.locator("td.cell-ref").inner_text()
    assert any(cell == td.get_attribute("title") for td in marked.all())
    assert page.locator("ol.beside li").count() >= 1
    assert page.locator("[data-status]").inner_text() == "有错误"
    _shot(page, "findings.png")
    page.set_viewport_size(PHONE)
    _shot(page, "findings-phone.png")
    page.set_viewport_size(DESKTOP)

    page.set_input_files("input[type=file]", str(_file(tmp_path, "蓼堤镇_改.xlsx", workbook(unit))))
    page.click("button[type=submit]")
    page.wait_for_selector("[data-received]")
    assert page.locator("[data-status]").inner_text() == "已通过"
    assert page.locator("table.grid td.marked").count() == 0

    clerk = browser.new_page(viewport=DESKTOP)
    clerk.goto(server.url + "/")
    assert _row(clerk, unit).locator(".status").inner_text() == "已通过"
    assert _row(clerk, "城关镇人民政府").locator(".status").inner_text() == "未报送"
    history = server.portal.submissions(unit)
    assert len(history) == 2 and sum(1 for s in history if s.current) == 1  # the re-upload keeps the history


def test_clerk_uploads_a_folder_zip_and_downloads_the_summary(server, browser, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("回收/城关镇.xlsx", workbook("城关镇人民政府"))
        z.writestr("回收/西陵寺镇.xlsx", workbook("西陵寺镇人民政府", wrong=True))
        z.writestr("回收/说明.txt", "not a workbook")
    page = browser.new_page(viewport=DESKTOP, accept_downloads=True)
    page.goto(server.url + "/")
    page.set_input_files("input[type=file]", str(_file(tmp_path, "回收.zip", buffer.getvalue())))
    page.click("button[type=submit]")
    page.wait_for_selector("[data-received]")
    received = page.locator("[data-received]")
    assert received.count() == 3
    assert "已记入 城关镇人民政府" in received.nth(0).inner_text()
    assert "已记入 西陵寺镇人民政府" in received.nth(1).inner_text()
    assert "说明.txt" in received.nth(2).inner_text() and "未记入" in received.nth(2).inner_text()

    page.goto(server.url + "/")
    assert _row(page, "城关镇人民政府").locator(".status").inner_text() == "已通过"
    assert _row(page, "西陵寺镇人民政府").locator(".status").inner_text() == "有错误"
    page.goto(server.url + "/?status=errors")
    assert page.locator("tbody tr[data-unit]").count() == 1
    page.goto(server.url + "/")
    _shot(page, "dashboard.png")
    page.set_viewport_size(PHONE)
    _shot(page, "dashboard-phone.png")
    page.set_viewport_size(DESKTOP)

    with page.expect_download() as info:
        page.click("a[href='/download/summary']")
    summary = tmp_path / "summary.xlsx"
    info.value.save_as(summary)
    book = openpyxl.load_workbook(summary)
    cells = " ".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value)
    assert "城关镇" in cells and "西陵寺镇" in cells

    with page.expect_download() as info:
        page.click("a[href='/download/rollup']")
    from toolkit.batch import check_file

    info.value.save_as(tmp_path / "rollup.xlsx")
    rollup = check_file(tmp_path / "rollup.xlsx")
    assert rollup.data is not None and rollup.valid and "全县合计（1个单位）" in rollup.data.unit
    city = server.portal.current_data("城关镇人民政府")
    assert rollup.data.values["t3.new.total"] == city.values["t3.new.total"]  # only the unit without errors

    for what, units in (("request_mails", len(ROSTER)), ("findings_mails", 1)):
        with page.expect_download() as info:
            page.click(f"a[href='/download/{what}']")
        mails = zipfile.ZipFile(info.value.path())
        assert len([n for n in mails.namelist() if n.endswith(".eml")]) == units
        if what == "findings_mails":
            assert "西陵寺镇" in " ".join(mails.namelist())

    with page.expect_response(lambda r: r.url.endswith("/unit/2/history.svg")) as chart:
        page.click("a[href='/unit/2']")
    assert chart.value.status == 200 and chart.value.header_value("content-type") == "image/svg+xml"
    assert page.locator("table.grid td.marked").count() >= 1
    page.wait_for_function("document.querySelector('img.chart').complete")
    assert page.locator("img.chart").evaluate("img => img.naturalWidth > 0")
    for link in ("annotated", "blank"):
        with page.expect_download() as info:
            page.click(f"a[href='/unit/2/{link}']")
        target = tmp_path / f"{link}.xlsx"
        info.value.save_as(target)
        openpyxl.load_workbook(target)


def test_another_units_token_sees_nothing(server, tmp_path):
    client = Client()
    csrf = client.csrf(server.link("城关镇人民政府"))
    status, _ = client.upload(server.link("城关镇人民政府") + "/upload", "城关镇.xlsx", workbook("城关镇人民政府"), csrf)
    assert status == 200
    other = Client()
    _, html = other.get(server.link("北湖街道办事处"))
    assert "北湖街道办事处" in html and "城关镇" not in html
    assert "/unit/" not in html and "/download/" not in html
    for bad in ("/u/" + "A" * 32, "/u/" + server.portal.token("城关镇人民政府")[:-1] + "x"):
        try:
            other.get(server.url + bad)
        except Exception as exc:
            assert getattr(exc, "code", None) == 404
            assert "报送链接无效" in exc.read().decode("utf-8")
        else:
            raise AssertionError(f"{bad} answered")
    # a workbook naming another unit is refused on a township link, never lands on that unit
    csrf = other.csrf(server.link("北湖街道办事处"))
    status, html = other.upload(server.link("北湖街道办事处") + "/upload", "城关镇.xlsx",
                                workbook("城关镇人民政府", seed=3), csrf)
    assert status == 200 and "不是本单位" in html
    assert len(server.portal.submissions("城关镇人民政府")) == 1


def test_hostile_file_gets_its_chinese_answer(server, browser, tmp_path):
    from hostile.make_corpus import build_corpus, load_manifest

    corpus = build_corpus(tmp_path / "hostile", only=["word.xlsx", "random.xlsx"])
    page = browser.new_page(viewport=DESKTOP)
    page.goto(server.link("蓼堤镇人民政府"))
    page.set_input_files("input[type=file]", str(corpus.files["word.xlsx"]))
    page.click("button[type=submit]")
    page.wait_for_selector("[data-received]")
    received = page.locator("[data-received]").inner_text()
    assert "未记入" in received
    from toolkit.readers import read_report

    expected = read_report(corpus.files["word.xlsx"]).findings[0]
    assert expected.code in load_manifest()["word.xlsx"]["codes"]
    assert expected.message in received
    assert page.locator("[data-status]").inner_text() == "未报送"
    _shot(page, "hostile.png")


def test_csrf_and_clerk_login(tmp_path):
    srv = Server(tmp_path / "nianbao.db", write_roster(tmp_path / "roster.csv"), password="县里的密码123")
    try:
        client = Client()
        status, html = client.get(srv.url + "/")
        assert status == 200 and "县政务公开办登录" in html  # redirected to the login page
        csrf = client.csrf(srv.url + "/login")
        status, html = client.upload(srv.url + "/upload", "a.xlsx", workbook("城关镇人民政府"), csrf)
        assert "县政务公开办登录" in html and not srv.portal.submissions("城关镇人民政府")
        status, html = client.upload(srv.link("城关镇人民政府") + "/upload", "a.xlsx", workbook("城关镇人民政府"), "forged")
        assert status == 403 and "页面已过期" in html
        assert not srv.portal.submissions("城关镇人民政府")
    finally:
        srv.stop()


def test_browser_login_with_password(tmp_path, browser):
    srv = Server(tmp_path / "nianbao.db", write_roster(tmp_path / "roster.csv"), password="县里的密码123")
    try:
        page = browser.new_page(viewport=DESKTOP)
        page.goto(srv.url + "/")
        page.fill("input[name=password]", "不对的密码")
        page.click("button[type=submit]")
        assert "密码不正确" in page.locator("main").inner_text()
        page.fill("input[name=password]", "县里的密码123")
        page.click("button[type=submit]")
        assert page.locator("tr[data-unit]").count() == len(ROSTER)
        cookie = next(c for c in page.context.cookies() if c["name"] == "nianbao_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        srv.portal.set_password("新的密码456789")  # a changed password ends the sessions made with the old one
        page.goto(srv.url + "/")
        assert "县政务公开办登录" in page.locator("main").inner_text()
    finally:
        srv.stop()


def test_forty_simultaneous_uploads(server):
    """40 townships' uploads at once on loopback: every one recorded, the archive intact."""
    jobs = [(ROSTER[i % len(ROSTER)], i) for i in range(40)]

    def one(job):
        unit, seed = job
        client = Client()
        link = server.link(unit)
        csrf = client.csrf(link)
        return client.upload(link + "/upload", f"{unit}_{seed}.xlsx", workbook(unit, seed=seed), csrf)

    files = {job: workbook(*job[:1], seed=job[1]) for job in jobs[:1]}
    assert files
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(one, jobs, timeout=600))
    elapsed = time.monotonic() - started
    assert [status for status, _ in results] == [200] * 40
    assert all("已记入" in html for _, html in results)
    assert elapsed < 600
    recorded = sum(len(server.portal.submissions(unit)) for unit in ROSTER)
    assert recorded == 40
    db = sqlite3.connect(server.portal.archive_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    assert all(row.status != "missing" for row in server.portal.status().units)


def test_serve_command_refuses_the_network_without_a_password(tmp_path):
    import os
    import socket
    import subprocess
    import sys
    import urllib.request

    roster = write_roster(tmp_path / "roster.csv")
    base = [sys.executable, "-m", "toolkit", "serve", "--archive", str(tmp_path / "nianbao.db"), "--roster", str(roster),
            "--year", "2025"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    refused = subprocess.run(base + ["--host", "0.0.0.0"], capture_output=True, text=True, env=env, timeout=120)
    assert refused.returncode == 2 and "必须先设置管理密码" in refused.stderr
    short = subprocess.run(base + ["--set-password"], capture_output=True, text=True, timeout=120,
                           env={**env, "NIANBAO_PASSWORD": "short"})
    assert short.returncode == 2 and "至少要 8 个字符" in short.stderr
    done = subprocess.run(base + ["--set-password"], capture_output=True, text=True, timeout=120,
                          env={**env, "NIANBAO_PASSWORD": "县里的密码123"})
    assert done.returncode == 0 and "管理密码已设置" in done.stdout
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(base + ["--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
                    html = response.read().decode("utf-8")
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, server.stderr.read()
                time.sleep(0.2)
        assert "县政务公开办登录" in html  # the password set above: the clerk pages ask for it
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_checked_warning_keeps_its_mark_on_a_reupload(server, browser, tmp_path):
    from decimal import Decimal

    from toolkit.demo.synthetic import synthetic_report
    from toolkit.workbook.writer import workbook_bytes

    unit = "城关镇人民政府"
    data = synthetic_report("2021", unit, 2025)
    data.values["t2.rules.made"] = data.values["t2.rules.in_force"] = Decimal(1)  # a 镇 reporting 规章: a warning
    content = workbook_bytes("2021", unit=unit, year=2025, data=data)
    page = browser.new_page(viewport=DESKTOP)
    page.goto(server.link(unit))
    page.set_input_files("input[type=file]", str(_file(tmp_path, "城关镇.xlsx", content)))
    page.click("button[type=submit]")
    page.wait_for_selector("[data-received]")
    page.goto(server.url + "/unit/0")
    rows = page.locator("table.findings tbody tr.warning")
    assert rows.count() == 2 and page.locator("form.waive").count() == 2
    page.locator("form.waive input[name=note]").first.fill("县里已核实：该镇确未制定规章，系填错列")
    page.locator("form.waive button").first.click()
    assert page.locator("tr.waived").count() == 1
    assert "县里已核实" in page.locator("tr.waived").inner_text() and "已核实" in page.locator("tr.waived").inner_text()
    assert page.locator("table.grid td.marked.checked").count() == 1  # the cell drawn as checked
    assert page.locator("table.grid td.marked.warning").count() == 1
    page.goto(server.link(unit))  # the same warning in another file uploaded later keeps its mark
    assert page.locator("form.waive").count() == 0 and page.locator("tr.waived").count() == 1
    data.info["phone"] = "0370-1234567"
    again = workbook_bytes("2021", unit=unit, year=2025, data=data)
    page.set_input_files("input[type=file]", str(_file(tmp_path, "城关镇_再报.xlsx", again)))
    page.click("button[type=submit]")
    page.wait_for_selector("[data-received]")
    page.goto(server.url + "/unit/0")
    assert page.locator("tr.waived").count() == 1
    assert len(server.portal.submissions(unit)) == 2
    errors = [f for f in server.portal.current_findings(unit) if f.severity == "error"]
    assert not errors


def test_an_upload_over_the_cap_is_refused_before_it_is_read(server):
    import http.client

    from toolkit.web.app import settings

    cap = int(settings()["limits"]["max_request_mb"]) * 1024 * 1024
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    path = "/u/" + server.portal.token("城关镇人民政府") + "/upload"
    connection.putrequest("POST", path)
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(cap + 1))
    connection.endheaders()
    connection.send(b"--x\r\n")
    response = connection.getresponse()
    assert response.status == 413 and "上传的文件太大" in response.read().decode("utf-8")
    connection.close()
    for header, value in SECURITY_HEADERS.items():
        with urllib.request.urlopen(server.link("城关镇人民政府"), timeout=30) as page:
            assert page.headers[header] == value


def test_a_loopback_portal_answers_only_this_machines_names(server):
    import http.client

    for host, code in ((f"127.0.0.1:{server.port}", 200), (f"localhost:{server.port}", 200),
                       ("evil.example:80", 421), (f"rebind.example:{server.port}", 421)):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("GET", "/", headers={"Host": host})
        response = connection.getresponse()
        body = response.read().decode("utf-8")
        assert response.status == code, host
        if code != 200:
            assert "只接受用本机地址" in body
        connection.close()


SECURITY_HEADERS = {"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


def test_a_restart_keeps_everything(tmp_path):
    roster = write_roster(tmp_path / "roster.csv")
    first = Server(tmp_path / "nianbao.db", roster)
    try:
        client = Client()
        link = first.link("北湖街道办事处")
        status, _ = client.upload(link + "/upload", "北湖.xlsx", workbook("北湖街道办事处", wrong=True), client.csrf(link))
        assert status == 200
        token = first.portal.token("北湖街道办事处")
    finally:
        first.stop()
    second = Server(tmp_path / "nianbao.db", roster)
    try:
        assert second.portal.token("北湖街道办事处") == token  # the link sent out still works
        _, html = Client().get(second.link("北湖街道办事处"))
        assert "有错误" in html and "北湖.xlsx" in html
    finally:
        second.stop()


def test_the_clerk_sends_the_request_mails_from_the_page(tmp_path, browser):
    from smtp_helpers import Handler, start_server

    from toolkit.mail import SmtpSettings

    handler = Handler()
    controller = start_server(handler)
    srv = Server(tmp_path / "nianbao.db", write_roster(tmp_path / "roster.csv"))
    try:
        srv.portal.configure_mail(SmtpSettings.parse(f"127.0.0.1:{controller.port}", "none"), "county@example.cn")
        page = browser.new_page(viewport=DESKTOP)
        page.goto(srv.url + "/")
        page.click("form[action='/round/send'] button >> text=发送填报通知")
        page.wait_for_selector("[data-sent]")
        assert page.locator("[data-sent] tbody tr.sent").count() == len(ROSTER)
        assert sorted(r.rcpt_tos[0] for r in handler.messages) == sorted(f"u{i}@example.cn" for i in range(len(ROSTER)))
        page.goto(srv.url + "/")
        page.click("form[action='/round/send'] button >> text=发送填报通知")  # again: nothing sent twice
        page.wait_for_selector("[data-sent]")
        assert page.locator("[data-sent] tbody tr.skipped").count() == len(ROSTER)
        assert len(handler.messages) == len(ROSTER)
    finally:
        srv.stop()
        controller.stop()


def test_the_whole_hostile_corpus_through_a_township_link(server, tmp_path):
    """Every regular file of the hostile corpus uploaded: each gets a Chinese answer, none lands
    in the archive unless it is a readable report, and the server goes on answering."""
    import re

    from hostile.make_corpus import build_corpus, load_manifest

    manifest = load_manifest()
    corpus = build_corpus(tmp_path / "hostile")
    link = server.link("蓼堤镇人民政府")
    client = Client()
    csrf = client.csrf(link)
    tried = 0
    for name, path in corpus.files.items():
        if path.is_symlink() or not path.is_file():
            continue
        status, html = client.upload(link + "/upload", path.name, path.read_bytes(), csrf)
        tried += 1
        assert status == 200, name
        card = html.split("data-received", 1)[1].split("</section>", 1)[0]
        assert re.search(r"[\u4e00-\u9fff]", card) and "Traceback" not in html, name
        if not manifest[name]["read"]:
            assert "未记入" in card, name
    assert tried >= 70
    assert client.get(server.url + "/")[0] == 200


def test_an_error_cannot_be_marked_checked(server):
    client = Client()
    link = server.link("西陵寺镇人民政府")
    client.upload(link + "/upload", "西陵寺.xlsx", workbook("西陵寺镇人民政府", wrong=True), client.csrf(link))
    error = next(f for f in server.portal.current_findings("西陵寺镇人民政府") if f.severity == "error")
    csrf = client.csrf(server.url + "/")
    body = urllib.parse.urlencode({"csrf": csrf, "key": server.portal.finding_key(error), "note": "想跳过"}).encode()
    try:
        client.opener.open(urllib.request.Request(server.url + "/unit/2/waive", data=body, method="POST"), timeout=60)
    except urllib.error.HTTPError as exc:
        assert exc.code == 400 and "错误不能标为已核实" in exc.read().decode("utf-8")
    else:
        raise AssertionError("an error was marked 已核实")
    assert not server.portal.waivers("西陵寺镇人民政府")
