"""The two sides of a comparison: each read from a file (a returned workbook, a data JSON, a
published report) or taken from the archive."""

from __future__ import annotations

import json
from pathlib import Path

from toolkit.model import ReportData


class CompareInputError(Exception):
    """A side that cannot be used: a file that cannot be read, a unit or year not in the archive."""


def load_side(path: str | Path) -> ReportData:
    """One side from a file: a data JSON (``ReportData.to_dict()``) or any file
    :func:`toolkit.readers.read_report` reads (workbooks, published reports)."""
    path = Path(path)
    if not path.is_file():
        raise CompareInputError(f"找不到文件：{path}")
    if path.suffix.lower() == ".json":
        try:
            data = ReportData.from_dict(json.loads(path.read_text(encoding="utf-8-sig")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CompareInputError(f"{path.name} 不是可用的数据 JSON（{exc}）") from None
        data.source = data.source or str(path)
        return data
    from toolkit.readers import read_report

    result = read_report(path)
    if result.data is None:
        reason = result.findings[0].message if result.findings else "无法读取"
        raise CompareInputError(f"{path.name}：{reason}")
    return result.data


def archive_sides(archive: str | Path, unit: str, years: tuple[int, int]) -> tuple[ReportData, ReportData]:
    """A unit's current data for two years of the archive, earlier year first."""
    from toolkit.archive import Archive

    first, second = sorted(int(y) for y in years)
    with Archive(archive, create=False) as arch:
        name = arch.find_unit(unit)
        if name is None:
            raise CompareInputError(f"档案中没有单位“{unit}”")
        sides = []
        for year in (first, second):
            data = arch.data(name, year)
            if data is None:
                raise CompareInputError(f"档案中没有“{name}”{year}年度的数据")
            sides.append(data)
    return sides[0], sides[1]
