"""The report as a Word document: real tables with the official merged cells, 仿宋/宋体, A4.

Made from the same context as the HTML. The look (fonts, sizes, margins, column widths, from
``templates/report/docx.yaml``) is built once with python-docx (toolkit.render.docx_look); each
report's body is written here as the WordprocessingML python-docx would make for it.
"""

from __future__ import annotations

import re
from typing import Any

from docx.shared import Cm, Pt

from toolkit.ooxml import NOT_XML_CHAR
from toolkit.render.docx_look import (STYLE_BODY, STYLE_H1, STYLE_H2, STYLE_TABLE, STYLE_TABLE_GRID,
                                      STYLE_TITLE, look)

# lxml refuses what XML text cannot hold (python-docx's elements are lxml's), with this message
_NOT_XML_MESSAGE = "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters"
_CORE_LIMIT = 255  # python-docx's limit on a core property
_RUN_BREAKS = re.compile("([\t\r\n])")
_SPACER_AFTER = Pt(6).twips  # the space after the paragraph that follows a table


def render_docx(ctx: dict[str, Any], settings: dict[str, Any]) -> bytes:
    """The Word document (.docx bytes) for a report context (see toolkit.render.context)."""
    draft = bool(ctx["draft"])
    the_look = look(settings, draft)
    body = _body(ctx, settings, the_look.style_ids)
    values = {"title": _core_text(ctx["title"]), "author": _core_text(ctx["unit"]),
              "comments": _core_text(ctx["draft_mark"] if draft else ""), "body": body}
    if draft:
        values["mark"] = _run(ctx["draft_mark"])
    for value in values.values():
        if NOT_XML_CHAR.search(value):
            raise ValueError(_NOT_XML_MESSAGE)
    return the_look.package.fill(values)


def _body(ctx: dict[str, Any], settings: dict[str, Any], ids: dict[str, str | None]) -> str:
    """The paragraphs and tables of the body, in order."""
    out: list[str] = []
    lines = _title_lines(ctx, settings)
    out.append(_paragraph(ids[STYLE_TITLE], "".join(_run(line, brk=i < len(lines) - 1)
                                                    for i, line in enumerate(lines))))
    out += [_text_paragraph(ids[STYLE_BODY], text) for text in ctx["intro"]]
    page = settings["page"]
    usable_cm = page["width_cm"] - page["left_cm"] - page["right_cm"]
    for section in ctx["sections"]:
        out.append(_text_paragraph(ids[STYLE_H1], section["label"]))
        for part in section["parts"]:
            if part["heading"] and part["paragraphs"]:
                out.append(_text_paragraph(ids[STYLE_H2], part["label"]))
            out += [_text_paragraph(ids[STYLE_BODY], text) for text in part["paragraphs"]]
        if section["table"]:
            out.append(_table(section["table"], settings, usable_cm, ids))
            out.append(_paragraph(ids[STYLE_TABLE], "", f'<w:spacing w:after="{_SPACER_AFTER}"/>'))
    return "".join(out)


def _title_lines(ctx: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    """The title as printed: with ``title_break_after_unit`` the unit on a line of its own and
    ``2025年政府信息公开工作年度报告`` on the next, so that a line never breaks inside a word."""
    title, unit = ctx["title"], ctx.get("unit") or ""
    if settings.get("title_break_after_unit", True) and unit and title.startswith(unit) and title != unit:
        return [unit, title[len(unit):]]
    return [title]


# ---------------------------------------------------------------- text


def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _core_text(value: Any) -> str:
    """A core property's text as python-docx sets it (str of anything, at most 255 characters)."""
    value = value if isinstance(value, str) else str(value)
    if len(value) > _CORE_LIMIT:
        raise ValueError(f"exceeded 255 char limit for property, got:\n\n'{value}'")
    return _escape(value).replace("\r", "&#13;")


def _t(text: str) -> str:
    space = ' xml:space="preserve"' if len(text.strip()) < len(text) else ""
    return f"<w:t{space}>{_escape(text)}</w:t>"


def _run(text: str, rpr: str = "", brk: bool = False) -> str:
    """A run of ``text`` as python-docx writes ``run.text = text``: a tab is a w:tab, a line
    break (\\r or \\n) a w:br, the rest w:t; ``brk`` ends it with a line break."""
    if "\t" in text or "\r" in text or "\n" in text:
        content = "".join("<w:tab/>" if piece == "\t" else "<w:br/>" if piece in "\r\n" else _t(piece)
                          for piece in _RUN_BREAKS.split(text) if piece)
    else:
        content = _t(text) if text else ""
    if brk:
        content += "<w:br/>"
    inner = rpr + content
    return f"<w:r>{inner}</w:r>" if inner else "<w:r/>"


def _paragraph(style_id: str | None, runs: str, ppr: str = "") -> str:
    """A paragraph of ``style_id`` (None: the default style, still with an empty w:pPr) with
    the properties ``ppr`` after its style."""
    if style_id is not None:
        ppr = f'<w:pStyle w:val="{style_id}"/>{ppr}'
    return f"<w:p><w:pPr>{ppr}</w:pPr>{runs}</w:p>" if ppr else f"<w:p><w:pPr/>{runs}</w:p>"


def _text_paragraph(style_id: str | None, text: str) -> str:
    """``doc.add_paragraph(text)`` of ``style_id``: one run, none for no text."""
    return _paragraph(style_id, _run(text) if text else "")


# ---------------------------------------------------------------- tables


def _column_widths(t: dict[str, Any], settings: dict[str, Any], usable_cm: float) -> list[float]:
    conf = (settings.get("tables") or {}).get(t["id"], {}) or {}
    n_labels, n_cols = t["label_cols"], t["n_cols"]
    labels = [float(x) for x in conf.get("label_cm", [])][:n_labels]
    if len(labels) < n_labels:
        rest = usable_cm * 0.4 - sum(labels)
        labels += [rest / (n_labels - len(labels))] * (n_labels - len(labels))
    n_values = n_cols - n_labels
    value = (usable_cm - sum(labels)) / n_values if n_values else 0
    return labels + [value] * n_values


_TABLE_PROPERTIES = ('<w:tblW w:type="auto" w:w="0"/><w:jc w:val="center"/><w:tblLayout w:type="fixed"/>'
                     '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" w:noHBand="0"'
                     ' w:noVBand="1" w:val="04A0"/>')


def _table(t: dict[str, Any], settings: dict[str, Any], usable_cm: float, ids: dict[str, str | None]) -> str:
    """A real Word table, centred, fixed layout; merged cells as Word writes them (w:gridSpan
    across, w:vMerge down); header rows repeat on each page and no row breaks across pages."""
    widths = _column_widths(t, settings, usable_cm)
    grid_style = ids[STYLE_TABLE_GRID]
    out = ["<w:tbl><w:tblPr>", f'<w:tblStyle w:val="{grid_style}"/>' if grid_style is not None else "",
           _TABLE_PROPERTIES, "</w:tblPr><w:tblGrid>"]
    out += [f'<w:gridCol w:w="{Cm(w).twips}"/>' for w in widths]
    out.append("</w:tblGrid>")
    conf = (settings.get("tables") or {}).get(t["id"], {}) or {}
    keep_together = bool(conf.get("keep_together"))
    vertical_cols = set(conf.get("vertical_cols") or ())
    heading_rows = {c["row"] for row in t["rows"] for c in row if c["role"] in ("caption", "corner", "column")}
    twips: dict[tuple[int, int], int] = {}  # (first column, columns spanned) -> width
    slots: dict[tuple[int, int], str] = {}  # (row, col) -> w:tc, for the cells not covered by a merge
    for grid_row in t["rows"]:
        for c in grid_row:
            r0, c0, rs, cs = c["row"], c["col"], c["rowspan"], c["colspan"]
            vertical = c0 in vertical_cols and c["role"] == "row" and rs > 1  # upright, top to bottom
            if (c0, cs) not in twips:
                twips[(c0, cs)] = Cm(sum(widths[c0:c0 + cs])).twips
            props = (f'<w:tcW w:type="dxa" w:w="{twips[(c0, cs)]}"/>'
                     + (f'<w:gridSpan w:val="{cs}"/>' if cs > 1 else ""))
            after = ('<w:textDirection w:val="tbRl"/>' if vertical else "") + '<w:vAlign w:val="center"/>'
            left = '<w:jc w:val="left"/>' if c["role"] in ("row", "caption") and not vertical else ""
            text = _run(c["text"] or "", "<w:rPr><w:b/></w:rPr>" if c["role"] == "caption" else "")
            for i in range(rs):
                merge = ("" if rs == 1 else '<w:vMerge w:val="restart"/>' if i == 0
                         else "<w:vMerge/>")  # "continue" is the default value: left out, as python-docx does
                keep = r0 + i in heading_rows or (keep_together and r0 + i < t["n_rows"] - 1)
                paragraph = _paragraph(ids[STYLE_TABLE], text if i == 0 else "",
                                       ("<w:keepNext/>" if keep else "") + (left if i == 0 else ""))
                slots[(r0 + i, c0)] = f"<w:tc><w:tcPr>{props}{merge}{after}</w:tcPr>{paragraph}</w:tc>"
    for r in range(t["n_rows"]):
        out.append("<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>" if r < t["head_rows"]
                   else "<w:tr><w:trPr><w:cantSplit/></w:trPr>")
        out += [slots[(r, col)] for col in range(t["n_cols"]) if (r, col) in slots]
        out.append("</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)
