"""Where things are in a published report's text: section headings, the title, stated dates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from toolkit.formats import Format, Section
from toolkit.importers.document import Document, Item
from toolkit.labels import normalize_label

_NUMBERING = re.compile(r"^[一二三四五六七八九十]+[、.，,]|^第[一二三四五六七八九十]+部分[、:：]?")
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_PERIOD = re.compile(r"统计(期限|期间|时限|时段|范围)|自\s*\d{4}\s*年\s*1\s*月\s*1\s*日\s*(起)?\s*至")


@dataclass(frozen=True)
class Heading:
    section: Section
    item: Item
    index: int  # the item's position in the document

    @property
    def where(self) -> str:
        return self.item.where


def _bare(text: str) -> str:
    return _NUMBERING.sub("", normalize_label(text)).strip()


def find_headings(doc: Document, fmt: Format) -> dict[str, Heading]:
    """The first heading of each official section found in ``doc`` (by label or variant), by section id."""
    wanted = {s.id: {_bare(label) for label in (s.label, *s.variants)} for s in fmt.sections}
    found: dict[str, Heading] = {}
    for index, item in enumerate(doc.items):
        text = _bare(item.text)
        if not text or len(text) > 40:
            continue
        for section in fmt.sections:
            if section.id not in found and text in wanted[section.id]:
                found[section.id] = Heading(section, item, index)
                break
    return found


def title_item(doc: Document) -> tuple[str, Item | None]:
    """The report's title: the one given apart from the text, else its first line of text."""
    for item in doc.items:
        if item.text.strip() and not item.is_row:
            return (doc.title or item.text.strip()), item
    return doc.title or "", None


def period_item(doc: Document) -> Item | None:
    """The first item stating the statistics period."""
    return next((item for item in doc.items if not item.is_row and _PERIOD.search(item.text)), None)


def stated_date(doc: Document, after: int = 0, tail: int = 6) -> tuple[dt.date, Item] | None:
    """A date written at the end of the report (its signature date), if any: the last date in the
    last ``tail`` text items after item ``after``."""
    items = [i for i in doc.items[after:] if not i.is_row and i.text.strip()][-tail:]
    for item in reversed(items):
        matches = list(_DATE.finditer(item.text))
        if matches and len(item.text) <= 60:
            year, month, day = (int(g) for g in matches[-1].groups())
            try:
                return dt.date(year, month, day), item
            except ValueError:
                continue
    return None
