"""What the web layer calls: ``toolkit.portal.Portal`` (issue 15, library part) when it is there,
else :class:`InterimPortal`, the same surface made only of the library's existing functions
(check_file, Archive.record, round_status, write_summary, the render grid, render_report).

The interim keeps its secret, password hash and the uploaded originals beside the archive
(``<archive>.portal/``); the Portal keeps them in the archive itself (contract, migration 2).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import secrets
import tempfile
import threading
import zipfile
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.model import ERROR, FileReport, Finding

MAX_FILES = 200
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass
class Received:
    """One file of an upload: what it gave, and whether the archive recorded it."""

    file_name: str
    sha256: str | None
    report: FileReport | None
    unit: str | None
    recorded: bool
    reason: str | None = None
    findings: list[Finding] = field(default_factory=list)


def open_portal(archive: str | Path, roster: str | Path, year: int) -> Any:
    """The service object the web app holds."""
    try:
        from toolkit.portal import Portal  # type: ignore[import-not-found]
    except ImportError:
        return InterimPortal(archive, roster, year)
    return Portal(archive, roster, year)


class InterimPortal:
    """The Portal's surface from the existing library functions (see the module docstring)."""

    def __init__(self, archive: str | Path, roster: str | Path, year: int) -> None:
        from toolkit.archive import Archive
        from toolkit.round.common import load_roster

        self.archive_path = Path(archive)
        self.year = int(year)
        self.roster_path = Path(roster)
        self.entries, self.roster_problems = load_roster(roster)
        Archive(self.archive_path).close()
        self.side = self.archive_path.with_name(self.archive_path.name + ".portal")
        (self.side / "files").mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._meta_path = self.side / "meta.json"
        meta = self._meta()
        if "secret" not in meta:
            meta["secret"] = secrets.token_hex(32)
            self._save_meta(meta)

    # ------------------------------------------------------------ meta (secret, password)

    def _meta(self) -> dict[str, Any]:
        try:
            return json.loads(self._meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _save_meta(self, meta: dict[str, Any]) -> None:
        from toolkit.files import write_text_atomic

        write_text_atomic(self._meta_path, json.dumps(meta))
        os.chmod(self._meta_path, 0o600)

    @property
    def secret(self) -> bytes:
        return bytes.fromhex(self._meta()["secret"])

    def set_password(self, password: str) -> None:
        salt = secrets.token_bytes(16)
        digest = hashlib.scrypt(password.encode(), salt=salt, n=2 ** 14, r=8, p=1)
        meta = self._meta()
        meta["password"] = {"salt": salt.hex(), "hash": digest.hex(), "n": 2 ** 14, "r": 8, "p": 1}
        self._save_meta(meta)

    def password_mark(self) -> str:
        """Changes with the password: a session logged in before a change is no longer valid."""
        stored = self._meta().get("password") or {}
        return hashlib.sha256(str(stored.get("hash", "")).encode()).hexdigest()[:16]

    def has_password(self) -> bool:
        return "password" in self._meta()

    def verify_password(self, password: str) -> bool:
        stored = self._meta().get("password")
        if not stored:
            return False
        digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(stored["salt"]),
                                n=stored["n"], r=stored["r"], p=stored["p"])
        return hmac.compare_digest(digest.hex(), stored["hash"])

    # ------------------------------------------------------------ units and tokens

    def units(self) -> list[str]:
        return [e.unit for e in self.entries]

    def roster_unit(self, name: str | None) -> str | None:
        from toolkit.identity import match_unit, unit_key

        if not name:
            return None
        return match_unit(name, {unit_key(u): u for u in self.units()})

    def token(self, unit: str) -> str:
        from toolkit.identity import unit_key
        import base64

        mac = hmac.new(self.secret, f"{unit_key(unit)}|{self.year}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:24]).decode().rstrip("=")

    def unit_for_token(self, token: str) -> str | None:
        for unit in self.units():
            if hmac.compare_digest(self.token(unit), token or ""):
                return unit
        return None

    # ------------------------------------------------------------ status and findings

    def status(self) -> Any:
        from toolkit.round import round_status

        return round_status(self.entries, year=self.year, archive=self.archive_path)

    def _stored(self, unit: str) -> Any:
        from toolkit.archive import Archive

        with Archive(self.archive_path) as arch:
            key = arch.find_unit(unit)
            return arch.current(key, self.year) if key else None

    def current_findings(self, unit: str) -> list[Finding]:
        stored = self._stored(unit)
        return list(stored.findings) if stored else []

    def current_data(self, unit: str) -> Any:
        stored = self._stored(unit)
        return stored.data if stored else None

    def submissions(self, unit: str) -> list[Any]:
        from toolkit.archive import Archive

        with Archive(self.archive_path) as arch:
            key = arch.find_unit(unit)
            return arch.submissions(key, self.year) if key else []

    # ------------------------------------------------------------ receiving

    def receive(self, file_name: str, content: bytes, *, via: str, unit: str | None = None) -> list[Received]:
        """Check and record one file, or each file of a .zip of a folder."""
        name = Path(file_name.replace("\\", "/")).name or "未命名文件"
        if name.lower().endswith(".zip"):
            return self._receive_zip(name, content, via=via, unit=unit)
        return [self._receive_one(name, content, via=via, unit=unit)]

    def _receive_zip(self, name: str, content: bytes, *, via: str, unit: str | None) -> list[Received]:
        from toolkit.batch import supported_suffixes

        try:
            archive = zipfile.ZipFile(io.BytesIO(content))
            infos = [i for i in archive.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, ValueError, OSError):
            return [Received(name, None, None, None, False, "压缩包已损坏，无法打开")]
        suffixes = supported_suffixes()
        wanted = [i for i in infos if Path(i.filename).suffix.lower() in suffixes
                  and not Path(i.filename).name.startswith((".", "~$")) and "__MACOSX" not in i.filename]
        if len(wanted) > MAX_FILES:
            return [Received(name, None, None, None, False, f"压缩包中的文件超过{MAX_FILES}个，请分批上传")]
        if sum(i.file_size for i in wanted) > MAX_FILES * MAX_FILE_BYTES or any(
                i.file_size > MAX_FILE_BYTES for i in wanted):
            return [Received(name, None, None, None, False, "压缩包解压后过大，未处理")]
        if not wanted:
            return [Received(name, None, None, None, False, "压缩包中没有可读取的填报表（.xlsx、.xls、.et 等）")]
        out = []
        for info in wanted:
            try:
                data = archive.read(info)
            except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, RuntimeError):
                out.append(Received(Path(info.filename).name, None, None, None, False, "压缩包中的该文件已损坏或已加密"))
                continue
            out.append(self._receive_one(Path(info.filename).name, data, via=via, unit=unit))
        return out

    def _receive_one(self, name: str, content: bytes, *, via: str, unit: str | None) -> Received:
        from toolkit.archive import Archive
        from toolkit.batch import check_file

        if len(content) > MAX_FILE_BYTES:
            return Received(name, None, None, None, False, f"文件超过{MAX_FILE_BYTES // 1048576}MB，未处理")
        digest = hashlib.sha256(content).hexdigest()
        from toolkit.files import safe_filename, write_bytes_atomic

        stored = self.side / "files" / digest / safe_filename(Path(name).stem, Path(name).suffix.lower()[:8])
        if not stored.exists():
            write_bytes_atomic(stored, content)
        report = check_file(stored, roster=self.units(), year=self.year)
        own = self.roster_unit(report.data.unit if report.data else None)
        if unit is not None and report.data is not None and own != unit:
            report.findings.insert(0, Finding("portal-other-unit", ERROR,
                                              f"这份填报表写的单位是“{report.data.unit or '（空）'}”，不是本单位“{unit}”，未记入本单位"))
            return Received(name, digest, report, unit, False, "填报表中的单位不是本单位", report.findings)
        if report.data is not None and own and report.data.unit != own:
            report.data.unit = own
        with self._lock, Archive(self.archive_path) as arch:
            result = arch.record(report, source="check", received=datetime.now(timezone.utc)) if report.data else None
        if result is None or not result.recorded:
            reason = result.reason if result else "文件无法读取，未记入档案"
            return Received(name, digest, report, own, False, reason, report.findings)
        return Received(name, digest, report, own, True, None, report.findings)

    # ------------------------------------------------------------ downloads: (file name, bytes)

    def _entry(self, unit: str) -> Any:
        return next(e for e in self.entries if e.unit == unit)

    def blank(self, unit: str) -> tuple[str, bytes]:
        from toolkit.blank import blank_file_name, unit_prefill
        from toolkit.formats import format_for_year
        from toolkit.workbook.writer import workbook_bytes

        fmt = format_for_year(self.year)
        entry = self._entry(unit)
        data = unit_prefill(entry, fmt, self.year)
        return blank_file_name(unit, self.year), workbook_bytes(fmt, unit=unit, year=self.year, data=data)

    def blanks_zip(self) -> tuple[str, bytes]:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
            for unit in self.units():
                name, content = self.blank(unit)
                out.writestr(name, content)
        return f"{self.year}年度填报表.zip", buffer.getvalue()

    def annotated(self, unit: str) -> tuple[str, bytes] | None:
        from toolkit.batch import annotated_name
        from toolkit.workbook.annotate import annotate_workbook

        stored = self._stored(unit)
        if stored is None or not stored.submission.file_path or not Path(stored.submission.file_path).exists():
            return None
        source = Path(stored.submission.file_path)
        with tempfile.TemporaryDirectory(prefix="nianbao-web-") as tmp:
            target = Path(tmp) / annotated_name(source)
            try:
                annotate_workbook(source, target, stored.findings, data=stored.data)
            except Exception:
                return None
            return f"标注_{target.name}", target.read_bytes()

    def summary(self) -> tuple[str, bytes]:
        from toolkit.archive import Archive
        from toolkit.model import Report
        from toolkit.workbook.summary import write_summary

        with Archive(self.archive_path) as arch:
            current = arch.reports(year=self.year)
        wanted = {u for u in self.units()}
        files = [FileReport(s.submission.file_path or s.unit, list(s.findings), s.data)
                 for s in current if self.roster_unit(s.unit) in wanted]
        with tempfile.TemporaryDirectory(prefix="nianbao-web-") as tmp:
            path = write_summary(Report(files), Path(tmp) / "summary.xlsx")
            return f"{self.year}年度汇总表.xlsx", path.read_bytes()

    def rollup(self) -> tuple[str, bytes]:
        """The county's standard workbook filled with the sum of every roster unit's current data
        (the files without errors: toolkit/workbook/summary.county_totals)."""
        from toolkit.archive import Archive
        from toolkit.formats import format_for_year
        from toolkit.model import ReportData
        from toolkit.workbook.summary import county_totals
        from toolkit.workbook.writer import workbook_bytes

        fmt = format_for_year(self.year)
        with Archive(self.archive_path) as arch:
            current = arch.reports(year=self.year)
        files = [FileReport(s.unit, list(s.findings), s.data) for s in current if self.roster_unit(s.unit)]
        sums, used = county_totals(files, fmt)
        inputs = {c.id: sums[c.id] for c in fmt.input_cells}
        name = f"全县合计（{len(used)}个单位）"
        data = ReportData(format=fmt.id, unit=name, year=self.year, values=inputs)
        return f"{self.year}年度全县合计.xlsx", workbook_bytes(fmt, unit=name, year=self.year, data=data)

    def draft(self, unit: str, to: str) -> tuple[str, bytes] | None:
        from toolkit.render.api import render_report

        stored = self._stored(unit)
        if stored is None or stored.data is None:
            return None
        content = render_report(stored.data, to, draft=bool(stored.errors))
        body = content.encode("utf-8") if isinstance(content, str) else content
        return f"{unit}_{self.year}年度报告.{to}", body

    def history_svg(self, unit: str) -> tuple[str, bytes] | None:
        from toolkit.round import draw_history_chart, unit_history
        from toolkit.round.common import RoundError

        try:
            history = unit_history(self.archive_path, unit)
        except RoundError:
            return None
        with tempfile.TemporaryDirectory(prefix="nianbao-web-") as tmp:
            path = Path(tmp) / "history.svg"
            draw_history_chart(history, path)
            return f"{unit}_历年数据.svg", path.read_bytes()

    def request_mails(self) -> tuple[str, bytes]:
        """The request mails (one .eml per unit with an 邮箱, its blank attached) as a .zip."""
        from toolkit.round import send_requests

        with tempfile.TemporaryDirectory(prefix="nianbao-web-") as tmp:
            send_requests(self.entries, year=self.year, outbox=Path(tmp) / "out", log=Path(tmp) / "log.jsonl")
            return f"{self.year}年度填报通知邮件.zip", _zip_folder(Path(tmp) / "out")

    mail: tuple[Any, str] | None = None  # (toolkit.mail.SmtpSettings, sender) when mails can be sent

    def configure_mail(self, smtp: Any, sender: str) -> None:
        """The SMTP server and sender address :meth:`send_mails` uses."""
        self.mail = (smtp, sender)

    def send_mails(self, kind: str) -> Any:
        """Send the request mails (``requests``) or the findings mails (``findings``) through the
        configured SMTP server; the outbox and its log beside the archive keep a unit from getting
        the same mail twice. Returns the :class:`toolkit.round.SendReport`."""
        from toolkit.round import send_findings, send_requests

        if self.mail is None:
            raise ValueError("启动平台时没有配置邮件服务器（--smtp、--from）")
        smtp, sender = self.mail
        outbox = self.side / "outbox" / kind
        if kind == "requests":
            return send_requests(self.entries, year=self.year, outbox=outbox, smtp=smtp, sender=sender)
        return send_findings(self.archive_path, roster=self.entries, outbox=outbox, year=self.year, smtp=smtp,
                             sender=sender)

    def findings_mails(self) -> tuple[str, bytes]:
        """The findings mails of the units whose current file has errors, as a .zip of .eml."""
        from toolkit.round import send_findings

        with tempfile.TemporaryDirectory(prefix="nianbao-web-") as tmp:
            send_findings(self.archive_path, roster=self.entries, outbox=Path(tmp) / "out", year=self.year,
                          log=Path(tmp) / "log.jsonl")
            return f"{self.year}年度校验意见邮件.zip", _zip_folder(Path(tmp) / "out")

    # ------------------------------------------------------------ the official grids, findings placed

    def grids(self, unit: str) -> list[dict[str, Any]]:
        """表二/表三/表四 of the unit's current data as the render grid, each value cell with the
        findings that name it."""
        from toolkit.formats import format_for_year, load_format
        from toolkit.grid import VALUE, table_grid
        from toolkit.layout import cell_addresses
        from toolkit.model import format_decimal

        stored = self._stored(unit)
        if stored is None or stored.data is None:
            return []
        data = stored.data
        try:
            fmt = load_format(data.format) if data.format else format_for_year(self.year)
        except Exception:
            fmt = format_for_year(self.year)
        by_place: dict[tuple[str, str], list[int]] = {}
        for i, f in enumerate(stored.findings):
            for sheet, cell in ((f.sheet, f.cell), *f.related):
                if sheet and cell:
                    by_place.setdefault((sheet, cell.replace("$", "").upper()), []).append(i)
        addresses = cell_addresses(fmt)
        out = []
        for table in fmt.tables:
            grid = table_grid(fmt, table.id)
            rows = []
            for row in grid.rows():
                cells = []
                for c in row:
                    item = {"text": c.text, "rowspan": c.rowspan, "colspan": c.colspan, "role": c.role,
                            "findings": [], "a1": ""}
                    if c.role == VALUE:
                        value = data.values.get(c.cell_id)
                        item["text"] = "" if value is None else format_decimal(value)
                        address = addresses.get(c.cell_id)
                        if address:
                            item["a1"] = address.a1
                            item["findings"] = by_place.get((address.sheet, address.a1), [])
                    cells.append(item)
                rows.append(cells)
            out.append({"id": table.id, "sheet": table.sheet, "title": table.caption or table.sheet,
                        "rows": rows, "n_cols": grid.n_cols})
        return out

    # ------------------------------------------------------------ 已核实 marks on warnings

    @staticmethod
    def finding_key(finding: Finding) -> str:
        """The stable identity of a warning (code, sheet, cell, rule; not the message)."""
        text = "|".join(str(x or "") for x in (finding.code, finding.sheet, finding.cell, finding.rule))
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def waivers(self, unit: str) -> list[Waiver]:
        return [Waiver(**w) for w in self._meta().get("waivers", {}).get(f"{unit}|{self.year}", [])]

    def waive(self, unit: str, key: str, note: str, *, by: str) -> None:
        finding = next((f for f in self.current_findings(unit) if self.finding_key(f) == key), None)
        if finding is None:
            raise ValueError("没有这条提示（可能已重新上传），请刷新页面")
        if finding.severity == ERROR:
            raise ValueError("错误不能标为已核实，只能改正后重新上传")
        if not note.strip():
            raise ValueError("请写一句核实说明")
        with self._lock:
            meta = self._meta()
            marks = meta.setdefault("waivers", {}).setdefault(f"{unit}|{self.year}", [])
            marks[:] = [w for w in marks if w["finding_key"] != key]
            marks.append({"finding_key": key, "note": note.strip(), "by": by,
                          "at": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")})
            self._save_meta(meta)

    def unwaive(self, unit: str, key: str, *, by: str) -> None:
        with self._lock:
            meta = self._meta()
            marks = meta.setdefault("waivers", {}).setdefault(f"{unit}|{self.year}", [])
            marks[:] = [w for w in marks if w["finding_key"] != key]
            self._save_meta(meta)


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.glob("**/*.eml")) if folder.is_dir() else []:
            out.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


@dataclass
class Waiver:
    finding_key: str
    note: str
    by: str
    at: str
