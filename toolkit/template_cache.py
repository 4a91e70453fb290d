"""The data of the toolkit's own template files, kept from one run to the next as Python keeps
a module's byte code.

Parsing a format's YAML costs a process several milliseconds and importing PyYAML more, while
the templates change only with the toolkit. :func:`load` gives what a template file parsed to,
from a marshal file where Python would keep the file's byte code (``__pycache__`` beside it, or
under ``sys.pycache_prefix``) when the file has the same modification time and size as when it
was kept; otherwise it parses the file and, unless Python writes no byte code either (``-B``,
``PYTHONDONTWRITEBYTECODE``), keeps the data. A kept file that cannot be read or written is
ignored, and data marshal cannot hold (a YAML date) is not kept.
"""

from __future__ import annotations

import marshal
import os
import sys
from importlib.util import cache_from_source
from pathlib import Path
from typing import Any, Callable

VERSION = 1  # of what a kept file holds; a kept file of another version is parsed again


def cache_path(path: Path) -> Path | None:
    """Where ``path``'s data is kept (``__pycache__/2021.yaml.cpython-311.marshal``), or None
    where this Python keeps no byte code."""
    try:
        return Path(cache_from_source(f"{path}.py")).with_suffix(".marshal")
    except NotImplementedError:
        return None


def load(path: Path, parse: Callable[[Path], Any]) -> Any:
    """``parse(path)``, or what it gave when ``path`` was last parsed if the file is unchanged."""
    target = cache_path(path)
    try:
        stat = os.stat(path)
    except OSError:
        target = None
    if target is None:
        return parse(path)
    key = (VERSION, stat.st_mtime_ns, stat.st_size)
    try:
        kept_key, data = marshal.loads(target.read_bytes())
        if kept_key == key:
            return data
    except (OSError, EOFError, ValueError, TypeError):
        pass
    data = parse(path)
    if not sys.dont_write_bytecode:
        _keep(target, key, data)
    return data


def _keep(target: Path, key: tuple, data: Any) -> None:
    try:
        blob = marshal.dumps((key, data))
    except ValueError:  # not plain data
        return
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(blob)
        os.replace(partial, target)
    except OSError:
        try:
            partial.unlink()
        except OSError:
            pass
