"""PDF reports made as publishing makes them, for tests/test_import_pdf.py and benchmarks/bench_pdf.py.

- ``report_cases()``: random but consistent ReportData (both formats, zero and huge counts,
  money with decimals) and one with a planted error;
- ``word_pdf(data, path)``: the project's Word draft printed by LibreOffice (``render --to pdf``);
- ``chromium_pdfs({path: html})``: HTML (the project's web draft, or an invented page) printed by
  headless Chromium through Playwright;
- ``vertical_labels_html`` / ``numbers_before_labels_html``: invented pages whose 表三 labels are
  written one character per line down tall merged cells, or whose numbers sit on the line above
  their label;
- ``scanned_pdf(pdf, path)``: a PDF's pages as pictures only (no text layer), like a scan.

    PYTHONPATH=$PWD python tests/layouts/make_pdfs.py OUT_DIR   # writes every case, to look at
"""

from __future__ import annotations

import shutil
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: browser.py
from browser import find_chromium  # noqa: E402

CHROMIUM = str(find_chromium() or "/usr/bin/chromium")
UNIT = "某某县人民政府办公室"


def have_chromium() -> bool:
    return find_chromium() is not None


def have_soffice() -> bool:
    return bool(shutil.which("soffice") or shutil.which("libreoffice"))


def report_cases() -> dict[str, object]:
    """name -> ReportData: every rule holds except in ``planted`` (表三 新收 自然人 one more)."""
    from toolkit.demo.synthetic import synthetic_report
    from toolkit.formats import load_format

    cases = {}
    for fmt_id, year in (("2021", 2024), ("2019", 2020)):
        fmt = load_format(fmt_id)
        data = synthetic_report(fmt, UNIT, year, seed=f"pdf-{fmt_id}")
        money = [c.id for c in fmt.input_cells if c.kind.decimals]
        for i, cell_id in enumerate(money):
            data.values[cell_id] = Decimal("1234.56") + i  # money with decimals, at least once
        cases[f"random{fmt_id}"] = data
        zero = synthetic_report(fmt, UNIT, year, seed=f"zero-{fmt_id}")
        zero.values = {k: Decimal(0) for k in zero.values}
        zero.narrative["overview.on_request"] = f"{year}年未收到政府信息公开申请。"
        cases[f"zero{fmt_id}"] = zero
        huge = synthetic_report(fmt, UNIT, year, seed=f"huge-{fmt_id}")
        huge.values = {k: (v * 98765 if v is not None else v) for k, v in huge.values.items()}
        cases[f"huge{fmt_id}"] = huge
    planted = synthetic_report("2021", UNIT, 2024, seed="planted")
    planted.values["t3.new.natural"] += 1
    cases["planted2021"] = planted
    return cases


def word_pdf(data, path: Path) -> Path:
    """The Word draft of ``data`` printed to PDF by LibreOffice, as ``nianbao render --to pdf`` does."""
    from toolkit.render import render_report

    path.write_bytes(render_report(data, "pdf"))
    return path


def chromium_pdfs(pages: dict[Path, str]) -> list[Path]:
    """Each HTML page printed to A4 PDF by headless Chromium (one browser for all)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page()
            for path, html in pages.items():
                page.set_content(html, wait_until="load")
                page.pdf(path=str(path), format="A4", print_background=True)
        finally:
            browser.close()
    return list(pages)


def vertical_labels_html(data) -> str:
    """The project's web draft with its merged row labels written one character per line
    (``<br>`` between characters: 三/、/本/年/度/办/理/结/果 down the tall merged cell, （/三/）/不/予/公/开 …)
    and the 申请人情况, 行政复议 and 行政诉讼 headers in ``writing-mode: vertical-rl``."""
    from bs4 import BeautifulSoup

    from toolkit.render import render_report

    soup = BeautifulSoup(render_report(data, "html"), "lxml")
    for th in soup.select("table.nb-table th[rowspan]"):
        text = th.get_text("").strip()
        if th.get("class") == ["nb-row"] and int(th["rowspan"]) >= 3:
            th.clear()
            for i, ch in enumerate(text):
                if i:
                    th.append(soup.new_tag("br"))
                th.append(ch)
    for th in soup.select("table.nb-table th.nb-column"):
        if th.get_text("").strip() in ("申请人情况", "行政复议", "行政诉讼"):
            th["style"] = "writing-mode: vertical-rl; text-orientation: upright; height: 6em"
    return str(soup)


def numbers_before_labels_html(data) -> str:
    """The project's web draft with every row label set low in a tall row and its numbers high,
    so that in the page's text a row's numbers come on the line above its label: 表三 and 表四
    keep their rules, 表二 is printed without any."""
    from toolkit.render import render_report

    style = ("<style>.nb-table th.nb-row { vertical-align: bottom; height: 2.6em; }"
             ".nb-table td { vertical-align: top; }"
             ".nb-table-t2 th, .nb-table-t2 td { border: none !important; }</style>")
    html = render_report(data, "html")
    html = html.replace('class="nb-table nb-table-t2" border="1"', 'class="nb-table nb-table-t2" border="0"')
    return html.replace("</head>", style + "</head>", 1)


def scanned_pdf(pdf: Path, path: Path, scale: float = 1.0) -> Path:
    """``pdf``'s pages as pictures in a new PDF with no text at all, as a scanner makes it."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    try:
        images = [document[i].render(scale=scale).to_pil().convert("RGB") for i in range(len(document))]
    finally:
        document.close()
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=72 * scale)
    return path


def main(out: str) -> int:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    pages = {}
    from toolkit.render import render_report

    for name, data in report_cases().items():
        if have_soffice():
            word_pdf(data, folder / f"{name}.word.pdf")
        pages[folder / f"{name}.chromium.pdf"] = render_report(data, "html")
    random = report_cases()["random2021"]
    pages[folder / "vertical.pdf"] = vertical_labels_html(random)
    pages[folder / "numbers-before-labels.pdf"] = numbers_before_labels_html(random)
    if have_chromium():
        chromium_pdfs(pages)
        scanned_pdf(folder / "random2021.chromium.pdf", folder / "scanned.pdf")
    for path in sorted(folder.glob("*.pdf")):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "pdf-layouts"))
