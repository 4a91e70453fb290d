"""Word reports (.docx) -> Document.

Paragraphs and tables in body order. A table row holds the cells that start in it: a cell
merged across columns (``gridSpan``) appears once, a cell continuing a vertical merge
(``vMerge`` continue) not at all, the same shape as an HTML row with ``colspan``/``rowspan``.
Paragraphs inside a cell are joined (one label broken over lines).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from toolkit.importers.document import Document, Item


def read_docx_file(path: str | Path) -> Document:
    """Read a ``.docx`` file; a file that is not one raises ValueError with a Chinese reason."""
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise ValueError("不是Word文档（.docx）；旧版.doc请另存为.docx后再导入")
    from toolkit.importers.vocabulary import vocabulary
    from toolkit.workbook.source import SourceError, check_package

    try:
        check_package(path)  # the workbook reader's caps: zip bombs, duplicate parts, DTDs
    except SourceError as exc:
        raise ValueError(_PACKAGE_PROBLEMS.get(exc.code, "Word文档{}").format(exc.reason)) from None
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist() if info.filename.endswith(".xml"))
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"Word文档已损坏（{type(exc).__name__}）") from None
    if "word/document.xml" not in names:
        if "xl/workbook.xml" in names:
            raise ValueError("这是Excel工作簿，不是Word文档；请把扩展名改为.xlsx")
        raise ValueError("不是Word文档（缺少正文部分word/document.xml）")
    if unpacked > vocabulary().max_docx_xml_bytes:
        raise ValueError("Word文档解压后过大，未读取")
    try:
        import docx

        document = docx.Document(str(path))
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"Word文档已损坏或不是.docx（{type(exc).__name__}）") from None
    except Exception as exc:  # noqa: BLE001 - python-docx raises assorted errors on bad packages
        raise ValueError(f"Word文档无法打开（{type(exc).__name__}）") from None
    return parse_docx(document, source=str(path))


_PACKAGE_PROBLEMS = {
    "workbook-encrypted": "Word文档设置了密码（已加密），请另存为不加密的.docx后再导入",
    "file-too-large": "Word文档{}，超出读取上限，未读取",
    "workbook-damaged": "Word文档已损坏（{}）",
}


def parse_docx(document, *, source: str | None = None) -> Document:
    """A python-docx ``Document`` -> Document."""
    from docx.oxml.ns import qn

    doc = Document(items=[], kind="docx", source=source)
    title = (document.core_properties.title or "").strip()
    doc.title = title or None
    paras = tables = 0
    for element in document.element.body.iterchildren():
        if element.tag == qn("w:p"):
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
        elif element.tag == qn("w:tbl"):
            tables += 1
            for r, tr in enumerate(element.iterchildren(qn("w:tr")), 1):
                cells = []
                for tc in tr.iterchildren(qn("w:tc")):
                    if _continues_merge(tc):
                        continue
                    cells.append("".join(_paragraph_text(p).replace("\n", "").strip()
                                         for p in tc.iterchildren(qn("w:p"))))
                if any(cells):
                    doc.items.append(Item(cells, f"第{tables}个表格第{r}行", len(doc.items) + 1, is_row=True))
    return doc


def _paragraph_text(p) -> str:
    from docx.oxml.ns import qn

    parts = []
    for node in p.iter(qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")):
        if node.tag == qn("w:t"):
            parts.append(node.text or "")
        elif node.tag == qn("w:tab"):
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)


def _continues_merge(tc) -> bool:
    from docx.oxml.ns import qn

    tc_pr = tc.find(qn("w:tcPr"))
    if tc_pr is None:
        return False
    v_merge = tc_pr.find(qn("w:vMerge"))
    if v_merge is None:
        return False
    return v_merge.get(qn("w:val"), "continue") == "continue"
