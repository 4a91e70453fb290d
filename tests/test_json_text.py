"""The fast indented JSON writer gives json.dumps' text, byte for byte."""

from __future__ import annotations

import json
from decimal import Decimal
from enum import IntEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.json_text import dumps_indented

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                    st.text())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                                                        st.dictionaries(st.text(), inner, max_size=4)),
                      max_leaves=30)


def expected(value, margin=""):
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + margin)


@settings(max_examples=400)
@given(values, st.sampled_from(["", "    ", "\t"]))
def test_same_text_as_json_dumps(value, margin):
    assert dumps_indented(value, margin) == expected(value, margin)


class Level(IntEnum):
    HIGH = 2


@pytest.mark.parametrize("value", [
    {"中文": "引号\"与\\反斜杠\n换行\u2028", "控制": "\x00\x1f\x7f"},
    {1: "int key", None: "none key", 2.5: "float key", True: "bool key"},
    [Level.HIGH, {"level": Level.HIGH}],
    {"nested": [[], {}, [[]], {"a": {}}]},
])
def test_unusual_values_as_json_dumps(value):
    assert dumps_indented(value, "  ") == expected(value, "  ")


def test_what_json_cannot_write_is_refused_alike():
    with pytest.raises(TypeError):
        json.dumps({"x": Decimal("1")})
    with pytest.raises(TypeError):
        dumps_indented({"x": Decimal("1")})
