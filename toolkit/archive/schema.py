"""The archive's schema: one SQL script per version, applied in order on open (``PRAGMA
user_version`` holds the version; ``application_id`` marks the file as a nianbao archive)."""

from __future__ import annotations

from toolkit.archive.published import MIGRATION as PUBLISHED_FILES

SCHEMA_VERSION = 3
APPLICATION_ID = 0x4E42414F  # "NBAO": marks the file as a nianbao archive
SOURCES = ("check", "import")

MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE units (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        key TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY,
        unit_id INTEGER NOT NULL REFERENCES units(id),
        year INTEGER NOT NULL,
        source TEXT NOT NULL,
        file_name TEXT,
        file_path TEXT,
        file_hash TEXT,
        file_size INTEGER,
        received_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        format TEXT,
        errors INTEGER NOT NULL,
        warnings INTEGER NOT NULL,
        data TEXT,
        findings TEXT NOT NULL
    );
    CREATE INDEX submissions_unit_year ON submissions(unit_id, year);
    CREATE TABLE reports (
        unit_id INTEGER NOT NULL REFERENCES units(id),
        year INTEGER NOT NULL,
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (unit_id, year)
    );
    """,
    # the web portal (issue 15): its secret and the clerk's password, the files received (kept by
    # hash), how each submission came, and the warnings a clerk marked 已核实
    2: """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE files (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        content BLOB NOT NULL,
        stored_at TEXT NOT NULL
    );
    ALTER TABLE submissions ADD COLUMN via TEXT;
    CREATE TABLE waivers (
        unit_id INTEGER NOT NULL REFERENCES units(id),
        year INTEGER NOT NULL,
        finding_key TEXT NOT NULL,
        note TEXT NOT NULL,
        by_whom TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (unit_id, year, finding_key)
    );
    """,
    3: PUBLISHED_FILES,  # issue 16: published reports' hashes (nianbao audit --archive)
}


def split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
