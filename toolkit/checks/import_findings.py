"""Finding types raised while importing a published report (text, Markdown, HTML, Word).

A published report is not our workbook: its tables were typed, pasted, converted from PDF. These
findings say what could not be read, or was read from a variant of the official wording, so that
an audit of a township's published report shows it. Messages name the table and row, and the
line (text) or table row (HTML, Word) where it was found as ``{where}``.

Typed values in number cells ("增", blank, "12件") raise the same ``value-*`` findings as the
workbook reader (toolkit/checks/reading_findings.py).
"""

from __future__ import annotations

from toolkit.checks.catalogue import FindingType
from toolkit.model import ERROR, WARNING


class ImportUnreadable(FindingType):
    code = "import-unreadable"
    severity = ERROR
    title = "报告文件无法读取"
    template = "无法读取报告“{file}”：{reason}。"
    description = "The report file does not exist, cannot be decoded, or is not a text/Markdown/HTML/Word file."


class ImportFormatUnknown(FindingType):
    code = "import-format-unknown"
    severity = ERROR
    title = "没有识别出统计表格式"
    template = "报告中没有找到能识别格式的统计表标签，按{actual}格式（{name}）读取；{reason}。"
    description = ("No label that tells the 2019 and 2021 formats apart was found in the tables; the "
                   "format was taken from --format, the year, or the newest format.")


class ImportFormatClaimed(FindingType):
    code = "import-format-claimed"
    severity = WARNING
    title = "报告引用的格式与表格不符"
    template = "报告正文引用了{expected_name}，但统计表是{actual}格式（{name}），按表格读取。"
    description = "The text cites one format's document number while the tables' labels follow another."


class ImportFormatForced(FindingType):
    code = "import-format-forced"
    severity = WARNING
    title = "指定的格式与表格不符"
    template = "指定按{expected}格式读取，但报告的统计表是{actual}格式（{name}），按表格读取。"
    description = "The caller's --format differs from the format the tables' labels follow."


class ImportFormatYear(FindingType):
    code = "import-format-year"
    severity = ERROR
    title = "报告格式与年度不符"
    template = "报告的统计表是{actual}格式（{name}），但{year}年度报告应使用{expected}格式（{expected_name}）。"
    description = "The format the tables follow does not apply to the report year."


class ImportUnitMissing(FindingType):
    code = "import-unit-missing"
    severity = WARNING
    title = "没有找到单位名称"
    template = "报告标题和正文中没有找到发布单位名称。"
    description = "Neither the title nor the opening text name the unit."


class ImportYearMissing(FindingType):
    code = "import-year-missing"
    severity = WARNING
    title = "没有找到报告年度"
    template = "报告标题和正文中没有找到报告年度。"
    description = "Neither the title nor the opening text (统计期限) give the year, and the caller gave none."


class ImportYearMismatch(FindingType):
    code = "import-year-mismatch"
    severity = WARNING
    title = "报告年度与指定年度不符"
    template = "报告标题为{actual}年度，与指定的{expected}年度不符，按报告读取。"
    description = "The year found in the report differs from the year the caller expected."


class ImportSectionMissing(FindingType):
    code = "import-section-missing"
    severity = WARNING
    title = "没有找到报告的一部分"
    template = "报告中没有找到“{section}”这一部分的标题{note}。"
    description = ("One of the six official section headings (or an accepted variant) was not found. "
                   "Text between the neighbouring sections is still attributed to it when possible.")


class ImportSectionVariant(FindingType):
    code = "import-section-variant"
    severity = WARNING
    title = "标题写法与标准格式不同"
    template = "{where}标题“{found}”与标准写法不同，按“{label}”读取。"
    description = "A section heading matched an official heading only through a variant or a loose match."


class ImportNarrativeUnsplit(FindingType):
    code = "import-narrative-unsplit"
    severity = WARNING
    title = "文字部分未按小标题分开"
    template = "“{section}”中没有找到{parts}等小标题，这部分文字全部记入“{part}”。"
    description = "A section with several narrative parts had text under no recognisable part heading."


class ImportTableMissing(FindingType):
    code = "import-table-missing"
    severity = ERROR
    title = "报告中没有找到统计表"
    template = "报告中没有找到{table}（{caption}）的数据，该表各项无法读取。"
    description = "No number row of an official table was found; every cell of it is None."


class ImportRowMissing(FindingType):
    code = "import-row-missing"
    severity = ERROR
    title = "统计表缺少一行"
    template = "{table}中没有找到“{row}”这一行的数据，该行无法读取。"
    description = "A leaf row of an official table has no number row in the report; its cells are None."


class ImportCellsMissing(FindingType):
    code = "import-cells-missing"
    severity = ERROR
    title = "统计表一行的数字不全"
    template = "{where}{table}“{row}”一行应有{expected}个数字，只找到{actual}个（{found}），无法判断缺的是哪一栏，该行未读取。"
    description = ("A row was found but holds fewer numbers than the official columns and the cell "
                   "boundaries are lost (PDF text, converted Markdown): no value of it is placed.")


class ImportExtraValues(FindingType):
    code = "import-extra-values"
    severity = WARNING
    title = "统计表一行的数字多于标准栏目"
    template = "{where}{table}“{row}”一行有{actual}个数字，标准表格只有{expected}栏，多出的“{extra}”未读取。"
    description = "A row holds more numbers than its official columns (an extra column, a stray cell)."


class ImportUnplacedValues(FindingType):
    code = "import-unplaced-values"
    severity = WARNING
    title = "无法对应到表格行的数字"
    template = "{where}{table}中的数字“{found}”无法对应到标准表格的行，未读取。"
    description = ("A number row without a recognisable label whose position between recognised rows "
                   "does not tell which official row it is.")


class ImportDuplicateRow(FindingType):
    code = "import-duplicate-row"
    severity = WARNING
    title = "同一行出现两次"
    template = "{where}{table}“{row}”一行再次出现（{found}），按先出现的一行读取。"
    description = "Two number rows of a report matched the same official row; the first one is kept."


class ImportRowCollapsed(FindingType):
    code = "import-row-collapsed"
    severity = WARNING
    title = "合并填报了应分项填报的行"
    template = "{where}{table}“{row}”只填了一行合计，没有按其下{n}项分别填报；这一行的数字记入“{into}”。"
    description = ("A group row (2021 （六）其他处理) given as one row, as in the older format: its numbers are "
                   "counted in the sub-row the format names (`collapse_to`), the other sub-rows stay empty.")


class ImportLabelVariant(FindingType):
    code = "import-label-variant"
    severity = WARNING
    title = "表格标签写法与标准格式不同"
    template = "{where}{table}的标签“{found}”与标准写法不同，按“{label}”读取。"
    description = ("A row or column label matched an official label only through a known variant "
                   "(the format file's `variants`), a missing item number, or a loose match (typo).")


class ImportUnitInCell(FindingType):
    code = "import-unit-in-cell"
    severity = WARNING
    title = "单元格中带有单位（已换算）"
    template = "{where}填写为“{typed}”，单位与本栏（{unit}）不同，已换算为{value}{unit}读取。"
    description = "A number with a unit that converts exactly into the column's unit (251000元 in a 万元 column)."


class ImportNoteInCell(FindingType):
    code = "import-note-in-cell"
    severity = WARNING
    title = "单元格中带有说明文字"
    template = "{where}填写为“{typed}”，已按其中的数字{value}读取，括号中的说明“{note}”未计入。"
    description = "A number followed by a note in brackets, e.g. 22（其中修订16件）: the number is read."


class ImportNotWritten(FindingType):
    code = "import-not-written"
    severity = ERROR
    title = "导入结果无法写出"
    template = "导入的数据无法写到“{file}”：{reason}。"
    description = "The imported data could not be written as a workbook or JSON (no year for a workbook, I/O error)."


class ImportNotAReport(FindingType):
    code = "import-not-a-report"
    severity = ERROR
    title = "不是政府信息公开工作年度报告"
    template = "“{file}”中既没有年度报告的六部分标题，也没有统计表，不像是政府信息公开工作年度报告，未导入。"
    description = "No section heading and no number row of any official table: nothing to import."
