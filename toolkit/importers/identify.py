"""Which unit, year and format a report is: from its title or opening text, and from the labels
of its tables (never from what the text claims)."""

from __future__ import annotations

import re

from toolkit.formats import Format, all_formats
from toolkit.importers.document import Document
from toolkit.importers.match import fold
from toolkit.importers.vocabulary import vocabulary


# ---------------------------------------------------------------- identity


def find_identity(doc: Document) -> tuple[str | None, int | None]:
    """Unit and year from the title, or from the opening text ("特向社会公布2020年度…信息公开年度报告")."""
    voc = vocabulary()
    opening = []
    for item in doc.items[:12]:
        opening.append(re.sub(r"\s+", "", item.text))
    texts = [re.sub(r"\s+", "", doc.title or ""), "".join(opening)[: voc.opening_chars]]
    unit = year = None
    for text in texts:
        if not text:
            continue
        for pattern in voc.title_patterns:
            m = pattern.search(text)
            if m:
                unit = unit or _clean_unit(m.group("unit"))
                year = year or int(m.group("year"))
                break
        if unit and year:
            break
    if year is None:
        whole = "".join(re.sub(r"\s+", "", it.text) for it in doc.items[:40])
        for pattern in voc.year_patterns:
            m = pattern.search(whole)
            if m:
                year = int(m.group("year"))
                break
    return unit, year


def _clean_unit(unit: str | None) -> str | None:
    if not unit:
        return None
    unit = re.sub(r"^(?:关于|特向社会公布|现将|公布)", "", unit)
    return unit or None


# ---------------------------------------------------------------- format


def _table_labels(fmt: Format) -> set[str]:
    out: set[str] = set()
    for table in fmt.tables:
        for block in table.blocks:
            for text in (block.caption, *block.variants):
                if text:
                    out.add(fold(text))
            for node in [*block.columns, *block.rows]:
                for n in node.walk():
                    for text in n.labels:
                        if text:
                            out.add(fold(text))
    return out


def detect_format(doc: Document) -> tuple[Format | None, dict[str, list[str]]]:
    """The format whose distinctive table labels the report uses most; None when no label tells.

    A label counts only when no longer label of another format found in the report contains it
    ("处理决定数量" of 2019 inside "本年处理决定数量" of 2021)."""
    formats = all_formats()
    labels = {f.id: _table_labels(f) for f in formats}
    text = "\n".join(fold(it.text) if not it.is_row else "\n".join(fold(c) for c in it.cells)
                     for it in doc.items)
    found: dict[str, list[str]] = {}
    for f in formats:
        others = set().union(*(labels[g.id] for g in formats if g.id != f.id))
        found[f.id] = [lab for lab in labels[f.id] - others if len(lab) >= 2 and lab in text]
    explained: dict[str, list[str]] = {}
    for f in formats:
        longer = [m for g in formats if g.id != f.id for m in found[g.id]]
        explained[f.id] = [lab for lab in found[f.id] if not any(lab in m and lab != m for m in longer)]
    best = max(formats, key=lambda f: (sum(len(x) for x in explained[f.id]), f.year_from))
    if not explained[best.id]:
        return None, explained
    return best, explained
