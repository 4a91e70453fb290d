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


_SAVE_MACRO = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">
Sub SaveAs(src As String, dst As String, filter As String, pw As String)
  Dim load(0) As New com.sun.star.beans.PropertyValue
  load(0).Name = &quot;Hidden&quot;
  load(0).Value = True
  doc = StarDesktop.loadComponentFromURL(ConvertToURL(src), &quot;_blank&quot;, 0, load())
  Dim store(1) As New com.sun.star.beans.PropertyValue
  store(0).Name = &quot;FilterName&quot;
  store(0).Value = filter
  If pw = &quot;&quot; Then
    ReDim Preserve store(0)
  Else
    store(1).Name = &quot;Password&quot;
    store(1).Value = pw
  End If
  doc.storeToURL(ConvertToURL(dst), store())
  doc.close(True)
End Sub
</script:module>
"""

_macro_profile: list[Path] = []


def _profile_with_macro() -> Path:
    """A LibreOffice profile whose Standard Basic library holds ``SaveAs`` (LibreOffice writes
    its default library on the first start, so the module goes in after one start)."""
    if not _macro_profile:
        root = Path(tempfile.mkdtemp(prefix="nianbao-soffice-macro-"))
        atexit.register(shutil.rmtree, root, True)
        env = {**os.environ, "HOME": str(root)}
        subprocess.run([SOFFICE, f"-env:UserInstallation={root.as_uri()}", "--headless", "--invisible",
                        "--terminate_after_init"], capture_output=True, timeout=120, env=env)
        module = root / "user" / "basic" / "Standard" / "Module1.xba"
        if not module.parent.is_dir():
            raise RuntimeError("LibreOffice did not create its Basic library")
        module.write_text(_SAVE_MACRO, encoding="utf-8")
        _macro_profile.append(root)
    return _macro_profile[0]


def soffice_save_as(src, dst, filter_name: str, password: str = "", timeout: float = 300) -> Path:
    """Open ``src`` in LibreOffice and store it as ``dst`` with the filter ``filter_name``
    ("MS Excel 97", "MS Excel 95", "calc8" …), protected by ``password`` when given (what
    File > Save As > Save with password does)."""
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    src, dst = Path(src).resolve(), Path(dst).resolve()
    dst.unlink(missing_ok=True)
    profile = _profile_with_macro()

    def quoted(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    macro = f"macro:///Standard.Module1.SaveAs({quoted(str(src))},{quoted(str(dst))},{quoted(filter_name)},{quoted(password)})"
    env = {**os.environ, "HOME": str(profile)}
    result = subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible",
                             "--norestore", "--nolockcheck", macro], capture_output=True, text=True, timeout=timeout, env=env)
    if not dst.is_file():
        raise RuntimeError(f"LibreOffice did not write {dst.name} (exit {result.returncode}):\n{result.stderr}")
    return dst
