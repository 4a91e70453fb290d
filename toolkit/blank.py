"""Blank workbooks for a whole county: one per roster unit, in one folder."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from toolkit.checks.catalogue import FindingType
from toolkit.files import safe_filename, unique_path
from toolkit.formats import Format, format_for_year
from toolkit.model import ERROR, Finding, FindingCounts, ReportData
from toolkit.parallel import AUTO
from toolkit.roster import RosterEntry, read_roster

BLANK_SUFFIX = "_{year}年度政府信息公开工作年度报告填报表.xlsx"

Progress = Callable[[int, int, str], None]
"""``progress(done, total, unit)``: called before each workbook (done = how many are written)."""


class BlankWriteFailed(FindingType):
    code = "blank-write-failed"
    severity = ERROR
    title = "填报表写入失败"
    template = "无法写入“{unit}”的填报表 {name}：{reason}"
    description = "Writing one unit's blank workbook failed (disk full, permissions); the batch goes on."


@dataclass
class BlankBatch(FindingCounts):
    """What :func:`make_blanks` did: the workbooks written (roster entry, path) and findings."""

    format: Format
    year: int
    out_dir: Path
    written: list[tuple[RosterEntry, Path]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.errors == 0


def blank_file_name(unit: str, year: int) -> str:
    """The file name of a unit's blank workbook, safe on every file system."""
    return safe_filename(unit, BLANK_SUFFIX.format(year=year))


def parse_date(text: str | dt.date | None) -> dt.date | None:
    """``2026-01-15``, ``2026/1/15`` or ``2026年1月15日`` as a date; raises ValueError (Chinese)."""
    if text is None or isinstance(text, dt.date):
        return text
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", str(text).strip())
    if not match:
        raise ValueError(f"日期应写成 2026-01-15 这样的格式：{text}")
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        raise ValueError(f"没有这个日期：{text}") from None


class BlankSettingsError(ValueError):
    """Year, format and deadline of a round that do not fit together (message in Chinese)."""


PUBLISH_BY = (1, 31)  # 条例第五十条: each year's report is published by 31 January of the next year


def check_round_settings(year: int, format_id: str | None = None,
                         deadline: dt.date | None = None) -> list[str]:
    """Check that a round's format and deadline fit its reporting ``year``; returns warnings
    (Chinese), raises :class:`BlankSettingsError` when they cannot be right.

    A forced format newer than the year is refused, an older one that no longer covers it is a
    warning. The deadline must fall after the year has ended (the
    units report the whole year) and within the next year; after 31 January of the next year
    (the legal publication date) it is a warning: the county has no time left to check."""
    from toolkit.formats import FormatError

    warnings: list[str] = []
    if format_id is not None:
        fmt = format_for_year(int(year), format_id)
        if not fmt.covers(int(year)):
            try:
                right = format_for_year(int(year))
                advice = f"{year}年度的报告应使用 {right.id} 格式（{right.name}）"
            except FormatError as exc:
                advice = str(exc)
            span = f"{fmt.year_from}–{fmt.year_to}年度" if fmt.year_to else f"{fmt.year_from}年度起"
            text = f"{fmt.id} 格式适用于{span}的报告，不适用于{year}年度：{advice}；不指定格式即按年度自动选择。"
            if int(year) < fmt.year_from:  # a format that did not exist yet for that year
                raise BlankSettingsError(text)
            warnings.append(text)  # an old format kept on purpose (a county that has not switched)
    if deadline is not None:
        year_end = dt.date(int(year), 12, 31)
        publish_by = dt.date(int(year) + 1, *PUBLISH_BY)
        if deadline <= year_end:
            raise BlankSettingsError(
                f"截止日期 {deadline.isoformat()} 不在{year}年度结束之后：各单位要在{year}年12月31日之后才能填报"
                f"全年数据，请给{year + 1}年1月的日期（年度报告须在{publish_by.year}年1月31日前公布），"
                f"如 {year + 1}-01-15。")
        if deadline.year > int(year) + 1:
            raise BlankSettingsError(
                f"截止日期 {deadline.isoformat()} 远在{year}年度报告的公布期限（{publish_by.isoformat()}）之后，"
                f"请核对年份，如 {year + 1}-01-15。")
        if deadline > publish_by:
            warnings.append(f"截止日期 {deadline.isoformat()} 晚于{year}年度报告的公布期限"
                            f"（{publish_by.year}年1月31日），县里将没有时间审核汇总。")
    return warnings


def unit_prefill(entry: RosterEntry, fmt: Format, year: int) -> ReportData:
    """What a unit's blank workbook starts with: the roster's 联系人 and 联系电话 as 填报人 and
    联系电话 (the township can change them); no numbers."""
    info = {"filler": entry.contact or None, "phone": entry.phone or None}
    return ReportData(format=fmt.id, unit=entry.unit, year=year, info={k: v for k, v in info.items() if v})


def make_blanks(
    roster_path: str | Path,
    year: int,
    out_dir: str | Path,
    *,
    format_id: str | None = None,
    deadline: dt.date | None = None,
    progress: Progress | None = None,
    contact: dict | None = None,
    workers: int | str | None = AUTO,
) -> BlankBatch:
    """Write one blank workbook per unit of the roster into ``out_dir``.

    File names come from the unit names (made safe, never outside ``out_dir``, numbered when two
    would collide). Roster problems and files that could not be written are findings; the batch
    goes on. ``workers``: processes writing workbooks ("auto": one per CPU for a big roster, see
    :func:`toolkit.parallel.resolve_workers`). Raises :class:`toolkit.formats.FormatError` when
    no format applies to ``year``, :class:`BlankSettingsError` when format or deadline do not fit
    it (:func:`check_round_settings`).
    """
    from toolkit.parallel import ordered_map, resolve_workers

    check_round_settings(int(year), format_id, deadline)
    fmt = format_for_year(int(year), format_id)
    out_dir = Path(out_dir)
    batch = BlankBatch(fmt, int(year), out_dir)
    entries, batch.findings = read_roster(roster_path)
    if not entries:
        return batch
    out_dir.mkdir(parents=True, exist_ok=True)
    root = out_dir.resolve()
    taken: set[str] = set()
    jobs = [(entry, unique_path(out_dir, blank_file_name(entry.unit, year), taken)) for entry in entries]
    if progress:
        progress(0, len(entries), entries[0].unit)
    context = (fmt.id, int(year), deadline, contact, root)
    errors = ordered_map(_write_blank, jobs, context=context, workers=resolve_workers(workers, len(jobs)),
                         on_crash=lambda job: "写入进程意外退出")
    for done, ((entry, path), error) in enumerate(zip(jobs, errors), 1):
        if error is None:
            batch.written.append((entry, path))
        else:
            batch.findings.append(BlankWriteFailed.make(unit=entry.unit, name=path.name, reason=error))
        if progress:
            progress(done, len(entries), entries[done].unit if done < len(entries) else "")
    return batch


def _write_blank(context: tuple, job: tuple[RosterEntry, Path]) -> str | None:
    """Write one unit's blank workbook; the reason (Chinese) when it could not be written."""
    from toolkit.formats import load_format
    from toolkit.workbook.writer import write_workbook

    format_id, year, deadline, contact, root = context
    entry, path = job
    fmt = load_format(format_id)
    try:
        if path.resolve().parent != root:  # safe_filename makes this impossible; belt and braces
            raise OSError("文件名不安全")
        write_workbook(path, fmt, unit=entry.unit, year=year, data=unit_prefill(entry, fmt, year),
                       contact=contact, deadline=deadline)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None
