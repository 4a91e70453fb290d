"""The ``nianbao`` command's own words in Chinese: ``--help`` pages and usage errors.

Typer (and the click it carries) writes help and usage errors in English; :class:`NianbaoGroup`
and :class:`NianbaoCommand` replace both at their source, from ``templates/cli.json``, laid out
by :mod:`toolkit.cli.text`. Importing this module does not import rich (``nianbao --help`` stays
fast).
"""

from __future__ import annotations

import difflib
import re
import sys
from typing import Any, Sequence

from typer import _click as click
from typer._click import exceptions as click_errors
from typer.core import TyperCommand, TyperGroup

from toolkit.cli.params import use_plain_conversion
from toolkit.cli.text import option_names, page, paragraphs, texts, usage_text


# ---------------------------------------------------------------- help pages


def _type_name(param: Any) -> str:
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    for arg in getattr(annotation, "__args__", ()) or ():  # Optional[X], List[X]
        if arg is not type(None):
            annotation = arg
            break
    return getattr(annotation, "__name__", str(annotation))


def _long_opt(param: Any) -> str:
    return next((o for o in param.opts if o.startswith("--")), param.opts[0] if param.opts else param.name)


def metavar(param: Any) -> str:
    """The Chinese placeholder of an option's value or of an argument (``年度``, ``路径...``)."""
    if getattr(param, "metavar", None):
        return param.metavar
    words = texts()["metavars"]
    key = _long_opt(param) if param.param_type_name == "option" else param.name
    name = words["by_name"].get(key) or words["by_type"].get(_type_name(param), words["fallback"])
    return name + ("..." if param.nargs == -1 or getattr(param, "multiple", False) else "")


def _is_flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False))


def _term(param: Any) -> str:
    if param.param_type_name == "argument":
        return metavar(param)
    names = option_names(param.opts, param.secondary_opts)
    return names if _is_flag(param) else f"{names} {metavar(param)}"


def _description(param: Any) -> str:
    words = texts()["help"]
    if param.name == "help":
        return words["help_option"]
    text = param.help or ""
    if param.required:
        text += words["required"]
    elif getattr(param, "show_default", False) and not _is_flag(param) and param.default not in (None, "", ()):
        default = param.default
        if isinstance(default, (list, tuple)):
            default = " ".join(str(d) for d in default)
        if str(default) not in text:
            text += words["default"].format(value=default)
    return text


def usage_line(command: click.Command, ctx: click.Context) -> str:
    """``用法：nianbao check [选项] 路径...``."""
    arguments = [metavar(p) if p.required else f"[{metavar(p)}]"
                 for p in command.get_params(ctx) if p.param_type_name == "argument"]
    return usage_text(ctx.command_path, arguments, isinstance(command, TyperGroup))


def _short_help(command: click.Command) -> str:
    if command.short_help:
        return command.short_help
    first = paragraphs(command.help or "")
    return first[0] if first else ""


def help_text(command: click.Command, ctx: click.Context) -> str:
    """The whole ``--help`` page of a command or of ``nianbao`` itself."""
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    rows = {kind: [(_term(p), _description(p)) for p in params if p.param_type_name == kind]
            for kind in ("argument", "option")}
    commands = None
    if isinstance(command, TyperGroup):
        commands = [(name, _short_help(sub)) for name, sub in command.commands.items() if not sub.hidden]
    return page(usage_line(command, ctx), command.help or "", rows["argument"], rows["option"], commands,
                ctx.command_path)


# ---------------------------------------------------------------- usage errors


def _given_value(args: Sequence[str], param: Any) -> str | None:
    """The value the user typed for ``param`` (the parser does not keep it)."""
    opts = list(getattr(param, "opts", ()))
    for i, arg in enumerate(args):
        for opt in opts:
            if arg == opt and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(opt + "="):
                return arg[len(opt) + 1:]
    return None


def _option_names(ctx: click.Context | None) -> list[str]:
    if ctx is None:
        return []
    return [o for p in ctx.command.get_params(ctx) if p.param_type_name == "option" for o in p.opts]


def _param_label(param: Any) -> str:
    """``--to（-t）`` for an option, the metavar for an argument."""
    if param.param_type_name == "argument":
        return metavar(param).rstrip(".")
    long = _long_opt(param)
    short = [o for o in param.opts if o != long]
    return long + (f"（{'、'.join(short)}）" if short else "")


def error_message(error: click_errors.UsageError, args: Sequence[str]) -> str:
    """The Chinese text of a usage error raised by the command-line parser (or by
    :func:`toolkit.cli.common.usage`, whose message is already Chinese)."""
    words = texts()["errors"]
    ctx = error.ctx
    if isinstance(error, ChineseUsageError):
        return error.message
    if isinstance(error, click_errors.NoSuchOption):
        text = words["no_such_option"].format(option=error.option_name)
        close = list(error.possibilities or []) or difflib.get_close_matches(
            error.option_name, _option_names(ctx), n=3, cutoff=0.6)
        if close:
            text += words["did_you_mean"].format(options="、".join(sorted(close)))
        return text
    if isinstance(error, click_errors.MissingParameter) and error.param is not None:
        key = "missing_argument" if error.param.param_type_name == "argument" else "missing_option"
        return words[key].format(option=_param_label(error.param), argument=_param_label(error.param))
    if isinstance(error, click_errors.BadParameter) and error.param is not None:
        kinds = words["kinds"]
        type_name = _type_name(error.param)
        kind = kinds.get(type_name, kinds["fallback"])
        value = _given_value(args, error.param)
        option = _param_label(error.param)
        if value is None:
            return words["invalid_value_unknown"].format(option=option, kind=kind)
        examples = texts()["examples"]
        example = examples["by_name"].get(_long_opt(error.param)) or examples["by_type"].get(type_name)
        example = f"{_long_opt(error.param)} {example}" if example else metavar(error.param)
        return words["invalid_value"].format(option=option, value=value, kind=kind, example=example)
    message = error.message or ""
    if isinstance(error, click_errors.BadOptionUsage):
        if "requires" in message:
            return words["needs_value"].format(option=error.option_name)
        if "does not take" in message:
            return words["takes_no_value"].format(option=error.option_name)
    commands = list(getattr(ctx.command, "commands", {}) or {}) if ctx is not None else []
    match = re.match(r"No such command '(.*?)'\.", message)
    if match:
        text = words["no_such_command"].format(name=match.group(1), commands="、".join(commands))
        close = difflib.get_close_matches(match.group(1), commands, n=3, cutoff=0.6)
        return text + (words["did_you_mean"].format(options="、".join(close)) if close else "")
    if message.startswith("Missing command"):
        return words["missing_command"].format(commands="、".join(commands))
    match = re.match(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", message)
    if match:
        return words["extra_arguments"].format(arguments=match.group(1))
    return words["unknown"]


def show_usage_error(error: click_errors.UsageError, args: Sequence[str], root: Any = None) -> None:
    """Print a usage error: what is wrong, the command's usage line, where to read more
    (``root``: the ``nianbao`` group, to name the command when the parser left no context)."""
    words = texts()["errors"]
    lines = [words["prefix"] + error_message(error, args)]
    ctx = error.ctx
    if ctx is not None:
        lines.append(usage_line(ctx.command, ctx))
        lines.append(words["hint"].format(command=ctx.command_path))
    else:
        names = list(getattr(root, "commands", {}) or {})
        command = next((a for a in args if a in names), None)
        lines.append(words["hint"].format(command="nianbao" + (f" {command}" if command else "")))
    click.echo("\n".join(lines), err=True)


class ChineseUsageError(click_errors.UsageError):
    """A usage error whose message is already Chinese (see :func:`toolkit.cli.common.usage`)."""


class _ChineseHelp:
    """``--help`` as :func:`help_text`, and plain option values converted without pydantic
    (:mod:`toolkit.cli.params`); mixed into the command and group classes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        use_plain_conversion(self.params)

    def get_help_option(self, ctx: click.Context) -> Any:
        option = super().get_help_option(ctx)
        use_plain_conversion([option] if option is not None else [])
        return option

    def format_help(self, ctx: click.Context, formatter: Any) -> None:
        formatter.write(help_text(self, ctx))


class NianbaoCommand(_ChineseHelp, TyperCommand):
    """A command of ``nianbao``."""


class NianbaoGroup(_ChineseHelp, TyperGroup):
    """``nianbao`` itself: Chinese help, and the one place where usage errors, the exit-code
    table and unexpected errors are handled for every command (:func:`toolkit.cli.common.run`)."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        from toolkit.cli.common import run

        args = list(sys.argv[1:] if args is None else args)
        code = run(lambda: TyperGroup.main(self, args, "nianbao", complete_var, standalone_mode=False, **extra),
                   args, self)
        if standalone_mode:
            sys.exit(code)
        return code
