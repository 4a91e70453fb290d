"""Published reports' hashes in the archive (schema migration 3, for ``nianbao audit --archive``):
a report changed after it was published is found the next time the set is audited."""

from __future__ import annotations

from pathlib import Path

from toolkit.model import Finding

MIGRATION = """
CREATE TABLE published_files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
"""


def record_published(archive: str | Path, paths: list[str]) -> dict[str, list[Finding]]:
    """Record each file's SHA-256 under its absolute path; a file whose hash differs from the one
    recorded first gets an ``audit-changed-after-publication`` finding (the first hash is kept)."""
    from toolkit.archive.store import _now, file_sha256, open_archive
    from toolkit.audit.findings import AuditChanged

    out: dict[str, list[Finding]] = {}
    with open_archive(archive) as arc:
        db = arc._db
        with arc._transaction():
            for path in paths:
                file = Path(path)
                if not file.is_file():
                    continue
                key, digest, now = str(file.resolve()), file_sha256(file), _now()
                row = db.execute("SELECT sha256, first_seen FROM published_files WHERE path = ?", (key,)).fetchone()
                if row is None:
                    db.execute("INSERT INTO published_files (path, sha256, size, first_seen, last_seen) "
                               "VALUES (?, ?, ?, ?, ?)", (key, digest, file.stat().st_size, now, now))
                    out[path] = []
                    continue
                db.execute("UPDATE published_files SET last_seen = ? WHERE path = ?", (now, key))
                out[path] = [] if row[0] == digest else [
                    AuditChanged.make(file=file.name, first_seen=row[1][:10], old=row[0][:12], new=digest[:12],
                                      expected=row[0], actual=digest)]
    return out
