"""The audit's outputs: console lines (Chinese), xlsx (scorecard, ranking, defect counts), HTML."""

from __future__ import annotations

import io
from pathlib import Path

from toolkit.audit.run import AuditResult, AuditedReport
from toolkit.files import write_bytes_atomic, write_text_atomic
from toolkit.model import ERROR, Finding

SEVERITY = {ERROR: "错误", "warning": "警告"}


def place(f: Finding) -> str:
    """Where a finding is, as a person reads it: section or table, line or row, cell."""
    return " ".join(str(x) for x in (f.sheet, f.row, f.cell) if x)


def _name(rep: AuditedReport) -> str:
    who = "".join(str(x) for x in (rep.unit or Path(rep.path).name, f"{rep.year}年" if rep.year else "") if x)
    return who


def console_lines(result: AuditResult) -> list[str]:
    """The console report: each report's score and findings, the ranking, the common defects."""
    lines: list[str] = []
    for rep in result.reports:
        lines.append(f"{rep.path}  {_name(rep)}  得分 {rep.score:g}")
        for rule in rep.results:
            for f in rule.findings:
                lines.append(f"  [{SEVERITY.get(f.severity, f.severity)}] {rule.spec.title}｜{place(f) or '—'}｜{f.message}")
        for f in rep.other:
            lines.append(f"  [{SEVERITY.get(f.severity, f.severity)}] 其他｜{place(f) or '—'}｜{f.message}")
    lines.append("排名：")
    for n, rep in enumerate(result.ranking(), 1):
        lines.append(f"  {n}. {_name(rep)}  {rep.score:g}分  （{Path(rep.path).name}）")
    defects = result.defect_counts()
    if defects:
        lines.append("常见问题：")
        lines += [f"  {spec.title}：{n}份" for spec, n in defects]
    lines.append(f"共评估{len(result.reports)}份报告，{sum(1 for r in result.reports if r.errors)}份有错误。")
    return lines


def write_xlsx(result: AuditResult, out: str | Path) -> Path:
    """Three sheets: 评分表 (every rule of every report), 排名, 常见问题."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    card = wb.active
    card.title = "评分表"
    card.append(["报告文件", "单位", "年度", "类别", "评估项", "权重", "结果", "位置", "问题"])
    for rep in result.reports:
        for rule in rep.results:
            if rule.passed:
                card.append([Path(rep.path).name, rep.unit, rep.year, rule.spec.group, rule.spec.title,
                             rule.spec.weight, "通过", "", ""])
            for f in rule.findings:
                card.append([Path(rep.path).name, rep.unit, rep.year, rule.spec.group, rule.spec.title,
                             rule.spec.weight, "扣分", place(f), f.message])
    rank = wb.create_sheet("排名")
    rank.append(["名次", "单位", "年度", "得分", "错误", "未通过的评估项", "报告文件"])
    for n, rep in enumerate(result.ranking(), 1):
        failed = "、".join(r.spec.title for r in rep.results if not r.passed)
        rank.append([n, rep.unit, rep.year, rep.score, rep.errors, failed, Path(rep.path).name])
    defects = wb.create_sheet("常见问题")
    defects.append(["评估项", "类别", "权重", "存在该问题的报告数"])
    for spec, n in result.defect_counts():
        defects.append([spec.title, spec.group, spec.weight, n])
    widths = {"评分表": (22, 20, 6, 8, 26, 6, 6, 30, 70), "排名": (6, 24, 6, 6, 6, 50, 24),
              "常见问题": (30, 8, 6, 18)}
    for ws in wb.worksheets:
        for i, w in enumerate(widths[ws.title]):
            ws.column_dimensions[chr(65 + i)].width = w
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return write_bytes_atomic(out, buf.getvalue())


def render_html(result: AuditResult) -> str:
    """Readable scorecards: the ranking and defect counts first, then one card per report."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from toolkit.formats import _templates_dir

    env = Environment(loader=FileSystemLoader(str(_templates_dir() / "audit")),
                      autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("audit.html.j2").render(result=result, ranking=result.ranking(),
                                                    defects=result.defect_counts(), place=place,
                                                    severity=SEVERITY, name=_name, basename=lambda p: Path(p).name)


def write_html(result: AuditResult, out: str | Path) -> Path:
    return write_text_atomic(out, render_html(result))


__all__ = ["console_lines", "render_html", "write_html", "write_xlsx"]
