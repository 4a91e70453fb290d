"""HTML report: parsed back with BeautifulSoup, every official table cell in its place."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from render_helpers import expected_matrix, filled_data, filled_workbook, find_node, leaf_count
from toolkit.formats import load_format
from toolkit.grid import table_grid
from toolkit.model import ReportData, format_decimal
from toolkit.render import RenderError, render_file, render_report

GOLDEN = Path(__file__).resolve().parent / "golden"
NARRATIVE = {
    "overview.proactive": "本年度主动公开政府信息<b>126</b>条 & 更多。\n　　第二段：政策解读12篇。",
    "problems.text": "一是公开内容还不够全面。\n二是解读形式单一。",
}


def parse(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def table_cells(table) -> dict[tuple[int, int], tuple[str, int, int, str]]:
    """The HTML table laid out the way a browser does: (row, col) of each cell's top-left corner
    -> (text, rowspan, colspan, tag)."""
    taken: set[tuple[int, int]] = set()
    out = {}
    for r, tr in enumerate(table.find_all("tr")):
        c = 0
        for cell in tr.find_all(["th", "td"], recursive=False):
            while (r, c) in taken:
                c += 1
            rs, cs = int(cell.get("rowspan", 1)), int(cell.get("colspan", 1))
            out[(r, c)] = (cell.get_text(), rs, cs, cell.name)
            taken.update((r + i, c + j) for i in range(rs) for j in range(cs))
            c += cs
    return out


def section_table(soup, section_id):
    return soup.find("section", id=section_id).find("table")


def test_headings_title_and_period(fmt):
    data = filled_data(fmt, 1)
    soup = parse(render_report(data, "html"))
    assert soup.find("h1").get_text() == fmt.title.format(unit=data.unit, year=data.year)
    assert soup.title.get_text() == soup.find("h1").get_text()
    assert [h.get_text() for h in soup.find_all("h2")] == [s.label for s in fmt.sections]
    text = soup.find("article").get_text()
    assert f"统计期限自{data.year}年1月1日起至{data.year}年12月31日止" in text
    assert fmt.name in text
    assert soup.find(class_="nb-draft") is None


def test_every_table_cell_in_its_official_place(fmt):
    data = filled_data(fmt, 2)
    soup = parse(render_report(data, "html"))
    for section in fmt.sections:
        if not section.table:
            assert soup.find("section", id=section.id).find("table") is None
            continue
        grid = table_grid(fmt, section.table)
        cells = table_cells(section_table(soup, section.id))
        expected = expected_matrix(fmt, section.table, data)
        assert {pos: v[:3] for pos, v in cells.items()} == expected
        for gc in grid.cells:
            assert cells[(gc.row, gc.col)][3] == ("td" if gc.role == "value" else "th")
        assert len(section_table(soup, section.id).find_all("tr")) == grid.n_rows


def test_filled_workbook_to_html(tmp_path, fmt):
    """End to end: a filled standard workbook, read and checked, rendered and parsed back."""
    path, data = filled_workbook(tmp_path, fmt, 11, narrative=NARRATIVE)
    result = render_file(path, "html", tmp_path / "out" / "report.html")
    assert result.ok and not result.draft, (result.error, result.findings)
    soup = parse(result.out.read_text(encoding="utf-8"))
    assert soup.find("h1").get_text() == fmt.title.format(unit=data.unit, year=data.year)
    assert [h.get_text() for h in soup.find_all("h2")] == [s.label for s in fmt.sections]
    for section in fmt.sections:
        if section.table:
            cells = table_cells(section_table(soup, section.id))
            assert {pos: v[:3] for pos, v in cells.items()} == expected_matrix(fmt, section.table, data)
    assert "第二段：政策解读12篇。" in [p.get_text() for p in soup.find_all("p")]
    assert result.defaults_used == [p.id for p in fmt.parts if p.id not in NARRATIVE]


def test_official_merges(fmt):
    soup = parse(render_report(filled_data(fmt, 3), "html"))
    t3 = section_table(soup, "requests")
    applicants = t3.find("th", string="申请人情况")
    assert int(applicants["colspan"]) == 7
    results = find_node(fmt.table("t3").blocks[0].rows, "results")
    assert int(t3.find("th", string="三、本年度办理结果")["rowspan"]) == leaf_count(results)
    corner = t3.find("th", class_="nb-corner")
    assert "勾稽关系" in corner.get_text()
    assert (int(corner["rowspan"]), int(corner["colspan"])) == (3, 3)
    t4 = section_table(soup, "appeals")
    assert int(t4.find("th", string="行政复议")["colspan"]) == 5
    assert int(t4.find("th", string="行政诉讼")["colspan"]) == 10
    assert int(t4.find("th", string="未经复议直接起诉")["colspan"]) == 5
    assert len(t4.find_all("td")) == 15
    assert len(t3.find("thead").find_all("tr")) == 3


def test_numbers_printed_as_typed():
    fmt = load_format("2021")
    data = filled_data(fmt, 4)
    data.values["t2.fees.amount"] = Decimal("2460.9500")
    data.values["t2.licensing.decisions"] = Decimal("20815")
    data.values["t2.penalty.decisions"] = None
    soup = parse(render_report(data, "html"))
    assert soup.find("td", attrs={"data-cell": "t2.fees.amount"}).get_text() == "2460.95"
    assert soup.find("td", attrs={"data-cell": "t2.licensing.decisions"}).get_text() == "20815"
    assert soup.find("td", attrs={"data-cell": "t2.penalty.decisions"}).get_text() == ""
    for td in soup.find_all("td"):
        assert "E" not in td.get_text() and not re.search(r"\.\d*0$", td.get_text())


def test_user_narrative_escaped_and_split_into_paragraphs():
    fmt = load_format("2021")
    data = filled_data(fmt, 5, narrative=NARRATIVE, unit="<script>alert(1)</script>镇人民政府")
    html = render_report(data, "html")
    soup = parse(html)
    assert soup.find("script") is None and soup.find("b") is None
    assert "&lt;script&gt;" in html
    section = soup.find("section", id="overview")
    paragraphs = [p.get_text() for p in section.find_all("p")]
    assert "本年度主动公开政府信息<b>126</b>条 & 更多。" in paragraphs
    assert "第二段：政策解读12篇。" in paragraphs  # leading full-width spaces dropped
    problems = [p.get_text() for p in soup.find("section", id="problems").find_all("p")]
    assert problems == ["一是公开内容还不够全面。", "二是解读形式单一。"]


def test_default_paragraphs_state_the_table_numbers(fmt):
    data = filled_data(fmt, 6)
    soup = parse(render_report(data, "html"))
    overview = soup.find("section", id="overview")
    assert [h.get_text() for h in overview.find_all("h3")] == [p.label for p in fmt.sections[0].parts]
    text = overview.get_text()
    v = {k: format_decimal(x) for k, x in data.values.items()}
    if data.values["t3.new.total"]:
        assert f"共收到政府信息公开申请{v['t3.new.total']}件" in text
        assert f"其中自然人{v['t3.new.natural']}件" in text or data.values["t3.new.natural"] == 0
    else:
        assert "本机关未收到新的政府信息公开申请" in text
    assert f"共办理政府信息公开申请{v['t3.results_total.total']}件" in text
    if data.values["t3.disclosed.total"]:
        assert f"予以公开{v['t3.disclosed.total']}件" in text
    withheld = sum(data.values[c.id] for c in fmt.table("t3").cells
                   if c.row.id.startswith("withheld_") and c.column.id == "total")
    if withheld:
        assert f"不予公开{format_decimal(withheld)}件" in text
    assert f"被申请行政复议{v['t4.review.total']}件" in text
    suits = data.values["t4.suit_direct.total"] + data.values["t4.suit_after_review.total"]
    assert f"被提起行政诉讼{format_decimal(suits)}件" in text
    for claimed in re.findall(r"结转下年度继续办理(\d+)件", text):
        assert claimed == v["t3.carried_over.total"]
    six = soup.find("section", id="other").get_text()
    if fmt.id == "2021":
        assert "信息处理费" in six


def test_default_when_only_last_years_requests_remain():
    fmt = load_format("2021")
    data = filled_data(fmt, 0, zero=True)
    for cell_id, value in (("t3.carried_in.natural", 2), ("t3.carried_in.total", 2),
                           ("t3.disclosed.natural", 2), ("t3.disclosed.total", 2),
                           ("t3.results_total.natural", 2), ("t3.results_total.total", 2)):
        data.values[cell_id] = Decimal(value)
    text = parse(render_report(data, "html")).find("section", id="overview").get_text()
    assert "本年度，本机关未收到新的政府信息公开申请；上年结转政府信息公开申请2件。" in text
    assert "本年度共办理政府信息公开申请2件，其中予以公开2件；无结转下年度继续办理的申请。" in text


def test_defaults_for_a_report_with_nothing_to_report(fmt):
    data = filled_data(fmt, 0, zero=True)
    soup = parse(render_report(data, "html"))
    text = soup.find("section", id="overview").get_text()
    assert "本年度，本机关未收到政府信息公开申请" in text
    assert "共收到政府信息公开申请" not in text
    assert "未发生因政府信息公开工作被申请行政复议、提起行政诉讼的情况" in text
    if fmt.id == "2021":
        assert "本年度，本机关未收取政府信息公开信息处理费。" in soup.find("section", id="other").get_text()
    for section in fmt.sections:
        node = soup.find("section", id=section.id)
        assert node.find("p") or node.find("table"), f"{section.label} is empty"


def test_draft_mark_at_the_top():
    data = filled_data(load_format("2021"), 7)
    soup = parse(render_report(data, "html", draft=True))
    first = soup.find("article").find(True)
    assert first.name == "p" and first.get_text() == "草稿（未通过校验）"
    assert soup.title.get_text().startswith("草稿（未通过校验）")


def test_standalone_page_with_print_and_phone_css():
    html = render_report(filled_data(load_format("2021"), 8), "html")
    soup = parse(html)
    assert soup.find("meta", attrs={"name": "viewport"})
    assert soup.find("link") is None and soup.find("script") is None
    css = soup.find("style").get_text()
    assert "@page" in css and "size: A4" in css
    assert "@media print" in css and "break-inside: avoid" in css
    assert "@media (max-width" in css and "overflow-x: auto" in css
    for table in soup.find_all("table"):
        assert "nb-table-wrap" in table.parent["class"]
        assert table["border"] == "1"


# ---------------------------------------------------------------- user templates


def test_user_template_dir_overrides_file_by_file(tmp_path):
    (tmp_path / "report.html.j2").write_text(
        "<h1>{{ title }}</h1>{% for s in sections %}<h2>{{ s.label }}</h2>{% endfor %}", encoding="utf-8")
    (tmp_path / "defaults.yaml").write_text(
        "parts:\n  overview.platforms:\n    text: 本单位网站共有栏目{{ n('t2.rules.made') }}个。\n", encoding="utf-8")
    data = filled_data(load_format("2021"), 9)
    html = render_report(data, "html", template_dir=tmp_path)
    assert html.startswith("<h1>")
    assert html.count("<h2>") == 6
    text = render_report(data, "txt", template_dir=tmp_path)
    assert f"本单位网站共有栏目{format_decimal(data.values['t2.rules.made'])}个。" in text
    assert "本机关严格落实政府信息公开属性源头认定" in text  # parts not overridden keep the built-in text


@pytest.mark.parametrize("source, words", [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "安全沙箱"),
    ("{{ title.__class__ }}", "安全沙箱"),
    ("{{ no_such_variable }}", "未定义"),
    ("{% for x in sections %}", "语法错误"),
    ("{{ v('t9.nowhere') }}", "t9.nowhere"),
])
def test_broken_or_hostile_user_template_gives_a_chinese_message(tmp_path, source, words):
    (tmp_path / "report.html.j2").write_text(source, encoding="utf-8")
    with pytest.raises(RenderError) as info:
        render_report(filled_data(load_format("2021"), 1), "html", template_dir=tmp_path)
    message = str(info.value)
    assert words in message and "模板" in message
    assert "Traceback" not in message


def test_hostile_default_text_is_sandboxed_too(tmp_path):
    (tmp_path / "defaults.yaml").write_text(
        "parts:\n  other.text:\n    text: \"{{ v.__globals__ }}\"\n", encoding="utf-8")
    with pytest.raises(RenderError, match="安全沙箱"):
        render_report(filled_data(load_format("2021"), 1), "md", template_dir=tmp_path)


def test_unknown_format_is_a_render_error():
    with pytest.raises(RenderError, match="未知的报告格式"):
        render_report(ReportData(format="1999", unit="某镇", year=2024), "html")


# ---------------------------------------------------------------- golden file


GOLDEN_NARRATIVE = {
    "overview.proactive": "本年度，本镇通过政府门户网站政府信息公开专栏主动公开政府信息326条，"
                          "其中机构职能、财政预决算、重大建设项目等重点领域信息158条，发布政策解读12篇。",
    "problems.text": "本年度政府信息公开工作仍存在一些不足：一是部分站所信息报送不够及时；二是政策解读形式还比较单一。\n"
                     "下一步，本镇将加强信息报送督促，丰富图解、视频等解读形式，进一步提升公开质量。",
}


def golden_data() -> ReportData:
    fmt = load_format("2021")
    data = filled_data(fmt, 2024, unit="示例县城关镇人民政府", year=2024, narrative=GOLDEN_NARRATIVE)
    for cell_id in ("t2.rules.made", "t2.rules.repealed", "t2.rules.in_force"):
        data.values[cell_id] = Decimal(0)  # a township makes no 规章
    data.values["t2.fees.amount"] = Decimal("12.3450")
    return data


def test_golden_html():
    """tests/golden/report_2021.html is reviewed by eye (docs/render-screenshot.png); regenerate
    with NIANBAO_UPDATE_GOLDEN=1 after an intended change, and look at it again."""
    html = render_report(golden_data(), "html")
    path = GOLDEN / "report_2021.html"
    if os.environ.get("NIANBAO_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(html, encoding="utf-8")
    assert html == path.read_text(encoding="utf-8")
