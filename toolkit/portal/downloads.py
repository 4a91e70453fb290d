"""What the portal hands out, each as ``(file name, bytes)`` (None when there is nothing yet):
blank workbooks, the annotated copy of a unit's current file, the summary workbook, the county
roll-up, report drafts, a unit's history chart, the request and findings mails; and the official
grids of a unit's current data with its findings placed on their cells."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from toolkit.model import FileReport


class Downloads:
    """Portal methods for what it hands out (mixed into :class:`toolkit.portal.Portal`)."""

    def blank(self, unit: str) -> tuple[str, bytes]:
        from toolkit.blank import blank_file_name, unit_prefill
        from toolkit.formats import format_for_year
        from toolkit.workbook.writer import workbook_bytes

        fmt = format_for_year(self.year)
        data = unit_prefill(self._entry(unit), fmt, self.year)
        return blank_file_name(unit, self.year), workbook_bytes(fmt, unit=unit, year=self.year, data=data)

    def blanks_zip(self) -> tuple[str, bytes]:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
            for unit in self.units():
                out.writestr(*self.blank(unit))
        return f"{self.year}年度填报表.zip", buffer.getvalue()

    def annotated(self, unit: str) -> tuple[str, bytes] | None:
        """The unit's current file with every finding marked on its cell (workbooks only)."""
        from toolkit.archive import Archive
        from toolkit.batch import annotated_name
        from toolkit.workbook.annotate import annotate_workbook

        stored = self._stored(unit)
        if stored is None or not stored.submission.file_hash:
            return None
        with Archive(self.archive_path) as arch:
            content = arch.file_content(stored.submission.file_hash)
        if content is None:
            return None
        with tempfile.TemporaryDirectory(prefix="nianbao-portal-") as tmp:
            source = Path(tmp) / (stored.submission.file_name or "填报表.xlsx")
            source.write_bytes(content)
            target = Path(tmp) / "out" / annotated_name(source)
            target.parent.mkdir()
            try:
                annotate_workbook(source, target, stored.findings, data=stored.data)
            except Exception:  # noqa: BLE001 - a file that cannot be annotated (not a workbook) has no copy
                return None
            return f"标注_{target.name}", target.read_bytes()

    def _current_files(self) -> list[FileReport]:
        from toolkit.archive import Archive

        with Archive(self.archive_path) as arch:
            current = arch.reports(year=self.year)
        return [FileReport(s.submission.file_name or s.unit, list(s.findings), s.data)
                for s in current if self.roster_unit(s.unit)]

    def summary(self) -> tuple[str, bytes]:
        """The summary workbook (files, findings, county totals) of every roster unit's current file."""
        from toolkit.model import Report
        from toolkit.workbook.summary import write_summary

        with tempfile.TemporaryDirectory(prefix="nianbao-portal-") as tmp:
            path = write_summary(Report(self._current_files()), Path(tmp) / "summary.xlsx")
            return f"{self.year}年度校验汇总表.xlsx", path.read_bytes()

    def rollup(self) -> tuple[str, bytes]:
        """The county's standard workbook filled with the sum of every roster unit's current data
        (the files without errors, as the summary's 全县合计 counts them)."""
        from toolkit.formats import format_for_year
        from toolkit.model import ReportData
        from toolkit.workbook.summary import county_totals
        from toolkit.workbook.writer import workbook_bytes

        fmt = format_for_year(self.year)
        sums, used = county_totals(self._current_files(), fmt)
        name = f"全县合计（{len(used)}个单位）"
        data = ReportData(format=fmt.id, unit=name, year=self.year, values={c.id: sums[c.id] for c in fmt.input_cells})
        return f"{self.year}年度全县合计.xlsx", workbook_bytes(fmt, unit=name, year=self.year, data=data)

    def draft(self, unit: str, to: str) -> tuple[str, bytes] | None:
        """The unit's report draft (html, docx, pdf, md, txt); marked 草稿（未通过校验） while it has errors."""
        from toolkit.files import safe_filename
        from toolkit.render.api import render_report

        stored = self._stored(unit)
        if stored is None or stored.data is None:
            return None
        content = render_report(stored.data, to, draft=bool(stored.errors))
        body = content.encode("utf-8") if isinstance(content, str) else content
        return safe_filename(unit, f"_{self.year}年度政府信息公开工作年度报告.{to}"), body

    def history_svg(self, unit: str) -> tuple[str, bytes] | None:
        from toolkit.round import draw_history_chart, unit_history
        from toolkit.round.common import RoundError

        try:
            history = unit_history(self.archive_path, unit)
        except RoundError:
            return None
        with tempfile.TemporaryDirectory(prefix="nianbao-portal-") as tmp:
            path = Path(tmp) / "history.svg"
            draw_history_chart(history, path)
            return f"{unit}_历年数据.svg", path.read_bytes()

    # ---------------------------------------------------------------- mails

    def links(self, base_url: str | None = None) -> dict[str, str]:
        """Each roster unit's private page (``base_url`` defaults to the one the portal runs at)."""
        from toolkit.portal.access import unit_link

        base = base_url or self.base_url
        return {unit: unit_link(base, self.secret, unit, self.year) for unit in self.units()} if base else {}

    def request_mails(self) -> tuple[str, bytes]:
        """The request mails (one .eml per unit with an 邮箱: its blank and its private link) as a .zip."""
        from toolkit.round import send_requests

        with tempfile.TemporaryDirectory(prefix="nianbao-portal-") as tmp:
            send_requests(self.entries, year=self.year, outbox=Path(tmp) / "out", log=Path(tmp) / "log.jsonl",
                          links=self.links())
            return f"{self.year}年度填报通知邮件.zip", _zip_folder(Path(tmp) / "out")

    def findings_mails(self) -> tuple[str, bytes]:
        """The findings mails of the units whose current file has errors, as a .zip of .eml."""
        from toolkit.round import send_findings

        with tempfile.TemporaryDirectory(prefix="nianbao-portal-") as tmp:
            send_findings(self.archive_path, roster=self.entries, outbox=Path(tmp) / "out", year=self.year,
                          log=Path(tmp) / "log.jsonl")
            return f"{self.year}年度校验意见邮件.zip", _zip_folder(Path(tmp) / "out")

    def configure_mail(self, smtp: Any, sender: str) -> None:
        """The SMTP server (toolkit.mail.SmtpSettings) and sender address :meth:`send_mails` uses."""
        self.mail = (smtp, sender)

    def send_mails(self, kind: str) -> Any:
        """Send the request mails (``requests``) or the findings mails (``findings``) through the
        configured SMTP server; the outbox and its log beside the archive keep a unit from getting
        the same mail twice. Returns the :class:`toolkit.round.SendReport`."""
        from toolkit.round import send_findings, send_requests

        if self.mail is None:
            raise ValueError("启动平台时没有配置邮件服务器（--smtp、--from）")
        smtp, sender = self.mail
        outbox = self.archive_path.with_name(self.archive_path.name + ".outbox") / kind
        if kind == "requests":
            return send_requests(self.entries, year=self.year, outbox=outbox, smtp=smtp, sender=sender,
                                 links=self.links())
        return send_findings(self.archive_path, roster=self.entries, outbox=outbox, year=self.year, smtp=smtp,
                             sender=sender)

    # ---------------------------------------------------------------- the official grids

    def grids(self, unit: str) -> list[dict[str, Any]]:
        """表二/表三/表四 of the unit's current data as the drafts draw them
        (toolkit.render.context.table_context), each value cell with its A1 address and the
        indexes of the findings (in :meth:`current_findings`) on it."""
        from toolkit.formats import format_for_year, load_format
        from toolkit.grid import VALUE
        from toolkit.layout import cell_addresses
        from toolkit.render.context import table_context

        stored = self._stored(unit)
        if stored is None or stored.data is None:
            return []
        data = stored.data
        try:
            fmt = load_format(data.format) if data.format else format_for_year(self.year)
        except Exception:  # noqa: BLE001 - a format this toolkit no longer knows: the year's
            fmt = format_for_year(self.year)
        by_place: dict[tuple[str, str], list[int]] = {}
        for i, f in enumerate(stored.findings):
            for sheet, cell in ((f.sheet, f.cell), *f.related):
                if sheet and cell:
                    by_place.setdefault((sheet, cell.replace("$", "").upper()), []).append(i)
        addresses = cell_addresses(fmt)
        out = []
        for table in fmt.tables:
            context = table_context(fmt, table.id, data.values)
            for cell in (c for row in context["rows"] for c in row):
                address = addresses.get(cell["cell_id"]) if cell["role"] == VALUE else None
                cell["a1"] = address.a1 if address else ""
                cell["findings"] = by_place.get((address.sheet, address.a1), []) if address else []
            out.append({"id": table.id, "sheet": table.sheet, "title": table.caption or table.sheet,
                        "rows": context["rows"], "n_cols": context["n_cols"]})
        return out


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.glob("**/*.eml")) if folder.is_dir() else []:
            out.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()
