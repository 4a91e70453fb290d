"""The table of ``nianbao``'s commands, readable without typer: each command's module and the
summary that opens its help page and names it on ``nianbao --help``, and what the root page
says of ``nianbao`` itself.

``nianbao --help`` is printed from this table alone (:func:`toolkit.cli.text.root_page`), and a
command's module is imported only when that command runs (:mod:`toolkit.cli.root`). A command's
``early`` function starts what the command will wait for (``check``: the reading helper) while
typer is still being imported; it is given the command's arguments that are not options, and a
wrong guess among them may only cost work, never change what the command does.
"""

from __future__ import annotations

from typing import NamedTuple

PROG = "nianbao"
ABOUT = "年报工具箱：政府信息公开工作年度报告的标准填报表、校验与报告生成。"
HELP_OPTIONS = ("-h", "--help")

ROOT_OPTIONS = {
    "version": ("--version", "显示版本号并退出。"),
    "debug": ("--debug", "程序内部出错时显示详细信息（同环境变量 NIANBAO_DEBUG=1）。"),
}
"""The flags of ``nianbao`` itself (before the command): parameter name -> (option, help)."""


class Command(NamedTuple):
    module: str  # registers the command on toolkit.cli.root.app when imported
    summary: str  # the first paragraph of its help page; the command function's docstring is the rest
    early: str = ""  # "module:function" called with the command's arguments before typer is imported


COMMANDS: dict[str, Command] = {
    "formats": Command("toolkit.cli.formats_cmd", "列出支持的年度报告格式及其适用年度、单元格和校验规则数量。"),
    "blank": Command("toolkit.cli.blank",
                     "生成空白的标准填报表（xlsx）：--unit 生成一个单位的，--roster 为名册中每个单位各生成一份。"),
    "demo": Command("toolkit.cli.demo", "用内置的样例名册和样例文件演示全过程，并说明文件写在哪里。"),
    "send": Command("toolkit.cli.send",
                    "给名单中每个有邮箱的单位发送其空白填报表；加 --findings 则给有错误的单位发送校验意见和批注副本。"),
    "status": Command("toolkit.cli.status", "列出名单中每个单位的报送情况：未报送、有错误、已通过，以及收到的时间。"),
    "history": Command("toolkit.cli.history",
                       "列出一个单位历年的主要数据：收到的申请及办理结果、行政复议和诉讼、行政许可和处罚。"),
    "render": Command("toolkit.cli.render",
                      "生成年度报告草稿（网页、Word、PDF、Markdown 或纯文本）。有错误的报告默认不生成，并列出问题。"),
    "check": Command("toolkit.cli.check", "校验各单位报回的填报表：逐项核对勾稽关系，列出每个问题所在的单元格。",
                     early="toolkit.batch:start_reading"),
    "import": Command("toolkit.cli.import_",
                      "导入已发布的年度报告，按标准格式读出各项数字并逐项校验，可写成标准填报表或数据 JSON。"),
    "serve": Command("toolkit.cli.serve",
                     "启动县里的网上报送平台：县政务公开办看全县报送情况，各乡镇、街道用专用链接上传和改正填报表。"),
    "audit": Command("toolkit.cli.audit", "评估已发布的年度报告：逐项打分、排名并统计常见问题。"),
    "compare": Command("toolkit.cli.compare",
                       "对比同一单位相邻两个年度的报告：逐格列出上年、本年、增减和增减百分比，标出变化较大的格子，\n"
                       "核对跨年度勾稽关系（上年结转、现行有效件数），找出与上年逐字相同的文字和与表格不符的数字。"),
}
"""Every command, in the order ``nianbao --help`` lists them (issues 1–16)."""
