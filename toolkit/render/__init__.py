"""Render the publishable report draft (HTML, Word, PDF, Markdown, plain text) from ReportData.

    from toolkit.render import render_report, render_file, render_many
    html = render_report(data, "html")
    result = render_file(Path("某镇.xlsx"), "docx")   # checks first; refuses on errors unless force

Templates live in ``templates/report/`` (Jinja, sandboxed); ``template_dir`` overrides them file
by file. Every renderer uses one context (toolkit.render.context) built from the official grids.
"""

from toolkit.render.api import (
    FORMATS,
    RenderResult,
    default_out_name,
    expand_sources,
    load_source,
    render_file,
    render_many,
    render_report,
)
from toolkit.render.context import RenderError, TemplateSet, build_context
from toolkit.render.pdf import RenderSetupError

__all__ = [
    "FORMATS", "RenderError", "RenderResult", "RenderSetupError", "TemplateSet", "build_context", "default_out_name",
    "expand_sources", "load_source", "render_file", "render_many", "render_report",
]
