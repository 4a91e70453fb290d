"""``open_source(path)``: sniff the file, check its container, and open it with an engine."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from toolkit.isolation import in_helper
from toolkit.workbook.source.biff import bounded_workbook
from toolkit.workbook.source.xlsb import bounded_xlsb
from toolkit.workbook.source.engines import ENGINES, CalamineSource, IsolatedCalamineSource, OpenpyxlSource
from toolkit.workbook.source.interface import WorkbookSource
from toolkit.workbook.source.limits import DEFAULT_LIMITS, Limits, SourceError, _fail
from toolkit.workbook.source.safety import part_label
from toolkit.workbook.source.sniffing import _sniff

_ISOLATED = ("xls", "xlsb")


def open_source(path: str | Path, *, engine: str = "auto", limits: Limits = DEFAULT_LIMITS) -> WorkbookSource:
    """Open a workbook for reading. ``engine``: "auto" (calamine, openpyxl if calamine cannot
    open an xlsx/xlsm), "calamine" or "openpyxl". Raises :class:`SourceError` for a file that
    cannot be read at all; never modifies the file."""
    path = Path(path)
    if engine != "auto" and engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from auto, {', '.join(ENGINES)}")
    kind, container, data, zf = _sniff(path, limits)
    cut: list[str] = []
    try:  # what lies beyond the caps never reaches an engine
        if container == "xls":
            data, cut = bounded_workbook(data, limits.max_rows, limits.max_cols)
        elif container == "xlsb" and zf is not None:
            data, cut = bounded_xlsb(zf, data, limits.max_rows, limits.max_cols, limits.max_entry_bytes)
            if cut:
                zf.close()
                zf = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - records or entries that cannot be followed
        if zf is not None:
            zf.close()
        raise _fail("workbook-damaged", path, "内部结构无法解析") from None
    source = _open(path, kind, container, data, zf, engine, limits)
    source.cut_sheets.update(cut)
    return source


def _open(path: Path, kind: str, container: str, data: bytes, zf: zipfile.ZipFile | None, engine: str,
          limits: Limits) -> WorkbookSource:
    try:
        if container in _ISOLATED and limits.isolate_binary and not in_helper() and engine in ("auto", "calamine"):
            return IsolatedCalamineSource(path, kind, container, data, limits, zf)
        if engine == "auto":
            try:
                return CalamineSource(path, kind, container, data, limits, zf)
            except SourceError as exc:
                if exc.code != "workbook-damaged" or container not in ("xlsx", "xlsm"):
                    raise
                return OpenpyxlSource(path, kind, container, data, limits, zf)
        return ENGINES[engine](path, kind, container, data, limits, zf)
    except zipfile.BadZipFile:
        raise _fail("workbook-damaged", path, "压缩结构损坏") from None
    except KeyError as exc:  # zipfile: "There is no item named '…' in the archive"
        missing = re.search(r"named '([^']*)'", str(exc.args[0]) if exc.args else "")
        raise _fail("workbook-damaged", path, f"缺少{part_label(missing.group(1), zf) if missing else '文件内部的一个部件'}") from None

