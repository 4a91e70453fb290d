"""Sending the round's mails: each unit's blank workbook (the request), and the findings of a
returned file with its annotated copy."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from toolkit.archive import Archive, is_archive_file
from toolkit.files import safe_filename
from toolkit.formats import format_for_year
from toolkit.identity import match_unit, unit_key
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
from toolkit.model import ERROR, Finding, FindingCounts
from toolkit.output_labels import severity_label
from toolkit.round.common import RoundError, chinese_date, load_roster, parse_deadline

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
    links: dict[str, str] | None = None,
) -> tuple[list[Outgoing], list[Unreachable]]:
    """One request mail per roster entry with a usable 邮箱, its own blank workbook attached;
    the entries without one are returned as :class:`Unreachable`. ``links``: each unit's private
    portal page (toolkit.portal.access.portal_links), named in its mail."""
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
            county=_county(contact), link=(links or {}).get(entry.unit),
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
    links: dict[str, str] | None = None,
) -> SendReport:
    """``nianbao send``: mail every roster unit its blank workbook for ``year`` (with ``links``,
    each unit's private portal page: ``nianbao send --portal-url``).

    The mails are written to ``outbox`` as ``.eml`` files and, with ``smtp``, sent. The log
    (``outbox/send-log.jsonl`` unless ``log`` is given) keeps a re-run from sending a unit's
    mail twice unless ``resend``.
    """
    entries, problems = load_roster(roster)
    mails, unreachable = request_mails(entries, year=year, deadline=deadline, format_id=format_id,
                                       contact=contact, templates=_mail_templates(templates), links=links)
    outcomes = deliver(mails, outbox=outbox, sender=sender, smtp=smtp, log=SendLog(log) if log else None,
                       resend=resend, progress=progress)
    return SendReport(outcomes, unreachable, list(problems))


def _mail_templates(templates: str | Path | MailTemplates | None) -> MailTemplates:
    """The mail templates: as given, from the county's folder, or the toolkit's own."""
    return templates if isinstance(templates, MailTemplates) else MailTemplates(templates)


# ---------------------------------------------------------------- mailing findings back


@dataclass
class FindingsItem(FindingCounts):
    """One checked file with errors, as read from a check JSON or the archive."""

    unit: str | None
    year: int | None
    path: str | None
    findings: list[Finding]
    ref: str


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
                            related=tuple(tuple(pair) for pair in f.get("related") or ()),
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
    from toolkit.workbook import WORKBOOK_SUFFIXES

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
            findings=[{"severity_label": severity_label(f.severity), "place": _place(f),
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

    entries, problems = load_roster(roster)
    items = load_findings(source, year=year)
    with tempfile.TemporaryDirectory(prefix="nianbao-annotate-") as work:
        mails, unreachable, notes = findings_mails(items, entries, annotated=annotated, deadline=deadline,
                                                   contact=contact, templates=_mail_templates(templates),
                                                   work_dir=work)
    outcomes = deliver(mails, outbox=outbox, sender=sender, smtp=smtp, log=SendLog(log) if log else None,
                       resend=resend, progress=progress)
    return SendReport(outcomes, unreachable, list(problems), notes)
