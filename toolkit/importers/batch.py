"""Import many published reports: read each, audit it with the format's rules, write it out as a
filled standard workbook (.xlsx) or the data JSON. What ``nianbao import`` runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from toolkit.model import FileReport, Finding, Report, ReportData

OUTPUT_SUFFIXES = (".xlsx", ".json")
Progress = Callable[[int, int, str], None]


class ImportSetupError(ValueError):
    """The outputs asked for cannot be made (message in Chinese); raised before any file is read."""


@dataclass
class ImportBatch:
    """The outcome of a batch: one FileReport per report (import findings, then the checks'
    findings) and the file each was written to (absent when it could not be written)."""

    report: Report = field(default_factory=Report)
    outputs: dict[str, Path] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.report.valid


def expand_reports(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders searched recursively (sorted) for report files."""
    from toolkit.importers import SUFFIXES

    out: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            out.extend(sorted((p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                               and not p.name.startswith((".", "~$"))),
                              key=lambda p: [part.casefold() for part in p.parts]))
        else:
            out.append(path)
    return out


def import_reports(paths: Iterable[str | Path], *, out: str | Path | None = None,
                   out_dir: str | Path | None = None, to: str = "xlsx", format_id: str | None = None,
                   year: int | None = None, check: bool = True, progress: Progress | None = None,
                   archive: str | Path | None = None) -> ImportBatch:
    """Import each report in ``paths`` (files or folders).

    ``out`` is the output file for a single report (``.xlsx`` or ``.json``); ``out_dir`` a folder
    for many, each named after the report's unit and year, as ``to`` ("xlsx" or "json"). With
    neither, nothing is written. ``check`` adds the findings of the format's rules
    (:func:`toolkit.checks.engine.check_data`). ``archive``: an archive file (:mod:`toolkit.archive`)
    to record each report's data in, filling past years. Never raises for a bad report file.
    """
    files = expand_reports(paths)
    if out is not None and out_dir is not None:
        raise ImportSetupError("-o 和 --out-dir 只能用一个")
    if out is not None:
        out = Path(out)
        if out.suffix.lower() not in OUTPUT_SUFFIXES:
            raise ImportSetupError(f"输出文件应是 .xlsx（标准填报表）或 .json（数据），而不是 {out.name}")
        if len(files) != 1:
            raise ImportSetupError(f"-o 只能用于一份报告（现有 {len(files)} 份）；多份报告请用 --out-dir")
        if out.is_dir():
            raise ImportSetupError(f"-o 应是文件，而 {out} 是文件夹")
    if archive is not None:
        from toolkit.archive import Archive, ArchiveError

        try:
            Archive(archive).close()
        except ArchiveError as exc:
            raise ImportSetupError(str(exc)) from None
    if to not in ("xlsx", "json"):
        raise ImportSetupError(f"--to 只能是 xlsx 或 json，而不是 {to}")
    if out_dir is not None:
        out_dir = Path(out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            raise ImportSetupError(f"--out-dir 应是文件夹，而 {out_dir} 是文件")

    batch = ImportBatch()
    taken: set[str] = set()
    for n, path in enumerate(files, 1):
        if progress:
            progress(n - 1, len(files), str(path))
        report = _import_one(path, format_id=format_id, year=year, check=check)
        batch.report.files.append(report)
        target = None
        if report.data is not None:
            if out is not None:
                target = out
            elif out_dir is not None:
                target = _target_name(report.data, path, Path(out_dir), to, taken)
        if target is not None:
            written = _write(report, target)
            if written is not None:
                batch.outputs[str(path)] = written
    if progress:
        progress(len(files), len(files), "")
    if archive is not None:
        from toolkit.archive import record_report

        record_report(archive, batch.report, source="import")
    return batch


def _import_one(path: Path, *, format_id: str | None, year: int | None, check: bool) -> FileReport:
    from toolkit.checks import rule_findings as rf
    from toolkit.checks.catalogue import finding_type
    from toolkit.importers import import_report
    from toolkit.isolation import IsolationError, run_isolated
    from toolkit.workbook.source import DEFAULT_LIMITS, SourceError

    try:
        try:  # in the reading helper, within the file's time and memory budget (docs/security.md)
            result = run_isolated(import_report, (path,), {"format_id": format_id, "year": year},
                                  budget=DEFAULT_LIMITS.budget)
        except (IsolationError, SourceError) as problem:
            exc = SourceError.from_isolation(problem, path) if isinstance(problem, IsolationError) else problem
            return FileReport(str(path), [finding_type(exc.code).make(message=exc.message)])
        findings: list[Finding] = list(result.findings)
        if result.data is not None and check:
            from toolkit.checks.engine import CheckContext, check_data

            findings.extend(check_data(result.data, context=CheckContext(file_name=path.name, year=year)))
        return FileReport(str(path), findings, result.data)
    except Exception as exc:  # a bug must not stop the batch, nor show a traceback  # noqa: BLE001
        return FileReport(str(path), [rf.CheckFailed.make(detail=f"{type(exc).__name__}: {exc}")])


def _target_name(data: ReportData, source: Path, out_dir: Path, to: str, taken: set[str]) -> Path:
    from toolkit.files import safe_filename, unique_path

    if data.unit and data.year:
        stem = f"{data.unit}{data.year}年政府信息公开工作年度报告"
    else:
        stem = source.stem
    return unique_path(out_dir, safe_filename(stem, f".{to}"), taken)


def _write(report: FileReport, target: Path) -> Path | None:
    """Write the report's data; a failure is a finding on the report, not an exception."""
    from toolkit.checks.import_findings import ImportNotWritten

    data = report.data
    assert data is not None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix.lower() == ".json":
            from toolkit.files import write_text_atomic
            from toolkit.json_text import dumps_indented

            write_text_atomic(target, dumps_indented(data.to_dict()) + "\n")
            return target
        if data.year is None:
            report.findings.append(ImportNotWritten.make(file=target.name, reason="报告年度不明，请用 --year 指定"))
            return None
        from toolkit.workbook.writer import write_workbook

        write_workbook(target, data.format, unit=data.unit or "", year=data.year, data=data, published=True)
        return target
    except OSError as exc:
        report.findings.append(ImportNotWritten.make(file=target.name, reason=exc.strerror or str(exc)))
        return None
