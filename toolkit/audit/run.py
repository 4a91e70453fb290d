"""Audit a set of published reports: read each, run the audit rules, score, rank, count defects."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from toolkit.audit.places import find_headings
from toolkit.audit.rules import AUDIT_RULES, Subject
from toolkit.formats import load_yaml
from toolkit.model import Finding, FindingCounts


@dataclass(frozen=True)
class RuleSpec:
    id: str
    group: str
    title: str
    weight: float
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scorecard:
    """The evaluator's template (templates/audit.yaml): rules with weights, and limits."""

    rules: tuple[RuleSpec, ...]
    limits: dict[str, Any]
    county: dict[str, Any]

    @property
    def total_weight(self) -> float:
        return sum(r.weight for r in self.rules)


def load_scorecard(path: str | Path | None = None) -> Scorecard:
    """The scorecard template: ``path`` or the built-in templates/audit.yaml."""
    if path is None:
        return _builtin()
    return _parse(Path(path))


@lru_cache(maxsize=1)
def _builtin() -> Scorecard:
    from toolkit.formats import _templates_dir

    return _parse(_templates_dir() / "audit.yaml")


def _parse(path: Path) -> Scorecard:
    raw = load_yaml(path)
    rules = []
    for entry in raw["rules"]:
        spec = RuleSpec(id=str(entry["id"]), group=str(entry["group"]), title=str(entry["title"]),
                        weight=float(entry["weight"]), codes=tuple(entry.get("codes", ())))
        if spec.id not in AUDIT_RULES and not spec.codes and spec.id != "unchanged":
            raise ValueError(f"{path.name}: rule {spec.id!r} has neither a rule function nor codes")
        rules.append(spec)
    return Scorecard(tuple(rules), dict(raw.get("limits", {})), dict(raw.get("county") or {}))


@dataclass
class RuleResult:
    spec: RuleSpec
    findings: list[Finding]

    @property
    def passed(self) -> bool:
        return not self.findings


@dataclass
class AuditedReport(FindingCounts):
    """One report's scorecard: each rule's findings, the findings no rule scores, the score."""

    path: str
    unit: str | None
    year: int | None
    format: str | None
    results: list[RuleResult]
    other: list[Finding] = field(default_factory=list)
    sha256: str | None = None

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings] + self.other

    @property
    def score(self) -> float:
        if self.format is None:
            return 0.0
        total = sum(r.spec.weight for r in self.results)
        won = sum(r.spec.weight for r in self.results if r.passed)
        return round(100 * won / total, 1) if total else 100.0

    def to_dict(self) -> dict[str, Any]:
        items = []
        for result in self.results:
            items += [{**f.to_dict(), "audit_rule": result.spec.id} for f in result.findings]
        items += [{**f.to_dict(), "audit_rule": None} for f in self.other]
        return {"path": self.path, "unit": self.unit, "year": self.year, "format": self.format,
                "score": self.score, "valid": self.errors == 0, "sha256": self.sha256,
                "failed_rules": [r.spec.id for r in self.results if not r.passed], "findings": items}


@dataclass
class AuditResult:
    reports: list[AuditedReport]
    scorecard: Scorecard

    @property
    def valid(self) -> bool:
        return all(r.errors == 0 for r in self.reports)

    def ranking(self) -> list[AuditedReport]:
        """The reports best first (ties by unit and year); files that are not reports left out."""
        return sorted((r for r in self.reports if r.format), key=lambda r: (-r.score, r.unit or "", r.year or 0, r.path))

    def defect_counts(self) -> list[tuple[RuleSpec, int]]:
        """How many reports fail each rule, most common first (rules no report fails left out)."""
        counts = Counter(r.spec.id for rep in self.reports for r in rep.results if not r.passed)
        specs = {s.id: s for s in self.scorecard.rules}
        return [(specs[rule_id], n) for rule_id, n in counts.most_common()]

    def to_dict(self) -> dict[str, Any]:
        """JSON shape in the style of frictionless: {valid, stats, reports[...]}."""
        return {
            "valid": self.valid,
            "stats": {"reports": len(self.reports), "errors": sum(r.errors for r in self.reports),
                      "findings": sum(len(r.findings) for r in self.reports),
                      "mean_score": round(sum(r.score for r in self.reports) / len(self.reports), 1)
                      if self.reports else None},
            "ranking": [r.path for r in self.ranking()],
            "defects": [{"rule": s.id, "title": s.title, "reports": n} for s, n in self.defect_counts()],
            "reports": [r.to_dict() for r in self.reports],
        }


def audit_reports(paths: Iterable[str | Path], *, scorecard: Scorecard | None = None,
                  archive: str | Path | None = None) -> AuditResult:
    """Audit published report files (folders are expanded): one scorecard per report.

    A report's previous year by the same body, when it is in the set, is its ``prior`` (carried-
    over figures, a copied 存在的主要问题). With ``archive`` each file's hash is recorded there and
    a file that changed since it was first recorded is an error.
    """
    from toolkit.importers.batch import expand_reports

    scorecard = scorecard or load_scorecard()
    subjects = [_read(Path(p), scorecard) for p in expand_reports([Path(p) for p in paths])]
    _link_priors(subjects)
    if scorecard.county:
        from toolkit.audit.county import county_members

        for s in subjects:
            s.county_cells = tuple(scorecard.county["cells"])
        county_members(subjects, scorecard.county, archive)
    hashes = _hashes(subjects, archive)
    reports = [_audit(s, scorecard, hashes.get(s.path)) for s in subjects]
    return AuditResult(reports, scorecard)


def _read(path: Path, scorecard: Scorecard) -> Subject:
    from toolkit.formats import load_format
    from toolkit.importers import ImportFileError, import_report, read_document

    result = import_report(path)
    try:
        doc = read_document(path)
    except ImportFileError:
        doc = None
    fmt = load_format(result.data.format) if result.data is not None else None
    subject = Subject(str(path), result, doc, fmt, scorecard.limits)
    if doc is not None and fmt is not None:
        subject.headings = find_headings(doc, fmt)
    return subject


def _link_priors(subjects: list[Subject]) -> None:
    from toolkit.identity import same_unit

    for s in subjects:
        if s.data is None or not s.data.unit or not s.data.year:
            continue
        for other in subjects:
            d = other.data
            if d is not None and d.unit and d.year == s.data.year - 1 and same_unit(d.unit, s.data.unit):
                s.prior = other
                break


def _hashes(subjects: list[Subject], archive: str | Path | None) -> dict[str, list[Finding]]:
    if archive is None:
        return {}
    from toolkit.archive.published import record_published

    return record_published(archive, [s.path for s in subjects])


def _audit(s: Subject, scorecard: Scorecard, hash_findings: list[Finding] | None) -> AuditedReport:
    from toolkit.archive import file_sha256
    from toolkit.checks.engine import CheckContext, check_data

    base = list(s.result.findings)
    if s.data is not None:
        prior = s.prior.data if s.prior is not None else None
        base += check_data(s.data, s.fmt, prior=prior, context=CheckContext(file_name=Path(s.path).name))
    claimed: set[int] = set()
    results = []
    for spec in scorecard.rules:
        found: list[Finding] = []
        if spec.codes:
            for i, f in enumerate(base):
                if f.code in spec.codes:
                    found.append(f)
                    claimed.add(i)
        if spec.id in AUDIT_RULES:
            found += list(AUDIT_RULES[spec.id](s))
        if spec.id == "unchanged":
            found += hash_findings or []
        results.append(RuleResult(spec, found))
    other = [f for i, f in enumerate(base) if i not in claimed]
    data = s.data
    return AuditedReport(s.path, data.unit if data else None, data.year if data else None,
                         data.format if data else None, results, other,
                         sha256=file_sha256(s.path) if Path(s.path).is_file() else None)
