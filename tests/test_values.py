"""Typed value parsing: every way people fill a number cell, each with its finding code."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.checks import reading_findings
from toolkit.checks.catalogue import REGISTRY
from toolkit.workbook.values import float_to_decimal, parse_value, typed_text
from toolkit.formats import load_format

NEW, OLD = load_format("2021"), load_format("2019")
COUNT = NEW.kinds["count"]
MONEY = NEW.kinds["money"]
SIGNED = OLD.kinds["signed_item_count"]
ITEMS = OLD.kinds["item_count"]

CASES = [
    # raw, kind, value, issue
    (None, COUNT, "0", "value-blank"),
    ("", COUNT, "0", "value-blank"),
    ("   ", COUNT, "0", "value-blank"),
    ("\u3000", COUNT, "0", "value-blank"),
    (12, COUNT, "12", None),
    (0, COUNT, "0", None),
    (12.0, COUNT, "12", None),
    (" 12", COUNT, "12", "value-as-text"),
    ("12 ", COUNT, "12", "value-as-text"),
    ("1,234", COUNT, "1234", "value-as-text"),
    ("+5", SIGNED, "5", "value-as-text"),
    ("12.0", COUNT, "12.0", "value-as-text"),
    ("１２", COUNT, "12", "value-full-width"),
    ("１２．５", MONEY, "12.5", "value-full-width"),
    ("12件", COUNT, "12", "value-with-unit"),
    ("１２件", COUNT, "12", "value-with-unit"),
    ("3项", ITEMS, "3", "value-with-unit"),
    ("12 件", COUNT, "12", "value-with-unit"),
    ("3.5万元", MONEY, "3.5", "value-with-unit"),
    ("5元", MONEY, None, "value-wrong-unit"),
    ("2万元", COUNT, None, "value-wrong-unit"),
    ("/", COUNT, "0", "value-not-applicable"),
    ("／", COUNT, "0", "value-not-applicable"),
    ("—", COUNT, "0", "value-not-applicable"),
    ("——", COUNT, "0", "value-not-applicable"),
    ("-", COUNT, "0", "value-not-applicable"),
    ("无", COUNT, "0", "value-not-applicable"),
    ("不适用", MONEY, "0", "value-not-applicable"),
    ("增", SIGNED, None, "value-change-text"),
    ("减", SIGNED, None, "value-change-text"),
    ("增", COUNT, None, "value-change-text"),
    ("减4", COUNT, None, "value-change-text"),
    ("减4", SIGNED, "-4", "value-change-read"),
    ("增3", SIGNED, "3", "value-change-read"),
    ("减少2项", SIGNED, "-2", "value-change-read"),
    ("十二", COUNT, None, "value-not-a-number"),
    ("见附件", COUNT, None, "value-not-a-number"),
    ("1 2", COUNT, None, "value-not-a-number"),
    ("12%", COUNT, None, "value-not-a-number"),
    ("nan", COUNT, None, "value-not-a-number"),
    ("Infinity", COUNT, None, "value-not-a-number"),
    (True, COUNT, None, "value-not-a-number"),
    (dt.datetime(2024, 1, 2), COUNT, None, "value-not-a-number"),
    (float("nan"), COUNT, None, "value-not-a-number"),
    ("#DIV/0!", COUNT, None, "value-formula-error"),
    ("#REF!", MONEY, None, "value-formula-error"),
    (-3, COUNT, "-3", "value-negative"),
    ("-3", COUNT, "-3", "value-negative"),
    ("−3", COUNT, "-3", "value-negative"),
    (-3, SIGNED, "-3", None),
    (-1.5, MONEY, "-1.5", "value-negative"),
    (2.5, COUNT, "2.5", "value-fraction"),
    ("2.5", COUNT, "2.5", "value-fraction"),
    ("2.5件", COUNT, "2.5", "value-fraction"),
    (1.23456, MONEY, "1.23456", "value-too-precise"),
    (1.2345, MONEY, "1.2345", None),
    (2460.9543000000001, MONEY, "2460.9543", None),
    (0.1 + 0.2, MONEY, "0.3", None),
    (12.000000000000002, COUNT, "12", None),
]


@pytest.mark.parametrize("raw,kind,value,issue", CASES, ids=[repr(c[0]) + "-" + c[1].id for c in CASES])
def test_typed_values(raw, kind, value, issue):
    parsed = parse_value(raw, kind)
    assert parsed.issue == issue
    assert parsed.value == (None if value is None else Decimal(value))
    if value is not None:
        assert str(parsed.value) == value or parsed.value == Decimal(value)


def test_every_issue_is_a_catalogued_finding():
    issues = {c[3] for c in CASES if c[3]}
    assert issues == set(reading_findings.VALUE_CODES)
    for code in issues:
        assert code in REGISTRY
        ft = REGISTRY[code]
        message = ft.template.format(where="表三 （一）予以公开·自然人（D8）", typed="x", value="1", unit="件",
                                     decimals=0)
        assert "D8" in message and "{" not in message


def test_typed_is_what_the_file_shows():
    assert parse_value("12件", COUNT).typed == "12件"
    assert parse_value(2460.9543000000001, MONEY).typed == "2460.9543"
    assert typed_text(dt.datetime(2024, 1, 2)) == "2024-01-02"
    assert typed_text(None) == ""


@given(st.integers(min_value=0, max_value=10**12))
def test_whole_numbers_round_trip(n):
    assert parse_value(n, COUNT) == parse_value(n, COUNT).__class__(Decimal(n), None, str(n))
    as_text = parse_value(f" {n}", COUNT)
    assert (as_text.value, as_text.issue) == (Decimal(n), "value-as-text")
    full = parse_value(str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９")), COUNT)
    assert (full.value, full.issue) == (Decimal(n), "value-full-width")
    with_unit = parse_value(f"{n}件", COUNT)
    assert (with_unit.value, with_unit.issue) == (Decimal(n), "value-with-unit")


@given(st.decimals(min_value=0, max_value=10**8, places=4, allow_nan=False, allow_infinity=False))
def test_money_through_float_is_what_was_typed(d):
    parsed = parse_value(float(d), MONEY)
    assert parsed.issue is None
    assert parsed.value == d


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_float_to_decimal_is_close_and_short(x):
    d = float_to_decimal(x)
    assert abs(float(d) - x) <= abs(x) * 1e-14 + 1e-300
    assert len(d.as_tuple().digits) <= 15
