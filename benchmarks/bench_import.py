"""Benchmark: importing one published text report (issue 14: under 30 ms).

    python benchmarks/bench_import.py [--runs K]

Times ``toolkit.importers.import_report`` on text reports in every layout the importer reads
(the project's own Markdown draft, its tables as ` | ` rows without edges, one cell per line,
表四 as three small tables), for both formats, plus the real published reports in ../shared
when they are there. Each report is imported ``--runs`` times in this process after one warm-up
(the formats and vocabularies are loaded once per process, as in a batch); the median per
report is printed beside the target, and the run exits 1 when the slowest median misses it.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "tests" / "layouts"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

TARGET_MS = 30.0
SHARED = ROOT.parent / "shared"


def reports(folder: Path) -> list[Path]:
    from make_text_layouts import consistent, one_cell_per_line, three_small_tables, without_edges
    from toolkit.render import render_report

    out = []
    for fmt_id, year in (("2021", 2025), ("2019", 2020)):
        md = render_report(consistent(fmt_id, year, 1, 37), "md")
        shapes = {"md": md, "bars": without_edges(md, trailing=False),
                  "cells": one_cell_per_line(md, "plain"), "t4-split": three_small_tables(md, edges=True)}
        for name, text in shapes.items():
            path = folder / f"{fmt_id}-{name}.{'md' if name in ('md', 't4-split') else 'txt'}"
            path.write_text(text, encoding="utf-8")
            out.append(path)
    for sub in ("seeds", "reports"):
        out += sorted((SHARED / sub).glob("*.txt"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    from toolkit.importers import import_report

    with tempfile.TemporaryDirectory() as tmp:
        paths = reports(Path(tmp))
        rows = []
        for path in paths:
            import_report(path)
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                import_report(path)
                times.append((time.perf_counter() - start) * 1000)
            rows.append((path.name, statistics.median(times), path.stat().st_size))
    width = max(len(r[0]) for r in rows)
    for name, ms, size in rows:
        print(f"{name:<{width}}  {size / 1000:6.1f} kB  {ms:7.2f} ms")
    worst = max(ms for _, ms, _ in rows)
    ok = worst <= TARGET_MS
    print(f"import of one text report (slowest median): {worst:.2f} ms   target ≤ {TARGET_MS:.0f} ms   "
          f"{'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
