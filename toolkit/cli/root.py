"""``nianbao`` itself as a typer application: its own flags, and its commands loaded as needed.

Each command's module (listed in :data:`toolkit.cli.commands.COMMANDS`) registers the command on
``app`` when it is imported. ``app``'s group imports a command's module and builds the command
the first time it is asked for: ``nianbao check`` imports and builds ``check`` alone, and a help
page or usage error that lists the commands builds them all. :func:`load_all` imports every
command's module (``toolkit.cli.app`` is ``app`` with all of them registered).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import MutableMapping
from typing import Any, Callable, Iterator

import typer
from typer._click import Command
from typer.main import get_command_from_info

from toolkit.cli.commands import ABOUT, COMMANDS, HELP_OPTIONS, PROG, ROOT_OPTIONS
from toolkit.cli.usage import NianbaoCommand, NianbaoGroup


class _Typer(typer.Typer):
    """Every command is a :class:`NianbaoCommand` (Chinese help) of the table of commands."""

    def command(self, name: str, *, cls: Any = None, **kwargs: Any) -> Callable[[Callable], Callable]:
        """Register the command ``name`` of :data:`COMMANDS`; its help is its summary there, then
        the function's docstring."""
        def register(func: Callable) -> Callable:
            help_text = "\n\n".join(filter(None, (COMMANDS[name].summary, inspect.getdoc(func))))
            return typer.Typer.command(self, name, cls=cls or NianbaoCommand, help=help_text, **kwargs)(func)

        return register


class _Commands(MutableMapping):
    """The group's commands by name, in :data:`COMMANDS`' order: those built, and the others of
    :data:`COMMANDS`, each built when it is first looked up."""

    def __init__(self, built: dict[str, Command]):
        self._built = dict(built)
        self._names = list(COMMANDS) + [name for name in built if name not in COMMANDS]

    def __getitem__(self, name: str) -> Command:
        if name not in self._built:
            if name not in self._names:
                raise KeyError(name)
            self._built[name] = _build(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Command) -> None:
        if name not in self._names:
            self._names.append(name)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        self._names.remove(name)
        self._built.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)


class _Root(NianbaoGroup):
    """``nianbao``'s group, its commands built as they are looked up."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands = _Commands(dict(self.commands))


def _build(name: str) -> Command:
    """The click command of ``name``, its module imported (which registers it on ``app``)."""
    importlib.import_module(COMMANDS[name].module)
    info = next(info for info in app.registered_commands if info.name == name)
    return get_command_from_info(info, pretty_exceptions_short=app.pretty_exceptions_short,
                                 rich_markup_mode=app.rich_markup_mode)


def load_all() -> None:
    """Import every command's module (each registers its command on ``app``)."""
    for command in COMMANDS.values():
        importlib.import_module(command.module)


app = _Typer(
    name=PROG,
    cls=_Root,
    help=ABOUT,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": list(HELP_OPTIONS)},
)


def _version(value: bool) -> None:
    if value:
        from toolkit import __version__

        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit()


def _root_option(name: str, **kwargs: Any) -> Any:
    option, help_text = ROOT_OPTIONS[name]
    return typer.Option(False, option, help=help_text, **kwargs)


@app.callback()
def _root(version: bool = _root_option("version", callback=_version, is_eager=True),
          debug: bool = _root_option("debug")) -> None:
    """Before the command runs: ``--debug`` for this run (``--version`` has answered already)."""
    from toolkit.cli.common import state

    state.debug = debug
