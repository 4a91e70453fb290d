"""Reading the county's roster: encodings Excel in China produces, header variants, XLSX, and a
Chinese finding naming the row for every row that cannot be used as it is."""

from pathlib import Path

import openpyxl
import pytest

from toolkit.checks.catalogue import REGISTRY
from toolkit.roster import read_roster

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "roster.csv"

ROWS = [
    ["单位名称", "联系人", "联系电话", "邮箱"],
    ["蓼堤镇人民政府", "李秀兰", "0370-8480007", "ldz@example.cn"],
    ["北湖街道办事处", "周晓燕", "13837012456", ""],
    ["县自然资源局", "孙国庆", "0370-8116058", "zrzy@example.cn"],
]


def write_csv(path, rows, encoding="utf-8", delimiter=","):
    path.write_bytes("\r\n".join(delimiter.join(r) for r in rows).encode(encoding))
    return path


def codes(findings):
    return sorted(f.code for f in findings)


def test_sample_roster():
    entries, findings = read_roster(SAMPLE)
    assert findings == []
    assert 10 <= len(entries) <= 15
    units = [e.unit for e in entries]
    assert len(set(units)) == len(units)
    assert any(u.endswith("镇人民政府") for u in units) and any(u.endswith("乡人民政府") for u in units)
    assert any("街道" in u for u in units) and any(u.startswith("县") for u in units)
    assert all(e.contact and e.phone for e in entries)
    assert 1 <= sum(1 for e in entries if not e.email) < len(entries)
    assert entries[0].line == 2 and entries[0].extra.get("序号") == "1"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_encodings(tmp_path, encoding):
    entries, findings = read_roster(write_csv(tmp_path / "r.csv", ROWS, encoding))
    assert findings == []
    assert [e.unit for e in entries] == [r[0] for r in ROWS[1:]]
    assert entries[1].phone == "13837012456" and entries[1].email is None
    assert entries[0].contact == "李秀兰" and entries[0].email == "ldz@example.cn"


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_delimiters(tmp_path, delimiter):
    entries, findings = read_roster(write_csv(tmp_path / "r.csv", ROWS, delimiter=delimiter))
    assert findings == [] and len(entries) == 3 and entries[2].email == "zrzy@example.cn"


@pytest.mark.parametrize("header", ["单位", "单位全称", "*单位名称", "单位名称（全称）", " 单 位 名 称 "])
def test_header_variants_and_a_title_row(tmp_path, header):
    rows = [["XX县2025年度政府信息公开年报报送单位名单", "", "", ""], [header, "联系人姓名", "手机", "电子邮箱"], *ROWS[1:]]
    entries, findings = read_roster(write_csv(tmp_path / "r.csv", rows))
    assert findings == []
    assert [e.unit for e in entries] == [r[0] for r in ROWS[1:]]
    assert entries[0].line == 3 and entries[0].contact == "李秀兰" and entries[0].email == "ldz@example.cn"


def test_xlsx_roster_with_numbers_as_phone(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["说明：本表为报送名单"])
    ws.append(["序号", "单位名称", "联系电话", "邮箱", "备注"])
    ws.append([1, "蓼堤镇人民政府", 13837012456, "ldz@example.cn", "乡镇"])
    ws.append([2, "=县直单位", "0370-8112203", None, None])
    ws["B4"].data_type = "s"  # text that starts with "=", not a formula
    path = tmp_path / "r.xlsx"
    wb.save(path)
    entries, findings = read_roster(path)
    assert findings == []
    assert entries[0].phone == "13837012456" and entries[0].line == 3
    assert entries[0].extra == {"序号": "1", "备注": "乡镇"}
    assert entries[1].unit == "=县直单位"


def test_bad_rows_give_findings_naming_the_row(tmp_path):
    rows = [
        ["单位名称", "联系人", "联系电话", "邮箱"],
        ["蓼堤镇人民政府", "李秀兰", "1", "ldz@example.cn"],
        ["", "无名氏", "2", ""],                      # 3: no unit name
        ["蓼堤镇人民政府", "又一个", "3", ""],         # 4: duplicate
        ["蓼堤镇 人民政府", "", "", ""],               # 5: differs only by a space
        ["城关镇人民政府", "", "", "not-an-email"],   # 6: bad e-mail
        ["白庙乡\u200b人民政府", "", "", ""],          # 7: invisible character
        ["", "", "", ""],                              # empty rows are ignored
    ]
    entries, findings = read_roster(write_csv(tmp_path / "r.csv", rows))
    assert [e.unit for e in entries] == ["蓼堤镇人民政府", "蓼堤镇 人民政府", "城关镇人民政府", "白庙乡人民政府"]
    by_code = {f.code: f for f in findings}
    assert codes(findings) == ["roster-bad-email", "roster-duplicate-unit", "roster-empty-unit",
                               "roster-invisible-characters", "roster-similar-unit"]
    assert "第3行" in by_code["roster-empty-unit"].message and by_code["roster-empty-unit"].severity == "error"
    assert "第4行" in by_code["roster-duplicate-unit"].message and "第2行" in by_code["roster-duplicate-unit"].message
    assert "第5行" in by_code["roster-similar-unit"].message and by_code["roster-similar-unit"].severity == "warning"
    assert "not-an-email" in by_code["roster-bad-email"].message and "第6行" in by_code["roster-bad-email"].message
    assert "第7行" in by_code["roster-invisible-characters"].message
    assert all(f.row for f in findings)


def test_unusable_files(tmp_path):
    no_unit = write_csv(tmp_path / "a.csv", [["姓名", "电话"], ["张三", "1"]])
    assert codes(read_roster(no_unit)[1]) == ["roster-no-unit-column"]
    assert codes(read_roster(tmp_path / "missing.csv")[1]) == ["roster-unreadable"]
    (tmp_path / "empty.csv").write_bytes(b"")
    assert codes(read_roster(tmp_path / "empty.csv")[1]) == ["roster-unreadable"]
    (tmp_path / "fake.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    entries, findings = read_roster(tmp_path / "fake.xlsx")
    assert entries == [] and codes(findings) == ["roster-unreadable"]
    only_header = write_csv(tmp_path / "h.csv", [["单位名称", "邮箱"]])
    assert codes(read_roster(only_header)[1]) == ["roster-empty"]
    for finding in read_roster(no_unit)[1] + read_roster(tmp_path / "missing.csv")[1]:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in finding.message)


def test_several_addresses_in_one_cell(tmp_path):
    rows = [["单位名称", "邮箱"], ["蓼堤镇人民政府", "a@example.cn；b@example.cn"]]
    entries, findings = read_roster(write_csv(tmp_path / "r.csv", rows))
    assert findings == [] and entries[0].emails == ["a@example.cn", "b@example.cn"]


def test_roster_codes_are_in_the_catalogue():
    for code in ("roster-unreadable", "roster-no-unit-column", "roster-empty", "roster-empty-unit",
                 "roster-duplicate-unit", "roster-similar-unit", "roster-invisible-characters", "roster-bad-email"):
        assert code in REGISTRY
