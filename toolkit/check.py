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
from typing import Any, Callable, Iterable, Sequence

from toolkit.checks import rule_findings as rf
from toolkit.model import FileReport, Finding, Report, ReportData

Progress = Callable[[int, int, str], None]


class CheckSetupError(ValueError):
    """A ``prior`` or ``roster`` given to the check cannot be used (message in Chinese)."""


def _load_importers() -> None:
    try:
        import toolkit.importers  # noqa: F401  (registers the text/HTML/Word readers, when present)
    except ImportError:
        pass


def supported_suffixes() -> set[str]:
    """File suffixes a folder is searched for: workbooks and every registered report reader."""
    _load_importers()
    from toolkit.workbook.reader import READERS, WORKBOOK_SUFFIXES

    return {s.lower() for s in (*WORKBOOK_SUFFIXES, *READERS)}


def _skipped_name(name: str) -> bool:
    return name.startswith((".", "~$"))  # hidden files, half-written outputs, Office lock files


def expand_paths(paths: Iterable[str | Path], *, exclude: Iterable[str | Path] = ()) -> list[Path]:
    """Files to check, in input order: files as given, folders searched recursively (sorted) for
    supported files, skipping hidden files, Office lock files (``~$…``) and anything under
    ``exclude`` (e.g. the folder annotated copies go to). Each file once."""
    suffixes = supported_suffixes()
    excluded = [Path(p).resolve() for p in exclude]
    out: list[Path] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve() if path.exists() else path.absolute()
        if key not in seen:
            seen.add(key)
            out.append(path)

    for item in paths:
        path = Path(item)
        if not path.is_dir():
            add(path)
            continue
        found: list[Path] = []
        for root, dirs, files in os.walk(path):
            root_path = Path(root)
            if any(root_path.resolve() == e or e in root_path.resolve().parents for e in excluded):
                dirs[:] = []
                continue
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found.extend(root_path / f for f in files
                         if not _skipped_name(f) and Path(f).suffix.lower() in suffixes)
        for file in sorted(found, key=lambda p: [part.casefold() for part in p.parts]):
            add(file)
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
    from toolkit.workbook.reader import read_report

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
    from toolkit.checks.engine import same_unit

    if data.unit:
        for prior in priors:
            if prior.unit and same_unit(prior.unit, data.unit):
                return prior
    if len(priors) == 1 and single_file:
        return priors[0]
    return None


# ---------------------------------------------------------------- one file


@dataclass
class _Job:
    path: Path
    priors: Sequence[ReportData] = ()
    single_file: bool = True
    roster: tuple[str, ...] | None = None
    year: int | None = None
    format_id: str | None = None
    annotate_to: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)
    archive: Path | None = None  # issue 8: last year's data from the archive when no prior is given


def _run(job: _Job) -> FileReport:
    path = job.path
    try:
        from toolkit.checks.engine import CheckContext, check_data, roster_units_in_name
        from toolkit.workbook.reader import read_report

        _load_importers()
        expect_unit = None
        if job.roster:
            named = roster_units_in_name(path.name, job.roster)
            expect_unit = named[0] if len(named) == 1 else None
        result = read_report(path, format_id=job.format_id, year=job.year, expect_unit=expect_unit, **job.options)
        findings: list[Finding] = list(result.findings)
        if result.data is not None:
            prior = _prior_for(result.data, job.priors, job.single_file) if job.priors else None
            if not job.priors and job.archive is not None:
                from toolkit.archive import prior_from_archive

                prior = prior_from_archive(job.archive, result.data)
            context = CheckContext(file_name=path.name, roster=job.roster, year=job.year)
            findings.extend(check_data(result.data, prior=prior, context=context))
        report = FileReport(str(path), findings, result.data)
    except Exception as exc:  # a bug must not stop the batch, nor show a traceback
        return FileReport(str(path), [rf.CheckFailed.make(detail=f"{type(exc).__name__}: {exc}")])
    if job.annotate_to is not None and report.data is not None and result.source_kind in _ANNOTATABLE:
        from toolkit.workbook.annotate import annotate_file_report

        annotate_file_report(report, job.annotate_to)
    return report


_ANNOTATABLE = {"xlsx", "xlsm", "xls", "et", "ods", "xlsb"}


def check_file(path: str | Path, *, prior: str | Path | ReportData | Sequence[ReportData] | None = None,
               roster: str | Path | Iterable[Any] | None = None, year: int | None = None,
               format_id: str | None = None, annotate_to: str | Path | None = None) -> FileReport:
    """Read and check one file; never raises for a bad file (see :func:`check_paths`).
    ``annotate_to`` is the path of an annotated copy to write (workbooks only)."""
    priors = _priors(prior)
    units = load_roster_units(roster) if roster is not None else None
    return _run(_Job(Path(path), priors, True, units, year, format_id,
                     Path(annotate_to) if annotate_to else None))


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


def check_paths(paths: Iterable[str | Path], *, prior: str | Path | ReportData | Sequence[ReportData] | None = None,
                roster: str | Path | Iterable[Any] | None = None, year: int | None = None,
                format_id: str | None = None, workers: int = 1, progress: Progress | None = None,
                annotate: str | Path | None = None, summary: str | Path | None = None,
                archive: str | Path | None = None) -> Report:
    """Check every file under ``paths`` (files, or folders searched recursively).

    ``prior``: last year's report(s) (a file, folder or data JSON, or ReportData), matched to each
    file by unit (a single last-year report is used for a single file whatever its unit);
    ``roster``: the expected units (a roster file or names); ``year``: the report year being
    collected; ``format_id``: force a format. ``workers`` > 1 checks in that many processes;
    ``progress(done, total, path)`` is called after each file. ``annotate``: a folder for the
    annotated copies (originals are never touched); ``summary``: an .xlsx summary to write.
    ``archive``: an archive file (:mod:`toolkit.archive`) to record every file's data and findings
    in; without ``prior``, last year's data for each file comes from it.
    Results are in input order.
    """
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
    jobs = [_Job(f, priors, len(files) == 1, units, year, format_id, t, archive=Path(archive) if archive else None)
            for f, t in zip(files, targets)]
    reports: list[FileReport] = []
    if workers > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            for i, report in enumerate(pool.map(_run, jobs, chunksize=max(1, min(16, len(jobs) // (workers * 4))))):
                reports.append(report)
                if progress:
                    progress(i + 1, len(jobs), report.path)
    else:
        for i, job in enumerate(jobs):
            reports.append(_run(job))
            if progress:
                progress(i + 1, len(jobs), str(job.path))
    report = Report(reports)
    if archive is not None:
        from toolkit.archive import record_report

        record_report(archive, report)
    if summary is not None:
        from toolkit.workbook.summary import write_summary

        write_summary(report, summary)
    return report
