"""The one context every renderer uses: ReportData + Format + the official table grids.

Templates (``templates/report/``, or a county's own ``--template-dir``) run in Jinja's sandbox
with undefined variables as errors. The narrative defaults (``defaults.yaml``) are Jinja snippets
too, rendered with the same helpers, so a blank part of the report still states the facts of
its own tables.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml
from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
from jinja2.exceptions import SecurityError, TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from toolkit.formats import TEMPLATES_DIR, Format, load_format, load_yaml
from toolkit.grid import CAPTION, COLUMN, CORNER, ROW, VALUE, Grid, table_grid
from toolkit.model import ReportData, format_decimal

REPORT_TEMPLATES = TEMPLATES_DIR / "report"
DEFAULTS_FILE = "defaults.yaml"
DOCX_FILE = "docx.yaml"


class RenderError(Exception):
    """A report cannot be rendered (a broken template, an unknown format); message in Chinese."""


# ---------------------------------------------------------------- numbers


def num(value: Any) -> str:
    """A number as printed in the report: Decimal without float noise, blank for None."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, float):
        return format_decimal(Decimal(repr(value)))
    return str(value)


# ---------------------------------------------------------------- templates


@dataclass
class TemplateSet:
    """The report templates: the built-in ones, overridden file by file by ``template_dir``."""

    template_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.template_dir is not None:
            self.template_dir = Path(self.template_dir)
            if not self.template_dir.is_dir():
                raise RenderError(f"模板目录不存在：{self.template_dir}")
        self._envs: dict[bool, SandboxedEnvironment] = {}
        self._settings: dict[str, dict[str, Any]] = {}
        self._snippets: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:  # to a worker process: the folder, not the compiled templates
        return {"template_dir": self.template_dir}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.template_dir = state["template_dir"]
        self.__post_init__()

    def environment(self, html: bool) -> SandboxedEnvironment:
        """The sandboxed environment; autoescaped for HTML."""
        if html not in self._envs:
            loaders = [FileSystemLoader(str(self.template_dir))] if self.template_dir else []
            loaders.append(FileSystemLoader(str(REPORT_TEMPLATES)))
            env = SandboxedEnvironment(
                loader=ChoiceLoader(loaders),
                undefined=StrictUndefined,
                autoescape=html,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
            )
            env.filters["num"] = num
            env.filters["md"] = md_escape
            env.filters["md_cell"] = md_cell
            self._envs[html] = env
        return self._envs[html]

    def render(self, name: str, context: dict[str, Any], *, html: bool) -> str:
        """Render template ``name``; template problems become a :class:`RenderError`."""
        with template_errors(name):
            return self.environment(html).get_template(name).render(context)

    def render_string(self, source: str, context: dict[str, Any], *, where: str) -> str:
        """Render a snippet (the default texts); compiled once per template set."""
        with template_errors(where):
            if source not in self._snippets:
                self._snippets[source] = self.environment(False).from_string(source)
            return self._snippets[source].render(context)

    def settings(self, name: str) -> dict[str, Any]:
        """A YAML settings file (``defaults.yaml``, ``docx.yaml``): the built-in one, with the
        user's keys laid over it (mappings merged key by key)."""
        if name not in self._settings:
            data = _load_yaml(REPORT_TEMPLATES / name)
            if self.template_dir is not None and (self.template_dir / name).is_file():
                data = _merge(data, _load_yaml(self.template_dir / name))
            self._settings[name] = data
        return self._settings[name]


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = load_yaml(path) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RenderError(f"无法读取模板设置文件 {path}：{exc}") from None
    if not isinstance(data, dict):
        raise RenderError(f"模板设置文件 {path} 的内容应为键值对")
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@contextlib.contextmanager
def template_errors(where: str) -> Iterator[None]:
    """Turn whatever a template raises into a RenderError with a Chinese message naming it."""
    try:
        yield
    except RenderError:
        raise
    except SecurityError as exc:
        raise RenderError(f"模板 {where} 试图访问不允许的 Python 内部对象，已被安全沙箱拦截：{exc}") from None
    except TemplateSyntaxError as exc:
        name = exc.filename or exc.name or where
        raise RenderError(f"模板 {name} 第{exc.lineno}行语法错误：{exc.message}") from None
    except TemplateNotFound as exc:
        raise RenderError(f"找不到模板文件：{exc.name}") from None
    except UndefinedError as exc:
        raise RenderError(f"模板 {where} 使用了未定义的变量或属性：{exc.message}") from None
    except Exception as exc:  # a user's template may raise anything (KeyError, TypeError ...)
        raise RenderError(f"模板 {where} 出错：{exc}") from None


# ---------------------------------------------------------------- markdown escaping

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&])")
_MD_LINE_START = re.compile(r"^(\s*)(?:([#>+\-=])|(\d+)([.)]))")


def _escape_line_start(m: re.Match) -> str:
    if m.group(2):
        return f"{m.group(1)}\\{m.group(2)}"
    return f"{m.group(1)}{m.group(3)}\\{m.group(4)}"


def md_escape(text: Any) -> str:
    """Escape a paragraph for Markdown so that user text stays plain text."""
    s = _MD_SPECIAL.sub(r"\\\1", str(text))
    return _MD_LINE_START.sub(_escape_line_start, s)


def md_cell(text: Any) -> str:
    """Escape a table cell for a Markdown pipe table."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


# ---------------------------------------------------------------- tables


def table_context(fmt: Format, table_id: str, values: dict[str, Decimal | None]) -> dict[str, Any]:
    """One official table as the drafts draw it: its grid rows of cells (role, text, spans,
    cell_id), value cells holding ``values`` as printed; the portal and compare pages mark these."""
    grid = table_grid(fmt, table_id)
    table = grid.table
    kinds = {c.id: c.kind.id for c in table.cells}
    rows: list[list[dict[str, Any]]] = []
    matrix = [[""] * grid.n_cols for _ in range(grid.n_rows)]
    for grid_row in grid.rows():
        out_row = []
        for gc in grid_row:
            text = num(values.get(gc.cell_id)) if gc.role == VALUE else gc.text
            out_row.append({
                "role": gc.role, "text": text, "row": gc.row, "col": gc.col,
                "rowspan": gc.rowspan, "colspan": gc.colspan, "cell_id": gc.cell_id,
                "kind": kinds.get(gc.cell_id), "block": gc.block,
            })
            matrix[gc.row][gc.col] = text
        rows.append(out_row)
    return {
        "id": table.id,
        "number": table.number,
        "caption": table.caption,
        "n_rows": grid.n_rows,
        "n_cols": grid.n_cols,
        "head_rows": _head_rows(grid),
        "label_cols": max((b.row_depth for b in table.blocks), default=0),
        "col_widths": _col_widths(grid.n_cols, max((b.row_depth for b in table.blocks), default=0)),
        "rows": rows,
        "matrix": matrix,
        "blocks": _flat_blocks(grid, values),
    }


def _col_widths(n_cols: int, label_cols: int) -> list[float]:
    """Column widths in percent: the row-label columns take about a quarter (one column) or two
    fifths (nested labels) of the width, the innermost label column most of it; number columns
    share the rest equally."""
    if not label_cols:
        return [round(100 / n_cols, 2)] * n_cols
    share = 28.0 if label_cols == 1 else 44.0
    weights = [1.0] * (label_cols - 1) + [3.0]
    if label_cols > 1:
        weights[1:-1] = [1.4] * (label_cols - 2)
    labels = [share * w / sum(weights) for w in weights]
    values = [(100 - share) / (n_cols - label_cols)] * (n_cols - label_cols)
    return [round(w, 2) for w in labels + values]


def _head_rows(grid: Grid) -> int:
    """Leading grid rows holding only the corner and column headers (a table's repeatable head);
    0 for tables made of several captioned blocks (表二)."""
    n = 0
    for r in range(grid.n_rows):
        roles = {cell.role for cell in (grid.at(r, c) for c in range(grid.n_cols)) if cell}
        if not roles <= {CORNER, COLUMN}:
            break
        n += 1
    return n


def _flat_blocks(grid: Grid, values: dict[str, Decimal | None]) -> list[dict[str, Any]]:
    """Each block as a plain table (for Markdown): header texts join the column labels above a
    value, row labels join the row labels left of it, with " / "."""
    blocks: dict[str, dict[str, Any]] = {}
    for gc in grid.cells:
        b = blocks.setdefault(gc.block, {"caption": None, "corner": None, "cells": []})
        if gc.role == CAPTION:
            b["caption"] = gc.text
        elif gc.role == CORNER:
            b["corner"] = gc.text
        elif gc.role == VALUE:
            b["cells"].append(gc)
    out = []
    for block_id, b in blocks.items():
        value_cells = sorted(b["cells"], key=lambda c: (c.row, c.col))
        cols = sorted({c.col for c in value_cells})
        rows = sorted({c.row for c in value_cells})
        header_top = min(c.row for c in grid.cells if c.block == block_id and c.role in (COLUMN, CORNER))
        has_labels = any(c.role == ROW for c in grid.cells if c.block == block_id)

        def col_label(col: int) -> str:
            seen, parts = set(), []
            for r in range(header_top, rows[0]):
                gc = grid.at(r, col)
                if gc and gc.role == COLUMN and id(gc) not in seen:
                    seen.add(id(gc))
                    parts.append(gc.text)
            return " / ".join(parts)

        def row_label(row: int) -> str:
            seen, parts = set(), []
            for c in range(cols[0]):
                gc = grid.at(row, c)
                if gc and gc.role == ROW and id(gc) not in seen:
                    seen.add(id(gc))
                    parts.append(gc.text)
            return " / ".join(parts)

        by_pos = {(c.row, c.col): c for c in value_cells}
        header = ([b["corner"] or ""] if has_labels else []) + [col_label(c) for c in cols]
        body = []
        for r in rows:
            cells = [num(values.get(by_pos[(r, c)].cell_id)) for c in cols]
            body.append(([row_label(r)] if has_labels else []) + cells)
        out.append({"id": block_id, "caption": b["caption"], "header": header, "rows": body,
                    "cell_ids": [[by_pos[(r, c)].cell_id for c in cols] for r in rows]})
    return out


# ---------------------------------------------------------------- narrative


def _paragraphs_from_user(text: str) -> list[str]:
    """User text (a 文字部分 cell): every line break starts a new paragraph."""
    lines = (line.strip(" \t\u3000\u00a0").replace("\t", " ")
             for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return [line for line in lines if line]


def _paragraphs_from_template(text: str) -> list[str]:
    """Template text: a blank line separates paragraphs; single line breaks are joined."""
    out = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        joined = "".join(line.strip() for line in block.split("\n"))
        if joined:
            out.append(joined)
    return out


def _zero(values: dict[str, Decimal | None]) -> dict[str, Decimal]:
    return {k: (Decimal(0) if v is None else v) for k, v in values.items()}


def _helpers(fmt: Format, val: dict[str, Decimal]) -> dict[str, Any]:
    def v(cell_id: str) -> Decimal:
        """The value of a cell (0 when blank)."""
        if cell_id not in fmt.cells:
            raise KeyError(f"格式 {fmt.id} 没有单元格 {cell_id}")
        return val[cell_id]

    def n(cell_id: str) -> str:
        """The value of a cell as printed (0 when blank)."""
        return num(v(cell_id))

    def sum_of(table_id: str, row_id: str, column_id: str) -> Decimal:
        """Sum over every cell of a table whose row is, or lies under, row ``row_id`` and whose
        column is, or lies under, column ``column_id`` (e.g. ``sum_of('t3', 'withheld', 'total')``,
        ``sum_of('t3', 'new', 'orgs')``)."""
        table = fmt.table(table_id)
        rows = _leaf_ids(table, row_id, "rows")
        cols = _leaf_ids(table, column_id, "columns")
        return sum((val[c.id] for c in table.cells if c.row.id in rows and c.column.id in cols), Decimal(0))

    def counts(pairs: Iterable[Any], unit: str = "件", sep: str = "，") -> str:
        """"予以公开5件，部分公开2件": the non-zero items of (label, number) pairs."""
        return sep.join(f"{label}{num(value)}{unit}" for label, value in pairs if value)

    def has(cell_id: str) -> bool:
        return cell_id in fmt.cells

    return {"v": v, "n": n, "sum_of": sum_of, "counts": counts, "has": has}


def _leaf_ids(table: Any, node_id: str, which: str) -> set[str]:
    for block in table.blocks:
        for top in getattr(block, which):
            for node in top.walk():
                if node.id == node_id:
                    return {leaf.id for leaf in node.leaves()}
    raise KeyError(f"{table.number} 没有 {node_id}")


def _fill_blank_totals(fmt: Format, values: dict[str, Decimal | None]) -> dict[str, Decimal | None]:
    """A blank total (a formula the reader could not evaluate) is printed as the sum it stands
    for, when any of the cells it adds up was filled in; typed totals are printed as typed."""
    from toolkit.checks.figures import recompute

    computed: dict[str, Decimal] | None = None
    out = dict(values)

    def inputs(cell_id: str) -> Iterable[str]:
        inst = fmt.total_rule(cell_id)
        if inst is None:
            yield cell_id
            return
        for term in inst.right:
            yield from inputs(term.cell)

    for cell in fmt.total_cells:
        if out[cell.id] is None and any(values.get(i) is not None for i in inputs(cell.id)):
            computed = computed if computed is not None else recompute(fmt, values)
            out[cell.id] = computed[cell.id]
    return out


def build_context(data: ReportData, *, templates: TemplateSet | None = None, draft: bool = False,
                  fmt: Format | None = None) -> dict[str, Any]:
    """The template context for ``data``: title, sections with narrative paragraphs (the user's,
    or the data-driven default), and the official tables (grid rows with spans, a cell matrix
    and flattened blocks)."""
    templates = templates or TemplateSet()
    if fmt is None:
        try:
            fmt = load_format(str(data.format))
        except Exception as exc:  # FormatError: an unknown format id in the data
            raise RenderError(str(exc)) from None
    settings = templates.settings(DEFAULTS_FILE)
    values = _fill_blank_totals(fmt, {cid: data.values.get(cid) for cid in fmt.cells})
    val = _zero(values)
    unit = (data.unit or "").strip()
    year = data.year
    base: dict[str, Any] = {
        "unit": unit or settings.get("missing_unit", "（单位名称）"),
        "year": year if year is not None else settings.get("missing_year", "（年度）"),
        "format": {"id": fmt.id, "name": fmt.name, "document": fmt.document},
        "val": val,
        "values": values,
        "num_of": {cid: num(v) for cid, v in values.items()},
        **_helpers(fmt, val),
    }
    base["title"] = fmt.title.format(unit=base["unit"], year=base["year"])
    intro = templates.render_string(str(settings.get("intro", "")), base, where=f"{DEFAULTS_FILE} intro")
    part_settings = settings.get("parts", {}) or {}
    sections = []
    defaults_used = []
    for section in fmt.sections:
        parts = []
        for part in section.parts:
            conf = part_settings.get(part.id, {}) or {}
            user_text = (data.narrative or {}).get(part.id) or ""
            paragraphs = _paragraphs_from_user(str(user_text))
            is_default = not paragraphs
            if is_default:
                source = conf.get("text", "")
                if isinstance(source, dict):
                    source = source.get(fmt.id, source.get("default", ""))
                paragraphs = _paragraphs_from_template(
                    templates.render_string(str(source or ""), base, where=f"{DEFAULTS_FILE} {part.id}"))
                if paragraphs:
                    defaults_used.append(part.id)
            parts.append({"id": part.id, "label": part.label, "heading": bool(conf.get("heading", False)),
                          "paragraphs": paragraphs, "is_default": is_default})
        table = table_context(fmt, section.table, values) if section.table else None
        sections.append({"id": section.id, "label": section.label, "parts": parts, "table": table})
    return {
        **base,
        "draft": draft,
        "draft_mark": settings.get("draft_mark", "草稿（未通过校验）"),
        "intro": _paragraphs_from_template(intro),
        "sections": sections,
        "tables": {s["table"]["id"]: s["table"] for s in sections if s["table"]},
        "defaults_used": defaults_used,
    }
