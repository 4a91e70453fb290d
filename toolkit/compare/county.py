"""The county view (``nianbao compare --archive FILE --county``): every unit's main figures
(templates/history.yaml, the figures of ``nianbao history``) for every year in the archive; a
figure's change from the unit's previous year flagged by the thresholds of
templates/compare/compare.yaml; the cross-year rules of the format (上年结转, 现行有效件数) checked
between each unit's consecutive years by the checks' engine; and the units' sum per year."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from toolkit.archive import Archive
from toolkit.checks.engine import check_data
from toolkit.compare.core import Flag, compare_template, first_flag, load_flags, prior_rule_ids
from toolkit.formats import Format, FormatError, load_format
from toolkit.layout import cell_addresses
from toolkit.model import Finding, FindingCounts, ReportData, format_decimal
from toolkit.round.history import Figure, figure_cells, figure_value, history_figures


@dataclass
class CountyEntry(FindingCounts):
    """One unit's figures for one year. ``flags`` and ``previous`` are filled when the archive
    has the unit's previous year; ``findings`` are the cross-year rules' findings against it;
    ``marked`` maps a figure id to the messages of the findings at its cells."""

    unit: str
    year: int
    values: dict[str, Decimal | None]
    source: str
    report_errors: int
    report_warnings: int
    previous: dict[str, Decimal | None] | None = None
    flags: dict[str, Flag] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    marked: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit, "year": self.year, "source": self.source,
            "report_errors": self.report_errors, "report_warnings": self.report_warnings,
            "values": _numbers(self.values),
            "previous": None if self.previous is None else _numbers(self.previous),
            "flags": {k: {"id": f.id, "label": f.label} for k, f in self.flags.items()},
            "findings": [f.to_dict() for f in self.findings],
            "marked": {k: list(v) for k, v in self.marked.items()},
        }


@dataclass
class CountyView(FindingCounts):
    """The result of :func:`county_view`: ``entries[unit][year]``, units in the archive's order."""

    archive: str
    years: list[int]
    figures: list[Figure]
    units: list[str]
    entries: dict[str, dict[int, CountyEntry]]

    @property
    def findings(self) -> list[Finding]:
        return [f for _, f in self.entry_findings()]

    def entry_findings(self) -> list[tuple[CountyEntry, Finding]]:
        """Every cross-year finding with the unit-year it belongs to, unit by unit."""
        return [(e, f) for unit in self.units for e in self.entries[unit].values() for f in e.findings]

    def finding_lines(self) -> list[tuple[Finding, str]]:
        """Every cross-year finding with its line for the outputs (unit, year, message)."""
        line = county_texts()["finding_line"]
        return [(f, line.format(unit=e.unit, year=e.year, message=f.message)) for e, f in self.entry_findings()]

    def entry(self, unit: str, year: int) -> CountyEntry | None:
        return self.entries.get(unit, {}).get(year)

    def missing(self, unit: str) -> list[int]:
        """The view's years the archive has nothing for ``unit``."""
        return [y for y in self.years if y not in self.entries.get(unit, {})]

    def reported(self, year: int) -> int:
        """How many units have a report for ``year``."""
        return sum(1 for unit in self.units if year in self.entries[unit])

    def totals(self, year: int) -> dict[str, Decimal | None]:
        """Each figure summed over the units that reported ``year`` (None when none knows it)."""
        out: dict[str, Decimal | None] = {}
        for fig in self.figures:
            known = [v for unit in self.units if (e := self.entry(unit, year)) and (v := e.values.get(fig.id)) is not None]
            out[fig.id] = sum(known, Decimal(0)) if known else None
        return out

    def flagged(self) -> list[tuple[CountyEntry, Figure, Flag]]:
        """Every flagged change, unit by unit and year by year."""
        return [(e, fig, e.flags[fig.id]) for unit in self.units for e in self.entries[unit].values()
                for fig in self.figures if fig.id in e.flags]

    def to_dict(self) -> dict[str, Any]:
        return {
            "archive": self.archive, "years": self.years,
            "figures": [{"id": f.id, "label": f.label, "group": f.group_label} for f in self.figures],
            "errors": self.errors, "warnings": self.warnings,
            "units": [{"unit": unit, "missing_years": self.missing(unit),
                       "years": {str(y): e.to_dict() for y, e in self.entries[unit].items()}} for unit in self.units],
            "totals": {str(y): {"units": self.reported(y), "values": _numbers(self.totals(y))} for y in self.years},
        }


def _numbers(values: dict[str, Decimal | None]) -> dict[str, str | None]:
    return {k: None if v is None else format_decimal(v) for k, v in values.items()}


def county_view(archive: Archive | str | Path, *, years: tuple[int, int] | None = None,
                flags: list[Flag] | None = None) -> CountyView:
    """Every unit's main figures for every year of ``archive`` (or the years ``years[0]`` to
    ``years[1]``, both included), with flagged changes and cross-year findings. A year is
    compared with the unit's previous year even when that year is outside ``years``."""
    own = not isinstance(archive, Archive)
    arch = Archive(archive, create=False) if own else archive
    try:
        units = arch.units()
        stored = arch.reports()
        path = str(arch.path)
    finally:
        if own:
            arch.close()
    low, high = sorted(years) if years else (None, None)
    flags = load_flags() if flags is None else flags
    figures = list(history_figures())
    data_of: dict[tuple[str, int], ReportData] = {}
    entries: dict[str, dict[int, CountyEntry]] = {unit: {} for unit in units}
    for report in stored:
        if report.data is None:
            continue
        data_of[(report.unit, report.year)] = report.data
        entries.setdefault(report.unit, {})[report.year] = CountyEntry(
            report.unit, report.year, {f.id: figure_value(f, report.data) for f in figures},
            report.submission.source, report.errors, report.warnings)
    for unit, by_year in entries.items():
        for year, entry in by_year.items():
            last = data_of.get((unit, year - 1))
            if last is not None:
                _against_previous(entry, by_year[year - 1], flags)
                _cross_year(entry, data_of[(unit, year)], last, figures)
    if low is not None:
        entries = {u: {y: e for y, e in by_year.items() if low <= y <= high} for u, by_year in entries.items()}
    shown = [u for u in units if entries.get(u)]
    all_years = sorted({y for by_year in entries.values() for y in by_year})
    return CountyView(path, all_years, figures, shown, {u: entries[u] for u in shown})


def _against_previous(entry: CountyEntry, previous: CountyEntry, flags: list[Flag]) -> None:
    entry.previous = dict(previous.values)
    for fig_id, this in entry.values.items():
        last = previous.values.get(fig_id)
        if last is None or this is None:
            continue
        flag = first_flag(flags, last, this)
        if flag is not None:
            entry.flags[fig_id] = flag


def _cross_year(entry: CountyEntry, this: ReportData, last: ReportData, figures: list[Figure]) -> None:
    try:
        fmt = load_format(str(this.format))
    except (FormatError, KeyError, OSError):
        return
    wanted = prior_rule_ids(fmt)
    entry.findings = [f for f in check_data(this, fmt, prior=last) if f.rule in wanted]
    places = {(a.sheet, a.a1): cell_id for cell_id, a in cell_addresses(fmt).items()}
    for finding in entry.findings:
        cell_id = places.get((finding.sheet, finding.cell))
        for fig_id in _figures_at(fmt, figures, cell_id) if cell_id else ():
            entry.marked.setdefault(fig_id, []).append(finding.message)


def _figures_at(fmt: Format, figures: list[Figure], cell_id: str) -> list[str]:
    """The figures that add up ``cell_id``, else those that add up a cell of its row (a finding
    at 上年结转's 自然人 column belongs to the 上年结转 figure, which is the row's 总计)."""
    exact = [f.id for f in figures if cell_id in figure_cells(f, fmt)]
    if exact:
        return exact
    row = cell_id.rsplit(".", 1)[0]
    return [f.id for f in figures if any(c.rsplit(".", 1)[0] == row for c in figure_cells(f, fmt))]


def county_texts() -> dict[str, Any]:
    """The words and looks of the county view (templates/compare/compare.yaml, ``county``)."""
    return compare_template()["county"]


def county_title(view: CountyView) -> str:
    years = f"{view.years[0]}–{view.years[-1]}" if len(view.years) > 1 else (str(view.years[0]) if view.years else "")
    return county_texts()["title"].format(years=years, units=len(view.units))




@dataclass
class CountyCell:
    """One figure of one row of the county table, as every output draws it."""

    figure: str
    value: Decimal | None
    text: str
    flag: Flag | None = None
    findings: list[str] = field(default_factory=list)
    tip: str = ""


@dataclass
class CountyRow:
    """One row of the county table: a unit's year (``kind`` "entry"), a year the archive lacks
    for it ("missing"), or the units' sum of a year ("total"). ``first`` marks a unit's first row."""

    kind: str
    unit: str
    year: int
    cells: list[CountyCell]
    notes: list[str]
    first: bool = False
    span: int = 1  # rows of the unit, on its first row
    year_mark: str = ""  # the console's short form of the notes on the year: （导入）（有错误）（无报告）


def county_rows(view: CountyView) -> list[CountyRow]:
    """The table every output draws: each unit's years (the missing ones too), then a sum per year."""
    texts = county_texts()
    labels = {f.id: f.label for f in view.figures}
    rows: list[CountyRow] = []
    for unit in view.units:
        unit_rows = []
        for year in view.years:
            entry = view.entry(unit, year)
            if entry is None:
                blank = [CountyCell(f.id, None, "") for f in view.figures]
                unit_rows.append(CountyRow("missing", unit, year, blank, [texts["missing"]],
                                           year_mark=texts["year_marks"]["missing"]))
                continue
            cells = []
            for fig in view.figures:
                value = entry.values.get(fig.id)
                flag = entry.flags.get(fig.id)
                last = (entry.previous or {}).get(fig.id)
                tips = [f"{fig.label}：上年{_text(last)}，本年{_text(value)}，{flag.label}"] if flag else []
                tips += entry.marked.get(fig.id, [])
                cells.append(CountyCell(fig.id, value, _text(value), flag, list(entry.marked.get(fig.id, [])),
                                        "；".join(tips)))
            notes = [texts["flag_note"].format(figure=labels[fid], flag=flag.label, last=_text((entry.previous or {}).get(fid)))
                     for fid, flag in ((f.id, entry.flags[f.id]) for f in view.figures if f.id in entry.flags)]
            notes += [f.message for f in entry.findings]
            marks = texts["year_marks"]
            year_mark = ""
            if entry.source == "import":
                notes.insert(0, texts["imported"])
                year_mark += marks["imported"]
            if entry.report_errors:
                notes.insert(0, texts["report_errors"].format(count=entry.report_errors))
                year_mark += marks["errors"]
            unit_rows.append(CountyRow("entry", unit, year, cells, notes, year_mark=year_mark))
        unit_rows[0].first, unit_rows[0].span = True, len(unit_rows)
        rows += unit_rows
    for i, year in enumerate(view.years):
        totals = view.totals(year)
        cells = [CountyCell(f.id, totals[f.id], _text(totals[f.id])) for f in view.figures]
        rows.append(CountyRow("total", texts["total"], year, cells,
                              [texts["total_units"].format(count=view.reported(year))],
                              first=i == 0, span=len(view.years) if i == 0 else 1))
    return rows


def _text(value: Decimal | None) -> str:
    return "—" if value is None else format_decimal(value)


def figure_groups(view: CountyView) -> list[tuple[str, int]]:
    """(group label, number of figures) in the order of templates/history.yaml: the upper header."""
    out: list[tuple[str, int]] = []
    for fig in view.figures:
        if out and out[-1][0] == fig.group_label:
            out[-1] = (fig.group_label, out[-1][1] + 1)
        else:
            out.append((fig.group_label, 1))
    return out


__all__ = ["CountyCell", "CountyEntry", "CountyRow", "CountyView", "county_rows", "county_texts", "county_title",
           "county_view", "figure_groups"]
