"""Writing outputs safely: atomic replace, and file names made safe from unit names."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import Iterator

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_INVISIBLE = {"Cf", "Cs", "Co", "Zl", "Zp"}  # format (e.g. right-to-left override), surrogates, private use
MAX_NAME_BYTES = 180
_PENDING: set[Path] = set()  # temporary files of the writes under way
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (in the main thread, where Python handles them) until the
    block ends; a signal that came meanwhile is handled right after it."""
    held = {signal.SIGINT, signal.SIGTERM}
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` in one step.

    On any exception (or Ctrl-C) the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd: int | None = None
    tmp_path: Path | None = None
    try:
        # a Ctrl-C between creating the file and guarding it would leave it behind; one that
        # came meanwhile is raised as the mask is restored, which is inside this try
        with _signals_held():
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:40]}.", suffix=".part", dir=target.parent)
            tmp_path = Path(tmp)
            _PENDING.add(tmp_path)
        os.close(fd)
        fd = None
        yield tmp_path
        with contextlib.suppress(OSError):
            os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; give outputs normal permissions
        os.replace(tmp_path, target)
    except BaseException:
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        if tmp_path is not None:
            with contextlib.suppress(OSError):
                tmp_path.unlink()
        raise
    finally:
        if tmp_path is not None:
            _PENDING.discard(tmp_path)


def remove_pending() -> None:
    """Remove the temporary files of the writes under way in this process (for a process that
    is being ended and cannot unwind, e.g. a worker terminated by its pool)."""
    for path in list(_PENDING):
        with contextlib.suppress(OSError):
            os.unlink(path)


def write_bytes_atomic(target: str | Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text_atomic(target: str | Path, text: str) -> Path:
    return write_bytes_atomic(target, text.encode("utf-8"))


def safe_filename(name: str, suffix: str = "", fallback: str = "未命名单位") -> str:
    """A file name made from a unit name: no path separators, control characters, NULs,
    reserved device names or leading dots; full-width forms folded (NFKC); at most
    MAX_NAME_BYTES bytes in UTF-8; invisible format characters (a right-to-left override
    would make "xslx.exe" read "exe.xlsx") and lone surrogates dropped. ``suffix`` (e.g.
    ``"_2025.xlsx"``) is kept whole."""
    text = unicodedata.normalize("NFKC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _INVISIBLE)
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip(" ._")
    if not text or text.upper() in _RESERVED:
        text = (text + "_" if text else "") + fallback
    budget = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    while len(text.encode("utf-8")) > budget:
        text = text[:-1]
    return text + suffix


def printable(text: str) -> str:
    """``text`` with lone surrogates (how Python holds the bytes of a file name that is not valid
    UTF-8) replaced by U+FFFD, so that it can go into a workbook, a database or JSON."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)
    return text


def unique_path(directory: Path, filename: str, taken: set[str]) -> Path:
    """``directory/filename``, with ``_2``, ``_3``… before the suffix when the name (compared
    case-insensitively) is already in ``taken``; records the chosen name in ``taken``."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    candidate, n = filename, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem}_{n}.{ext}" if ext else f"{stem}_{n}"
    taken.add(candidate.casefold())
    return directory / candidate
