"""``nianbao import``: read published reports (text, Markdown, HTML, Word) into data and audit them."""

from __future__ import annotations

from pathlib import Path
from typing import List, NoReturn, Optional

import typer

from toolkit.cli import app


def _usage(message: str) -> NoReturn:
    typer.echo(f"用法错误：{message}", err=True)
    raise typer.Exit(2)


@app.command("import")
def import_command(
    reports: List[Path] = typer.Argument(..., help="已发布的年度报告（.txt .md .html .htm .docx）或其所在文件夹。",
                                         show_default=False),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="输出文件：.xlsx（填好的标准填报表）或 .json（数据）；只用于一份报告。"),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", help="多份报告的输出文件夹，文件按单位和年度命名。"),
    to: str = typer.Option("xlsx", "--to", help="--out-dir 中文件的类型：xlsx 或 json。"),
    format_id: Optional[str] = typer.Option(None, "--format", help="预期的格式：2019 或 2021（格式以报告表格为准，不一致时提示）。"),
    year: Optional[int] = typer.Option(None, "--year", help="报告年度（报告中找不到年度时使用；不一致时提示）。"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出导入和校验结果（标准输出只有 JSON）。"),
    archive: Optional[Path] = typer.Option(
        None, "--archive", help="年报档案文件（如 nianbao.db）：记入导入的数据，补齐往年（不覆盖已校验的填报表）。"),
) -> None:
    """导入已发布的年度报告，按标准格式读出各项数字并逐项校验，可写成标准填报表或数据 JSON。

    例：nianbao import 某镇2024年报.docx -o 某镇2024.xlsx；nianbao import 报告/ --out-dir 导入/

    有错误（读不出的内容或不符合勾稽关系）时退出码为 1，没有错误为 0，用法错误为 2。
    """
    import json
    import sys

    from rich.console import Console

    from toolkit.archive import ArchiveError
    from toolkit.cli.check import print_report, summary_line
    from toolkit.formats import format_ids
    from toolkit.importers.batch import ImportSetupError, expand_reports, import_reports

    if format_id is not None and format_id not in format_ids():
        _usage(f"--format 只能是 {' 或 '.join(format_ids())}，而不是 {format_id}")
    missing = [p for p in reports if not p.exists()]
    if missing and len(missing) == len(reports):
        _usage("找不到要导入的报告：" + "、".join(str(p) for p in missing))
    if not expand_reports(reports):
        _usage("在给出的文件夹中没有找到报告文件（.txt .md .html .htm .docx）")
    err = Console(stderr=True, highlight=False)
    try:
        batch = import_reports(reports, out=out, out_dir=out_dir, to=to, format_id=format_id, year=year,
                               archive=archive)
    except ImportSetupError as exc:
        _usage(str(exc))
    except ArchiveError as exc:
        err.print(f"错误：{exc}", markup=False)
        raise typer.Exit(1)
    except KeyboardInterrupt:
        err.print("已中断；没有写出不完整的文件。")
        raise typer.Exit(130)

    if as_json:
        payload = batch.report.to_dict()
        for file in payload["files"]:
            written = batch.outputs.get(file["path"])
            file["output"] = str(written) if written else None
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        console = err
    else:
        console = Console(highlight=False)
        print_report(batch.report, console)
    for source, written in batch.outputs.items():
        console.print(f"{Path(source).name} → {written}", markup=False)
    console.print(summary_line(batch.report), markup=False)
    if archive is not None:
        console.print(f"已记入档案：{archive}", markup=False)
    raise typer.Exit(0 if batch.valid else 1)
