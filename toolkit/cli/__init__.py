"""The ``nianbao`` command: a thin typer layer over the library.

Each command lives in its own module under toolkit/cli/, listed in toolkit/cli/commands.py, and
registers itself on the typer application of toolkit/cli/root.py; ``app`` here is that
application with every command registered. Help pages and usage errors are Chinese
(toolkit/cli/usage.py, toolkit/cli/text.py); exit codes, shared options and the handling of
errors are in toolkit/cli/common.py: 0 success, 1 data problems found (or a file failed), 2 wrong
usage, 3 internal error, 130 interrupted.

:func:`main` prints ``nianbao --help`` without importing typer, and otherwise imports only the
command it runs.
"""

from __future__ import annotations

import sys
from typing import Any


def __getattr__(name: str) -> Any:
    if name == "app":
        from toolkit.cli.root import app, load_all

        load_all()
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Run ``nianbao`` with the command line's arguments."""
    for stream in (sys.stdout, sys.stderr):  # a file name that is not valid UTF-8 prints as "?", never a crash
        try:
            stream.reconfigure(errors="replace")
        except (AttributeError, ValueError):
            pass
    from toolkit.cli.commands import HELP_OPTIONS

    args = sys.argv[1:]
    if len(args) == 1 and args[0] in HELP_OPTIONS:
        from toolkit.cli.text import print_page, root_page

        print_page(root_page())
        sys.exit(0)
    _start_early(args)
    from toolkit.cli.root import app

    try:
        app()
    finally:
        import gc

        gc.freeze()  # what the run made is freed as the interpreter ends, not scanned once more for cycles first


def _start_early(args: list[str]) -> None:
    """Call the ``early`` function of the command ``args`` name (toolkit.cli.commands) with the
    arguments after it that are not options. Its errors are left to the command, which meets
    them again where they are reported."""
    import importlib

    from toolkit.cli.commands import COMMANDS

    words = [a for a in args if not a.startswith("-")]
    command = COMMANDS.get(words[0]) if words else None
    if command is not None and command.early:
        module, _, function = command.early.partition(":")
        try:
            getattr(importlib.import_module(module), function)(words[1:])
        except Exception:  # noqa: BLE001 - only a head start
            pass
