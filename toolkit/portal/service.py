"""The portal's service object: one round (a roster and a year) over one archive file.

Every method opens its own archive connection, so the web layer may call them from many threads
at once; SQLite (WAL, one writer at a time, a busy timeout) keeps concurrent uploads whole.
Everything the portal knows lives in the archive file, so a restarted server has it all.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

from toolkit.archive.portal import Waiver, finding_key
from toolkit.model import ERROR, Finding, ReportData
from toolkit.portal import access
from toolkit.portal.downloads import Downloads
from toolkit.portal.uploads import Uploads


class PortalError(ValueError):
    """A refused portal action (Chinese message, shown as it is)."""


class Portal(Uploads, Downloads):
    """``Portal(archive, roster, year)``: what ``nianbao serve`` runs on; see the module docstring."""

    mail: tuple[Any, str] | None = None  # (toolkit.mail.SmtpSettings, sender) once configured
    base_url: str | None = None  # where the portal is reached, for the links in the request mails

    def __init__(self, archive: str | Path, roster: str | Path | Any, year: int) -> None:
        from toolkit.archive import Archive
        from toolkit.round.common import load_roster

        self.archive_path = Path(archive)
        self.year = int(year)
        self.roster_path = roster
        self.entries, self.roster_problems = load_roster(roster)
        with Archive(self.archive_path) as arch:
            self.secret = access.portal_secret(arch)

    # ---------------------------------------------------------------- the clerk's password

    def set_password(self, password: str) -> None:
        from toolkit.archive import Archive

        if len(password) < 8:
            raise PortalError("密码至少8个字符")
        with Archive(self.archive_path) as arch:
            arch.set_meta(access.PASSWORD_KEY, access.hash_password(password))

    def _password_record(self) -> str | None:
        from toolkit.archive import Archive

        with Archive(self.archive_path) as arch:
            return arch.get_meta(access.PASSWORD_KEY)

    def has_password(self) -> bool:
        return self._password_record() is not None

    def verify_password(self, password: str) -> bool:
        return access.password_matches(self._password_record(), password)

    def password_mark(self) -> str:
        """Changes with the password: a session logged in before a change is no longer valid."""
        return hashlib.sha256((self._password_record() or "").encode()).hexdigest()[:16]

    # ---------------------------------------------------------------- units and their links

    def units(self) -> list[str]:
        """The roster's units, in roster order."""
        return [e.unit for e in self.entries]

    def roster_unit(self, name: str | None) -> str | None:
        """The roster's spelling of a unit name (城关镇 ~ 城关镇人民政府), or None."""
        from toolkit.identity import match_unit, unit_key

        return match_unit(name, {unit_key(u): u for u in self.units()}) if name else None

    def _entry(self, unit: str) -> Any:
        return next(e for e in self.entries if e.unit == unit)

    def token(self, unit: str) -> str:
        return access.unit_token(self.secret, unit, self.year)

    def unit_for_token(self, token: str) -> str | None:
        """The roster unit a private link token belongs to for this year; None for any other."""
        found = None
        for unit in self.units():
            if hmac.compare_digest(self.token(unit), token or ""):
                found = unit
        return found

    # ---------------------------------------------------------------- status and findings

    def status(self) -> Any:
        """The round's :class:`toolkit.round.RoundStatus` (with the 已核实 marks counted)."""
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

    def current_data(self, unit: str) -> ReportData | None:
        stored = self._stored(unit)
        return stored.data if stored else None

    def submissions(self, unit: str) -> list[Any]:
        """Every file received for the unit this year, oldest first (toolkit.archive.Submission)."""
        from toolkit.archive import Archive

        with Archive(self.archive_path) as arch:
            key = arch.find_unit(unit)
            return arch.submissions(key, self.year) if key else []

    # ---------------------------------------------------------------- 已核实 marks on warnings

    finding_key = staticmethod(finding_key)

    def waivers(self, unit: str) -> list[Waiver]:
        from toolkit.archive import Archive

        with Archive(self.archive_path) as arch:
            return arch.waivers(unit, self.year) if arch.find_unit(unit) else []

    def waive(self, unit: str, key: str, note: str, *, by: str) -> Waiver:
        """Mark a warning of the unit's current file 已核实; errors cannot be marked."""
        from toolkit.archive import Archive

        finding = next((f for f in self.current_findings(unit) if finding_key(f) == key), None)
        if finding is None:
            raise PortalError("没有这条提示（可能已重新上传），请刷新页面")
        if finding.severity == ERROR:
            raise PortalError("错误不能标为已核实，只能改正后重新上传")
        if not note.strip():
            raise PortalError("请写一句核实说明")
        with Archive(self.archive_path) as arch:
            return arch.waive(unit, self.year, key, note.strip()[:500], by)

    def unwaive(self, unit: str, key: str, *, by: str) -> None:
        from toolkit.archive import Archive

        with Archive(self.archive_path) as arch:
            arch.unwaive(unit, self.year, key)
