"""The finding types of ``nianbao audit`` (the catalogue: toolkit/checks/catalogue.py)."""

from __future__ import annotations

from toolkit.checks.catalogue import FindingType
from toolkit.model import ERROR, WARNING


class AuditSectionMissing(FindingType):
    code = "audit-section-missing"
    severity = ERROR
    title = "缺少报告的一部分"
    template = "没有找到第{number}部分“{section}”。"
    description = "One of the six official sections has no heading in the published report."


class AuditSectionOrder(FindingType):
    code = "audit-section-order"
    severity = WARNING
    title = "报告各部分顺序不对"
    template = "“{section}”（{where}）排在“{before}”之前，与标准格式的顺序不符。"
    description = "The six sections are present but not in the official order."


class AuditPeriodMissing(FindingType):
    code = "audit-period-missing"
    severity = WARNING
    title = "没有写明统计期限"
    template = "报告中没有写明数据的统计期限（如“统计期限自{year}年1月1日起至{year}年12月31日止”）。"
    description = "No sentence states the statistics period."


class AuditProblemsEmpty(FindingType):
    code = "audit-problems-empty"
    severity = ERROR
    title = "存在的主要问题及改进情况为空"
    template = "“存在的主要问题及改进情况”没有内容。"
    description = "The 存在的主要问题及改进情况 section is missing or empty."


class AuditProblemsCopied(FindingType):
    code = "audit-problems-copied"
    severity = WARNING
    title = "存在的主要问题照抄上年"
    template = ("“存在的主要问题及改进情况”{copied}/{total}句与{prior_year}年报告逐字相同"
                "（{prior_file}）。")
    description = "Most sentences of 存在的主要问题及改进情况 are word for word in the same body's previous report."


class AuditFeesUnexplained(FindingType):
    code = "audit-fees-unexplained"
    severity = WARNING
    title = "收费未作说明"
    template = "表二填报收费{amount}万元，但“其他需要报告的事项”中没有说明收费情况。"
    description = "表二 shows a 收费 amount above zero and 其他需要报告的事项 does not mention fees."


class AuditBlankCells(FindingType):
    code = "audit-blank-cells"
    severity = WARNING
    title = "表格有空白或“/”"
    template = "表格中有{blank}格空白、{slash}格填“/”（应填0）：{cells}。"
    description = "Table cells left empty or filled with a slash instead of a number."


class AuditOverviewLong(FindingType):
    code = "audit-overview-long"
    severity = WARNING
    title = "总体情况篇幅超限"
    template = "“总体情况”共{length}字，超过规定的{limit}字。"
    description = "The 总体情况 section is longer than the province's limit (templates/audit.yaml)."


class AuditTitleForm(FindingType):
    code = "audit-title-form"
    severity = WARNING
    title = "标题不规范"
    template = "标题“{found}”不符合“××{year}年政府信息公开工作年度报告”的规范写法。"
    description = "The report's title is not in the official form 〈机关〉〈年度〉年政府信息公开工作年度报告."


class AuditFeesSection(FindingType):
    code = "audit-fees-section"
    severity = WARNING
    title = "缺少收费情况"
    template = "2021年格式的“其他需要报告的事项”应说明信息处理费收取情况，报告中没有找到。"
    description = "A report in the 2021+ format says nothing about 信息处理费 in 其他需要报告的事项."


class AuditLate(FindingType):
    code = "audit-late"
    severity = WARNING
    title = "发布晚于截止日期"
    template = "报告落款日期{date}晚于{deadline}的发布期限。"
    description = "The date stated in the report is after the publication deadline (templates/audit.yaml)."


class AuditChanged(FindingType):
    code = "audit-changed-after-publication"
    severity = ERROR
    title = "发布后被修改"
    template = "{file}与{first_seen}记入档案时的版本不同（摘要由{old}变为{new}），发布后被修改过。"
    description = "The file's SHA-256 differs from the one recorded in the archive when the set was last audited."


class AuditCountySum(FindingType):
    code = "audit-county-sum"
    severity = WARNING
    title = "县级数字与所属单位之和不符"
    template = "{cell_label}：本报告为{actual}，{count}个所属单位{source}之和为{expected}。"
    description = ("A county government's figure differs from the sum of the same cell over its townships' and "
                   "departments' reports of the year (the set, or the archive's returned data with --archive).")
