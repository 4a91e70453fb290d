"""Finding types of ``nianbao compare`` (the cross-year rules reuse the checks' own)."""

from __future__ import annotations

from toolkit.checks.catalogue import FindingType
from toolkit.model import WARNING


class NarrativeCarriedOver(FindingType):
    code = "narrative-carried-over"
    severity = WARNING
    title = "文字部分照搬上年报告"
    template = "文字部分“{part}”有{count}句与上年报告逐字相同，如：“{quote}”"
    description = (
        "nianbao compare: sentences of a narrative part are word for word (spaces and punctuation "
        "aside) sentences of last year's report (toolkit.narrative.carried_over). One per part.")


class ChangeFlagged(FindingType):
    code = "change-flagged"
    severity = WARNING
    title = "与上年相比变化较大"
    template = "{cell_label}：上年{expected}，本年{actual}，{flag}，请核实（{cell}）"
    description = (
        "nianbao compare: a cell's change from last year matches a flag of templates/compare/compare.yaml "
        "(e.g. a count at least doubling, or dropping to zero, from at least 5).")
