"""The portal's library (toolkit.portal), without the web layer: uploads through the hardened
check path into the archive (originals kept by hash, how they came), private link tokens, the
clerk's password, 已核实 marks kept across re-uploads, and concurrent uploads."""

from __future__ import annotations

import io
import sqlite3
import threading
import zipfile

import pytest

from toolkit.archive import Archive, SCHEMA_VERSION
from toolkit.archive.portal import finding_key
from toolkit.portal import Portal, PortalError
from web_helpers import ROSTER, YEAR, workbook, write_roster


@pytest.fixture
def portal(tmp_path):
    return Portal(tmp_path / "nianbao.db", write_roster(tmp_path / "roster.csv"), YEAR)


def _by_unit(portal):
    return {u.unit: u for u in portal.status().units}


def test_an_upload_is_checked_recorded_and_kept_by_hash(portal):
    content = workbook("蓼堤镇人民政府", wrong=True)
    (got,) = portal.receive("蓼堤镇.xlsx", content, via="link:蓼堤镇人民政府", unit="蓼堤镇人民政府")
    assert got.recorded and got.unit == "蓼堤镇人民政府"
    assert any(f.severity == "error" for f in got.findings)
    (sub,) = portal.submissions("蓼堤镇人民政府")
    assert (sub.file_name, sub.via, sub.file_path) == ("蓼堤镇.xlsx", "link:蓼堤镇人民政府", None)
    with Archive(portal.archive_path) as arch:
        assert arch.file_content(sub.file_hash) == content
    assert _by_unit(portal)["蓼堤镇人民政府"].state == "errors"
    name, annotated = portal.annotated("蓼堤镇人民政府")
    assert name.endswith(".xlsx") and annotated[:2] == b"PK"
    (fixed,) = portal.receive("蓼堤镇_改.xlsx", workbook("蓼堤镇人民政府"), via="link:蓼堤镇人民政府",
                              unit="蓼堤镇人民政府")
    assert fixed.recorded and not [f for f in fixed.findings if f.severity == "error"]
    assert _by_unit(portal)["蓼堤镇人民政府"].state in ("clean", "warnings")
    assert len(portal.submissions("蓼堤镇人民政府")) == 2  # the history stays


def test_a_township_link_never_records_another_units_file(portal):
    (got,) = portal.receive("x.xlsx", workbook("城关镇人民政府"), via="link:蓼堤镇人民政府", unit="蓼堤镇人民政府")
    assert not got.recorded and got.findings[0].code == "portal-other-unit"
    assert "城关镇人民政府" in got.findings[0].message and "蓼堤镇人民政府" in got.findings[0].message
    assert portal.submissions("城关镇人民政府") == [] and portal.submissions("蓼堤镇人民政府") == []


def test_tokens_belong_to_one_unit_and_one_year(tmp_path, portal):
    token = portal.token("城关镇人民政府")
    assert len(token) >= 32 and portal.unit_for_token(token) == "城关镇人民政府"
    assert portal.unit_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert portal.unit_for_token("") is None
    next_year = Portal(portal.archive_path, portal.roster_path, YEAR + 1)
    assert next_year.unit_for_token(token) is None
    assert next_year.token("城关镇人民政府") != token
    again = Portal(portal.archive_path, portal.roster_path, YEAR)  # a restarted server: the same links
    assert again.token("城关镇人民政府") == token
    other = Portal(tmp_path / "other.db", portal.roster_path, YEAR)  # another county's archive
    assert other.unit_for_token(token) is None


def test_the_clerk_password_is_kept_hashed(portal):
    assert not portal.has_password() and not portal.verify_password("")
    with pytest.raises(PortalError):
        portal.set_password("short")
    portal.set_password("县政务公开办2026")
    mark = portal.password_mark()
    assert portal.verify_password("县政务公开办2026") and not portal.verify_password("县政务公开办2025")
    with Archive(portal.archive_path) as arch:
        stored = arch.get_meta("portal.password")
    assert "县政务公开办2026" not in stored and "salt" in stored
    portal.set_password("另一个密码abc")
    assert portal.password_mark() != mark


def test_a_warning_marked_checked_keeps_its_mark_on_a_reupload(portal):
    unit = "白庙乡人民政府"
    write_roster(portal.roster_path, [*ROSTER, unit])
    portal = Portal(portal.archive_path, portal.roster_path, YEAR)
    from toolkit.demo.synthetic import synthetic_report
    from toolkit.workbook.writer import workbook_bytes

    data = synthetic_report("2021", unit, YEAR, seed=3)
    data.values["t2.rules.made"] = 1  # a 乡 with 规章: a warning the clerk can check
    data.values["t2.rules.in_force"] = (data.values.get("t2.rules.in_force") or 0) + 1
    content = workbook_bytes("2021", unit=unit, year=YEAR, data=data)
    (got,) = portal.receive("白庙乡.xlsx", content, via="clerk:科员甲")
    warnings = [f for f in got.findings if f.severity == "warning"]
    assert warnings and not [f for f in got.findings if f.severity == "error"]
    assert _by_unit(portal)[unit].state == "warnings"
    for f in warnings:
        portal.waive(unit, finding_key(f), "该乡确有代拟规章，已电话核实", by="科员甲")
    assert (_by_unit(portal)[unit].state, _by_unit(portal)[unit].waived) == ("clean", len(warnings))
    (mark, *_) = portal.waivers(unit)
    assert (mark.note, mark.by) == ("该乡确有代拟规章，已电话核实", "科员甲") and mark.at
    data.narrative["problems"] = "改了一句话。"
    portal.receive("白庙乡_二.xlsx", workbook_bytes("2021", unit=unit, year=YEAR, data=data), via="clerk:科员甲")
    assert _by_unit(portal)[unit].state == "clean"  # the same warnings on the new file keep their marks
    portal.unwaive(unit, finding_key(warnings[0]), by="科员甲")
    assert _by_unit(portal)[unit].state == "warnings"


def test_errors_cannot_be_marked_checked(portal):
    (got,) = portal.receive("蓼堤镇.xlsx", workbook("蓼堤镇人民政府", wrong=True), via="clerk:甲")
    error = next(f for f in got.findings if f.severity == "error")
    with pytest.raises(PortalError, match="错误不能标为已核实"):
        portal.waive("蓼堤镇人民政府", finding_key(error), "就这样吧", by="甲")
    with pytest.raises(PortalError):
        portal.waive("蓼堤镇人民政府", "no-such-key", "x", by="甲")


def test_a_folder_zip_is_unpacked_within_bounds(portal):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("回收/城关镇.xlsx", workbook("城关镇人民政府"))
        z.writestr("回收/西陵寺镇.xlsx", workbook("西陵寺镇人民政府", wrong=True))
        z.writestr("回收/说明.txt", "不是填报表")
        z.writestr("__MACOSX/回收/._城关镇.xlsx", b"junk")
        z.writestr("回收/炸弹.xlsx", b"\0" * 60_000_000)  # compresses ~1000:1
    got = portal.receive("回收.zip", buffer.getvalue(), via="clerk:甲")
    by_name = {r.file_name: r for r in got}
    assert by_name["城关镇.xlsx"].recorded and by_name["西陵寺镇.xlsx"].recorded
    assert not by_name["炸弹.xlsx"].recorded and "过大" in by_name["炸弹.xlsx"].reason
    assert "说明.txt" in by_name  # a text file is read as a published report, and refused as one
    assert not by_name["说明.txt"].recorded
    (bad,) = portal.receive("坏.zip", b"PK\x03\x04 not really", via="clerk:甲")
    assert not bad.recorded and "压缩包" in bad.reason


def test_a_hostile_file_gets_its_answer_and_nothing_is_recorded(tmp_path, portal):
    from hostile.make_corpus import build_corpus, load_manifest

    manifest = load_manifest()
    names = ["random-after-zip-magic.xlsx", "empty.xlsx"]
    corpus = build_corpus(tmp_path / "hostile", only=names)
    for name in names:
        (got,) = portal.receive(name, corpus.files[name].read_bytes(), via="link:城关镇人民政府",
                                unit="城关镇人民政府")
        assert not got.recorded and got.reason
        assert set(manifest[name]["codes"]) <= {f.code for f in got.findings}
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in f.message) for f in got.findings)
    assert portal.submissions("城关镇人民政府") == []


def test_forty_uploads_at_once_lose_nothing(tmp_path):
    units = [f"第{i:02d}镇人民政府" for i in range(40)]
    roster = write_roster(tmp_path / "roster.csv", units)
    portal = Portal(tmp_path / "nianbao.db", roster, YEAR)
    files = {u: workbook(u, seed=i) for i, u in enumerate(units)}
    results, failures = {}, []
    start = threading.Barrier(len(units))

    def upload(unit):
        try:
            start.wait()
            results[unit] = portal.receive(f"{unit}.xlsx", files[unit], via=f"link:{unit}", unit=unit)
        except Exception as exc:  # noqa: BLE001
            failures.append((unit, exc))

    threads = [threading.Thread(target=upload, args=(u,)) for u in units]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not failures
    assert all(results[u][0].recorded for u in units)
    with sqlite3.connect(portal.archive_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM submissions").fetchone()[0] == 40
        assert db.execute("SELECT count(*) FROM files").fetchone()[0] == 40
    assert all(u.state != "missing" for u in portal.status().units)


def test_a_schema_one_archive_migrates_and_keeps_its_data(tmp_path):
    from toolkit.archive.schema import APPLICATION_ID, MIGRATIONS, split_sql

    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    for statement in split_sql(MIGRATIONS[1]):
        db.execute(statement)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO units (name, key, created_at) VALUES ('城关镇人民政府', '城关镇人民政府', 'x')")
    db.close()
    with Archive(path) as arch:
        assert arch.schema_version == SCHEMA_VERSION >= 2
        assert arch.units() == ["城关镇人民政府"]
        arch.set_meta("k", "v")
        assert arch.get_meta("k") == "v"


def test_request_mails_carry_each_units_private_link(portal):
    portal.base_url = "http://10.1.2.3:8765"
    name, content = portal.request_mails()
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        import email
        from email import policy

        bodies = {}
        for n in z.namelist():
            msg = email.message_from_bytes(z.read(n), policy=policy.default)
            bodies[msg["Subject"]] = msg.get_body(("plain",)).get_content()
    assert len(bodies) == len(ROSTER)
    for unit in ROSTER:
        body = next(b for s, b in bodies.items() if unit in s)
        assert f"http://10.1.2.3:8765/u/{portal.token(unit)}" in body
