"""Headless Chromium for the tests: Debian's /usr/bin/chromium driven by Playwright (no browser
download works here). Without it a test skips saying why; under ``CI=true`` it fails, since
``.ci/run`` installs it."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Iterator

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def find_chromium() -> Path | None:
    """The system Chromium when it and the playwright package are there, else None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return None
    found = next((Path(p) for p in CHROMIUM_PATHS if Path(p).exists()), None)
    return found or (Path(shutil.which("chromium")) if shutil.which("chromium") else None)


def chromium_path() -> Path:
    """The system Chromium, or a skip (a failure under CI=true)."""
    import pytest

    from shared_data import in_ci

    found = find_chromium()
    if found is None:
        reason = "headless Chromium (Debian's chromium package) and the playwright package are needed"
        if in_ci():
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    return found


@contextlib.contextmanager
def browser() -> Iterator[object]:
    """A launched headless Chromium (Playwright ``Browser``)."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(path), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
