"""``nianbao compare``: a unit's report beside its previous year's."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import typer

from toolkit.cli.root import app
from toolkit.cli.common import archive_option, fail, json_option, usage


@app.command("compare")
def compare_command(
    last: Optional[str] = typer.Argument(None, help="上年度的报告（填报表、数据 JSON 或已发布的报告）；用 --archive 时为单位名称。"),
    this: Optional[Path] = typer.Argument(None, help="本年度的报告（同上）；用 --archive 时不填。"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="写出对比结果：.html（标出变化的官方表格）、.xlsx（每表一页）或 .docx（列出有变化的格子）。"),
    archive: Optional[Path] = archive_option("从年报档案中取两个年度的数据（与 --years 一起用）。"),
    years: Optional[Tuple[int, int]] = typer.Option(None, "--years", help="用 --archive 时比较的两个年度，如 --years 2024 2025；与 --county 一起用时为起止年度（含两端）。"),
    county: bool = typer.Option(False, "--county", help="县级汇总：档案中每个单位历年的主要数据列成一张表，标出与上年相比变化较大的数字和跨年度勾稽关系不符之处（与 --archive 一起用，不填单位名称）。"),
    as_json: bool = json_option("以 JSON 输出对比结果（标准输出只有 JSON）。"),
) -> None:
    """例：nianbao compare 2024年度.xlsx 2025年度.xlsx -o 对比.html

    例：nianbao compare 县财政局 --archive nianbao.db --years 2024 2025 -o 对比.xlsx

    例：nianbao compare --archive nianbao.db --county -o 各单位历年数据.xlsx

    有错误时（含 --county 时相邻年度间的跨年度错误）退出码为 1，没有错误为 0，用法错误为 2。
    """
    from toolkit.compare import OUTPUT_SUFFIXES, archive_sides, compare_reports, load_side, write_comparison

    if out is not None and out.suffix.lower() not in OUTPUT_SUFFIXES:
        usage(f"-o/--out 应是 .html、.xlsx 或 .docx 文件：{out}")
    if county:
        _county(last, this, archive, years, out, as_json)
    if last is None:
        usage("需要两个报告：上年度的和本年度的（或用 --archive 给出单位名称，或用 --archive 和 --county 列出各单位）")
    if archive is not None:
        if this is not None:
            usage("用 --archive 时只需给出单位名称，不需要两个文件")
        if years is None:
            usage("用 --archive 时需要 --years，如 --years 2024 2025")
        if years[0] == years[1]:
            usage("--years 应是两个不同的年度")
        if not archive.is_file():
            usage(f"找不到档案文件：{archive}")
        last_data, this_data = archive_sides(archive, last, years)
    else:
        if years is not None:
            usage("--years 只能与 --archive 一起用")
        if this is None:
            usage("需要两个报告：上年度的和本年度的（或用 --archive 给出单位名称）")
        last_data, this_data = load_side(Path(last)), load_side(this)

    comparison = compare_reports(last_data, this_data)
    if out is not None:
        write_comparison(comparison, out)
    if as_json:
        from toolkit.cli.common import print_json

        print_json(comparison.to_dict())
    else:
        _print(comparison)
    if out is not None:
        typer.echo(f"已写出：{out}", err=as_json)
    raise typer.Exit(1 if comparison.errors else 0)


def _county(unit, this, archive, years, out, as_json) -> None:
    from toolkit.compare.county import county_view
    from toolkit.compare.county_outputs import write_county

    if archive is None:
        usage("--county 需要 --archive 给出年报档案")
    if unit is not None or this is not None:
        usage("用 --county 时不填单位名称或文件：表中列出档案里的每个单位")
    if not archive.is_file():
        usage(f"找不到档案文件：{archive}")
    view = county_view(archive, years=years)
    if not view.units:
        fail(f"档案中{_years_text(years)}还没有任何单位的报告：{archive}")
    if out is not None:
        write_county(view, out)
    if as_json:
        from toolkit.cli.common import print_json

        print_json(view.to_dict())
    else:
        _print_county(view)
    if out is not None:
        typer.echo(f"已写出：{out}", err=as_json)
    raise typer.Exit(1 if view.errors else 0)


def _years_text(years) -> str:
    return f"{min(years)}–{max(years)}年度" if years else ""


def _print_county(view) -> None:
    from rich.table import Table

    from toolkit.cli.common import console
    from toolkit.compare.county import county_rows, county_texts, county_title, figure_groups
    from toolkit.model import ERROR, WARNING
    from toolkit.output_labels import severity_label

    texts = county_texts()
    rows = county_rows(view)
    out = console()
    out.print(county_title(view))
    first = 0
    for label, width in figure_groups(view):
        shown = range(first, first + width)
        first += width
        table = Table(title=label, title_justify="left")
        table.add_column(texts["unit"])
        table.add_column(texts["year"])
        for i in shown:
            table.add_column(view.figures[i].label, justify="right")
        for n, row in enumerate(rows):
            marks = [f"[bold red]{c.text}*[/]" if (c.flag or c.findings) else c.text
                     for c in (row.cells[i] for i in shown)]
            table.add_row(row.unit if row.first else "", f"{row.year}{row.year_mark}", *marks,
                          end_section=n + 1 < len(rows) and rows[n + 1].first)
        out.print(table)
    typer.echo(texts["console_marked"])
    typer.echo(texts["summary"].format(units=len(view.units), years=len(view.years), flagged=len(view.flagged()))
               + f"{severity_label(ERROR)}{view.errors}个，{severity_label(WARNING)}{view.warnings}个。")
    for finding, line in view.finding_lines():
        typer.echo(f"  【{severity_label(finding.severity)}】{line}")


def _print(comparison) -> None:
    from toolkit.compare.html import title
    from toolkit.model import ERROR, WARNING
    from toolkit.output_labels import severity_label

    typer.echo(title(comparison))
    changed = sum(1 for c in comparison.cells if c.changed)
    flagged = sum(1 for c in comparison.cells if c.flag)
    typer.echo(f"共{len(comparison.cells)}格，与上年不同{changed}格，变化较大{flagged}格；"
               f"{severity_label(ERROR)}{comparison.errors}个，{severity_label(WARNING)}{comparison.warnings}个。")
    for finding in comparison.findings:
        typer.echo(f"  【{severity_label(finding.severity)}】{finding.message}")
