"""The reading engines behind :class:`WorkbookSource`: python-calamine (xlsx, xlsm, ods here;
xls and xlsb in the helper process, as a damaged BIFF file can make it abort its process) and
openpyxl read-only (the fallback for xlsx/xlsm, and for sheets cut at the row or column cap)."""

from __future__ import annotations

import io
import os
import re
import sys
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from toolkit.a1 import Pos
from toolkit.workbook.source.interface import WorkbookSource, _clean
from toolkit.workbook.source.limits import Limits, SourceError, _fail, _note
from toolkit.workbook.source.safety import call_guarded

_EXACT = float(2**53)  # a whole float below this in size is an int exactly


class CalamineSource(WorkbookSource):
    """python-calamine: values of xlsx, xlsm, xlsb, xls and ods."""

    engine = "calamine"

    def __init__(self, path: Path, kind: str, container: str, data: bytes, limits: Limits,
                 zf: zipfile.ZipFile | None = None):
        super().__init__(path, kind, container, data, limits, zf)
        import python_calamine as pc

        try:
            with quiet_engine():
                package = data if self._parts is None else self._parts.engine_package(data)
                self._wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(package))
        except pc.PasswordError:
            raise _fail("workbook-encrypted", path) from None
        except BaseException as exc:  # several error types for broken containers, or a Rust panic
            _reraise_interrupts(exc)
            if re.search(r"password|encrypt", str(exc), re.I):
                raise _fail("workbook-encrypted", path) from None
            raise _fail("workbook-damaged", path, _calamine_reason(exc)) from None
        self._names = list(self._wb.sheet_names)
        self._cell_less = {m.name for m in self._wb.sheets_metadata
                           if str(m.typ).rsplit(".", 1)[-1] in ("ChartSheet", "DialogSheet")}

    @property
    def sheet_names(self) -> list[str]:
        return self._names

    def hidden_sheets(self) -> set[str]:
        return {m.name for m in self._wb.sheets_metadata if str(m.visible).rsplit(".", 1)[-1] != "Visible"}

    def _sheet(self, sheet: str):
        import python_calamine as pc

        try:
            with quiet_engine():
                return self._wb.get_sheet_by_name(sheet)
        except pc.PasswordError:
            raise _fail("workbook-encrypted", self.path) from None
        except BaseException as exc:
            _reraise_interrupts(exc)
            raise _fail("workbook-damaged", self.path, f"工作表“{sheet}”的{_calamine_reason(exc)}") from None

    def _load_cells(self, sheet: str, max_rows: int, max_cols: int) -> dict[Pos, Any]:
        if sheet in self._cell_less:  # a chart or dialog sheet holds no cells
            return {}
        ws = self._sheet(sheet)
        out: dict[Pos, Any] = {}
        if ws.height == 0 or ws.width == 0:
            return out
        (r0, c0) = ws.start
        if ws.height > max_rows or ws.width > max_cols:
            self.notes.append(_note("sheet-truncated", sheet=sheet, reason=f"{max_rows}行或{max_cols}列"))
        try:
            with quiet_engine():
                rows = ws.to_python(skip_empty_area=True, nrows=max(0, min(ws.height, max_rows - r0)))
        except BaseException as exc:
            _reraise_interrupts(exc)
            raise _fail("workbook-damaged", self.path, f"工作表“{sheet}”的{_calamine_reason(exc)}") from None
        width = max(0, max_cols - c0)
        for i, row in enumerate(rows, r0 + 1):
            if len(row) > width:
                row = row[:width]
            for j, value in enumerate(row, c0 + 1):
                if value.__class__ is str:
                    if value:
                        out[i, j] = value
                elif value.__class__ is float:
                    out[i, j] = int(value) if value.is_integer() and -_EXACT < value < _EXACT else value
                else:
                    value = _clean(value)
                    if value is not None:
                        out[i, j] = value
        return out

    def _engine_merged(self, sheet: str) -> list[tuple[int, int, int, int]]:
        if sheet in self._cell_less:
            return []
        ws = self._sheet(sheet)
        try:
            ranges = ws.merged_cell_ranges or []
        except BaseException as exc:
            _reraise_interrupts(exc)
            return []
        return [(a[0] + 1, a[1] + 1, b[0] + 1, b[1] + 1) for a, b in ranges]


class _Quiet:
    """See :func:`quiet_engine`. Nested and overlapping uses share one redirection; /dev/null is
    opened once per process (this runs several times for every file read)."""

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._depth = 0
        self._saved: int | None = None
        self._devnull: int | None = None

    def __enter__(self) -> None:
        with self._lock:
            self._depth += 1
            if self._depth > 1:
                return
            try:
                sys.stderr.flush()
            except (AttributeError, OSError, ValueError):
                pass
            try:
                if self._devnull is None:
                    self._devnull = os.open(os.devnull, os.O_WRONLY)
                saved = os.dup(2)
            except OSError:
                return
            try:
                os.dup2(self._devnull, 2)
            except OSError:
                os.close(saved)
                return
            self._saved = saved

    def __exit__(self, *exc: Any) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth or self._saved is None:
                return
            saved, self._saved = self._saved, None
            try:
                os.dup2(saved, 2)
            finally:
                os.close(saved)


_QUIET = _Quiet()


def quiet_engine() -> _Quiet:
    """Standard error (file descriptor 2) sent to /dev/null while the Rust engine runs: a panic
    on a broken file is caught as an exception, but Rust would also print it (with a backtrace
    when RUST_BACKTRACE is set), and no traceback may ever reach the user."""
    return _QUIET


def _reraise_interrupts(exc: BaseException) -> None:
    """Let Ctrl-C and exits through; anything else from the engine (even a Rust panic, which
    pyo3 raises as a BaseException) is a problem of the file."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, SourceError)):
        raise exc


def _calamine_reason(exc: BaseException) -> str:
    """What to tell the clerk when the engine gave up: in Chinese; what the engine said (English,
    for developers) stays out of the message."""
    return "内部结构无法解析"


class OpenpyxlSource(WorkbookSource):
    """openpyxl in read-only mode: the fallback engine for xlsx/xlsm."""

    engine = "openpyxl"

    def __init__(self, path: Path, kind: str, container: str, data: bytes, limits: Limits,
                 zf: zipfile.ZipFile | None = None):
        super().__init__(path, kind, container, data, limits, zf)
        if container not in ("xlsx", "xlsm"):
            raise _fail("workbook-damaged", path, "备用读取引擎只支持.xlsx/.xlsm")
        self._wb = _openpyxl_workbook(data, path)
        self._names = list(self._wb.sheetnames)

    @property
    def sheet_names(self) -> list[str]:
        return self._names

    def hidden_sheets(self) -> set[str]:
        return {n for n, s in self._parts.sheet_states.items() if s != "visible"} if self._parts else set()

    def _load_cells(self, sheet: str, max_rows: int, max_cols: int) -> dict[Pos, Any]:
        return _openpyxl_cells(self, sheet, max_rows, max_cols)


def _openpyxl_workbook(data: bytes, path: Path):
    import warnings

    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:
        raise _fail("workbook-damaged", path, _calamine_reason(exc)) from None


def _openpyxl_cells(source: WorkbookSource, sheet: str, max_rows: int, max_cols: int) -> dict[Pos, Any]:
    wb = getattr(source, "_opx", None)
    if wb is None:
        wb = source._wb if isinstance(source, OpenpyxlSource) else _openpyxl_workbook(source._data, source.path)
        source._opx = wb
    out: dict[Pos, Any] = {}
    try:
        ws = wb[sheet]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()
        for row in ws.iter_rows(min_row=1, max_row=max_rows, max_col=max_cols):
            for cell in row:
                value = getattr(cell, "value", None)
                if value is None or value == "":
                    continue
                r, c = getattr(cell, "row", None), getattr(cell, "column", None)
                if r is None or c is None or r > max_rows or c > max_cols:
                    continue
                out[(r, c)] = _clean(value)
    except SourceError:
        raise
    except Exception as exc:
        raise _fail("workbook-damaged", source.path, f"工作表“{sheet}”的{_calamine_reason(exc)}") from None
    return out



def _binary_cells(data: bytes, limits: Limits, path: Path) -> dict:
    result = call_guarded(_calamine_cells, (data, limits.max_rows, limits.max_cols), path=path,
                          limits=replace(limits, isolate=True))
    if result.get("error") == "password":
        raise _fail("workbook-encrypted", path)
    if result.get("error"):
        if re.search(r"password|encrypt", result.get("message", ""), re.I):
            raise _fail("workbook-encrypted", path)
        raise _fail("workbook-damaged", path, "内部结构无法解析")
    return result


def _calamine_cells(data: bytes, max_rows: int, max_cols: int) -> dict:
    """Every sheet of a workbook read by python-calamine (run in the helper process)."""
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        out = {"names": list(wb.sheet_names), "hidden": [], "sheets": {}, "merged": {}, "truncated": []}
        cell_less = set()
        for m in wb.sheets_metadata:
            if str(m.visible).rsplit(".", 1)[-1] != "Visible":
                out["hidden"].append(m.name)
            if str(m.typ).rsplit(".", 1)[-1] in ("ChartSheet", "DialogSheet"):
                cell_less.add(m.name)
        for name in wb.sheet_names:
            if name in cell_less:  # a chart or dialog sheet holds no cells (reading one may fail)
                out["sheets"][name], out["merged"][name] = [], []
                continue
            ws = wb.get_sheet_by_name(name)
            found = []
            if ws.height and ws.width:
                r0, c0 = ws.start
                if ws.height > max_rows or ws.width > max_cols:
                    out["truncated"].append(name)
                rows = ws.to_python(skip_empty_area=True, nrows=max(0, min(ws.height, max_rows - r0)))
                for i, row in enumerate(rows, r0 + 1):
                    for j, v in enumerate(row[: max(0, max_cols - c0)], c0 + 1):
                        if v != "" and v is not None:
                            found.append((i, j, v))
            out["sheets"][name] = found
            try:
                out["merged"][name] = [(a[0] + 1, a[1] + 1, b[0] + 1, b[1] + 1) for a, b in (ws.merged_cell_ranges or [])]
            except BaseException:
                out["merged"][name] = []
        return out
    except pc.PasswordError:
        return {"error": "password"}
    except MemoryError:
        raise
    except BaseException as exc:
        return {"error": "damaged", "message": (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]}


class IsolatedCalamineSource(WorkbookSource):
    """python-calamine in the helper process: xls (BIFF, also WPS .et) and xlsb."""

    engine = "calamine"

    def __init__(self, path: Path, kind: str, container: str, data: bytes, limits: Limits,
                 zf: zipfile.ZipFile | None = None):
        super().__init__(path, kind, container, data, limits, zf)
        result = _binary_cells(data, limits, path)
        self._names = list(result["names"])
        self._hidden = set(result["hidden"])
        self._all = {name: {(r, c): _clean(v) for r, c, v in cells} for name, cells in result["sheets"].items()}
        self._merged = {name: [tuple(m) for m in ranges] for name, ranges in result["merged"].items()}
        for name in result["truncated"]:
            self.notes.append(_note("sheet-truncated", sheet=name, reason=f"{limits.max_rows}行或{limits.max_cols}列"))

    @property
    def sheet_names(self) -> list[str]:
        return self._names

    def hidden_sheets(self) -> set[str]:
        return set(self._hidden)

    def _load_cells(self, sheet: str, max_rows: int, max_cols: int) -> dict[Pos, Any]:
        return {pos: v for pos, v in self._all.get(sheet, {}).items() if v is not None}

    def _engine_merged(self, sheet: str) -> list[tuple[int, int, int, int]]:
        return list(self._merged.get(sheet, []))


ENGINES = {"calamine": CalamineSource, "openpyxl": OpenpyxlSource}
