"""The archive: every unit's checked data per year, its findings, and every file received.

One SQLite file (``nianbao.db``). A *submission* is one file received for a unit and year (its
hash, name, size, when it was received, the data read from it and its findings); a unit-year's
*current* report points at the submission that counts: the one received last (a file's
modification time, when it was saved from the mail, unless given). Re-checking a corrected file
makes it the current one and keeps the earlier submissions as history; re-checking the very same
file (same hash) updates that submission's data and findings in place instead of adding one.

Published reports imported with ``nianbao import`` are recorded with ``source="import"``;
they fill a year that has no checked workbook but never replace one.

The schema is versioned with ``PRAGMA user_version`` and migrated on open; the database runs in
WAL mode and every write is one transaction.
"""

from toolkit.archive.schema import APPLICATION_ID, SCHEMA_VERSION, SOURCES
from toolkit.archive.store import (
    Archive,
    ArchiveError,
    ArchiveNotRecorded,
    RecordResult,
    StoredReport,
    Submission,
    file_sha256,
    is_archive_file,
    open_archive,
    prior_from_archive,
    record_report,
)
from toolkit.archive.portal import Waiver

__all__ = [
    "APPLICATION_ID", "SCHEMA_VERSION", "SOURCES", "Archive", "ArchiveError", "ArchiveNotRecorded",
    "RecordResult", "StoredReport", "Submission", "Waiver", "file_sha256", "is_archive_file",
    "open_archive", "prior_from_archive", "record_report",
]
