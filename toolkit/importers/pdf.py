"""PDF reports (a Word or web report printed to PDF) -> Document: PDFium (pypdfium2, Apache-2.0/BSD)
reads the characters and rules, pdfplumber (MIT) finds the tables and lines in them.

Each page is read top to bottom. A ruled table (lines or cell borders drawn on the page) becomes
row items from its cell grid: a merged cell appears once, in the row where it starts, and the
lines inside a cell are joined, so a label broken for width ("本年新" / "制作数量") or written one
character per line down a tall merged cell ("行" / "政" / "复" / "议") reads as one label. The text
outside the tables becomes paragraph items, lines joined where the page shows one paragraph
(a line running to the right margin followed by one that is not indented). In text that is not
ruled, a line of numbers printed just above a label without numbers (the label set lower in its
row) is moved after its label.

A file that cannot be read raises ValueError with a Chinese reason: not a PDF, damaged, locked
with a password, too many pages, characters or rules, or no text layer at all (a scan: no OCR here).
What the parser said goes to the ``toolkit.importers`` log only.
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from pathlib import Path
from statistics import median

from toolkit.importers.document import Document, Item
from toolkit.importers.vocabulary import vocabulary

log = logging.getLogger("toolkit.importers")

_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef\u2014\u201c\u201d\u2018\u2019"
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")
_SPACE = re.compile(r"\s+")
_NUMBERS = re.compile(r"^-?[\d,，]+(?:\.\d+)?(?:\s+-?[\d,，]+(?:\.\d+)?)*$")
_ENDS_IN_NUMBER = re.compile(r"\s-?[\d,，]+(?:\.\d+)?$")
_LOCKED = "PDF设置了打开密码（已加密），请另存为不加密的PDF后再导入"
_RESAVE = "请重新导出PDF，或改用Word/网页版本的报告"


def read_pdf_file(path: str | Path) -> Document:
    """Read a ``.pdf`` file; a file that cannot be read raises ValueError with a Chinese reason."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        raise ValueError("不是PDF文件（文件头不是%PDF）")
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        log.debug("%s: %r", path, exc)
        if getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD or "password" in str(exc).lower():
            raise ValueError(_LOCKED) from None
        raise ValueError(f"PDF文件已损坏，无法读取；{_RESAVE}") from None
    try:
        return _read(pdf, str(path))
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged page, object or font
        log.debug("%s: %r", path, exc)
        raise ValueError(f"PDF文件的内容已损坏（页面无法解析）；{_RESAVE}") from None
    finally:
        pdf.close()


def _read(pdf, source: str) -> Document:
    voc = vocabulary()
    if len(pdf) > voc.max_pdf_pages:
        raise ValueError(f"PDF有{len(pdf)}页（上限{voc.max_pdf_pages}页），不像是一份年度报告，未读取")
    doc = Document(items=[], kind="pdf", source=source)
    title = pdf.get_metadata_dict(skip_empty=True).get("Title", "").strip()
    doc.title = title or None
    chars = images = 0
    state = {"tables": 0, "paras": 0}
    for index in range(len(pdf)):
        page = _Page(pdf[index], voc.max_pdf_chars - chars, voc.max_pdf_rules)
        chars += len(page.chars)
        images += page.images
        if chars > voc.max_pdf_chars:
            raise ValueError(f"PDF的文字超过{voc.max_pdf_chars}个，不像是一份年度报告，未读取")
        _page(page, doc, state)
    if not chars:
        if images:
            raise ValueError("PDF没有文字层（像是扫描件或图片），本工具不做文字识别；"
                             "请使用可以复制文字的PDF，或改用Word/网页版本的报告")
        raise ValueError("PDF中没有任何文字，不是一份年度报告")
    return doc


class _Page:
    """One page as pdfplumber's table finder and text utilities take it (characters and rules as
    dicts, top-down coordinates), read by PDFium: much faster than pdfminer on the many font
    subsets a browser writes."""

    def __init__(self, page, max_chars: int, max_rules: int):
        import ctypes

        import pypdfium2.raw as raw

        self.width, self.height = page.get_size()
        self.bbox = (0.0, 0.0, self.width, self.height)
        self.chars: list[dict] = []
        self.edges: list[dict] = []
        self.images = 0
        text = page.get_textpage()
        count = text.count_chars()
        if count > max_chars:
            self.chars = [{}] * (max_chars + 1)
            return
        origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
        for i in range(count):
            ch = chr(raw.FPDFText_GetUnicode(text, i))
            if ch.isspace() or raw.FPDFText_IsGenerated(text, i) == 1 or ch == "\ufffe":
                continue
            left, _, right, _ = text.get_charbox(i, loose=True)
            size = raw.FPDFText_GetFontSize(text, i) or 10.0
            raw.FPDFText_GetCharOrigin(text, i, ctypes.byref(origin_x), ctypes.byref(origin_y))
            top, bottom = origin_y.value + 0.88 * size, origin_y.value - 0.12 * size  # from the baseline: glyph
            # boxes differ from glyph to glyph ("一" is flat) and some fonts give no box at all
            self.chars.append({"text": ch, "x0": left, "x1": right, "top": self.height - top,
                               "bottom": self.height - bottom, "doctop": self.height - top,
                               "width": right - left, "height": top - bottom, "upright": True, "size": size,
                               "fontname": "", "object_type": "char"})
        for obj in page.get_objects(max_depth=3):
            if obj.type == raw.FPDF_PAGEOBJ_IMAGE:
                self.images += 1
            elif obj.type == raw.FPDF_PAGEOBJ_PATH:
                self.edges.extend(self._edges(obj, raw))
                if len(self.edges) > max_rules:
                    raise ValueError("PDF页面上的线条过多，不像是一份年度报告，未读取")

    def _edges(self, obj, raw) -> list[dict]:
        import ctypes

        left, bottom, right, top = obj.get_bounds()
        x0, x1, y0, y1 = left, right, self.height - top, self.height - bottom
        fill, stroke = ctypes.c_int(), ctypes.c_int()
        raw.FPDFPath_GetDrawMode(obj.raw, ctypes.byref(fill), ctypes.byref(stroke))
        if min(x1 - x0, y1 - y0) <= 3:  # a rule: a thin filled box or a stroked line
            if not stroke.value:
                r, g, b, a = (ctypes.c_uint() for _ in range(4))
                raw.FPDFPageObj_GetFillColor(obj.raw, *(ctypes.byref(c) for c in (r, g, b, a)))
                if (r.value, g.value, b.value) == (255, 255, 255) or not a.value:
                    return []
            if x1 - x0 >= y1 - y0:
                return [_edge("h", x0, x1, (y0 + y1) / 2, (y0 + y1) / 2)]
            return [_edge("v", (x0 + x1) / 2, (x0 + x1) / 2, y0, y1)]
        if not stroke.value:
            return []  # a filled box (a page's background, a shaded cell): not a rule
        return [_edge("h", x0, x1, y0, y0), _edge("h", x0, x1, y1, y1),
                _edge("v", x0, x0, y0, y1), _edge("v", x1, x1, y0, y1)]

    def extract_words(self, **_kwargs):
        return []


def _edge(orientation: str, x0: float, x1: float, top: float, bottom: float) -> dict:
    return {"x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top, "width": x1 - x0,
            "height": bottom - top, "orientation": orientation, "object_type": "line"}


def _inside(obj: dict, bbox) -> bool:
    x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]


def _page(page: _Page, doc: Document, state: dict) -> None:
    from pdfplumber.utils import chars_to_textmap

    tables = _tables(page)
    chars = [c for c in page.chars if not any(_inside(c, t.bbox) for t in tables)]
    found = chars_to_textmap(chars).extract_text_lines(strip=True, return_chars=False) if chars else []
    lines = [dict(ln, text=_clean(ln["text"])) for ln in found]
    lines = [ln for ln in lines if ln["text"]]
    prose = [ln["x1"] for ln in lines if " " not in ln["text"]]  # not a row of a table without rules
    right = max(prose or [ln["x1"] for ln in lines] or [0.0])
    blocks: list[tuple[float, object]] = [(t.bbox[1], t) for t in tables]
    blocks += [(ln["top"], ln) for ln in lines]
    blocks.sort(key=lambda b: b[0])
    run: list[dict] = []
    for _, block in blocks:
        if isinstance(block, dict):
            run.append(block)
            continue
        _paragraphs(run, right, doc, state)
        run = []
        _table(block, doc, state)
    _paragraphs(run, right, doc, state)


def _table(table, doc: Document, state: dict) -> None:
    state["tables"] += 1
    for r, row in enumerate(table.extract(), 1):
        cells = [_cell(c) for c in row if c is not None]
        if any(cells):
            doc.items.append(Item(cells, f"第{state['tables']}个表格第{r}行", len(doc.items) + 1, is_row=True))


def _cell(text: str) -> str:
    return "".join(_clean(line) for line in text.split("\n"))


def _tables(page) -> list:
    """The page's ruled tables with at least two columns. A table cut by a page break has no
    bottom (or top) border: the vertical rules' ends close it, or its last merged cell would
    take in the rows beside it."""
    from pdfplumber.table import TableFinder, TableSettings

    verticals = [e for e in page.edges if e["orientation"] == "v" and e["bottom"] - e["top"] > 2]
    settings = {}
    if verticals:
        x0, x1 = min(e["x0"] for e in verticals), max(e["x1"] for e in verticals)
        ends = {min(e["top"] for e in verticals), max(e["bottom"] for e in verticals)}
        settings["explicit_horizontal_lines"] = [
            {"x0": x0, "x1": x1, "top": y, "bottom": y, "width": x1 - x0, "height": 0, "orientation": "h",
             "object_type": "line"} for y in ends]
    return [t for t in TableFinder(page, TableSettings.resolve(settings)).tables
            if max((sum(c is not None for c in row.cells) for row in t.rows), default=0) >= 2]


def _clean(text: str) -> str:
    return _CJK_SPACE.sub("", _SPACE.sub(" ", text.translate(_radicals())).strip())


@lru_cache(maxsize=None)
def _radicals() -> dict[int, str]:
    """Radical code points some PDF writers put for an ideograph's glyph (⺠ for 民)."""
    from toolkit.formats import TEMPLATES_DIR

    table = json.loads((TEMPLATES_DIR / "import_radicals.json").read_text(encoding="utf-8"))
    return {ord(k): v for k, v in table.items()}


def _paragraphs(lines: list[dict], right: float, doc: Document, state: dict) -> None:
    """Lines of running text -> paragraph items (see the module docstring); ``right``: where
    the page's longest line ends."""
    voc = vocabulary()
    lines = [ln for ln in lines if not any(p.match(ln["text"]) for p in voc.page_furniture)]
    if not lines:
        return
    size = median(ln["bottom"] - ln["top"] for ln in lines) or 10.0
    lines = _numbers_before_labels(lines, size)
    left = min(ln["x0"] for ln in lines)
    paragraphs: list[str] = []
    prev = None
    for ln in lines:
        text = ln["text"]
        if prev is not None and _continues(prev, ln, left, right):
            paragraphs[-1] += text
        else:
            paragraphs.append(text)
        prev = ln
    for text in paragraphs:
        state["paras"] += 1
        doc.items.append(Item([text], f"第{state['paras']}段", len(doc.items) + 1))


def _continues(prev: dict, line: dict, left: float, right: float) -> bool:
    voc = vocabulary()
    text = line["text"]
    size = prev["bottom"] - prev["top"]
    return (prev["x1"] >= right - 1.5 * size and line["x0"] <= left + 0.5 * size
            and line["top"] - prev["bottom"] < 1.5 * size
            and not _ENDS_IN_NUMBER.search(prev["text"]) and not _NUMBERS.match(text)
            and not voc.part_number_text.match(text) and not voc.section_number_text.match(text))


def _numbers_before_labels(lines: list[dict], size: float) -> list[dict]:
    """A line of numbers only, just above a label line that has none: the numbers go after it."""
    out: list[dict] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if (nxt is not None and _NUMBERS.match(ln["text"]) and nxt["top"] - ln["bottom"] < size
                and not _NUMBERS.match(nxt["text"]) and not _ENDS_IN_NUMBER.search(nxt["text"])
                and nxt["x0"] < ln["x0"]):
            out.append(dict(nxt, text=f"{nxt['text']} {ln['text']}", top=ln["top"], x1=max(ln["x1"], nxt["x1"])))
            i += 2
            continue
        out.append(ln)
        i += 1
    return out
