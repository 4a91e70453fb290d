"""Compare Chinese labels the way people see them, not byte by byte."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[\s\u3000\u00a0]+")
_ITEM_NUMBER = re.compile(r"^(\d+)[,.]")  # "1、" and "1．" item numbers read as "1."
_WIDTH_MAP = str.maketrans({
    "（": "(", "）": ")", "，": ",", "：": ":", "；": ";", "、": ",", "．": ".",
    "“": '"', "”": '"', "‘": "'", "’": "'", "〔": "[", "〕": "]", "【": "[", "】": "]",
    "／": "/", "－": "-", "—": "-",
})


def normalize_label(text: object) -> str:
    """Fold width, brackets, quotes and whitespace so that variants of one label compare equal.

    ``"（二）部分公开（区分处理的，只计这一情形，不计其他情形）"`` and
    ``"(二) 部分公开(区分处理的,只计这一情形,不计其他情形)"`` normalise to the same string.
    """
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    s = s.translate(_WIDTH_MAP)
    s = _SPACES.sub("", s)
    s = _ITEM_NUMBER.sub(r"\1.", s)
    return s
