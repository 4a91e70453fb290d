"""The report as a Word document: real tables with the official merged cells, 仿宋/宋体, A4.

Built with python-docx from the same context as the HTML; the look (fonts, sizes, margins,
column widths) comes from ``templates/report/docx.yaml``.
"""

from __future__ import annotations

import copy
import io
import json
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_ALIGN_VERTICAL, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
STYLE_TITLE, STYLE_H1, STYLE_H2, STYLE_BODY = "Title", "Heading 1", "Heading 2", "Normal"
STYLE_TABLE, STYLE_DRAFT, STYLE_FOOTER = "NB Table", "NB Draft", "Footer"


def render_docx(ctx: dict[str, Any], settings: dict[str, Any]) -> bytes:
    """The Word document (.docx bytes) for a report context (see toolkit.render.context)."""
    doc, style_ids = _blank_document(settings)
    props = doc.core_properties
    props.title = ctx["title"]
    props.subject = "政府信息公开工作年度报告"
    props.author = ctx["unit"]
    props.language = "zh-CN"
    props.keywords = "政府信息公开;年度报告"
    props.comments = ctx["draft_mark"] if ctx["draft"] else ""

    add = _paragraphs(doc, style_ids)
    if ctx["draft"]:
        _draft_header(doc, ctx["draft_mark"], style_ids)
    title = add("", STYLE_TITLE)
    lines = _title_lines(ctx, settings)
    for i, line in enumerate(lines):
        run = title.add_run(line)
        if i < len(lines) - 1:
            run.add_break()
    for text in ctx["intro"]:
        add(text, STYLE_BODY)
    usable_cm = (settings["page"]["width_cm"] - settings["page"]["left_cm"] - settings["page"]["right_cm"])
    for section in ctx["sections"]:
        add(section["label"], STYLE_H1)
        for part in section["parts"]:
            if part["heading"] and part["paragraphs"]:
                add(part["label"], STYLE_H2)
            for text in part["paragraphs"]:
                add(text, STYLE_BODY)
        if section["table"]:
            _table(doc, section["table"], settings, usable_cm, style_ids)
            spacer = add("", STYLE_TABLE)
            spacer.paragraph_format.space_after = Pt(6)
    _footer(doc, settings, style_ids)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


_BLANKS: dict[str, tuple[Any, dict[str, str | None]]] = {}
_STYLE_TABLE_GRID = "Table Grid"


def _blank_document(settings: dict[str, Any]) -> tuple[Any, dict[str, str | None]]:
    """A new document with the page, styles and font table of ``settings``, and the style ids
    of the styles the report uses (None: the default style): a copy of one built once per look
    (building it parses python-docx's template and sets every style, and python-docx looks a
    style up by scanning all of them, a third of a report's time)."""
    from docx.enum.style import WD_STYLE_TYPE

    key = json.dumps(settings, sort_keys=True, ensure_ascii=False, default=str)
    if key not in _BLANKS:
        blank = Document()
        _page(blank, settings)
        _styles(blank, settings)
        _font_table(blank, settings)
        ids = {name: blank.part.get_style_id(blank.styles[name], WD_STYLE_TYPE.PARAGRAPH)
               for name in (STYLE_TITLE, STYLE_H1, STYLE_H2, STYLE_BODY, STYLE_TABLE, STYLE_DRAFT, STYLE_FOOTER)}
        ids[_STYLE_TABLE_GRID] = blank.part.get_style_id(blank.styles[_STYLE_TABLE_GRID], WD_STYLE_TYPE.TABLE)
        _freeze_parts(blank)
        if len(_BLANKS) >= 8:
            _BLANKS.clear()
        _BLANKS[key] = (blank, ids)
    blank, ids = _BLANKS[key]
    return copy.deepcopy(blank), ids


def _freeze_parts(doc: Any) -> None:
    """Turn the parts of the document part a report never changes (styles, settings, numbering)
    into parts holding their serialized bytes, so that copying the document and saving it do not
    copy and serialize their XML each time. The document part itself and the core properties
    stay live; headers and footers are added to the copy."""
    from docx.opc.part import Part, XmlPart

    for rel in doc.part.rels.values():
        if not rel.is_external and isinstance(rel.target_part, XmlPart):
            part = rel.target_part
            rel._target = Part(part.partname, part.content_type, part.blob, part.package)


def _title_lines(ctx: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    """The title as printed: with ``title_break_after_unit`` the unit on a line of its own and
    ``2025年政府信息公开工作年度报告`` on the next, so that a line never breaks inside a word."""
    title, unit = ctx["title"], ctx.get("unit") or ""
    if settings.get("title_break_after_unit", True) and unit and title.startswith(unit) and title != unit:
        return [unit, title[len(unit):]]
    return [title]


def _draft_header(doc: Any, mark: str, style_ids: dict[str, str | None]) -> None:
    """The draft mark in the page header, so that it shows on every page (a loose page too)."""
    paragraph = doc.sections[0].header.paragraphs[0]
    paragraph._p.style = style_ids[STYLE_DRAFT]
    paragraph.add_run(mark)


def _paragraphs(doc: Any, style_ids: dict[str, str | None]) -> Any:
    """``add(text, style_name)``: ``doc.add_paragraph(text, style=style_name)`` with the style
    ids found once (python-docx looks the style, and the default style, up for every paragraph)."""

    def add(text: str, style: str) -> Any:
        paragraph = doc.add_paragraph(text)
        paragraph._p.style = style_ids[style]  # None (the default style) still makes an empty w:pPr, as before
        return paragraph

    return add


# ---------------------------------------------------------------- page and styles


def _page(doc: Any, settings: dict[str, Any]) -> None:
    page = settings["page"]
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(page["width_cm"]), Cm(page["height_cm"])
    section.top_margin, section.bottom_margin = Cm(page["top_cm"]), Cm(page["bottom_cm"])
    section.left_margin, section.right_margin = Cm(page["left_cm"]), Cm(page["right_cm"])
    section.footer_distance = Cm(page.get("footer_cm", 2.5))
    section.header_distance = Cm(1.5)


def _set_fonts(rpr: Any, font: dict[str, Any]) -> None:
    """Set the East-Asian and Latin fonts (w:rFonts, no theme fonts), size, bold and colour."""
    for old in rpr.findall(qn("w:rFonts")):
        rpr.remove(old)
    fonts = OxmlElement("w:rFonts")
    latin = font.get("latin") or font["east_asia"]
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:eastAsia"), font["east_asia"])
    fonts.set(qn("w:hint"), "eastAsia")
    rpr.insert(0, fonts)


def _style_font(style: Any, font: dict[str, Any]) -> None:
    style.font.size = Pt(font["size_pt"])
    style.font.bold = bool(font.get("bold", False))
    style.font.italic = False
    style.font.color.rgb = RGBColor.from_string(str(font.get("color", "000000")))
    rpr = style.element.get_or_add_rPr()
    _set_fonts(rpr, font)
    for tag in ("w:spacing", "w:kern", "w:bCs"):
        for old in rpr.findall(qn(tag)):
            rpr.remove(old)
    for size_cs in rpr.findall(qn("w:szCs")):
        size_cs.set(qn("w:val"), str(int(round(font["size_pt"] * 2))))


def _styles(doc: Any, settings: dict[str, Any]) -> None:
    fonts = settings["fonts"]
    styles = doc.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr, fonts["body"])
    lang = rpr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:val"), "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")
    spacing = Pt(settings.get("body_line_spacing_pt", 28))
    indent = Pt(fonts["body"]["size_pt"] * settings.get("first_line_indent_chars", 2))

    body = styles[STYLE_BODY]
    _style_font(body, fonts["body"])
    pf = body.paragraph_format
    pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, spacing
    pf.first_line_indent = indent
    pf.space_before = pf.space_after = Pt(0)
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    pf.widow_control = True

    title = styles[STYLE_TITLE]
    _style_font(title, fonts["title"])
    ppr = title.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    pf = title.paragraph_format
    pf.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pf.first_line_indent = Pt(0)
    pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.AT_LEAST, Pt(fonts["title"]["size_pt"] * 1.5)
    pf.space_before, pf.space_after = Pt(0), Pt(fonts["title"]["size_pt"])
    pf.keep_with_next = True

    for name, font in ((STYLE_H1, fonts["heading"]), (STYLE_H2, fonts["subheading"])):
        style = styles[name]
        _style_font(style, font)
        pf = style.paragraph_format
        pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, spacing
        pf.first_line_indent = indent
        pf.space_before = pf.space_after = Pt(0)
        pf.keep_with_next = True
        pf.alignment = WD_ALIGN_PARAGRAPH.LEFT

    from docx.enum.style import WD_STYLE_TYPE

    table_style = styles.add_style(STYLE_TABLE, WD_STYLE_TYPE.PARAGRAPH)
    table_style.base_style = body
    _style_font(table_style, fonts["table"])
    pf = table_style.paragraph_format
    pf.first_line_indent = Pt(0)
    pf.line_spacing = 1.0
    pf.space_before = pf.space_after = Pt(0)
    pf.alignment = WD_ALIGN_PARAGRAPH.CENTER

    draft = styles.add_style(STYLE_DRAFT, WD_STYLE_TYPE.PARAGRAPH)
    draft.base_style = body
    _style_font(draft, fonts["draft"])
    draft.paragraph_format.first_line_indent = Pt(0)
    draft.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER

    footer = styles[STYLE_FOOTER]
    _style_font(footer, fonts["footer"])
    footer.paragraph_format.first_line_indent = Pt(0)
    footer.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _font_table(doc: Any, settings: dict[str, Any]) -> None:
    """Declare the Chinese fonts in word/fontTable.xml with GB2312 charset and an altName, so
    that Word and WPS substitute a fitting Chinese font where the named one is not installed."""
    part = next((rel.target_part for rel in doc.part.rels.values() if rel.reltype.endswith("/fontTable")), None)
    if part is None or not hasattr(part, "_blob"):
        return
    root = etree.fromstring(part.blob)
    known = {f.get(f"{{{W_NS}}}name") for f in root}
    for font in settings["fonts"].values():
        name = font["east_asia"]
        if name in known:
            continue
        known.add(name)
        el = etree.SubElement(root, f"{{{W_NS}}}font", {f"{{{W_NS}}}name": name})
        if font.get("fallback"):
            etree.SubElement(el, f"{{{W_NS}}}altName", {f"{{{W_NS}}}val": font["fallback"]})
        etree.SubElement(el, f"{{{W_NS}}}charset", {f"{{{W_NS}}}val": "86"})
        etree.SubElement(el, f"{{{W_NS}}}family", {f"{{{W_NS}}}val": "modern" if "黑" in name else "roman"})
        etree.SubElement(el, f"{{{W_NS}}}pitch", {f"{{{W_NS}}}val": "variable"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _footer(doc: Any, settings: dict[str, Any], style_ids: dict[str, str | None]) -> None:
    pattern = settings.get("page_number") or ""
    if "{page}" not in pattern:
        return
    before, _, after = pattern.partition("{page}")
    paragraph = doc.sections[0].footer.paragraphs[0]
    paragraph._p.style = style_ids[STYLE_FOOTER]
    if before:
        paragraph.add_run(before)
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            run._r.append(el)
        elif text.strip() == "PAGE":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
            run._r.append(el)
        else:
            el = OxmlElement("w:t")
            el.text = text
            run._r.append(el)
    if after:
        paragraph.add_run(after)


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


_B = qn("w:b")
_CANT_SPLIT = qn("w:cantSplit")
_GRID_SPAN = qn("w:gridSpan")
_JC = qn("w:jc")
_KEEP_NEXT = qn("w:keepNext")
_P = qn("w:p")
_P_PR = qn("w:pPr")
_P_STYLE = qn("w:pStyle")
_R = qn("w:r")
_R_PR = qn("w:rPr")
_T = qn("w:t")
_TBL_HEADER = qn("w:tblHeader")
_TC = qn("w:tc")
_TC_PR = qn("w:tcPr")
_TC_W = qn("w:tcW")
_TEXT_DIRECTION = qn("w:textDirection")
_TR = qn("w:tr")
_TR_PR = qn("w:trPr")
_TYPE = qn("w:type")
_VAL = qn("w:val")
_V_ALIGN = qn("w:vAlign")
_V_MERGE = qn("w:vMerge")
_W = qn("w:w")
_XML_SPACE = qn("xml:space")
_RUN_BREAKS = frozenset("\t\r\n")


def _run_text(run: Any, text: str) -> None:
    """``run.text = text`` for a new run: one w:t (xml:space="preserve" when the text starts or
    ends with white space), as python-docx makes it, without its character-by-character pass;
    text with tabs or line breaks goes through python-docx."""
    if _RUN_BREAKS.isdisjoint(text):
        t = etree.SubElement(run, _T)
        t.text = text
        if len(text.strip()) < len(text):
            t.set(_XML_SPACE, "preserve")
    else:
        run.text = text


def _table(doc: Any, t: dict[str, Any], settings: dict[str, Any], usable_cm: float,
           style_ids: dict[str, str | None]) -> None:
    """A real Word table; merged cells as Word writes them (w:gridSpan across, w:vMerge down).

    The table and its columns come from python-docx; rows and cells are built directly as the
    elements python-docx would make (its per-cell properties cost most of a report's time)."""
    table = doc._body.add_table(0, t["n_cols"], doc._block_width)  # doc.add_table without its style look-up
    table._tbl.tblStyle_val = style_ids[_STYLE_TABLE_GRID]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = _column_widths(t, settings, usable_cm)
    for i, col in enumerate(table.columns):
        col.width = Cm(widths[i])
    style_id = style_ids[STYLE_TABLE]
    conf = (settings.get("tables") or {}).get(t["id"], {}) or {}
    keep_together = bool(conf.get("keep_together"))
    vertical_cols = set(conf.get("vertical_cols") or ())
    heading_rows = {c["row"] for row in t["rows"] for c in row if c["role"] in ("caption", "corner", "column")}
    tbl = table._tbl
    make = tbl.makeelement  # python-docx's element classes, without OxmlElement's per-call set-up
    slots: dict[tuple[int, int], Any] = {}  # (row, col) -> w:tc, for the cells not covered by a merge
    for grid_row in t["rows"]:
        for c in grid_row:
            r0, c0, rs, cs = c["row"], c["col"], c["rowspan"], c["colspan"]
            width = str(Cm(sum(widths[c0:c0 + cs])).twips)
            for i in range(rs):
                tc = make(_TC)
                tc_pr = etree.SubElement(tc, _TC_PR)
                etree.SubElement(tc_pr, _TC_W, {_TYPE: "dxa", _W: width})
                if cs > 1:
                    etree.SubElement(tc_pr, _GRID_SPAN, {_VAL: str(cs)})
                if rs > 1:  # "continue" is the default value: left out, as python-docx does
                    etree.SubElement(tc_pr, _V_MERGE, {_VAL: "restart"} if i == 0 else {})
                vertical = c["col"] in vertical_cols and c["role"] == "row" and rs > 1
                if vertical:  # a label down a narrow column: upright characters, top to bottom
                    etree.SubElement(tc_pr, _TEXT_DIRECTION, {_VAL: "tbRl"})
                etree.SubElement(tc_pr, _V_ALIGN, {_VAL: "center"})
                p = etree.SubElement(tc, _P)
                p_pr = etree.SubElement(p, _P_PR)
                etree.SubElement(p_pr, _P_STYLE, {_VAL: style_id})
                if r0 + i in heading_rows or (keep_together and r0 + i < t["n_rows"] - 1):
                    etree.SubElement(p_pr, _KEEP_NEXT)
                if i == 0:
                    if c["role"] in ("row", "caption") and not vertical:
                        etree.SubElement(p_pr, _JC, {_VAL: "left"})
                    run = make(_R)
                    if c["role"] == "caption":
                        etree.SubElement(etree.SubElement(run, _R_PR), _B)
                    if c["text"]:
                        _run_text(run, c["text"])
                    p.append(run)
                slots[(r0 + i, c0)] = tc
    for r in range(t["n_rows"]):
        tr = make(_TR)
        tr_pr = etree.SubElement(tr, _TR_PR)
        etree.SubElement(tr_pr, _CANT_SPLIT)
        if r < t["head_rows"]:
            etree.SubElement(tr_pr, _TBL_HEADER)
        for col in range(t["n_cols"]):
            if (r, col) in slots:
                tr.append(slots[(r, col)])
        tbl.append(tr)
