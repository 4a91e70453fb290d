"""HTML and Word versions of a report import to the same data as its text.

Two kinds of versions: the toolkit's own renderings of each seed (toolkit.render), and versions
made by hand the way a county publishes them: a CMS page with a handwritten table using
rowspan/colspan (tests/fixtures/seed004_cms.html) and a Word file built here with python-docx,
its label and header cells merged like the official tables.
"""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest

from shared_data import SEED_PREFIXES, seed_paths
from toolkit.formats import load_format
from toolkit.importers import import_report
from toolkit.render import render_report

HERE = Path(__file__).resolve().parent


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def from_text():
    return {p.name[:3]: import_report(p).data for p in seed_paths()}


def assert_same_data(original, result, *, narrative: bool = True) -> None:
    data = result.data
    assert data is not None
    assert (data.format, data.unit, data.year) == (original.format, original.unit, original.year)
    typed = {k: v for k, v in original.values.items() if v is not None}
    assert {k: data.values[k] for k in typed} == typed
    # a cell the text could not read ("增") is printed blank: read as a blank, and reported
    fmt = load_format(data.format)
    for cell_id in (k for k, v in original.values.items() if v is None):
        blank_rows = {f.row for f in result.findings if f.code == "value-blank"}
        assert data.values[cell_id] is None or fmt.cells[cell_id].row.label in blank_rows
    if narrative:
        for part, text in original.narrative.items():
            assert squash(text) in squash(data.narrative.get(part, "")), part


@pytest.mark.parametrize("to", ["html", "docx", "md", "txt"])
@pytest.mark.parametrize("seed", SEED_PREFIXES)
def test_rendered_versions_import_to_the_same_data(tmp_path, from_text, seed, to):
    original = from_text[seed]
    rendered = render_report(original, to)
    path = tmp_path / f"{seed}.{to}"
    if isinstance(rendered, bytes):
        path.write_bytes(rendered)
    else:
        path.write_text(rendered, encoding="utf-8")
    result = import_report(path)
    assert result.source_kind == to
    assert_same_data(original, result)
    assert not [f for f in result.findings if f.code.startswith("import-") and f.severity == "error"]


def test_handwritten_cms_page_with_merged_cells(from_text):
    result = import_report(HERE / "fixtures" / "seed004_cms.html")
    assert_same_data(from_text["004"], result, narrative=False)
    data = result.data
    assert data.narrative["overview.on_request"] == "全年共受理政府信息公开申请223件，均在法定期限内答复。"
    assert data.narrative["problems.text"] == "一是人力、财力缺乏。\n二是部分单位重视程度不够。"
    assert data.narrative["other.text"] == "无其他需要报告的事项。"  # the page footer is not report text
    assert not [f for f in result.findings if f.severity == "error"]


def test_page_laid_out_in_a_table(from_text):
    """Old CMS pages put the whole article in a layout table; the report tables sit inside a cell."""
    from toolkit.importers import import_document
    from toolkit.importers.html import parse_html

    html = (HERE / "fixtures" / "seed004_cms.html").read_text(encoding="utf-8")
    html = html.replace('<div class="content">', '<table width="100%"><tr><td>栏目</td><td><div class="content">', 1)
    html = html.replace('<div class="footer">', '</td></tr></table><div class="footer">', 1)
    data, findings = import_document(parse_html(html))
    typed = {k: v for k, v in from_text["004"].values.items() if v is not None}
    assert {k: data.values[k] for k in typed} == typed
    assert not [f for f in findings if f.severity == "error"]


# ---------------------------------------------------------------- a Word file made by hand


def _merge(table, r0, c0, r1, c1, text):
    cell = table.cell(r0, c0).merge(table.cell(r1, c1)) if (r0, c0) != (r1, c1) else table.cell(r0, c0)
    cell.text = text
    return cell


def _n(value) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def build_word_report(path: Path, data) -> None:
    """The seed's numbers in a Word report laid out like the official tables, merges included."""
    v = {k: _n(x) for k, x in data.values.items()}
    fmt = load_format("2021")
    document = docx.Document()
    document.add_heading(f"{data.unit}{data.year}年政府信息公开工作年度报告", 0)
    document.add_paragraph("一、总体情况")
    document.add_paragraph("（一）主动公开情况。全县各单位公开各类信息16058余件次。")
    document.add_paragraph("二、主动公开政府信息情况")

    t2 = document.add_table(rows=15, cols=4)
    t2.style = "Table Grid"
    r = 0
    for block in fmt.table("t2").blocks:
        _merge(t2, r, 0, r, 3, block.caption)
        t2.cell(r + 1, 0).text = "信息内容"
        cols = block.leaf_columns
        if len(cols) == 1:
            _merge(t2, r + 1, 1, r + 1, 3, cols[0].label)
        else:
            for j, col in enumerate(cols):
                t2.cell(r + 1, 1 + j).text = col.label.replace("件数", "\n件数")  # a header broken over lines
        for i, row in enumerate(block.rows):
            t2.cell(r + 2 + i, 0).text = row.label
            if len(cols) == 1:
                _merge(t2, r + 2 + i, 1, r + 2 + i, 3, v[f"t2.{row.id}.{cols[0].id}"])
            else:
                for j, col in enumerate(cols):
                    t2.cell(r + 2 + i, 1 + j).text = v[f"t2.{row.id}.{col.id}"]
        r += 2 + len(block.rows)

    document.add_paragraph("三、收到和处理政府信息公开申请情况")
    t3 = document.add_table(rows=28, cols=10)
    _merge(t3, 0, 0, 2, 2, fmt.table("t3").blocks[0].corner)
    _merge(t3, 0, 3, 0, 9, "申请人情况")
    _merge(t3, 1, 3, 2, 3, "自然人")
    _merge(t3, 1, 4, 1, 8, "法人或其他组织")
    _merge(t3, 1, 9, 2, 9, "总计")
    for j, label in enumerate(["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]):
        t3.cell(2, 4 + j).text = label
    columns = ["natural", "business", "research", "nonprofit", "legal", "other", "total"]
    r = 3
    for node in fmt.table("t3").blocks[0].rows:
        leaves = list(node.leaves())
        if node.is_leaf:
            _merge(t3, r, 0, r, 2, node.label)
        else:
            _merge(t3, r, 0, r + len(leaves) - 1, 0, node.label)
            rr = r
            for child in node.children:
                n = sum(1 for _ in child.leaves())
                if child.is_leaf:
                    _merge(t3, rr, 1, rr, 2, child.label)
                else:
                    _merge(t3, rr, 1, rr + n - 1, 1, child.label)
                    for k, leaf in enumerate(child.children):
                        t3.cell(rr + k, 2).text = leaf.label
                rr += n
        for k, leaf in enumerate(leaves):
            for j, col in enumerate(columns):
                t3.cell(r + k, 3 + j).text = v[f"t3.{leaf.id}.{col}"]
        r += len(leaves)

    document.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    t4 = document.add_table(rows=4, cols=15)
    _merge(t4, 0, 0, 1, 4, "行政复议")
    _merge(t4, 0, 5, 0, 14, "行政诉讼")
    _merge(t4, 1, 5, 1, 9, "未经复议直接起诉")
    _merge(t4, 1, 10, 1, 14, "复议后起诉")
    cells = [c for c in fmt.cells if c.startswith("t4.")]
    for j, cell_id in enumerate(cells):
        t4.cell(2, j).text = fmt.cells[cell_id].column.label
        t4.cell(3, j).text = v[cell_id]

    document.add_paragraph("五、存在的主要问题及改进情况")
    document.add_paragraph("一是人力、财力缺乏。")
    document.add_paragraph("六、其他需要报告的事项")
    document.add_paragraph("无其他需要报告的事项。")
    document.save(str(path))


def test_word_report_with_merged_cells(tmp_path, from_text):
    path = tmp_path / "鹿邑县2021年报.docx"
    build_word_report(path, from_text["004"])
    # the merges are real Word merges: the caption row has one cell spanning four columns
    table = docx.Document(str(path)).tables[0]
    assert len(table.rows[0]._tr.tc_lst) == 1
    result = import_report(path)
    assert_same_data(from_text["004"], result, narrative=False)
    assert result.source_kind == "docx"
    assert result.data.narrative["problems.text"] == "一是人力、财力缺乏。"
    assert not [f for f in result.findings if f.severity == "error"]


def test_damaged_word_file(tmp_path):
    path = tmp_path / "坏.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    result = import_report(path)
    assert result.data is None and result.findings[0].code == "import-unreadable"
    path.write_text("这不是Word文档", encoding="utf-8")
    assert import_report(path).findings[0].code == "import-unreadable"
