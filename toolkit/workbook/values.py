"""Typed value parsing: what a person typed into a number cell -> a Decimal and at most one issue.

Every issue is a finding code of the catalogue (toolkit/checks/reading_findings.py). Decisions
(documented in docs/findings.md through the catalogue):

- blank (None, "", spaces): 0, warning ``value-blank``.
- a number stored as text (" 12", "1,234", "+5"): read, warning ``value-as-text``.
- full-width digits ("１２"): read, warning ``value-full-width``.
- a number with a unit word of the cell's unit ("12件", "3.5万元"): read, warning ``value-with-unit``;
  a unit that changes the meaning ("5元" in a 万元 cell): error ``value-wrong-unit``, no value.
- "/", "—", "-", "无" ... (not applicable): 0, warning ``value-not-applicable``. 0 rather than
  None, so that the official sums still add up: a township writing "无" means "none".
- "增", "减4": in a signed cell (2019 本年增/减) "减4" is read as -4 and "增4" as 4 with the
  warning ``value-change-read``; a word without a number, or such a word in an unsigned cell, is
  the error ``value-change-text`` with no value.
- any other text, a TRUE/FALSE, a date: error ``value-not-a-number``, no value.
- an Excel error ("#DIV/0!", "#REF!"): error ``value-formula-error``, no value.
- a negative number where the kind has a minimum: error ``value-negative`` (value kept).
- a fraction in a cell with no decimals (counts): error ``value-fraction`` (value kept).
- more decimals than the kind keeps (money: 4): warning ``value-too-precise``, the value is kept
  as typed (what was typed is what is printed).
- floats from the file are read through their shortest 15-significant-digit form, as Excel shows
  them: 2460.9543000000001 is 2460.9543 and 0.30000000000000004 is 0.3, with no issue.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from toolkit.formats import TEMPLATES_DIR, Kind, load_yaml

MAX_TEXT = 40  # longer text is never read as a number

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_GROUPED = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+)(\.\d+)?$")
_FULL_WIDTH = re.compile(r"[\uff10-\uff19\uff0b\uff0d\uff0e\uff0c]")
_MINUS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-"})
_SPACES = re.compile(r"[\s\u3000\u00a0]+")
_SPLIT_DIGITS = re.compile(r"\d[\s\u00a0]+[\d.]")
_EXCEL_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                 "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!"}


@dataclass(frozen=True)
class ParsedValue:
    """The outcome of reading one typed value.

    ``value`` is the Decimal to compute with (None when nothing usable was typed); ``issue``
    the finding code of the one problem reported for it (the most serious), or None; ``typed``
    the text shown in messages (what the person typed, as the file stores it).
    """

    value: Decimal | None
    issue: str | None = None
    typed: str = ""

    @property
    def ok(self) -> bool:
        return self.issue is None


@dataclass(frozen=True)
class Vocabulary:
    not_applicable: frozenset[str]
    increase: tuple[str, ...]
    decrease: tuple[str, ...]
    units: dict[str, tuple[str, ...]]
    wrong_units: dict[str, tuple[str, ...]]
    unit_patterns: tuple[re.Pattern, ...]
    year_patterns: tuple[re.Pattern, ...]
    not_filled_share: float = 0.0


def _fold(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text).translate(_MINUS))


@lru_cache(maxsize=None)
def vocabulary() -> Vocabulary:
    """The reading vocabulary from ``templates/reading.yaml``."""
    data = load_yaml(TEMPLATES_DIR / "reading.yaml")

    def longest_first(words):
        return tuple(sorted((_fold(w) for w in words), key=len, reverse=True))

    return Vocabulary(
        not_applicable=frozenset(_fold(w).upper() for w in data["not_applicable"]),
        increase=longest_first(data["change_words"]["increase"]),
        decrease=longest_first(data["change_words"]["decrease"]),
        units={k: longest_first(v) for k, v in data["units"].items()},
        wrong_units={k: longest_first(v) for k, v in data["wrong_units"].items()},
        unit_patterns=tuple(re.compile(p) for p in data["unit_patterns"]),
        year_patterns=tuple(re.compile(p) for p in data["year_patterns"]),
        not_filled_share=float(data["not_filled"]["max_filled_share"]),
    )


def typed_text(raw: Any) -> str:
    """How a raw cell value is shown in messages."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float):
        return format(float_to_decimal(raw), "f") if math.isfinite(raw) else str(raw)
    if isinstance(raw, _dt.datetime):
        return raw.strftime("%Y-%m-%d") if raw.time() == _dt.time() else raw.strftime("%Y-%m-%d %H:%M")
    if isinstance(raw, (_dt.date, _dt.time)):
        return raw.isoformat()
    return str(raw)


def float_to_decimal(x: float) -> Decimal:
    """A float from a file as Excel shows it: 15 significant digits, float noise removed."""
    d = Decimal(format(x, ".15g"))
    if d == d.to_integral_value():
        return d.quantize(Decimal(1))
    return d.normalize()


def _decimals(d: Decimal) -> int:
    exp = d.as_tuple().exponent
    return -exp if isinstance(exp, int) and exp < 0 else 0


def _strip_unit(text: str, words: tuple[str, ...]) -> tuple[str, str | None]:
    for word in words:
        if text.endswith(word) and len(text) > len(word):
            return text[: -len(word)], word
        if text.endswith(f"({word})") and len(text) > len(word) + 2:
            return text[: -len(word) - 2], word
    return text, None


def _number(text: str) -> Decimal | None:
    if len(text) > MAX_TEXT:
        return None
    grouped = _GROUPED.match(text)
    if grouped:
        text = grouped.group(1) + grouped.group(2).replace(",", "") + (grouped.group(3) or "")
    if not _NUMBER.match(text):
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _checked(value: Decimal, kind: Kind, typed: str, issue: str | None) -> ParsedValue:
    if kind.min is not None and value < Decimal(str(kind.min)):
        return ParsedValue(value, "value-negative", typed)
    places = _decimals(value.normalize()) if value != value.to_integral_value() else 0
    if places and kind.decimals == 0:
        return ParsedValue(value, "value-fraction", typed)
    if places > kind.decimals:
        return ParsedValue(value, "value-too-precise", typed)
    return ParsedValue(value, issue, typed)


_SHARED_INTS = 1024
_INT_VALUES: dict[int, ParsedValue] = {}  # the outcome of a small whole number, whatever the kind (immutable)


def parse_value(raw: Any, kind: Kind) -> ParsedValue:
    """Read one cell value (as the workbook source gives it) for a cell of ``kind``.

    See the module docstring for every case and its finding code.
    """
    if type(raw) is int:
        if 0 <= raw < _SHARED_INTS:
            parsed = _INT_VALUES.get(raw)
            if parsed is None:
                parsed = _INT_VALUES[raw] = ParsedValue(Decimal(raw), None, str(raw))
            return parsed
        if raw >= 0 or kind.min is None:
            return ParsedValue(Decimal(raw), None, str(raw))
        return _checked(Decimal(raw), kind, str(raw), None)
    typed = typed_text(raw)
    if raw is None:
        return ParsedValue(Decimal(0), "value-blank", typed)
    if isinstance(raw, bool) or isinstance(raw, (_dt.date, _dt.time, _dt.timedelta)):
        return ParsedValue(None, "value-not-a-number", typed)
    if isinstance(raw, int):
        return _checked(Decimal(raw), kind, typed, None)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            return ParsedValue(None, "value-not-a-number", typed)
        return _checked(float_to_decimal(raw), kind, typed, None)
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            return ParsedValue(None, "value-not-a-number", typed)
        return _checked(raw, kind, typed, None)
    return _parse_text(str(raw), kind, typed)


def _parse_text(text: str, kind: Kind, typed: str) -> ParsedValue:
    if not text.strip():
        return ParsedValue(Decimal(0), "value-blank", typed)
    if text.strip().upper() in _EXCEL_ERRORS:
        return ParsedValue(None, "value-formula-error", typed)
    voc = vocabulary()
    full_width = bool(_FULL_WIDTH.search(text))
    if _SPLIT_DIGITS.search(unicodedata.normalize("NFKC", text)):
        return ParsedValue(None, "value-not-a-number", typed)
    folded = _fold(text)
    if folded.upper() in voc.not_applicable:
        return ParsedValue(Decimal(0), "value-not-applicable", typed)
    issue = "value-full-width" if full_width else "value-as-text"

    folded, wrong = _strip_unit(folded, voc.wrong_units.get(kind.unit, ()))
    if wrong and _number(folded) is not None:
        return ParsedValue(None, "value-wrong-unit", typed)
    if wrong:
        folded = folded + wrong
    folded, unit = _strip_unit(folded, voc.units.get(kind.unit, (kind.unit,)))
    if unit:
        issue = "value-with-unit"

    sign = 0
    for word, s in [(w, 1) for w in voc.increase] + [(w, -1) for w in voc.decrease]:
        if folded.startswith(word):
            sign, folded = s, folded[len(word):]
            break
    if sign:
        number = _number(folded)
        if number is None or not kind.signed or number < 0:
            return ParsedValue(None, "value-change-text", typed)
        return _checked(sign * number, kind, typed, "value-change-read")

    number = _number(folded)
    if number is None:
        return ParsedValue(None, "value-not-a-number", typed)
    return _checked(number, kind, typed, issue)
