"""``nianbao audit``: score a set of published reports as an evaluator does."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from toolkit.cli.root import app
from toolkit.cli.common import archive_option, json_option


@app.command("audit")
def audit_command(
    reports: List[Path] = typer.Argument(..., help="已发布的年度报告或其所在文件夹。",
                                         show_default=False),
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="写出评分表、排名和常见问题的 Excel 文件。"),
    html_out: Optional[Path] = typer.Option(None, "--html", help="写出便于阅读的评分网页。"),
    as_json: bool = json_option("以 JSON 输出评估结果（标准输出只有 JSON）。"),
    archive: Optional[Path] = archive_option("年报档案文件：记入报告文件摘要，以发现发布后的修改。"),
    scorecard: Optional[Path] = typer.Option(None, "--scorecard", help="评分模板（默认用内置的评分模板）。"),
) -> None:
    """例：nianbao audit 报告/ --xlsx 评估.xlsx --html 评估.html

    有报告存在错误时退出码为 1，否则为 0，用法错误为 2。
    """
    from toolkit.audit import audit_reports, load_scorecard
    from toolkit.audit.outputs import console_lines, write_html, write_xlsx
    from toolkit.cli.common import interruptible, messages, print_json, require_some, usage
    from toolkit.importers import SUFFIXES
    from toolkit.importers.batch import expand_reports

    require_some(reports, "要评估的报告")
    if not expand_reports(reports):
        usage(f"在给出的文件夹中没有找到报告文件（{' '.join(SUFFIXES)}）")
    if scorecard is not None and not scorecard.is_file():
        usage(f"找不到评分模板：{scorecard}")
    with interruptible():
        result = audit_reports(reports, scorecard=load_scorecard(scorecard), archive=archive)
        written = [write_xlsx(result, xlsx)] if xlsx else []
        written += [write_html(result, html_out)] if html_out else []
    out = messages(stderr=as_json)
    if as_json:
        print_json(result.to_dict())
    else:
        for line in console_lines(result):
            out.print(line, markup=False)
    for path in written:
        out.print(f"已写出：{path}", markup=False)
    raise typer.Exit(0 if result.valid else 1)
