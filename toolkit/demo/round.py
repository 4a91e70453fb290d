"""The demo's round: a whole January round played on made-up data, without network."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

from toolkit.archive import Archive
from toolkit.demo.synthetic import synthetic_report
from toolkit.files import safe_filename
from toolkit.formats import format_for_year
from toolkit.output_labels import unit_counts_text
from toolkit.round import (
    RoundError,
    RoundStatus,
    SendReport,
    draw_history_chart,
    load_roster,
    round_status,
    send_findings,
    send_requests,
    unit_history,
    write_status_xlsx,
)

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
    entries, _ = load_roster(roster)
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
    lines.append(f"{unit_counts_text(status)}，报送情况见 {status_xlsx}")
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
