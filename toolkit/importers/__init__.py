"""Import published reports (text, Markdown, HTML, Word, PDF) into ReportData, with findings.

``import_report(path)`` reads one report file into a ``ReadResult`` (the workbook reader's result
type, so that ``nianbao check`` audits published reports with the same rules: it is the reader of
:data:`SUFFIXES` in :mod:`toolkit.readers`).
``import_text`` and ``import_document`` read a report that is already in memory.

The readers for each kind of file (text.py, html.py, docx.py, pdf.py) turn a file into a
:class:`~toolkit.importers.document.Document`; everything after that is shared (assemble.py).
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from toolkit.importers.document import Document
from toolkit.model import Finding, ReportData

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
WORD_SUFFIXES = (".docx",)
PDF_SUFFIXES = (".pdf",)
SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + WORD_SUFFIXES + PDF_SUFFIXES


def import_document(doc: Document, *, format_id: str | None = None,
                    year: int | None = None) -> tuple[ReportData | None, list[Finding]]:
    """Read a report already split into items: (data, import findings); data is None when the
    document is not a report at all."""
    from toolkit.workbook.filled import not_filled
    from toolkit.formats import load_format
    from toolkit.importers.assemble import assemble

    data, findings = assemble(doc, format_id=format_id, year=year)
    if data is None:
        return data, findings
    return data, not_filled(load_format(data.format), data, findings, file=doc.source or "报告")


def import_text(text: str, *, kind: str = "text", source: str | None = None, format_id: str | None = None,
                year: int | None = None) -> tuple[ReportData | None, list[Finding]]:
    """Read report text (plain text or Markdown): (data, import findings)."""
    from toolkit.importers.text import parse_text

    return import_document(parse_text(text, kind=kind, source=source), format_id=format_id, year=year)


def read_document(path: str | Path) -> Document:
    """The items of a report file, by its suffix. Raises ``ImportFileError`` for a file that is
    not a readable report of that kind."""
    from toolkit.importers.vocabulary import vocabulary

    path = Path(path)
    suffix = path.suffix.lower()
    try:
        st = path.stat()
        size = st.st_size
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):  # a pipe would block the read
            raise ImportFileError("不是普通文件")
        if path.is_file() and size > vocabulary().max_file_bytes:
            raise ImportFileError(f"文件过大（{size // 1_000_000} MB），不像是一份年度报告，未读取")
        if suffix in HTML_SUFFIXES:
            from toolkit.importers.html import read_html_file

            return read_html_file(path)
        if suffix in WORD_SUFFIXES:
            from toolkit.importers.docx import read_docx_file

            return read_docx_file(path)
        if suffix in PDF_SUFFIXES:
            from toolkit.importers.pdf import read_pdf_file

            return read_pdf_file(path)
        from toolkit.importers.text import read_text_file

        return read_text_file(path)
    except ImportFileError:
        raise
    except FileNotFoundError:
        raise ImportFileError("文件不存在") from None
    except IsADirectoryError:
        raise ImportFileError("这是一个文件夹，不是报告文件") from None
    except PermissionError:
        raise ImportFileError("没有读取权限") from None
    except OSError as exc:
        raise ImportFileError(f"读取失败（{exc.strerror or exc}）") from None
    except ValueError as exc:
        raise ImportFileError(str(exc)) from None


class ImportFileError(Exception):
    """A report file that cannot be read at all (missing, not text, a damaged Word file)."""


def import_report(path: str | Path, *, format_id: str | None = None, year: int | None = None,
                  expect_unit: str | None = None, **_options: Any):
    """Read one published report file (.txt .md .html .htm .docx .pdf) into a ``ReadResult``.

    ``format_id`` is a hint: the format is always the one the tables' labels follow, and a
    different ``format_id`` is reported. ``year`` and ``expect_unit`` are used when the report
    does not say them. Never raises for a user file: an unreadable file is a ReadResult with
    ``data=None`` and one ``import-unreadable`` finding.
    """
    from toolkit.checks.import_findings import ImportUnreadable
    from toolkit.model import ReadResult

    path = Path(path)
    kind = _kind(path)
    try:
        doc = read_document(path)
    except ImportFileError as exc:
        return ReadResult(str(path), None, [ImportUnreadable.make(file=path.name, reason=str(exc))],
                          source_kind=kind)
    data, findings = import_document(doc, format_id=format_id, year=year)
    if data is None:
        return ReadResult(str(path), None, findings, source_kind=kind, meta=dict(doc.meta))
    if data.unit is None and expect_unit:
        data.unit = expect_unit
        findings = [f for f in findings if f.code != "import-unit-missing"]
    data.source = str(path)
    return ReadResult(str(path), data, findings, source_kind=kind, meta=dict(doc.meta), layout="labels")


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in WORD_SUFFIXES:
        return "docx"
    if suffix in PDF_SUFFIXES:
        return "pdf"
    return "md" if suffix in (".md", ".markdown") else "txt"
