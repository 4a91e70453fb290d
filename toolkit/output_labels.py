"""The words every output uses for a finding's severity and for the state of a checked file or a
roster unit: one table, ``templates/labels.yaml``."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from toolkit.formats import TEMPLATES_DIR

LABELS_PATH = TEMPLATES_DIR / "labels.yaml"


@lru_cache(maxsize=None)
def labels() -> dict[str, Any]:
    """The table of ``templates/labels.yaml``."""
    from toolkit.formats import load_yaml

    return load_yaml(LABELS_PATH)


def severity_label(severity: str) -> str:
    """错误 for an error, 需核实 for a warning; an unknown severity as it is."""
    return labels()["severity"].get(severity, severity)


def counts_text(errors: int, warnings: int) -> str:
    """A file's findings counted: ``错误2个，需核实1个``."""
    return labels()["counts"].format(errors=errors, warnings=warnings)


def file_state(report: Any) -> str:
    """``unreadable``, ``errors``, ``warnings`` or ``clean`` for a :class:`~toolkit.model.FileReport`."""
    if report.data is None:
        return "unreadable"
    if report.errors:
        return "errors"
    return "warnings" if report.warnings else "clean"


def file_status_label(report: Any) -> str:
    """无法读取 / 有错误 / 需核实 / 通过 for a checked file."""
    return labels()["file_status"][file_state(report)]


def unit_counts_text(status: Any) -> str:
    """A round's units counted: ``共4个单位：已通过2个，有错误1个，未报送1个`` (a RoundStatus)."""
    return labels()["unit_counts"].format(units=len(status.units),
                                          **{s: status.count(s) for s in labels()["unit_status"]})


def unit_state_label(state: str) -> str:
    """未报送 / 未填报 / 有错误 / 仅有警告 / 已通过 for a unit's :attr:`UnitStatus.state`."""
    return labels()["unit_state"][state]


def unit_status_label(status: str) -> str:
    """未报送 / 有错误 / 已通过 for a roster unit's ``missing`` / ``errors`` / ``clean``."""
    return labels()["unit_status"][status]
