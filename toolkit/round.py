"""The January round: send the blank workbooks, mail findings back, see who has returned what,
and follow a unit's main figures across the years.

Everything here is callable from Python; the ``send``, ``status`` and ``history`` commands are
thin layers over :func:`send_requests`, :func:`send_findings`, :func:`round_status` and
:func:`unit_history`. :func:`demo_round` plays a whole round on made-up data (no network).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import random
import re
import warnings as warnings_module
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import yaml

from toolkit.archive import Archive, StoredReport, is_archive_file
from toolkit.files import atomic_path, safe_filename
from toolkit.identity import match_unit, unit_key
from toolkit.formats import TEMPLATES_DIR, Format, FormatError, all_formats, format_for_year, load_format
from toolkit.mail import (
    Attachment,
    MailTemplates,
    Outcome,
    Outgoing,
    SendLog,
    SmtpSettings,
    deliver,
    parse_addresses,
)
from toolkit.model import ERROR, Finding, ReportData

STATUS_LABELS = {"missing": "未报送", "errors": "有错误", "clean": "已通过"}
SEVERITY_LABELS = {"error": "错误", "warning": "请核实"}


class RoundError(Exception):
    """A problem that stops a whole command (an unreadable roster or findings file)."""


class UnknownUnit(RoundError):
    """``nianbao history``: the archive has no such unit, or the name fits several."""


# ---------------------------------------------------------------- small helpers


def parse_deadline(value: str | date | None) -> date | None:
    """``2026-01-15`` (also ``2026/1/15``, ``2026年1月15日``) as a date; None stays None."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if not match:
        raise RoundError(f"截止日期应写成 2026-01-15 这样的格式：{text!r}")
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        raise RoundError(f"截止日期不存在：{text!r}") from None


def chinese_date(value: date | None) -> str | None:
    """A date as Chinese text, ``2026年1月15日``."""
    return None if value is None else f"{value.year}年{value.month}月{value.day}日"


def _load_roster(roster: Any) -> tuple[list[Any], list[Finding]]:
    """Roster entries and findings from a path, or a list of entries as given."""
    if isinstance(roster, (str, Path)):
        from toolkit.roster import read_roster

        return read_roster(roster)
    return list(roster), []


@dataclass
class Unreachable:
    """A roster unit that gets no mail, and why (no 邮箱, or an address that is not one)."""

    unit: str
    line: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "line": self.line, "reason": self.reason}


@dataclass
class SendReport:
    """The result of a send run: one outcome per mail, the units that got none, and any
    problems found in the roster or the findings source."""

    outcomes: list[Outcome] = field(default_factory=list)
    unreachable: list[Unreachable] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mails": [o.to_dict() for o in self.outcomes],
            "unreachable": [u.to_dict() for u in self.unreachable],
            "problems": [f.to_dict() for f in self.problems],
            "notes": list(self.notes),
        }


def _addresses(entry: Any) -> tuple[list[str], str | None]:
    good, bad = parse_addresses(getattr(entry, "email", None))
    if good:
        return good, None
    if bad:
        return [], f"邮箱地址不正确：{'、'.join(bad)}"
    return [], "名单中没有邮箱"


CONTACT_KEYS = ("office", "name", "phone", "email")


def _county(contact: dict | None) -> dict[str, str]:
    """The county's contact for the mail templates: every key present, empty when not given."""
    contact = contact or {}
    return {k: str(contact.get(k) or "").strip() for k in CONTACT_KEYS}


def workbook_attachment_name(unit: str, year: int) -> str:
    """File name of the blank workbook attached to a unit's request mail."""
    return safe_filename(unit, f"_{year}年度政府信息公开工作年度报告填报表.xlsx")


# ---------------------------------------------------------------- sending the blank workbooks


def request_mails(
    entries: Iterable[Any],
    *,
    year: int,
    deadline: str | date | None = None,
    format_id: str | None = None,
    contact: dict | None = None,
    templates: MailTemplates | None = None,
) -> tuple[list[Outgoing], list[Unreachable]]:
    """One request mail per roster entry with a usable 邮箱, its own blank workbook attached;
    the entries without one are returned as :class:`Unreachable`."""
    from toolkit.workbook.writer import workbook_bytes

    fmt = format_for_year(year, format_id)
    due = parse_deadline(deadline)
    templates = templates or MailTemplates()
    mails, unreachable = [], []
    for entry in entries:
        to, reason = _addresses(entry)
        if reason:
            unreachable.append(Unreachable(entry.unit, getattr(entry, "line", None), reason))
            continue
        attachment = workbook_attachment_name(entry.unit, year)
        subject, body = templates.render(
            "request", unit=entry.unit, contact=getattr(entry, "contact", None) or "", year=year,
            deadline=chinese_date(due), attachment=attachment, format_name=fmt.name,
            county=_county(contact),
        )
        content = workbook_bytes(fmt, unit=entry.unit, year=year, contact=contact, deadline=due)
        mails.append(Outgoing("request", entry.unit, year, to, subject, body,
                              [Attachment(attachment, content)]))
    return mails, unreachable


def send_requests(
    roster: str | Path | Sequence[Any],
    *,
    year: int,
    outbox: str | Path,
    deadline: str | date | None = None,
    format_id: str | None = None,
    contact: dict | None = None,
    sender: str | None = None,
    smtp: SmtpSettings | None = None,
    resend: bool = False,
    templates: str | Path | MailTemplates | None = None,
    log: str | Path | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> SendReport:
    """``nianbao send``: mail every roster unit its blank workbook for ``year``.

    The mails are written to ``outbox`` as ``.eml`` files and, with ``smtp``, sent. The log
    (``outbox/send-log.jsonl`` unless ``log`` is given) keeps a re-run from sending a unit's
    mail twice unless ``resend``.
    """
    entries, problems = _load_roster(roster)
    mail_templates = templates if isinstance(templates, MailTemplates) else MailTemplates(templates)
    mails, unreachable = request_mails(entries, year=year, deadline=deadline, format_id=format_id,
                                       contact=contact, templates=mail_templates)
    send_log = SendLog(log) if log else None
    outcomes = deliver(mails, outbox=outbox, sender=sender, smtp=smtp, log=send_log, resend=resend,
                       progress=progress)
    return SendReport(outcomes, unreachable, list(problems))


# ---------------------------------------------------------------- mailing findings back


@dataclass
class FindingsItem:
    """One checked file with errors, as read from a check JSON or the archive."""

    unit: str | None
    year: int | None
    path: str | None
    findings: list[Finding]
    ref: str

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors


def load_findings(source: str | Path, *, year: int | None = None) -> list[FindingsItem]:
    """The files with errors in a ``nianbao check --json`` output or an archive.

    From an archive, each unit-year's current report counts (``year`` narrows it down, default:
    the latest year in the archive).
    """
    source = Path(source)
    if not source.is_file():
        raise RoundError(f"找不到文件：{source}")
    if is_archive_file(source):
        with Archive(source, create=False) as archive:
            if year is None:
                years = archive.years()
                year = years[-1] if years else None
            stored = archive.reports(year=year) if year is not None else []
        return [
            FindingsItem(s.unit, s.year, s.submission.file_path, s.findings,
                         s.submission.file_hash or _digest(s.findings))
            for s in stored if s.errors
        ]
    try:
        data = json.loads(source.read_text(encoding="utf-8-sig"))
        files = data["files"]
        if not isinstance(files, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise RoundError(f"{source} 既不是 nianbao check --json 的输出，也不是年报档案") from None
    items = []
    for entry in files:
        findings = [Finding(code=f.get("code", ""), severity=f.get("severity", ""), message=f.get("message", ""),
                            **{k: f.get(k) for k in ("rule", "sheet", "cell", "row", "column", "expected", "actual")})
                    for f in entry.get("findings", [])]
        if not any(f.severity == ERROR for f in findings):
            continue
        entry_year = entry.get("year")
        entry_year = int(entry_year) if entry_year not in (None, "") else None
        if year is not None and entry_year is not None and entry_year != year:
            continue
        path = entry.get("path")
        ref = _file_digest(path) or _digest(findings)
        items.append(FindingsItem(entry.get("unit"), entry_year, path, findings, ref))
    return items


def _digest(findings: list[Finding]) -> str:
    text = json.dumps([f.to_dict() for f in findings], ensure_ascii=False, sort_keys=True, default=str)
    return "findings:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _file_digest(path: str | None) -> str | None:
    if not path or not Path(path).is_file():
        return None
    from toolkit.archive import file_sha256

    return file_sha256(path)


def _place(f: Finding) -> str:
    return " ".join(p for p in (f.sheet, f.cell) if p)


def _annotated_copy(item: FindingsItem, annotated: Path | None, work: Path | None) -> tuple[Path | None, str | None]:
    """The annotated copy for ``item``: from the ``check --annotate`` folder (named like the
    input), or made now from the original file. Returns (path, note when there is none)."""
    from toolkit.batch import annotated_name
    from toolkit.workbook.reader import WORKBOOK_SUFFIXES

    if not item.path:
        return None, "没有原文件路径，邮件只附问题清单"
    original = Path(item.path)
    name = annotated_name(original)
    if annotated is not None and (annotated / name).is_file():
        return annotated / name, None
    if not original.is_file():
        return None, f"找不到原文件 {item.path}，也没有标注副本，邮件只附问题清单"
    if not item.ref.startswith("findings:") and _file_digest(str(original)) != item.ref:
        return None, f"{original.name} 在校验后已被改动，无法标注，邮件只附问题清单"
    if original.suffix.lower() not in WORKBOOK_SUFFIXES:
        return None, f"{original.name} 不是工作簿，无法标注，邮件只附问题清单"
    from toolkit.workbook.annotate import annotate_workbook

    assert work is not None
    try:
        target = annotate_workbook(original, work / name, item.findings)
    except Exception as exc:  # an unreadable original must not stop the other mails
        return None, f"无法为 {original.name} 生成标注副本（{exc}），邮件只附问题清单"
    return target, None


def findings_mails(
    items: Iterable[FindingsItem],
    entries: Iterable[Any],
    *,
    annotated: str | Path | None = None,
    deadline: str | date | None = None,
    contact: dict | None = None,
    templates: MailTemplates | None = None,
    work_dir: str | Path | None = None,
) -> tuple[list[Outgoing], list[Unreachable], list[str]]:
    """One findings mail per file with errors, to the unit's 邮箱 in the roster, with the
    annotated copy attached. Returns (mails, units that cannot be mailed, notes)."""
    templates = templates or MailTemplates()
    due = chinese_date(parse_deadline(deadline))
    by_key = {unit_key(e.unit): e for e in entries}
    annotated_dir = Path(annotated) if annotated else None
    if annotated_dir is not None and not annotated_dir.is_dir():
        raise RoundError(f"批注副本文件夹不存在：{annotated_dir}")
    mails, unreachable, notes = [], [], []
    for item in items:
        label = item.unit or (Path(item.path).name if item.path else "？")
        entry = match_unit(item.unit, by_key) if item.unit else None
        if entry is None:
            why = "无法确定文件所属单位" if not item.unit else "单位不在名单中"
            unreachable.append(Unreachable(label, None, f"{why}（{item.path}）"))
            continue
        to, reason = _addresses(entry)
        if reason:
            unreachable.append(Unreachable(entry.unit, getattr(entry, "line", None), reason))
            continue
        copy, note = _annotated_copy(item, annotated_dir, Path(work_dir) if work_dir else None)
        if note:
            notes.append(f"{entry.unit}：{note}")
        ordered = sorted(item.findings, key=lambda f: f.severity != ERROR)
        subject, body = templates.render(
            "findings", unit=entry.unit, contact=getattr(entry, "contact", None) or "",
            year=item.year, file_name=Path(item.path).name if item.path else "",
            errors=item.errors, warnings=item.warnings,
            findings=[{"severity_label": SEVERITY_LABELS.get(f.severity, f.severity), "place": _place(f),
                       "message": f.message, "code": f.code} for f in ordered],
            attachment=copy.name if copy else "", deadline=due, county=_county(contact),
        )
        attachments = [Attachment(copy.name, copy.read_bytes())] if copy else []
        mails.append(Outgoing("findings", entry.unit, item.year, to, subject, body, attachments, ref=item.ref))
    return mails, unreachable, notes


def send_findings(
    source: str | Path,
    *,
    roster: str | Path | Sequence[Any],
    outbox: str | Path,
    year: int | None = None,
    annotated: str | Path | None = None,
    deadline: str | date | None = None,
    contact: dict | None = None,
    sender: str | None = None,
    smtp: SmtpSettings | None = None,
    resend: bool = False,
    templates: str | Path | MailTemplates | None = None,
    log: str | Path | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> SendReport:
    """``nianbao send --findings``: mail each unit whose file has errors the list of what to fix
    and its annotated copy (from ``annotated``, the ``check --annotate`` folder, or made now).

    A corrected file that still has errors gets a new mail (the log is keyed on the file's hash).
    """
    import tempfile

    entries, problems = _load_roster(roster)
    items = load_findings(source, year=year)
    mail_templates = templates if isinstance(templates, MailTemplates) else MailTemplates(templates)
    with tempfile.TemporaryDirectory(prefix="nianbao-annotate-") as work:
        mails, unreachable, notes = findings_mails(items, entries, annotated=annotated, deadline=deadline,
                                                   contact=contact, templates=mail_templates, work_dir=work)
    send_log = SendLog(log) if log else None
    outcomes = deliver(mails, outbox=outbox, sender=sender, smtp=smtp, log=send_log, resend=resend,
                       progress=progress)
    return SendReport(outcomes, unreachable, list(problems), notes)


# ---------------------------------------------------------------- status of a round


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

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def received_text(self) -> str:
        """When the file was received, as ``2026-01-10 14:32`` in the status's time zone."""
        return readable_time(datetime.fromisoformat(self.received)) if self.received else ""

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "status": self.status, "errors": self.errors,
                "warnings": self.warnings, "received": self.received}


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
        return f"收到时间（{self.zone}）"

    def to_dict(self) -> dict[str, Any]:
        """``{"year", "units": [{"unit", "status", "errors", "warnings", "received"}]}``."""
        return {"year": self.year, "units": [u.to_dict() for u in self.units]}


def round_status(roster: str | Path | Sequence[Any], *, year: int, archive: Archive | str | Path) -> RoundStatus:
    """``nianbao status``: each roster unit's state for ``year`` from the archive; times in the
    zone of :func:`report_zone` (Asia/Shanghai unless ``NIANBAO_TZ`` names another)."""
    zone, zone_label = report_zone()
    entries, problems = _load_roster(roster)
    own = not isinstance(archive, Archive)
    arch = Archive(archive, create=False) if own else archive
    try:
        current = {unit_key(s.unit): s for s in arch.reports(year=year)}
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
            units.append(UnitStatus(entry.unit, "errors" if stored.errors else "clean", stored.errors,
                                    stored.warnings, received.isoformat(timespec="seconds") if received else None,
                                    stored.submission.file_name, **extra))
    unlisted = [s.unit for key, s in current.items() if key not in seen]
    return RoundStatus(year, units, unlisted, list(problems), zone_label)


def write_status_xlsx(status: RoundStatus, path: str | Path, archive: Archive | None = None) -> Path:
    """The status table as a workbook for the county's records (atomically written); with the
    archive, a second sheet lists every file received for the year."""
    import xlsxwriter

    path = Path(path)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
        cell = book.add_format({"border": 1})
        fills = {"missing": book.add_format({"border": 1, "bg_color": "#D9D9D9"}),
                 "errors": book.add_format({"border": 1, "bg_color": "#FFC7CE"}),
                 "clean": book.add_format({"border": 1, "bg_color": "#C6EFCE"})}
        sheet = book.add_worksheet("报送情况")
        sheet.write(0, 0, f"{status.year}年度政府信息公开工作年度报告报送情况", book.add_format({"bold": True, "font_size": 14}))
        headers = ["单位名称", "状态", "错误", "需核实", status.received_heading, "文件名", "联系人", "联系电话", "邮箱"]
        widths = [28, 10, 8, 8, 22, 36, 12, 16, 28]
        for col, (text, width) in enumerate(zip(headers, widths)):
            sheet.write(2, col, text, head)
            sheet.set_column(col, col, width)
        for r, u in enumerate(status.units, start=3):
            row = [u.unit, u.label, u.errors, u.warnings, u.received_text, u.file_name, u.contact, u.phone, u.email]
            for col, value in enumerate(row):
                fmt = fills[u.status] if col == 1 else cell
                if value is None:
                    sheet.write_blank(r, col, None, fmt)
                elif isinstance(value, int):
                    sheet.write_number(r, col, value, fmt)
                else:
                    sheet.write_string(r, col, str(value), fmt)
        end = 3 + len(status.units) + 1
        sheet.write_string(end, 0, f"共{len(status.units)}个单位：已通过{status.count('clean')}个，"
                                   f"有错误{status.count('errors')}个，未报送{status.count('missing')}个")
        sheet.freeze_panes(3, 1)
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)  # printed: all columns on one page wide
        sheet.repeat_rows(2)
        if archive is not None:
            subs = book.add_worksheet("收到的文件")
            zone, _ = report_zone()
            sub_headers = ["单位名称", status.received_heading, "文件名", "大小（字节）", "错误", "需核实", "当前有效", "来源",
                           "SHA-256", f"最近记入档案（{status.zone}）"]
            for col, text in enumerate(sub_headers):
                subs.write(0, col, text, head)
            subs.set_column(0, 0, 28)
            subs.set_column(1, 2, 24)
            subs.set_column(3, 3, 13)
            subs.set_column(8, 8, 66)
            subs.set_column(9, 9, 22)
            for r, s in enumerate(archive.submissions(year=status.year), start=1):
                row = [s.unit, readable_time(in_zone(s.received, zone)), s.file_name, s.file_size, s.errors, s.warnings,
                       "是" if s.current else "否", {"check": "校验", "import": "导入"}.get(s.source, s.source),
                       s.file_hash, readable_time(in_zone(s.recorded, zone))]
                for col, value in enumerate(row):
                    if value is None:
                        subs.write_blank(r, col, None, cell)
                    elif isinstance(value, int):
                        subs.write_number(r, col, value, cell)
                    else:
                        subs.write_string(r, col, str(value), cell)
            subs.freeze_panes(1, 1)
            subs.set_landscape()
            subs.fit_to_pages(1, 0)
            subs.repeat_rows(0)
        book.close()
    return path


# ---------------------------------------------------------------- a unit's history


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
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
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


# ---------------------------------------------------------------- made-up rounds (demo, tests)


def synthetic_report(
    fmt: Format | str,
    unit: str,
    year: int,
    *,
    seed: int | str = 0,
    prior: ReportData | None = None,
) -> ReportData:
    """A made-up report that satisfies every rule of ``fmt``: 表三 balances in every column,
    totals are sums, a 乡/镇/街道 reports no 规章 (the format's ``unit_zero`` rules), and with
    ``prior`` the 上年结转 and 现行有效 figures follow on from last year. For demos and tests."""
    fmt = load_format(fmt) if isinstance(fmt, str) else fmt
    rng = random.Random(f"{seed}|{unit}|{year}")
    values: dict[str, Decimal | None] = {}
    prior_values = prior.values if prior is not None else {}
    for cell in fmt.input_cells:
        kind = cell.kind
        if cell.table.id == "t3":
            continue
        if kind.decimals:
            values[cell.id] = Decimal(rng.randint(0, 30000)).scaleb(-kind.decimals) if rng.random() < 0.3 else Decimal(0)
        elif kind.signed:
            values[cell.id] = Decimal(rng.randint(-2, 3))
        elif cell.table.id == "t4":
            values[cell.id] = Decimal(rng.choice((0, 0, 0, 0, 1)))
        else:
            values[cell.id] = Decimal(rng.choice((0, 0, 1, 2, rng.randint(0, 40))))
    _follow_on(fmt, values, prior_values, rng)
    _at_least(fmt, values)
    for rule in fmt.rules:
        if rule.kind == "unit_zero" and re.search(rule.params["units"], unit):
            for cell_id in rule.params["cells"]:
                values[cell_id] = Decimal(0)
    _table_three(fmt, values, prior_values, rng)
    for cell in fmt.total_cells:
        values[cell.id] = cell_value(fmt, values, cell.id)
    new_total = values.get("t3.new.total") or Decimal(0)
    narrative = {part.id: f"{unit}{year}年度{part.label.lstrip('（一二三四五六）')}情况（示例文字）。"
                 for part in fmt.parts}
    if "overview.on_request" in narrative:
        narrative["overview.on_request"] = (f"{year}年共收到政府信息公开申请{new_total}件，均已按期答复。"
                                            if new_total else f"{year}年未收到政府信息公开申请。")
    info = {"unit": unit, "year": year, "filler": "示例填报人", "phone": "0370-0000000",
            "date": f"{year + 1}-01-10"}
    return ReportData(format=fmt.id, unit=unit, year=year, values=values, narrative=narrative, info=info)


def _follow_on(fmt: Format, values: dict, prior: dict, rng: random.Random) -> None:
    """Make the ``equal`` rules that refer to last year (outside 表三) hold, e.g. 现行有效件数 =
    last year's + 制发 − 废止: solve each for its first left cell."""
    for rule in fmt.rules:
        if rule.kind != "equal":
            continue
        for inst in rule.instances:
            if not inst.uses_prior or any(t.cell.startswith("t3.") for t in (*inst.left, *inst.right)):
                continue
            target = inst.left[0]
            if fmt.cell(target.cell).is_total:
                continue
            right = Decimal(0)
            for term in inst.right:
                source = prior if term.prior else values
                value = source.get(term.cell)
                if term.prior and value is None:
                    value = Decimal(rng.randint(5, 40))
                right += term.sign * (value or Decimal(0))
            if right < 0:  # more repealed than there ever were: repeal fewer
                for term in inst.right:
                    if term.sign < 0 and not term.prior:
                        values[term.cell] = max(Decimal(0), (values.get(term.cell) or Decimal(0)) + right)
                        right = Decimal(0)
            values[target.cell] = right


def _at_least(fmt: Format, values: dict) -> None:
    """Raise the first left cell of each ``at_least`` rule (outside 表三) to what it must reach."""
    for rule in fmt.rules:
        if rule.kind != "at_least":
            continue
        for inst in rule.instances:
            target = inst.left[0]
            if inst.uses_prior or target.cell.startswith("t3.") or fmt.cell(target.cell).is_total:
                continue
            need = sum((t.sign * (values.get(t.cell) or Decimal(0)) for t in inst.right), Decimal(0))
            have = sum((t.sign * (values.get(t.cell) or Decimal(0)) for t in inst.left), Decimal(0))
            if have < need:
                values[target.cell] = (values.get(target.cell) or Decimal(0)) + need - have


def _table_three(fmt: Format, values: dict, prior: dict, rng: random.Random) -> None:
    """表三: new and carried-in requests per applicant column, split over the result rows, the
    rest carried over; last year's carried-over becomes this year's carried-in."""
    table = fmt.table("t3")
    columns = [c.id for c in table.leaf_columns if not fmt.cell(f"t3.new.{c.id}").is_total]
    results_total = fmt.total_rule("t3.results_total." + columns[0])
    result_rows = [t.cell.split(".")[1] for t in results_total.right] if results_total else []
    weights = [8 if row in ("disclosed", "partial") else 1 for row in result_rows]
    for col in columns:
        scale = 30 if col == "natural" else (4 if col == "business" else 1)
        new = rng.randint(0, scale) if rng.random() < (0.9 if col == "natural" else 0.3) else 0
        carried_in = prior.get(f"t3.carried_over.{col}")
        if carried_in is None:
            carried_in = Decimal(rng.randint(0, 2) if col == "natural" else 0)
        available = new + int(carried_in)
        carried_over = rng.randint(0, min(2, available))
        counts = dict.fromkeys(result_rows, 0)
        for _ in range(available - carried_over):
            counts[rng.choices(result_rows, weights)[0]] += 1
        values[f"t3.new.{col}"] = Decimal(new)
        values[f"t3.carried_in.{col}"] = Decimal(carried_in)
        values[f"t3.carried_over.{col}"] = Decimal(carried_over)
        for row, n in counts.items():
            values[f"t3.{row}.{col}"] = Decimal(n)
    for cell in fmt.input_cells:
        if cell.table.id == "t3":
            values.setdefault(cell.id, Decimal(0))


# ---------------------------------------------------------------- the demo round


@dataclass
class DemoRound:
    """What :func:`demo_round` did: where everything went, and one Chinese line per step."""

    out_dir: Path
    outbox: Path
    returned: Path
    annotated: Path
    archive: Path
    status: RoundStatus
    sent: SendReport
    findings_sent: SendReport
    next_year: Any  # the Report of next year's check
    lines: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.sent.failed and not self.findings_sent.failed


def demo_round(
    out_dir: str | Path,
    roster: str | Path | Sequence[Any],
    year: int,
    *,
    deadline: str | date | None = None,
    contact: dict | None = None,
    seed: int = 0,
) -> DemoRound:
    """Play a whole round on made-up data, without network: the request mails to the ``.eml``
    outbox, returned workbooks (one unit does not return, one gets the 表三 balance wrong, one
    reports 规章 as a township), ``check`` into the archive with annotated copies, the findings
    mails, the status table, next year's check of one unit against this year's figures in the
    archive (its 上年结转 does not match: ``t3-carry-prior``), and that unit's history chart."""
    from toolkit.batch import check_paths
    from toolkit.workbook.writer import write_workbook

    out = Path(out_dir)
    outbox, returned, annotated = out / "发件箱", out / "回收的填报表", out / "标注副本"
    archive = out / "nianbao.db"
    entries, _ = _load_roster(roster)
    if len(entries) < 3:
        raise RoundError("演示需要名单中至少有3个单位")
    lines: list[str] = []
    paths: list[Path] = []

    sent = send_requests(entries, year=year, deadline=deadline, contact=contact, outbox=outbox)
    lines.append(f"填报通知：{sent.count('written') + sent.count('skipped')} 封邮件（.eml）在 {outbox}"
                 + (f"；{len(sent.unreachable)} 个单位没有可用邮箱：{'、'.join(u.unit for u in sent.unreachable)}"
                    if sent.unreachable else ""))
    paths.append(outbox)

    fmt = format_for_year(year)
    missing = entries[-1]
    wrong, township = entries[1], entries[2]
    returned_files = []
    for entry in entries:
        if entry is missing:
            continue
        data = synthetic_report(fmt, entry.unit, year, seed=seed)
        if entry is wrong:  # one more application carried over than there were
            data.values["t3.carried_over.natural"] = (data.values.get("t3.carried_over.natural") or Decimal(0)) + 1
        if entry is township:  # a township reporting 规章 (a warning, not an error)
            data.values["t2.rules.made"] = Decimal(1)
        target = returned / safe_filename(entry.unit, f"_{year}年报.xlsx")
        write_workbook(target, fmt, unit=entry.unit, year=year, data=data)
        returned_files.append(target)
    lines.append(f"模拟回收：{len(returned_files)} 个单位报回了填报表（{missing.unit}未报送）在 {returned}")
    paths.append(returned)

    report = check_paths([returned], roster=entries, year=year, archive=archive, annotate=annotated)
    with_errors = [f for f in report.files if f.errors]
    lines.append(f"校验并记入档案 {archive}：{len(report.files)} 个文件，{len(with_errors)} 个有错误；标注副本在 {annotated}")
    paths += [archive, annotated]

    findings_sent = send_findings(archive, roster=entries, year=year, annotated=annotated, outbox=outbox,
                                  contact=contact)
    lines.append(f"校验意见：给 {len(findings_sent.outcomes)} 个有错误的单位写了邮件（附标注副本）在 {outbox}")

    with Archive(archive) as arch:
        status = round_status(entries, year=year, archive=arch)
        status_xlsx = write_status_xlsx(status, out / f"{year}年度报送情况.xlsx", arch)
    lines.append(f"报送情况：已通过 {status.count('clean')} 个，有错误 {status.count('errors')} 个，"
                 f"未报送 {status.count('missing')} 个，见 {status_xlsx}")
    paths.append(status_xlsx)

    follow = entries[0]
    with Archive(archive) as arch:
        this_year = arch.data(follow.unit, year)
    next_data = synthetic_report(format_for_year(year + 1), follow.unit, year + 1, seed=seed, prior=this_year)
    next_data.values["t3.carried_in.natural"] = (next_data.values.get("t3.carried_in.natural") or Decimal(0)) + 2
    next_data.values["t3.carried_over.natural"] = (next_data.values.get("t3.carried_over.natural") or Decimal(0)) + 2
    next_file = out / f"{year + 1}年回收" / safe_filename(follow.unit, f"_{year + 1}年报.xlsx")
    write_workbook(next_file, format_for_year(year + 1), unit=follow.unit, year=year + 1, data=next_data)
    next_year = check_paths([next_file], roster=entries, year=year + 1, archive=archive)
    carry = [f for f in next_year.files[0].findings if f.rule == "t3-carry-prior"]
    lines.append(f"次年校验：{follow.unit}{year + 1}年的上年结转与档案中{year}年的结转下年度继续办理不一致，"
                 f"发现 {len(carry)} 处（{carry[0].message if carry else '无'}）")
    paths.append(next_file)

    chart = out / safe_filename(follow.unit, "_历年数据.png")
    history = unit_history(archive, follow.unit)
    draw_history_chart(history, chart)
    lines.append(f"历年数据：{follow.unit} {history.years[0]}–{history.years[-1]}年，图在 {chart}")
    paths.append(chart)
    return DemoRound(out, outbox, returned, annotated, archive, status, sent, findings_sent, next_year, lines, paths)
