"""The reading interface every engine provides: :class:`WorkbookSource` (sheet names, cells,
formulas, merged ranges, what the file recorded about itself), and cell values as the engines
agree on them."""

from __future__ import annotations

import datetime as _dt
import io
import math
import re
import zipfile
from pathlib import Path
from typing import Any, Iterable

from toolkit.model import Finding
from toolkit.workbook.source.ods import _check_ods
from toolkit.workbook.source.limits import Limits, _note
from toolkit.a1 import Pos, parse_ref
from toolkit.workbook.source.xlsx_parts import _XlsxParts

_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _clean(value: Any) -> Any:
    """A cell value as both engines agree on it; None for an empty cell."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    return value


class WorkbookSource:
    """One opened workbook. Rows and columns are 1-based; ``cells`` drops empty cells.

    ``kind`` is what the file is ("xlsx", "xlsm", "xlsb", "xls", "ods", or "et" for a WPS file,
    whose ``container`` says what is inside); ``engine`` the reader in use; ``notes`` non-fatal
    reading findings (e.g. ``sheet-truncated``).
    """

    kind: str
    container: str
    engine: str
    path: Path

    def __init__(self, path: Path, kind: str, container: str, data: bytes, limits: Limits,
                 zf: zipfile.ZipFile | None = None):
        self.path = path
        self.kind = kind
        self.container = container
        self.limits = limits
        self.notes: list[Finding] = []
        self._data = data
        self._zip: zipfile.ZipFile | None = None
        self._parts: _XlsxParts | None = None
        self._cells: dict[str, dict[Pos, Any]] = {}
        self._meta: dict[str, str] | None = None
        self._properties: dict[str, str] | None = None
        self.cut_sheets: set[str] = set()  # sheets whose cells beyond the caps were dropped before the engine
        if container in ("xlsx", "xlsm", "xlsb", "ods"):
            self._zip = zf if zf is not None else zipfile.ZipFile(io.BytesIO(data))
        if container in ("xlsx", "xlsm"):
            self._parts = _XlsxParts.load(self._zip, path, limits)
        if container == "ods":
            _check_ods(self._zip, path, limits)

    # --- to be provided by an engine
    @property
    def sheet_names(self) -> list[str]:
        raise NotImplementedError

    def _load_cells(self, sheet: str, max_rows: int, max_cols: int) -> dict[Pos, Any]:
        raise NotImplementedError

    def _engine_merged(self, sheet: str) -> list[tuple[int, int, int, int]]:
        return []

    def hidden_sheets(self) -> set[str]:
        return set()

    # --- the interface
    @property
    def formulas_known(self) -> bool:
        """Whether :meth:`formulas` can tell (xlsx/xlsm): else it returns None."""
        return self._parts is not None

    def cells(self, sheet: str) -> dict[Pos, Any]:
        """(row, col) -> value (str, int, float, bool, datetime) of every non-empty cell."""
        if sheet not in self._cells:
            if sheet not in self.sheet_names:
                raise KeyError(sheet)
            max_rows, max_cols = self.limits.max_rows, self.limits.max_cols
            if self._parts is not None and sheet in self._parts.cell_less:
                self._cells[sheet] = {}
                return self._cells[sheet]
            if self._parts is not None:
                rows, cols = self._parts.extent(sheet)
                if rows > max_rows or cols > max_cols:
                    self.notes.append(_note("sheet-truncated", sheet=sheet,
                                            reason=f"{max_rows}行或{max_cols}列"))
                    self._cells[sheet] = self._capped_cells(sheet, max_rows, max_cols)
                    return self._cells[sheet]
            cells = self._load_cells(sheet, max_rows, max_cols)
            if sheet in self.cut_sheets and not any(n.code == "sheet-truncated" and n.sheet == sheet for n in self.notes):
                self.notes.append(_note("sheet-truncated", sheet=sheet, reason=f"{max_rows}行或{max_cols}列"))
            if self._parts is not None:
                for pos, text in self._parts.errors(sheet, max_rows, max_cols).items():
                    cells.setdefault(pos, text)
            self._cells[sheet] = cells
        return self._cells[sheet]

    def _capped_cells(self, sheet: str, max_rows: int, max_cols: int) -> dict[Pos, Any]:
        from toolkit.workbook.source.engines import _openpyxl_cells

        return _openpyxl_cells(self, sheet, max_rows, max_cols)

    def formulas(self, sheet: str, within: Iterable[Pos] | None = None) -> dict[Pos, str] | None:
        """(row, col) -> formula text without "=" for xlsx/xlsm (shared formulas expanded), of
        every cell or only of the positions ``within``; None for containers whose formulas this
        reader cannot see (xls, xlsb, ods)."""
        found = self.formulas_of({sheet: within})
        return None if found is None else found[sheet]

    def formulas_of(self, wanted: dict[str, Iterable[Pos] | None]) -> dict[str, dict[Pos, str]] | None:
        """:meth:`formulas` of several sheets at once (cheaper: one parse)."""
        if self._parts is None:
            return None
        for sheet in wanted:
            if sheet not in self.sheet_names:
                raise KeyError(sheet)
        sets = {sheet: None if within is None else set(within) for sheet, within in wanted.items()}
        return self._parts.formulas(sets, self.limits.max_rows, self.limits.max_cols)

    def merged(self, sheet: str) -> list[tuple[int, int, int, int]]:
        """Merged ranges as (first row, first col, last row, last col), 1-based, inclusive."""
        if sheet not in self.sheet_names:
            raise KeyError(sheet)
        if self._parts is not None:
            return self._parts.merged(sheet)
        return self._engine_merged(sheet)

    @property
    def meta(self) -> dict[str, str]:
        """What the file recorded about itself: the hidden meta sheet (key in A, value in B),
        workbook-level defined names with the toolkit's prefix, and, when those do not give
        format, unit and year, the custom document properties (``nianbao_format`` ...). Keys are
        lower-case without prefix ("format", "unit", "year", ...). The meta sheet wins over names
        over properties; all document properties are in :attr:`properties`."""
        if self._meta is None:
            self._meta = self._read_meta()
        return self._meta

    def _read_meta(self) -> dict[str, str]:
        from toolkit.layout import workbook_plan

        plan = workbook_plan()
        prefix = plan.defined_name_prefix.lower()
        out: dict[str, str] = {}
        if self._parts is not None:
            for name, value in self._parts.defined_names.items():
                if name.lower().startswith(prefix) and not name.lower().startswith(prefix + "c_"):
                    resolved = self._resolve_name(value)
                    if resolved is not None:
                        out[name[len(prefix):].lower()] = resolved
        if plan.meta_sheet in self.sheet_names:
            for (r, c), key in sorted(self.cells(plan.meta_sheet).items()):
                if c == 1 and isinstance(key, str) and key.strip():
                    value = self.cells(plan.meta_sheet).get((r, 2))
                    if value is not None:
                        out[key.strip().lower()] = _meta_text(value)
        if not {"format", "unit", "year"} <= set(out):
            for name, value in self.properties.items():
                key = _meta_key(name, prefix)
                if key not in out and not key.startswith("doc."):
                    out[key] = value
        return out

    @property
    def properties(self) -> dict[str, str]:
        """Document properties (xlsx/xlsm): custom ones by name, core ones as "doc.title" etc."""
        if self._properties is None:
            self._properties = self._parts.doc_properties() if self._parts is not None else {}
        return self._properties

    def _resolve_name(self, value: str) -> str | None:
        value = value.strip().lstrip("=")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1].replace('""', '"')
        if _NUMBER.fullmatch(value):
            return value
        sheet, _, ref = value.rpartition("!")
        sheet = sheet.strip("'").replace("''", "'")
        pos = parse_ref(ref)
        if sheet in self.sheet_names and pos:
            cell = self.cells(sheet).get(pos)
            return None if cell is None else _meta_text(cell)
        return None

    def close(self) -> None:
        engine_book = getattr(self, "_wb", None)  # the engine's open workbook, if it keeps one
        if engine_book is not None:
            try:
                engine_book.close()
            except Exception:
                pass
        if self._zip is not None:
            self._zip.close()
        self._cells.clear()

    def __enter__(self) -> "WorkbookSource":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _meta_key(name: str, prefix: str) -> str:
    key = name.strip()
    low = key.lower()
    for p in (prefix, "nianbao_", "nianbao.", "nianbao-"):
        if low.startswith(p) and len(low) > len(p):
            return low[len(p):]
    return key if key.startswith("doc.") else low


def _meta_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return str(value).strip()


