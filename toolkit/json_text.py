"""JSON text as ``json.dumps(value, ensure_ascii=False, indent=2)`` writes it, made faster.

With ``indent`` the standard library encodes in pure Python, a generator step per token; a
batch's report is mostly that. :func:`dumps_indented` writes the same text from plain data
(dicts with string keys, lists, tuples, strings, ints, floats, booleans, None), strings escaped
by the standard library's C escaper; anything else goes to ``json.dumps`` itself.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

_INFINITY = float("inf")


class _Unusual(Exception):
    """A value this encoder leaves to ``json.dumps`` (another type, a subclass, a non-string key)."""


def dumps_indented(value: Any, margin: str = "") -> str:
    """``json.dumps(value, ensure_ascii=False, indent=2)``, each line after the first starting
    with ``margin`` too (the text of a value nested at that depth)."""
    out: list[str] = []
    try:
        _encode(value, "\n" + margin, out)
    except _Unusual:
        text = json.dumps(value, ensure_ascii=False, indent=2)
        return text.replace("\n", "\n" + margin) if margin else text
    return "".join(out)


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _encode(value: Any, newline: str, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is float:
        out.append(_float(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual
            out.append(separator)
            out.append(encode_basestring(key))
            out.append(": ")
            _encode(item, inner, out)
            separator = "," + inner
        out.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            out.append(separator)
            _encode(item, inner, out)
            separator = "," + inner
        out.append(newline + "]")
    else:
        raise _Unusual
