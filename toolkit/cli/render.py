"""``nianbao render``: turn checked workbooks (or data JSON) into the publishable report draft."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from toolkit.cli.root import app
from toolkit.cli.common import usage


@app.command("render")
def render_command(
    sources: List[Path] = typer.Argument(..., help="填好的工作簿或读取得到的数据 JSON；也可以是文件夹（处理其中所有工作簿和 JSON）。"),
    to: str = typer.Option(..., "--to", "-t", help="输出格式：html、docx、pdf（需要安装 LibreOffice）、md、txt。"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="输出文件（只有一个源文件时使用）。"),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", help="输出文件夹（默认与源文件同一文件夹）。"),
    force: bool = typer.Option(False, "--force", help="有错误也生成，报告顶端标注“草稿（未通过校验）”。"),
    template_dir: Optional[Path] = typer.Option(None, "--template-dir", help="自定义模板文件夹（缺少的模板沿用内置模板）。"),
) -> None:
    from toolkit.render import FORMATS

    key = to.lower().lstrip(".")
    if key not in FORMATS:
        usage(f"不支持的输出格式：{to}（可选：{'、'.join(FORMATS)}）")
    if out is not None and (len(sources) != 1 or sources[0].is_dir()):
        usage("-o/--out 只能用于单个源文件；多个文件或文件夹请用 --out-dir")
    if out is not None and out_dir is not None:
        usage("-o/--out 与 --out-dir 不能同时使用")
    if template_dir is not None and not template_dir.is_dir():
        usage(f"模板目录不存在：{template_dir}")

    from toolkit.render import render_file, render_many

    if out is not None:
        results = [render_file(sources[0], key, out, force=force, template_dir=template_dir)]
    else:
        results = render_many(sources, key, out_dir, force=force, template_dir=template_dir)
    if not results:
        typer.echo("没有找到可生成报告的工作簿或数据文件。", err=True)
        raise typer.Exit(1)
    failed = 0
    for result in results:
        _print_result(result)
        failed += not result.ok
    if len(results) > 1:
        typer.echo(f"共{len(results)}个文件：生成{len(results) - failed}个，未生成{failed}个。")
    raise typer.Exit(1 if failed else 0)


WARNINGS_SHOWN = 5


def _print_result(result) -> None:
    """What happened to one source: errors in full when it was refused or drafted, warnings
    (up to a few; `nianbao check` lists them all), and the parts that got default text."""
    from toolkit.model import ERROR, WARNING
    from toolkit.output_labels import severity_label

    err = not result.ok
    if result.ok:
        mark = "已生成草稿（未通过校验）" if result.draft else "已生成"
        typer.echo(f"{mark}：{result.out}")
    else:
        typer.echo(f"未生成：{result.source}：{result.error}", err=True)
    errors = [f for f in result.findings if f.severity == ERROR]
    warnings = [f for f in result.findings if f.severity != ERROR]
    for finding in errors:
        _print_finding(severity_label(ERROR), finding, err)
    for finding in warnings[:WARNINGS_SHOWN]:
        _print_finding(severity_label(WARNING), finding, err)
    if len(warnings) > WARNINGS_SHOWN:
        typer.echo(f"  ……另有{len(warnings) - WARNINGS_SHOWN}个{severity_label(WARNING)}，用 nianbao check 查看全部",
                   err=err)
    if result.ok and result.defaults_used and result.data is not None:
        typer.echo(f"  以下文字部分未填写，已使用默认文字，请核对：{'、'.join(_part_labels(result))}")


def _print_finding(label: str, finding, err: bool) -> None:
    where = f"{finding.sheet}!{finding.cell} " if finding.sheet and finding.cell and finding.cell not in finding.message else ""
    typer.echo(f"  [{label}] {where}{finding.message}", err=err)


def _part_labels(result) -> list[str]:
    from toolkit.formats import load_format

    fmt = load_format(str(result.data.format))
    labels = {p.id: p.label for p in fmt.parts}
    return [labels.get(pid, pid) for pid in result.defaults_used]
