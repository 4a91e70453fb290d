"""One table of labels (templates/labels.yaml): every output calls a warning and an error by the
same word — the terminal, the findings mail, the status table and workbook, the annotated copy
and the summary workbook."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import openpyxl
import pytest

from toolkit.archive import Archive
from toolkit.demo.synthetic import synthetic_report
from toolkit.model import ERROR, WARNING, FileReport, Finding, Report
from toolkit.output_labels import counts_text, file_status_label, labels, severity_label

ERROR_WORD, WARNING_WORD = labels()["severity"]["error"], labels()["severity"]["warning"]
UNIT = "城关镇人民政府"


def _warning() -> Finding:
    return Finding("value-blank", WARNING, "表二 规章 本年制发件数未填，按0计（C4）", sheet="表二", cell="C4")


def _error() -> Finding:
    return Finding("rule-t3-balance", ERROR, "表三 自然人列：不相等（D12）", rule="t3-balance", sheet="表三", cell="D12")


def _report(path: str = "/in/城关镇.xlsx") -> FileReport:
    return FileReport(path, [_error(), _warning()], synthetic_report("2021", UNIT, 2025))


def test_the_table_says_what_a_warning_is():
    assert (ERROR_WORD, WARNING_WORD) == ("错误", "需核实")  # a warning is to be verified, not alarming
    assert severity_label(ERROR) == ERROR_WORD and severity_label(WARNING) == WARNING_WORD
    assert counts_text(2, 1) == "错误2个，需核实1个"
    warned = FileReport("/in/a.xlsx", [_warning()], synthetic_report("2021", UNIT, 2025))
    assert file_status_label(warned) == WARNING_WORD
    assert file_status_label(FileReport("/in/b.xlsx", [], None)) == "无法读取"


def _words(text: str) -> set[str]:
    return {w for w in ("警告", "请核实", "需核实") if w in re.sub(r"\s+", "", text)}


def test_terminal_uses_the_table():
    from rich.console import Console

    from toolkit.cli.check import print_report, summary_line

    buffer = io.StringIO()
    print_report(Report([_report()]), Console(file=buffer, width=200, highlight=False))
    text = buffer.getvalue() + summary_line(Report([_report()]))
    assert _words(text) == {WARNING_WORD}
    assert f"{WARNING_WORD}  表二!C4" in text and counts_text(1, 1) in text


def test_findings_mail_uses_the_table():
    from toolkit.roster import RosterEntry
    from toolkit.round.send import FindingsItem, findings_mails

    item = FindingsItem(UNIT, 2025, None, [_error(), _warning()], "findings:x")
    mails, unreachable, _ = findings_mails([item], [RosterEntry(UNIT, email="a@example.cn")])
    assert not unreachable
    body = mails[0].body
    assert f"【{ERROR_WORD}】" in body and f"【{WARNING_WORD}】表二 C4" in body
    assert "【警告】" not in body and "【请核实】" not in body


def test_status_workbook_uses_the_table(tmp_path):
    from toolkit.round import round_status, write_status_xlsx

    with Archive(tmp_path / "a.db") as arch:
        arch.record(FileReport(str(tmp_path / "城关镇.xlsx"), [_warning()], synthetic_report("2021", UNIT, 2025)))
        status = round_status([_entry(UNIT)], year=2025, archive=arch)
        out = write_status_xlsx(status, tmp_path / "s.xlsx", arch)
    book = openpyxl.load_workbook(out)
    header = [c.value for c in book["报送情况"][3]]
    assert ERROR_WORD in header and WARNING_WORD in header and "警告" not in header
    files_header = [c.value for c in book["收到的文件"][1]]
    assert WARNING_WORD in files_header


def _entry(unit: str):
    from toolkit.roster import RosterEntry

    return RosterEntry(unit)


def test_annotated_copy_and_summary_use_the_table(tmp_path):
    from toolkit.workbook.annotate import RESULT_SHEET, annotate_workbook
    from toolkit.workbook.summary import FILES_SHEET, FINDINGS_SHEET, write_summary
    from toolkit.workbook.writer import write_workbook

    original = tmp_path / "城关镇.xlsx"
    write_workbook(original, "2021", unit=UNIT, year=2025, data=synthetic_report("2021", UNIT, 2025))
    copy = annotate_workbook(original, tmp_path / "out" / "城关镇.xlsx", [_error(), _warning()])
    ws = openpyxl.load_workbook(copy)[RESULT_SHEET]
    text = "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    assert counts_text(1, 1) in ws["A1"].value and f"单元格{WARNING_WORD}" in ws["A2"].value
    assert _words(text) == {WARNING_WORD}
    book = openpyxl.load_workbook(write_summary(Report([_report(str(original))]), tmp_path / "s.xlsx"))
    files = [[v for v in row] for row in book[FILES_SHEET].iter_rows(values_only=True)]
    findings = [[v for v in row] for row in book[FINDINGS_SHEET].iter_rows(values_only=True)]
    assert WARNING_WORD in files[0] and [r[2] for r in findings[1:]] == [ERROR_WORD, WARNING_WORD]
    assert not _words(" ".join(str(v) for row in files + findings for v in row if v)) - {WARNING_WORD}


def test_blank_workbook_words_come_from_the_table():
    from toolkit.workbook.writer import workbook_text

    texts = workbook_text()
    assert texts["guide"]["rules_warning"] == WARNING_WORD
    assert texts["table"]["check_warn"].endswith(WARNING_WORD)
