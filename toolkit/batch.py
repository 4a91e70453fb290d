"""Check returned files: read each one, evaluate every rule, optionally annotate and summarise.

``check_paths`` is what ``nianbao check`` runs: folders are expanded recursively, results come
back in input order, one bad file never stops the batch and no exception escapes for a user
file (an unexpected one becomes a ``check-failed`` finding). Only a broken ``--prior`` or
``--roster`` file raises :class:`CheckSetupError`, before any file is read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TextIO

from toolkit.checks import rule_findings as rf
from toolkit.json_text import dumps_indented
from toolkit.model import FileReport, Finding, Report, ReportData
from toolkit.parallel import AUTO

Progress = Callable[[int, int, str], None]


class CheckSetupError(ValueError):
    """A ``prior`` or ``roster`` given to the check cannot be used (message in Chinese)."""


def supported_suffixes() -> set[str]:
    """File suffixes a folder is searched for: those of every reader (:mod:`toolkit.readers`)."""
    from toolkit.readers import supported_suffixes

    return supported_suffixes()


def _skipped_name(name: str) -> bool:
    return name.startswith((".", "~$"))  # hidden files, half-written outputs, Office lock files


def expand_paths(paths: Iterable[str | Path], *, exclude: Iterable[str | Path] = ()) -> list[Path]:
    """Files to check, in input order: files as given, folders searched recursively (sorted) for
    supported files, skipping hidden files, Office lock files (``~$…``) and anything under
    ``exclude`` (e.g. the folder annotated copies go to). Each file once."""
    suffixes = supported_suffixes()
    excluded = [Path(p).resolve() for p in exclude]
    out: list[Path] = []
    seen: set[str] = set()  # real paths (as text: a province's files are many)

    def add(path: Path, key: str | None = None) -> None:
        if key is None:
            key = str(path.resolve() if path.exists() else path.absolute())
        if key not in seen:
            seen.add(key)
            out.append(path)

    for item in paths:
        path = Path(item)
        if not path.is_dir():
            add(path)
            continue
        found: list[tuple[Path, str | None]] = []
        for root, dirs, files in os.walk(path):
            root_path = Path(root)
            real_root = root_path.resolve()
            if any(real_root == e or e in real_root.parents for e in excluded):
                dirs[:] = []
                continue
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for f in files:
                if not _skipped_name(f) and os.path.splitext(f)[1].lower() in suffixes:
                    file = root_path / f
                    # a plain file's real path is its real folder's; only links need resolving
                    found.append((file, None if os.path.islink(file) else str(real_root / f)))
        found.sort(key=lambda item: "\0".join(item[0].parts).casefold())  # = by parts, case-folded
        for file, key in found:
            add(file, key)
    return out


# ---------------------------------------------------------------- prior and roster


def load_prior(source: str | Path) -> list[ReportData]:
    """Last year's reports from a workbook or other report file, a folder of them, or a JSON file
    (one ``ReportData.to_dict()`` object, a list of them, or ``{"reports": [...]}``)."""
    path = Path(source)
    if not path.exists():
        raise CheckSetupError(f"找不到上年报告文件：{path}")
    if path.suffix.lower() == ".json":
        try:
            payload = json.loads(path.read_text(encoding="utf-8-sig"))
            if isinstance(payload, dict) and isinstance(payload.get("reports"), list):
                payload = payload["reports"]
            items = payload if isinstance(payload, list) else [payload]
            reports = [ReportData.from_dict(item) for item in items]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CheckSetupError(f"上年报告 {path.name} 不是可用的数据 JSON（{exc}）") from None
        if not reports:
            raise CheckSetupError(f"上年报告 {path.name} 中没有数据")
        return reports
    from toolkit.readers import read_report

    files = expand_paths([path])
    reports, problems = [], []
    for file in files:
        result = read_report(file)
        if result.data is not None:
            reports.append(result.data)
        elif result.findings:
            problems.append(f"{file.name}：{result.findings[0].message}")
    if not reports:
        detail = "；".join(problems) or "没有找到可读取的报告"
        raise CheckSetupError(f"无法读取上年报告 {path.name}：{detail}")
    return reports


def load_roster_units(roster: str | Path | Iterable[Any]) -> tuple[str, ...]:
    """Unit names from a roster file (CSV/XLSX with a 单位名称 column) or an iterable of names
    or roster entries."""
    if isinstance(roster, (str, Path)):
        from toolkit.roster import read_roster

        entries, findings = read_roster(roster)
        if not entries:
            reason = findings[0].message if findings else "名单中没有单位"
            raise CheckSetupError(f"无法使用单位名单 {Path(roster).name}：{reason}")
        return tuple(e.unit for e in entries)
    return tuple(getattr(item, "unit", item) for item in roster)


def _prior_for(data: ReportData, priors: Sequence[ReportData], single_file: bool) -> ReportData | None:
    from toolkit.identity import same_unit

    if data.unit:
        for prior in priors:
            if prior.unit and same_unit(prior.unit, data.unit):
                return prior
    if len(priors) == 1 and single_file:
        return priors[0]
    return None


# ---------------------------------------------------------------- one file


@dataclass
class _Settings:
    """What every file of a batch is checked with: sent to each worker process once."""

    priors: Sequence[ReportData] = ()
    single_file: bool = True
    roster: tuple[str, ...] | None = None
    year: int | None = None
    format_id: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    archive: Path | None = None  # issue 8: last year's data from the archive when no prior is given
    keep_data: bool = True
    as_json: bool = False  # each file's report as its JSON text (CheckedJson), made where it was checked


def _check_one(settings: _Settings, item: tuple[Path, Path | None]) -> FileReport:
    path, annotate_to = item
    try:
        from toolkit.checks.engine import CheckContext, check_data

        expect_unit = None
        if settings.roster:
            from toolkit.identity import roster_units_in_name

            named = roster_units_in_name(path.name, settings.roster)
            expect_unit = named[0] if len(named) == 1 else None
        result = _read(path, settings, expect_unit)
        findings: list[Finding] = list(result.findings)
        if result.data is not None:
            priors = settings.priors
            prior = _prior_for(result.data, priors, settings.single_file) if priors else None
            if not priors and settings.archive is not None:
                from toolkit.archive import prior_from_archive

                prior = prior_from_archive(settings.archive, result.data)
            context = CheckContext(file_name=path.name, roster=settings.roster, year=settings.year)
            findings.extend(check_data(result.data, prior=prior, context=context))
        report = FileReport(str(path), findings, result.data)
    except Exception as exc:  # a bug must not stop the batch, nor show a traceback
        return FileReport(str(path), [rf.CheckFailed.make(detail=f"{type(exc).__name__}: {exc}")])
    if annotate_to is not None and report.data is not None and result.source_kind in _ANNOTATABLE:
        from toolkit.workbook.annotate import annotate_file_report

        annotate_file_report(report, annotate_to)
    if settings.as_json:
        return CheckedJson.of(report)
    if not settings.keep_data and report.data is not None:
        report.data = _identity_only(report.data)
    return report


def _read(path: Path, settings: _Settings, expect_unit: str | None) -> Any:
    """``read_report`` for the batch. In a batch's worker process the file is read right there:
    the worker is already a process of its own, which the pool replaces if it dies (the file
    then runs again alone, read as below), so each file need not go to the reading helper
    process and back; the helper's budgets still apply (CPU time, address space), and a file
    that runs out of memory is read again as when it is read alone."""
    from dataclasses import replace

    from toolkit.parallel import budget, in_worker
    from toolkit.readers import read_report
    from toolkit.workbook.source import DEFAULT_LIMITS

    kwargs = dict(format_id=settings.format_id, year=settings.year, expect_unit=expect_unit, **settings.options)
    limits = kwargs.pop("limits", DEFAULT_LIMITS)
    if in_worker() and limits.isolate:
        try:
            with budget(limits.engine_seconds, limits.memory_bytes):
                return read_report(path, limits=replace(limits, isolate=False), **kwargs)
        except MemoryError:
            pass
    return read_report(path, **kwargs, **({} if limits is DEFAULT_LIMITS else {"limits": limits}))


def _identity_only(data: ReportData) -> ReportData:
    return ReportData(format=data.format, unit=data.unit, year=data.year, source=data.source)


def _crashed(item: tuple[Path, Path | None]) -> FileReport:
    """The result for a file whose reading killed its worker process."""
    return FileReport(str(item[0]), [rf.CheckFailed.make(detail="读取该文件时进程意外退出")])


_ANNOTATABLE = {"xlsx", "xlsm", "xls", "et", "ods", "xlsb"}


def check_file(path: str | Path, *, prior: str | Path | ReportData | Sequence[ReportData] | None = None,
               roster: str | Path | Iterable[Any] | None = None, year: int | None = None,
               format_id: str | None = None, annotate_to: str | Path | None = None) -> FileReport:
    """Read and check one file; never raises for a bad file (see :func:`check_paths`).
    ``annotate_to`` is the path of an annotated copy to write (workbooks only)."""
    settings = _Settings(_priors(prior), True, load_roster_units(roster) if roster is not None else None,
                         year, format_id)
    return _check_one(settings, (Path(path), Path(annotate_to) if annotate_to else None))


def _priors(prior: Any) -> list[ReportData]:
    if prior is None:
        return []
    if isinstance(prior, ReportData):
        return [prior]
    if isinstance(prior, (str, Path)):
        return load_prior(prior)
    return list(prior)


def annotated_name(path: Path) -> str:
    """The file name of a file's annotated copy: the same name (an .xlsx for non-xlsx workbooks)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return path.name
    return f"{path.stem}.xlsx"


def iter_check(paths: Iterable[str | Path], *, prior: str | Path | ReportData | Sequence[ReportData] | None = None,
               roster: str | Path | Iterable[Any] | None = None, year: int | None = None,
               format_id: str | None = None, workers: int | str | None = AUTO, progress: Progress | None = None,
               annotate: str | Path | None = None, archive: str | Path | None = None,
               keep_data: bool = True, as_json: bool = False) -> Iterator[Any]:
    """Check every file under ``paths`` and yield each :class:`FileReport` as soon as it is
    ready, in input order (see :func:`check_paths` for the arguments). Setup problems
    (``prior``, ``roster``, ``archive``) raise :class:`CheckSetupError` here, before any file
    is read. ``keep_data=False`` keeps of each file's data only format, unit, year and source
    (all the JSON output needs), so that a batch of any size runs in constant memory.
    Nothing is recorded in ``archive`` (that is :func:`check_paths`' job). ``as_json``: yield
    instead each file's :class:`CheckedJson` (its text in :func:`write_json`'s output, made in
    the worker process that checked it: the workers send text, not objects)."""
    from toolkit.parallel import ordered_map, resolve_workers

    priors = _priors(prior)
    units = load_roster_units(roster) if roster is not None else None
    annotate_dir = Path(annotate) if annotate else None
    if archive is not None:
        from toolkit.archive import Archive, ArchiveError

        try:
            Archive(archive).close()
        except ArchiveError as exc:
            raise CheckSetupError(str(exc)) from None
    files = expand_paths(paths, exclude=[annotate_dir] if annotate_dir else [])
    targets: list[Path | None] = [None] * len(files)
    if annotate_dir is not None:
        from toolkit.files import unique_path

        taken: set[str] = set()
        for i, file in enumerate(files):
            targets[i] = unique_path(annotate_dir, annotated_name(file), taken)
    settings = _Settings(priors, len(files) == 1, units, year, format_id,
                         archive=Path(archive) if archive else None, keep_data=keep_data, as_json=as_json)
    n_workers = resolve_workers(workers, len(files))
    pool = len(files) >= POOL_FILES
    if pool:
        _warm_up()  # loaded once here, inherited by the worker processes where they are forked
    else:
        if files:
            from toolkit.isolation import start_helper

            start_helper(_prepare_helper)  # it gets ready to read while this process loads the rules
    results = ordered_map(_check_one, list(zip(files, targets)), context=settings, workers=n_workers,
                          on_crash=_crashed, pool=pool)

    def run() -> Iterator[Any]:
        for done, report in enumerate(results, 1):
            if as_json and isinstance(report, FileReport):  # a file whose reading killed its worker
                report = CheckedJson.of(report)
            if progress:
                progress(done, len(files), report.path)
            yield report

    return run()


POOL_FILES = 16
"""A batch of this many files is checked in worker processes (``workers`` of them), each file
read in its worker; a smaller one here, each file read in the reading helper process."""


def start_reading(paths: Sequence[str | Path]) -> None:
    """Start the reading helper now when checking ``paths`` will use it (fewer than
    :data:`POOL_FILES` of them, none a folder), so that it gets ready to read while this process
    loads the rest: ``nianbao check`` calls this before it parses its command line. A single file
    is sent to be read at once (:func:`toolkit.readers.read_ahead`). A path that is not a file
    costs at most a helper started for nothing."""
    if not paths or len(paths) >= POOL_FILES or any(os.path.isdir(p) for p in paths):
        return
    from toolkit.isolation import start_helper

    start_helper(_prepare_helper)
    if len(paths) == 1 and os.path.isfile(paths[0]):
        from toolkit.readers import read_ahead

        read_ahead(paths[0])  # read as the command will read it without options (else it waits this out)


def _prepare_helper() -> None:
    """What the reading helper loads as it starts: the formats and reading, not the rules."""
    _warm_up(checking=False)


def _warm_up(checking: bool = True) -> None:
    """Load once what reading a workbook needs (every format, where each one's labels and cells
    are, the engines), and with ``checking`` the rules: before worker processes fork (all of it),
    and in the reading helper as it starts (no rules)."""
    import defusedxml.ElementTree  # noqa: F401
    import python_calamine  # noqa: F401

    from toolkit import readers  # noqa: F401
    from toolkit.formats import all_formats
    from toolkit.layout import cell_addresses, workbook_plan
    from toolkit.workbook import reader  # noqa: F401
    from toolkit.workbook.locate import expectations
    from toolkit.workbook.values import vocabulary

    if checking:
        from toolkit.checks import engine  # noqa: F401
    workbook_plan()
    vocabulary()
    for fmt in all_formats():
        expectations(fmt)
        cell_addresses(fmt)


def check_paths(paths: Iterable[str | Path], *, prior: str | Path | ReportData | Sequence[ReportData] | None = None,
                roster: str | Path | Iterable[Any] | None = None, year: int | None = None,
                format_id: str | None = None, workers: int | str | None = AUTO, progress: Progress | None = None,
                annotate: str | Path | None = None, summary: str | Path | None = None,
                archive: str | Path | None = None) -> Report:
    """Check every file under ``paths`` (files, or folders searched recursively).

    ``prior``: last year's report(s) (a file, folder or data JSON, or ReportData), matched to each
    file by unit (a single last-year report is used for a single file whatever its unit);
    ``roster``: the expected units (a roster file or names); ``year``: the report year being
    collected; ``format_id``: force a format. ``workers``: how many worker processes check the
    files of a batch of 16 or more ("auto", the default: one per CPU, see
    :func:`toolkit.parallel.resolve_workers`); a smaller batch is checked in this process.
    ``progress(done, total, path)`` is called after each file. ``annotate``: a folder for the
    annotated copies (originals are never touched);
    ``summary``: an .xlsx summary to write. ``archive``: an archive file (:mod:`toolkit.archive`)
    to record every file's data and findings in; without ``prior``, last year's data for each
    file comes from it. Results are in input order.
    """
    report = Report(list(iter_check(paths, prior=prior, roster=roster, year=year, format_id=format_id,
                                    workers=workers, progress=progress, annotate=annotate, archive=archive)))
    if archive is not None:
        from toolkit.archive import record_report

        record_report(archive, report)
    if summary is not None:
        from toolkit.workbook.summary import write_summary

        write_summary(report, summary)
    return report


# ---------------------------------------------------------------- streaming output


@dataclass
class Tally:
    """What the one-line summary of a batch counts, kept without keeping the files."""

    files: int = 0
    unreadable: int = 0
    with_errors: int = 0
    warned: int = 0
    errors: int = 0
    warnings: int = 0

    def add(self, file: FileReport | CheckedJson) -> None:
        errors, warnings = file.errors, file.warnings
        self.files += 1
        self.unreadable += file.unreadable if isinstance(file, CheckedJson) else file.data is None
        self.with_errors += bool(errors)
        self.warned += bool(warnings and not errors)
        self.errors += errors
        self.warnings += warnings

    @property
    def clean(self) -> int:
        return self.files - self.with_errors - self.warned

    @property
    def valid(self) -> bool:
        return self.with_errors == 0

    @classmethod
    def of(cls, files: Iterable[FileReport]) -> "Tally":
        tally = cls()
        for file in files:
            tally.add(file)
        return tally


@dataclass(frozen=True)
class CheckedJson:
    """One file's report as :func:`write_json` writes it (``text``), with what :class:`Tally`
    counts of it."""

    path: str
    text: str
    errors: int
    warnings: int
    unreadable: bool

    @classmethod
    def of(cls, file: FileReport) -> "CheckedJson":
        return cls(file.path, _file_json(file), file.errors, file.warnings, file.data is None)

    @property
    def valid(self) -> bool:
        return self.errors == 0


def _file_json(file: FileReport) -> str:
    """``file``'s entry in ``{"files": [...]}``, indented as it stands there."""
    return dumps_indented(file.to_dict(), "    ")


def write_json(files: Iterable[FileReport | CheckedJson], out: TextIO) -> Tally:
    """Write ``{"files": [...]}`` to ``out`` file by file as they come (the same text as
    ``json.dumps(Report(files).to_dict(), ensure_ascii=False, indent=2)`` plus a newline) and
    return the counts; no file's report is kept. ``files`` may be :class:`CheckedJson` (from
    ``iter_check(..., as_json=True)``), whose text is written as it is."""
    tally = Tally()
    out.write('{\n  "files": [')
    for file in files:
        text = file.text if isinstance(file, CheckedJson) else _file_json(file)
        out.write(("\n    " if not tally.files else ",\n    ") + text)
        tally.add(file)
    out.write("\n  ]\n}\n" if tally.files else "]\n}\n")
    return tally
