"""Run LibreOffice headless in tests: open workbooks, recalculate them, save them again.

LibreOffice recalculates an xlsx on load only when its profile says so, so every process gets a
fresh ``-env:UserInstallation`` profile whose registrymodifications.xcu sets Calc's
Formula/Load ``OOXMLRecalcMode`` and ``ODFRecalcMode`` to 0 ("always recalculate"). One call
converts many files (LibreOffice starts once).

    from soffice import needs_soffice, soffice_convert

    @needs_soffice
    def test_x(tmp_path):
        [out] = soffice_convert([path], tmp_path / "out", to="xlsx")
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")

FILTERS = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "xls": "xls:MS Excel 97",
    "ods": "ods:calc8",
    "pdf": "pdf:calc_pdf_Export",
}

_RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
</oor:items>
"""

_profiles: dict[bool, Path] = {}

needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
"""Skip a test when LibreOffice is missing; combine with ``pytest.mark.libreoffice``."""

SOFFICE_MARKS = [pytest.mark.libreoffice, needs_soffice]
"""For a whole module: ``pytestmark = SOFFICE_MARKS``."""


def _profile(recalc: bool) -> Path:
    """A fresh LibreOffice user profile for this process (removed at exit)."""
    if recalc not in _profiles:
        root = Path(tempfile.mkdtemp(prefix="nianbao-soffice-"))
        user = root / "user"
        user.mkdir()
        # 0 = always recalculate on load, 1 = never.
        (user / "registrymodifications.xcu").write_text(_RECALC_XCU.format(mode=0 if recalc else 1), encoding="utf-8")
        atexit.register(shutil.rmtree, root, True)
        _profiles[recalc] = root
    return _profiles[recalc]


def soffice_convert(paths, out_dir, to: str = "xlsx", recalc: bool = True, timeout: float = 300) -> list[Path]:
    """Open each of ``paths`` in LibreOffice (recalculating when ``recalc``) and save it as ``to``
    (xlsx, xls, ods or pdf) in ``out_dir``; returns the new files in the order of ``paths``.

    The inputs must have distinct stems, and ``out_dir`` must not be their folder (LibreOffice
    would overwrite them).
    """
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    paths = [Path(p).resolve() for p in paths]
    if not paths:
        return []
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    stems = [p.stem for p in paths]
    assert len(set(stems)) == len(stems), "soffice_convert needs files with distinct names"
    assert all(p.parent != out_dir for p in paths), "out_dir must differ from the inputs' folder"
    expected = [out_dir / f"{p.stem}.{to}" for p in paths]
    for old in expected:
        old.unlink(missing_ok=True)
    profile = _profile(recalc)
    cmd = [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--norestore",
           "--nolockcheck", "--nodefault", "--convert-to", FILTERS.get(to, to), "--outdir", str(out_dir),
           *map(str, paths)]
    env = {**os.environ, "HOME": str(profile)}  # keep LibreOffice away from the user's real home
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    missing = [p for p in expected if not p.is_file()]
    if missing:
        raise RuntimeError(
            f"LibreOffice did not write {[m.name for m in missing]} (exit {result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}")
    return expected
