"""What every ``nianbao`` command shares: the options they have in common, the one usage
error, the one table that turns an exception into an exit code, and the one way an unexpected
error is reported (a Chinese line, exit code 3; the traceback only with ``--debug`` or
``NIANBAO_DEBUG=1``).

Exit codes (``templates/cli.json`` ``exit_meanings``; README "Exit codes"):
0 success, 1 data problems found or a file could not be read, written or made, 2 wrong usage
(including a roster, archive or findings file that cannot be used), 3 an internal error,
130 interrupted.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator, NoReturn, Optional, Sequence

import typer
from typer import _click as click
from typer._click import exceptions as click_errors
from typer._click import globals as click_globals

OK, PROBLEMS, USAGE, BUG, INTERRUPTED = 0, 1, 2, 3, 130
DEBUG_ENV = "NIANBAO_DEBUG"

# exception (module:name) -> exit code and the prefix of its one-line message; first match wins
EXIT_CODES: tuple[tuple[str, int, str], ...] = (
    ("toolkit.round:UnknownUnit", PROBLEMS, "错误："),
    ("toolkit.compare.sides:CompareInputError", PROBLEMS, "错误："),
    ("toolkit.batch:CheckSetupError", USAGE, "用法错误："),
    ("toolkit.importers.batch:ImportSetupError", USAGE, "用法错误："),
    ("toolkit.formats:FormatError", USAGE, "用法错误："),
    ("toolkit.archive:ArchiveError", USAGE, "错误："),
    ("toolkit.round:RoundError", USAGE, "错误："),
    ("toolkit.mail:MailError", USAGE, "错误："),
    ("toolkit.render.pdf:RenderSetupError", USAGE, "错误："),
    ("builtins:OSError", PROBLEMS, "错误："),
)


class _State:
    debug = False


state = _State()


def debug_requested() -> bool:
    return state.debug or os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def exit_code_for(exc: BaseException) -> tuple[int, str] | None:
    """The exit code and message prefix :data:`EXIT_CODES` gives ``exc``, or None (a bug)."""
    for where, code, prefix in EXIT_CODES:
        module_name, _, name = where.partition(":")
        module = sys.modules.get(module_name)  # not imported: nothing raised can be of it
        kind = getattr(module, name, None) if module is not None else None
        if isinstance(kind, type) and isinstance(exc, kind):
            return code, prefix
    return None


def describe(exc: BaseException) -> str:
    """One line for an expected error; an OSError names the file and the reason."""
    if isinstance(exc, OSError) and not type(exc).__module__.startswith("toolkit"):
        reason = exc.strerror or str(exc)
        where = exc.filename or ""
        return f"无法读写 {where}：{reason}" if where else f"无法读写文件：{reason}"
    return str(exc)


def run(call: Callable[[], Any], args: Sequence[str], root: Any = None) -> int:
    """Run the command line (``call``) and return its exit code: usage errors in Chinese (2),
    exceptions by :data:`EXIT_CODES`, anything else as an internal error (3)."""
    from toolkit.cli.text import texts
    from toolkit.cli.usage import show_usage_error

    state.debug = False
    try:
        result = call()
        return result if isinstance(result, int) else OK
    except click_errors.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help(), err=True)
        return USAGE
    except click_errors.UsageError as exc:
        show_usage_error(exc, args, root)
        return USAGE
    except typer.Abort:
        click.echo(texts()["errors"]["aborted"], err=True)
        return PROBLEMS
    except Exception as exc:  # noqa: BLE001 - the one place every command's errors end up
        known = exit_code_for(exc)
        if debug_requested():
            import traceback

            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        if known is not None:
            code, prefix = known
            click.echo(prefix + describe(exc), err=True)
            return code
        click.echo(texts()["bug"].format(kind=type(exc).__name__), err=True)
        return BUG


def usage(message: str) -> NoReturn:
    """Stop with a usage error (exit 2): ``message`` (Chinese), the usage line and a hint."""
    from toolkit.cli.usage import ChineseUsageError

    raise ChineseUsageError(message, click_globals.get_current_context(silent=True))


def fail(message: str, code: int = PROBLEMS) -> NoReturn:
    """Stop with ``错误：message`` on standard error and exit ``code``."""
    click.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def check_format_id(format_id: Optional[str]) -> None:
    """A usage error unless ``format_id`` is None or a known format."""
    if format_id is None:
        return
    from toolkit.formats import format_ids

    if format_id not in format_ids():
        usage(f"--format 只能是 {' 或 '.join(format_ids())}，而不是 {format_id}")


def print_json(payload: Any) -> None:
    """``payload`` as indented JSON on standard output, Chinese kept as it is."""
    from toolkit.json_text import dumps_indented

    sys.stdout.write(dumps_indented(payload) + "\n")
    sys.stdout.flush()


@contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C during a batch: one line on standard error (no output is left half-written: every
    file is written atomically) and exit 130."""
    try:
        yield
    except KeyboardInterrupt:
        from toolkit.cli.text import texts

        click.echo(texts()["interrupted"], err=True)
        raise typer.Exit(INTERRUPTED) from None


class PlainConsole:
    """Messages on a stream that is not a terminal (a file, a pipe, a log): each line as it is,
    without loading rich (a script checking one file starts that much sooner)."""

    is_terminal = False
    width = 10_000

    def __init__(self, stderr: bool = False):
        self._stderr = stderr

    def print(self, text: Any = "", *, markup: bool = False) -> None:
        stream = sys.stderr if self._stderr else sys.stdout
        stream.write(f"{text}\n")
        stream.flush()


def messages(stderr: bool = True) -> Any:
    """Where a command's messages go: :func:`console` on a terminal, else a :class:`PlainConsole`."""
    stream = sys.stderr if stderr else sys.stdout
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        terminal = False
    return console(stderr=stderr) if terminal else PlainConsole(stderr=stderr)


def console(stderr: bool = False) -> Any:
    """A rich console: the terminal's, or (to a file or pipe) one that never wraps a line."""
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False)
    if out.is_terminal:
        return out
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=10_000)


# ---------------------------------------------------------------- options several commands share


def year_option(help: str = "报告年度，如 2025。", *, required: bool = False) -> Any:
    return typer.Option(... if required else None, "--year", help=help)


def format_option(help: str = "强制使用的格式：2019 或 2021（默认按年度）。") -> Any:
    return typer.Option(None, "--format", help=help)


def roster_option(help: str = "单位名册（CSV 或 XLSX，需有“单位名称”列）。", *, required: bool = False) -> Any:
    return typer.Option(... if required else None, "--roster", help=help)


def archive_option(help: str = "年报档案文件（nianbao check --archive 写入的）。", *, required: bool = False) -> Any:
    return typer.Option(... if required else None, "--archive", help=help)


def json_option(help: str = "以 JSON 输出。") -> Any:
    return typer.Option(False, "--json", help=help)


def deadline_option(help: str = "报送截止日期，如 2026-01-15。") -> Any:
    return typer.Option(None, "--deadline", help=help)


CONTACT_OPTIONS = {
    "office": ("--contact-office", "县里负责此事的单位，写进填报说明（和邮件）。"),
    "name": ("--contact-name", "县里的联系人。"),
    "phone": ("--contact-phone", "县里的联系电话。"),
    "email": ("--contact-email", "县里的联系邮箱。"),
}


def contact_option(field: str) -> Any:
    """One of ``--contact-office/-name/-phone/-email`` (the county's contact, see :func:`contact_dict`)."""
    name, help_text = CONTACT_OPTIONS[field]
    return typer.Option(None, name, help=help_text)


def require_some(paths: Sequence[Any], what: str) -> None:
    """A usage error when none of ``paths`` exists (``what``: 要校验的文件, 要导入的报告 …)."""
    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    if missing and len(missing) == len(paths):
        usage(f"找不到{what}：" + "、".join(str(p) for p in missing))


def contact_dict(office: Optional[str], name: Optional[str], phone: Optional[str],
                 email: Optional[str]) -> Optional[dict[str, str]]:
    contact = {"office": office, "name": name, "phone": phone, "email": email}
    return {k: v for k, v in contact.items() if v} or None
