"""Read one report file, whatever it is: the table of readers by suffix, and ``read_report``.

The built-in readers are listed here, in one table: workbooks
(:func:`toolkit.workbook.reader.read_workbook`) and published reports
(:func:`toolkit.importers.import_report`). Other code adds readers with :func:`register_reader`.
A file whose suffix has no reader is read as a workbook (its bytes say whether it is one).
Built-in readers run in the reading helper process, within the file's time and memory budget
(:class:`toolkit.workbook.source.Limits`, :mod:`toolkit.isolation`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from toolkit.checks.catalogue import finding_type
from toolkit.importers import SUFFIXES as REPORT_SUFFIXES
from toolkit.importers import import_report
from toolkit.isolation import IsolationError, in_helper, run_isolated, send_ahead
from toolkit.model import ReadResult
from toolkit.workbook import WORKBOOK_SUFFIXES
from toolkit.workbook.source.limits import DEFAULT_LIMITS, Limits, SourceError

ReaderFunc = Callable[..., ReadResult]


def read_workbook(path: str | Path, **options: Any) -> ReadResult:
    """:func:`toolkit.workbook.reader.read_workbook`, the reader imported as it is first used here:
    a process that sends its files to the reading helper does not load it."""
    from toolkit.workbook.reader import read_workbook as read

    return read(path, **options)


READERS: dict[str, ReaderFunc] = {
    **dict.fromkeys(WORKBOOK_SUFFIXES, read_workbook),
    **dict.fromkeys(REPORT_SUFFIXES, import_report),
}
"""Suffix (lower case, with the dot) -> the reader of files with it."""


def register_reader(suffixes: Iterable[str], func: ReaderFunc) -> None:
    """Make ``read_report`` use ``func(path, *, format_id, year, expect_unit) -> ReadResult``
    for files with one of ``suffixes`` (".txt", ".docx" ...; case-insensitive)."""
    for suffix in suffixes:
        suffix = suffix.lower()
        READERS[suffix if suffix.startswith(".") else f".{suffix}"] = func


def supported_suffixes() -> set[str]:
    """Every suffix a reader is registered for."""
    return set(READERS)


def read_report(path: str | Path, *, format_id: str | None = None, year: int | None = None,
                expect_unit: str | None = None, **options: Any) -> ReadResult:
    """Read one returned report. Never raises for a user file: a file that cannot be read is a
    ReadResult with ``data=None`` and one finding.

    ``format_id`` forces a format (an unknown one raises FormatError: a usage error, not a file
    problem); ``year`` is the report year when the file does not say it;
    ``expect_unit`` the unit name when the file does not say it (comparing names is the
    checks' job). Workbook ``options``: ``engine`` ("auto", "calamine", "openpyxl"), ``limits``.
    """
    path = Path(path)
    kwargs = dict(format_id=format_id, year=year, expect_unit=expect_unit, **options)
    func, limits = _reader(path, kwargs)
    if limits is not None:
        return _read_guarded(func, path, limits, kwargs)
    return func(path, **kwargs)


def read_ahead(path: str | Path) -> None:
    """Start reading ``path`` in the running reading helper as :func:`read_report` reads it with
    no options, without waiting: that call then takes the result (any other waits it out). For a
    command that knows its file before it has loaded the rest of itself."""
    path = Path(path)
    kwargs = dict(format_id=None, year=None, expect_unit=None)  # as read_report passes them
    func, limits = _reader(path, kwargs)
    if limits is not None:
        send_ahead(func, (path,), kwargs, budget=limits.budget)


def _reader(path: Path, kwargs: dict[str, Any]) -> tuple[ReaderFunc, Limits | None]:
    """The reader of ``path`` and the limits (of ``kwargs``) whose budget it runs within in the
    helper process (None: it runs here, being no built-in reader, isolation off, or this the
    helper)."""
    func = READERS.get(path.suffix.lower(), read_workbook)
    limits = kwargs.get("limits", DEFAULT_LIMITS)
    isolated = limits.isolate and not in_helper() and getattr(func, "__module__", "").startswith("toolkit.")
    return func, limits if isolated else None


def _read_guarded(func: ReaderFunc, path: Path, limits: Limits, kwargs: dict[str, Any]) -> ReadResult:
    """A built-in reader run in the helper process, within the file's time and memory budget."""
    try:
        return run_isolated(func, (path,), kwargs, budget=limits.budget)
    except IsolationError as exc:
        error = SourceError.from_isolation(exc, path)
    except SourceError as exc:
        error = exc
    return ReadResult(str(path), None, [finding_type(error.code).make(message=error.message)])
