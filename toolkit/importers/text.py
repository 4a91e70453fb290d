"""Plain text and Markdown reports -> :class:`~toolkit.importers.document.Document`.

Tables in published text come in several shapes, all turned into row items here:

- tab-separated rows, one table row per line (leading tabs for merged label columns);
- one cell per line, each line starting with a tab, rows separated by blank lines, a cell broken
  over lines continuing on a line without a tab ("⇥本年新" / "制作数量");
- Markdown ``|``-separated rows (separator rows ``|---|`` dropped);
- PDF-extracted text with cells separated by spaces: left as lines here; the assembler splits a
  line of a table section into label and numbers (toolkit/importers/rows.py).

Front matter (``title: …`` lines at the top) and page furniture ("- 3 -") are removed.
"""

from __future__ import annotations

import re
from pathlib import Path

from toolkit.importers.document import Document, Item
from toolkit.importers.vocabulary import vocabulary

_MD_HEADING = re.compile(r"^#{1,6}\s+")
_MD_RULE = re.compile(r"^:?-{2,}:?$")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~<])")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_ENCODINGS = ("utf-8-sig", "gb18030", "big5")


class TextDecodeError(ValueError):
    """The bytes are not text in any encoding a Chinese report is published in."""


def decode(data: bytes) -> str:
    """Text from bytes: UTF-8 (with or without BOM), UTF-16 with BOM, GB18030 or Big5."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise TextDecodeError("文件含有二进制内容，不是文本文件")
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TextDecodeError("文件编码无法识别（支持UTF-8、GB18030、Big5）")


def read_text_file(path: str | Path) -> Document:
    """Read a ``.txt`` or ``.md`` report file."""
    path = Path(path)
    kind = "markdown" if path.suffix.lower() in (".md", ".markdown") else "text"
    return parse_text(decode(path.read_bytes()), kind=kind, source=str(path))


def parse_text(text: str, *, kind: str = "text", source: str | None = None) -> Document:
    """Split report text into paragraph and row items (see the module docstring)."""
    voc = vocabulary()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if kind == "markdown":
        lines = [_markdown_line(line) for line in lines]
    doc = Document(items=[], kind=kind, source=source)

    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    while start < len(lines):
        m = voc.front_matter.match(lines[start].strip())
        if not m or not lines[start].strip():
            break
        doc.meta[m.group("key").lower()] = m.group("value").strip()
        start += 1
    doc.title = doc.meta.get(voc.front_matter_title) or None

    i = start
    while i < len(lines):
        raw = lines[i]
        number = i + 1
        stripped = raw.strip()
        if raw.startswith("\t") and "\t" not in raw[1:]:
            cells, i = _cell_per_line(lines, i)
            if any(cells):
                doc.items.append(Item(cells, f"第{number}行", number, is_row=True))
            continue
        if not stripped or any(p.match(stripped) for p in voc.page_furniture) or _row_mark(stripped):
            i += 1
            continue
        if stripped.endswith(" |") and not _is_bar_row(stripped):  # one cell per line, each followed by " |"
            stripped = stripped[:-2].strip()
        if _is_bar_row(stripped):
            cells = _bar_cells(stripped)
            if not all(_MD_RULE.match(c.replace(" ", "")) or c in voc.rule_cells for c in cells):
                doc.items.append(Item(cells, f"第{number}行", number, is_row=True))
            i += 1
            continue
        if "\t" in raw:
            cells = [c.strip() for c in raw.split("\t")]
            if not all(c in voc.rule_cells for c in cells):
                doc.items.append(Item(cells, f"第{number}行", number, is_row=True))
            i += 1
            continue
        doc.items.append(Item([_MD_HEADING.sub("", stripped)], f"第{number}行", number))
        i += 1

    prose = [len(it.cells[0]) for it in doc.items if not it.is_row]
    if len(prose) >= 10:
        short = sum(1 for n in prose if n <= voc.wrapped_line_max)
        doc.wrapped = short >= 0.8 * len(prose)
        if doc.wrapped:
            lengths = sorted(prose)
            doc.line_width = lengths[int(0.9 * (len(lengths) - 1))]
    return doc


def _is_bar_row(line: str) -> bool:
    """A table row written with ``|`` between cells: Markdown (``| a | 1 |``), or as an HTML
    table reads once rendered to text (``a | 1 | 2``, with or without a trailing ``|``)."""
    if line.startswith("|"):
        return line.count("|") >= 2
    return line.count(" | ") + line.endswith(" |") >= 1 and len(_bar_cells(line)) >= 2


def _row_mark(line: str) -> bool:
    """A line that only separates cells or rows of a table printed one cell per line: ``|``,
    ``||``."""
    return bool(line) and set(line) <= {"|", " "}


def _bar_cells(line: str) -> list[str]:
    """The cells of a ``|`` row; the edge bars are not cells, empty cells between bars are."""
    body = line[1:] if line.startswith("|") else line
    if body.endswith("|"):
        body = body[:-1]
    return [c.strip() for c in body.split("|")]


def _markdown_line(line: str) -> str:
    """Markdown emphasis and backslash escapes removed (a "|" escaped inside a cell stays)."""
    line = _MD_EMPHASIS.sub(r"\2", line)
    line = re.sub(r"^(\s*)\\(?=\d)", r"\1", line)  # "\1." as some writers escape an ordered-list number
    return _MD_ESCAPE.sub(lambda m: "\\|" if m.group(1) == "|" else m.group(1), line)


def _cell_per_line(lines: list[str], i: int) -> tuple[list[str], int]:
    """A row written one cell per line: lines starting with a tab; a line without one continues
    the cell above (a header cell broken over lines). Ends at a blank line."""
    voc = vocabulary()
    cells: list[str] = []
    while i < len(lines):
        raw = lines[i]
        if not raw.strip() and not raw.startswith("\t"):
            break
        if raw.startswith("\t") and "\t" not in raw[1:]:
            cells.append(raw.strip())
        elif ("\t" not in raw and cells and len(raw.strip()) <= 15
              and not voc.section_number.match(raw.strip())):
            cells[-1] += raw.strip()
        else:
            break
        i += 1
    return cells, i
