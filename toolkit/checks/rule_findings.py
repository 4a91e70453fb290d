"""Finding types raised by the rule engine: declared rules, plausibility, cross-year and identity.

Rule findings take their message from the rule's ``message`` in the format file; the
``template`` here is the generic wording used in the catalogue and for anything without one.
"""

from __future__ import annotations

from toolkit.checks.catalogue import FindingType
from toolkit.model import ERROR, WARNING


class TotalMismatch(FindingType):
    code = "total-mismatch"
    severity = ERROR
    title = "合计数与各项之和不符"
    template = "{cell_label}应为各项之和{expected}，填报为{actual}（{cell}）"
    description = (
        "A `sum` rule: the total as stored in the file (a typed number, or the cached result of its "
        "formula) differs from the sum of its parts, recomputed from the input cells.")


class TotalTypedOver(FindingType):
    code = "total-typed-over"
    severity = WARNING
    title = "合计公式被改成手填数字（数值正确）"
    template = "{cell_label}的计算公式被改成了手填数字{actual}，数值与各项之和一致，建议恢复公式（{cell}）"
    description = (
        "A total cell that should hold a formula holds a typed number equal to the recomputed sum. "
        "Raised once per cell, only when the reader can see formulas.")


class TotalTypedOverWrong(FindingType):
    code = "total-typed-over-wrong"
    severity = ERROR
    title = "合计公式被改成手填数字（数值错误）"
    template = "{cell_label}的计算公式被改成了手填数字{actual}，与各项之和{expected}不一致（{cell}）"
    description = (
        "A total cell whose formula was replaced by a typed number that differs from the recomputed "
        "sum. The message is the rule's message followed by a note that the formula was typed over.")
    note = "；该格的计算公式已被改成手填数字，请恢复公式"


class TotalFormulaDeleted(FindingType):
    code = "total-formula-deleted"
    severity = WARNING
    title = "合计公式被删除"
    template = "{cell_label}的计算公式被删除了，单元格是空的；按各项之和应为{expected}，请恢复公式（{cell}）"
    description = (
        "A total cell that should hold a formula is empty and has no formula (only when the reader "
        "can see formulas). The checks use the recomputed value. Raised once per cell.")


class TableIncomplete(FindingType):
    code = "table-incomplete"
    severity = WARNING
    title = "统计表不完整，部分勾稽关系未校验"
    template = ("{table}不完整（缺{missing}个单元格），涉及所缺单元格的{rules}条勾稽关系未校验；"
                "请对照完整的统计表核实。")
    description = (
        "The source lacks some cells of a table (rows missing from a published report, a report cut "
        "inside the table) but not the whole table: rules that use a missing cell are not evaluated, "
        "instead of reporting imbalances of partial rows. One finding per table.")


class RuleNotEqual(FindingType):
    code = "rule-not-equal"
    severity = ERROR
    title = "勾稽关系不成立"
    template = "{cell_label}：两边应相等，一边为{actual}，另一边为{expected}（{cell}）"
    description = (
        "An `equal` rule without last year's terms does not hold, e.g. the official 表三 balance "
        "第一项+第二项=第三项+第四项. Totals among its terms are recomputed from input cells.")


class PriorYearMismatch(FindingType):
    code = "prior-year-mismatch"
    severity = ERROR
    title = "与上年报告数据衔接不上"
    template = "{cell_label}为{actual}，按上年报告应为{expected}（{cell}）"
    description = (
        "An `equal` rule with `prior:` terms (last year's values, given with `--prior`) does not "
        "hold. The severity is the rule's. Skipped silently when last year is not known.")


class ImplausibleValue(FindingType):
    code = "implausible-value"
    severity = WARNING
    title = "数据不合常理"
    template = "{cell_label}为{actual}，不应少于{expected}，请核实（{cell}）"
    description = "An `at_least` rule does not hold: numbers that cannot be true together."


class UnitShouldBeZero(FindingType):
    code = "unit-should-be-zero"
    severity = WARNING
    title = "该类单位不应有此项数据"
    template = "{unit}按其类型不应有此项数据，但{cell_label}填报为{actual}，请核实（{cell}）"
    description = (
        "A `unit_zero` rule: the unit's name matches the rule's `units` pattern (e.g. a 乡/镇/街道, "
        "which cannot make 规章) but one of the rule's cells is not zero. One finding per cell.")


class NarrativeContradictsZero(FindingType):
    code = "narrative-contradicts-zero"
    severity = WARNING
    title = "文字部分与表格数据矛盾"
    template = "表格中相关数据均为0，但文字部分“{part}”写有“{quote}”，请核实"
    description = (
        "A `narrative_zero` rule: all the rule's cells are zero, yet a narrative part matches the "
        "rule's `pattern` with a non-zero number (e.g. 表三 all zero while the text says 收到申请3件).")


class NarrativeNumberDiffers(FindingType):
    code = "narrative-number-differs"
    severity = WARNING
    title = "文字部分的数字与表格不一致"
    template = "文字部分“{part}”写有“{quote}”，与表格中的{expected}不一致，请核实（{cell}）"
    description = (
        "A `narrative_number` rule: a narrative part states a number (e.g. 受理政府信息公开申请17件) "
        "that differs from the sum of the rule's cells (表三 本年新收 总计 95).")


class UnitNotInRoster(FindingType):
    code = "unit-not-in-roster"
    severity = WARNING
    title = "单位名称不在名单中"
    template = "文件中填写的单位名称“{unit}”不在单位名单中{hint}"
    description = "The unit name recorded in the file matches no unit of the roster given with `--roster`."


class UnitDiffersFromFileName(FindingType):
    code = "unit-differs-from-file-name"
    severity = WARNING
    title = "单位名称与文件名不一致"
    template = "文件名“{file_name}”看起来是{named}的，但文件中填写的单位名称是“{unit}”，请核实是否发错了文件"
    description = (
        "The file name names a unit (a roster unit, or without a roster a name ending like a unit "
        "name, see templates/identity.yaml) that differs from the unit name recorded in the file.")


class YearDiffers(FindingType):
    code = "year-differs"
    severity = WARNING
    title = "报告年度与本次校验年度不一致"
    template = "文件中填写的报告年度是{actual}年，本次校验的是{expected}年的报告，请核实"
    description = "The year recorded in the file differs from the year given with `--year`."


class YearDiffersFromFileName(FindingType):
    code = "year-differs-from-file-name"
    severity = WARNING
    title = "报告年度与文件名不一致"
    template = "文件名“{file_name}”写的是{expected}年，但文件中填写的报告年度是{actual}年，请核实"
    description = "The file name carries exactly one year (19xx/20xx) and it differs from the year in the file."


class PriorYearNotPrevious(FindingType):
    code = "prior-not-previous-year"
    severity = WARNING
    title = "上年报告的年度不对"
    template = "作为上年报告比对的文件是{actual}年的，而本报告是{year}年的，应使用{expected}年的报告"
    description = "The report given with `--prior` is not for the year before this report's year."


class PriorUnitDiffers(FindingType):
    code = "prior-unit-differs"
    severity = WARNING
    title = "上年报告的单位不同"
    template = "作为上年报告比对的是“{actual}”的报告，与本报告的单位“{expected}”不同，请核实"
    description = "The only last-year report given with `--prior` is for another unit; it is used anyway."


class CheckFailed(FindingType):
    code = "check-failed"
    severity = ERROR
    title = "校验此文件时程序出错"
    template = "校验此文件时程序出错（{detail}），其他文件不受影响；请把此文件发给工具维护人员"
    description = (
        "An unexpected exception while reading or checking one file (a bug). The batch goes on; "
        "the exception text is kept in the message, never a traceback.")
