"""The ``nianbao`` command's words and the layout of its help pages, without typer.

The words are ``templates/cli.json``'s. Help is plain text wrapped by display width (a Chinese
character takes two columns) at the terminal's width, or not at all when the output is not a
terminal and ``COLUMNS`` is not set. :func:`root_page` is ``nianbao --help`` made from the table
of commands (:mod:`toolkit.cli.commands`), so that it is printed without importing typer; every
other page is laid out by :func:`page` from the command's typer parameters
(:func:`toolkit.cli.usage.help_text`).
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

TEXTS_FILE = "cli.json"

Rows = Sequence[tuple[str, str]]


@lru_cache(maxsize=None)
def texts() -> dict[str, Any]:
    """``templates/cli.json``: help words, metavars, usage errors, exit-code meanings."""
    import json

    here = Path(__file__).resolve().parent.parent
    for folder in (here / "_templates", here.parent / "templates"):
        if (folder / TEXTS_FILE).is_file():
            return json.loads((folder / TEXTS_FILE).read_text(encoding="utf-8"))
    raise RuntimeError(f"templates/{TEXTS_FILE} not found next to the toolkit package")


# ---------------------------------------------------------------- width-aware wrapping

_TOKEN = re.compile(r"[\x21-\x7e]+|\s+|.", re.S)
_NO_LINE_START = set("，。、；：！？）》」』”’】〕…—,.;:!?)]}%")
_NO_LINE_END = set("（《「『“‘【〔([{")


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide and full-width characters count two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _tokens(text: str) -> list[str]:
    """Unbreakable pieces: an ASCII word, a run of spaces, or one character, with closing
    punctuation kept on the line before and opening brackets with what follows."""
    out: list[str] = []
    for token in _TOKEN.findall(text):
        if out and (token[0] in _NO_LINE_START or out[-1][-1] in _NO_LINE_END) and not token.isspace() \
                and not out[-1].isspace():
            out[-1] += token
        else:
            out.append(token)
    return out


def wrap(text: str, width: int | None) -> list[str]:
    """``text`` as lines of at most ``width`` columns (None: one line), never splitting an
    ASCII word (an option name, a file name) or leaving a closing mark at a line's start."""
    text = " ".join(text.split())
    if width is None or display_width(text) <= width:
        return [text]
    lines, line, used = [], "", 0
    for token in _tokens(text):
        size = display_width(token)
        if token.isspace():
            if line:
                line, used = line + " ", used + 1
            continue
        if used + size > width and line.strip():
            lines.append(line.rstrip())
            line, used = "", 0
        line, used = line + token, used + size
    if line.strip():
        lines.append(line.rstrip())
    return lines


def help_width() -> int | None:
    """Columns help is wrapped at: ``COLUMNS``, else the terminal's, else None (not a terminal)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 20:
        return min(int(columns), 120)
    if sys.stdout.isatty():
        import shutil

        return min(shutil.get_terminal_size().columns, 120)
    return None


# ---------------------------------------------------------------- help pages


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a help text (split at blank lines), each on one line."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def option_names(opts: Iterable[str], secondary: Iterable[str] = ()) -> str:
    """An option's names as its help row shows them: ``-h, --help``."""
    return ", ".join(sorted(opts, key=len) + list(secondary))


def usage_text(path: str, arguments: Sequence[str], group: bool) -> str:
    """``用法：nianbao check [选项] 路径...`` (``arguments``: their placeholders, in order)."""
    words = texts()["help"]
    return words["usage"] + " ".join([path, words["options_placeholder"], *arguments]
                                     + ([words["command_placeholder"]] if group else []))


def _definitions(rows: Rows, width: int | None) -> list[str]:
    """Two columns: the term, and its text wrapped beside it (or below a long term)."""
    if not rows:
        return []
    indent = 2
    left = min(max(display_width(term) for term, _ in rows), 26) + indent + 2
    lines = []
    for term, text in rows:
        room = None if width is None else max(width - left, 20)
        body = wrap(text, room) if text else [""]
        head = " " * indent + term
        if display_width(head) + 2 > left:
            lines.append(head)
            lines.extend(" " * left + b for b in body if b)
            continue
        lines.append(head + " " * (left - display_width(head)) + body[0])
        lines.extend(" " * left + b for b in body[1:])
    return lines


def page(usage: str, about: str, arguments: Rows, options: Rows, commands: Rows | None = None,
         path: str = "") -> str:
    """A whole help page: the usage line, the help text, the arguments and options (term and
    text), and for a group its commands (name and summary) and where to read more (``path``:
    the group's command path)."""
    words = texts()["help"]
    width = help_width()
    lines = wrap(usage, width) + [""]
    for paragraph in paragraphs(about):
        lines += wrap(paragraph, width) + [""]
    for title, rows in ((words["arguments"], arguments), (words["options"], options)):
        if rows:
            lines += [title + "："] + _definitions(rows, width) + [""]
    if commands is not None:
        lines += [words["commands"] + "："] + _definitions(commands, width) + [""]
        lines += wrap(words["more"].format(prog=path), width) + [""]
    return "\n".join(lines).rstrip() + "\n"


def root_page() -> str:
    """``nianbao --help`` from :mod:`toolkit.cli.commands` (the page typer's group gives)."""
    from toolkit.cli.commands import ABOUT, COMMANDS, HELP_OPTIONS, PROG, ROOT_OPTIONS

    options = [*ROOT_OPTIONS.values(), (option_names(HELP_OPTIONS), texts()["help"]["help_option"])]
    commands = [(name, paragraphs(command.summary)[0]) for name, command in COMMANDS.items()]
    return page(usage_text(PROG, [], group=True), ABOUT, [], options, commands, PROG)


def print_page(text: str) -> None:
    """Write a help page to standard output as click's ``echo`` does: in the stream's encoding,
    or as UTF-8 where the stream says ASCII (a misconfigured locale)."""
    import codecs

    out = sys.stdout
    try:
        ascii_stream = codecs.lookup(getattr(out, "encoding", None) or "ascii").name == "ascii"
    except LookupError:
        ascii_stream = False
    if ascii_stream and hasattr(out, "buffer"):
        out.flush()
        out.buffer.write(text.encode("utf-8", "replace"))
        out.buffer.flush()
    else:
        out.write(text)
        out.flush()
