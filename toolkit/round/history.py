"""A unit's main figures across the years (``templates/history.yaml``) and their chart."""

from __future__ import annotations

import fnmatch
import warnings as warnings_module
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from toolkit.formats import load_yaml

from toolkit.archive import Archive
from toolkit.files import atomic_path
from toolkit.formats import TEMPLATES_DIR, Format, FormatError, all_formats, load_format
from toolkit.identity import unit_key
from toolkit.model import ReportData
from toolkit.round.common import UnknownUnit

@dataclass(frozen=True)
class Figure:
    id: str
    label: str
    group: str
    group_label: str
    cells: Any  # list of patterns, or format id -> list of patterns


@lru_cache(maxsize=None)
def history_figures() -> tuple[Figure, ...]:
    """The main figures of ``nianbao history``, from ``templates/history.yaml``."""
    path = TEMPLATES_DIR / "history.yaml"
    data = load_yaml(path)
    out = []
    for group in data["groups"]:
        for fig in group["figures"]:
            out.append(Figure(fig["id"], fig["label"], group["id"], group["label"], fig["cells"]))
    for fmt in all_formats():
        for fig in out:
            if not figure_cells(fig, fmt):
                raise FormatError(f"{path.name}: figure {fig.id!r} matches no cell of format {fmt.id}")
    return tuple(out)


def figure_cells(fig: Figure, fmt: Format) -> list[str]:
    """The cell ids of ``fmt`` a figure adds up."""
    patterns = fig.cells.get(fmt.id, []) if isinstance(fig.cells, dict) else fig.cells
    out: list[str] = []
    for pattern in patterns:
        for cell_id in fmt.cells:
            if fnmatch.fnmatchcase(cell_id, pattern) and cell_id not in out:
                out.append(cell_id)
    return out


def cell_value(fmt: Format, values: dict[str, Decimal | None], cell_id: str) -> Decimal | None:
    """A cell's value, a total recomputed from its input cells (never trusted from the file)
    when any of them is known; None when nothing is known."""
    rule = fmt.total_rule(cell_id)
    if rule is not None:
        parts = [(t.sign, cell_value(fmt, values, t.cell)) for t in rule.right]
        if any(v is not None for _, v in parts):
            return sum((sign * v for sign, v in parts if v is not None), Decimal(0))
    return values.get(cell_id)


def figure_value(fig: Figure, data: ReportData) -> Decimal | None:
    """A figure's value in one year's data; None when the year says nothing about it."""
    try:
        fmt = load_format(data.format)
    except (FormatError, KeyError, OSError):
        return None
    parts = [cell_value(fmt, data.values, c) for c in figure_cells(fig, fmt)]
    known = [p for p in parts if p is not None]
    return sum(known, Decimal(0)) if known else None


@dataclass
class History:
    """One unit's main figures across years: ``values[year][figure id]``."""

    unit: str
    years: list[int]
    figures: list[Figure]
    values: dict[int, dict[str, Decimal | None]]
    sources: dict[int, str]  # year -> "check" | "import"
    errors: dict[int, int]  # year -> errors in that year's current report

    def to_dict(self) -> dict[str, Any]:
        from toolkit.model import format_decimal

        return {
            "unit": self.unit,
            "years": self.years,
            "figures": [{"id": f.id, "label": f.label, "group": f.group_label} for f in self.figures],
            "values": {str(y): {k: None if v is None else format_decimal(v) for k, v in row.items()}
                       for y, row in self.values.items()},
        }


def resolve_unit(archive: Archive, name: str) -> tuple[str | None, list[str]]:
    """The archive's unit for ``name``: an exact (width- and space-folded) match, else the only
    unit whose name contains it. Returns (unit or None, candidates when ambiguous)."""
    exact = archive.find_unit(name)
    if exact:
        return exact, []
    key = unit_key(name)
    candidates = [u for u in archive.units() if key and key in unit_key(u)]
    return (candidates[0], []) if len(candidates) == 1 else (None, candidates)


def unit_history(archive: Archive | str | Path, unit: str) -> History:
    """``nianbao history``: the unit's main figures for every year in the archive.

    Raises :class:`UnknownUnit` when the unit is not in the archive (or the name is ambiguous).
    """
    own = not isinstance(archive, Archive)
    arch = Archive(archive, create=False) if own else archive
    try:
        name, candidates = resolve_unit(arch, unit)
        if name is None:
            if candidates:
                raise UnknownUnit(f"“{unit}”对应多个单位：{'、'.join(candidates)}，请写全称")
            known = arch.units()
            hint = f"档案中的单位：{'、'.join(known[:20])}{'等' if len(known) > 20 else ''}" if known else "档案中还没有任何单位"
            raise UnknownUnit(f"档案中没有单位“{unit}”。{hint}")
        stored = arch.reports(unit=name)
    finally:
        if own:
            arch.close()
    figures = list(history_figures())
    values, sources, errors = {}, {}, {}
    for s in stored:
        if s.data is None:
            continue
        values[s.year] = {f.id: figure_value(f, s.data) for f in figures}
        sources[s.year] = s.submission.source
        errors[s.year] = s.errors
    return History(name, sorted(values), figures, values, sources, errors)


def history_figure(history: History) -> tuple[Any, list[str]]:
    """The history chart as a matplotlib Figure (one panel per group of figures) and warnings
    (no font that draws Chinese was found)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.text import Text
    from matplotlib.ticker import MaxNLocator

    from toolkit import cjk_fonts

    warnings: list[str] = []
    plt.rcParams["axes.unicode_minus"] = False
    plt.rcParams["svg.fonttype"] = "none"  # an SVG keeps its text as text: the viewer draws it
    groups: dict[str, list[Figure]] = {}
    for fig in history.figures:
        groups.setdefault(fig.group_label, []).append(fig)
    years = history.years
    figure, axes = plt.subplots(len(groups), 1, figsize=(9, 3.4 * len(groups)), squeeze=False)
    for ax, (label, figs) in zip(axes[:, 0], groups.items()):
        for fig in figs:
            ys = [history.values[y].get(fig.id) for y in years]
            if all(v is None for v in ys):
                continue
            ax.plot(years, [float(v) if v is not None else float("nan") for v in ys], marker="o", label=fig.label)
        ax.set_title(label)
        ax.set_xticks(years)
        ax.set_xticklabels([str(y) for y in years])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("件")
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    figure.suptitle(f"{history.unit} 政府信息公开主要数据（{years[0]}–{years[-1]}年）" if years else history.unit)
    texts = figure.findobj(Text)  # with the empty ones: ticks drawn later copy their font from them
    font_path = cjk_fonts.chart_font("".join(t.get_text() for t in texts))
    if font_path:
        families = [cjk_fonts.use_cjk_font(font_path), "sans-serif"]
        plt.rcParams["font.family"] = families  # ticks drawn later
        for text in texts:
            text.set_fontfamily(families)
    else:
        warnings.append("未找到能显示中文的字体，图中的中文会显示为方框：请重新安装工具箱（pip install 会装上"
                        " Noto Sans CJK 字体包 manimgx-fonts-cjk），或在系统中安装中文字体（Debian：fonts-noto-cjk）")
    return figure, warnings


def draw_history_chart(history: History, path: str | Path) -> list[str]:
    """Draw the history as a PNG, or an SVG when ``path`` ends in .svg (text kept as text);
    atomically written. Returns warnings: no Chinese font found, or characters the font could
    not draw (matplotlib's "Glyph … missing" warnings, which would otherwise show as boxes)."""
    import matplotlib.pyplot as plt

    figure, warnings = history_figure(history)
    path = Path(path)
    kind = "svg" if path.suffix.lower() == ".svg" else "png"
    with warnings_module.catch_warnings(record=True) as caught:
        warnings_module.simplefilter("always")
        figure.tight_layout()
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format=kind, dpi=120)
    plt.close(figure)
    missing = {str(w.message) for w in caught if "missing from font" in str(w.message)}
    if missing:
        warnings.append(f"图中有 {len(missing)} 个字符所用的字体里没有，会显示为方框")
    return warnings
