"""Receiving files on the portal: one workbook, or a .zip of a folder of them, each checked
through the same hardened reading path as ``nianbao check`` (size caps, the helper process,
nothing executed), its bytes kept in the archive by hash and its data and findings recorded with
when and through which link it came."""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from toolkit.checks.catalogue import FindingType
from toolkit.model import ERROR, FileReport, Finding
from toolkit.workbook.source.limits import DEFAULT_LIMITS

MAX_FILES = 200  # files in one upload (a .zip of a county's folder)
MAX_FILE_BYTES = DEFAULT_LIMITS.max_file_bytes
MAX_RATIO = DEFAULT_LIMITS.max_ratio


@dataclass
class Received:
    """One file of an upload: what its check gave, and whether the archive recorded it."""

    file_name: str
    sha256: str | None
    report: FileReport | None
    unit: str | None
    recorded: bool
    reason: str | None = None  # why it was not recorded (Chinese)
    findings: list[Finding] = field(default_factory=list)



class PortalOtherUnit(FindingType):
    code = "portal-other-unit"
    severity = ERROR
    title = "上传的不是本单位的填报表"
    template = "这份填报表写的单位是“{found}”，不是本单位“{unit}”，未记入本单位；请上传本单位的填报表"
    description = ("A file uploaded through a township's private link names another unit (or none): it is "
                   "checked and shown, never recorded for the other unit.")


class Uploads:
    """Portal methods for receiving files (mixed into :class:`toolkit.portal.Portal`)."""

    def receive(self, file_name: str, content: bytes, *, via: str, unit: str | None = None) -> list[Received]:
        """Check and record one file, or each file of a .zip of a folder. ``via`` is recorded
        with each submission (``clerk:<name>``, ``link:<unit>``); with ``unit`` (a township's
        link) a file is that unit's or is refused, never recorded for another unit."""
        name = PurePosixPath(file_name.replace("\\", "/")).name or "未命名文件"
        if name.lower().endswith(".zip"):
            return self._receive_zip(name, content, via=via, unit=unit)
        return [self._receive_one(name, content, via=via, unit=unit)]

    def _receive_zip(self, name: str, content: bytes, *, via: str, unit: str | None) -> list[Received]:
        from toolkit.batch import supported_suffixes

        def refused(reason: str) -> list[Received]:
            return [Received(name, None, None, None, False, reason)]

        try:
            folder = zipfile.ZipFile(io.BytesIO(content))
            infos = [i for i in folder.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, ValueError, OSError):
            return refused("压缩包已损坏，无法打开")
        suffixes = supported_suffixes()
        wanted = [i for i in infos if PurePosixPath(i.filename).suffix.lower() in suffixes
                  and not PurePosixPath(i.filename).name.startswith((".", "~$")) and "__MACOSX" not in i.filename]
        if not wanted:
            return refused("压缩包中没有可读取的填报表（.xlsx、.xls、.et、.ods 等）")
        if len(wanted) > MAX_FILES:
            return refused(f"压缩包中的填报表超过{MAX_FILES}个，请分批上传")
        if sum(i.file_size for i in wanted) > MAX_FILES * MAX_FILE_BYTES:
            return refused("压缩包解压后过大，未处理")
        out = []
        for info in wanted:
            entry = PurePosixPath(info.filename.replace("\\", "/")).name
            if info.file_size > MAX_FILE_BYTES or (
                    info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(info.compress_size, 1)):
                out.append(Received(entry, None, None, None, False, "压缩包中的该文件解压后过大，未处理"))
                continue
            try:
                with folder.open(info) as member:
                    data = member.read(MAX_FILE_BYTES + 1)  # a size that lies is bounded here
            except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, RuntimeError, EOFError):
                out.append(Received(entry, None, None, None, False, "压缩包中的该文件已损坏或已加密，无法读取"))
                continue
            if len(data) > MAX_FILE_BYTES:
                out.append(Received(entry, None, None, None, False, "压缩包中的该文件解压后过大，未处理"))
                continue
            out.append(self._receive_one(entry, data, via=via, unit=unit))
        return out

    def _receive_one(self, name: str, content: bytes, *, via: str, unit: str | None) -> Received:
        from toolkit.archive import Archive
        from toolkit.batch import check_file

        if len(content) > MAX_FILE_BYTES:
            return Received(name, None, None, None, False, f"文件超过{MAX_FILE_BYTES // 1048576}MB，未处理")
        with Archive(self.archive_path) as arch:
            digest = arch.store_file(content)
            priors = [s.data for s in arch.reports(year=self.year - 1) if s.data is not None]
        with tempfile.TemporaryDirectory(prefix="nianbao-portal-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(content)
            try:
                report = check_file(path, prior=priors or None, roster=self.units(), year=self.year)
            except Exception:  # noqa: BLE001 - a bug in one check must not take the upload (or server) down
                return Received(name, digest, None, unit, False, "检查该文件时程序出错，文件已保存，请联系管理员")
            own = self.roster_unit(report.data.unit if report.data else None)
            if unit is not None and report.data is not None and own != unit:
                report.findings.insert(0, PortalOtherUnit.make(found=report.data.unit or "（空）", unit=unit,
                                                                   expected=unit, actual=report.data.unit))
                return Received(name, digest, report, unit, False, "填报表中的单位不是本单位", report.findings)
            if report.data is None:
                return Received(name, digest, report, unit, False, "文件无法读取，未记入档案", report.findings)
            if own and report.data.unit != own:
                report.data.unit = own  # the roster's spelling (城关镇 ~ 城关镇人民政府)
            with Archive(self.archive_path) as arch:
                result = arch.record(report, source="check", received=datetime.now(timezone.utc), via=via)
        if not result.recorded:
            return Received(name, digest, report, own, False, result.reason, report.findings)
        return Received(name, digest, report, own or report.data.unit, True, None, report.findings)
