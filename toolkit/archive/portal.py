"""The archive's tables for the web portal (schema version 2): a key/value ``meta`` table (the
portal's secret, the clerk's password hash), the files received kept whole by their SHA-256
(deduplicated), and the warnings a clerk marked 已核实 (who, when, why), kept per unit, year and
finding key so that the same warning on a re-upload keeps its mark."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from toolkit.model import Finding


@dataclass
class Waiver:
    """A warning a clerk looked at and marked 已核实."""

    unit: str
    year: int
    finding_key: str
    note: str
    by: str
    at: str  # ISO 8601


def finding_key(finding: Finding) -> str:
    """The stable identity of a finding across re-uploads: its code, place and rule, not its
    message (which carries the values)."""
    text = "|".join(str(x or "") for x in (finding.code, finding.sheet, finding.cell, finding.rule))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


class PortalTables:
    """Methods of :class:`toolkit.archive.Archive` on the portal's tables."""

    _db: object

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction():
            self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                             " SET value = excluded.value", (key, value))

    def meta_default(self, key: str, make: "callable") -> str:
        """The value of ``key``, set to ``make()`` first when there is none (once, whoever asks first)."""
        with self._transaction():
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if row:
                return row[0]
            value = make()
            self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
            return value

    def store_file(self, content: bytes) -> str:
        """Keep a received file whole; returns its SHA-256 (the same bytes are kept once)."""
        digest = hashlib.sha256(content).hexdigest()
        with self._transaction():
            self._db.execute("INSERT OR IGNORE INTO files (sha256, size, content, stored_at) VALUES (?, ?, ?, ?)",
                             (digest, len(content), content, _now()))
        return digest

    def file_content(self, sha256: str) -> bytes | None:
        row = self._db.execute("SELECT content FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        return bytes(row[0]) if row else None

    def waive(self, unit: str, year: int, key: str, note: str, by: str) -> Waiver:
        at = _now()
        with self._transaction():
            unit_id, name = self._unit_id(unit)
            self._db.execute(
                "INSERT INTO waivers (unit_id, year, finding_key, note, by_whom, at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (unit_id, year, finding_key) DO UPDATE SET note = excluded.note,"
                " by_whom = excluded.by_whom, at = excluded.at", (unit_id, int(year), key, note, by, at))
        return Waiver(name, int(year), key, note, by, at)

    def unwaive(self, unit: str, year: int, key: str) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM waivers WHERE unit_id = (SELECT id FROM units WHERE key = ?)"
                             " AND year = ? AND finding_key = ?", (self._key(unit), int(year), key))

    def waivers(self, unit: str | None = None, year: int | None = None) -> list[Waiver]:
        where, args = self._where(unit, year, table="w")
        rows = self._db.execute(
            "SELECT u.name, w.year, w.finding_key, w.note, w.by_whom, w.at FROM waivers w"
            f" JOIN units u ON u.id = w.unit_id{where} ORDER BY w.at", args)
        return [Waiver(*row) for row in rows]


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
