"""``nianbao history``: a unit's main figures across years, as a table, JSON and a chart."""

from __future__ import annotations

import json
from pathlib import Path
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from toolkit.archive import Archive
from toolkit.cli import app
from toolkit.formats import all_formats, load_format
from toolkit.model import format_decimal
from toolkit.demo.synthetic import synthetic_report
from toolkit.round import draw_history_chart, figure_cells, history_figures, unit_history

UNIT = "蓼堤镇人民政府"


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "nianbao.db"
    reports = {}
    prior = None
    with Archive(path) as arch:
        for year in (2020, 2022, 2023, 2024, 2025):
            fmt = "2019" if year < 2021 else "2021"
            data = synthetic_report(fmt, UNIT, year, seed=7, prior=prior if prior and prior.format == fmt else None)
            reports[year] = data
            arch.record_data(data, source="import" if year == 2020 else "check")
            prior = data
        arch.record_data(synthetic_report("2021", "蓼堤镇卫生院", 2025), source="check")
    return path, reports


def _sum(data, predicate):
    return sum((v for k, v in data.values.items() if predicate(k)), Decimal(0))


def test_history_figures_match_the_formats():
    figures = history_figures()
    assert len({f.id for f in figures}) == len(figures)
    for fmt in all_formats():
        for fig in figures:
            cells = figure_cells(fig, fmt)
            assert cells and all(c in fmt.cells for c in cells)
    other = next(f for f in figures if f.id == "other_handling")
    assert figure_cells(other, load_format("2019")) == ["t3.other_handling.total"]
    assert len(figure_cells(other, load_format("2021"))) == 3


def test_history_values(archive):
    path, reports = archive
    history = unit_history(path, UNIT)
    assert history.unit == UNIT and history.years == [2020, 2022, 2023, 2024, 2025]
    assert history.sources[2020] == "import" and history.sources[2025] == "check"
    for year, data in reports.items():
        row = history.values[year]
        assert row["new"] == data.values["t3.new.total"]
        assert row["carried_over"] == data.values["t3.carried_over.total"]
        assert row["withheld"] == _sum(data, lambda k: k.startswith("t3.withheld_") and k.endswith(".total"))
        assert row["other_handling"] == _sum(
            data, lambda k: k.startswith("t3.other_") and k.endswith(".total"))
        assert row["review"] == data.values["t4.review.total"]
        assert row["suit"] == data.values["t4.suit_direct.total"] + data.values["t4.suit_after_review.total"]
        assert row["licensing"] == data.values["t2.licensing.decisions"]
        assert row["penalty"] == data.values["t2.penalty.decisions"]
        parts = ("disclosed", "partial", "withheld", "unable", "not_handled", "other_handling")
        assert sum(row[p] for p in parts) == row["results_total"]


def test_totals_in_the_archive_are_not_trusted(tmp_path):
    data = synthetic_report("2021", UNIT, 2025)
    data.values["t3.new.total"] = Decimal(999)  # a wrong total typed over the formula
    with Archive(tmp_path / "a.db") as arch:
        arch.record_data(data, source="check")
        history = unit_history(arch, UNIT)
    expected = sum(data.values[f"t3.new.{c}"] for c in ("natural", "business", "research", "nonprofit", "legal", "other"))
    assert history.values[2025]["new"] == expected != Decimal(999)


def test_cli_table_and_json(archive):
    path, reports = archive
    result = CliRunner().invoke(app, ["history", UNIT, "--archive", str(path)])
    assert result.exit_code == 0, result.output
    for text in ("本年新收申请", "行政复议", "行政许可处理决定", "2025", "2020（导入）"):
        assert text in result.output
    result = CliRunner().invoke(app, ["history", UNIT, "--archive", str(path), "--json"])
    data = json.loads(result.stdout)
    assert data["years"] == [2020, 2022, 2023, 2024, 2025]
    assert data["values"]["2024"]["new"] == format_decimal(reports[2024].values["t3.new.total"])


def test_unit_lookup(archive):
    path, _ = archive
    assert unit_history(path, "蓼堤镇 人民政府").unit == UNIT
    assert unit_history(path, "蓼堤镇").unit == UNIT  # the same unit without 人民政府
    result = CliRunner().invoke(app, ["history", "蓼堤", "--archive", str(path)])
    assert result.exit_code == 1 and "对应多个单位" in result.output
    result = CliRunner().invoke(app, ["history", "卫生院", "--archive", str(path), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["unit"] == "蓼堤镇卫生院"
    result = CliRunner().invoke(app, ["history", "不存在的单位", "--archive", str(path)])
    assert result.exit_code == 1 and "档案中没有单位" in result.output


def _stale_font_cache(monkeypatch):
    """matplotlib's font cache as on a machine where it was built before the Chinese fonts
    were installed: it knows no font that draws Chinese."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    def draws_chinese(entry):
        try:
            return FT2Font(entry.fname).get_char_index(ord("表")) != 0
        except Exception:
            return False

    stale = [f for f in font_manager.fontManager.ttflist if not draws_chinese(f)]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    font_manager.fontManager._findfont_cached.cache_clear()


def _assert_every_character_has_a_glyph(figure):
    """Each character of each label is in a font the label's family list resolves to (a missing
    one is drawn as a box: the .notdef glyph, index 0)."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font
    from matplotlib.text import Text

    figure.canvas.draw()
    labels = [t for t in figure.findobj(Text) if t.get_text().strip()]
    assert any("申请" in t.get_text() for t in labels)
    for text in labels:
        prop = text.get_fontproperties()
        fonts = []
        for family in prop.get_family():
            path = font_manager.findfont(font_manager.FontProperties(family=family, size=prop.get_size()),
                                         fallback_to_default=False)
            fonts.append(FT2Font(path))
        for char in text.get_text():
            if not char.isspace():
                assert any(f.get_char_index(ord(char)) for f in fonts), (text.get_text(), char, prop.get_family())


@pytest.mark.parametrize("machine", ["stale font cache", "no Chinese font installed"])
def test_chart_draws_chinese(tmp_path, archive, monkeypatch, machine):
    import toolkit.cjk_fonts as cjk_fonts
    import toolkit.round as round_module

    path, _ = archive
    _stale_font_cache(monkeypatch)
    if machine == "no Chinese font installed":
        monkeypatch.setattr(cjk_fonts, "system_cjk_fonts", lambda: [])
        assert cjk_fonts.find_cjk_font() == str(cjk_fonts.bundled_cjk_font())
    history = unit_history(path, UNIT)
    figure, warnings = round_module.history_figure(history)
    assert warnings == []
    _assert_every_character_has_a_glyph(figure)
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager

    used = font_manager.findfont(font_manager.FontProperties(family=figure.texts[0].get_fontfamily()[0]))
    if machine == "no Chinese font installed":  # the bundled variable font, cut down at regular weight
        assert Path(used) != cjk_fonts.bundled_cjk_font()
        assert "fvar" not in TTFont(used) and TTFont(used)["OS/2"].usWeightClass == 400
    chart = tmp_path / "蓼堤镇.png"
    assert draw_history_chart(history, chart) == []  # no "Glyph … missing from font" while drawing
    from PIL import Image

    with Image.open(chart) as image:
        assert image.format == "PNG" and image.size[0] > 600 and image.size[1] > 600


def test_chart_as_svg_keeps_its_text(tmp_path, archive):
    path, _ = archive
    chart = tmp_path / "history.svg"
    assert draw_history_chart(unit_history(path, UNIT), chart) == []
    svg = chart.read_text(encoding="utf-8")
    assert "<text" in svg and "本年新收申请" in svg and "Noto Sans CJK" in svg


def test_chart_without_a_chinese_font_degrades_with_a_warning(tmp_path, archive, monkeypatch):
    import toolkit.cjk_fonts as cjk_fonts

    path, _ = archive
    _stale_font_cache(monkeypatch)
    monkeypatch.setattr(cjk_fonts, "find_cjk_font", lambda: None)
    chart = tmp_path / "chart.png"
    warnings = draw_history_chart(unit_history(path, UNIT), chart)
    assert "中文的字体" in warnings[0] and "manimgx-fonts-cjk" in warnings[0]
    assert any("方框" in w for w in warnings[1:])  # the missing glyphs are reported, not hidden
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_chart(tmp_path, archive):
    path, _ = archive
    chart = tmp_path / "out" / "history.png"
    result = CliRunner().invoke(app, ["history", UNIT, "--archive", str(path), "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
