"""Everything the ``nianbao`` command itself says is Chinese: every ``--help`` page, the usage
errors of the command-line parser, and the one exit-code table every command follows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.cli.text import display_width, wrap

ROOT = Path(__file__).resolve().parent.parent

# ASCII words a Chinese page may contain: ids, file kinds, product names, env variables, values
ALLOWED_WORDS = {
    "nianbao", "json", "csv", "xlsx", "xlsm", "xls", "et", "ods", "html", "htm", "docx", "md", "txt", "pdf",
    "png", "svg", "eml", "pem", "db", "word", "markdown", "excel", "utf", "gbk", "smtp", "starttls", "ssl",
    "none", "auto", "cpu", "nianbao_debug", "nianbao_tz", "nianbao_smtp_password", "asia", "shanghai", "utc",
    "libreoffice", "roster", "outbox", "demo", "python", "m", "toolkit", "check", "blank", "render", "send",
    "status", "history", "import", "audit", "formats", "o", "t", "h", "nianbao-demo",
    "serve", "http", "ctrl", "c", "nianbao_password", "compare",
}


def english_words(text: str) -> list[str]:
    """ASCII words left once option names, file names and allowed ids are taken out."""
    text = re.sub(r"(?<![\w])--?[a-zA-Z][\w-]*", " ", text)  # option names
    text = re.sub(r"[\w./-]*\.(xlsx|xlsm|xls|ods|csv|json|db|png|svg|docx|html|htm|md|txt|eml|pdf|j2)\b", " ",
                  text, flags=re.I)  # file names
    text = re.sub(r"\b[\w.-]+@[\w.-]+\b", " ", text)  # e-mail addresses
    return [w for w in re.findall(r"[A-Za-z][A-Za-z_]*", text) if w.lower() not in ALLOWED_WORDS]


def commands() -> list[str]:
    from typer.main import get_command

    return list(get_command(app).commands)


def invoke(args, **env):
    return CliRunner().invoke(app, args, env={"COLUMNS": "80", **env})


def test_the_word_filter_catches_english():
    assert english_words("Usage: nianbao check [OPTIONS] <list[Path]>") == ["Usage", "OPTIONS", "list", "Path"]
    assert english_words("用法：nianbao check --year 年度 汇总.xlsx a@b.cn") == []


@pytest.mark.parametrize("command", [None, *commands()])
def test_every_help_page_is_chinese_and_fits_80_columns(command):
    result = invoke(([command] if command else []) + ["--help"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("用法：nianbao") and "选项：" in text
    assert english_words(text) == [], text
    assert "…" not in text and "..." not in text.replace("路径...", "").replace("源文件...", "").replace(
        "报告...", "").replace("[参数]...", "")
    assert max(display_width(line) for line in text.splitlines()) <= 80, text


def test_help_names_every_option_with_a_chinese_placeholder():
    text = invoke(["check", "--help"]).output
    for term in ("--year 年度", "--format 格式", "--archive 档案", "--json", "-h, --help", "路径..."):
        assert term in text
    assert "显示本帮助并退出。" in text
    assert "default" not in text and "required" not in text and "（必填）" in text


def test_help_to_a_pipe_is_not_hard_wrapped():
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-m", "toolkit", "check", "--help"], capture_output=True, text=True,
                         env=env, timeout=60).stdout
    line = next(line for line in out.splitlines() if line.lstrip().startswith("--archive"))
    assert line.rstrip().endswith("不给 --prior 时从中取上年数据。")  # the whole text on its option's line


def test_wrap_breaks_between_chinese_characters_never_inside_words_or_before_closing_marks():
    text = "年报档案文件（如 nianbao.db）：记入各文件的数据和问题；不给 --prior 时从中取上年数据。"
    lines = wrap(text, 20)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(display_width(line) <= 20 for line in lines)
    assert all(line[0] not in "，。；：）" for line in lines)
    assert any("nianbao.db" in line for line in lines) and any("--prior" in line for line in lines)


USAGE_ERRORS = [
    (["blank", "--yaer", "2025"], "没有选项 --yaer。你是不是要用 --year？"),
    (["render", "x.xlsx"], "缺少选项 --to（-t）。"),
    (["blank", "--unit", "甲镇", "--year", "abc"], "--year 的值“abc”无效：应是整数，例如 --year 2025。"),
    (["check"], "缺少参数 路径。"),
    (["chek"], "没有命令“chek”"),
    (["blank", "--year"], "选项 --year 后面需要给一个值。"),
    (["formats", "--json=3"], "选项 --json 不带值"),
    (["formats", "extra"], "多余的参数：extra。"),
    (["status", "--year", "2025"], "缺少选项 --roster。"),
    (["check", ".", "--workers", "zero"], "--workers 应是正整数或 auto"),
]


@pytest.mark.parametrize("args, expected", USAGE_ERRORS)
def test_usage_errors_are_chinese_with_a_hint(args, expected):
    result = invoke(args)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr, result.stderr
    assert result.stderr.startswith("用法错误：")
    assert "--help 查看用法" in result.stderr
    echoed = result.stderr
    for arg in args:  # what the user typed may be repeated
        echoed = echoed.replace(arg, " ")
    assert english_words(echoed) == [], result.stderr


def test_a_usage_error_shows_the_commands_usage_line():
    result = invoke(["render", "x.xlsx"])
    assert "用法：nianbao render [选项] 源文件..." in result.stderr
    assert "请运行 nianbao render --help 查看用法。" in result.stderr
    assert "请运行 nianbao chek" not in invoke(["chek"]).stderr
    assert "你是不是要用 check？" in invoke(["chek"]).stderr


def test_no_arguments_shows_the_help():
    result = invoke([])
    assert result.exit_code == 2 and "用法：nianbao" in result.output and "命令：" in result.output


# ---------------------------------------------------------------- one exit-code table


def test_the_exit_code_table():
    from toolkit.archive import ArchiveError
    from toolkit.cli.common import exit_code_for
    from toolkit.round import RoundError, UnknownUnit

    assert exit_code_for(ArchiveError("x"))[0] == 2
    assert exit_code_for(RoundError("x"))[0] == 2
    assert exit_code_for(UnknownUnit("x"))[0] == 1
    assert exit_code_for(PermissionError(13, "拒绝访问", "a.xlsx"))[0] == 1
    assert exit_code_for(ZeroDivisionError()) is None


def _not_an_archive(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("hello", encoding="utf-8")
    return path


def test_an_unusable_archive_exits_2_in_every_command(tmp_path):
    db = _not_an_archive(tmp_path)
    roster = tmp_path / "r.csv"
    roster.write_text("单位名称,邮箱\n甲镇,a@b.cn\n", encoding="utf-8")
    report = tmp_path / "report.txt"
    report.write_text("甲镇2024年政府信息公开工作年度报告\n一、总体情况\n", encoding="utf-8")
    for args in (["status", "--roster", str(roster), "--year", "2025", "--archive", str(db)],
                 ["history", "甲镇", "--archive", str(db)],
                 ["send", "--roster", str(roster), "--outbox", str(tmp_path / "out"), "--findings", str(db)],
                 ["import", str(report), "--archive", str(db)]):
        result = invoke(args)
        assert result.exit_code == 2, (args, result.output)
        assert "不是年报档案" in result.stderr, (args, result.stderr)


@pytest.mark.parametrize("args, target", [
    (["formats"], "toolkit.formats.all_formats"),
    (["status", "--roster", "r.csv", "--year", "2025", "--archive", "a.db"], "toolkit.round.round_status"),
    (["check", "in"], "toolkit.batch.iter_check"),
])
def test_an_unexpected_error_is_one_chinese_line_exit_3(tmp_path, monkeypatch, args, target):
    from toolkit.archive import Archive

    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.csv").write_text("单位名称\n甲镇\n", encoding="utf-8")
    Archive(tmp_path / "a.db").close()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "甲镇.xlsx").write_bytes(b"PK")
    module, _, name = target.rpartition(".")

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(sys.modules[module] if module in sys.modules else __import__(module, fromlist=[name]),
                        name, broken)
    result = invoke(args)
    assert result.exit_code == 3, result.output
    assert "程序内部出错（ZeroDivisionError）" in result.stderr and "Traceback" not in result.stderr
    assert "NIANBAO_DEBUG=1" in result.stderr
    debug = invoke(["--debug", *args])
    assert debug.exit_code == 3 and "Traceback" in debug.stderr and "division by zero" in debug.stderr
    assert "Traceback" in invoke(args, NIANBAO_DEBUG="1").stderr


def test_readme_lists_every_exit_code():
    from toolkit.cli import common
    from toolkit.cli.text import texts

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Exit codes", 1)[1].split("\n## ", 1)[0]
    listed = [int(code) for code in re.findall(r"^\| (\d+) \|", section, flags=re.M)]
    assert listed == sorted({common.OK, common.PROBLEMS, common.USAGE, common.BUG, common.INTERRUPTED})
    assert sorted(int(code) for code in texts()["exit_meanings"]) == listed


@pytest.mark.parametrize("columns", [None, "80", "60", "40"])
def test_the_root_page_made_without_typer_is_typers_page(columns, monkeypatch):
    from toolkit.cli.text import root_page

    monkeypatch.delenv("COLUMNS", raising=False)
    env = {"COLUMNS": columns} if columns else {}
    if columns:
        monkeypatch.setenv("COLUMNS", columns)
    typer_page = CliRunner().invoke(app, ["--help"], env=env).output
    assert root_page() == typer_page


def test_the_table_of_commands_is_every_command_in_its_module():
    from toolkit.cli.commands import COMMANDS

    registered = {info.name: info.callback.__module__ for info in app.registered_commands}
    assert list(registered) == list(COMMANDS)
    assert registered == {name: command.module for name, command in COMMANDS.items()}


def _modules_after(args: list[str], tmp_path: Path) -> set[str]:
    probe = ("import sys, runpy; sys.argv = ['nianbao', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('toolkit', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(' '.join(sorted(sys.modules)), file=sys.stderr)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", probe, *args], env=env, capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    return set(done.stderr.strip().splitlines()[-1].split())


def test_nianbao_help_does_not_import_typer(tmp_path):
    loaded = _modules_after(["--help"], tmp_path)
    assert "toolkit.cli.text" in loaded and not any(m == "typer" or m.startswith("typer.") for m in loaded)


def test_a_command_imports_only_its_own_module(tmp_path):
    from toolkit.cli.commands import COMMANDS

    loaded = _modules_after(["formats", "--json"], tmp_path)
    assert {c.module for c in COMMANDS.values()} & loaded == {"toolkit.cli.formats_cmd"}
