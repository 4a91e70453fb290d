"""The format definitions: valid, complete, and matching the official tables in real reports."""

import pytest
import yaml

from shared_data import seed_text
from toolkit.formats import FormatError, format_for_year, load_format, load_format_file
from toolkit.grid import COLUMN, CORNER, ROW, VALUE, table_grid
from toolkit.labels import normalize_label

SEED_FORMAT = {"000": "2021", "001": "2021", "004": "2021", "002": "2019", "003": "2019"}


def test_year_selects_format():
    assert format_for_year(2019).id == "2019"
    assert format_for_year(2020).id == "2019"
    assert format_for_year(2021).id == "2021"
    assert format_for_year(2025).id == "2021"
    assert format_for_year(2025, forced="2019").id == "2019"
    with pytest.raises(FormatError):
        format_for_year(2018)


def test_table3_rows_in_official_order(fmt):
    rows = [r.label for r in fmt.table("t3").leaf_rows]
    assert rows[0] == "一、本年新收政府信息公开申请数量"
    assert rows[1] == "二、上年结转政府信息公开申请数量"
    assert rows[2] == "（一）予以公开"
    assert rows[-2] == "（七）总计"
    assert rows[-1] == "四、结转下年度继续办理"
    other = [r for r in fmt.table("t3").leaf_rows if r.id.startswith("other_")]
    assert len(other) == (3 if fmt.id == "2021" else 1)


def test_table3_columns(fmt):
    labels = [c.label for c in fmt.table("t3").leaf_columns]
    assert labels == ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]


def test_shared_meaning_shares_ids():
    new, old = load_format("2021"), load_format("2019")
    shared = set(new.cells) & set(old.cells)
    assert "t3.new.natural" in shared and "t4.review.total" in shared and "t2.rules.made" in shared
    assert "t3.other_handling.total" in old.cells and "t3.other_other.total" in new.cells
    assert "t2.procurement.amount" in old.cells and "t2.procurement.amount" not in new.cells
    assert old.cell("t2.licensing.change").kind.signed
    assert not new.cell("t2.licensing.decisions").kind.signed
    assert new.cell("t2.fees.amount").kind.decimals == 4 and new.cell("t2.fees.amount").kind.unit == "万元"


def test_every_total_has_a_formula_rule(fmt):
    totals = {c.id for c in fmt.total_cells}
    assert "t3.results_total.natural" in totals and "t3.new.total" in totals and "t4.review.total" in totals
    for cell_id in totals:
        assert fmt.total_rule(cell_id) is not None


def test_balance_rule_is_the_official_one(fmt):
    rule = next(r for r in fmt.rules if r.id == "t3-balance")
    assert len(rule.instances) == 7
    inst = rule.instances[0]
    assert [t.cell for t in inst.left] == ["t3.new.natural", "t3.carried_in.natural"]
    assert [t.cell for t in inst.right] == ["t3.results_total.natural", "t3.carried_over.natural"]


@pytest.mark.parametrize("seed", sorted(SEED_FORMAT))
def test_labels_appear_in_real_published_reports(seed):
    """Every table label of the format (or a declared variant) is printed in the real report."""
    fmt = load_format(SEED_FORMAT[seed])
    text = normalize_label(seed_text(seed))
    missing = []
    for table in fmt.tables:
        for block in table.blocks:
            nodes = [n for root in (*block.columns, *block.rows) for n in root.walk() if n.label]
            if block.caption:
                if not any(normalize_label(v) in text for v in (block.caption, *block.variants)):
                    missing.append(block.caption)
            for node in nodes:
                if not any(normalize_label(v) in text for v in node.labels):
                    missing.append(node.label)
    assert missing == [], missing


def test_grid_matches_official_merges():
    fmt = load_format("2021")
    grid = table_grid(fmt, "t3")
    by_text = {c.text: c for c in grid.cells if c.role in (COLUMN, ROW, CORNER)}
    assert (by_text["申请人情况"].rowspan, by_text["申请人情况"].colspan) == (1, 7)
    assert (by_text["法人或其他组织"].rowspan, by_text["法人或其他组织"].colspan) == (1, 5)
    assert (by_text["自然人"].rowspan, by_text["自然人"].colspan) == (2, 1)
    assert by_text["三、本年度办理结果"].rowspan == 22
    assert by_text["（三）不予公开"].rowspan == 8
    assert by_text["（一）予以公开"].colspan == 2
    assert by_text["一、本年新收政府信息公开申请数量"].colspan == 3
    corner = next(c for c in grid.cells if c.role == CORNER)
    assert (corner.rowspan, corner.colspan) == (3, 3)
    assert len([c for c in grid.cells if c.role == VALUE]) == 25 * 7
    t4 = table_grid(fmt, "t4")
    heads = {c.text: c for c in t4.cells if c.role == COLUMN and c.rowspan * c.colspan > 1}
    assert heads["行政复议"].colspan == 5 and heads["行政诉讼"].colspan == 10
    assert heads["未经复议直接起诉"].colspan == 5


def test_loader_rejects_broken_definitions(tmp_path):
    src = yaml.safe_load(load_format("2021").path.read_text(encoding="utf-8"))
    src["rules"][0]["left"][0] = "t3.nowhere.{col}"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(src, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FormatError, match="unknown cell"):
        load_format_file(bad)
    src = yaml.safe_load(load_format("2021").path.read_text(encoding="utf-8"))
    src["rules"][0]["severity"] = "fatal"
    bad.write_text(yaml.safe_dump(src, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FormatError, match="severity"):
        load_format_file(bad)


def test_template_data_is_kept_while_the_file_is_unchanged(tmp_path, monkeypatch):
    import os
    import sys

    from toolkit.template_cache import cache_path, load

    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path / "cache"))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    source = tmp_path / "t.yaml"
    source.write_text("a: [1, 2.5, true, null, 文字]\n", encoding="utf-8")
    parsed = []

    def parse(path):
        parsed.append(path)
        return yaml.safe_load(path.read_text(encoding="utf-8"))

    expected = {"a": [1, 2.5, True, None, "文字"]}
    assert load(source, parse) == expected and len(parsed) == 1
    assert cache_path(source).is_file() and str(cache_path(source)).startswith(str(tmp_path / "cache"))
    assert load(source, parse) == expected and len(parsed) == 1  # kept
    source.write_text("a: 2\n", encoding="utf-8")
    os.utime(source, ns=(1, 1))
    assert load(source, parse) == {"a": 2} and len(parsed) == 2  # changed: parsed again
    cache_path(source).write_bytes(b"not marshal")
    assert load(source, parse) == {"a": 2} and len(parsed) == 3  # a broken kept file is ignored
    dated = tmp_path / "d.yaml"
    dated.write_text("day: 2026-01-15\n", encoding="utf-8")
    assert load(dated, parse) == load(dated, parse) and len(parsed) == 5  # a date is not kept
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    other = tmp_path / "o.yaml"
    other.write_text("b: 1\n", encoding="utf-8")
    assert load(other, parse) == {"b": 1} and not cache_path(other).exists()


def test_only_the_toolkits_own_templates_are_kept(tmp_path, monkeypatch):
    import sys

    from toolkit.formats import TEMPLATES_DIR, load_yaml, parse_yaml
    from toolkit.template_cache import cache_path

    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path / "cache"))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    mine = tmp_path / "mine.yaml"
    mine.write_text("x: 1\n", encoding="utf-8")
    assert load_yaml(mine) == {"x": 1} and not cache_path(mine).exists()
    for path in sorted(TEMPLATES_DIR.rglob("*.yaml")):
        assert load_yaml(path) == load_yaml(path) == parse_yaml(path.read_text(encoding="utf-8"))
        assert cache_path(path).is_file()
