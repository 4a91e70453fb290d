"""Writing and reading the archive file: units, submissions and each unit-year's current report."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator

from toolkit.checks.catalogue import FindingType
from toolkit.files import printable
from toolkit.identity import match_unit, unit_key
from toolkit.model import WARNING, FileReport, Finding, Report, ReportData
from toolkit.archive.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, SOURCES, split_sql
from toolkit.archive.portal import PortalTables

class ArchiveNotRecorded(FindingType):
    code = "archive-not-recorded"
    severity = WARNING
    title = "未记入档案"
    template = "本文件未记入档案：{reason}"
    description = "check --archive / import --archive: the unit or year of the file is unknown, so it was not recorded."


class ArchiveError(Exception):
    """The archive file cannot be used (not a nianbao archive, newer schema, unreadable)."""


@dataclass
class Submission:
    """One file received for a unit and year."""

    id: int
    unit: str
    year: int
    source: str
    file_name: str | None
    file_path: str | None
    file_hash: str | None
    file_size: int | None
    received: str
    recorded: str
    format: str | None
    errors: int
    warnings: int
    via: str | None = None  # how it came through the portal: clerk:<name> or link:<unit>
    current: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class StoredReport:
    """A unit-year's current report: the data and findings of the submission that counts."""

    unit: str
    year: int
    submission: Submission
    data: ReportData | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.submission.errors

    @property
    def warnings(self) -> int:
        return self.submission.warnings

    @property
    def received(self) -> str:
        return self.submission.received

    @property
    def valid(self) -> bool:
        return self.errors == 0


@dataclass
class RecordResult:
    """What :meth:`Archive.record` did with one file: ``recorded`` False comes with a reason."""

    path: str | None
    recorded: bool
    unit: str | None = None
    year: int | None = None
    submission_id: int | None = None
    current: bool = False
    reason: str | None = None


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _mtime(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime).astimezone().isoformat(timespec="seconds")


def _finding_from_dict(data: dict[str, Any]) -> Finding:
    known = {k: data.get(k) for k in ("rule", "sheet", "cell", "row", "column", "expected", "actual")}
    related = tuple(tuple(pair) for pair in data.get("related") or ())
    return Finding(code=data["code"], severity=data["severity"], message=data["message"], related=related, **known)


def is_archive_file(path: str | Path) -> bool:
    """True when ``path`` is an SQLite file (a candidate archive) rather than, say, a JSON file."""
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


class Archive(PortalTables):
    """An open archive file. Use as a context manager, or call :meth:`close`.

    ``Archive(path)`` creates the file when it does not exist (``create=False`` refuses to) and
    migrates an older schema; it raises :class:`ArchiveError` for a file that is not an archive.
    """

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists() and not create:
            raise ArchiveError(f"档案文件不存在：{self.path}")
        if self.path.exists() and self.path.is_dir():
            raise ArchiveError(f"档案路径是一个文件夹，不是档案文件：{self.path}")
        if self.path.exists() and self.path.stat().st_size and not is_archive_file(self.path):
            raise ArchiveError(f"不是年报档案文件（不是 SQLite 数据库）：{self.path}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA busy_timeout = 30000")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
            self._db.execute("PRAGMA journal_mode = WAL")
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"无法打开档案文件 {self.path}：{exc}") from None

    # ------------------------------------------------------------ housekeeping

    def _migrate(self) -> None:
        db = self._db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        if version == 0:
            tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if tables or app_id not in (0, APPLICATION_ID):
                raise ArchiveError(f"不是年报档案文件（已有其他数据）：{self.path}")
        elif app_id != APPLICATION_ID:
            raise ArchiveError(f"不是年报档案文件：{self.path}")
        if version > SCHEMA_VERSION:
            raise ArchiveError(
                f"档案文件 {self.path} 由更新版本的工具箱创建（结构版本 {version}），请升级工具箱后再使用"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._transaction():
                for statement in split_sql(MIGRATIONS[target]):
                    db.execute(statement)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {target}")

    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _transaction(self) -> "_Tx":
        return _Tx(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ writing

    def _key(self, name: str) -> str:
        """The archive's key for ``name``: its own key when known, else the key of the only unit
        that is the same one without 人民政府/办事处 (``蓼堤镇`` ~ ``蓼堤镇人民政府``)."""
        key = unit_key(name)
        if self._db.execute("SELECT 1 FROM units WHERE key = ?", (key,)).fetchone():
            return key
        return match_unit(name, {k: k for (k,) in self._db.execute("SELECT key FROM units")}) or key

    def _unit_id(self, name: str) -> tuple[int, str]:
        key = self._key(name)
        row = self._db.execute("SELECT id, name FROM units WHERE key = ?", (key,)).fetchone()
        if row:
            return row[0], row[1]
        cur = self._db.execute(
            "INSERT INTO units (name, key, created_at) VALUES (?, ?, ?)", (name.strip(), key, _now())
        )
        return cur.lastrowid, name.strip()

    def record(
        self,
        report: FileReport,
        *,
        source: str = "check",
        received: str | datetime | None = None,
        via: str | None = None,
    ) -> RecordResult:
        """Record one checked file; its data and findings become the unit-year's current report
        unless a file received later is already recorded.

        ``via`` says how a file came in through the portal (``clerk:<name>`` or ``link:<unit>``);
        such a file is a temporary copy of an upload: its name and hash are kept, not its path
        (the bytes are kept with :meth:`store_file`).

        The unit and year come from what was read (``report.data``); a file whose unit or year
        could not be determined is not recorded (``recorded`` False, with a Chinese reason).
        ``received`` defaults to the file's modification time (when it was saved from the mail).
        """
        data = report.data
        unit = (data.unit or "").strip() if data else ""
        year = data.year if data else None
        if not unit or year is None:
            missing = "单位名称" if not unit else "报告年度"
            return RecordResult(report.path, False, unit or None, year,
                                reason=f"无法确定{missing}，未记入档案")
        return self._record(data, report.findings, report.path, source=source, received=received, via=via)

    def record_data(
        self,
        data: ReportData,
        findings: Iterable[Finding] = (),
        *,
        path: str | Path | None = None,
        source: str = "import",
        received: str | datetime | None = None,
    ) -> RecordResult:
        """Record data that did not come from a check run (e.g. an imported published report)."""
        if not data.unit or data.year is None:
            missing = "单位名称" if not data.unit else "报告年度"
            return RecordResult(None if path is None else str(path), False, data.unit, data.year,
                                reason=f"无法确定{missing}，未记入档案")
        return self._record(data, list(findings), None if path is None else str(path),
                            source=source, received=received)

    def _record(
        self,
        data: ReportData,
        findings: list[Finding],
        path: str | None,
        *,
        source: str,
        received: str | datetime | None,
        via: str | None = None,
    ) -> RecordResult:
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}")
        file = Path(path) if path else None
        exists = bool(file and file.is_file())
        file_hash = file_sha256(file) if exists else None
        size = file.stat().st_size if exists else None
        if isinstance(received, datetime):
            received = received.astimezone().isoformat(timespec="seconds")
        received = received or (_mtime(file) if exists else _now())
        errors = sum(1 for f in findings if f.severity == "error")
        warnings = sum(1 for f in findings if f.severity == "warning")
        data_json = printable(json.dumps(data.to_dict(), ensure_ascii=False))
        findings_json = printable(json.dumps([f.to_dict() for f in findings], ensure_ascii=False))
        name, where = (printable(file.name), printable(str(file))) if file else (None, None)
        if via is not None:
            where = None
        now = _now()
        with self._transaction():
            unit_id, unit = self._unit_id(data.unit or "")
            year = int(data.year)  # type: ignore[arg-type]
            same = None
            if file_hash:
                same = self._db.execute(
                    "SELECT id, received_at FROM submissions WHERE unit_id = ? AND year = ? AND file_hash = ?"
                    " AND source = ? ORDER BY id DESC LIMIT 1",
                    (unit_id, year, file_hash, source),
                ).fetchone()
            if same:
                sub_id = same[0]
                self._db.execute(
                    "UPDATE submissions SET file_name = ?, file_path = ?, recorded_at = ?, format = ?,"
                    " errors = ?, warnings = ?, data = ?, findings = ?, via = coalesce(?, via) WHERE id = ?",
                    (name, where, now, data.format, errors, warnings, data_json, findings_json, via, sub_id),
                )
            else:
                cur = self._db.execute(
                    "INSERT INTO submissions (unit_id, year, source, file_name, file_path, file_hash,"
                    " file_size, received_at, recorded_at, format, errors, warnings, data, findings, via)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (unit_id, year, source, name, where, file_hash, size, received, now, data.format,
                     errors, warnings, data_json, findings_json, via),
                )
                sub_id = cur.lastrowid
            has_check = self._db.execute(
                "SELECT 1 FROM submissions WHERE unit_id = ? AND year = ? AND source = 'check' LIMIT 1",
                (unit_id, year),
            ).fetchone()
            chosen = self._db.execute(
                "SELECT id FROM submissions WHERE unit_id = ? AND year = ? AND source IN (?, ?)"
                " ORDER BY received_at DESC, id DESC LIMIT 1",
                (unit_id, year, "check", "check" if has_check else "import"),
            ).fetchone()[0]
            self._db.execute(
                "INSERT INTO reports (unit_id, year, submission_id, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (unit_id, year) DO UPDATE SET submission_id = excluded.submission_id,"
                " updated_at = excluded.updated_at",
                (unit_id, year, chosen, now),
            )
        becomes_current = chosen == sub_id
        reason = None
        if not becomes_current:
            reason = ("已有核对过的填报表，导入的数据只作为历史记录" if source == "import" and has_check
                      else "该单位该年度已有更晚收到的文件，本文件只作为历史记录")
        return RecordResult(path, True, unit, year, sub_id, becomes_current, reason)

    # ------------------------------------------------------------ reading

    def find_unit(self, name: str) -> str | None:
        """The archive's spelling of a unit name, matched after folding widths and spaces (and
        without 人民政府/办事处 when that leaves exactly one unit)."""
        row = self._db.execute("SELECT name FROM units WHERE key = ?", (self._key(name),)).fetchone()
        return row[0] if row else None

    def units(self) -> list[str]:
        """All unit names in the archive, in the order they were first recorded."""
        return [r[0] for r in self._db.execute("SELECT name FROM units ORDER BY id")]

    def years(self, unit: str | None = None) -> list[int]:
        """Years that have a current report (for one unit, or for any)."""
        if unit is None:
            rows = self._db.execute("SELECT DISTINCT year FROM reports ORDER BY year")
        else:
            rows = self._db.execute(
                "SELECT r.year FROM reports r JOIN units u ON u.id = r.unit_id WHERE u.key = ? ORDER BY r.year",
                (self._key(unit),),
            )
        return [r[0] for r in rows]

    _SUBMISSION_COLUMNS = (
        "s.id, u.name, s.year, s.source, s.file_name, s.file_path, s.file_hash, s.file_size,"
        " s.received_at, s.recorded_at, s.format, s.errors, s.warnings, s.via,"
        " (r.submission_id IS NOT NULL) AS current"
    )

    def submissions(self, unit: str | None = None, year: int | None = None) -> list[Submission]:
        """Every file received, oldest first, optionally for one unit and/or year."""
        where, args = self._where(unit, year)
        rows = self._db.execute(
            f"SELECT {self._SUBMISSION_COLUMNS} FROM submissions s JOIN units u ON u.id = s.unit_id"
            " LEFT JOIN reports r ON r.submission_id = s.id"
            f"{where} ORDER BY s.received_at, s.id",
            args,
        )
        return [Submission(*row[:-1], current=bool(row[-1])) for row in rows]

    def current(self, unit: str, year: int) -> StoredReport | None:
        """The current report of one unit for one year, or None when nothing was received."""
        reports = list(self._reports(unit, year))
        return reports[0] if reports else None

    def reports(self, year: int | None = None, unit: str | None = None) -> list[StoredReport]:
        """Current reports, by unit (first recorded first) and year."""
        return list(self._reports(unit, year))

    def data(self, unit: str, year: int) -> ReportData | None:
        """The current data of one unit for one year."""
        stored = self.current(unit, year)
        return stored.data if stored else None

    def prior_for(self, unit: str, year: int) -> ReportData | None:
        """Last year's data for a report on ``year``: what cross-year checks compare with."""
        return self.data(unit, year - 1)

    def _where(self, unit: str | None, year: int | None, table: str = "s") -> tuple[str, tuple[Any, ...]]:
        """``WHERE`` on the unit (``u``) and on the year of ``table``, or nothing."""
        clauses, args = [], []
        if unit is not None:
            clauses.append("u.key = ?")
            args.append(self._key(unit))
        if year is not None:
            clauses.append(f"{table}.year = ?")
            args.append(int(year))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)

    def _reports(self, unit: str | None, year: int | None) -> Iterator[StoredReport]:
        where, args = self._where(unit, year)
        rows = self._db.execute(
            f"SELECT {self._SUBMISSION_COLUMNS}, s.data, s.findings FROM reports r"
            " JOIN submissions s ON s.id = r.submission_id JOIN units u ON u.id = r.unit_id"
            f"{where} ORDER BY u.id, r.year",
            args,
        ).fetchall()
        for row in rows:
            sub = Submission(*row[:14], current=True)
            data = ReportData.from_dict(json.loads(row[15])) if row[15] else None
            findings = [_finding_from_dict(f) for f in json.loads(row[16])]
            yield StoredReport(sub.unit, sub.year, sub, data, findings)


class _Tx:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception (an SQLite error becomes an
    :class:`ArchiveError`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
            return
        self.db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise ArchiveError(f"写入档案失败，本次没有写入任何内容：{exc}") from exc


def open_archive(path: str | Path, *, create: bool = True) -> Archive:
    """Open (and create or migrate) the archive at ``path``."""
    return Archive(path, create=create)



def record_report(archive: str | Path | Archive, report: Report, *, source: str = "check") -> list[RecordResult]:
    """Record every file of a check (or import) run in the archive, in input order.

    A file that cannot be recorded (unit or year unknown) gets an ``archive-not-recorded``
    warning in its findings, so the clerk sees it with the file's other findings.
    """
    own = not isinstance(archive, Archive)
    arch = Archive(archive) if own else archive
    try:
        results = []
        for file_report in report.files:
            result = arch.record(file_report, source=source)
            if not result.recorded:
                file_report.findings.append(ArchiveNotRecorded.make(reason=result.reason))
            results.append(result)
        return results
    finally:
        if own:
            arch.close()


def prior_from_archive(archive: str | Path, data: ReportData) -> ReportData | None:
    """Last year's data for ``data`` (same unit, year − 1) from the archive file, or None.
    Opens its own connection, so it can be called from worker processes."""
    if not data.unit or data.year is None or not Path(archive).is_file():
        return None
    with Archive(archive, create=False) as arch:
        return arch.prior_for(data.unit, int(data.year))
