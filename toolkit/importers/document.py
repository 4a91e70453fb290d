"""What every report reader produces: the report as a flat sequence of items in reading order.

An item is either a line or paragraph of text, or a table row whose cells have real boundaries
(tab-separated, ``|``-separated, one cell per line, an HTML or Word table row). Merged cells of
HTML and Word tables appear once, in the row where they start, so a row holds the cells that
start in it, left to right: the same shape as a tab-separated text row. Everything after this
(finding sections, tables, numbers) is shared by all input kinds, in toolkit/importers/assemble.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Item:
    cells: list[str]
    where: str  # where it is, for messages: "第12行", "第2个表格第5行", "第7段"
    line: int  # 1-based line of a text file, or the item's ordinal in an HTML/Word document
    is_row: bool = False  # cells have real boundaries

    @property
    def text(self) -> str:
        """The item as running text (cells joined: tabs inside Chinese prose are debris)."""
        return "".join(self.cells).strip() if self.is_row else self.cells[0]

    @property
    def non_empty(self) -> list[str]:
        return [c for c in self.cells if c.strip()]


@dataclass
class Document:
    items: list[Item]
    kind: str  # text | markdown | html | docx
    source: str | None = None
    title: str | None = None  # a title given apart from the text (front matter, <title>, Word title)
    wrapped: bool = False  # prose lines are hard-wrapped (text extracted from PDF)
    line_width: int = 0  # the length of a full line of hard-wrapped prose
    meta: dict[str, str] = field(default_factory=dict)
