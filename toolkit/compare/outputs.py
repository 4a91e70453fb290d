"""Writing a comparison to a file, by the file's suffix."""

from __future__ import annotations

from pathlib import Path

from toolkit.compare.core import Comparison

OUTPUT_SUFFIXES = (".html", ".xlsx")


def write_comparison(comparison: Comparison, target: str | Path) -> Path:
    """``comparison`` written to ``target`` (.html or .xlsx), atomically."""
    suffix = Path(target).suffix.lower()
    if suffix in (".html", ".htm"):
        from toolkit.compare.html import write_html

        return write_html(comparison, target)
    if suffix == ".xlsx":
        from toolkit.compare.xlsx import write_xlsx

        return write_xlsx(comparison, target)
    raise ValueError(f"unsupported comparison output: {target}")
