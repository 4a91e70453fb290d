"""The comparison as a web page: the official grids (toolkit/grid.py) with this year's values,
the changed cells marked and last year's value under each; the findings and the carried-over
sentences. Words in templates/compare/compare.yaml, looks in report.css and compare.css."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from toolkit.compare.core import Comparison, compare_template
from toolkit.formats import TEMPLATES_DIR
from toolkit.grid import VALUE
from toolkit.model import ERROR, WARNING, format_decimal
from toolkit.output_labels import severity_label

COMPARE_DIR = TEMPLATES_DIR / "compare"


def title(comparison: Comparison) -> str:
    return compare_template()["texts"]["title"].format(
        unit=comparison.this.unit or "", last_year=comparison.last.year or "", this_year=comparison.this.year or "")


def comparison_grids(comparison: Comparison) -> list[dict[str, Any]]:
    """Each table as the drafts draw it (toolkit.render.context.table_context, this year's values);
    value cells also carry last year's text (when it differs), CSS classes and a tooltip."""
    from toolkit.render.context import table_context

    changes = {c.cell_id: c for c in comparison.cells}
    places = {(f.sheet, f.cell) for f in comparison.findings if f.code != "change-flagged"}
    out = []
    for table in comparison.fmt.tables:
        context = table_context(comparison.fmt, table.id, comparison.this.values)
        for item in (c for row in context["rows"] for c in row):
            item.update(last=None, classes="", tip="")
            change = changes.get(item["cell_id"]) if item["role"] == VALUE else None
            if change is None:
                continue
            classes = []
            if change.changed:
                classes.append("nb-flagged" if change.flag else "nb-changed")
                item["last"] = "—" if change.last is None else format_decimal(change.last)
            if (change.sheet, change.a1) in places:
                classes.append("nb-finding")
            item["classes"] = " ".join(classes)
            item["tip"] = change.label + (f"：{change.flag.label}" if change.flag else "")
        out.append({"id": table.id, "title": table.caption or table.sheet, "rows": context["rows"]})
    return out


def comparison_html(comparison: Comparison) -> str:
    """The whole page, one self-contained HTML document."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(COMPARE_DIR), encoding="utf-8"),
                             autoescape=True, keep_trailing_newline=True)
    css = (TEMPLATES_DIR / "report" / "report.css").read_text(encoding="utf-8")
    css += "\n" + (COMPARE_DIR / "compare.css").read_text(encoding="utf-8")
    carried: dict[str, list[str]] = {}
    for sentence in comparison.carried:
        carried.setdefault(sentence.label, []).append(sentence.sentence)
    return env.get_template("compare.html.j2").render(
        title=title(comparison), css=css, texts=compare_template()["texts"],
        severity={s: severity_label(s) for s in (ERROR, WARNING)}, findings=comparison.findings,
        tables=comparison_grids(comparison), carried=list(carried.items()))


def write_html(comparison: Comparison, target: str | Path) -> Path:
    from toolkit.files import write_text_atomic

    return write_text_atomic(target, comparison_html(comparison))
