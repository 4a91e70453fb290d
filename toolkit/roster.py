"""Read the county's roster (名册) of reporting units: CSV (UTF-8 or GBK, as Excel in China
saves it) or a spreadsheet (.xlsx, .xls, .ods).

A roster needs a 单位名称 column (header variants are listed in templates/roster.yaml);
联系人, 联系电话 and 邮箱 are optional, other columns are kept in ``extra``. Problems with rows
are Findings naming the row, never exceptions.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from toolkit.checks.catalogue import FindingType
from toolkit.formats import TEMPLATES_DIR, load_yaml
from toolkit.labels import normalize_label
from toolkit.model import ERROR, WARNING, Finding

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".et"}
MAX_ROSTER_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_EMAIL_SPLIT = re.compile(r"[;；,，、\s]+")
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp"}


@dataclass
class RosterEntry:
    """One unit of the roster; ``line`` is its row number as a spreadsheet program shows it."""

    unit: str
    contact: str | None = None
    phone: str | None = None
    email: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    line: int = 0

    @property
    def emails(self) -> list[str]:
        """The addresses in ``email`` (a cell may hold several, separated by ; or ,)."""
        return [e for e in _EMAIL_SPLIT.split(self.email or "") if e]


class RosterUnreadable(FindingType):
    code = "roster-unreadable"
    severity = ERROR
    title = "名册无法读取"
    template = "无法读取名册 {name}：{reason}"
    description = "The roster file is missing, empty, too large, in an unknown encoding or not a table."


class RosterNoUnitColumn(FindingType):
    code = "roster-no-unit-column"
    severity = ERROR
    title = "名册缺少单位名称列"
    template = ("名册 {name} 中找不到“单位名称”列（{found}）。请把单位名称那一列的表头写成“单位名称”"
                "（也认得：{accepted}），如：单位名称、联系人、联系电话、邮箱。")
    description = ("No header row with a unit-name column in the first rows of the roster; the message names "
                   "the headers it found and those it accepts (templates/roster.yaml).")


class RosterEmpty(FindingType):
    code = "roster-empty"
    severity = ERROR
    title = "名册没有单位"
    template = "名册 {name} 中没有任何单位。"
    description = "The roster has a header but no unit rows."


class RosterEmptyUnit(FindingType):
    code = "roster-empty-unit"
    severity = ERROR
    title = "名册行缺少单位名称"
    template = "名册第{row}行：单位名称为空，该行已跳过（该行内容：{content}）。"
    description = "A roster row has data but an empty unit name; the row is skipped."


class RosterDuplicateUnit(FindingType):
    code = "roster-duplicate-unit"
    severity = ERROR
    title = "名册单位重复"
    template = "名册第{row}行：单位“{unit}”与第{first}行重复，该行已跳过。"
    description = "The same unit name appears twice; the later row is skipped."


class RosterSimilarUnit(FindingType):
    code = "roster-similar-unit"
    severity = WARNING
    title = "名册单位名称相近"
    template = ("名册第{row}行：单位“{unit}”与第{first}行的“{other}”只差全角半角、括号或空格，"
                "请确认是否为同一单位（两个单位都已保留）。")
    description = "Two unit names are equal after normalising width, brackets and spaces; both are kept."


class RosterInvisibleCharacters(FindingType):
    code = "roster-invisible-characters"
    severity = WARNING
    title = "单位名称含不可见字符"
    template = "名册第{row}行：单位名称含有换行或其他不可见字符，已删除，按“{unit}”处理。"
    description = "Control or format characters (line breaks, NUL, zero-width) were removed from a unit name."


class RosterBadEmail(FindingType):
    code = "roster-bad-email"
    severity = WARNING
    title = "邮箱格式不正确"
    template = "名册第{row}行（{unit}）：邮箱“{email}”格式不正确，请核实。"
    description = "An e-mail address in the roster does not look like one."


@lru_cache(maxsize=None)
def _config() -> dict[str, Any]:
    return load_yaml(TEMPLATES_DIR / "roster.yaml")


def _header_key(text: Any) -> str:
    s = normalize_label(text).lower().lstrip("*＊")
    return re.sub(r"\([^)]*\)$", "", s) or s


@lru_cache(maxsize=None)
def _synonyms() -> dict[str, tuple[str, int]]:
    """normalised header -> (field (unit, contact, phone, email), rank in its list)."""
    out: dict[str, tuple[str, int]] = {}
    for name, headers in _config()["columns"].items():
        for rank, header in enumerate(headers):
            out.setdefault(_header_key(header), (name, rank))
    return out


def _text(value: Any) -> str:
    """A cell as text: 13800138000.0 (Excel turned a phone number into a number) -> 13800138000."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().strip("\u3000\ufeff").strip()


def _clean_unit(text: str) -> tuple[str, bool]:
    cleaned = "".join(ch for ch in text if unicodedata.category(ch) not in _INVISIBLE)
    cleaned = cleaned.strip().strip("\u3000").strip()
    return cleaned, cleaned != text.strip()


def read_roster(path: str | Path) -> tuple[list[RosterEntry], list[Finding]]:
    """The units of a roster file, and findings for rows that could not be used as they were."""
    path = Path(path)
    name = path.name
    try:
        rows, notes = _read_rows(path)
    except _Unreadable as exc:
        return [], [RosterUnreadable.make(name=name, reason=str(exc))]
    header_at, columns = _find_header(rows)
    if header_at is None:
        return [], [RosterNoUnitColumn.make(name=name, found=_headers_found(rows), accepted=_accepted_unit_headers())]
    header = [_text(h) for h in rows[header_at]]
    entries: list[RosterEntry] = []
    findings: list[Finding] = list(notes)  # a sheet over the row or column cap: as in check
    seen: dict[str, RosterEntry] = {}
    similar: dict[str, RosterEntry] = {}
    for index in range(header_at + 1, len(rows)):
        row = [_text(v) for v in rows[index]]
        line = index + 1
        if not any(row):
            continue

        def get(field_name: str) -> str:
            col = columns.get(field_name)
            return row[col] if col is not None and col < len(row) else ""

        unit, changed = _clean_unit(get("unit"))
        if not unit:
            content = "，".join(v for v in row if v)[:60]
            findings.append(RosterEmptyUnit.make(row=str(line), content=content))
            continue
        if changed:
            findings.append(RosterInvisibleCharacters.make(row=str(line), unit=unit))
        if unit in seen:
            findings.append(RosterDuplicateUnit.make(row=str(line), unit=unit, first=seen[unit].line))
            continue
        key = normalize_label(unit)
        if key in similar:
            other = similar[key]
            findings.append(RosterSimilarUnit.make(row=str(line), unit=unit, first=other.line, other=other.unit))
        extra = {
            header[c] or f"第{c + 1}列": row[c]
            for c in range(len(row))
            if c not in columns.values() and row[c]
        }
        entry = RosterEntry(
            unit=unit,
            contact=get("contact") or None,
            phone=get("phone") or None,
            email=unicodedata.normalize("NFKC", get("email")).strip() or None,
            extra=extra,
            line=line,
        )
        for address in entry.emails:
            if not _EMAIL.match(address):
                findings.append(RosterBadEmail.make(row=str(line), unit=unit, email=address))
        seen[unit] = entry
        similar.setdefault(key, entry)
        entries.append(entry)
    if not entries and not findings:
        findings.append(RosterEmpty.make(name=name))
    return entries, findings


class _Unreadable(Exception):
    pass


def _find_header(rows: list[list[Any]]) -> tuple[int | None, dict[str, int]]:
    synonyms = _synonyms()
    for index, row in enumerate(rows[: int(_config().get("header_search_rows", 10))]):
        best: dict[str, tuple[int, int]] = {}  # field -> (rank of its header, column)
        for col, value in enumerate(row):
            match = synonyms.get(_header_key(_text(value)))
            if match and (match[0] not in best or match[1] < best[match[0]][0]):
                best[match[0]] = (match[1], col)
        if "unit" in best:  # 单位名称 beats 部门 wherever they stand: the earlier header in the list wins
            return index, {name: col for name, (_, col) in best.items()}
    return None, {}


def _headers_found(rows: list[list[Any]]) -> str:
    """What the roster has where its header should be: the first non-empty row's cells."""
    for row in rows[: int(_config().get("header_search_rows", 10))]:
        cells = [_text(v) for v in row if _text(v)]
        if cells:
            shown = "、".join(f"“{c[:20]}”" for c in cells[:8]) + ("……" if len(cells) > 8 else "")
            return f"表头行中只有：{shown}"
    return "前几行都是空的"


def _accepted_unit_headers() -> str:
    return "、".join(_config()["columns"]["unit"][1:9]) + "等"


def _read_rows(path: Path) -> tuple[list[list[Any]], list[Finding]]:
    try:
        if not path.is_file():
            raise _Unreadable("文件不存在" if not path.exists() else "不是一个文件")
        size = path.stat().st_size
        if size == 0:
            raise _Unreadable("文件是空的")
        if size > MAX_ROSTER_BYTES:
            raise _Unreadable(f"文件太大（{size // 1024 // 1024} MB），名册不应超过 {MAX_ROSTER_BYTES // 1024 // 1024} MB")
        data = path.read_bytes()
    except OSError as exc:
        from toolkit.workbook.source.safety import _os_reason

        raise _Unreadable(f"无法打开文件（{_os_reason(exc)}）") from None
    if path.suffix.lower() in SPREADSHEET_SUFFIXES or data[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):
        return _spreadsheet_rows(path)
    return _csv_rows(data), []


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _Unreadable("无法识别文件编码（请另存为 UTF-8 或 GBK 编码的 CSV，或 xlsx 表格）")


def _csv_rows(data: bytes) -> list[list[str]]:
    text = _decode(data)
    if "\x00" in text[:4096] and not text.strip("\x00"):
        raise _Unreadable("文件内容不是文字表格")
    sample = text[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;，").delimiter
    except csv.Error:
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    try:
        rows = []
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(row)
            if len(rows) > MAX_ROWS:
                raise _Unreadable(f"行数超过 {MAX_ROWS} 行")
        return rows
    except csv.Error as exc:
        raise _Unreadable("CSV 格式有误（有引号不配对或无法识别的字符），请用Excel或WPS打开后另存为CSV或xlsx") from None


def _spreadsheet_rows(path: Path) -> tuple[list[list[Any]], list[Finding]]:
    """The rows of the first sheet with a 单位名称 header (else the first sheet), read through
    the workbook reader's hardened source (zip, XML and size checks; see docs/security.md), and
    the reading notes of that sheet (``sheet-truncated``: rows past the cap are not read, the
    same rule as ``check``)."""
    from toolkit.workbook.source import SourceError, open_source

    try:
        with open_source(path) as source:
            first: tuple[list[list[Any]], list[Finding]] | None = None
            for name in source.sheet_names:
                cells = source.cells(name)
                notes = [n for n in source.notes if n.sheet == name]
                height = min(MAX_ROWS, max((r for r, _ in cells), default=0))
                width = max((c for _, c in cells), default=0)
                rows = [[cells.get((r, c)) for c in range(1, width + 1)] for r in range(1, height + 1)]
                if first is None:
                    first = rows, notes
                if _find_header(rows)[0] is not None:
                    return rows, notes
            return first or ([], [])
    except SourceError as exc:
        raise _Unreadable(getattr(exc, "reason", "") or exc.message) from None
