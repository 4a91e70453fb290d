"""The audit rules: small generators registered with :func:`audit_rule`, in the style of the
check engine's rule kinds (toolkit/checks/engine.py). Each takes the :class:`Subject` (one
published report and what the set knows about it) and yields findings. Which rules count, and
how much, is in templates/audit.yaml; a rule listed there with ``codes`` and no function here is
scored on the import's and the format rules' own findings with those codes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterator

from toolkit.audit import findings as af
from toolkit.audit.places import Heading, find_headings, period_item, stated_date, title_item
from toolkit.formats import Format
from toolkit.importers.document import Document
from toolkit.model import Finding, ReadResult, ReportData

AuditRule = Callable[["Subject"], Iterator[Finding]]
AUDIT_RULES: dict[str, AuditRule] = {}


def audit_rule(rule_id: str) -> Callable[[AuditRule], AuditRule]:
    """Register ``fn`` as the audit rule ``rule_id``."""
    def register(fn: AuditRule) -> AuditRule:
        if rule_id in AUDIT_RULES:
            raise ValueError(f"duplicate audit rule {rule_id!r}")
        AUDIT_RULES[rule_id] = fn
        return fn
    return register


@dataclass
class Subject:
    """One report of the audited set: what was read of it, and what the set knows about it."""

    path: str
    result: ReadResult
    doc: Document | None
    fmt: Format | None
    limits: dict[str, Any]
    base_findings: list[Finding] = field(default_factory=list)  # import + format rules
    prior: "Subject | None" = None
    headings: dict[str, Heading] = field(default_factory=dict)
    members: list[ReportData] | None = None  # a county government's townships and departments
    members_source: str = "报告"
    county_cells: tuple[str, ...] = ()

    @property
    def data(self) -> ReportData | None:
        return self.result.data

    def section_text(self, section_id: str) -> str:
        data = self.data
        if data is None:
            return ""
        return "\n".join(t for k, t in data.narrative.items()
                         if (k == section_id or k.startswith(section_id + ".")) and t)

    def place(self, section_id: str) -> dict[str, Any]:
        """Finding fields naming a section and the line its heading is on."""
        heading = self.headings.get(section_id)
        if heading is None:
            label = next((s.label for s in self.fmt.sections if s.id == section_id), None) if self.fmt else None
            return {"sheet": label}
        return {"sheet": heading.section.label, "row": heading.where}


# ---------------------------------------------------------------- completeness


@audit_rule("sections")
def _sections(s: Subject) -> Iterator[Finding]:
    if s.fmt is None or s.doc is None:
        return
    last: Heading | None = None
    for number, section in enumerate(s.fmt.sections, 1):
        heading = s.headings.get(section.id)
        if heading is None:
            yield af.AuditSectionMissing.make(number=number, section=section.label, sheet=section.label)
            continue
        if last is not None and heading.index < last.index:
            yield af.AuditSectionOrder.make(section=section.label, where=heading.where, before=last.section.label,
                                            sheet=section.label, row=heading.where)
        else:
            last = heading


@audit_rule("period")
def _period(s: Subject) -> Iterator[Finding]:
    if s.doc is not None and s.data is not None and period_item(s.doc) is None:
        yield af.AuditPeriodMissing.make(year=s.data.year or "××××")


@audit_rule("county-sum")
def _county_sum(s: Subject) -> Iterator[Finding]:
    from toolkit.audit.county import county_findings

    if s.data is not None and s.members:
        yield from county_findings(s.data, s.members, s.members_source, list(s.county_cells))


# ---------------------------------------------------------------- substance

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|\n")


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` that say something (at least 8 characters, spaces ignored)."""
    parts = (re.sub(r"\s+", "", p) for p in _SENTENCE_END.split(text or ""))
    return [p for p in parts if len(p) >= 8]


@audit_rule("problems")
def _problems(s: Subject) -> Iterator[Finding]:
    if s.data is None:
        return
    text = s.section_text("problems")
    if not text.strip():
        yield af.AuditProblemsEmpty.make(**s.place("problems"))
        return
    if s.prior is None or s.prior.data is None:
        return
    this = sentences(text)
    last = set(sentences(s.prior.section_text("problems")))
    copied = [x for x in this if x in last]
    if this and len(copied) / len(this) >= float(s.limits["copy_share"]):
        yield af.AuditProblemsCopied.make(copied=len(copied), total=len(this), prior_year=s.prior.data.year,
                                          prior_file=s.prior.path.rsplit("/", 1)[-1], **s.place("problems"))


_FEES_WORDS = re.compile(r"收费|信息处理费|收取")
FEE_CELLS = ("t2.fees.amount",)


@audit_rule("fees-explained")
def _fees_explained(s: Subject) -> Iterator[Finding]:
    if s.data is None:
        return
    amount = sum((s.data.values.get(c) or Decimal(0) for c in FEE_CELLS), Decimal(0))
    if amount > 0 and not _FEES_WORDS.search(s.section_text("other")):
        yield af.AuditFeesUnexplained.make(amount=amount, **s.place("other"))


@audit_rule("blanks")
def _blanks(s: Subject) -> Iterator[Finding]:
    if s.data is None or s.fmt is None:
        return
    blank, slash = [], []
    for cell in s.fmt.input_cells:
        if s.data.values.get(cell.id) is not None:
            continue
        raw = s.data.raw.get(cell.id)
        (slash if isinstance(raw, str) and raw.strip() in ("/", "／", "-", "—", "——") else blank).append(cell)
    if blank or slash:
        names = "、".join(c.label for c in (slash + blank)[:3])
        more = "等" if len(blank) + len(slash) > 3 else ""
        first = (slash + blank)[0]
        source = s.data.cells.get(first.id)
        yield af.AuditBlankCells.make(blank=len(blank), slash=len(slash), cells=names + more,
                                      sheet=first.table.number,
                                      row=f"第{source.line}行" if source and source.line else None,
                                      expected=0, actual=len(blank) + len(slash))


@audit_rule("overview-length")
def _overview_length(s: Subject) -> Iterator[Finding]:
    limit = int(s.limits["overview_max_chars"])
    length = len(re.sub(r"\s+", "", s.section_text("overview")))
    if length > limit:
        yield af.AuditOverviewLong.make(length=length, limit=limit, expected=limit, actual=length,
                                        **s.place("overview"))


# ---------------------------------------------------------------- form

_TITLE = re.compile(r"^(?:(?P<body>.+?)(?P<year>\d{4})|(?P<year_first>\d{4})(度)?(?P<body_after>.+?))年?(度)?"
                    r"政府信息公开工作年度报告$")


@audit_rule("title")
def _title(s: Subject) -> Iterator[Finding]:
    if s.doc is None or s.data is None:
        return
    found, item = title_item(s.doc)
    match = _TITLE.match(re.sub(r"\s+", "", found))
    year = match and int(match["year"] or match["year_first"])
    if match is None or (s.data.year and year != s.data.year):
        yield af.AuditTitleForm.make(found=found[:60], year=s.data.year or "××××",
                                     row=item.where if item else None)


@audit_rule("fees-section")
def _fees_section(s: Subject) -> Iterator[Finding]:
    if s.fmt is None or s.data is None or not any(p.id == "other.fees" for p in s.fmt.parts):
        return
    if not _FEES_WORDS.search(s.section_text("other")):
        yield af.AuditFeesSection.make(**s.place("other"))


@audit_rule("deadline")
def _deadline(s: Subject) -> Iterator[Finding]:
    if s.doc is None or s.data is None or not s.data.year:
        return
    other = s.headings.get("other")
    stated = stated_date(s.doc, after=other.index if other else 0)
    if stated is None:
        return
    date, item = stated
    deadline = dt.date(s.data.year + 1, int(s.limits["deadline_month"]), int(s.limits["deadline_day"]))
    if date > deadline:
        yield af.AuditLate.make(date=f"{date.year}年{date.month}月{date.day}日",
                                deadline=f"{deadline.year}年{deadline.month}月{deadline.day}日",
                                row=item.where, expected=deadline.isoformat(), actual=date.isoformat())
