"""Match the labels of a published report to the official labels, by meaning.

Labels are compared after :func:`fold` (``normalize_label`` plus traditional characters folded to
simplified ones), then in stages, each scored 0..1:

- the official label itself (1.0; widths, spaces and "1、" for "1." are typography, not variants),
  or a known variant from the format file, or the label in traditional characters (0.98, a variant);
- the same words without item numbers or punctuation ("予以公开" for "（一）予以公开": 0.95, a variant);
- the official label inside a longer text, as PDF extraction leaves it ("三 2.其他法律…": the
  label's share of the text), or a text that is a long enough piece of one label (a label cell
  broken over lines);
- a loose match (difflib ratio) for typos ("其他法律行政止公开"): a variant.

Which stage matched tells whether the report used the official wording: anything but the official
label, or the official label with extraction debris around it, is reported as a variant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Iterable, Sequence

from toolkit.importers.vocabulary import vocabulary
from toolkit.labels import normalize_label

# Traditional -> simplified for every character of the official labels and headings
# (generated once with OpenCC s2t over templates/formats/*.yaml and the report vocabulary).
_TRADITIONAL = (
    "萬與業爲舉鄉於會體關內寫決況準減辦務動區華單卻廳縣發臺號後員國處復實審對屬應廢開強當總執護報據數無時機權條構"
    "標欄沒現監確祕穩類糾納組織經結統繼續維繳罰範獲補規計認訓議許訟設訪訴詢請購費資轉過這進採鎮問項題額複佈於")
_SIMPLIFIED = (
    "万与业为举乡于会体关内写决况准减办务动区华单却厅县发台号后员国处复实审对属应废开强当总执护报据数无时机权条构"
    "标栏没现监确秘稳类纠纳组织经结统继续维缴罚范获补规计认训议许讼设访诉询请购费资转过这进采镇问项题额复布于")
_FOLD = str.maketrans(_TRADITIONAL, _SIMPLIFIED)
_PUNCT = re.compile(r"[,.;:!?\"'()\[\]<>/\\\-_~·•、。，；：！？“”‘’（）【】《》〈〉…]+")


@lru_cache(maxsize=65536)
def _fold(text: str) -> str:
    s = normalize_label(text).translate(_FOLD)
    return re.sub(r"(?<!\d)(\d{1,2}),(?=\D)", r"\1.", s)


def fold(text: object) -> str:
    """``normalize_label`` plus traditional characters folded to simplified ones, and "3、" read
    as "3." anywhere (not only at the start), so that debris before an item number does not hide it."""
    return _fold("" if text is None else str(text))


def core(text: object) -> str:
    """The words of a label: folded, without a leading item number and without punctuation."""
    return _core("" if text is None else str(text))


@lru_cache(maxsize=65536)
def _core(text: str) -> str:
    s = fold(text)
    s = re.sub(vocabulary().label_number, "", s)
    return _PUNCT.sub("", s)


EXACT, VARIANT, NUMBERLESS, CONTAINS, PIECE, LOOSE = "exact", "variant", "numberless", "contains", "piece", "loose"


@dataclass(frozen=True)
class Match:
    key: object  # what the caller attached to the label (a node, a section, ...)
    score: float
    how: str  # EXACT, VARIANT, NUMBERLESS, CONTAINS, PIECE, LOOSE
    label: str  # the official label
    via: str  # the label or variant that matched

    @property
    def is_variant(self) -> bool:
        """True when the report did not use the official wording."""
        if self.how == EXACT:
            return False
        if self.how in (CONTAINS, PIECE):
            return self.via != self.label
        return True


@dataclass(frozen=True)
class _Entry:
    key: object
    label: str
    via: str
    norm: str
    folded: str
    core: str
    official: bool


class LabelIndex:
    """A set of official labels (each with its variants) to match report text against."""

    def __init__(self, items: Iterable[tuple[object, str, Sequence[str]]]):
        self.entries: list[_Entry] = []
        for key, label, variants in items:
            for i, text in enumerate((label, *variants)):
                if not text:
                    continue
                self.entries.append(_Entry(key, label, text, normalize_label(text), fold(text), core(text), i == 0))

    def scores(self, text: str, *, pieces: bool = True) -> list[Match]:
        """Every key's best match for ``text``, best first (score > 0 only)."""
        best: dict[int, Match] = {}
        probe = (fold(text), core(text), normalize_label(text))
        for entry in self.entries:
            m = _score(probe, entry, pieces)
            if m is None:
                continue
            old = best.get(id(entry.key))
            if old is None or m.score > old.score:
                best[id(entry.key)] = m
        return sorted(best.values(), key=lambda m: -m.score)

    def best(self, text: str, threshold: float, *, pieces: bool = True) -> Match | None:
        """The best match at or over ``threshold`` when it is unambiguous, else None."""
        found = [m for m in self.scores(text, pieces=pieces) if m.score >= threshold]
        if not found:
            return None
        if len(found) > 1 and found[1].score >= found[0].score - 1e-9:
            return None
        return found[0]


def _score(probe: tuple[str, str, str], entry: _Entry, pieces: bool) -> Match | None:
    folded, c, norm = probe
    if not folded:
        return None

    def match(score: float, how: str) -> Match:
        return Match(entry.key, score, how, entry.label, entry.via)

    if folded == entry.folded:
        if entry.official and norm == entry.norm:
            return match(1.0, EXACT)
        return match(0.98, VARIANT)  # a known variant, or traditional characters
    if not c or not entry.core:
        return None
    if c == entry.core:
        return match(0.95, NUMBERLESS)
    if entry.core in c:
        # debris around the label: the more of the text the label explains, the better
        return match(0.55 + 0.4 * len(entry.core) / len(c), CONTAINS)
    if pieces and len(c) >= 6 and c in entry.core:
        return match(0.5 + 0.4 * len(c) / len(entry.core), PIECE)
    ratio = _ratio(c, entry.core)
    if ratio >= 0.6:
        return match(0.9 * ratio, LOOSE)
    return None


@lru_cache(maxsize=65536)
def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()
