"""``nianbao check``: read returned workbooks and check every number."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional

import typer

from toolkit.cli.root import app
from toolkit.cli.common import archive_option, format_option, json_option, roster_option, usage, year_option


@app.command("check")
def check_command(
    paths: List[Path] = typer.Argument(..., help="要校验的文件或文件夹（文件夹会逐级查找其中的工作簿）。",
                                       show_default=False),
    as_json: bool = json_option("以 JSON 输出结果（标准输出只有 JSON）。"),
    annotate: Optional[Path] = typer.Option(None, "--annotate", help="把标注了问题的副本写到这个文件夹（原文件不动）。"),
    summary: Optional[Path] = typer.Option(None, "--summary", help="写出汇总表（.xlsx）：文件状态、问题清单、全县合计。"),
    prior: Optional[Path] = typer.Option(None, "--prior", help="上年度的报告（工作簿、文件夹或数据 JSON），用于跨年度核对。"),
    roster: Optional[Path] = roster_option(),
    year: Optional[int] = year_option("本次收集的报告年度，如 2025。"),
    format_id: Optional[str] = format_option("强制按此格式读取：2019 或 2021（默认按文件和年度识别）。"),
    workers: str = typer.Option("auto", "--workers", help="同时校验的进程数；auto（默认）：文件多时每个CPU一个进程。"),
    archive: Optional[Path] = archive_option("年报档案文件（如 nianbao.db）：记入各文件的数据和问题；不给 --prior 时从中取上年数据。"),
) -> None:
    """例：nianbao check 回收/ --year 2025 --annotate 标注/ --summary 汇总.xlsx

    有错误时退出码为 1，没有错误为 0，用法错误为 2。
    """
    import json
    import sys

    from toolkit.batch import Tally, check_paths, expand_paths, iter_check, write_json
    from toolkit.cli.common import check_format_id, console, interruptible, messages, print_json, require_some
    from toolkit.formats import FormatError, format_for_year
    from toolkit.model import Report
    from toolkit.parallel import resolve_workers

    err = messages(stderr=True)
    check_format_id(format_id)
    if year is not None:
        try:
            format_for_year(year, format_id)
        except FormatError as exc:
            usage(str(exc))
    try:
        resolve_workers(workers, 1)
    except ValueError:
        usage(f"--workers 应是正整数或 auto，而不是 {workers}")
    if summary is not None and summary.suffix.lower() != ".xlsx":
        usage(f"--summary 应是 .xlsx 文件：{summary}")
    if summary is not None and summary.is_dir():
        usage(f"--summary 应是文件，而 {summary} 是文件夹")
    if annotate is not None and annotate.exists() and not annotate.is_dir():
        usage(f"--annotate 应是文件夹，而 {annotate} 是文件")
    for option, path in (("--prior", prior), ("--roster", roster)):
        if path is not None and not path.exists():
            usage(f"找不到 {option} 文件：{path}")
    require_some(paths, "要校验的文件")
    if annotate is not None:
        same = [p for p in paths if p.is_dir() and p.resolve() == annotate.resolve()]
        if same:
            usage(f"--annotate 的文件夹 {annotate} 就是要校验的文件夹：标注副本不能和原文件放在一起，"
                  f"请另给一个文件夹，如 --annotate 标注/")
    if not expand_paths(paths, exclude=[annotate] if annotate else []):
        if as_json:
            typer.echo(json.dumps({"files": []}, ensure_ascii=False))
        usage("在给出的文件夹中没有找到可校验的文件（.xlsx .xlsm .xls .et .ods 等）")

    with interruptible():
        stdout = sys.stdout  # the JSON goes here, not through the progress bar's redirection
        with _progress_bar(err) as progress:
            options = dict(prior=prior, roster=roster, year=year, format_id=format_id, workers=workers,
                           progress=progress, annotate=annotate)
            if summary is not None or archive is not None:
                report = check_paths(paths, summary=summary, archive=archive, **options)
            elif as_json and annotate is None:  # streamed: memory flat in the number of files
                report = write_json(iter_check(paths, keep_data=False, as_json=True, **options), stdout)
                stdout.flush()
            else:  # only unit and year of each file are shown
                report = Report(list(iter_check(paths, keep_data=False, **options)))

    if as_json:
        if not isinstance(report, Tally):
            print_json(report.to_dict())
        out = err
    else:
        out = console()
        print_report(report, out)
    out.print(summary_line(report), markup=False)
    if annotate is not None:
        out.print(f"标注副本已写到：{annotate}", markup=False)
    if summary is not None:
        out.print(f"汇总表已写到：{summary}", markup=False)
    if archive is not None:
        out.print(f"已记入档案：{archive}", markup=False)
    raise typer.Exit(0 if report.valid else 1)


@contextlib.contextmanager
def _progress_bar(err: Any) -> Iterator[Callable[[int, int, str], None] | None]:
    """A progress bar on a terminal (redrawn as each file is done, by no thread of its own: the
    reading helper and the workers can then be forked from this process, see toolkit.isolation
    and toolkit.parallel); nothing elsewhere."""
    if not err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("校验"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  console=err, transient=True, auto_refresh=False) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=Path(name).name[:30], refresh=True)

        yield progress


SEVERITY_STYLE = {"error": "bold red", "warning": "yellow"}
FILE_STYLE = {"clean": "green", "warnings": "yellow"}  # else bold red
CODE_COLUMN_FROM = 100  # narrower consoles leave out the finding code and give its room to the message


def print_report(report: Any, console: Any) -> None:
    """A compact table per file with findings, one line per clean file. The finding's code is
    shown from :data:`CODE_COLUMN_FROM` columns on (always when not a terminal: the console of
    :func:`toolkit.cli.common.console` then never wraps)."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from toolkit.cli.text import display_width, wrap
    from toolkit.output_labels import counts_text, file_state, file_status_label, severity_label

    with_code = console.width >= CODE_COLUMN_FROM
    for file in report.files:
        data = file.data
        who = " ".join(str(x) for x in (data.unit if data else None, f"{data.year}年" if data and data.year else None)
                       if x)
        status = file_status_label(file)
        style = FILE_STYLE.get(file_state(file), "bold red")
        counts = counts_text(file.errors, file.warnings) if file.findings else ""
        console.print(f"[{style}]{status}[/{style}]  {escape(file.path)}" + (f"  {escape(who)}" if who else "")
                      + (f"  （{counts}）" if counts else ""), markup=True, highlight=False)
        if not file.findings:
            continue
        findings = sorted(file.findings, key=lambda x: x.severity != "error")
        places = ["!".join(x for x in (f.sheet, f.cell) if x) for f in findings]
        place_width = max([4] + [display_width(p) for p in places])
        code_width = max([4] + [len(f.code) for f in findings]) + 2 if with_code else 0
        room = max(console.width - 4 - 2 - place_width - 2 - code_width, 20)
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, expand=False)
        table.add_column("级别", no_wrap=True)
        table.add_column("位置", no_wrap=True)
        table.add_column("问题", no_wrap=True, overflow="fold")  # wrapped here: between characters, not at spaces
        if with_code:
            table.add_column("代码", style="dim", no_wrap=True)
        for f, place in zip(findings, places):
            row = [Text(severity_label(f.severity), style=SEVERITY_STYLE.get(f.severity, "")), Text(place),
                   Text("\n".join(wrap(f.message, room)))]
            table.add_row(*row, *([Text(f.code)] if with_code else []))
        console.print(table)
        console.print()


def summary_line(report: Any) -> str:
    """One line: how many files passed, had warnings only, had errors, could not be read
    (``report``: a Report, or the :class:`toolkit.batch.Tally` of a streamed batch)."""
    from toolkit.batch import Tally
    from toolkit.output_labels import labels

    t = report if isinstance(report, Tally) else Tally.of(report.files)
    words = labels()
    error, warning = words["severity"]["error"], words["severity"]["warning"]
    text = (f"共校验 {t.files} 个文件：{t.clean} 个通过，{t.warned} 个仅{warning}，{t.with_errors} 个有错误"
            + (f"（其中 {t.unreadable} 个无法读取）" if t.unreadable else "")
            + f"；共 {t.errors} 个{error}、{t.warnings} 个{warning}。")
    return text
