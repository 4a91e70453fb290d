"""Write templates/import_radicals.json: CJK radical code points (U+2E80–U+2FDF) -> the
ideograph it stands for: the Kangxi radicals by Unicode's compatibility mapping, the
supplement's by the ideograph drawn with the same glyph in the bundled Noto Sans CJK font.

Chromium's PDFs map some glyphs back to the radical (⺠ for 民, ⻔ for 门) instead of the
ideograph; the PDF importer reads them back through this table.

    PYTHONPATH=$PWD python tests/layouts/make_radicals.py
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "templates" / "import_radicals.json"


def radicals() -> dict[str, str]:
    from fontTools.ttLib import TTFont

    from toolkit.cjk_fonts import bundled_cjk_font

    font = TTFont(str(bundled_cjk_font()), fontNumber=0, lazy=True)
    cmap = font.getBestCmap()
    by_glyph: dict[str, list[int]] = {}
    for code, glyph in cmap.items():
        if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            by_glyph.setdefault(glyph, []).append(code)
    table = {}
    for code in range(0x2E80, 0x2FE0):
        kangxi = unicodedata.normalize("NFKC", chr(code))
        if kangxi != chr(code):
            table[chr(code)] = kangxi
            continue
        ideographs = by_glyph.get(cmap.get(code, ""), [])
        if ideographs:
            table[chr(code)] = chr(min(ideographs))
    return table


def main() -> int:
    text = json.dumps(radicals(), ensure_ascii=False, indent=0, sort_keys=True) + "\n"
    OUT.write_text(text, encoding="utf-8")
    print(f"{OUT}: {text.count(':')} radicals")
    return 0


if __name__ == "__main__":
    sys.exit(main())
