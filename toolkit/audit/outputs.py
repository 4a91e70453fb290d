"""The audit's outputs: console lines (Chinese), xlsx (scorecard, ranking, defect counts), HTML."""

from __future__ import annotations

from pathlib import Path

from toolkit.audit.run import AuditResult, AuditedReport
from toolkit.files import write_text_atomic
from toolkit.model import ERROR, WARNING, Finding
from toolkit.output_labels import severity_label



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
                lines.append(f"  [{severity_label(f.severity)}] {rule.spec.title}｜{place(f) or '—'}｜{f.message}")
        for f in rep.other:
            lines.append(f"  [{severity_label(f.severity)}] 其他｜{place(f) or '—'}｜{f.message}")
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
    """Three list sheets (columns in templates/looks.yaml): 评分表 (every rule of every report),
    排名, 常见问题; written atomically."""
    import xlsxwriter

    from toolkit.files import atomic_path
    from toolkit.workbook.lists import list_columns, list_styles, write_list

    with atomic_path(out) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
        styles = list_styles(wb)
        rows, cell_styles = [], {}
        for rep in result.reports:
            base = {"file": Path(rep.path).name, "unit": rep.unit, "year": rep.year}
            for rule in rep.results:
                spec = {"group": rule.spec.group, "rule": rule.spec.title, "weight": rule.spec.weight}
                if rule.passed:
                    cell_styles[(len(rows), "result")] = styles["ok"]
                    rows.append({**base, **spec, "result": "通过"})
                for f in rule.findings:
                    cell_styles[(len(rows), "result")] = styles[f.severity]
                    rows.append({**base, **spec, "result": severity_label(f.severity), "place": place(f),
                                 "message": f.message, "code": f.code})
            for f in rep.other:
                cell_styles[(len(rows), "result")] = styles[f.severity]
                rows.append({**base, "group": "其他", "weight": 0, "result": severity_label(f.severity),
                             "place": place(f), "message": f.message, "code": f.code})
        write_list(wb.add_worksheet("评分表"), list_columns("audit_card_sheet"), rows, styles, cell_styles)
        ranking = [{"n": n, "unit": rep.unit, "year": rep.year, "score": rep.score, "errors": rep.errors,
                    "failed": "、".join(r.spec.title for r in rep.results if not r.passed),
                    "file": Path(rep.path).name} for n, rep in enumerate(result.ranking(), 1)]
        write_list(wb.add_worksheet("排名"), list_columns("audit_ranking_sheet"), ranking, styles)
        audited = len(result.ranking()) or 1
        defects = [{"rule": spec.title, "group": spec.group, "weight": spec.weight, "reports": n,
                    "share": f"{100 * n / audited:.0f}%"} for spec, n in result.defect_counts()]
        write_list(wb.add_worksheet("常见问题"), list_columns("audit_defects_sheet"), defects, styles)
        wb.close()
    return Path(out)


def render_html(result: AuditResult) -> str:
    """Readable scorecards: the ranking and defect counts first, then one card per report."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from toolkit.formats import _templates_dir

    env = Environment(loader=FileSystemLoader(str(_templates_dir() / "audit")),
                      autoescape=select_autoescape(["html", "j2"]))
    words = {s: severity_label(s) for s in (ERROR, WARNING)}
    return env.get_template("audit.html.j2").render(result=result, ranking=result.ranking(),
                                                    defects=result.defect_counts(), place=place, severity=words,
                                                    name=_name, basename=lambda p: Path(p).name)


def write_html(result: AuditResult, out: str | Path) -> Path:
    return write_text_atomic(out, render_html(result))


__all__ = ["console_lines", "render_html", "write_html", "write_xlsx"]
