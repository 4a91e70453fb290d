"""``nianbao blank``: the blank standard workbook for one unit, or for every unit of a roster."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from toolkit.cli.root import app
from toolkit.cli.common import (contact_dict, contact_option, deadline_option, fail, format_option, roster_option,
                                usage, year_option)


@app.command("blank")
def blank_command(
    unit: Optional[str] = typer.Option(None, "--unit", help="单位名称，生成这一个单位的填报表。"),
    roster: Optional[Path] = roster_option("单位名册（CSV 或 XLSX，需有“单位名称”列），为每个单位各生成一份。"),
    year: Optional[int] = year_option(),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="输出文件（只用于 --unit）。"),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", help="输出文件夹（--roster 时必填）。"),
    format_id: Optional[str] = format_option(),
    deadline: Optional[str] = deadline_option("报送截止日期，如 2026-01-15（在报告年度结束之后），写进填报说明。"),
    contact_office: Optional[str] = contact_option("office"),
    contact_name: Optional[str] = contact_option("name"),
    contact_phone: Optional[str] = contact_option("phone"),
    contact_email: Optional[str] = contact_option("email"),
) -> None:
    """例：nianbao blank --unit 蓼堤镇人民政府 --year 2025

    例：nianbao blank --roster roster.csv --year 2025 --out-dir outbox/ --deadline 2026-01-15
    """
    from toolkit.blank import blank_file_name, check_round_settings, make_blanks, parse_date
    from toolkit.cli.common import check_format_id, console
    from toolkit.formats import FormatError, format_for_year

    if (unit is None) == (roster is None):
        usage("请给出 --unit（一个单位）或 --roster（名册）之一")
    if year is None:
        usage("请用 --year 给出报告年度，如 --year 2025")
    if roster is not None and output is not None:
        usage("-o 只能和 --unit 一起使用；名册请用 --out-dir 指定输出文件夹")
    if roster is not None and out_dir is None:
        usage("使用 --roster 时请用 --out-dir 指定输出文件夹")
    if roster is not None and not roster.is_file():
        usage(f"找不到名册文件：{roster}")
    if unit is not None and not unit.strip():
        usage("--unit 的单位名称不能为空")
    check_format_id(format_id)
    try:
        due = parse_date(deadline)
        fmt = format_for_year(year, format_id)
        notes = check_round_settings(year, format_id, due)
    except (ValueError, FormatError) as exc:  # BlankSettingsError is a ValueError
        usage(str(exc))
    contact = contact_dict(contact_office, contact_name, contact_phone, contact_email)
    err = console(stderr=True)
    for note in notes:
        err.print(f"提示：{note}", markup=False)

    if unit is not None:
        from toolkit.workbook.writer import write_workbook

        target = output or (out_dir or Path(".")) / blank_file_name(unit.strip(), year)
        try:
            write_workbook(target, fmt, unit=unit.strip(), year=year, contact=contact, deadline=due)
        except OSError as exc:
            fail(f"无法写入 {target}：{exc.strerror or exc}")
        typer.echo(f"已生成 {unit.strip()} {year}年度填报表（{fmt.name}）：{target}")
        return

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("生成填报表"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  console=err, transient=True) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=name[:30])

        batch = make_blanks(roster, year, out_dir, format_id=format_id, deadline=due, progress=progress,
                            contact=contact)
    from rich.markup import escape

    for finding in batch.findings:
        style = "red" if finding.severity == "error" else "yellow"
        label = "错误" if finding.severity == "error" else "提示"
        err.print(f"[{style}]{label}[/{style}]：{escape(finding.message)}", markup=True)
    if not batch.written:
        typer.echo("没有生成任何填报表。", err=True)
        raise typer.Exit(1)
    typer.echo(f"已为 {len(batch.written)} 个单位生成{year}年度填报表（{fmt.name}），保存在 {out_dir}")
    raise typer.Exit(0 if batch.ok else 1)
