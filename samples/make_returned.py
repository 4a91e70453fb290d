"""Make samples/returned/: workbooks as townships send them back, one clean and some with the
mistakes a county office sees every January. Run from the repository root:

    python samples/make_returned.py

Each workbook is written by the toolkit (as the blank one is), filled with made-up figures that
pass every rule, then changed with openpyxl the way a person changes it in Excel or WPS.
LibreOffice, when installed, also saves one as .xls (as some townships return it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.formats import load_format  # noqa: E402
from toolkit.demo.synthetic import synthetic_report  # noqa: E402
from toolkit.layout import cell_addresses  # noqa: E402
from toolkit.workbook.writer import write_workbook  # noqa: E402

YEAR = 2025
OUT = ROOT / "samples" / "returned"

NARRATIVE = {
    "overview.proactive": "本年度，我单位严格落实《中华人民共和国政府信息公开条例》，通过政府网站主动公开各类政府信息，"
    "重点公开乡村振兴、财政资金、民生保障等领域信息，做到应公开尽公开。",
    "overview.management": "明确专人负责政府信息公开工作，落实“先审查、后公开”和“一事一审”制度，及时更新主动公开目录。",
    "overview.platforms": "依托县政府门户网站信息公开专栏发布信息，定期巡查栏目，确保内容准确、更新及时。",
    "overview.oversight": "将政务公开工作纳入年度目标考核，组织工作人员参加县级培训，接受社会监督。",
    "problems.text": "存在的主要问题：公开内容深度不够，工作人员业务水平有待提高。改进措施：加强培训，细化公开目录，提升公开质量。",
    "other.text": "无其他需要报告的事项。",
}


def _fill(path: Path, fmt_id: str, unit: str, *, seed: int) -> None:
    fmt = load_format(fmt_id)
    data = synthetic_report(fmt, unit, YEAR, seed=seed)
    data.narrative.update(NARRATIVE)
    data.info.update({"filler": "王丽", "phone": "0370-8480007", "date": f"{YEAR + 1}-01-10"})
    write_workbook(path, fmt, unit=unit, year=YEAR, data=data)


def _edit(path: Path, fmt_id: str, changes: dict[str, object]) -> None:
    """Type values over cells, as a person does in Excel (formulas typed over included)."""
    addresses = cell_addresses(load_format(fmt_id))
    wb = openpyxl.load_workbook(path)
    for cell_id, value in changes.items():
        address = addresses[cell_id]
        wb[address.sheet][address.a1].value = value
    wb.save(path)


def _value(path: Path, fmt_id: str, cell_id: str) -> int:
    address = cell_addresses(load_format(fmt_id))[cell_id]
    wb = openpyxl.load_workbook(path)
    return int(wb[address.sheet][address.a1].value or 0)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)

    clean = OUT / "蓼堤镇人民政府_2025年度政府信息公开工作年度报告填报表.xlsx"
    _fill(clean, "2021", "蓼堤镇人民政府", seed=1)

    # 表三 does not reconcile: one more application typed in, and the 总计 of （七） typed over.
    unbalanced = OUT / "城关镇人民政府_2025年度政府信息公开工作年度报告填报表.xlsx"
    _fill(unbalanced, "2021", "城关镇人民政府", seed=2)
    new_natural = _value(unbalanced, "2021", "t3.disclosed.natural")
    _edit(unbalanced, "2021", {"t3.new.natural": new_natural + 5, "t3.results_total.total": 9})

    # Values as people type them: units, full-width digits, "/" and text in number cells.
    typed = OUT / "西陵寺镇人民政府_2025年度政府信息公开工作年度报告填报表.xlsx"
    _fill(typed, "2021", "西陵寺镇人民政府", seed=3)
    _edit(typed, "2021", {
        "t2.licensing.decisions": "126件",
        "t2.penalty.decisions": "１２",
        "t2.coercion.decisions": "/",
        "t4.review.upheld": "增",
        "t2.fees.amount": None,
    })

    # A street office that reports 规章, and a narrative that mentions applications while 表三 is empty.
    street = OUT / "北湖街道办事处_2025年度政府信息公开工作年度报告填报表.xlsx"
    _fill(street, "2021", "北湖街道办事处", seed=4)
    _edit(street, "2021", {"t2.rules.made": 1, "t2.rules.in_force": 1})

    # Last year's template: the old 2019 format used for a 2025 report.
    old = OUT / "县教育体育局_2025年度政府信息公开工作年度报告填报表.xlsx"
    _fill(old, "2019", "县教育体育局", seed=5)

    # Clean, but returned as .xls after LibreOffice saved it (when LibreOffice is installed).
    xls_source = OUT / "县发展和改革委员会_2025年度政府信息公开工作年度报告填报表.xlsx"
    _fill(xls_source, "2021", "县发展和改革委员会", seed=6)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice:
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run(
                [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "xls",
                 "--outdir", str(OUT), str(xls_source)],
                check=True, capture_output=True, timeout=180,
            )
        xls_source.unlink()
    for path in sorted(OUT.iterdir()):
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
