"""The finding catalogue: docs/findings.md is current, every code and template is well formed."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from toolkit.checks.catalogue_doc import DOC_PATH, load_all_finding_types, placeholders, render_catalogue
from toolkit.checks.engine import RULE_KINDS, message_placeholders, render, rule_finding_types
from toolkit.formats import all_formats, load_format

REGISTRY = load_all_finding_types()


def test_docs_findings_md_is_current():
    assert DOC_PATH.is_file(), "run: python -m toolkit.checks.catalogue_doc"
    assert DOC_PATH.read_text(encoding="utf-8") == render_catalogue(), "run: python -m toolkit.checks.catalogue_doc"


def test_catalogue_lists_every_code_and_every_rule():
    text = render_catalogue()
    for code in REGISTRY:
        assert f"| `{code}` |" in text
    for fmt in all_formats():
        for rule in fmt.rules:
            assert f"| `{rule.id}` | {rule.kind} | {rule.severity} |" in text


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_every_finding_type_is_well_formed_and_renders(code):
    ft = REGISTRY[code]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code)
    assert ft.severity in ("error", "warning")
    assert ft.title and re.search(r"[\u4e00-\u9fff]", ft.title)
    assert ft.description
    fields = {name: f"<{name}>" for name in placeholders(ft.template)}
    finding = ft.make(**fields)
    assert finding.code == code and finding.severity == ft.severity
    assert "{" not in finding.message and "}" not in finding.message
    for name in fields:
        assert f"<{name}>" in finding.message


def test_rule_finding_types_are_registered():
    for fmt in all_formats():
        for rule in fmt.rules:
            assert rule.kind in RULE_KINDS
            for ft in rule_finding_types(rule):
                assert REGISTRY[ft.code] is ft


@pytest.mark.parametrize("format_id", ["2021", "2019"])
def test_every_rule_message_uses_only_what_the_engine_fills(format_id):
    fmt = load_format(format_id)
    for rule in fmt.rules:
        used = set(placeholders(rule.message))
        assert used <= message_placeholders(rule), (rule.id, used - message_placeholders(rule))
        sample = {name: Decimal(7) for name in message_placeholders(rule)}
        text = render(rule.message, sample)
        assert "{" not in text and "}" not in text, rule.id


def test_wording_and_messages_are_chinese():
    for fmt in all_formats():
        for rule in fmt.rules:
            assert re.search(r"[\u4e00-\u9fff]", rule.wording) and re.search(r"[\u4e00-\u9fff]", rule.message)
