"""Finding types raised while reading a file: the file itself, its tables, and typed values.

Value findings are filled with ``where`` (e.g. ``表三 （一）予以公开·自然人（D8）``), ``typed``
(what the person typed) and ``value`` (what was read); see toolkit/workbook/values.py for when each
is raised. File findings take ``file`` and ``reason``.
"""

from __future__ import annotations

from toolkit.checks.catalogue import FindingType
from toolkit.model import ERROR, WARNING

# ---------------------------------------------------------------- the file


class FileUnreadable(FindingType):
    code = "file-unreadable"
    severity = ERROR
    title = "文件无法打开"
    template = "无法读取文件“{file}”：{reason}。"
    description = "The path does not exist, is a folder, a broken link, or cannot be read (permissions, I/O)."


class NotAWorkbook(FindingType):
    code = "not-a-workbook"
    severity = ERROR
    title = "不是Excel工作簿"
    template = "“{file}”不是Excel工作簿（{reason}），无法读取；请填报单位发回标准填报表（.xlsx）。"
    description = "The bytes are not xlsx/xlsm/xls/ods/et: empty, text, PDF, Word, HTML saved as .xls, random."


class WorkbookTooOld(FindingType):
    code = "workbook-too-old"
    severity = ERROR
    title = "Excel文件版本过旧"
    template = ("“{file}”是{reason}保存的Excel文件，版本过旧，无法读取；请填报单位用Excel或WPS打开后"
                "另存为“Excel工作簿（.xlsx）”再发送。")
    description = "A BIFF2, BIFF3 or BIFF4 file (Excel 2.x, 3.0, 4.0 worksheets and workbooks), before the OLE .xls."


class WorkbookEncrypted(FindingType):
    code = "workbook-encrypted"
    severity = ERROR
    title = "工作簿已加密"
    template = "“{file}”设置了打开密码（已加密），无法读取；请填报单位取消密码后重新发送。"
    description = "An OLE file with EncryptionInfo/EncryptedPackage, or an .xls with a FILEPASS record."


class WorkbookDamaged(FindingType):
    code = "workbook-damaged"
    severity = ERROR
    title = "工作簿已损坏"
    template = "“{file}”已损坏，无法读取（{reason}）；请填报单位用Excel或WPS重新保存后发送。"
    description = ("A workbook container that cannot be parsed: truncated zip, corrupt or hostile XML (a DTD in any "
                   "XML part), two parts with one name, a sheet cut short, bad OLE, or the reading helper died on it.")


class FileTooLarge(FindingType):
    code = "file-too-large"
    severity = ERROR
    title = "文件超出读取上限"
    template = "“{file}”{reason}，超出读取上限，未读取；请确认是否发错了文件。"
    description = ("File size, zip entry count, (declared or actual) uncompressed size or ratio, cells in a sheet, "
                   "or the time or memory budget of one file over the limits (docs/security.md).")


class SheetTruncated(FindingType):
    code = "sheet-truncated"
    severity = WARNING
    title = "工作表过大，只读取了一部分"
    template = "工作表“{sheet}”的内容超过{reason}，只读取了前面的部分。"
    description = "A sheet with cells beyond the row/column caps: only the capped area is read."


# ---------------------------------------------------------------- identification and layout


class FormatUnknown(FindingType):
    code = "format-unknown"
    severity = ERROR
    title = "没有找到统计表"
    template = "“{file}”中没有找到年度报告的统计表（表二、表三、表四），无法读取；请使用标准填报表填报。"
    description = "Neither the recorded meta data nor the official labels identify any known format."


class FormatYearMismatch(FindingType):
    code = "format-year-mismatch"
    severity = ERROR
    title = "报表格式与年度不符"
    template = "本表是{actual}格式（{found_name}），但{year}年度报告应使用{expected}格式（{expected_name}）；请改用{expected}格式的填报表重新填报。"
    description = "The tables found follow a format (by their labels) that does not apply to the report year."


class TableMissing(FindingType):
    code = "table-missing"
    severity = ERROR
    title = "缺少统计表"
    template = "没有找到{table}（{caption}），该表的数据无法读取；请检查是否删除或改动了该工作表。"
    description = "No sheet holds the labels of one official table; its cells read as None."


class TableRowMissing(FindingType):
    code = "table-row-missing"
    severity = ERROR
    title = "表格缺少行"
    template = "{table}中没有找到“{row}”这一行，该行数据无法读取；请不要删除或改动标准表格的行。"
    description = "A leaf row label of the official table was not found (deleted or renamed row); its cells read as None."


class TableRowExtra(FindingType):
    code = "table-row-extra"
    severity = ERROR
    title = "表格中插入了行"
    template = "{table}第{line}行“{label}”不是标准表格中的行，其中的数据未读取；请不要在标准表格中插入行。"
    description = ("A row inside a table that is not an official row: an error when it holds numbers "
                   "(they are not counted), a warning when it is empty.")


class TableColumnMissing(FindingType):
    code = "table-column-missing"
    severity = ERROR
    title = "表格缺少列"
    template = "{table}中没有找到“{column}”这一列，该列数据无法读取；请不要删除或改动标准表格的列。"
    description = "A leaf column label of the official table was not found; its cells read as None."


class TableColumnExtra(FindingType):
    code = "table-column-extra"
    severity = ERROR
    title = "表格中插入了列"
    template = "{table}第{line}列“{label}”不是标准表格中的列，其中的数据未读取；请不要在标准表格中插入列。"
    description = "A column inside a table that is not an official column (error with numbers, else warning)."


class UnitMissing(FindingType):
    code = "unit-missing"
    severity = WARNING
    title = "没有填写单位名称"
    template = "没有找到填报单位名称；请在“基本信息”工作表中填写单位名称。"
    description = "Neither 基本信息, the recorded meta data, a title cell nor the caller name the unit."


class YearMissing(FindingType):
    code = "year-missing"
    severity = WARNING
    title = "没有填写报告年度"
    template = "没有找到报告年度；请在“基本信息”工作表中填写报告年度。"
    description = "Neither 基本信息, the recorded meta data, a title cell nor the caller give the year."


class WorkbookNotFilled(FindingType):
    code = "workbook-not-filled"
    severity = ERROR
    title = "未填报"
    template = ("“{file}”未填报：{tables}的{total}个填报栏中只填了{filled}个，不能作为年度报告数据；"
                "请填报单位逐项填写（没有发生的事项填0）后重新报送。")
    description = ("The tables are there but (nearly) all their input cells are empty (threshold: "
                   "templates/reading.yaml ``not_filled``): a blank sent back, or a published report whose "
                   "tables hold no numbers. Replaces the value-blank warnings of those cells.")


# ---------------------------------------------------------------- typed values


class ValueBlank(FindingType):
    code = "value-blank"
    severity = WARNING
    title = "未填写（按0计）"
    template = "{where}未填写，已按0计算；没有请填0。"
    description = "An input cell left empty: read as 0."


class ValueAsText(FindingType):
    code = "value-as-text"
    severity = WARNING
    title = "文本格式的数字"
    template = "{where}填写为“{typed}”，是文本格式的数字，已按{value}读取；请改为数值（文本数字不参与表内求和）。"
    description = "A number stored as text (spaces, thousands separators, plus sign): read."


class ValueFullWidth(FindingType):
    code = "value-full-width"
    severity = WARNING
    title = "全角数字"
    template = "{where}填写为全角数字“{typed}”，已按{value}读取；请用半角数字填写。"
    description = "Full-width digits such as １２: read."


class ValueWithUnit(FindingType):
    code = "value-with-unit"
    severity = WARNING
    title = "数字带单位"
    template = "{where}填写为“{typed}”，已按{value}读取；单元格中只填数字，不带单位。"
    description = "A number followed by a unit word of the cell's unit (12件, 3.5万元): read."


class ValueWrongUnit(FindingType):
    code = "value-wrong-unit"
    severity = ERROR
    title = "单位不符"
    template = "{where}填写为“{typed}”，单位与本栏（{unit}）不符，无法读取；请换算为{unit}后只填数字。"
    description = "A number with a unit that changes its meaning (5元 in a 万元 cell): not read."


class ValueNotApplicable(FindingType):
    code = "value-not-applicable"
    severity = WARNING
    title = "填写“无”“/”等（按0计）"
    template = "{where}填写为“{typed}”，已按0计算；没有请直接填0。"
    description = "'/', '—', '-', '无' and the like (templates/reading.yaml): read as 0 so sums still add up."


class ValueChangeRead(FindingType):
    code = "value-change-read"
    severity = WARNING
    title = "用“增/减”表示增减数"
    template = "{where}填写为“{typed}”，已按{value}读取；本栏请直接填写增减数（减少填负数，如-4）。"
    description = "In a signed cell (2019 本年增/减), '减4' read as -4 and '增4' as 4."


class ValueChangeText(FindingType):
    code = "value-change-text"
    severity = ERROR
    title = "用“增/减”代替数字"
    template = "{where}填写为“{typed}”，无法读取为数量；请填写具体数字。"
    description = "'增', '减' without a number, or '增/减n' in a cell that is not a signed change: not read."


class ValueNotANumber(FindingType):
    code = "value-not-a-number"
    severity = ERROR
    title = "不是数字"
    template = "{where}填写为“{typed}”，不是数字，无法读取；请填写数字。"
    description = "Any other text, TRUE/FALSE, or a date (Excel turned the input into a date): not read."


class ValueFormulaError(FindingType):
    code = "value-formula-error"
    severity = ERROR
    title = "公式出错"
    template = "{where}显示为错误值“{typed}”，公式计算出错，无法读取；请检查公式或直接填写数字。"
    description = "An Excel error value (#DIV/0!, #REF!, ...)."


class ValueNegative(FindingType):
    code = "value-negative"
    severity = ERROR
    title = "负数"
    template = "{where}填写为{typed}，本栏不能为负数。"
    description = "A negative number in a kind with a minimum of 0 (the value is kept for the sums)."


class ValueFraction(FindingType):
    code = "value-fraction"
    severity = ERROR
    title = "件数不是整数"
    template = "{where}填写为{typed}，应为整数（单位：{unit}）。"
    description = "A fraction in a kind without decimals (counts); the value is kept for the sums."


class ValueTooPrecise(FindingType):
    code = "value-too-precise"
    severity = WARNING
    title = "小数位数过多"
    template = "{where}填写为{typed}，超过{decimals}位小数（单位：{unit}），已按填写的数读取；请核实单位是否正确。"
    description = "More decimals than the kind keeps (money: 4, i.e. below 1 元): kept as typed."


VALUE_CODES = frozenset(code for code in (
    "value-blank", "value-as-text", "value-full-width", "value-with-unit", "value-wrong-unit",
    "value-not-applicable", "value-change-read", "value-change-text", "value-not-a-number",
    "value-formula-error", "value-negative", "value-fraction", "value-too-precise",
))
