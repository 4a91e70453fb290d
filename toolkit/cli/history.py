"""``nianbao history``: one unit's main figures across the years in the archive."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from toolkit.cli.root import app
from toolkit.cli.common import archive_option, console, fail, json_option, print_json


@app.command("history")
def history_command(
    unit: str = typer.Argument(..., help="单位名称（档案中的全称，或能唯一确定单位的一部分）。"),
    archive: Path = archive_option("年报档案文件。", required=True),
    chart: Optional[Path] = typer.Option(None, "--chart", help="另画一张折线图：.png（默认）或 .svg。"),
    as_json: bool = json_option(),
) -> None:
    """档案中没有这个单位（或名称对应多个单位）时退出码为 1。
    """
    from toolkit.archive import Archive
    from toolkit.round import draw_history_chart, unit_history

    with Archive(archive, create=False) as arch:
        history = unit_history(arch, unit)

    if as_json:
        print_json(history.to_dict())
    else:
        _table(history)
    if chart is not None:
        try:
            for warning in draw_history_chart(history, chart):
                typer.echo(f"提示：{warning}", err=True)
        except OSError as exc:
            fail(f"无法写入 {chart}：{exc.strerror or exc}")
        typer.echo(f"已画图：{chart}", err=True)


def _table(history) -> None:
    from rich.table import Table

    from toolkit.model import format_decimal

    table = Table(title=f"{history.unit} 历年主要数据", title_justify="left")
    table.add_column("类别")
    table.add_column("项目")
    for year in history.years:
        note = "（导入）" if history.sources.get(year) == "import" else ""
        note += "（有错误）" if history.errors.get(year) else ""
        table.add_column(f"{year}{note}", justify="right")
    group = None
    for fig in history.figures:
        row = [format_decimal(v) if (v := history.values[y].get(fig.id)) is not None else "—"
               for y in history.years]
        table.add_row(fig.group_label if fig.group_label != group else "", fig.label, *row)
        group = fig.group_label
    console().print(table)

