"""Writing a comparison to a file, by the file's suffix."""

from __future__ import annotations

from pathlib import Path

from toolkit.compare.core import Comparison

OUTPUT_SUFFIXES = (".html", ".xlsx", ".docx")


def write_comparison(comparison: Comparison, target: str | Path) -> Path:
    """``comparison`` written to ``target`` (.html, .xlsx or .docx), atomically."""
    suffix = Path(target).suffix.lower()
    if suffix in (".html", ".htm"):
        from toolkit.compare.html import write_html

        return write_html(comparison, target)
    if suffix == ".xlsx":
        from toolkit.compare.xlsx import write_xlsx

        return write_xlsx(comparison, target)
    if suffix == ".docx":
        from toolkit.compare.docx import write_docx

        return write_docx(comparison, target)
    raise ValueError(f"unsupported comparison output: {target}")
