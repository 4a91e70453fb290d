"""The January round: send the blank workbooks, mail findings back, see who has returned what,
and follow a unit's main figures across the years.

Everything here is callable from Python; the ``send``, ``status`` and ``history`` commands are
thin layers over :func:`send_requests`, :func:`send_findings`, :func:`round_status` and
:func:`unit_history`. One module a concern: :mod:`~toolkit.round.send` (request and findings
mails), :mod:`~toolkit.round.status` (who has returned what, and its workbook),
:mod:`~toolkit.round.history` (a unit's figures across the years, and their chart).
"""

from toolkit.round.common import RoundError, UnknownUnit, chinese_date, load_roster, parse_deadline
from toolkit.round.history import (
    Figure,
    History,
    cell_value,
    draw_history_chart,
    figure_cells,
    figure_value,
    history_figure,
    history_figures,
    resolve_unit,
    unit_history,
)
from toolkit.round.send import (
    FindingsItem,
    SendReport,
    Unreachable,
    findings_mails,
    load_findings,
    request_mails,
    send_findings,
    send_requests,
    workbook_attachment_name,
)
from toolkit.round.status import (
    RoundStatus,
    UnitStatus,
    in_zone,
    readable_time,
    report_zone,
    round_status,
    write_status_xlsx,
)

__all__ = [
    "RoundError", "UnknownUnit", "chinese_date", "load_roster", "parse_deadline",
    "Figure", "History", "cell_value", "draw_history_chart", "figure_cells", "figure_value",
    "history_figure", "history_figures", "resolve_unit", "unit_history",
    "FindingsItem", "SendReport", "Unreachable", "findings_mails", "load_findings", "request_mails",
    "send_findings", "send_requests", "workbook_attachment_name",
    "RoundStatus", "UnitStatus", "in_zone", "readable_time", "report_zone", "round_status",
    "write_status_xlsx",
]
