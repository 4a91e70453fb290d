"""The real published reports in ``../shared`` (seeds and reports) seen from the checkout.

Tests that read them go through :func:`shared_folder` / :func:`seed_path` / :func:`report_path`:
on a clone without ``../shared`` they skip with the reason below; under ``CI=true`` the absence
is a failure, so CI never skips them silently. What they cover without the real text is also
covered by the fixtures ``tests/make_report_fixtures.py`` makes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED_PREFIXES = ("000", "001", "002", "003", "004")
REPORT_NAMES = ("001", "002", "003", "004", "026")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _missing(what: str) -> None:
    reason = (f"{what} is not available: the real published reports live in {SHARED} "
              "(../shared beside the checkout), which this clone does not have")
    if in_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def shared_folder(name: str) -> Path:
    """``../shared/<name>`` (``seeds`` or ``reports``) with its files; skips or fails without it."""
    folder = SHARED / name
    if not folder.is_dir() or not any(folder.glob("*.txt")):
        _missing(f"../shared/{name}")
    return folder


def seed_path(prefix: str) -> Path:
    """The one seed report whose name starts with ``prefix`` (``000`` … ``004``)."""
    matches = sorted(shared_folder("seeds").glob(f"{prefix}_*.txt"))
    if len(matches) != 1:
        _missing(f"../shared/seeds/{prefix}_*.txt")
    return matches[0]


def seed_paths() -> list[Path]:
    """Every seed report, in name order (all five of :data:`SEED_PREFIXES`)."""
    return [seed_path(prefix) for prefix in SEED_PREFIXES]


def seed_text(prefix: str) -> str:
    return seed_path(prefix).read_text(encoding="utf-8")


def report_path(name: str) -> Path:
    """``../shared/reports/<name>`` (``001.txt``, ``README.md`` …)."""
    path = shared_folder("reports") / name
    if not path.is_file():
        _missing(f"../shared/reports/{name}")
    return path
