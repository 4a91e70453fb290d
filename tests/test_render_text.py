"""Markdown and plain-text reports parsed back; render_file / render_many / ``nianbao render``."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from render_helpers import ancestors_labels, expected_matrix, filled_data, filled_workbook
from shared_data import seed_text
from toolkit.cli import app
from toolkit.formats import load_format
from toolkit.grid import table_grid
from toolkit.model import ReportData, format_decimal
from toolkit.render import render_file, render_many, render_report



# ---------------------------------------------------------------- plain text


def text_tables(text: str, fmt) -> dict[str, list[list[str]]]:
    """The tab-separated lines following each table section's heading."""
    lines = text.split("\n")
    out = {}
    for section in fmt.sections:
        if not section.table:
            continue
        i = lines.index(section.label) + 1
        while not lines[i]:
            i += 1
        rows = []
        while lines[i]:
            rows.append(lines[i].split("\t"))
            i += 1
        out[section.table] = rows
    return out


def test_text_headings_in_order(fmt):
    data = filled_data(fmt, 1)
    lines = render_report(data, "txt").split("\n")
    assert lines[0] == fmt.title.format(unit=data.unit, year=data.year)
    positions = [lines.index(s.label) for s in fmt.sections]
    assert positions == sorted(positions)
    assert any(f"{data.year}年1月1日起至{data.year}年12月31日止" in line for line in lines)


def test_text_tables_like_published_reports(fmt):
    """Tab-separated rows over the whole grid width; a merged cell's text in its top-left
    position, the positions it covers empty (the layout of the published texts in seeds/)."""
    data = filled_data(fmt, 2)
    tables = text_tables(render_report(data, "txt"), fmt)
    for table_id, rows in tables.items():
        grid = table_grid(fmt, table_id)
        assert len(rows) == grid.n_rows
        assert all(len(row) == grid.n_cols for row in rows)
        expected = expected_matrix(fmt, table_id, data)
        for r in range(grid.n_rows):
            for c in range(grid.n_cols):
                want = expected[(r, c)][0] if (r, c) in expected else ""
                assert rows[r][c] == want, (table_id, r, c)


def test_text_table_header_matches_a_published_seed():
    seed_lines = seed_text("000").split("\n")
    fmt = load_format("2021")
    ours = render_report(filled_data(fmt, 3), "txt").split("\n")
    for line in ("第二十条第（一）项\t\t\t", "信息内容\t本年制发件数\t本年废止件数\t现行有效件数",
                 "第二十条第（五）项\t\t\t"):
        assert line in seed_lines and line in ours
    seed_t4 = seed_lines.index("行政复议\t\t\t\t\t行政诉讼\t\t\t\t\t\t\t\t\t")
    ours_t4 = ours.index("行政复议\t\t\t\t\t行政诉讼\t\t\t\t\t\t\t\t\t")
    assert seed_lines[seed_t4 + 1] == ours[ours_t4 + 1]
    assert seed_lines[seed_t4 + 2] == ours[ours_t4 + 2]


def test_text_draft_mark_first_line():
    text = render_report(filled_data(load_format("2019"), 4), "txt", draft=True)
    assert text.split("\n")[0] == "草稿（未通过校验）"


# ---------------------------------------------------------------- markdown


def md_tables(md: str) -> list[tuple[str | None, list[list[str]]]]:
    """Pipe tables in order, each with the bold caption line just above it (if any)."""
    lines = md.split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith("| "):
            caption = None
            j = i - 1
            while j >= 0 and not lines[j]:
                j -= 1
            if lines[j].startswith("**") and lines[j].endswith("**"):
                caption = lines[j][2:-2]
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = re.split(r"(?<!\\)\|", lines[i].strip())[1:-1]
                rows.append([re.sub(r"\\(.)", r"\1", c.strip()) for c in cells])
                i += 1
            assert set("".join(rows[1])) <= set("- "), rows[1]
            out.append((caption, [rows[0]] + rows[2:]))
        i += 1
    return out


def test_markdown_headings(fmt):
    data = filled_data(fmt, 5)
    md = render_report(data, "md")
    h1 = [line[2:] for line in md.split("\n") if line.startswith("# ")]
    h2 = [line[3:] for line in md.split("\n") if line.startswith("## ")]
    assert h1 == [fmt.title.format(unit=data.unit, year=data.year)]
    assert h2 == [s.label for s in fmt.sections]


def test_markdown_tables_hold_every_cell(fmt):
    """Every value under its column labels and beside its row labels (joined with " / "),
    checked against the format's row and column trees."""
    data = filled_data(fmt, 6)
    found: dict[str, str] = {}
    for caption, rows in md_tables(render_report(data, "md")):
        header, body = rows[0], rows[1:]
        for table in fmt.tables:
            for block in table.blocks:
                if (block.caption or None) != caption:
                    continue
                labelled = block.row_depth > 0
                col_names = [" / ".join(ancestors_labels(block.columns, leaf.id)) for leaf in block.leaf_columns]
                if header[labelled:] != col_names:
                    continue
                if labelled:
                    assert header[0] == (block.corner or "")
                for row_node, row in zip(block.leaf_rows, body, strict=True):
                    if labelled:
                        assert row[0] == " / ".join(ancestors_labels(block.rows, row_node.id))
                    for col_node, text in zip(block.leaf_columns, row[labelled:], strict=True):
                        cell = next(c for c in table.cells if c.block is block and c.row is row_node and c.column is col_node)
                        found[cell.id] = text
    assert set(found) == set(fmt.cells)
    for cell_id, text in found.items():
        assert text == format_decimal(data.values[cell_id])


def test_markdown_escapes_user_text():
    data = filled_data(load_format("2021"), 7, narrative={
        "problems.text": "1. 第一条 *重点* | 竖线 <i>标签</i>\n# 不是标题",
    })
    md = render_report(data, "md")
    assert "1\\. 第一条 \\*重点\\* \\| 竖线 \\<i\\>标签\\</i\\>" in md
    assert "\\# 不是标题" in md
    assert not any(line.startswith("# 不是") for line in md.split("\n"))


# ---------------------------------------------------------------- all kinds, round trip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), fid=st.sampled_from(["2021", "2019"]),
       money=st.decimals(min_value=0, max_value=99999, places=4, allow_nan=False, allow_infinity=False))
def test_text_round_trip_of_every_value(seed, fid, money):
    fmt = load_format(fid)
    data = filled_data(fmt, seed)
    money_cell = next(c.id for c in fmt.input_cells if c.kind.decimals)
    data.values[money_cell] = money
    tables = text_tables(render_report(data, "txt"), fmt)
    for table_id, rows in tables.items():
        for cell_id, (r, c) in table_grid(fmt, table_id).positions.items():
            assert Decimal(rows[r][c]) == data.values[cell_id]
            assert rows[r][c] == format_decimal(data.values[cell_id])


# ---------------------------------------------------------------- files and the command


@pytest.mark.parametrize("to", ["txt", "md"])
def test_filled_workbook_to_text_and_markdown(tmp_path, fmt, to):
    """End to end: a filled standard workbook rendered as text/Markdown; every value back."""
    path, data = filled_workbook(tmp_path, fmt, 13, narrative={"other.text": "本年度无其他事项。"})
    result = render_file(path, to, tmp_path / f"report.{to}")
    assert result.ok and not result.draft, (result.error, result.findings)
    text = result.out.read_text(encoding="utf-8")
    assert "本年度无其他事项。" in text
    if to == "txt":
        for table_id, rows in text_tables(text, fmt).items():
            for cell_id, (r, c) in table_grid(fmt, table_id).positions.items():
                assert rows[r][c] == format_decimal(data.values[cell_id])
    else:
        values = [cell for _, rows in md_tables(text) for row in rows[1:] for cell in row]
        expected = [format_decimal(data.values[c.id]) for t in fmt.tables for b in t.blocks
                    for row in b.leaf_rows for c in t.cells if c.block is b and c.row is row]
        numbers = [v for v in values if re.fullmatch(r"-?[0-9.]+", v)]
        assert numbers == expected



def write_json(path: Path, data: ReportData) -> Path:
    path.write_text(json.dumps(data.to_dict(), ensure_ascii=False), encoding="utf-8")
    return path


def broken(data: ReportData) -> ReportData:
    data.values["t3.new.natural"] += 1
    data.values["t3.new.total"] += 1
    return data


def test_render_file_from_json(tmp_path):
    data = filled_data(load_format("2021"), 8)
    source = write_json(tmp_path / "data.json", data)
    result = render_file(source, "md")
    assert result.ok and not result.draft and result.error is None
    assert result.out == tmp_path / f"{data.unit}{data.year}年政府信息公开工作年度报告.md"
    assert result.out.read_text(encoding="utf-8") == render_report(data, "md")
    assert set(result.defaults_used) == {p.id for p in load_format("2021").parts}


def test_render_file_refuses_errors_unless_forced(tmp_path):
    data = broken(filled_data(load_format("2021"), 9))
    source = write_json(tmp_path / "data.json", data)
    out = tmp_path / "out.txt"
    refused = render_file(source, "txt", out)
    assert not refused.ok and not out.exists()
    assert refused.errors and "t3-balance" in {f.rule for f in refused.errors}
    forced = render_file(source, "txt", out, force=True)
    assert forced.ok and forced.draft
    assert out.read_text(encoding="utf-8").startswith("草稿（未通过校验）\n")


def test_render_many_folder_unique_names_and_failures(tmp_path):
    fmt = load_format("2019")
    folder = tmp_path / "returned"
    folder.mkdir()
    good = filled_data(fmt, 10, unit="甲镇人民政府", year=2020)
    write_json(folder / "a.json", good)
    write_json(folder / "b.json", good)  # same unit twice: second output gets _2
    write_json(folder / "c.json", broken(filled_data(fmt, 11, unit="乙镇人民政府", year=2020)))
    (folder / "d.json").write_text("{not json", encoding="utf-8")
    (folder / "~$a.xlsx").write_bytes(b"lock file")
    (folder / "notes.txt").write_text("not a source", encoding="utf-8")
    out_dir = tmp_path / "out"
    results = render_many([folder], "html", out_dir)
    assert [r.source.name for r in results] == ["a.json", "b.json", "c.json", "d.json"]
    assert [r.ok for r in results] == [True, True, False, False]
    assert results[0].out.name == "甲镇人民政府2020年政府信息公开工作年度报告.html"
    assert results[1].out.name == "甲镇人民政府2020年政府信息公开工作年度报告_2.html"
    assert "数据文件" in results[3].error
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(r.out.name for r in results[:2])


def test_command_exit_codes_and_messages(tmp_path):
    runner = CliRunner()
    fmt = load_format("2021")
    good = write_json(tmp_path / "good.json", filled_data(fmt, 12))
    bad = write_json(tmp_path / "bad.json", broken(filled_data(fmt, 13, unit="丙镇人民政府")))
    out = tmp_path / "r.docx"
    ok = runner.invoke(app, ["render", str(good), "--to", "docx", "-o", str(out)])
    assert ok.exit_code == 0 and "已生成" in ok.output and out.is_file()
    refused = runner.invoke(app, ["render", str(bad), "--to", "txt", "--out-dir", str(tmp_path / "o")])
    assert refused.exit_code == 1
    assert "未生成" in refused.output and "[错误]" in refused.output and "第一项" in refused.output
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    forced = runner.invoke(app, ["render", str(bad), "--to", "txt", "--out-dir", str(tmp_path / "o"), "--force"])
    assert forced.exit_code == 0 and "草稿（未通过校验）" in forced.output
    assert runner.invoke(app, ["render", str(good), "--to", "rtf"]).exit_code == 2
    assert runner.invoke(app, ["render", str(good), str(bad), "--to", "md", "-o", str(tmp_path / "x.md")]).exit_code == 2
    assert runner.invoke(app, ["render", str(good), "--to", "md", "--template-dir", str(tmp_path / "nope")]).exit_code == 2
    hostile = tmp_path / "tpl"
    hostile.mkdir()
    (hostile / "report.md.j2").write_text("{{ ''.__class__.__base__.__subclasses__() }}", encoding="utf-8")
    sandboxed = runner.invoke(app, ["render", str(good), "--to", "md", "--template-dir", str(hostile),
                                    "-o", str(tmp_path / "h.md")])
    assert sandboxed.exit_code == 1 and "安全沙箱" in sandboxed.output and "Traceback" not in sandboxed.output
