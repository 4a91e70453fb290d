"""Synthetic published reports in every shape the importers read, with the answers they must give.

Each case starts from a consistent ReportData (tests/check_helpers.py), renders it with the
toolkit's own renderer (txt, md, html, docx) and then makes the rendering look like what counties
publish: one cell per line with header cells broken over lines, Markdown pipe rows, PDF text with
cells separated by spaces, label typos, and the errors real reports carry (a 总计 that does not add
up, "增" in a number cell, a blank 总计, notes inside cells, a narrative count that differs from the
table, （六）其他处理 as one row, odd section numbering). A case knows the values an import must
give (``expected``) and the findings it must report (``findings``), so tests need no real report.

    python tests/make_report_fixtures.py OUT_DIR    # writes every case and manifest.json
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_helpers import clean_report, with_totals  # noqa: E402
from toolkit.formats import load_format  # noqa: E402
from toolkit.model import ReportData  # noqa: E402
from toolkit.render import render_report  # noqa: E402

UNIT = "蓼堤镇人民政府"
YEARS = {"2021": 2023, "2019": 2020}
T3_VALUE_COLUMNS = ("natural", "business", "research", "nonprofit", "legal", "other")
T3_COLUMNS = (*T3_VALUE_COLUMNS, "total")


@dataclass
class Expect:
    """A finding the import (``source="import"``) or a check of the imported data (``"check"``) gives."""

    code: str
    source: str = "import"
    sheet: str | None = None
    row: str | None = None
    column: str | None = None
    rule: str | None = None
    severity: str | None = None
    expected: Decimal | None = None
    actual: object = None
    message_contains: str | None = None

    def as_json(self) -> dict:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.__dict__.items() if v is not None}


@dataclass
class Case:
    name: str
    suffix: str
    content: str | bytes
    data: ReportData
    expected: dict[str, Decimal | None]
    findings: list[Expect] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)
    narrative: dict[str, str] = field(default_factory=dict)

    @property
    def file_name(self) -> str:
        return f"{self.name}{self.suffix}"

    def write(self, folder: Path) -> Path:
        path = folder / self.file_name
        if isinstance(self.content, bytes):
            path.write_bytes(self.content)
        else:
            path.write_text(self.content, encoding="utf-8")
        return path


def source_data(format_id: str, seed: int = 11) -> ReportData:
    """A consistent report whose numbers are distinct enough that a cell read into the wrong place shows."""
    fmt = load_format(format_id)
    data = clean_report(fmt, seed, unit=UNIT, year=YEARS[format_id])
    data.narrative = {
        "overview.proactive": "本年度，本机关坚持以公开为常态、不公开为例外，依法做好政府信息主动公开工作。",
        "overview.on_request": f"本年共收到政府信息公开申请{data.values['t3.new.total']}件，均已按时答复。",
        "overview.management": "本机关加强政府信息管理，规范政府信息的制作、获取、保存、处理和公开。",
        "overview.platforms": "依托政府门户网站做好政府信息公开专栏建设。",
        "overview.oversight": "本机关将政府信息公开工作纳入日常工作。",
        "problems.text": "一是主动公开的全面性还有待提高。\n二是工作人员业务能力有待加强。",
        "other.text": "本年度无其他需要报告的事项。",
    }
    return data


# ---------------------------------------------------------------- shapes of the tables


def rows(text: str) -> list[str]:
    return text.split("\n")


def as_cell_per_line(text: str) -> str:
    """Each table cell on a line of its own (tab first), a blank line between rows, long header
    cells broken over two lines (the second without a tab): the shape of many county texts."""
    out = []
    for line in rows(text):
        if "\t" not in line:
            out.append(line)
            continue
        out.append("")
        for cell in line.split("\t"):
            out.append("\t" + (cell[:3] + "\n" + cell[3:] if cell.startswith("本年") and len(cell) > 5 else cell))
        out.append("")
    return "\n".join(out)


def as_pipe_rows(text: str) -> str:
    """Markdown pipe rows without a separator line, as pasted from an editor."""
    return "\n".join("| " + " | ".join(line.split("\t")) + " |" if "\t" in line else line for line in rows(text))


def as_pdf_text(text: str) -> str:
    """Text extracted from a PDF: cells separated by spaces, empty cells gone."""
    return "\n".join(" ".join(c for c in line.split("\t") if c.strip()) if "\t" in line else line
                     for line in rows(text))


def as_cms_page(html: str) -> str:
    """The page as a CMS keeps it: no style sheet, no classes or data attributes, only the merges."""
    html = re.sub(r"<style.*?</style>", "", html, flags=re.S)
    return re.sub(r"<(t[hd]|tr|table|p|div|h\d)\b[^>]*>", lambda m: f"<{m.group(1)}{_merges(m.group(0))}>", html)


def _merges(tag: str) -> str:
    return "".join(f" {m.group(0)}" for m in re.finditer(r"(?:rowspan|colspan)=\"\d+\"", tag))


def edit_row(text: str, first_cell: str, change: Callable[[list[str]], list[str]], *, after: str | None = None) -> str:
    """``change`` applied to the cells of the first tab row holding the cell ``first_cell``
    (after the line containing ``after`` when given)."""
    lines = rows(text)
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    for i in range(start, len(lines)):
        cells = lines[i].split("\t")
        if "\t" in lines[i] and first_cell in (c.strip() for c in cells):
            lines[i] = "\t".join(change(cells))
            return "\n".join(lines)
    raise ValueError(f"no row {first_cell!r} in the rendered text")


def set_cell(index: int, value: str) -> Callable[[list[str]], list[str]]:
    def change(cells: list[str]) -> list[str]:
        cells = list(cells)
        cells[index] = value
        return cells
    return change


def t4_values_row(text: str) -> int:
    lines = rows(text)
    return next(i for i, line in enumerate(lines) if re.fullmatch(r"[\d\t]+", line) and line.count("\t") == 14)


# ---------------------------------------------------------------- the cases


def shape_cases(format_id: str) -> list[Case]:
    data = source_data(format_id)
    txt = render_report(data, "txt")
    expected = dict(data.values)
    tag = format_id
    return [
        Case(f"tab-rows-{tag}", ".txt", txt, data, expected, narrative=data.narrative),
        Case(f"cell-per-line-{tag}", ".txt", as_cell_per_line(txt), data, expected, narrative=data.narrative),
        Case(f"pipe-rows-{tag}", ".txt", as_pipe_rows(txt), data, expected, narrative=data.narrative),
        Case(f"pdf-spaces-{tag}", ".txt", as_pdf_text(txt), data, expected, narrative=data.narrative),
        Case(f"markdown-{tag}", ".md", render_report(data, "md"), data, expected, narrative=data.narrative),
        Case(f"merged-cells-{tag}", ".html", render_report(data, "html"), data, expected, narrative=data.narrative),
        Case(f"cms-page-{tag}", ".html", as_cms_page(render_report(data, "html")), data, expected,
             narrative=data.narrative),
        Case(f"merged-cells-{tag}", ".docx", render_report(data, "docx"), data, expected, narrative=data.narrative),
    ]


def label_typo() -> Case:
    data = source_data("2021")
    text = render_report(data, "txt").replace("2.其他法律行政法规禁止公开", "2.其他法律行政止公开")
    return Case("label-typo-2021", ".txt", as_pdf_text(text), data, dict(data.values), [
        Expect("import-label-variant", sheet="表三", row="2.其他法律行政法规禁止公开", message_contains="其他法律行政止公开"),
    ])


def label_variants_2019() -> Case:
    data = source_data("2019")
    text = (render_report(data, "txt").replace("\n规范性文件\t", "\n規範性文件\t")
            .replace("4.保护第三方合法权益", "4.保护第三方合法权利"))
    return Case("label-variants-2019", ".txt", text, data, dict(data.values), [
        Expect("import-label-variant", sheet="表二", row="规范性文件"),
        Expect("import-label-variant", sheet="表三", row="4.保护第三方合法权益"),
    ])


def t4_total_wrong() -> Case:
    """表四 复议 总计 published as 0 while its parts add up to more."""
    data = source_data("2021")
    lines = rows(render_report(data, "txt"))
    i = t4_values_row("\n".join(lines))
    cells = lines[i].split("\t")
    cells[4] = "0"
    lines[i] = "\t".join(cells)
    expected = {**data.values, "t4.review.total": Decimal(0)}
    parts = sum(data.values[f"t4.review.{c}"] for c in ("upheld", "corrected", "other", "pending"))
    assert parts > 0
    return Case("t4-total-wrong-2021", ".txt", "\n".join(lines), data, expected, [
        Expect("total-mismatch", "check", rule="t4-review-total", severity="error",
               expected=parts, actual=Decimal(0)),
    ])


def change_words_2019() -> Case:
    """2019's 本年增/减: "增" typed where a number belongs (unreadable), "减4" read as -4."""
    data = source_data("2019")
    text = render_report(data, "txt")
    text = edit_row(text, "行政处罚", set_cell(2, "增"))
    text = edit_row(text, "行政强制", set_cell(2, "减4"))
    expected = {**data.values, "t2.penalty.change": None, "t2.coercion.change": Decimal(-4)}
    return Case("change-words-2019", ".txt", as_cell_per_line(text), data, expected, [
        Expect("value-change-text", sheet="表二", row="行政处罚", severity="error", actual="增"),
        Expect("value-change-read", sheet="表二", row="行政强制", actual="减4"),
    ], raw={"t2.penalty.change": "增"})


def blank_total() -> Case:
    """表三 四、结转下年度继续办理 with its 总计 cell left blank (read as 0, reported, and a wrong total)."""
    data = source_data("2021")
    text = edit_row(render_report(data, "txt"), "四、结转下年度继续办理", set_cell(-1, ""))
    carried = data.values["t3.carried_over.total"]
    assert carried > 0
    expected = {**data.values, "t3.carried_over.total": Decimal(0)}
    return Case("blank-total-2021", ".txt", text, data, expected, [
        Expect("value-blank", sheet="表三", row="四、结转下年度继续办理"),
        Expect("total-mismatch", "check", row="四、结转下年度继续办理", rule="t3-total-column", severity="error",
               expected=carried, actual=Decimal(0)),
    ], raw={"t3.carried_over.total": ""})


def notes_in_cells() -> Case:
    """A note typed into a number cell ("22（其中修订16件）") and a unit ("件") after a number."""
    data = source_data("2021")
    made = data.values["t2.normative.made"]
    licensing = data.values["t2.licensing.decisions"]
    text = render_report(data, "txt")
    text = edit_row(text, "行政规范性文件", set_cell(1, f"{made}（其中修订1件）"))
    text = edit_row(text, "行政许可", set_cell(1, f"{licensing}件"))
    return Case("notes-in-cells-2021", ".txt", text, data, dict(data.values), [
        Expect("import-note-in-cell", sheet="表二", row="行政规范性文件", message_contains="其中修订1件"),
        Expect("value-with-unit", sheet="表二", row="行政许可"),
    ], raw={"t2.normative.made": f"{made}（其中修订1件）"})


def notes_in_pdf_cells() -> Case:
    """The same note in PDF text, spaces inside it: the row cannot be told apart, so it is not read."""
    case = notes_in_cells()
    text = as_pdf_text(case.content).replace("（其中修订1件）", "（其中修订 1 件）")
    expected = {**case.expected, **{f"t2.normative.{c}": None for c in ("made", "repealed", "in_force")}}
    return Case("notes-in-pdf-cells-2021", ".txt", text, case.data, expected, [
        Expect("import-cells-missing", sheet="表二", row="行政规范性文件", severity="error"),
        Expect("value-with-unit", sheet="表二", row="行政许可"),
    ])


def narrative_differs() -> Case:
    data = source_data("2021")
    new = data.values["t3.new.total"]
    stated = new + 7
    published = ReportData(format=data.format, unit=data.unit, year=data.year, values=data.values,
                           narrative={**data.narrative, "overview.on_request": f"本年共收到政府信息公开申请{stated}件，均已按时答复。"})
    return Case("narrative-differs-2021", ".txt", render_report(published, "txt"), published, dict(data.values), [
        Expect("narrative-number-differs", "check", rule="t3-narrative-count", severity="warning",
               expected=new, actual=stated),
    ])


def other_handling_unsplit() -> Case:
    """2021's （六）其他处理 given as one row (the 2019 layout): counted in 3.其他, reported."""
    data = source_data("2021")
    lines = rows(render_report(data, "txt"))
    start = next(i for i, line in enumerate(lines) if "（六）其他处理" in line)
    sums = [sum(data.values[f"t3.{r}.{c}"] for r in ("other_no_correction", "other_unpaid_fee", "other_other"))
            for c in T3_COLUMNS]
    lines[start:start + 3] = ["\t（六）其他处理\t\t" + "\t".join(str(v) for v in sums)]
    expected = dict(data.values)
    for col, total in zip(T3_COLUMNS, sums):
        expected[f"t3.other_no_correction.{col}"] = None
        expected[f"t3.other_unpaid_fee.{col}"] = None
        expected[f"t3.other_other.{col}"] = total
    return Case("other-handling-unsplit-2021", ".txt", "\n".join(lines), data, expected, [
        Expect("import-row-collapsed", sheet="表三", severity="warning", message_contains="（六）其他处理"),
    ])


def section_numbering() -> Case:
    """Headings numbered with other punctuation, one heading worded differently, one missing."""
    data = source_data("2021")
    text = (render_report(data, "txt")
            .replace("\n二、主动公开政府信息情况\n", "\n二．主动公开政府信息情况\n")
            .replace("\n四、政府信息公开行政复议、行政诉讼情况\n", "\n四，政府信息公开行政复议、行政诉讼情况\n")
            .replace("\n五、存在的主要问题及改进情况\n", "\n五、存在的主要问题及整改措施\n")
            .replace("\n六、其他需要报告的事项\n\n", "\n\n"))
    return Case("section-numbering-2021", ".txt", text, data, dict(data.values), [
        Expect("import-section-variant", message_contains="存在的主要问题及整改措施"),
        Expect("import-section-missing", message_contains="六、其他需要报告的事项"),
    ], narrative={"problems.text": data.narrative["problems.text"]})


def item_numbers_and_typos() -> Case:
    """Item numbers typed otherwise, a number left out, spaces inside a label, a word changed."""
    data = source_data("2021")
    text = (render_report(data, "txt").replace("1.属于国家秘密", "1、属于国家秘密").replace("（一）予以公开", "予以公开")
            .replace("5.属于三类内部事务信息", "5. 属于 三类内部 事务信息").replace("4.保护第三方合法权益", "4.保护第三方合法权利"))
    return Case("item-numbers-2021", ".txt", text, data, dict(data.values), [
        Expect("import-label-variant", sheet="表三", row="（一）予以公开"),
        Expect("import-label-variant", sheet="表三", row="4.保护第三方合法权益"),
    ])


def fee_in_yuan() -> Case:
    """The 收费金额 (万元) typed in 元 with the unit: converted, and reported."""
    data = source_data("2021")
    amount = data.values["t2.fees.amount"]
    yuan = f"{(amount * 10000).normalize():f}元"
    text = edit_row(render_report(data, "txt"), "行政事业性收费", set_cell(1, yuan))
    return Case("fee-in-yuan-2021", ".txt", text, data, dict(data.values), [
        Expect("import-unit-in-cell", sheet="表二", row="行政事业性收费", actual=yuan),
    ])


def row_missing() -> Case:
    """A row left out (its numbers 0, so the tables still add up): reported, the rest read."""
    data = source_data("2021")
    fmt = load_format("2021")
    inputs = {c.id: data.values[c.id] for c in fmt.input_cells}
    for col in T3_VALUE_COLUMNS:
        repeat = inputs[f"t3.not_handled_repeat.{col}"]
        from_new = min(repeat, inputs[f"t3.new.{col}"])
        inputs[f"t3.new.{col}"] -= from_new
        inputs[f"t3.carried_in.{col}"] -= repeat - from_new
        inputs[f"t3.not_handled_repeat.{col}"] = Decimal(0)
    data.values = with_totals(fmt, inputs)
    data.narrative["overview.on_request"] = f"本年共收到政府信息公开申请{data.values['t3.new.total']}件，均已按时答复。"
    text = "\n".join(line for line in rows(render_report(data, "txt")) if "2.重复申请" not in line)
    expected = {**data.values, **{f"t3.not_handled_repeat.{c}": None for c in T3_COLUMNS}}
    return Case("row-missing-2021", ".txt", text, data, expected, [
        Expect("import-row-missing", sheet="表三", row="2.重复申请", severity="error"),
    ])


def format_claimed() -> Case:
    """A 2021-format report that says it follows the 2019 notice: the tables decide."""
    data = source_data("2021")
    text = render_report(data, "txt")
    assert "国办公开办函〔2021〕30号" in text
    text = text.replace("国办公开办函〔2021〕30号", "国办公开办函〔2019〕60号", 1)
    return Case("format-claimed-2021", ".txt", text, data, dict(data.values), [
        Expect("import-format-claimed", expected="2019", actual="2021"),
    ])


def old_format_new_year() -> Case:
    data = source_data("2019")
    data.year = 2022
    text = render_report(data, "txt")
    return Case("old-format-new-year-2019", ".txt", text, data, dict(data.values), [
        Expect("import-format-year", severity="error", expected="2021"),
    ])


def extra_column_2019() -> Case:
    """A 处理决定数量 value the 2019 收费 row does not have."""
    data = source_data("2019")
    text = edit_row(render_report(data, "txt"), "行政事业性收费", set_cell(3, "5"))
    return Case("extra-column-2019", ".txt", text, data, dict(data.values), [
        Expect("import-extra-values", sheet="表二", row="行政事业性收费"),
    ])


def page_furniture() -> Case:
    """PDF text with page numbers between paragraphs and table rows: not report text, not cells."""
    data = source_data("2021")
    lines = rows(as_pdf_text(render_report(data, "txt")))
    for marker, furniture in (("（二）依申请公开", "- 1 -"), ("2.重复申请", "第 2 页"), ("六、其他需要报告的事项", "— 3 —")):
        i = next(i for i, line in enumerate(lines) if marker in line)
        lines[i:i] = [furniture]
    return Case("page-furniture-2021", ".txt", "\n".join(lines), data, dict(data.values), narrative=data.narrative)


def layout_table_page() -> Case:
    """An old CMS page: the whole article inside a layout table, the report tables in one of its cells."""
    data = source_data("2021")
    page = as_cms_page(render_report(data, "html"))
    page = re.sub(r"<body[^>]*>", lambda m: m.group(0) + '<table width="100%"><tr><td>栏目</td><td>', page, count=1)
    page = page.replace("</body>", "</td></tr></table></body>", 1)
    return Case("layout-table-2021", ".html", page, data, dict(data.values), narrative=data.narrative)


def narrative_unsplit() -> Case:
    """一、总体情况 as running text without its （一）…（五） parts."""
    data = source_data("2021")
    text = render_report(data, "txt")
    for heading in ("（一）主动公开", "（二）依申请公开", "（三）政府信息管理", "（四）政府信息公开平台建设", "（五）监督保障"):
        text = text.replace(f"\n{heading}\n", "\n", 1)
    return Case("narrative-unsplit-2021", ".txt", text, data, dict(data.values), [
        Expect("import-narrative-unsplit"),
    ])


def all_cases() -> list[Case]:
    return [*shape_cases("2021"), *shape_cases("2019"), label_typo(), label_variants_2019(), t4_total_wrong(),
            change_words_2019(), blank_total(), notes_in_cells(), notes_in_pdf_cells(),
            narrative_differs(), other_handling_unsplit(),
            section_numbering(), item_numbers_and_typos(), fee_in_yuan(), row_missing(), format_claimed(),
            old_format_new_year(), extra_column_2019(), page_furniture(), layout_table_page(), narrative_unsplit()]


def write_all(folder: Path) -> dict[str, Case]:
    """Every case written into ``folder`` (and manifest.json: file, format, expected values and findings)."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = {case.file_name: case for case in all_cases()}
    manifest = {}
    for name, case in cases.items():
        case.write(folder)
        manifest[name] = {
            "format": case.data.format, "unit": case.data.unit, "year": case.data.year,
            "values": {k: None if v is None else str(v) for k, v in case.expected.items()},
            "raw": case.raw, "findings": [f.as_json() for f in case.findings],
        }
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return cases


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/make_report_fixtures.py OUT_DIR")
    written = write_all(Path(sys.argv[1]))
    print(f"{len(written)} reports written to {sys.argv[1]}")
