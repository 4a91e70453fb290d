"""``nianbao import``: read published reports (text, Markdown, HTML, Word) into data and audit them."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from toolkit.cli.root import app
from toolkit.cli.common import archive_option, format_option, json_option, usage, year_option


@app.command("import")
def import_command(
    reports: List[Path] = typer.Argument(..., help="已发布的年度报告（.txt .md .html .htm .docx .pdf）或其所在文件夹。",
                                         show_default=False),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="输出文件：.xlsx（填好的标准填报表）或 .json（数据）；只用于一份报告。"),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", help="多份报告的输出文件夹，文件按单位和年度命名。"),
    to: str = typer.Option("xlsx", "--to", help="--out-dir 中文件的类型：xlsx 或 json。"),
    format_id: Optional[str] = format_option("预期的格式：2019 或 2021（格式以报告表格为准，不一致时提示）。"),
    year: Optional[int] = year_option("报告年度（报告中找不到年度时使用；不一致时提示）。"),
    as_json: bool = json_option("以 JSON 输出导入和校验结果（标准输出只有 JSON）。"),
    archive: Optional[Path] = archive_option("年报档案文件（如 nianbao.db）：记入导入的数据，补齐往年（不覆盖已校验的填报表）。"),
) -> None:
    """例：nianbao import 某镇2024年报.docx -o 某镇2024.xlsx；nianbao import 报告/ --out-dir 导入/

    有错误（读不出的内容或不符合勾稽关系）时退出码为 1，没有错误为 0，用法错误为 2。
    """
    from toolkit.cli.check import print_report, summary_line
    from toolkit.cli.common import check_format_id, console, interruptible, messages, print_json, require_some
    from toolkit.importers.batch import expand_reports, import_reports

    check_format_id(format_id)
    require_some(reports, "要导入的报告")
    if not expand_reports(reports):
        usage("在给出的文件夹中没有找到报告文件（.txt .md .html .htm .docx .pdf）")
    err = messages(stderr=True)
    with interruptible():
        batch = import_reports(reports, out=out, out_dir=out_dir, to=to, format_id=format_id, year=year,
                               archive=archive)

    if as_json:
        payload = batch.report.to_dict()
        for file in payload["files"]:
            written = batch.outputs.get(file["path"])
            file["output"] = str(written) if written else None
        print_json(payload)
        out_console = err
    else:
        out_console = console()
        print_report(batch.report, out_console)
    for source, written in batch.outputs.items():
        out_console.print(f"{Path(source).name} → {written}", markup=False)
    out_console.print(summary_line(batch.report), markup=False)
    if archive is not None:
        out_console.print(f"已记入档案：{archive}", markup=False)
    raise typer.Exit(0 if batch.valid else 1)
