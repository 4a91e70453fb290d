"""Word reports (.docx) -> Document.

Paragraphs and tables in body order. A table row holds the cells that start in it: a cell
merged across columns (``gridSpan``) appears once, a cell continuing a vertical merge
(``vMerge`` continue) not at all, the same shape as an HTML row with ``colspan``/``rowspan``.
Paragraphs inside a cell are joined (one label broken over lines).

A file is read as a stream (one body element at a time, then dropped), so memory follows the
report's text, not the size of its XML; the body part is the one ``_rels/.rels`` names, and
only what the report needs is read (parts a Word program would complain about, such as a
missing style part or two core-property relationships, do not stop it). A file that cannot
be read raises ValueError with a Chinese reason that says what to do; what the parser said
goes to the ``toolkit.importers`` log only.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path
from typing import Iterable, Iterator

from toolkit.importers.document import Document, Item

log = logging.getLogger("toolkit.importers")

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_RESAVE = "请用Word或WPS打开后另存为.docx再导入"
_WORD_MAIN = (b"wordprocessingml.document.main+xml", b"wordprocessingml.template.main+xml",
              b"ms-word.document.macroEnabled.main+xml", b"ms-word.template.macroEnabledTemplate.main+xml")


def read_docx_file(path: str | Path) -> Document:
    """Read a ``.docx`` file; a file that is not one raises ValueError with a Chinese reason."""
    path = Path(path)
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            head = fh.read(4)
        if head == b"PK\x03\x04":
            raise ValueError("Word文档不完整（可能下载或复制时被截断），请重新获取完整的文件后再导入")
        raise ValueError("不是Word文档（.docx）；旧版.doc请另存为.docx后再导入")
    from toolkit.importers.vocabulary import vocabulary
    from toolkit.workbook.source import SourceError, check_package
    from toolkit.workbook.source.parts import main_part

    try:
        check_package(path)  # the workbook reader's caps: zip bombs, duplicate parts, DTDs
    except SourceError as exc:
        raise ValueError(_PACKAGE_PROBLEMS.get(exc.code, "Word文档{}").format(exc.reason)) from None
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        log.debug("%s: %r", path, exc)
        raise ValueError(f"Word文档已损坏，{_RESAVE}") from None
    with archive:
        names = {n.replace("\\", "/"): n for n in archive.namelist()}
        if "xl/workbook.xml" in names and "word/document.xml" not in names:
            raise ValueError("这是Excel工作簿，不是Word文档；请把扩展名改为.xlsx")
        body = main_part(archive, _WORD_MAIN) or "word/document.xml"
        if body not in names or not body.startswith("word/"):
            if "word/document.xml" not in names:
                raise ValueError(f"不是Word文档，或Word文档缺少正文（已损坏）；{_RESAVE}")
            body = "word/document.xml"
        info = archive.getinfo(names[body])
        if info.file_size > vocabulary().max_docx_xml_bytes:
            raise ValueError("Word文档解压后过大，未读取")
        doc = Document(items=[], kind="docx", source=str(path))
        doc.title = _core_title(archive, names)
        try:
            with archive.open(info) as stream:
                _collect(doc, _body_elements(stream))
        except ValueError:
            raise
        except Exception as exc:  # noqa: BLE001 - expat, zlib and zip errors on a damaged body
            log.debug("%s: %r", path, exc)
            raise ValueError(f"Word文档的正文已损坏（内容不完整或格式错误），{_RESAVE}") from None
    return doc


_PACKAGE_PROBLEMS = {
    "workbook-encrypted": "Word文档设置了密码（已加密），请另存为不加密的.docx后再导入",
    "file-too-large": "Word文档{}，超出读取上限，未读取",
    "workbook-damaged": "Word文档已损坏（{}），" + _RESAVE,
}


def _core_title(archive: zipfile.ZipFile, names: dict[str, str]) -> str | None:
    if "docProps/core.xml" not in names:
        return None
    try:
        import defusedxml.ElementTree as DET

        with archive.open(names["docProps/core.xml"]) as fh:
            root = DET.fromstring(fh.read(1 << 20), forbid_dtd=True)
        title = root.find("{http://purl.org/dc/elements/1.1/}title")
        return (title.text or "").strip() or None if title is not None else None
    except Exception as exc:  # noqa: BLE001 - a broken property part costs the title only
        log.debug("core properties: %r", exc)
        return None


def _body_elements(stream) -> Iterator:
    """Each paragraph and table directly in the body, whole, dropped after use."""
    import defusedxml.ElementTree as DET

    depth, body = 0, None
    for event, element in DET.iterparse(stream, events=("start", "end"), forbid_dtd=True):
        if event == "start":
            depth += 1
            if depth == 2 and element.tag == W + "body":
                body = element
            continue
        depth -= 1
        if depth == 2 and body is not None:
            if element.tag in (W + "p", W + "tbl"):
                yield element
            body.remove(element)


def parse_docx(document, *, source: str | None = None) -> Document:
    """A python-docx ``Document`` -> Document."""
    doc = Document(items=[], kind="docx", source=source)
    title = (document.core_properties.title or "").strip()
    doc.title = title or None
    _collect(doc, (el for el in document.element.body.iterchildren() if el.tag in (W + "p", W + "tbl")))
    return doc


def _collect(doc: Document, elements: Iterable) -> None:
    paras = tables = 0
    for element in elements:
        if element.tag == W + "p":
            text = _paragraph_text(element)
            for line in text.split("\n"):
                if not line.strip():
                    continue
                paras += 1
                if "\t" in line.strip():  # a text table typed into Word with tabs
                    cells = [c.strip() for c in line.split("\t")]
                    doc.items.append(Item(cells, f"第{paras}段", len(doc.items) + 1, is_row=True))
                else:
                    doc.items.append(Item([line.strip()], f"第{paras}段", len(doc.items) + 1))
        else:
            tables += 1
            for r, tr in enumerate(element.findall(W + "tr"), 1):
                cells = []
                for tc in tr.findall(W + "tc"):
                    if _continues_merge(tc):
                        continue
                    cells.append("".join(_paragraph_text(p).replace("\n", "").strip() for p in tc.findall(W + "p")))
                if any(cells):
                    doc.items.append(Item(cells, f"第{tables}个表格第{r}行", len(doc.items) + 1, is_row=True))


def _paragraph_text(p) -> str:
    parts = []
    for node in p.iter():
        if node.tag == W + "t":
            parts.append(node.text or "")
        elif node.tag == W + "tab":
            parts.append("\t")
        elif node.tag in (W + "br", W + "cr"):
            parts.append("\n")
    return "".join(parts)


def _continues_merge(tc) -> bool:
    tc_pr = tc.find(W + "tcPr")
    if tc_pr is None:
        return False
    v_merge = tc_pr.find(W + "vMerge")
    if v_merge is None:
        return False
    return v_merge.get(W + "val", "continue") == "continue"
