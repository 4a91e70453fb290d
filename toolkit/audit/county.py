"""A county government's own figures against the sum of its townships' and departments' reports."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from toolkit.model import Finding, ReportData


def county_members(subjects: list[Any], conf: dict[str, Any], archive: str | Path | None) -> None:
    """Give each county government of the set (one per year: its name matches ``conf["units"]``)
    the reports of the other units of its year as ``members``: the archive's current data when
    ``archive`` is given, else the other reports of the set. A year with two county governments
    in the set (reports of several counties) is left alone."""
    pattern = re.compile(conf["units"])
    by_year: dict[int, list[Any]] = {}
    for s in subjects:
        if s.data is not None and s.data.unit and s.data.year:
            by_year.setdefault(s.data.year, []).append(s)
    for year, group in by_year.items():
        counties = [s for s in group if pattern.search(s.data.unit)]
        if len(counties) != 1:
            continue
        county = counties[0]
        if archive is not None:
            county.members = _archive_members(archive, year, county.data.unit)
            county.members_source = "报回的填报表"
        else:
            county.members = [s.data for s in group if s is not county and s.data.format == county.data.format]
            county.members_source = "报告"


def _archive_members(archive: str | Path, year: int, county: str) -> list[ReportData]:
    from toolkit.archive import open_archive
    from toolkit.identity import same_unit

    with open_archive(archive) as arc:
        return [r.data for r in arc.reports(year=year) if r.data is not None and not same_unit(r.unit, county)]


def county_findings(data: ReportData, members: list[ReportData], source: str, cells: list[str]) -> Iterator[Finding]:
    """One finding per cell of ``cells`` whose value in ``data`` differs from its sum over
    ``members`` (totals recomputed on both sides)."""
    from toolkit.audit.findings import AuditCountySum
    from toolkit.checks.figures import cell_label, recompute
    from toolkit.formats import load_format

    fmt = load_format(data.format)
    own = recompute(fmt, data.values)
    sums = {c: Decimal(0) for c in cells}
    for member in members:
        values = recompute(fmt, member.values)
        for c in cells:
            sums[c] += values.get(c, Decimal(0))
    for c in cells:
        if c in own and own[c] != sums[c]:
            line = data.cells.get(c)
            yield AuditCountySum.make(cell_label=cell_label(fmt, c), count=len(members), source=source,
                                      sheet=fmt.cell(c).table.number,
                                      row=f"第{line.line}行" if line and line.line else None,
                                      expected=sums[c], actual=own[c])
