"""The narrative of two reports set side by side: the sentences of this year's text copied word
for word from last year's (``carried_over``)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from toolkit.formats import load_format
from toolkit.model import ReportData

MIN_CHARS = 15
"""Sentences shorter than this (after normalising) are never flagged: titles, 无。, boilerplate."""

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|\n+")


@dataclass(frozen=True)
class CarriedSentence:
    """One sentence of this year's part ``part_id`` (label ``label``) found in last year's part
    ``last_part_id``; ``sentence`` is this year's text as written."""

    part_id: str
    label: str
    sentence: str
    last_part_id: str


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, ended by 。！？； or a line break, each stripped."""
    return [s.strip() for s in _SENTENCE_END.split(text or "") if s and s.strip()]


def normalise_sentence(sentence: str) -> str:
    """What is compared: NFKC-folded (full-width digits and letters), without whitespace,
    punctuation or symbols."""
    folded = unicodedata.normalize("NFKC", sentence)
    return "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch)[0] not in "PSZ")


def carried_over(last: ReportData, this: ReportData, min_chars: int = MIN_CHARS) -> list[CarriedSentence]:
    """The sentences of ``this`` year's narrative that are, once normalised
    (:func:`normalise_sentence`), word for word a sentence of ``last`` year's narrative (in any
    part), at least ``min_chars`` characters long; in the order of the format's parts and of the
    text. A sentence repeated within this year's part is listed once."""
    seen_last: dict[str, str] = {}
    for part_id, text in last.narrative.items():
        for sentence in split_sentences(text):
            key = normalise_sentence(sentence)
            if len(key) >= min_chars:
                seen_last.setdefault(key, part_id)
    if not seen_last:
        return []
    fmt = load_format(str(this.format))
    labels = {p.id: p.label for p in fmt.parts}
    order = [p.id for p in fmt.parts] + [p for p in this.narrative if p not in labels]
    out: list[CarriedSentence] = []
    for part_id in order:
        found: set[str] = set()
        for sentence in split_sentences(this.narrative.get(part_id) or ""):
            key = normalise_sentence(sentence)
            if key in seen_last and key not in found:
                found.add(key)
                out.append(CarriedSentence(part_id, labels.get(part_id, part_id), sentence, seen_last[key]))
    return out
