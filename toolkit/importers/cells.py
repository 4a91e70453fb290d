"""Cell text as published: whether a cell is a number, and its value through the workbook
reader's ``parse_value``, so that a typed value gives the same findings in a report as in a workbook."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from toolkit.importers.vocabulary import vocabulary
from toolkit.workbook.values import parse_value
from toolkit.workbook.values import vocabulary as value_vocabulary

NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
NOTE = re.compile(r"^(?P<head>.*?\S)\s*[（(](?P<note>[^（）()]*)[）)]\s*$")

# ---------------------------------------------------------------- value-like text


def squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _unit_words() -> tuple[str, ...]:
    voc = value_vocabulary()
    words = {w for ws in voc.units.values() for w in ws} | {w for ws in voc.wrong_units.values() for w in ws}
    for factors in vocabulary().unit_factors.values():
        words |= set(factors)
    return tuple(sorted(words, key=len, reverse=True))


def is_value(text: str, *, loose: bool = True) -> bool:
    """Whether a cell's text is a number as published: "12", "1,234", "2460.9543", "12件",
    "251000元", "22（其中修订16件）", "增", "减4", and (``loose``) "/", "—", "无"."""
    s = squash(text)
    if not s:
        return False
    voc = value_vocabulary()
    if loose and s.upper() in voc.not_applicable:
        return True
    m = NOTE.match(s)
    if m:
        s = m.group("head")
    changed = False
    for word in (*voc.increase, *voc.decrease):
        if s.startswith(word):
            s, changed = s[len(word):], True
            break
    for word in _unit_words():
        if s.endswith(word) and len(s) > len(word):
            s = s[: -len(word)]
            break
    return (changed and not s) or bool(NUMBER.match(s))



def parse_cell(text: str, kind) -> tuple[Decimal | None, str | None]:
    """A cell's text through the workbook reader's parse_value; a plain number (as every cell of
    a text report is text) goes in as a number, so it is not "a number stored as text"."""
    squashed = squash(text)
    if NUMBER.match(squashed):
        pv = parse_value(Decimal(squashed.replace(",", "")), kind)
    else:
        pv = parse_value(text if text.strip() else None, kind)
    return pv.value, pv.issue


def convert_unit(text: str, unit: str) -> Decimal | None:
    factors = vocabulary().unit_factors.get(unit, {})
    for word in sorted(factors, key=len, reverse=True):
        if text.endswith(word) and len(text) > len(word):
            head = text[: -len(word)].replace(",", "")
            if NUMBER.match(head) and word != unit:
                try:
                    return (Decimal(head) * factors[word]).normalize()
                except InvalidOperation:
                    return None
    return None
