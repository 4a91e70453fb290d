"""The status of a round: per roster unit, not returned, returned with errors or clean, and when;
as a table and as a workbook for the county's records."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Sequence

from toolkit.archive import Archive, StoredReport
from toolkit.archive.portal import finding_key
from toolkit.checks.reading_findings import WorkbookNotFilled
from toolkit.files import atomic_path
from toolkit.identity import match_unit, unit_key
from toolkit.model import WARNING, Finding
from toolkit.output_labels import labels, unit_counts_text, unit_state_label, unit_status_label
from toolkit.round.common import RoundError, load_roster

TIMEZONE_ENV = "NIANBAO_TZ"
DEFAULT_TIMEZONE = "Asia/Shanghai"
_ZONE_LABELS = {"Asia/Shanghai": "北京时间", "UTC": "协调世界时"}


def report_zone() -> tuple[tzinfo, str]:
    """The time zone status times are shown in, and its Chinese label: ``NIANBAO_TZ`` (an IANA
    name such as ``Asia/Shanghai``), else Asia/Shanghai (UTC+8 all year)."""
    name = (os.environ.get(TIMEZONE_ENV) or DEFAULT_TIMEZONE).strip()
    try:
        from zoneinfo import ZoneInfo

        zone: tzinfo = ZoneInfo(name)
    except (ImportError, ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        if name != DEFAULT_TIMEZONE:
            raise RoundError(f"环境变量 {TIMEZONE_ENV} 的时区“{name}”不存在，应写成 Asia/Shanghai 这样的名称") from None
        zone = timezone(timedelta(hours=8), DEFAULT_TIMEZONE)  # no tz database (Windows without tzdata)
    return zone, _ZONE_LABELS.get(name, name)


def in_zone(stamp: str | None, zone: tzinfo) -> datetime | None:
    """An archive time (ISO 8601; without an offset: this machine's local time) in ``zone``."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(zone)


def readable_time(moment: datetime | None) -> str:
    """``2026-01-10 14:32`` (what a clerk reads in the status table and workbook)."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


@dataclass
class UnitStatus:
    unit: str
    status: str  # missing | errors | clean
    errors: int | None
    warnings: int | None
    received: str | None  # ISO 8601 in the status's time zone (+08:00 for Asia/Shanghai)
    file_name: str | None = None
    contact: str | None = None
    phone: str | None = None
    email: str | None = None
    state: str = "missing"  # missing | unfilled | errors | warnings | clean (warnings all 已核实)
    waived: int = 0  # warnings marked 已核实

    @property
    def label(self) -> str:
        return unit_status_label(self.status)

    @property
    def state_label(self) -> str:
        return unit_state_label(self.state)

    @property
    def received_text(self) -> str:
        """When the file was received, as ``2026-01-10 14:32`` in the status's time zone."""
        return readable_time(datetime.fromisoformat(self.received)) if self.received else ""

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "status": self.status, "errors": self.errors,
                "warnings": self.warnings, "received": self.received, "state": self.state, "waived": self.waived}


@dataclass
class RoundStatus:
    """Per roster unit: not returned, returned with errors, returned clean, and when (the time
    the archive records the file as received: when it was saved from the mail, unless the caller
    gave another), in ``zone`` (:func:`report_zone`)."""

    year: int
    units: list[UnitStatus]
    unlisted: list[str] = field(default_factory=list)  # in the archive for the year, not in the roster
    problems: list[Finding] = field(default_factory=list)
    zone: str = "北京时间"  # the label of the time zone the times are in

    def count(self, status: str) -> int:
        return sum(1 for u in self.units if u.status == status)

    @property
    def complete(self) -> bool:
        """Every unit returned a file without errors."""
        return all(u.status == "clean" for u in self.units)

    @property
    def received_heading(self) -> str:
        """The heading of the times, ``收到时间（北京时间）`` (templates/looks.yaml)."""
        from toolkit.workbook.lists import list_columns

        return next(c.header for c in list_columns("status_sheet", zone=self.zone) if c.id == "received")

    def to_dict(self) -> dict[str, Any]:
        """``{"year", "units": [{"unit", "status", "errors", "warnings", "received"}]}``."""
        return {"year": self.year, "units": [u.to_dict() for u in self.units]}


def round_status(roster: str | Path | Sequence[Any], *, year: int, archive: Archive | str | Path) -> RoundStatus:
    """``nianbao status``: each roster unit's state for ``year`` from the archive; times in the
    zone of :func:`report_zone` (Asia/Shanghai unless ``NIANBAO_TZ`` names another)."""
    zone, zone_label = report_zone()
    entries, problems = load_roster(roster)
    own = not isinstance(archive, Archive)
    arch = Archive(archive, create=False) if own else archive
    try:
        current = {unit_key(s.unit): s for s in arch.reports(year=year)}
        waived: dict[str, set[str]] = {}
        for w in arch.waivers(year=year):
            waived.setdefault(unit_key(w.unit), set()).add(w.finding_key)
    finally:
        if own:
            arch.close()
    units, seen = [], set()
    for entry in entries:
        stored: StoredReport | None = match_unit(entry.unit, current)
        if stored is not None:
            seen.add(unit_key(stored.unit))
        extra = dict(contact=getattr(entry, "contact", None), phone=getattr(entry, "phone", None),
                     email=getattr(entry, "email", None))
        if stored is None:
            units.append(UnitStatus(entry.unit, "missing", None, None, None, **extra))
        else:
            received = in_zone(stored.received, zone)
            state, marked = unit_state(stored, waived.get(unit_key(stored.unit), set()))
            units.append(UnitStatus(entry.unit, "errors" if stored.errors else "clean", stored.errors,
                                    stored.warnings, received.isoformat(timespec="seconds") if received else None,
                                    stored.submission.file_name, **extra, state=state, waived=marked))
    unlisted = [s.unit for key, s in current.items() if key not in seen]
    return RoundStatus(year, units, unlisted, list(problems), zone_label)


def unit_state(stored: StoredReport, waived: set[str]) -> tuple[str, int]:
    """(state, warnings marked 已核实) of a unit's current report: ``unfilled`` when the workbook
    was not filled in, ``errors``, ``warnings`` while a warning is not marked, else ``clean``."""
    if stored.errors:
        unfilled = any(f.code == WorkbookNotFilled.code for f in stored.findings)
        return ("unfilled" if unfilled else "errors"), 0
    warnings = [f for f in stored.findings if f.severity == WARNING]
    marked = sum(1 for f in warnings if finding_key(f) in waived)
    return ("warnings" if marked < len(warnings) else "clean"), marked


def write_status_xlsx(status: RoundStatus, path: str | Path, archive: Archive | None = None) -> Path:
    """The status table as a workbook for the county's records (atomically written); with the
    archive, a second sheet lists every file received for the year. Its look (sheets, headers,
    widths, colours) is ``status_sheet`` and ``received_sheet`` of templates/looks.yaml."""
    import xlsxwriter

    from toolkit.workbook.lists import list_columns, list_styles, write_list
    from toolkit.workbook.looks import looks

    path = Path(path)
    words = labels()
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
        styles = list_styles(book, border=True)
        conf = looks()["status_sheet"]
        sheet = book.add_worksheet(conf["name"])
        sheet.write(0, 0, conf["title"].format(year=status.year), styles["title"])
        rows = [{"unit": u.unit, "status": u.label, "errors": u.errors, "warnings": u.warnings,
                 "received": u.received_text, "file_name": u.file_name, "contact": u.contact, "phone": u.phone,
                 "email": u.email} for u in status.units]
        fills = {"missing": styles["missing"], "errors": styles["error"], "clean": styles["ok"]}
        end = write_list(sheet, list_columns("status_sheet", zone=status.zone), rows, styles,
                         {(i, "status"): fills[u.status] for i, u in enumerate(status.units)},
                         top=2, frozen_cols=1, printed_below=2)
        sheet.write_string(end + 1, 0, unit_counts_text(status))
        if archive is not None:
            zone, _ = report_zone()
            files = book.add_worksheet(looks()["received_sheet"]["name"])
            rows = [{"unit": s.unit, "received": readable_time(in_zone(s.received, zone)), "file_name": s.file_name,
                     "size": s.file_size, "errors": s.errors, "warnings": s.warnings,
                     "current": words["yes_no"][bool(s.current)],
                     "source": words["archive_source"].get(s.source, s.source), "sha256": s.file_hash,
                     "recorded": readable_time(in_zone(s.recorded, zone))}
                    for s in archive.submissions(year=status.year)]
            write_list(files, list_columns("received_sheet", zone=status.zone), rows, styles, frozen_cols=1)
        book.close()
    return path
