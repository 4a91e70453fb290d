"""``nianbao send``: mail each unit its blank workbook, or (``--findings``) what to fix."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from toolkit.cli.root import app
from toolkit.cli.common import (archive_option, contact_option, deadline_option, format_option, json_option,
                                roster_option, usage, year_option)

_STATUS = {"sent": "已发送", "written": "已写入发件箱", "skipped": "已处理过，跳过", "failed": "失败"}


@app.command("send")
def send_command(
    roster: Path = roster_option("单位名单（CSV 或 XLSX，需有“单位名称”和“邮箱”列）。", required=True),
    outbox: Path = typer.Option(..., "--outbox", help="发件箱文件夹：每封邮件存为 .eml，发送记录也在这里。"),
    year: Optional[int] = year_option("报告年度，如 2025（发送填报表时必填）。"),
    deadline: Optional[str] = deadline_option("报送截止日期，如 2026-01-15（在报告年度结束之后）。"),
    findings: Optional[Path] = typer.Option(
        None, "--findings", help="改为发送校验意见：nianbao check --json 的输出文件，或年报档案。"),
    annotated: Optional[Path] = typer.Option(
        None, "--annotated", help="nianbao check --annotate 生成的批注副本文件夹（不给则现场生成）。"),
    smtp: Optional[str] = typer.Option(None, "--smtp", help="通过邮件服务器发送：主机[:端口]。不给则只写 .eml 文件。"),
    smtp_security: str = typer.Option("starttls", "--smtp-security", help="starttls（默认）、ssl 或 none。"),
    smtp_user: Optional[str] = typer.Option(
        None, "--smtp-user", help="登录邮件服务器的用户名；密码取自环境变量 NIANBAO_SMTP_PASSWORD，没有则提示输入。"),
    smtp_cafile: Optional[Path] = typer.Option(
        None, "--smtp-cafile", help="邮件服务器使用自签名证书时，信任的证书文件（PEM）。"),
    sender: Optional[str] = typer.Option(None, "--from", help="发件人地址（通过邮件服务器发送时必填）。"),
    resend: bool = typer.Option(False, "--resend", help="已经发送过的单位也重新发送。"),
    format_id: Optional[str] = format_option(),
    templates: Optional[Path] = typer.Option(None, "--templates", help="本县修改过的邮件模板所在文件夹。"),
    contact_office: Optional[str] = contact_option("office"),
    contact_name: Optional[str] = contact_option("name"),
    contact_phone: Optional[str] = contact_option("phone"),
    contact_email: Optional[str] = contact_option("email"),
    portal_url: Optional[str] = typer.Option(
        None, "--portal-url", help="县政务公开平台（nianbao serve）的网址，如 http://10.1.2.3:8765；"
                                   "每封填报通知附上该单位的专用链接（需同时给 --archive）。"),
    archive: Optional[Path] = archive_option("平台使用的年报档案文件（与 nianbao serve --archive 相同）。"),
    as_json: bool = json_option("以 JSON 输出结果。"),
) -> None:
    """默认只把邮件写成 .eml 文件放进发件箱（任何邮件程序都能打开发送，无需联网）；
    加 --smtp 则直接发送。重复运行不会重复发送同一单位的邮件（--resend 强制重发）。
    """
    from toolkit.blank import check_round_settings
    from toolkit.cli.common import check_format_id, contact_dict, print_json
    from toolkit.formats import FormatError
    from toolkit.mail import PASSWORD_ENV, MailError, SmtpSettings
    from toolkit.round import RoundError, parse_deadline, send_findings, send_requests

    out = sys.stderr if as_json else sys.stdout
    if findings is None and year is None:
        usage("发送填报表时需要 --year（报告年度）")
    if annotated is not None and findings is None:
        usage("--annotated 只能和 --findings 一起使用")
    if portal_url is not None and (findings is not None or archive is None):
        usage("--portal-url 用于发送填报表，需要同时给 --archive（平台的年报档案）" if findings is None
              else "--portal-url 不能和 --findings 一起使用")
    if archive is not None and portal_url is None:
        usage("--archive 需要和 --portal-url 一起使用")
    if portal_url is not None and not portal_url.startswith(("http://", "https://")):
        usage(f"--portal-url 应是以 http:// 或 https:// 开头的网址：{portal_url}")
    if smtp is None and (smtp_user or smtp_cafile):
        usage("--smtp-user、--smtp-cafile 需要和 --smtp 一起使用")
    check_format_id(format_id)
    notes: list[str] = []
    if year is not None:
        try:
            notes = check_round_settings(year, format_id if findings is None else None, parse_deadline(deadline))
        except (ValueError, FormatError, RoundError) as exc:
            usage(str(exc))
    settings = None
    try:
        if smtp is not None:
            if not sender:
                usage("通过邮件服务器发送时需要 --from（发件人地址）")
            password = None
            if smtp_user:
                password = os.environ.get(PASSWORD_ENV)
                if password is None:
                    if not sys.stdin.isatty():
                        usage(f"请在环境变量 {PASSWORD_ENV} 中提供邮件服务器密码")
                    password = typer.prompt(f"{smtp_user} 的邮件服务器密码", hide_input=True, err=True)
            context = None
            if smtp_cafile is not None:
                import ssl

                try:
                    context = ssl.create_default_context(cafile=str(smtp_cafile))
                except (OSError, ssl.SSLError) as exc:
                    usage(f"无法读取证书文件 {smtp_cafile}：{exc}")
            settings = SmtpSettings.parse(smtp, smtp_security, user=smtp_user, password=password,
                                          ssl_context=context)
    except MailError as exc:
        usage(str(exc))
    contact = contact_dict(contact_office, contact_name, contact_phone, contact_email)
    for note in notes:
        typer.echo(f"提示：{note}", file=out)

    def progress(outcome) -> None:
        if as_json:
            return
        text = _STATUS[outcome.status]
        if outcome.error:
            text += f"：{outcome.error}"
        typer.echo(f"{outcome.unit}\t{'，'.join(outcome.to)}\t{text}", file=out)

    common = dict(outbox=outbox, sender=sender, smtp=settings, resend=resend, templates=templates,
                  contact=contact, progress=progress)
    if findings is not None:
        report = send_findings(findings, roster=roster, year=year, annotated=annotated, deadline=deadline, **common)
    else:
        links = None
        if portal_url is not None:
            from toolkit.archive import ArchiveError
            from toolkit.portal.access import portal_links
            from toolkit.round import load_roster

            try:
                links = portal_links(archive, [e.unit for e in load_roster(roster)[0]], year, portal_url)
            except (ArchiveError, RoundError) as exc:
                usage(str(exc))
        report = send_requests(roster, year=year, deadline=deadline, format_id=format_id, links=links, **common)

    for problem in report.problems:
        typer.echo(f"名单问题：{problem.message}", file=out)
    for note in report.notes:
        typer.echo(f"提示：{note}", file=out)
    for unit in report.unreachable:
        where = f"（名单第{unit.line}行）" if unit.line else ""
        typer.echo(f"未发送：{unit.unit}{where}：{unit.reason}", file=out)
    if as_json:
        print_json(report.to_dict())
    done = "已发送" if settings else "已写入发件箱"
    summary = (f"{done} {report.count('sent') + report.count('written')} 封，"
               f"跳过 {report.count('skipped')} 封（此前已处理），失败 {len(report.failed)} 封，"
               f"无法发送 {len(report.unreachable)} 个单位。发件箱：{outbox}")
    if findings is not None and not report.outcomes and not report.unreachable:
        summary = "没有需要发送校验意见的单位（没有文件有错误）。"
    typer.echo(summary, file=out)
    if report.failed or report.unreachable or any(p.severity == "error" for p in report.problems):
        raise typer.Exit(1)
