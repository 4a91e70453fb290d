"""This year's report beside last year's: every cell of the tables with its change, the changes
beyond the thresholds of templates/compare/compare.yaml flagged, and the findings that need both years
(the format's ``prior:`` rules, evaluated by the checks' engine), the narrative copied from last
year, and this year's narrative numbers against this year's tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from toolkit.checks.engine import check_data
from toolkit.checks.figures import cell_label
from toolkit.compare import findings as cf
from toolkit.formats import TEMPLATES_DIR, Format, load_format, load_yaml
from toolkit.layout import cell_addresses, narrative_rows, workbook_plan
from toolkit.model import Finding, FindingCounts, ReportData, format_decimal
from toolkit.narrative import CarriedSentence, carried_over

NARRATIVE_RULE_KINDS = ("narrative_number", "narrative_zero")
PRIOR_IDENTITY_CODES = ("prior-not-previous-year", "prior-unit-differs")
HUNDRED = Decimal(100)


@lru_cache(maxsize=None)
def compare_template() -> dict[str, Any]:
    """templates/compare/compare.yaml: the flags, the sentence length, the words of the outputs."""
    return load_yaml(TEMPLATES_DIR / "compare" / "compare.yaml")


@dataclass(frozen=True)
class Flag:
    id: str
    label: str
    when: dict[str, Decimal]

    def matches(self, last: Decimal, this: Decimal) -> bool:
        ratio = this / last if last > 0 else None
        checks = {
            "last_at_least": lambda v: last >= v, "last_at_most": lambda v: last <= v,
            "this_at_least": lambda v: this >= v, "this_at_most": lambda v: this <= v,
            "ratio_at_least": lambda v: ratio is not None and ratio >= v,
            "ratio_at_most": lambda v: ratio is not None and ratio <= v,
        }
        return all(checks[key](value) for key, value in self.when.items())


def first_flag(flags: list[Flag], last: Decimal, this: Decimal) -> Flag | None:
    """The first of ``flags`` that a change from ``last`` to ``this`` matches (the template's order)."""
    return next((f for f in flags if f.matches(last, this)), None)


def load_flags(spec: list[dict[str, Any]] | None = None) -> list[Flag]:
    """The flags of templates/compare/compare.yaml (or of ``spec``, in the same form)."""
    spec = compare_template()["flags"] if spec is None else spec
    return [Flag(str(f["id"]), str(f["label"]), {k: Decimal(str(v)) for k, v in f["when"].items()}) for f in spec]


@dataclass
class CellChange:
    """One cell of 表二/表三/表四 in both years; ``change``/``percent`` are None when a side is
    empty (``percent`` also when last year is 0); ``flag`` the first matching :class:`Flag`."""

    cell_id: str
    table: str
    label: str
    sheet: str
    a1: str
    last: Decimal | None
    this: Decimal | None
    change: Decimal | None = None
    percent: Decimal | None = None
    flag: Flag | None = None

    @property
    def changed(self) -> bool:
        return self.last != self.this

    def to_dict(self) -> dict[str, Any]:
        def num(v: Decimal | None) -> str | None:
            return None if v is None else format_decimal(v)

        return {"cell_id": self.cell_id, "table": self.table, "label": self.label, "sheet": self.sheet,
                "cell": self.a1, "last": num(self.last), "this": num(self.this), "change": num(self.change),
                "percent": num(self.percent), "flag": self.flag.id if self.flag else None,
                "flag_label": self.flag.label if self.flag else None}


@dataclass
class Comparison(FindingCounts):
    """The result of :func:`compare_reports`."""

    last: ReportData
    this: ReportData
    fmt: Format
    cells: list[CellChange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    carried: list[CarriedSentence] = field(default_factory=list)

    def cell(self, cell_id: str) -> CellChange:
        return next(c for c in self.cells if c.cell_id == cell_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.fmt.id, "unit": self.this.unit, "last_year": self.last.year, "this_year": self.this.year,
            "last_source": self.last.source, "this_source": self.this.source,
            "errors": self.errors, "warnings": self.warnings,
            "cells": [c.to_dict() for c in self.cells],
            "findings": [f.to_dict() for f in self.findings],
            "carried_over": [{"part": c.part_id, "label": c.label, "sentence": c.sentence,
                              "last_part": c.last_part_id} for c in self.carried],
        }


def prior_rule_ids(fmt: Format) -> set[str]:
    """The ids of the rules of ``fmt`` with ``prior:`` terms (last year's figures)."""
    return {r.id for r in fmt.rules if any(inst.uses_prior for inst in r.instances)}


def cross_year_rule_ids(fmt: Format) -> set[str]:
    """The ids of the rules of ``fmt`` that compare need: those with ``prior:`` terms and the
    narrative-number rules."""
    return prior_rule_ids(fmt) | {r.id for r in fmt.rules if r.kind in NARRATIVE_RULE_KINDS}


def compare_reports(last: ReportData, this: ReportData, *, flags: list[Flag] | None = None,
                    min_chars: int | None = None) -> Comparison:
    """``this`` year's report beside ``last`` year's, in this year's format."""
    fmt = load_format(str(this.format))
    flags = load_flags() if flags is None else flags
    min_chars = int(compare_template()["min_sentence_chars"]) if min_chars is None else min_chars
    result = Comparison(last, this, fmt)
    addresses = cell_addresses(fmt)
    for table in fmt.tables:
        for cell in table.cells:
            address = addresses[cell.id]
            change = CellChange(cell.id, table.number, cell_label(fmt, cell.id), address.sheet, address.a1,
                                last.values.get(cell.id), this.values.get(cell.id))
            _measure(change, flags)
            result.cells.append(change)
    wanted = cross_year_rule_ids(fmt)
    result.findings = [f for f in check_data(this, fmt, prior=last)
                       if f.rule in wanted or f.code in PRIOR_IDENTITY_CODES]
    for change in result.cells:
        if change.flag is not None:
            result.findings.append(cf.ChangeFlagged.make(
                sheet=change.sheet, cell=change.a1, expected=change.last, actual=change.this,
                cell_label=change.label, flag=change.flag.label))
    result.carried = carried_over(last, this, min_chars=min_chars)
    result.findings.extend(_carried_findings(this, fmt, result.carried))
    return result


def _measure(change: CellChange, flags: list[Flag]) -> None:
    last, this = change.last, change.this
    if last is None or this is None:
        return
    change.change = this - last
    if last != 0:
        change.percent = (change.change * HUNDRED / last).quantize(Decimal("0.1"))
    change.flag = first_flag(flags, last, this)


def _carried_findings(this: ReportData, fmt: Format, carried: list[CarriedSentence]) -> list[Finding]:
    by_part: dict[str, list[CarriedSentence]] = {}
    for sentence in carried:
        by_part.setdefault(sentence.part_id, []).append(sentence)
    rows = {part_id: row for row, part_id, _ in narrative_rows(fmt)}
    out = []
    for part_id, sentences in by_part.items():
        source = this.cells.get(f"narrative.{part_id}")
        if source is not None and source.cell:
            sheet, cell = source.sheet, source.cell
        elif part_id in rows and not any(s.line and not s.cell for s in this.cells.values()):
            sheet, cell = workbook_plan().narrative_sheet, f"B{rows[part_id]}"
        else:
            sheet, cell = None, None
        out.append(cf.NarrativeCarriedOver.make(
            sheet=sheet, cell=cell, row=sentences[0].label, actual=len(sentences),
            part=sentences[0].label, count=len(sentences), quote=sentences[0].sentence))
    return out


__all__ = ["CellChange", "Comparison", "Flag", "compare_reports", "compare_template", "cross_year_rule_ids",
           "first_flag", "load_flags", "prior_rule_ids"]
