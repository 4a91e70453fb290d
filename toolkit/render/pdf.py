"""The report as PDF: the Word draft converted by LibreOffice (headless), when it is installed.

Each conversion runs ``soffice --headless --convert-to pdf`` with a private, throw-away user
profile (``-env:UserInstallation``), so that it neither touches the user's LibreOffice settings
nor collides with a LibreOffice already open; many drafts are converted by one LibreOffice start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from toolkit.render.context import RenderError

SOFFICE_NAMES = ("soffice", "libreoffice")
TIMEOUT_S = 300  # one LibreOffice start converting a batch
WRITER_PDF_FILTER = "pdf:writer_pdf_Export"


class RenderSetupError(RenderError):
    """Something the machine lacks for this output (LibreOffice for PDF); message in Chinese.
    Nothing of the batch can be rendered, so it is raised, not reported per file."""


MISSING_MESSAGE = (
    "生成 PDF 需要 LibreOffice，但本机没有安装（找不到 soffice 命令）。"
    "请先安装 LibreOffice（Windows/macOS：从 libreoffice.org 下载安装；Debian/Ubuntu："
    "sudo apt-get install libreoffice-writer），或改用 --to docx 生成 Word 文档后用 Word/WPS 另存为 PDF。"
)


def find_soffice() -> str | None:
    """The LibreOffice program on PATH, or None."""
    for name in SOFFICE_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_soffice() -> str:
    """The LibreOffice program; raises :class:`RenderSetupError` (Chinese) when there is none."""
    found = find_soffice()
    if found is None:
        raise RenderSetupError(MISSING_MESSAGE)
    return found


def docx_to_pdf_many(documents: list[bytes | None]) -> list[bytes | str | None]:
    """Convert Word documents (``.docx`` bytes) to PDF with one LibreOffice start: for each, the
    PDF bytes, or a Chinese message (str) saying why it was not converted; None stays None.
    Raises :class:`RenderSetupError` when LibreOffice is not installed."""
    soffice = require_soffice()
    todo = [i for i, doc in enumerate(documents) if doc is not None]
    out: list[bytes | str | None] = [None] * len(documents)
    if not todo:
        return out
    with tempfile.TemporaryDirectory(prefix="nianbao-pdf-") as tmp:
        root = Path(tmp)
        src, dst, profile = root / "in", root / "out", root / "profile"
        for folder in (src, dst, profile):
            folder.mkdir()
        inputs = []
        for i in todo:
            path = src / f"{i}.docx"
            path.write_bytes(documents[i])  # type: ignore[arg-type]
            inputs.append(path)
        cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--norestore",
               "--nolockcheck", "--nodefault", "--convert-to", WRITER_PDF_FILTER, "--outdir", str(dst),
               *map(str, inputs)]
        env = {**os.environ, "HOME": str(profile)}  # LibreOffice keeps away from the user's own home
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, env=env,
                                  stdin=subprocess.DEVNULL)
            detail = (done.stderr or done.stdout or "").strip().splitlines()[-1:] or [f"退出码 {done.returncode}"]
        except subprocess.TimeoutExpired:
            detail = [f"超过 {TIMEOUT_S} 秒未完成"]
        except OSError as exc:
            detail = [exc.strerror or str(exc)]
        for i, path in zip(todo, inputs):
            pdf = dst / f"{path.stem}.pdf"
            data = pdf.read_bytes() if pdf.is_file() else b""
            out[i] = data if data.startswith(b"%PDF") else f"LibreOffice 未能把 Word 草稿转换为 PDF（{detail[0]}）"
    return out


def docx_to_pdf(document: bytes) -> bytes:
    """One Word document (``.docx`` bytes) as PDF bytes; raises :class:`RenderError` (Chinese)
    when LibreOffice fails, :class:`RenderSetupError` when it is not installed."""
    [result] = docx_to_pdf_many([document])
    if isinstance(result, str) or result is None:
        raise RenderError(result or "LibreOffice 未能把 Word 草稿转换为 PDF")
    return result
