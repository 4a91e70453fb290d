"""``nianbao serve``: the county's web portal (toolkit/web/)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Optional

import typer

from toolkit.cli.root import app
from toolkit.cli.common import USAGE, archive_option, fail, roster_option, year_option

PASSWORD_ENV = "NIANBAO_PASSWORD"


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1``, ``localhost``: reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@app.command("serve")
def serve_command(
    archive: Path = archive_option("年报档案文件（没有时新建）。", required=True),
    roster: Path = roster_option("单位名册（CSV 或 XLSX，需有“单位名称”列）。", required=True),
    year: int = year_option(required=True),
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址。默认只有本机可访问；其他地址须先设置管理密码。"),
    port: int = typer.Option(8765, "--port", help="端口。"),
    smtp: Optional[str] = typer.Option(None, "--smtp", help="在网页上发送邮件所用的邮件服务器：主机[:端口]。不给则只能下载 .eml。"),
    smtp_security: str = typer.Option("starttls", "--smtp-security", help="starttls（默认）、ssl 或 none。"),
    smtp_user: Optional[str] = typer.Option(
        None, "--smtp-user", help="登录邮件服务器的用户名；密码取自环境变量 NIANBAO_SMTP_PASSWORD，没有则提示输入。"),
    sender: Optional[str] = typer.Option(None, "--from", help="发件人地址（给了 --smtp 时必填）。"),
    url: Optional[str] = typer.Option(
        None, "--url", help="各单位访问本平台用的网址，写进填报通知邮件里的专用链接，如 http://10.1.2.3:8765"
                            "（默认按 --host 和 --port）。"),
    set_password: bool = typer.Option(False, "--set-password",
                                      help=f"设置（或更改）管理密码后退出：从终端输入两次，或取自环境变量 {PASSWORD_ENV}。"),
) -> None:
    """例：nianbao serve --archive nianbao.db --roster 名册.csv --year 2025（然后用浏览器打开 http://127.0.0.1:8765/）

    例：nianbao serve --archive nianbao.db --roster 名册.csv --year 2025 --set-password

    默认只监听本机（127.0.0.1），无需登录；用 --host 0.0.0.0 等地址对内网开放前，须先用 --set-password 设置管理密码，
    否则拒绝启动。按 Ctrl+C 停止。
    """
    from toolkit.archive import ArchiveError
    from toolkit.portal import Portal

    if not roster.is_file():
        fail(f"找不到单位名册：{roster}", USAGE)
    if not 0 < port < 65536:
        fail(f"端口应在 1 到 65535 之间：{port}", USAGE)
    try:
        portal = Portal(archive, roster, year)
    except ArchiveError as exc:
        fail(str(exc))
    if not portal.units():
        fail(f"单位名册 {roster.name} 中没有单位")
    if set_password:
        portal.set_password(_ask_password())
        typer.echo("管理密码已设置（档案中只保存其散列值）。")
        raise typer.Exit(0)
    if smtp is not None:
        portal.configure_mail(*_mail_settings(smtp, smtp_security, smtp_user, sender))
    elif smtp_user or sender:
        fail("--smtp-user、--from 需要和 --smtp 一起使用", USAGE)
    loopback = is_loopback(host)
    if not loopback and not portal.has_password():
        fail(f"监听 {host} 会让其他电脑访问本平台，必须先设置管理密码：nianbao serve --archive {archive} "
             f"--roster {roster} --year {year} --set-password", USAGE)
    import uvicorn

    from toolkit.web.app import create_app

    web = create_app(portal, secure_cookies=not loopback, loopback=loopback)
    shown = f"[{host}]" if ":" in host else host
    if url is not None and not url.startswith(("http://", "https://")):
        fail(f"--url 应是以 http:// 或 https:// 开头的网址：{url}", USAGE)
    portal.base_url = url or (None if host in ("0.0.0.0", "::") else f"http://{shown}:{port}")
    typer.echo(f"报送平台已启动：http://{shown}:{port}/　（{year}年度，{len(portal.units())}个单位；按 Ctrl+C 停止）")
    if not loopback:
        typer.echo("提示：对内网开放时，建议在前面加 HTTPS 反向代理；登录 Cookie 已标记为仅限 HTTPS。")
    uvicorn.run(web, host=host, port=port, log_level="warning", access_log=False)


def _mail_settings(smtp: str, security: str, user: Optional[str], sender: Optional[str]) -> tuple[object, str]:
    from toolkit.mail import PASSWORD_ENV as SMTP_PASSWORD_ENV, MailError, SmtpSettings

    if not sender:
        fail("给了 --smtp 时必须用 --from 写明发件人地址", USAGE)
    password = None
    if user:
        password = os.environ.get(SMTP_PASSWORD_ENV) or typer.prompt(f"{user} 的邮件服务器密码", hide_input=True,
                                                                     err=True)
    try:
        return SmtpSettings.parse(smtp, security, user=user, password=password), sender
    except MailError as exc:
        fail(str(exc), USAGE)


def _ask_password() -> str:
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        password = from_env
    else:
        password = typer.prompt("新的管理密码", hide_input=True, confirmation_prompt="再输入一次",
                                err=True)
    if len(password) < 8:
        fail("管理密码至少要 8 个字符", USAGE)
    return password
