"""The look of the Word report (page, styles, font table, page footer), built with python-docx
once per ``docx.yaml`` settings and kept as a package template (toolkit.render.docx_package).

The document built here holds sentinels where each report's values go: the core properties,
the body, and with a draft the mark in the page header.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from lxml import etree

from toolkit.render.docx_package import PackageTemplate, sentinel

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
STYLE_TITLE, STYLE_H1, STYLE_H2, STYLE_BODY = "Title", "Heading 1", "Heading 2", "Normal"
STYLE_TABLE, STYLE_DRAFT, STYLE_FOOTER = "NB Table", "NB Draft", "Footer"
STYLE_TABLE_GRID = "Table Grid"
SLOTS = frozenset({"title", "author", "comments", "body"})  # and "mark" with a draft


@dataclass(frozen=True)
class Look:
    """A look's package template (the report's values go into its :data:`SLOTS`) and the style
    ids of the styles the report uses (None: the default style)."""

    package: PackageTemplate
    style_ids: dict[str, str | None]


_LOOKS: dict[tuple[str, bool], Look] = {}


def look(settings: dict[str, Any], draft: bool) -> Look:
    """The look of ``settings``, with the draft mark in the page header or without, built on
    first use (building parses python-docx's template and sets every style)."""
    key = (json.dumps(settings, sort_keys=True, ensure_ascii=False, default=str), bool(draft))
    if key not in _LOOKS:
        if len(_LOOKS) >= 8:
            _LOOKS.clear()
        _LOOKS[key] = _build(settings, bool(draft))
    return _LOOKS[key]


def _build(settings: dict[str, Any], draft: bool) -> Look:
    doc = Document()
    _page(doc, settings)
    _styles(doc, settings)
    _font_table(doc, settings)
    ids = {name: doc.part.get_style_id(doc.styles[name], WD_STYLE_TYPE.PARAGRAPH)
           for name in (STYLE_TITLE, STYLE_H1, STYLE_H2, STYLE_BODY, STYLE_TABLE, STYLE_DRAFT, STYLE_FOOTER)}
    ids[STYLE_TABLE_GRID] = doc.part.get_style_id(doc.styles[STYLE_TABLE_GRID], WD_STYLE_TYPE.TABLE)
    props = doc.core_properties
    props.title = sentinel("title")
    props.subject = "政府信息公开工作年度报告"
    props.author = sentinel("author")
    props.language = "zh-CN"
    props.keywords = "政府信息公开;年度报告"
    props.comments = sentinel("comments")
    if draft:  # the header is made before the footer: header1.xml, rId9
        paragraph = doc.sections[0].header.paragraphs[0]
        paragraph._p.style = ids[STYLE_DRAFT]
        paragraph.add_run(sentinel("mark"))
    doc.add_paragraph(sentinel("body"))
    _footer(doc, settings, ids)
    out = io.BytesIO()
    doc.save(out)
    package = PackageTemplate(out.getvalue())
    expected = SLOTS | {"mark"} if draft else SLOTS
    if package.slots != expected:
        raise ValueError(f"the Word template's slots are {sorted(package.slots)}, not {sorted(expected)}")
    return Look(package, ids)


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
