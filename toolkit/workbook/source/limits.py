"""What one file may cost (:class:`Limits`) and the error for a file that cannot be read at all
(:class:`SourceError`, its Chinese message made from the finding catalogue). Kept apart from the
checks that use them (:mod:`toolkit.workbook.source.safety`): a process that only sends files to
the reading helper needs these and nothing of the reading itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.isolation import Budget, HelperCrashed, HelperOutOfMemory, HelperTimedOut, IsolationError
from toolkit.model import Finding


class SourceError(Exception):
    """A file that cannot be read at all. ``code`` is a finding code (e.g. ``not-a-workbook``)."""

    def __init__(self, code: str, message: str, path: str | Path | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = None if path is None else str(path)

    @classmethod
    def from_isolation(cls, exc: IsolationError, path: str | Path) -> "SourceError":
        """The error for a file whose reading in the helper process failed: past the time or
        memory budget ``file-too-large``, a helper that died ``workbook-damaged``."""
        path = Path(path)
        if isinstance(exc, HelperTimedOut):
            return _fail("file-too-large", path, f"读取超过{exc.seconds:g}秒")
        if isinstance(exc, HelperOutOfMemory):
            return _fail("file-too-large", path, f"读取所需内存超过{exc.memory_bytes / 1048576:.0f}MB")
        if isinstance(exc, HelperCrashed):
            return _fail("workbook-damaged", path, "文件结构损坏，读取引擎无法处理")
        raise TypeError(exc)


@dataclass(frozen=True)
class Limits:
    """What a single file may cost. Anything above is refused (or, for sheets, cut) before parsing."""

    max_file_bytes: int = 64 * 1024 * 1024
    max_entries: int = 2000
    max_entry_bytes: int = 128 * 1024 * 1024  # one zip entry, uncompressed
    max_total_bytes: int = 256 * 1024 * 1024  # all entries, uncompressed
    max_ratio: int = 1000  # uncompressed / compressed, for entries over 1 MB
    max_rows: int = 5000
    max_cols: int = 256
    max_cells: int = 500_000  # cell elements in one xlsx sheet
    isolate: bool = True  # read each file in the helper process (toolkit.isolation), within the budgets below
    isolate_binary: bool = True  # else still parse xls/xlsb there (calamine can abort on damaged BIFF)
    engine_seconds: float = 60.0  # time budget: the helper's time for one file
    memory_bytes: int = 2 * 1024 * 1024 * 1024  # memory budget: the helper's address space

    @property
    def budget(self) -> Budget:
        """The helper's budget for one file."""
        return Budget(self.engine_seconds, self.memory_bytes)


DEFAULT_LIMITS = Limits()


# ---------------------------------------------------------------- messages


def _fail(code: str, path: Path, reason: str = "") -> SourceError:
    from toolkit.checks import reading_findings  # noqa: F401  (registers the codes)
    from toolkit.checks.catalogue import finding_type

    message = finding_type(code).template.format(file=path.name or str(path), reason=reason)
    error = SourceError(code, message, path)
    error.reason = reason
    return error


def _note(code: str, **fields: Any) -> Finding:
    from toolkit.checks import reading_findings  # noqa: F401
    from toolkit.checks.catalogue import finding_type

    return finding_type(code).make(**fields)
