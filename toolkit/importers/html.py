"""HTML reports (a published web page, a rendered draft) -> Document.

Block elements in document order become paragraph items (a ``<br>`` splits a paragraph into
lines); every ``<tr>`` becomes a row item holding the cells that start in it, left to right, so a
cell merged with ``rowspan``/``colspan`` appears once, where it starts, just as in a text table.
Text inside a ``<pre>`` is read as plain text (tab-separated tables included).
"""

from __future__ import annotations

import re
from pathlib import Path

from toolkit.importers.document import Document, Item
from toolkit.importers.text import decode, parse_text
from toolkit.importers.vocabulary import vocabulary

_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "div", "section", "article", "header", "footer",
           "main", "blockquote", "dd", "dt", "caption", "figcaption", "address", "center", "td", "th", "body"}
_SKIP = {"script", "style", "noscript", "template", "head", "title", "nav", "button", "select", "iframe"}
_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
MAX_ELEMENTS = 200_000  # a published report page has a few thousand
MAX_DEPTH = 100  # and is nested a few dozen levels deep


def read_html_file(path: str | Path) -> Document:
    path = Path(path)
    return parse_html(decode(path.read_bytes()), source=str(path))


def parse_html(html: str, *, source: str | None = None) -> Document:
    from bs4 import BeautifulSoup, Comment

    if html.count("<") > 2 * MAX_ELEMENTS:
        raise ValueError("网页元素过多，不像是一份年度报告，未读取")
    soup = BeautifulSoup(html, "lxml")
    _check_shape(soup)
    doc = Document(items=[], kind="html", source=source)
    if soup.title and soup.title.get_text(strip=True):
        doc.title = soup.title.get_text(strip=True)
    for tag in soup.find_all(_SKIP):
        tag.decompose()
    skip = vocabulary().html_skip_classes
    for tag in soup.find_all(lambda t: _furniture(t, skip)):
        if not tag.decomposed:
            tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    root = soup.body or soup
    state = {"tables": 0, "paras": 0}
    _walk(root, doc, state)
    return doc


def _check_shape(soup) -> None:
    """Refuse a page too big or too deeply nested to be a report (it would make the walk below
    slow, or recurse too deep)."""
    from bs4 import Tag

    depth = {id(soup): 0}
    count = 0
    for element in soup.descendants:
        if isinstance(element, Tag):
            count += 1
            level = depth[id(element.parent)] + 1
            if level > MAX_DEPTH or count > MAX_ELEMENTS:
                raise ValueError("网页结构过于复杂（嵌套过深或元素过多），不像是一份年度报告，未读取")
            depth[id(element)] = level


def _furniture(tag, skip: tuple[str, ...]) -> bool:
    """Page furniture around the report (navigation, footer), never a table or its ancestor."""
    if tag.name in ("html", "body", "table", "tr", "td", "th") or tag.find("table") is not None:
        return False
    names = " ".join([*(tag.get("class") or []), tag.get("id") or ""]).lower()
    return bool(names) and any(word in names for word in skip)


def _text(node) -> str:
    return _SPACE.sub(" ", node.get_text("")).strip()


def _add_paragraph(doc: Document, text: str, state: dict) -> None:
    for line in text.split("\n"):
        line = _SPACE.sub(" ", line).strip()
        if line:
            state["paras"] += 1
            doc.items.append(Item([line], f"第{state['paras']}段", len(doc.items) + 1))


def _walk(node, doc: Document, state: dict) -> None:
    from bs4 import NavigableString, Tag

    inline: list[str] = []

    def flush():
        if inline:
            _add_paragraph(doc, "".join(inline), state)
            inline.clear()

    for child in node.children:
        if isinstance(child, NavigableString):
            inline.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name.lower()
        if name == "table" and child.find("table") is not None:
            flush()  # a layout table around the page (old CMS pages): read its cells as the page
            for tr in (tr for tr in child.find_all("tr") if tr.find_parent("table") is child):
                for td in tr.find_all(["td", "th"], recursive=False):
                    _walk(td, doc, state)
        elif name == "table":
            flush()
            _table(child, doc, state)
        elif name == "pre":
            flush()
            sub = parse_text(child.get_text(""))
            for item in sub.items:
                item.line = len(doc.items) + 1
                doc.items.append(item)
        elif name in _BLOCKS or child.find(["table", "p", "div", "pre", "li"] + [f"h{i}" for i in range(1, 7)]):
            flush()
            _walk(child, doc, state)
        else:
            inline.append(child.get_text(""))
    flush()


def _table(table, doc: Document, state: dict) -> None:
    state["tables"] += 1
    number = state["tables"]
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    for r, tr in enumerate(rows, 1):
        cells = [_cell_text(td) for td in tr.find_all(["td", "th"], recursive=False)]
        if any(cells):
            doc.items.append(Item(cells, f"第{number}个表格第{r}行", len(doc.items) + 1, is_row=True))


def _cell_text(td) -> str:
    # lines inside a cell are one label broken for width ("本年新<br>制作数量"): joined
    return "".join(_SPACE.sub(" ", line).strip() for line in td.get_text("").split("\n")).strip()
