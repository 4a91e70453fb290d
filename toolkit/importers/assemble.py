"""A report :class:`~toolkit.importers.document.Document` -> ReportData and findings.

Shared by every input kind. In order:

1. unit and year from the title (or the opening text);
2. the format from the tables' labels: labels only one format has ("本年制发件数" is 2021,
   "本年新制作数量" 2019), never from what the text claims;
3. the six sections by their headings (the format's labels and ``variants``, loosely matched,
   whatever their numbering); a table section counts only if numbers follow its heading;
4. the narrative parts, split on part headings ("（一）主动公开情况。…");
5. every table: number rows are matched to official rows by their labels; rows whose label was
   lost (PDF extraction puts a broken label cell's numbers on a line of their own) take the free
   official rows between their recognised neighbours, when the count fits; numbers are read with
   the workbook reader's ``parse_value`` so typed values give the same findings.

What cannot be read is a finding naming the table and row, and everything else is still read.
The steps live beside this module: identify.py (1, 2), sections.py (3, 4), rows.py (a table
region's rows, whatever layout printed them), tables.py (5) and cells.py (a cell's text).
"""

from __future__ import annotations

from pathlib import Path

from toolkit.checks import import_findings as imf
from toolkit.formats import Format, all_formats, format_for_year, load_format
from toolkit.importers.document import Document, Item
from toolkit.importers.identify import detect_format, find_identity
from toolkit.importers.match import fold
from toolkit.importers.rows import ValueRow, table_rows
from toolkit.importers.sections import find_sections, narrative
from toolkit.importers.tables import TableReader
from toolkit.model import Finding, ReportData


# ---------------------------------------------------------------- the whole report


def assemble(doc: Document, *, format_id: str | None = None,
             year: int | None = None) -> tuple[ReportData | None, list[Finding]]:
    """Read a Document into ReportData; see the module docstring. Never raises on bad content.
    A document with no section heading and no table row is not a report: (None, one finding)."""
    findings: list[Finding] = []
    unit, found_year = find_identity(doc)
    if found_year is not None and year is not None and found_year != year:
        findings.append(imf.ImportYearMismatch.make(expected=year, actual=found_year))
    report_year = found_year or year

    fmt, evidence = detect_format(doc)
    if fmt is None:
        reason = "按指定的格式" if format_id else ("按报告年度" if report_year else "按最新格式")
        fmt = load_format(format_id) if format_id else (
            _format_for_year(report_year) or max(all_formats(), key=lambda f: f.year_from))
        findings.append(imf.ImportFormatUnknown.make(actual=fmt.id, name=fmt.name, reason=reason))
    else:
        if format_id and str(format_id) != fmt.id:
            findings.append(imf.ImportFormatForced.make(expected=str(format_id), actual=fmt.id, name=fmt.name))
        whole = fold("".join(it.text for it in doc.items))
        claimed = [f for f in all_formats() if fold(f.name) in whole]
        if claimed and fmt not in claimed:
            findings.append(imf.ImportFormatClaimed.make(
                expected=claimed[0].id, expected_name=claimed[0].name, actual=fmt.id, name=fmt.name))
        if report_year is not None and not fmt.covers(report_year):
            expected = _format_for_year(report_year)
            if expected is not None:
                findings.append(imf.ImportFormatYear.make(
                    year=report_year, actual=fmt.id, name=fmt.name, expected=expected.id,
                    expected_name=expected.name))

    if unit is None:
        findings.append(imf.ImportUnitMissing.make())
    if report_year is None:
        findings.append(imf.ImportYearMissing.make())

    data = ReportData(format=fmt.id, unit=unit, year=report_year, source=doc.source,
                      values={cid: None for cid in fmt.cells})
    regions, section_findings = find_sections(doc, fmt)
    findings.extend(section_findings)

    # a missing narrative section takes the text after the table before it (its heading was lost)
    order = [s.id for s in fmt.sections]
    orphans: dict[str, list[Item]] = {}
    for k, section in enumerate(fmt.sections):
        if section.id in regions:
            continue
        note = ""
        prev = next((regions[s] for s in reversed(order[:k]) if s in regions), None)
        if section.parts and prev is not None and prev.section.table:
            rows = table_rows(prev.items)
            last = max((r.order for r in rows if isinstance(r, ValueRow)), default=None)
            if last is not None:
                last_item = rows[last].item
                tail = prev.items[prev.items.index(last_item) + 1:]
                if any(not it.is_row for it in tail):
                    orphans[section.id] = tail
                    prev.items = prev.items[: prev.items.index(last_item) + 1]
                    note = f"，{fmt.table(prev.section.table).number}之后的文字按这一部分读取"
        findings.append(imf.ImportSectionMissing.make(section=section.label, note=note))

    for section in fmt.sections:
        items = regions[section.id].items if section.id in regions else orphans.get(section.id)
        if not items or not section.parts:
            continue
        texts, finding = narrative(section, items, doc.line_width if doc.wrapped else 0)
        data.narrative.update(texts)
        if finding is not None:
            findings.append(finding)

    for table in fmt.tables:
        section = next((s for s in fmt.sections if s.table == table.id), None)
        region = regions.get(section.id) if section else None
        reader = TableReader(fmt, table, data, findings, lines=doc.kind in ("text", "markdown"))
        reader.read_region(table_rows(region.items) if region else [])
    if not regions and all(v is None for v in data.values.values()):
        return None, [imf.ImportNotAReport.make(file=Path(doc.source).name if doc.source else "报告")]
    return data, findings


def _format_for_year(year: int | None) -> Format | None:
    if year is None:
        return None
    try:
        return format_for_year(year)
    except Exception:  # noqa: BLE001 - a year no format covers: no expectation
        return None
