"""What every part of the round shares: its errors, the deadline as a date, the roster's entries."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from toolkit.model import Finding


class RoundError(Exception):
    """A problem that stops a whole command (an unreadable roster or findings file)."""


class UnknownUnit(RoundError):
    """``nianbao history``: the archive has no such unit, or the name fits several."""


def parse_deadline(value: str | date | None) -> date | None:
    """``2026-01-15`` (also ``2026/1/15``, ``2026年1月15日``) as a date; None stays None."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if not match:
        raise RoundError(f"截止日期应写成 2026-01-15 这样的格式：{text!r}")
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        raise RoundError(f"截止日期不存在：{text!r}") from None


def chinese_date(value: date | None) -> str | None:
    """A date as Chinese text, ``2026年1月15日``."""
    return None if value is None else f"{value.year}年{value.month}月{value.day}日"


def load_roster(roster: Any) -> tuple[list[Any], list[Finding]]:
    """Roster entries and findings from a path, or a list of entries as given."""
    if isinstance(roster, (str, Path)):
        from toolkit.roster import read_roster

        return read_roster(roster)
    return list(roster), []
