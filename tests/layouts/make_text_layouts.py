"""Published text layouts made from the project's own drafts: random but consistent ReportData
rendered to Markdown (or HTML), then flattened the way publishing flattens tables. Used by
tests/test_import_layouts.py and benchmarks/bench_import.py; PDFs are made by make_pdfs.py."""

from __future__ import annotations

import re

from toolkit.demo.synthetic import synthetic_report

UNIT = "蓼堤镇人民政府"
STYLES = ["plain", "blank-lines", "indented", "bars", "lone-bars"]  # one cell per line


def consistent(fmt_id: str, year: int, seed: int, scale: int = 1):
    """Random data that keeps every rule of its format: every value times ``scale`` (the rules
    are sums and balances, so they still hold); 0 gives an all-zero report, a large scale huge
    counts; money keeps its decimals."""
    data = synthetic_report(fmt_id, UNIT, year, seed=seed)
    data.values = {k: None if v is None else v * scale for k, v in data.values.items()}
    return data


def without_edges(md: str, *, trailing: bool) -> str:
    """Markdown as an HTML page's table reads once copied to text: cells joined by `` | ``, no
    leading bar, no separator rows, headings and emphasis gone."""
    out = []
    for line in md.split("\n"):
        if line.startswith("| ") and line.endswith(" |"):
            cells = line[2:-2].split(" | ")
            if all(re.fullmatch(r"-+", c) for c in cells):
                continue
            out.append(" | ".join(cells) + (" |" if trailing else ""))
        else:
            out.append(line.replace("**", "").lstrip("# "))
    return "\n".join(out)


def three_small_tables(md: str, *, edges: bool) -> str:
    """表四 printed as three small tables under their own sub-headings, each with a five-column
    header and one row, as many reports publish it."""
    lines = md.split("\n")
    head = next(i for i, l in enumerate(lines) if l.startswith("| 行政复议 /"))
    values = lines[head + 2][2:-2].split(" | ")
    titles = ["行政复议", "行政诉讼（未经复议直接起诉）", "行政诉讼（复议后起诉）"]
    header = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]

    def row(cells):
        return ("| " + " | ".join(cells) + " |") if edges else " | ".join(cells)

    out = []
    for k, title in enumerate(titles):
        out += [title, row(header), row(values[5 * k: 5 * k + 5]), ""]
    return "\n".join(lines[:head] + out + lines[head + 3:])


def one_cell_per_line(md: str, style: str) -> str:
    """Markdown tables printed one cell per line, in the styles published text has: plain lines,
    a blank line after every line, indented, every cell followed by `` |`` with ``||`` between
    rows, a lone ``|`` line between cells."""
    out = []
    for line in md.split("\n"):
        if not (line.startswith("| ") and line.endswith(" |")):
            out.append(line.replace("**", "").lstrip("# "))
            continue
        cells = line[2:-2].split(" | ")
        if all(re.fullmatch(r"-+", c) for c in cells):
            continue
        if style == "plain":
            out += cells
        elif style == "blank-lines":
            out += [x for c in cells for x in (c, "")]
        elif style == "indented":
            out += ["    " + c for c in cells]
        elif style == "bars":
            out += [c + " |" for c in cells] + ["||"]
        elif style == "lone-bars":
            out += [x for c in cells for x in (c, "|")]
    return "\n".join(out)
