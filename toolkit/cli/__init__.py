"""The ``nianbao`` command: a thin typer layer over the library.

Each command lives in its own module under toolkit/cli/ and registers itself on ``app``.
Help pages and usage errors are Chinese (toolkit/cli/usage.py); exit codes, shared options and
the handling of errors are in toolkit/cli/common.py: 0 success, 1 data problems found (or a file
failed), 2 wrong usage, 3 internal error, 130 interrupted.
"""

from __future__ import annotations

from typing import Any

import typer

from toolkit.cli.usage import NianbaoCommand, NianbaoGroup


class _Typer(typer.Typer):
    """Every command is a :class:`NianbaoCommand` (Chinese help)."""

    def command(self, *args: Any, cls: Any = None, **kwargs: Any) -> Any:
        return super().command(*args, cls=cls or NianbaoCommand, **kwargs)


app = _Typer(
    name="nianbao",
    cls=NianbaoGroup,
    help="年报工具箱：政府信息公开工作年度报告的标准填报表、校验与报告生成。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from toolkit import __version__

        typer.echo(f"nianbao {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="显示版本号并退出。"),
    debug: bool = typer.Option(False, "--debug", help="程序内部出错时显示详细信息（同环境变量 NIANBAO_DEBUG=1）。"),
) -> None:
    """年报工具箱：政府信息公开工作年度报告的标准填报表、校验与报告生成。"""
    from toolkit.cli.common import state

    state.debug = debug


from toolkit.cli import formats_cmd  # noqa: E402,F401  (registers commands)
from toolkit.cli import blank, demo  # noqa: E402,F401  (issue 2: blank workbooks, demo)
from toolkit.cli import send, status, history  # noqa: E402,F401  (issue 8: the round)
from toolkit.cli import render  # noqa: E402,F401  (issue 4: report drafts)
from toolkit.cli import check  # noqa: E402,F401  (issue 3: check returned workbooks)
from toolkit.cli import import_  # noqa: E402,F401  (issue 5: import published reports)
from toolkit.cli import serve  # noqa: E402,F401  (issue 15: the web portal)
from toolkit.cli import audit  # noqa: E402,F401  (issue 16: audit published reports)


def main() -> None:
    import sys

    for stream in (sys.stdout, sys.stderr):  # a file name that is not valid UTF-8 prints as "?", never a crash
        try:
            stream.reconfigure(errors="replace")
        except (AttributeError, ValueError):
            pass
    app()
