"""Make docs/pictures/: the pages a clerk prints, as PNG (70 dpi), for the README.

    python docs/make_pictures.py            # from the repository root; needs LibreOffice and poppler-utils

Each output is made from the built-in samples the way the commands make it (the Word draft of a
sample with errors, rendered with --force; a blank workbook; the annotated copy and the summary
workbook of checking samples/returned/), printed by LibreOffice to PDF, and the pages that show
its layout are turned into PNG with pdftoppm. Pages are chosen by what they say, not by number.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.batch import check_paths  # noqa: E402
from toolkit.demo import samples_dir  # noqa: E402
from toolkit.formats import load_format  # noqa: E402
from toolkit.render import render_file  # noqa: E402
from toolkit.workbook.writer import write_workbook  # noqa: E402

OUT = ROOT / "docs" / "pictures"
DPI = 70
UNIT, YEAR = "城关镇人民政府", 2025

# picture name -> (which output, words that pick its page)
PAGES = {
    "draft-title": ("draft", "一、总体情况"),
    "draft-table3": ("draft", "三、收到和处理政府信息公开申请情况"),
    "blank-guide": ("blank", "填报说明"),
    "blank-table2": ("blank", "表二　主动公开政府信息情况"),
    "annotated-results": ("annotated", "校验结果"),
    "annotated-table3": ("annotated", "表三　收到和处理政府信息公开申请情况"),
    "annotated-narrative": ("annotated", "内容（直接在本列单元格中填写"),
    "summary-files": ("summary", "主要问题"),
    "summary-findings": ("summary", "问题说明"),
    "summary-totals": ("summary", "（六）其他处理"),
}


def _to_pdf(path: Path, out_dir: Path) -> Path:
    profile = Path(tempfile.mkdtemp(prefix="nianbao-pictures-"))
    try:
        subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                        "--convert-to", "pdf", "--outdir", str(out_dir), str(path)],
                       check=True, capture_output=True, timeout=300, env={**os.environ, "HOME": str(profile)})
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return out_dir / f"{path.stem}.pdf"


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [re.sub(r"\s+", "", page) for page in text.split("\f")[:-1]]


def _outputs(work: Path) -> dict[str, Path]:
    """The four outputs as PDF."""
    returned = samples_dir() / "returned"
    source = next(returned.glob(f"{UNIT}_*.xlsx"))
    draft = render_file(source, "pdf", work / "draft.pdf", force=True)
    if not draft.ok:
        raise SystemExit(f"draft: {draft.error}")
    blank = write_workbook(work / "blank.xlsx", load_format("2021"), unit=UNIT, year=YEAR)
    check_paths([returned], annotate=work / "annotated", summary=work / "summary.xlsx")
    annotated = work / "annotated.xlsx"
    shutil.copy(work / "annotated" / source.name, annotated)
    return {"draft": draft.out, "blank": _to_pdf(blank, work), "annotated": _to_pdf(annotated, work),
            "summary": _to_pdf(work / "summary.xlsx", work)}


def _shrink(png: Path) -> None:
    """Fewer colours (64; the pages use a handful), so that the committed pictures stay small."""
    try:
        from PIL import Image
    except ImportError:  # Pillow comes with matplotlib; without it the pictures stay as pdftoppm made them
        return
    with Image.open(png) as image:
        small = image.convert("RGB").quantize(colors=64)
    small.save(png, optimize=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pdfs = _outputs(Path(tmp))
        texts = {name: _pages(pdf) for name, pdf in pdfs.items()}
        for picture, (output, words) in PAGES.items():
            key = re.sub(r"\s+", "", words)
            number = next(i for i, page in enumerate(texts[output], 1) if key in page)
            subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-f", str(number), "-l", str(number), "-singlefile",
                            str(pdfs[output]), str(OUT / picture)], check=True)
            _shrink(OUT / f"{picture}.png")
            print(OUT / f"{picture}.png")


if __name__ == "__main__":
    main()
