"""The one low-level reading interface: a workbook file in; cell values, formulas, merged ranges
and what the file recorded about itself out.

``open_source(path)`` sniffs the bytes (never the suffix), checks the container before any
parser sees it, and returns a :class:`WorkbookSource`. Engines: python-calamine (primary: xlsx,
xlsm, xlsb, xls, ods, and WPS .et, which is an xls or xlsx inside) and openpyxl read-only (fallback
for xlsx/xlsm). Formulas come from a targeted, defused parse of the ``<f>`` elements of the
sheets asked for, whatever the engine.

Hardening (limits in :class:`Limits`): file size; zip entry count, declared and actual
uncompressed sizes and compression ratio, deflate/stored only; every XML parse through
defusedxml with DTDs forbidden; rows and columns read capped (an xlsx sheet is pre-scanned before
the engine builds its grid); encrypted OLE packages and legacy non-workbook files recognised.
Fatal problems raise :class:`SourceError` whose ``code`` is a finding code and whose message is
Chinese and names the file.

Modules, one concern each: ``safety`` (Limits, SourceError, reading the bytes, zip and DTD
checks, reading within the helper's budgets), ``sniffing`` (what the bytes are; the OLE
directory), ``xlsx_parts`` (the xlsx parts read without an engine; cell references),
``ods`` (the OpenDocument scan), ``parts`` (a package laid out as readers expect; a part named
in words), ``biff`` and ``xlsb`` (records beyond the caps hidden before the engine builds a
grid), ``biff_crypto`` (an .xls under Excel's default password), ``interface``
(:class:`WorkbookSource`), ``engines`` (calamine, openpyxl, calamine in the helper process),
``opening`` (:func:`open_source`).
"""

from toolkit.a1 import Pos, col_letters, col_number, parse_ref
from toolkit.workbook.source.engines import (
    ENGINES,
    CalamineSource,
    IsolatedCalamineSource,
    OpenpyxlSource,
    quiet_engine,
)
from toolkit.workbook.source.interface import WorkbookSource
from toolkit.workbook.source.opening import open_source
from toolkit.workbook.source.safety import DEFAULT_LIMITS, Limits, SourceError, check_package
from toolkit.workbook.source.sniffing import KINDS, ole_stream_names, sniff
from toolkit.workbook.source.xlsx_parts import shift_formula

__all__ = [
    "DEFAULT_LIMITS", "ENGINES", "KINDS", "CalamineSource", "IsolatedCalamineSource", "Limits", "OpenpyxlSource",
    "Pos", "SourceError", "WorkbookSource", "check_package", "col_letters", "col_number", "ole_stream_names",
    "open_source", "parse_ref", "quiet_engine", "shift_formula", "sniff",
]
