"""The values that move along the flow: ReportData (what a report says) and Findings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

ERROR, WARNING = "error", "warning"


@dataclass
class CellSource:
    """Where a value came from: a sheet and A1 cell of a workbook, or a line of a text report."""

    sheet: str | None = None
    cell: str | None = None
    line: int | None = None


@dataclass
class ReportData:
    """One unit's report for one year, whatever it was read from.

    ``values`` maps every cell id of the format to a Decimal (None when nothing usable was
    typed); ``raw`` keeps what was typed, for messages; ``narrative`` maps part ids to text;
    ``formulas`` maps a cell id to the formula found in the file (without "="), for cells that
    hold one, and is None when the source cannot tell (text reports, value-only readers).
    ``absent`` holds the cells a source does not have at all (rows missing from a published
    report, a report cut inside a table); rules that use one are not evaluated.
    """

    format: str
    unit: str | None = None
    year: int | None = None
    values: dict[str, Decimal | None] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    narrative: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    cells: dict[str, CellSource] = field(default_factory=dict)
    formulas: dict[str, str] | None = None
    absent: set[str] = field(default_factory=set)  # cells the source does not have (a row a published report lacks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; numbers as strings so that what was typed is what comes back."""
        return {
            "format": self.format,
            "unit": self.unit,
            "year": self.year,
            "values": {k: (None if v is None else format_decimal(v)) for k, v in self.values.items()},
            "narrative": dict(self.narrative),
            "info": {k: (None if v is None else str(v)) for k, v in self.info.items()},
            "source": self.source,
            **({"absent": sorted(self.absent)} if self.absent else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ReportData":
        return cls(
            format=str(data["format"]),
            unit=data.get("unit"),
            year=None if data.get("year") is None else int(data["year"]),
            values={k: (None if v is None else Decimal(str(v))) for k, v in data.get("values", {}).items()},
            narrative=dict(data.get("narrative", {})),
            info=dict(data.get("info", {})),
            source=data.get("source"),
            absent=set(data.get("absent") or ()),
        )


def format_decimal(value: Decimal) -> str:
    """A Decimal as people write it: no exponent, no trailing zeros after the point."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class Finding:
    """One problem found in one file. ``code`` is stable and documented (docs/findings.md)."""

    code: str
    severity: str
    message: str
    rule: str | None = None
    sheet: str | None = None
    cell: str | None = None
    row: str | None = None
    column: str | None = None
    expected: Any = None
    actual: Any = None
    related: tuple[tuple[str, str], ...] = ()
    """Other cells (sheet, A1) the finding is about, e.g. the 文字部分 cell whose text disagrees
    with the table cell at ``sheet``/``cell``; an annotated copy marks them too."""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if not self.related:
            del out["related"]
        else:
            out["related"] = [list(pair) for pair in self.related]
        for key in ("expected", "actual"):
            if isinstance(out[key], Decimal):
                out[key] = format_decimal(out[key])
        return out


class FindingCounts:
    """``errors`` and ``warnings`` of anything that holds ``findings``."""

    findings: list[Finding]

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == WARNING)


@dataclass
class FileReport(FindingCounts):
    """The findings for one file, with what could be read of it."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    data: ReportData | None = None

    @property
    def valid(self) -> bool:
        return self.errors == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "unit": self.data.unit if self.data else None,
            "year": self.data.year if self.data else None,
            "format": self.data.format if self.data else None,
            "valid": self.valid,
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class Report:
    """The result of checking a batch of files: ``{"files": [...]}``."""

    files: list[FileReport] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return all(f.valid for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {"files": [f.to_dict() for f in self.files]}


@dataclass
class ReadResult:
    """What reading one file gave: ``data`` (None when nothing could be read), the reading
    findings, what the file is (``source_kind``: xlsx, xls, et, ... or txt/html/docx for the
    importers), what it recorded about itself (``meta``), and how the tables were located
    (``layout``: "positions" for the standard layout, "labels" after a label search)."""

    path: str
    data: ReportData | None = None
    findings: list[Finding] = field(default_factory=list)
    source_kind: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    engine: str | None = None
    layout: str | None = None

    @property
    def ok(self) -> bool:
        return self.data is not None
