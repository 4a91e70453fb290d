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

Modules, one concern each: ``limits`` (Limits, SourceError), ``safety`` (reading the bytes, zip
and DTD checks, reading within the helper's budgets), ``sniffing`` (what the bytes are; the OLE
directory), ``xlsx_parts`` (the xlsx parts read without an engine; cell references),
``ods`` (the OpenDocument scan), ``parts`` (a package laid out as readers expect; a part named
in words), ``biff`` and ``xlsb`` (records beyond the caps hidden before the engine builds a
grid), ``biff_crypto`` (an .xls under Excel's default password), ``interface``
(:class:`WorkbookSource`), ``engines`` (calamine, openpyxl, calamine in the helper process),
``opening`` (:func:`open_source`).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Pos": "toolkit.a1", "col_letters": "toolkit.a1", "col_number": "toolkit.a1", "parse_ref": "toolkit.a1",
    "ENGINES": ".engines", "CalamineSource": ".engines", "IsolatedCalamineSource": ".engines",
    "OpenpyxlSource": ".engines", "quiet_engine": ".engines",
    "WorkbookSource": ".interface",
    "open_source": ".opening",
    "DEFAULT_LIMITS": ".limits", "Limits": ".limits", "SourceError": ".limits", "check_package": ".safety",
    "KINDS": ".sniffing", "ole_stream_names": ".sniffing", "sniff": ".sniffing",
    "shift_formula": ".xlsx_parts",
}
"""Each name this package gives and the module that holds it, imported when the name is first
used: a process that only sends files to the reading helper (``Limits``, ``SourceError``) does not
load the engines and scanners."""

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
