"""Benchmark: importing a two-page PDF report (issue 14: under 300 ms).

    python benchmarks/bench_pdf.py [--runs K] [--keep DIR]

Prints the web draft of a made-up 2021-format report with headless Chromium, scaled to fit two
A4 pages (both ruled tables and running text), then times ``import_report`` on it in this
process (median of ``--runs`` after one warm-up run: the cost of one more file in a batch) and
in a fresh interpreter (``nianbao import`` start-up excluded: ``python -c`` of the same import
minus one that only imports the toolkit). Prints each figure beside its target and exits 1 when
the in-process figure misses it. Needs Playwright and /usr/bin/chromium. Not part of the tests.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "layouts"))

TARGET_MS = 300.0


def two_page_pdf(folder: Path) -> Path:
    import make_pdfs
    import pdfplumber

    from toolkit.render import render_report

    data = make_pdfs.report_cases()["random2021"]
    html = render_report(data, "html")
    path = folder / "two-pages.pdf"
    for scale in (0.62, 0.55, 0.5, 0.45):
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=make_pdfs.CHROMIUM)
            page = browser.new_page()
            page.set_content(html, wait_until="load")
            page.pdf(path=str(path), format="A4", scale=scale)
            browser.close()
        with pdfplumber.open(path) as pdf:
            if len(pdf.pages) <= 2:
                return path
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep the PDF in this folder")
    args = parser.parse_args()
    import make_pdfs

    if not make_pdfs.have_chromium():
        print("需要 Playwright 和 /usr/bin/chromium", file=sys.stderr)
        return 2
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = two_page_pdf(folder)

    import pdfplumber

    from toolkit.importers import import_report

    with pdfplumber.open(path) as pdf:
        pages = len(pdf.pages)
    result = import_report(path)  # warm-up: imports, format and vocabulary caches
    read = sum(v is not None for v in result.data.values.values()) if result.data else 0
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        import_report(path)
        times.append((time.perf_counter() - start) * 1000)
    in_process = statistics.median(times)

    def fresh(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
        return (time.perf_counter() - start) * 1000

    base = "import toolkit.importers, toolkit.importers.pdf, toolkit.importers.assemble, pdfplumber"
    cold = statistics.median(fresh(f"{base}; toolkit.importers.import_report({str(path)!r})") - fresh(base)
                             for _ in range(3))
    ok = in_process < TARGET_MS
    print(f"{'measure':<44}{'figure':>12}{'target':>12}")
    print(f"{f'import a {pages}-page PDF, in process (median)':<44}{in_process:>10.0f}ms{'<300ms':>12}"
          f"  {'ok' if ok else 'MISSED'}")
    print(f"{'same, first file of a fresh process':<44}{cold:>10.0f}ms{'':>12}  (for reference)")
    print(f"cells read: {read}; findings: {len(result.findings)}; file: {path}")
    return 0 if ok and pages <= 2 and result.data is not None else 1


if __name__ == "__main__":
    sys.exit(main())
