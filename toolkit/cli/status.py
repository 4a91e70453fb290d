"""``nianbao status``: who has returned what for a year, from the archive."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from toolkit.cli.root import app
from toolkit.cli.common import archive_option, console, json_option, print_json, roster_option, year_option

_COLOURS = {"missing": "bright_black", "errors": "red", "clean": "green"}


@app.command("status")
def status_command(
    roster: Path = roster_option("单位名单（CSV 或 XLSX）。", required=True),
    year: int = year_option(required=True),
    archive: Path = archive_option(required=True),
    as_json: bool = json_option(),
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="另存为 Excel 表格，供县里留档。"),
) -> None:
    """收到时间按北京时间（Asia/Shanghai）显示；环境变量 NIANBAO_TZ 可改为其他时区，如 NIANBAO_TZ=UTC。

    所有单位都已通过时退出码为 0，有未报送或有错误的单位时为 1。
    """
    from toolkit.archive import Archive
    from toolkit.round import round_status, write_status_xlsx

    with Archive(archive, create=False) as arch:
        status = round_status(roster, year=year, archive=arch)
        if xlsx is not None:
            write_status_xlsx(status, xlsx, arch)

    if as_json:
        print_json(status.to_dict())
    else:
        _table(status)
    err = sys.stderr if as_json else sys.stdout
    for problem in status.problems:
        typer.echo(f"名单问题：{problem.message}", file=err)
    if status.unlisted:
        typer.echo(f"档案中另有 {len(status.unlisted)} 个单位不在名单中：{'、'.join(status.unlisted)}", file=err)
    if xlsx is not None:
        typer.echo(f"已写入 {xlsx}", file=err)
    if not status.complete:
        raise typer.Exit(1)


def _table(status) -> None:
    from rich.table import Table

    from toolkit.model import WARNING
    from toolkit.output_labels import severity_label, unit_counts_text

    table = Table(title=f"{status.year}年度报送情况（收到时间为{status.zone}）", title_justify="left")
    table.add_column("单位名称", overflow="fold")
    table.add_column("状态", no_wrap=True)
    table.add_column("错误", justify="right", no_wrap=True)
    table.add_column(severity_label(WARNING), justify="right", no_wrap=True)
    table.add_column("收到时间", no_wrap=True)
    table.add_column("文件名", overflow="fold")
    for u in status.units:
        table.add_row(
            u.unit, f"[{_COLOURS[u.status]}]{u.label}[/]",
            "" if u.errors is None else str(u.errors), "" if u.warnings is None else str(u.warnings),
            u.received_text, u.file_name or "",
        )
    out = console()
    out.print(table)
    out.print(unit_counts_text(status) + "。")

