"""Text layouts of published reports: rows joined by `` | `` without table edges, rows printed
with every cell empty, a report cut inside 表三, and a 受理 count that includes carried-over
applications. Each from invented examples and from the project's own drafts flattened the way
publishing flattens them."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from toolkit.checks.engine import check_data
from toolkit.demo.synthetic import synthetic_report
from toolkit.formats import load_format
from toolkit.importers import import_text
from toolkit.render import render_report

UNIT = "蓼堤镇人民政府"


def _markdown(fmt_id: str, year: int, seed: int):
    data = synthetic_report(fmt_id, UNIT, year, seed=seed)
    return data, render_report(data, "md")


def without_edges(md: str, *, trailing: bool) -> str:
    """Markdown as an HTML page's table reads once copied to text: cells joined by `` | ``, no
    leading bar, no separator rows, headings and emphasis gone."""
    out = []
    for line in md.split("\n"):
        if line.startswith("| ") and line.endswith(" |"):
            cells = line[2:-2].split(" | ")
            if all(re.fullmatch(r"-+", c) for c in cells):
                continue
            out.append(" | ".join(cells) + (" |" if trailing else ""))
        else:
            out.append(line.replace("**", "").lstrip("# "))
    return "\n".join(out)


def differing(data, got) -> set[str]:
    return {k for k in data.values if (data.values[k] or 0) != (got.values.get(k) or 0)}


@pytest.mark.parametrize("trailing", [False, True], ids=["no-edges", "trailing-bar"])
@pytest.mark.parametrize("fmt_id,year", [("2021", 2025), ("2019", 2020)])
@pytest.mark.parametrize("seed", range(3))
def test_bar_rows_without_edges_import_to_the_data(fmt_id, year, seed, trailing):
    data, md = _markdown(fmt_id, year, seed)
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
