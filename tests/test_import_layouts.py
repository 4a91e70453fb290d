"""Text layouts of published reports: rows joined by `` | `` without table edges, rows printed
with every cell empty, a report cut inside 表三, and a 受理 count that includes carried-over
applications. Each from invented examples and from the project's own drafts flattened the way
publishing flattens them."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

import sys
from pathlib import Path

from toolkit.checks.engine import check_data
from toolkit.demo.synthetic import synthetic_report
from toolkit.formats import load_format
from toolkit.importers import import_text
from toolkit.render import render_report

sys.path.insert(0, str(Path(__file__).resolve().parent / "layouts"))
from make_text_layouts import (STYLES, UNIT, consistent, one_cell_per_line, three_small_tables,  # noqa: E402
                               without_edges)


def _markdown(fmt_id: str, year: int, seed: int, scale: int = 1):
    data = consistent(fmt_id, year, seed, scale)
    return data, render_report(data, "md")


def differing(data, got) -> set[str]:
    return {k for k in data.values if (data.values[k] or 0) != (got.values.get(k) or 0)}


@pytest.mark.parametrize("trailing", [False, True], ids=["no-edges", "trailing-bar"])
@pytest.mark.parametrize("fmt_id,year", [("2021", 2025), ("2019", 2020)])
@pytest.mark.parametrize("seed,scale", [(0, 1), (1, 1), (2, 0), (3, 987_654)])
def test_bar_rows_without_edges_import_to_the_data(fmt_id, year, seed, scale, trailing):
    data, md = _markdown(fmt_id, year, seed, scale)
    got, findings = import_text(without_edges(md, trailing=trailing))
    assert got.format == fmt_id and (got.unit, got.year) == (UNIT, year)
    assert differing(data, got) == set()
    assert [f.message for f in findings if f.severity == "error"] == []
    assert [f.message for f in check_data(got) if f.severity == "error"] == []


def test_a_planted_error_is_found_at_its_cell():
    data, md = _markdown("2021", 2025, 1)
    line = next(l for l in md.split("\n") if l.startswith("| 一、本年新收"))
    cells = line[2:-2].split(" | ")
    cells[1] = str(int(cells[1]) + 5)  # 自然人 no longer adds up to the 总计, nor 表三 to its balance
    text = without_edges(md.replace(line, "| " + " | ".join(cells) + " |"), trailing=False)
    got, _ = import_text(text)
    found = [f for f in check_data(got) if f.severity == "error"]
    assert found, "the planted error was not found"
    number = text.split("\n").index(next(l for l in text.split("\n") if l.startswith("一、本年新收"))) + 1
    total = [f for f in found if f.code == "total-mismatch"]
    assert total and f"第{number}行" in total[0].message, [f.message for f in found]
    assert got.cells["t3.new.total"].line == number


def test_invented_bar_rows_keep_empty_cells_in_their_columns():
    text = "\n".join([
        "某县司法局2025年政府信息公开工作年度报告",
        "二、主动公开政府信息情况",
        "第二十条第（一）项",
        "信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数",
        "规章 | 0 | 0 | 0",
        "行政规范性文件 | 3 | 1 | 14",
        "三、收到和处理政府信息公开申请情况",
        "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和） | 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 总计 |",
        "一、本年新收政府信息公开申请数量 | 12 | 3 |  |  | 1 |  | 16 |",
    ])
    got, findings = import_text(text)
    assert got.values["t2.normative.made"] == 3 and got.values["t2.normative.in_force"] == 14
    assert got.values["t3.new.natural"] == 12 and got.values["t3.new.total"] == 16
    assert [got.raw[f"t3.new.{c}"] for c in ("natural", "business", "research", "nonprofit", "legal", "other")] \
        == ["12", "3", "", "", "1", ""]  # blank cells stay blank, each in its own column


def test_a_row_printed_with_every_cell_empty_is_a_row_of_blank_cells():
    data, md = _markdown("2021", 2025, 2)
    line = next(l for l in md.split("\n") if "3.要求提供公开出版物" in l)
    blank_row = "3.要求提供公开出版物 |  |  |  |  |  |  |"
    text = without_edges(md, trailing=False).replace(without_edges(line, trailing=False), blank_row)
    assert blank_row in text
    got, findings = import_text(text)
    codes = Counter(f.code for f in findings)
    assert codes["value-blank"] == 7, codes
    assert "import-row-missing" not in codes and "import-unplaced-values" not in codes
    assert all(got.values[c] is None for c in got.values if ".publications." in c)


def test_a_report_cut_inside_table_three_says_so_once_instead_of_unbalanced_rows():
    data, md = _markdown("2021", 2025, 5)
    lines = md.split("\n")
    cut = next(i for i, l in enumerate(lines) if "（三）不予公开 / 3." in l)
    got, findings = import_text("\n".join(lines[:cut]), kind="markdown")
    rules = check_data(got)
    codes = Counter(f.code for f in rules)
    assert codes == {"table-incomplete": 1}, codes
    (incomplete,) = rules
    assert incomplete.sheet == load_format("2021").table("t3").sheet and "表三" in incomplete.message
    # the rows that were there are read
    assert got.values["t3.new.total"] == data.values["t3.new.total"]
    # what the source lacks survives the data JSON and the archive, so a later check says the same
    from toolkit.model import ReportData

    again = ReportData.from_dict(got.to_dict())
    assert again.absent == got.absent and Counter(f.code for f in check_data(again)) == codes
    assert "absent" not in data.to_dict()  # a whole report's JSON is as before


def test_a_received_count_including_carried_over_applications_is_no_contradiction():
    data = synthetic_report("2021", UNIT, 2025, seed=0)
    data.values.update({"t3.new.natural": 14, "t3.carried_in.natural": 3})
    base = check_data(data)
    said = "2025年共受理政府信息公开申请17件（含上年结转3件），均已按期答复。"
    data.narrative["overview.on_request"] = said
    with_text = check_data(data)
    assert Counter(f.code for f in with_text) == Counter(f.code for f in base)
    data.narrative["overview.on_request"] = "2025年共受理政府信息公开申请19件，均已按期答复。"
    assert any(f.code == "narrative-number-differs" for f in check_data(data))


@pytest.mark.parametrize("edges", [True, False], ids=["markdown", "no-edges"])
@pytest.mark.parametrize("fmt_id,year", [("2021", 2025), ("2019", 2020)])
def test_table_four_as_three_small_tables(fmt_id, year, edges):
    data = synthetic_report(fmt_id, UNIT, year, seed=4)
    for k, group in enumerate(("review", "suit_direct", "suit_after_review")):  # a shifted column shows
        counts = {"upheld": k + 1, "corrected": k + 3, "other": 0, "pending": 2 * k}
        for column, n in counts.items():
            data.values[f"t4.{group}.{column}"] = Decimal(n)
        data.values[f"t4.{group}.total"] = Decimal(sum(counts.values()))
    text = three_small_tables(render_report(data, "md"), edges=edges)
    got, findings = import_text(text, kind="markdown" if edges else "text")
    assert {k for k in differing(data, got) if k.startswith("t4.")} == set()
    assert [f.message for f in findings if f.severity == "error"] == []
    lines = text.split("\n")
    after = lines.index("行政诉讼（复议后起诉）") + 3  # its row, 1-based
    assert got.cells["t4.suit_after_review.total"].line == after


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("fmt_id,year", [("2021", 2025), ("2019", 2020)])
@pytest.mark.parametrize("seed,scale", [(0, 1), (1, 0), (2, 987_654)])
def test_one_cell_per_line_imports_to_the_data(fmt_id, year, seed, scale, style):
    data, md = _markdown(fmt_id, year, seed, scale)
    got, findings = import_text(one_cell_per_line(md, style))
    assert differing(data, got) == set()
    assert [f.message for f in findings if f.severity == "error"] == []


def test_a_short_row_printed_one_cell_per_line_is_named():
    data, md = _markdown("2021", 2025, 0)
    text = one_cell_per_line(md, "plain").split("\n")
    label = text.index("行政规范性文件")
    del text[label + 2]  # one of its three numbers is lost
    got, findings = import_text("\n".join(text))
    short = [f for f in findings if f.code == "import-cells-missing"]
    assert short and "行政规范性文件" in short[0].message and f"第{label + 1}行" in short[0].message


def test_a_report_mixing_layouts_reads():
    """表二 one cell per line, 表三 as `` | `` rows without edges, 表四 as three small tables."""
    data, md = _markdown("2021", 2025, 2)
    part2, rest = md.split("## 三、", 1)
    part3, part4 = rest.split("## 四、", 1)
    text = "\n".join([one_cell_per_line(part2, "indented"), "三、" + without_edges(part3, trailing=True),
                      three_small_tables("四、" + part4, edges=True)])
    got, findings = import_text(text)
    assert differing(data, got) == set()
    assert [f.message for f in findings if f.severity == "error"] == []


# the browser's copy of a published page: what a clerk gets selecting the page and pasting it
_PIPE_ROWS = """() => {
  for (const table of document.querySelectorAll('table')) {
    const lines = [...table.rows].map(r => [...r.cells].map(c => c.innerText.trim()).join(' | '));
    const pre = document.createElement('pre');
    pre.textContent = lines.join('\\n');
    table.replaceWith(pre);
  }
}"""


@pytest.fixture(scope="module")
def chromium():
    from browser import browser

    with browser() as launched:
        yield launched


@pytest.mark.parametrize("fmt_id,year", [("2021", 2025), ("2019", 2020)])
@pytest.mark.parametrize("seed,scale", [(0, 1), (1, 987_654)])
@pytest.mark.parametrize("how", ["copied", "pipe-rows"])
def test_html_page_as_a_browser_gives_its_text(chromium, fmt_id, year, seed, scale, how):
    """The project's HTML draft opened in Chromium and taken as text: the page's own text as a
    browser copies it (tabs between cells), or each table row as ` | `-joined cells."""
    data = consistent(fmt_id, year, seed, scale)
    page = chromium.new_page()
    try:
        page.set_content(render_report(data, "html"))
        if how == "pipe-rows":
            page.evaluate(_PIPE_ROWS)
        text = page.inner_text("body")
    finally:
        page.close()
    if how == "pipe-rows":
        assert " | " in text and "\t" not in text
    got, findings = import_text(text)
    assert differing(data, got) == set()
    assert [f.message for f in findings if f.severity == "error"] == []
