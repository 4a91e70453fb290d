"""Render reports: ReportData -> html/docx/pdf/md/txt, and files (workbooks, data JSON) -> output files.

PDF is the Word draft converted by LibreOffice (toolkit.render.pdf); without LibreOffice a PDF
request raises :class:`toolkit.render.pdf.RenderSetupError` before any file is read."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from toolkit.files import safe_filename, unique_path, write_bytes_atomic
from toolkit.model import ERROR, Finding, ReportData
from toolkit.parallel import AUTO
from toolkit.render.context import DOCX_FILE, RenderError, TemplateSet, build_context

FORMATS = {"html": ".html", "docx": ".docx", "pdf": ".pdf", "md": ".md", "txt": ".txt"}
TEMPLATE_NAMES = {"html": "report.html.j2", "md": "report.md.j2", "txt": "report.txt.j2"}
DATA_SUFFIXES = {".json"}
PDF_BATCH = 100  # Word drafts converted per LibreOffice start


@dataclass
class RenderResult:
    """What happened to one source: ``out`` is the written file (None when nothing was written);
    ``error`` says why not (Chinese); ``draft`` is True when it was rendered despite errors;
    ``defaults_used`` lists the narrative parts that were blank and got the default text."""

    source: Path
    to: str
    out: Path | None = None
    findings: list[Finding] = field(default_factory=list)
    draft: bool = False
    error: str | None = None
    defaults_used: list[str] = field(default_factory=list)
    data: ReportData | None = None

    @property
    def ok(self) -> bool:
        return self.out is not None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]


def _check_to(to: str) -> str:
    key = (to or "").lower().lstrip(".")
    if key not in FORMATS:
        raise ValueError(f"不支持的输出格式：{to}（可选：{'、'.join(FORMATS)}）")
    return key


def render_report(data: ReportData, to: str, *, template_dir: Path | None = None,
                  draft: bool = False) -> bytes | str:
    """The report of ``data`` as ``to``: "html", "md", "txt" (str) or "docx", "pdf" (bytes).

    ``template_dir`` holds a county's own templates (any of report.html.j2, report.md.j2,
    report.txt.j2, report.css, defaults.yaml, docx.yaml); missing ones fall back to the built-in
    templates. ``draft`` marks the report 草稿（未通过校验） on every page. Raises
    :class:`RenderError` (Chinese message) for a broken template or an unknown format, and its
    :class:`~toolkit.render.pdf.RenderSetupError` for "pdf" without LibreOffice.
    """
    to = _check_to(to)
    if to == "pdf":
        from toolkit.render.pdf import docx_to_pdf, require_soffice

        require_soffice()
        return docx_to_pdf(_render(data, to, TemplateSet(template_dir), draft)[0])
    return _render(data, to, TemplateSet(template_dir), draft)[0]


def _render(data: ReportData, to: str, templates: TemplateSet, draft: bool) -> tuple[bytes | str, list[str]]:
    """``to``'s text or bytes, and the parts that got default text; "pdf" gives the Word draft
    (converted by the caller, many at once)."""
    ctx = build_context(data, templates=templates, draft=draft)
    if to in ("docx", "pdf"):
        from toolkit.render.docx import render_docx

        try:
            settings = templates.settings(DOCX_FILE)
            return render_docx(ctx, settings), ctx["defaults_used"]
        except (KeyError, TypeError, ValueError) as exc:
            raise RenderError(f"Word 版式设置（{DOCX_FILE}）有误：{exc}") from None
    return templates.render(TEMPLATE_NAMES[to], ctx, html=(to == "html")), ctx["defaults_used"]


# ---------------------------------------------------------------- sources


def load_source(source: Path) -> tuple[ReportData | None, list[Finding]]:
    """Read and check a workbook (:func:`toolkit.batch.check_file`) or a data JSON; return the
    data (None when it could not be read) and every finding: reading problems, then the checks."""
    source = Path(source)
    suffix = source.suffix.lower()
    if suffix in DATA_SUFFIXES:
        try:
            payload = json.loads(source.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RenderError(f"无法读取数据文件：{exc}") from None
        if isinstance(payload, dict) and "format" not in payload and isinstance(payload.get("data"), dict):
            payload = payload["data"]
        if not isinstance(payload, dict) or "format" not in payload:
            raise RenderError("数据文件不是报告数据（应含 format、unit、year、values、narrative）")
        try:
            data = ReportData.from_dict(payload)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise RenderError(f"数据文件内容有误：{exc}") from None
        from toolkit.checks.engine import check_data
        from toolkit.formats import FormatError

        try:
            return data, check_data(data)
        except FormatError as exc:
            raise RenderError(str(exc)) from None
    from toolkit.batch import check_file

    report = check_file(source)
    return report.data, list(report.findings)


def default_out_name(data: ReportData | None, source: Path, to: str) -> str:
    """The output file name: the report title (unit and year), else the source's name."""
    suffix = FORMATS[to]
    if data is not None and data.unit and data.year:
        return safe_filename(f"{data.unit}{data.year}年政府信息公开工作年度报告", suffix)
    return safe_filename(source.stem, suffix)


def render_file(source: Path, to: str, out: Path | None = None, *, force: bool = False,
                template_dir: Path | None = None) -> RenderResult:
    """Render one workbook or data JSON to ``out`` (default: the report title as file name, in
    the source's folder), written atomically.

    The source is checked first; with error findings nothing is written unless ``force``, and
    then the output is marked 草稿（未通过校验）. Problems are reported in the result, never
    raised (except a bad ``to``, and ``RenderSetupError`` for "pdf" without LibreOffice).
    """
    to = _check_to(to)
    _require_tools(to)
    source = Path(source)
    try:
        templates = TemplateSet(template_dir)
    except RenderError as exc:
        return RenderResult(source=source, to=to, error=str(exc))

    def target(data: ReportData | None) -> Path:
        return Path(out) if out is not None else source.parent / default_out_name(data, source, to)

    return _render_source(source, to, target, force, templates)


def _render_source(source: Path, to: str, target_for: Callable[[ReportData | None], Path], force: bool,
                   templates: TemplateSet) -> RenderResult:
    result, content = _prepare(source, to, force, templates)
    [(result, content)] = _to_pdf([(result, content)]) if to == "pdf" else [(result, content)]
    return _write(result, content, target_for)


def _require_tools(to: str) -> None:
    if to == "pdf":
        from toolkit.render.pdf import require_soffice

        require_soffice()


def _to_pdf(prepared: list[tuple[RenderResult, bytes | None]]) -> list[tuple[RenderResult, bytes | None]]:
    """The Word drafts of ``prepared`` converted to PDF by one LibreOffice start; a draft that
    does not convert becomes its result's error."""
    from toolkit.render.pdf import docx_to_pdf_many

    contents = [content for _, content in prepared]
    converted = [pdf for i in range(0, len(contents), PDF_BATCH) for pdf in docx_to_pdf_many(contents[i:i + PDF_BATCH])]
    out = []
    for (result, _), pdf in zip(prepared, converted):
        if isinstance(pdf, str):
            result.error, pdf = pdf, None
        out.append((result, pdf))
    return out


def _prepare(source: Path, to: str, force: bool, templates: TemplateSet) -> tuple[RenderResult, bytes | None]:
    """Read and check ``source`` and render it: the result so far and the output's bytes (None
    when it is not to be written)."""
    result = RenderResult(source=source, to=to)
    try:
        data, result.findings = load_source(source)
    except RenderError as exc:
        result.error = str(exc)
        return result, None
    except OSError as exc:
        result.error = f"无法读取文件：{exc.strerror or exc}"
        return result, None
    except Exception as exc:  # a reader's fatal error on a broken file: report it, go on
        result.error = f"无法读取文件：{exc}"
        return result, None
    result.data = data
    if data is None:
        result.error = "无法读取报告数据，未生成报告"
        return result, None
    if result.errors and not force:
        result.error = f"有{len(result.errors)}个错误，未生成报告（可用 --force 生成草稿）"
        return result, None
    result.draft = bool(result.errors)
    try:
        content, result.defaults_used = _render(data, to, templates, result.draft)
    except RenderError as exc:
        result.error = str(exc)
        return result, None
    return result, content if isinstance(content, bytes) else content.encode("utf-8")


def _write(result: RenderResult, content: bytes | None, target_for: Callable[[ReportData | None], Path]
           ) -> RenderResult:
    if content is None:
        return result
    try:
        target = target_for(result.data)
        if target.exists() and target.resolve() == result.source.resolve():
            result.error = "输出文件与源文件相同，未生成报告"
            return result
        write_bytes_atomic(target, content)
        result.out = target
    except RenderError as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"无法写入文件：{exc.strerror or exc}"
    return result


def _prepare_one(context: tuple[str, bool, TemplateSet], source: Path) -> tuple[RenderResult, bytes | None]:
    to, force, templates = context
    if not source.is_file():
        return RenderResult(source=source, to=to, error="文件不存在"), None
    return _prepare(source, to, force, templates)


def expand_sources(sources: Iterable[Path]) -> list[Path]:
    """Files as given; a folder stands for every workbook and data JSON directly in it (sorted,
    skipping hidden files and Office lock files ``~$…``; not the reports rendered into it)."""
    from toolkit.workbook import WORKBOOK_SUFFIXES

    suffixes = {s.lower() for s in WORKBOOK_SUFFIXES} | DATA_SUFFIXES
    out: list[Path] = []
    for source in map(Path, sources):
        if source.is_dir():
            out.extend(sorted(p for p in source.iterdir()
                              if p.is_file() and p.suffix.lower() in suffixes
                              and not p.name.startswith((".", "~$"))))
        else:
            out.append(source)
    return out


def render_many(sources: Iterable[Path], to: str, out_dir: Path | None = None, *, force: bool = False,
                template_dir: Path | None = None, workers: int | str | None = AUTO) -> list[RenderResult]:
    """Render every source (folders expanded, see :func:`expand_sources`); one result each, in
    order. Outputs go to ``out_dir`` (default: beside each source) under the report title, with
    ``_2``, ``_3``… when two sources would get the same name. ``workers``: processes reading and
    rendering ("auto": one per CPU for a big batch, see :func:`toolkit.parallel.resolve_workers`);
    the files are written here, in order."""
    from toolkit.parallel import ordered_map, resolve_workers

    to = _check_to(to)
    _require_tools(to)
    files = expand_sources(sources)
    try:
        templates = TemplateSet(template_dir)
    except RenderError as exc:
        return [RenderResult(source=s, to=to, error=str(exc)) for s in files]
    taken: dict[Path, set[str]] = {}
    results = []
    def crashed(source: Path) -> tuple[RenderResult, None]:
        return RenderResult(source=source, to=to, error="读取该文件时进程意外退出"), None

    prepared = ordered_map(_prepare_one, files, context=(to, force, templates),
                           workers=resolve_workers(workers, len(files)), on_crash=crashed)
    if to == "pdf":
        prepared = _to_pdf(list(prepared))
    for source, (result, content) in zip(files, prepared):
        folder = Path(out_dir) if out_dir is not None else source.parent
        names = taken.setdefault(folder.resolve(), set())

        def target(data: ReportData | None, folder: Path = folder, names: set[str] = names,
                   source: Path = source) -> Path:
            return unique_path(folder, default_out_name(data, source, to), names)

        results.append(_write(result, content, target))
    return results
